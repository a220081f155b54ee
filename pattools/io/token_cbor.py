"""Canonical CBOR of PAT frames written straight from TokenFrame columns.

Why: ``cbor.encode(record)`` with ``tokens.to_tokens()`` builds a dict per token and then
has cbor2 sort every map's keys: ≈ 0.14 ms of a 0.54 ms 96×96 export frame and ≈ 20 ms
for 1,024 tokens. Here the tokens' bytes come from a per-layout program run by a numba
kernel (pattools.kernels.token_cbor) and are spliced into the record's map, giving exactly
the bytes ``cbor.encode`` gives for the full record (tests/test_token_cbor.py checks it
property-wise against cbor2 and against goldens written by the plain path).

Canonical rules reproduced (cbor2's ``canonical=True``): map keys ordered by the length of
their encoding, then bytewise (derived here from the encoded keys, never hand-sorted);
shortest integer heads; a float as half if it is exactly a half, else single if exactly a
single, else double. Frames whose optional per-token fields differ between tokens (heads,
code.stage, a reconMSE or a code on some tokens only, codes of different lengths), hold
NaN, or have columns of other types take the plain path (``cbor.encode`` of
``to_tokens()``). Importing this module never imports numba; the kernel is imported on
the first fast encode, and a command that has not loaded numba encodes its first
PLAIN_TOKENS tokens the plain way (one-frame start-up).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from pattools.io import cbor, jsonl
from pattools.tokens.frame import GEOM_FIELDS, STATS_FIELDS, TOPO_FIELDS, TokenFrame

_MAP = 5
_ARRAY = 4
_TEXT = 3


def head(major: int, value: int) -> bytes:
    """The shortest CBOR head of ``major`` with argument ``value`` (0 ≤ value < 2**64)."""
    if value < 24:
        return bytes([(major << 5) | value])
    for info, width in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if value < 1 << (8 * width):
            return bytes([(major << 5) | info]) + value.to_bytes(width, "big")
    raise ValueError(f"CBOR argument {value} does not fit 64 bits")


@lru_cache(maxsize=4096)
def _key_bytes(key: str) -> bytes:
    return cbor.encode(key)


@lru_cache(maxsize=4096)
def _canonical_rank(key: str) -> tuple[int, bytes]:
    """The order cbor2's canonical mode gives map keys: encoded length first, then bytes."""
    data = _key_bytes(key)
    return len(data), data


def canonical_keys(keys) -> list[str]:
    """Text keys in canonical map order."""
    return sorted(keys, key=_canonical_rank)


def encode_array(encoded_items: list[bytes]) -> bytes:
    """A CBOR array of items given already encoded."""
    return head(_ARRAY, len(encoded_items)) + b"".join(encoded_items)


def encode_map_with(record: dict, encoded: dict[str, bytes]) -> bytes:
    """Canonical CBOR of ``record`` plus the entries of ``encoded`` (values already encoded).

    The keys of both must be text and distinct. The record's own entries are encoded by
    cbor2 in runs between the spliced keys (a canonical map's entries are its sorted runs).
    """
    return MapTemplate(record, encoded).encode(encoded)


