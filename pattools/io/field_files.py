"""``pat-replay --fields DIR``: a replayed frame's decoded fields as ``.npy`` files.

One file per field and frame, ``<seed>-<frame:04d>-<field>.npy`` (the field names as
the replay gives them: ``aact``, ``uact``, ``lapA``, ``divU``), written atomically.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from pattools.errors import DataError
from pattools.io.atomic import write_atomic


def field_path(directory: str | Path, seed: int, frame: int, name: str) -> Path:
    return Path(directory) / f"{seed}-{frame:04d}-{name}.npy"


def write_fields(directory: str | Path, seed: int, frame: int, arrays: dict[str, np.ndarray]) -> None:
    """Write each named array of one frame into ``directory`` (created if missing)."""
    folder = Path(directory)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DataError(f"cannot create the fields directory: {err.strerror}", input=str(directory)) from None
    for name, values in arrays.items():
        buffer = io.BytesIO()
        np.save(buffer, values, allow_pickle=False)
        write_atomic(field_path(folder, seed, frame, name), buffer.getvalue())
