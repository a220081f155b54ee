"""One lattice run tokenized frame by frame, with the work that a frame's token pass and
the next lattice step have in common done once.

Why: at 96×96 the step and the token pass each cost ≈ 0.2 ms, and both start from the
same θ. The token pass computes sin θ and cos θ of every cell (padded float64 planes)
and, for ρ, their 3×3, 5×5 and 7×7 box sums; the fast lattice step needs exactly those
sines and cosines and, for its coupling ring sums, the same box sums (same additions in
the same order). So the ρ pass also writes the step's ring sums, and the next step reads
them and the planes instead of recomputing them. Likewise a step's energy update
computes sin(φS − θ) and sin(φH − θ) of the new state, and the next step's layer
updates need their negations. The bytes are those of ``step`` followed by
``build_frame``.
"""

from __future__ import annotations

import numpy as np

from pattools.kernels.planes import band_count
from pattools.lattice.driver import ring_sum_weights, step, step_coefficients, step_sharing
from pattools.lattice.params import LatticeParams
from pattools.lattice.state import LatticeState
from pattools.tokens.build import BuiltFrame, Workspace, build_frame, build_frame_and_ring_sums


class LatticeFrames:
    """Steps ``state`` and builds its token frames at ``scale`` (no attention, no heads).

    What one call leaves for the next is tied to ``state.steps``: between calls the state
    may be advanced by ``driver.step`` (which counts its steps), but not changed otherwise.
    """

    def __init__(self, state: LatticeState, params: LatticeParams, dt: float, *, noise_amp: float = 0.0,
                 kernel: str = "fast", scale: int = 32) -> None:
        self.state = state
        self.params = params
        self.dt = dt
        self.noise_amp = noise_amp
        self.kernel = kernel
        self.scale = scale
        self.shared = kernel == "fast"
        self.coef = step_coefficients(params, dt, noise_amp)
        self.bands = band_count(state.H)  # the caller has set the thread count (results do not depend on it)
        self.weights = ring_sum_weights(params)
        self.workspace = Workspace(state.W, state.H) if self.shared else None
        self.ring_for: int | None = None  # state.steps the workspace's ring sums belong to
        self.sines = np.empty((2, state.W * state.H)) if self.shared else None
        self.sines_for: int | None = None  # state.steps the sines belong to

    def step(self) -> None:
        """One lattice step (``driver.step``)."""
        state = self.state
        if not self.shared:
            step(state, self.params, self.dt, noise_amp=self.noise_amp, kernel=self.kernel)
            return
        ring = None
        if self.ring_for == state.steps:
            ws = self.workspace
            ring = (ws.step_s, ws.step_c, ws.sp, ws.cp)
        given = self.sines_for == state.steps
        self.ring_for = self.sines_for = None  # consumed (and overwritten)
        step_sharing(state, self.coef, ring=ring, sines=self.sines, sines_given=given, bands=self.bands)
        self.sines_for = state.steps

    def frame(self, t: float) -> BuiltFrame:
        """``build_frame`` of the current state with ``hdr.t = t``."""
        state = self.state
        if not self.shared:
            return build_frame(state.phases, state.energy, state.W, state.H, self.scale, t, wrap=state.wrap)
        built = build_frame_and_ring_sums(state.phases, state.energy, state.W, state.H, self.scale, t, state.wrap,
                                          self.workspace, self.weights, self.bands)
        self.ring_for = state.steps
        return built