class MapTemplate:
    """``encode_map_with`` for many maps that share ``record`` and differ only in the
    values of the ``spliced`` keys: the record's runs are encoded once.

    Why: a PAT_FRAME stream repeats the same envelope (kind, version, seed, sim) in every
    frame; encoding it with cbor2 each time cost ≈ 14 µs of a ≈ 0.6 ms 96×96 frame.
    """

    def __init__(self, record: dict, spliced) -> None:
        if not all(type(k) is str for k in record) or not all(type(k) is str for k in spliced):
            raise ValueError("expected text map keys")
        if any(k in record for k in spliced):
            raise ValueError("a spliced key is also in the record")
        keys = canonical_keys(dict.fromkeys(spliced))
        ranks = [_canonical_rank(key) for key in keys]
        runs: list[dict] = [{} for _ in range(len(keys) + 1)]
        for key, value in record.items():
            rank = _canonical_rank(key)
            slot = 0
            while slot < len(ranks) and ranks[slot] < rank:
                slot += 1
            runs[slot][key] = value
        # constant byte strings, with the spliced keys' names where their values go
        self.parts: list[bytes | str] = [head(_MAP, len(record) + len(keys))]
        for slot, run in enumerate(runs):
            if run:
                data = cbor.encode(run)
                self.parts.append(data[1:] if len(run) < 24 else data[len(head(_MAP, len(run))):])
            if slot < len(keys):
                self.parts.append(_key_bytes(keys[slot]))
                self.parts.append(keys[slot])
        self.keys = frozenset(keys)

    def encode(self, encoded: dict[str, bytes]) -> bytes:
        """The map with ``encoded`` (exactly the spliced keys, values already encoded)."""
        if encoded.keys() != self.keys:
            raise ValueError("expected values for exactly the template's spliced keys")
        return b"".join([part if type(part) is bytes else encoded[part] for part in self.parts])


# ---------------------------------------------------------------------- token programs


@dataclass(frozen=True)
class _Slot:
    """A placeholder in a token template: a float column, an int column or the patchId."""

    kind: str  # "float" | "int" | "text"
    column: int = 0


@dataclass(frozen=True)
class _Program:
    ops: np.ndarray  # int64[n, 3]
    pool: np.ndarray  # int64[m]: the constant runs, each from a word boundary
    const_bytes: int  # constant bytes written per token
    floats: int  # float columns
    ints: int  # int columns


def _template(has_recon: bool, code_dims: int | None) -> dict:
    """One token's shape with column placeholders (columns as _float_matrix/_int_matrix)."""
    floats = iter(range(1 + len(GEOM_FIELDS) + len(STATS_FIELDS) + 1))
    ints = iter(range(1 + len(TOPO_FIELDS) + (code_dims or 0)))
    token: dict = {"hdr": {"t": _Slot("float", next(floats)), "scale": _Slot("int", next(ints)),
                           "patchId": _Slot("text")}}
    token["geom"] = {name: _Slot("float", next(floats)) for name in GEOM_FIELDS}
    stats = {name: _Slot("float", next(floats)) for name in STATS_FIELDS}
    if has_recon:
        stats["reconMSE"] = _Slot("float", next(floats))
    token["stats"] = stats
    token["topo"] = {name: _Slot("int", next(ints)) for name in TOPO_FIELDS}
    if code_dims is not None:
        token["code"] = {"rvq": [_Slot("int", next(ints)) for _ in range(code_dims)]}
    return token


def _steps(template: object) -> list[bytes | _Slot]:
    """What writing ``template`` in canonical form takes: constant bytes and slots, in order."""
    if isinstance(template, dict):
        steps: list[bytes | _Slot] = [head(_MAP, len(template))]
        for key in canonical_keys(template):
            steps.append(_key_bytes(key))
            steps.extend(_steps(template[key]))
        return steps
    if isinstance(template, list):
        steps = [head(_ARRAY, len(template))]
        for item in template:
            steps.extend(_steps(item))
        return steps
    return [template]


def _words(data: bytes) -> list[int]:
    """``data`` as little-endian int64 words (zero-padded to whole words)."""
    padded = data + bytes(-len(data) % 8)
    return np.frombuffer(padded, dtype="<i8").tolist()


