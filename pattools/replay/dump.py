"""``--fields DIR``: the decoded modulator fields of each replayed frame as ``.npy`` files.

One file per field and frame, ``<seed>-<frame:04d>-<field>.npy`` with field one of
``aact``, ``uact``, ``lapA``, ``divU``: float32 arrays of shape (H, W), the fields that
drove the frame's last step (all zeros when no modulator was active). Files are written
atomically.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from pattools.errors import DataError
from pattools.io.atomic import write_atomic
from pattools.replay.decoders import ModFields

FIELD_FILES: tuple[tuple[str, str], ...] = (("aact", "aact"), ("uact", "uact"), ("lapA", "lap_a"), ("divU", "div_u"))


def field_path(directory: str | Path, seed: int, frame: int, name: str) -> Path:
    return Path(directory) / f"{seed}-{frame:04d}-{name}.npy"


def write_fields(directory: str | Path, seed: int, frame: int, fields: ModFields | None, width: int, height: int) -> None:
    """Write the four fields of one frame into ``directory`` (created if missing)."""
    folder = Path(directory)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DataError(f"cannot create the fields directory: {err.strerror}", input=str(directory)) from None
    for name, attr in FIELD_FILES:
        if fields is None:
            values = np.zeros((height, width), dtype=np.float32)
        else:
            values = np.asarray(getattr(fields, attr), dtype=np.float32).reshape(height, width)
        buffer = io.BytesIO()
        np.save(buffer, values, allow_pickle=False)
        write_atomic(field_path(folder, seed, frame, name), buffer.getvalue())
