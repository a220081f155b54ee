"""What one step reads besides the state: the cue and the lagged control signals."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pattools.nupca.completion import Cue


@dataclass(frozen=True)
class Control:
    """Lagged control signals read by salience and the learning gate (docs/agent.md)."""

    arousal: float = 0.0
    need: float = 0.0
    threat: float = 0.0
    x_C: float | None = None  # None: B_rt
    rawE: float = 0.5
    rawD: float = 0.5


@dataclass
class Observation:
    cue: Cue  # x_partial, dims in [0, D), sorted, unique, finite values
    rest: bool = False
    control: Control | None = None
    x_full: np.ndarray | None = None
    periph_full: np.ndarray | None = None
    allow_full_state: bool = False
    t: int | None = None