@lru_cache(maxsize=64)
def _program(has_recon: bool, code_dims: int | None) -> _Program:
    """The kernel program of one token layout: adjacent constants merged, each run of
    constant bytes starting on a pool word."""
    from pattools.kernels import token_cbor as codes

    merged: list[bytes | _Slot] = []
    for step in _steps(_template(has_recon, code_dims)):
        if isinstance(step, bytes) and merged and isinstance(merged[-1], bytes):
            merged[-1] += step
        else:
            merged.append(step)
    kinds = {"float": codes.OP_FLOAT, "int": codes.OP_INT, "text": codes.OP_TEXT}
    ops: list[tuple[int, int, int]] = []
    pool: list[int] = []
    const_bytes = 0
    for step in merged:
        if isinstance(step, bytes):
            ops.append((codes.OP_CONST, len(pool), len(step)))
            pool.extend(_words(step))
            const_bytes += len(step)
        else:
            ops.append((kinds[step.kind], step.column, 0))
    floats = 1 + len(GEOM_FIELDS) + len(STATS_FIELDS) + (1 if has_recon else 0)
    ints = 1 + len(TOPO_FIELDS) + (code_dims or 0)
    return _Program(np.array(ops, dtype=np.int64).reshape(-1, 3), np.array(pool, dtype=np.int64),
                    const_bytes, floats, ints)


# ---------------------------------------------------------------------- columns


def _is_float_column(a: object) -> bool:
    return isinstance(a, np.ndarray) and a.dtype.kind == "f" and a.dtype.itemsize <= 8


def _is_int_column(a: object) -> bool:
    return isinstance(a, np.ndarray) and (a.dtype.kind == "i" or (a.dtype.kind == "u" and a.dtype.itemsize < 8))


def _layout(tokens: TokenFrame) -> tuple[bool, int | None] | None:
    """(has reconMSE, code width or None) when every token has the same shape, else None."""
    count = len(tokens.patch_ids)
    if tokens.heads is not None and any(h is not None for h in tokens.heads):
        return None
    if tokens.code_stage is not None and any(s is not None for s in tokens.code_stage):
        return None
    floats = [tokens.t, tokens.geom, tokens.stats]
    ints = [tokens.scale, tokens.topo]
    if not all(_is_float_column(a) for a in floats) or not all(_is_int_column(a) for a in ints):
        return None
    if (tokens.t.shape != (count,) or tokens.scale.shape != (count,)
            or tokens.geom.shape != (count, len(GEOM_FIELDS)) or tokens.stats.shape != (count, len(STATS_FIELDS))
            or tokens.topo.shape != (count, len(TOPO_FIELDS))):
        return None
    has_recon = False
    if tokens.recon_mse is not None:
        recon = tokens.recon_mse
        if not _is_float_column(recon) or recon.shape != (count,):
            return None
        present = ~np.isnan(recon)
        has_recon = bool(present.all()) and count > 0
        if not has_recon and present.any():
            return None
    dims = None
    if tokens.rvq_len is not None:  # codes of different lengths, or on some tokens only
        return None
    if tokens.rvq is not None:
        if not _is_int_column(tokens.rvq) or tokens.rvq.ndim != 2 or tokens.rvq.shape[0] != count:
            return None
        dims = int(tokens.rvq.shape[1])
    return has_recon, dims


def _float_matrix(tokens: TokenFrame, has_recon: bool) -> np.ndarray:
    count = len(tokens.patch_ids)
    g, s = len(GEOM_FIELDS), len(STATS_FIELDS)
    out = np.empty((count, 1 + g + s + (1 if has_recon else 0)))
    out[:, 0] = tokens.t
    out[:, 1:1 + g] = tokens.geom
    out[:, 1 + g:1 + g + s] = tokens.stats
    if has_recon:
        out[:, -1] = tokens.recon_mse
    return out


def _int_matrix(tokens: TokenFrame, dims: int | None) -> np.ndarray:
    count = len(tokens.patch_ids)
    p = len(TOPO_FIELDS)
    out = np.empty((count, 1 + p + (dims or 0)), dtype=np.int64)
    out[:, 0] = tokens.scale
    out[:, 1:1 + p] = tokens.topo
    if dims:
        out[:, 1 + p:] = tokens.rvq
    return out


def _text(value: str) -> bytes:
    data = value.encode("utf-8")
    return head(_TEXT, len(data)) + data


