"""A synthetic environment with fixed linear per-block dynamics, for tests and benchmarks.

x(t+1)[block b] = R_b · x(t)[block b] with R_b a fixed random rotation (so the signal
neither decays nor explodes), plus optional Gaussian observation noise. Every step
offers the whole vector as ``x_partial``; the agent's fovea decides what it commits.
Seeded, so the same arguments give the same stream.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from pattools.nupca.blocks import build_blocks
from pattools.nupca.completion import Cue
from pattools.nupca.config import NupcaConfig
from pattools.nupca.observation import Observation


class LinearBlockEnv:
    def __init__(self, config: NupcaConfig, seed: int = 0, noise: float = 0.0, scale: float = 1.0) -> None:
        rng = np.random.default_rng(seed)
        self.partition = build_blocks(config)
        self.rotations = []
        for size in self.partition.sizes.tolist():
            q, _ = np.linalg.qr(rng.normal(size=(size, size)))
            self.rotations.append(q)
        self.x = rng.uniform(-scale, scale, size=config.D)
        self.noise = noise
        self.rng = rng
        self.dims = np.arange(config.D, dtype=np.int64)

    def advance(self) -> None:
        start = self.partition.start
        nxt = np.empty_like(self.x)
        for b, rot in enumerate(self.rotations):
            nxt[start[b] : start[b + 1]] = rot @ self.x[start[b] : start[b + 1]]
        self.x = nxt

    def observe(self) -> np.ndarray:
        if self.noise > 0.0:
            return self.x + self.noise * self.rng.normal(size=self.x.shape[0])
        return self.x.copy()

    def stream(self, steps: int, rest_every: int = 0) -> Iterator[Observation]:
        """Observations of ``steps`` consecutive states (REST every ``rest_every``-th step)."""
        for t in range(steps):
            rest = bool(rest_every) and (t + 1) % rest_every == 0
            yield Observation(cue=Cue(self.dims, self.observe()), rest=rest, t=t)
            self.advance()
