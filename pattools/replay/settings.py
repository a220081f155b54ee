"""Replay settings: modulator gains and delta-decoder constants (spec/editing.md §5).

Both are recorded in the ``replay`` block of every replayed frame, so a replayed stream
says how it was made. Defaults: the gains of the original UI (pat-tokens.md §3,
lattice-reference.md §6); the decoder constants as calibrated for the baseline editor's
default nudges (see ``DecoderConstants``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

DECODERS: tuple[str, ...] = ("delta", "tokens", "live")
DEFAULT_DECODER = "delta"


@dataclass(frozen=True)
class Gains:
    """How the modulator fields act on the step (lattice-reference.md §6)."""

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
    """

    kRho: float = 10.0
    kEnt: float = 10.0
    kGrad: float = 4.0
    kA: float = 10.0
    kAttn: float = 10.0
    kPhase: float = 2.0

    def to_record(self) -> dict[str, float]:
        return {k: float(v) for k, v in asdict(self).items()}


GAIN_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Gains))
CONSTANT_NAMES: tuple[str, ...] = tuple(f.name for f in fields(DecoderConstants))
