"""Per-field bounds on ΔPAT deltas ("keep deltas small", docs/editing.md §1).

Every delta a `DPat` names must satisfy ``|δ| ≤ bound`` for its field. The defaults are
those of docs/editing.md §1; a bounds file (JSON, the shape of ``pattools/data/bounds.json``) overrides any
subset of them. Bounds are held as arrays aligned with the columnar token frame so an
edit's deltas are checked in one vectorised comparison.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from pattools.errors import DataError, expected_found
from pattools.tokens.frame import GEOM_FIELDS, STATS_FIELDS, TOPO_FIELDS

STAT_BOUND = 0.25
A_BOUND = 0.25
ANGLE_BOUND = math.pi / 4
NONNEG_BOUND = 0.5
TOPO_BOUND = 2
RVQ_BOUND = 1

_DEFAULT_GEOM = {"A": A_BOUND, "phi_gf": ANGLE_BOUND, "theta": ANGLE_BOUND, "gradPhi": NONNEG_BOUND, "kappa": NONNEG_BOUND}


def _array(values: list[float]) -> np.ndarray:
    out = np.array(values, dtype=np.float64)
    out.setflags(write=False)
    return out


@dataclass(frozen=True)
class Bounds:
    """Largest allowed |delta| per field: geom[5], stats[7], topo[2] (column order), rvq."""

    geom: np.ndarray = field(default_factory=lambda: _array([_DEFAULT_GEOM[f] for f in GEOM_FIELDS]))
    stats: np.ndarray = field(default_factory=lambda: _array([STAT_BOUND] * len(STATS_FIELDS)))
    topo: np.ndarray = field(default_factory=lambda: _array([TOPO_BOUND] * len(TOPO_FIELDS)))
    rvq: float = RVQ_BOUND

    @classmethod
    def default(cls) -> "Bounds":
        return cls()

    @classmethod
    def unbounded(cls) -> "Bounds":
        """No limits: for re-applying effective deltas (``edit.applied``), which may add up."""
        inf = math.inf
        return cls(
            geom=_array([inf] * len(GEOM_FIELDS)),
            stats=_array([inf] * len(STATS_FIELDS)),
            topo=_array([inf] * len(TOPO_FIELDS)),
            rvq=inf,
        )

    @classmethod
    def from_mapping(cls, data: object, *, input: str | None = None) -> "Bounds":
        """Defaults overridden by ``{version?, description?, code?: {rvqDelta}, geom?, stats?, topo?}``.

        Each group maps field names to the largest allowed |delta| (a finite number ≥ 0);
        fields not named keep their defaults.
        """

        def fail(path: str, message: str) -> DataError:
            return DataError(message, input=input, path=path or None)

        if not isinstance(data, dict):
            raise fail("", expected_found("object", data))
        base = cls.default()
        groups = {
            "geom": (GEOM_FIELDS, base.geom.tolist()),
            "stats": (STATS_FIELDS, base.stats.tolist()),
            "topo": (TOPO_FIELDS, base.topo.tolist()),
            "code": (("rvqDelta",), [base.rvq]),
        }
        for key, value in data.items():
            if key == "description":
                continue
            if key == "version":
                if value != 1 or isinstance(value, bool):
                    raise fail("version", expected_found("1", value))
                continue
            if key not in groups:
                raise fail(key, f"unknown bounds group (expected one of {', '.join(groups)})")
            names, values = groups[key]
            if not isinstance(value, dict):
                raise fail(key, expected_found("object", value))
            for name, bound in value.items():
                path = f"{key}.{name}"
                if name not in names:
                    raise fail(path, f"unknown field (expected one of {', '.join(names)})")
                if isinstance(bound, bool) or not isinstance(bound, (int, float)):
                    raise fail(path, expected_found("number", bound))
                if not math.isfinite(bound) or bound < 0:
                    raise fail(path, expected_found("finite number >= 0", bound))
                values[names.index(name)] = float(bound)
        return cls(
            geom=_array(groups["geom"][1]),
            stats=_array(groups["stats"][1]),
            topo=_array(groups["topo"][1]),
            rvq=groups["code"][1][0],
        )

    def to_mapping(self) -> dict:
        """The bounds-file form of these bounds (integral code/topo bounds as integers)."""

        def number(value: float) -> float | int:
            return int(value) if math.isfinite(value) and float(value).is_integer() else float(value)

        return {
            "version": 1,
            "code": {"rvqDelta": number(self.rvq)},
            "geom": dict(zip(GEOM_FIELDS, self.geom.tolist())),
            "stats": dict(zip(STATS_FIELDS, self.stats.tolist())),
            "topo": {name: number(v) for name, v in zip(TOPO_FIELDS, self.topo.tolist())},
        }

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Bounds):
            return NotImplemented
        return self.to_mapping() == other.to_mapping()

    def __hash__(self) -> int:  # pragma: no cover - frozen dataclasses want one
        return hash(repr(self.to_mapping()))