class _TextPool:
    """Encoded patchIds of the last layout seen (frames of one export share them), each
    from a word boundary: (words, index[T, 2] = (first word, byte length))."""

    def __init__(self) -> None:
        self.last: tuple[list[str], np.ndarray, np.ndarray] | None = None

    def get(self, patch_ids: list[str]) -> tuple[np.ndarray, np.ndarray] | None:
        """(words, index), or None when an id is not a str or not encodable (the plain
        path then reports it as cbor2 does)."""
        last = self.last
        if last is not None and last[0] == patch_ids:
            return last[1], last[2]
        if not all(type(pid) is str for pid in patch_ids):
            return None
        try:
            parts = [_text(pid) for pid in patch_ids]
        except UnicodeEncodeError:  # lone surrogates
            return None
        sizes = np.array([len(p) for p in parts], dtype=np.int64)
        index = np.zeros((len(parts), 2), dtype=np.int64)
        index[:, 1] = sizes
        np.cumsum((sizes + 7) // 8, out=index[:, 0])
        index[:, 0] -= (sizes + 7) // 8
        padded = b"".join(p + bytes(-len(p) % 8) for p in parts)
        words = np.frombuffer(bytearray(padded), dtype="<i8").astype(np.int64)
        self.last = (list(patch_ids), words, index)
        return words, index


_TEXTS = _TextPool()


# Tokens encoded through cbor2 before the kernel is worth importing (numba's import costs
# about as much as encoding this many tokens the plain way); with numba already loaded
# (a computing command) the kernel is used from the first frame.
PLAIN_TOKENS = 4096


class _Volume:
    plain_tokens = 0


def encode_tokens(tokens: TokenFrame) -> bytes:
    """Canonical CBOR of ``tokens.to_tokens()``, from the columns when the layout allows."""
    layout = _layout(tokens)
    if layout is None or ("numba" not in sys.modules and _Volume.plain_tokens < PLAIN_TOKENS):
        _Volume.plain_tokens += len(tokens)
        return cbor.encode(tokens.to_tokens())
    has_recon, dims = layout
    values = _float_matrix(tokens, has_recon)
    from pattools.kernels.token_cbor import SLACK, write_tokens

    texts = _TEXTS.get(tokens.patch_ids)
    if texts is None:
        return cbor.encode(tokens.to_tokens())
    words, index = texts
    program = _program(has_recon, dims)
    ints = _int_matrix(tokens, dims)
    count = len(tokens.patch_ids)
    array_head = head(_ARRAY, count)
    size = (len(array_head) + count * (program.const_bytes + 9 * (program.floats + program.ints))
            + 8 * len(words) + SLACK)
    out = np.empty(size, dtype=np.uint8)
    out[:len(array_head)] = np.frombuffer(array_head, dtype=np.uint8)
    end = write_tokens(program.ops, program.pool, values, values.view(np.int64), ints, words, index, out,
                       len(array_head))
    if end < 0:  # a NaN (not valid data): cbor2 has its own NaN encoding
        return cbor.encode(tokens.to_tokens())
    return out[:end].tobytes()


def encode_frame_record(record_without_tokens: dict, tokens: TokenFrame) -> bytes:
    """``cbor.encode`` of the record with ``tokens`` (as maps) under "tokens", from the columns."""
    return encode_map_with(record_without_tokens, {"tokens": encode_tokens(tokens)})


def record_with_tokens(envelope: dict, token_maps: list[dict], after: str = "sim") -> dict:
    """The full record: ``envelope``'s entries in order, "tokens" right after ``after``
    (where PAT_FRAME records carry it), or last when ``after`` is absent."""
    if after not in envelope:
        return {**envelope, "tokens": token_maps}
    record: dict = {}
    for key, value in envelope.items():
        record[key] = value
        if key == after:
            record["tokens"] = token_maps
    return record


def encode_frame(envelope: dict, tokens: TokenFrame, fmt: str) -> bytes:
    """One PAT_FRAME record (``envelope`` + ``tokens``) in ``fmt`` ("cbor" or "jsonl")."""
    if fmt == "cbor":
        return encode_frame_record(envelope, tokens)
    return jsonl.encode_line(record_with_tokens(envelope, tokens.to_tokens()))
