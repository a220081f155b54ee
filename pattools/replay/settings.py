"""Replay settings: modulator gains and delta-decoder constants (docs/replay.md).

Both are recorded in the ``replay`` block of every replayed frame, so a replayed stream
says how it was made. Defaults: the gains of the original UI (docs/tokens.md §3,
docs/lattice.md §6); the decoder constants as calibrated for the baseline editor's
default nudges (see ``DecoderConstants``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

DECODERS: tuple[str, ...] = ("delta", "tokens", "live")
DEFAULT_DECODER = "delta"


@dataclass(frozen=True)
class Gains:
    """How the modulator fields act on the step (docs/lattice.md §6)."""

    gammaK: float = 0.6
    betaK: float = 0.2
    gammaAlpha: float = 0.15
    betaAlpha: float = 0.1
    gammaD: float = 0.4
    deltaD: float = 0.15

    def to_record(self) -> dict[str, float]:
        return {k: float(v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class DecoderConstants:
    """The ``k_*`` of the delta decoder's coupling drive ``a_p`` and phase drive ``q_p``.

    ``a_p = kRho·Δrho − kEnt·ΔentropyRate − kGrad·ΔgradPhi/π + kA·ΔA + kAttn·ΔattnMean``,
    ``q_p = kPhase·Δphi_gf``.

    Calibration (bench/calibrate_delta.py; docs/replay.md starts from k = 10, kGrad 4,
    kPhase 2): the single-intent prompts of the acceptance suite, nudges scaled by 0.25, 0.5,
    0.75 and 1 (codes and topo off), 96×96, scale 16, seeds 1–3, 8 frames × 8 steps, edits
    on frames 1–7. A pair of scales is ordered when the larger nudge has the larger
    faithfulness.

    - ``kPhase`` is negative. The phase lag ``α = γα·P`` adds about ``−Kbase·ΣK·sin α`` to a
      synchronised patch's frequency (docs/lattice.md §6), so a positive P makes the
      patch's phase drift *down*; with ``kPhase = +2`` "raise phase" and "lower phase"
      scored −0.52…−0.63 at full nudge (0/36 pairs), with ``−2`` +0.54…+0.61 (36/36).
    - ``kGrad = kEnt``: entropyRate is gradPhi/π (docs/tokens.md §3), so the drive per unit
      of phase gradient is the same whichever name the prompt uses. With ``kGrad 4`` the
      gradient prompts scored only 0.018…0.074 at full nudge; with 10, 0.080…0.322.
    - kRho = kEnt = kA = kAttn = 10 as the first design started: every other prompt orders 18/18.

    Result: pairwise accuracy 1.000 (180/180), whole-group 1.000 (30/30); faithfulness at
    full nudge ≥ 0.07 for every prompt (the first design's start constants: 0.800, 144/180). Over a
    run of only 24 steps (6 frames × 4) the entropy and gradient prompts stay unordered
    whatever the constants (these: 0.839, 151/180; the start: 0.633, 114/180; k up to 40:
    ≤ 0.86), and 32 steps (16 × 2) reach just 0.900: for the first ~30 steps from the
    initial state entropyRate is on a plateau (mean 0.205 → 0.209), so there is no decay for coupling to
    speed up or slow down; from ~48 steps on every prompt orders.
    """

    kRho: float = 10.0
    kEnt: float = 10.0
    kGrad: float = 10.0
    kA: float = 10.0
    kAttn: float = 10.0
    kPhase: float = -2.0

    def to_record(self) -> dict[str, float]:
        return {k: float(v) for k, v in asdict(self).items()}


GAIN_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Gains))
CONSTANT_NAMES: tuple[str, ...] = tuple(f.name for f in fields(DecoderConstants))
