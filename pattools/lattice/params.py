"""Lattice parameters: the original exporter's numbers as one frozen preset.

Every number of docs/lattice.md §3 (initialisation) and §4 (the export StepConfig)
is a field here, spelled as in docs/lattice.md, with the exporter's default. ``dt``, ``wrap``,
the noise amplitude and the noise seed are per-run settings of the frame's ``sim`` block
and are not parameters.

Fields marked *inert* belong to what §5 calls decoration (drawn planes and their masks,
walls and ``pot``, the trap/minimum-energy terms, the unused ``energyLeak``): pattools
drops those mechanisms, so with no planes or walls these numbers cannot change a result.
They are kept so the preset states the original's configuration completely, but
overriding one is a usage error rather than a silent no-op.

``surfPull``, ``hypPull`` and ``energyMax`` are the original's hard-coded 0.4, 0.3 and
4 (the unmasked layer pulls of S1/S2 and the energy cap of S5), made explicit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from typing import Any, Mapping

from pattools.errors import UsageError, describe

PRESET_NAME = "andres-net-export"


@dataclass(frozen=True)
class LatticeParams:
    # §3 initialisation
    omegaSpread: float = 0.25
    swProb: float = 0.04
    swEdgesPerNode: int = 2
    swMinDist: float = 6.0
    swMaxDist: float = 20.0
    swNegFrac: float = 0.2
    energyBaseline: float = 0.35
    # §4 field coupling
    Kbase: float = 0.8
    K1: float = 1.0
    K2: float = -0.3
    K3: float = 0.15
    swWeight: float = 0.25
    # §4 surface / hyper layers (unmasked pulls are what act headless)
    surfPull: float = 0.4
    hypPull: float = 0.3
    KS1: float = 0.9  # inert
    KS2: float = 0.0  # inert
    KS3: float = 0.0  # inert
    KH1: float = 0.7  # inert
    KH2: float = 0.0  # inert
    KH3: float = 0.0  # inert
    alphaSurfToField: float = 0.6  # inert
    alphaFieldToSurf: float = 0.5  # inert
    alphaHypToField: float = 0.8  # inert
    alphaFieldToHyp: float = 0.4  # inert
    wallBarrier: float = 0.5  # inert
    # §4 energy
    energyDiff: float = 0.12
    sinkLine: float = 0.03
    energyMax: float = 4.0
    emGain: float = 0.6  # inert
    energyLeak: float = 0.02  # inert (unused by the original too)
    sinkSurf: float = 0.02  # inert
    sinkHyp: float = 0.02  # inert
    trapSurf: float = 0.2  # inert
    trapHyp: float = 0.35  # inert
    minEnergySurf: float = 0.25  # inert
    minEnergyHyp: float = 0.4  # inert

    @classmethod
    def preset(cls) -> "LatticeParams":
        """The ``andres-net-export`` preset: the original exporter's configuration."""
        return cls()

    def with_overrides(self, mapping: Mapping[str, Any]) -> "LatticeParams":
        """A copy with ``mapping`` applied; values may be command-line strings.

        Raises UsageError naming the key for an unknown or inert name, or a value that is
        not a finite number of the field's type.
        """
        changes: dict[str, Any] = {}
        for key, value in mapping.items():
            if key not in _TYPES:
                known = ", ".join(sorted(n for n in _TYPES if n not in INERT))
                raise UsageError(f"unknown lattice parameter {key!r} (known: {known})")
            if key in INERT:
                raise UsageError(
                    f"lattice parameter {key!r} has no effect: it belongs to planes, walls or "
                    "the trap terms, which pattools drops (docs/lattice.md §5)"
                )
            changes[key] = _coerce(key, value)
        return replace(self, **changes)

    def overrides(self) -> dict[str, Any]:
        """The fields that differ from the preset, by sorted name (the frame's ``sim.params``)."""
        base = LatticeParams.preset()
        out = {}
        for name in sorted(_TYPES):
            value = getattr(self, name)
            if value != getattr(base, name):
                out[name] = value
        return out


_TYPES: dict[str, type] = {f.name: (int if f.type in (int, "int") else float) for f in fields(LatticeParams)}

INERT = frozenset(
    {
        "KS1", "KS2", "KS3", "KH1", "KH2", "KH3",
        "alphaSurfToField", "alphaFieldToSurf", "alphaHypToField", "alphaFieldToHyp",
        "wallBarrier", "emGain", "energyLeak", "sinkSurf", "sinkHyp",
        "trapSurf", "trapHyp", "minEnergySurf", "minEnergyHyp",
    }
)
"""Parameters of dropped decoration (§5): held for completeness, never overridable."""


def _coerce(key: str, value: Any) -> int | float:
    kind = _TYPES[key]
    bad = UsageError(
        f"lattice parameter {key}: expected {'integer' if kind is int else 'finite number'}, "
        f"got {describe(value)}"
    )
    if isinstance(value, bool):
        raise bad
    if kind is int:
        if isinstance(value, str):
            try:
                number = int(value.strip())
            except ValueError:
                raise bad from None
        elif isinstance(value, int):
            number = value
        elif isinstance(value, float) and math.isfinite(value) and value.is_integer():
            number = int(value)
        else:
            raise bad
        if number < 0 or number > 1024:
            raise UsageError(f"lattice parameter {key}: expected 0..1024, got {number}")
        return number
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise bad from None
    elif isinstance(value, (int, float)):
        number = float(value)
    else:
        raise bad
    if not math.isfinite(number):
        raise bad
    return number
