"""pat-render's two jobs, from records to files: per-frame pictures (and animations) of
frame streams, and edit-effect pictures of a base and an edited replay.

Every file is written atomically into the output directory; ``emit`` is told each path
as soon as its file is complete.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pattools.errors import DataError
from pattools.io import Record, write_atomic
from pattools.render.lattice import FieldFrame, FieldReader, Selection
from pattools.render.pictures import KINDS, Painter


@dataclass(frozen=True)
class RenderSettings:
    kinds: tuple[str, ...] = KINDS
    selection: Selection = Selection()
    seeds: frozenset[int] | None = None
    fmt: str = "png"
    dpi: float = 100.0
    animate: str | None = None  # "gif" or "apng": one animation per seed instead of pictures
    validate: bool = True
    lenient: bool = False
    kernel: str = "fast"


class OutputDir:
    """The output directory: created (with parents) and checked writable before any work."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DataError(f"cannot create the output directory: {exc.strerror}", input=path) from None
        if not self.path.is_dir() or not os.access(self.path, os.W_OK | os.X_OK):
            raise DataError("the output directory is not writable", input=path)

    def write(self, name: str, data: bytes) -> str:
        target = self.path / name
        write_atomic(target, data)
        return str(target)


def _seed_filter(records: Iterable[Record], seeds: frozenset[int] | None) -> Iterator[Record]:
    for record in records:
        if seeds is None or record.value.get("seed") in seeds:
            yield record


def render_frames(records: Iterable[Record], edits: list, out: OutputDir, settings: RenderSettings,
                  emit: Callable[[str], None]) -> int:
    """Pictures (or animations) of the selected frames; returns how many files were written."""
    if settings.seeds is not None:  # edits of seeds not drawn are not looked for
        edits = [edit for edit in edits if edit.package.seed in settings.seeds]
    reader = FieldReader(settings.selection, edits=edits, lenient=settings.lenient, validate=settings.validate,
                         kernel=settings.kernel)
    painter = Painter(settings.dpi, settings.fmt)
    written = 0
    seen_any = False
    animation = None
    current_seed = None
    for frame in reader.frames(_seed_filter(records, settings.seeds)):
        seen_any = True
        if settings.animate is not None:
            if current_seed is not None and frame.seed != current_seed:
                written += _finish_animation(animation, current_seed, out, emit)
                animation = None
            animation = animation or _new_animation(settings.animate)
            current_seed = frame.seed
            animation.add(painter.draw("phase", frame).rgb())
            continue
        for kind in settings.kinds:
            emit(out.write(_name(frame, kind, settings.fmt), painter.picture(kind, frame)))
            written += 1
    if animation is not None:
        written += _finish_animation(animation, current_seed, out, emit)
    if not seen_any:
        raise DataError("no frame to draw (no PAT_FRAME records, or none matched --frames/--seeds)")
    return written


def _name(frame: FieldFrame, kind: str, fmt: str) -> str:
    return f"{frame.seed}-{frame.frame}-{kind}.{fmt}"


def _new_animation(fmt: str):
    from pattools.render.animate import Animation

    return Animation(fmt)


def _finish_animation(animation, seed: int, out: OutputDir, emit: Callable[[str], None]) -> int:
    emit(out.write(f"{seed}-phase.{animation.fmt}", animation.encode()))
    return 1


def render_effects(base: list, edited: list, edits: list, regions, window, out: OutputDir, fmt: str, dpi: float,
                   emit: Callable[[str], None]) -> int:
    """Effect maps and time series of every edited sequence; returns how many files were written."""
    from pattools.render.backend import figure_bytes
    from pattools.render.effects import effect_cases, effect_figure
    from pattools.render.timeseries import timeseries_figure

    if not edited:
        raise DataError("no PAT_FRAME records in the edited replay")
    written = 0
    for case in effect_cases(base, edited, edits, regions, window):
        seed = case.edited.seed
        emit(out.write(f"{seed}-effect.{fmt}", effect_figure(case, dpi).encode(fmt)))
        emit(out.write(f"{seed}-timeseries.{fmt}", figure_bytes(timeseries_figure(case, dpi), fmt)))
        written += 2
    return written
