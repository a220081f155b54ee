"""Typed arrays of the agent's records: ``{dtype, shape, data}`` maps (schemas/NUPCA_STATE.schema.json).

``data`` is a little-endian byte string in CBOR and a flat list of numbers in JSON lines;
``decode_array`` accepts either form in either framing, and checks dtype, shape and
finiteness, so a damaged record is a one-line data error. Float arrays are finite: no
infinity appears in any record.
"""

from __future__ import annotations

import math

import numpy as np

from pattools.errors import DataError, expected_found

DTYPES = {"float64": np.float64, "int64": np.int64, "uint8": np.uint8}
_NAMES = {np.dtype(np.float64): "float64", np.dtype(np.int64): "int64", np.dtype(np.uint8): "uint8"}


def encode_array(array: np.ndarray, fmt: str) -> dict:
    """``{dtype, shape, data}``: bytes for CBOR, a flat list for JSON lines."""
    array = np.ascontiguousarray(array)
    name = _NAMES.get(array.dtype)
    if name is None:
        raise ValueError(f"unsupported dtype {array.dtype}")
    if name == "float64" and array.size and not np.all(np.isfinite(array)):
        raise ValueError("non-finite value in a float array record")
    if fmt == "cbor":
        data: object = array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
    else:
        data = array.ravel().tolist()
    return {"dtype": name, "shape": list(array.shape), "data": data}


def decode_array(value: object, path: str, *, dtype: str | None = None, ndim: int | None = None,
                 shape: tuple[int, ...] | None = None) -> np.ndarray:
    """A numpy array from a typed-array map or a plain list (checked: dtype, shape, finite)."""
    if isinstance(value, list):
        array = _from_list(value, dtype or "float64", path)
    elif isinstance(value, dict):
        array = _from_map(value, path)
    else:
        raise DataError(expected_found("typed array or array", value), path=path)
    if dtype is not None and _NAMES[array.dtype] != dtype:
        if dtype == "float64" and array.dtype == np.int64:
            array = array.astype(np.float64)
        else:
            raise DataError(f"expected dtype {dtype}, got {_NAMES[array.dtype]}", path=path)
    if ndim is not None and array.ndim != ndim:
        raise DataError(f"expected {ndim}-dimensional array, got shape {list(array.shape)}", path=path)
    if shape is not None and tuple(array.shape) != tuple(shape):
        raise DataError(f"expected shape {list(shape)}, got {list(array.shape)}", path=path)
    if array.dtype == np.float64 and array.size and not np.all(np.isfinite(array)):
        bad = int(np.flatnonzero(~np.isfinite(array.ravel()))[0])
        raise DataError(f"expected a finite number, got {array.ravel()[bad]!r}", path=f"{path}[{bad}]")
    return array


def _from_list(value: list, dtype: str, path: str) -> np.ndarray:
    for i, item in enumerate(value):
        if isinstance(item, bool) or not isinstance(item, (int, float)):
            raise DataError(expected_found("number", item), path=f"{path}[{i}]")
        if dtype != "float64" and not isinstance(item, int):
            raise DataError(expected_found("integer", item), path=f"{path}[{i}]")
    try:
        return np.array(value, dtype=DTYPES[dtype]).reshape(len(value))
    except OverflowError:
        raise DataError("integer out of range", path=path) from None


def _from_map(value: dict, path: str) -> np.ndarray:
    extra = sorted(set(value) - {"dtype", "shape", "data"})
    if extra:
        raise DataError("expected no such field, got an unknown field", path=f"{path}.{extra[0]}")
    name = value.get("dtype")
    if name not in DTYPES:
        raise DataError(expected_found("one of float64, int64, uint8", name), path=f"{path}.dtype")
    shape = value.get("shape")
    if not isinstance(shape, list) or not 1 <= len(shape) <= 2 or not all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape
    ):
        raise DataError(expected_found("array of 1 or 2 non-negative integers", shape), path=f"{path}.shape")
    count = math.prod(shape)
    data = value.get("data")
    if isinstance(data, (bytes, bytearray)):
        itemsize = np.dtype(DTYPES[name]).itemsize
        if len(data) != count * itemsize:
            raise DataError(f"expected {count * itemsize} bytes for shape {shape}, got {len(data)}",
                            path=f"{path}.data")
        array = np.frombuffer(bytes(data), dtype=np.dtype(DTYPES[name]).newbyteorder("<")).astype(DTYPES[name])
    elif isinstance(data, list):
        if len(data) != count:
            raise DataError(f"expected {count} values for shape {shape}, got {len(data)}", path=f"{path}.data")
        array = _from_list(data, name, f"{path}.data")
    else:
        raise DataError(expected_found("byte string or array", data), path=f"{path}.data")
    return array.reshape(shape)
