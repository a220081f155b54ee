"""Field names, tolerances, ignored fields and angles.

A field is named by its dotted path inside the record with array positions left out
(``tokens.stats.rho``, ``metrics.patchDefects``, ``targets.dpat.geom.theta``). A FIELD
given on the command line (``--tol``, ``--ignore``) names every field whose path holds
its parts as a contiguous run: ``stats.rho`` names ``tokens.stats.rho`` and
``edit.applied.stats.rho``; ``replay`` names the whole replay block. Where several
``--tol`` patterns name a field, the longest wins (the last given among equals).

Two numbers differ when ``|a − b| > atol + rtol · max(|a|, |b|)``, so the test is
symmetric in the two inputs; with the defaults (0, 0) any difference counts. Angles are
compared on the circle: the difference of two phases is taken modulo their period
(2π for phases, π for the orientation ``theta``), so −π and π are equal.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from pattools.errors import UsageError

# Angle fields of the token model (docs: tokens, editing): path suffix -> period.
ANGLE_PERIODS: dict[tuple[str, ...], float] = {
    ("geom", "phi_gf"): 2 * math.pi,  # mean phase of a patch, atan2 range
    ("geom", "theta"): math.pi,  # orientation: θ and θ + π are one orientation
    ("tokens", "heads"): 2 * math.pi,  # head phases carried by a token
    ("heads", "phase"): 2 * math.pi,  # dA head hints of an edit
}


def parse_field(text: str) -> tuple[str, ...]:
    """``stats.rho`` -> ("stats", "rho"); refuses empty parts."""
    parts = tuple(text.split("."))
    if not text or any(not part for part in parts):
        raise UsageError(f"expected a field name such as stats.rho, got {text!r}")
    return parts


def parse_tolerance(text: str) -> tuple[tuple[str, ...], float, float | None]:
    """``FIELD=ATOL`` or ``FIELD=ATOL,RTOL`` -> (field parts, atol, rtol or None)."""
    name, sep, values = text.partition("=")
    if not sep:
        raise UsageError(f"--tol: expected FIELD=ATOL or FIELD=ATOL,RTOL, got {text!r}")
    numbers = values.split(",")
    if len(numbers) > 2:
        raise UsageError(f"--tol: expected FIELD=ATOL or FIELD=ATOL,RTOL, got {text!r}")
    parsed = []
    for number in numbers:
        try:
            value = float(number)
        except ValueError:
            raise UsageError(f"--tol {text}: expected a number, got {number!r}") from None
        if not math.isfinite(value) or value < 0:
            raise UsageError(f"--tol {text}: expected a finite number >= 0, got {number!r}")
        parsed.append(value)
    return parse_field(name), parsed[0], parsed[1] if len(parsed) == 2 else None


def _holds(path: tuple[str, ...], pattern: tuple[str, ...]) -> bool:
    """Whether ``pattern`` is a contiguous run of ``path``."""
    size = len(pattern)
    return any(path[start:start + size] == pattern for start in range(len(path) - size + 1))


@dataclass(frozen=True)
class Tolerance:
    """How one field is compared."""

    atol: float
    rtol: float
    period: float | None  # an angle's period, None for a plain number


@dataclass
class Rules:
    """The command line's comparison rules, resolved per field path (and cached)."""

    atol: float = 0.0
    rtol: float = 0.0
    tolerances: Sequence[tuple[tuple[str, ...], float, float | None]] = ()
    ignored: Sequence[tuple[str, ...]] = ()
    _cache: dict[tuple[str, ...], Tolerance | None] = field(default_factory=dict, repr=False)

    def of(self, path: tuple[str, ...]) -> Tolerance | None:
        """The tolerance of field ``path``, or None when the field is ignored."""
        known = self._cache.get(path, False)
        if known is not False:
            return known  # type: ignore[return-value]
        resolved = self._resolve(path)
        self._cache[path] = resolved
        return resolved

    def ignores(self, path: tuple[str, ...]) -> bool:
        return any(_holds(path, pattern) for pattern in self.ignored)

    def _resolve(self, path: tuple[str, ...]) -> Tolerance | None:
        if self.ignores(path):
            return None
        atol, rtol, best = self.atol, self.rtol, -1
        for pattern, field_atol, field_rtol in self.tolerances:
            if len(pattern) >= best and _holds(path, pattern):
                best = len(pattern)
                atol = field_atol
                rtol = self.rtol if field_rtol is None else field_rtol
        period = next((value for suffix, value in ANGLE_PERIODS.items() if path[-len(suffix):] == suffix), None)
        return Tolerance(atol, rtol, period)


def difference(a: float, b: float, period: float | None) -> float:
    """|a − b|, on the circle when ``period`` is given (the formula the token columns use)."""
    delta = abs(a - b)
    if period is not None and delta > period / 2:
        delta = abs((a - b + period / 2) % period - period / 2)
    return delta


def within(delta: float, a: float, b: float, tolerance: Tolerance) -> bool:
    return delta <= tolerance.atol + tolerance.rtol * max(abs(a), abs(b))
