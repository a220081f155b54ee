"""NumPy ``.npz`` archives written reproducibly (same arrays → same bytes).

``numpy.savez`` stamps each member with the current time; this writer uses a fixed
timestamp and stores members uncompressed, in the given order, without pickles, so the
archive loads with ``numpy.load`` and diffs cleanly between runs.
"""

from __future__ import annotations

import io
import zipfile

import numpy as np

_EPOCH = (1980, 1, 1, 0, 0, 0)


def encode_npz(arrays: dict[str, np.ndarray]) -> bytes:
    """The bytes of an .npz archive holding ``arrays`` (name → array, in this order)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, array in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, np.asarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_EPOCH)
            info.external_attr = 0o644 << 16
            archive.writestr(info, member.getvalue())
    return buffer.getvalue()
