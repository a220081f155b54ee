"""Checked token columns straight from decoded PAToken maps (the common shape only).

Why: validating a frame's tokens with the compiled schema costs ≈ 15 µs per token, and
every consumer then converts the same maps to columns again. ``checked_columns`` does both
at once, with C-level iteration only (``map`` over the token list), for tokens of the
shape pattools writes: every token has exactly hdr, geom, stats, topo and (on all tokens
or none) code with only rvq; stats has reconMSE on all tokens or none; no heads. Number
fields must be Python floats and integer fields Python ints (not bool), so the columns
re-encode to exactly the bytes the maps encode to. Every schema bound is checked on the
columns, and every float must be finite.

It answers ``None`` for anything else, valid or not, and the caller validates with the
schema as before: a frame accepted here is always schema-valid (tests/test_token_columns.py
proves it on a mutation corpus), so error messages still come from the schema path.

``columns_from_bytes`` does the same from a token array's CBOR bytes without building maps
(pattools.kernels.token_parse), accepting exactly what decoding the bytes and
``checked_columns`` would accept in the layouts pattools writes.
"""

from __future__ import annotations

import math
import sys
from functools import lru_cache
from itertools import chain, repeat
from operator import eq, itemgetter

import cbor2
import numpy as np

from pattools.tokens.frame import GEOM_FIELDS, STATS_FIELDS, TOKEN_SCALES, TOPO_FIELDS, TokenFrame

_TOKEN_KEYS = frozenset(("hdr", "geom", "stats", "topo"))
_TOKEN_KEYS_CODE = _TOKEN_KEYS | {"code"}
_HDR_KEYS = frozenset(("t", "scale", "patchId"))
_GEOM_KEYS = frozenset(GEOM_FIELDS)
_STATS_KEYS = frozenset(STATS_FIELDS)
_STATS_KEYS_RECON = _STATS_KEYS | {"reconMSE"}
_TOPO_KEYS = frozenset(TOPO_FIELDS)
_CODE_KEYS = frozenset(("rvq",))
_SCALES = frozenset(TOKEN_SCALES)

_hdr, _geom, _stats, _topo, _code = (itemgetter(k) for k in ("hdr", "geom", "stats", "topo", "code"))
_t, _scale, _pid, _recon, _rvq = (itemgetter(k) for k in ("t", "scale", "patchId", "reconMSE", "rvq"))
_geom_values = itemgetter(*GEOM_FIELDS)
_stats_values = itemgetter(*STATS_FIELDS)
_topo_values = itemgetter(*TOPO_FIELDS)

_BIG = sys.float_info.max  # "unbounded" that still rejects ±Inf
_PI = math.pi
_GEOM_BOUNDS = ((0.0, 1.0), (-_PI, _PI), (-_PI / 2, _PI / 2), (0.0, _BIG), (0.0, _BIG))
_STATS_BOUNDS = ((0.0, 1.0),) * 5 + ((-_BIG, _BIG),) * 2


def _all_maps_with(items: list, keys: frozenset) -> bool:
    """Every item is a dict whose key set is ``keys`` (TypeError for a non-dict)."""
    return all(map(eq, map(dict.keys, items), repeat(keys)))


@lru_cache(maxsize=16)
def _float_bounds(count: int, with_recon: bool) -> tuple[np.ndarray, np.ndarray]:
    """Inclusive (low, high) for the flat float vector t[count] + geom + stats [+ recon]."""
    low = [-_BIG] * count + [b[0] for b in _GEOM_BOUNDS] * count + [b[0] for b in _STATS_BOUNDS] * count
    high = [_BIG] * count + [b[1] for b in _GEOM_BOUNDS] * count + [b[1] for b in _STATS_BOUNDS] * count
    if with_recon:
        low += [0.0] * count
        high += [_BIG] * count
    return np.array(low), np.array(high)


def checked_columns(tokens: object) -> TokenFrame | None:
    """The tokens as a TokenFrame when they have the common shape and are schema-valid;
    None otherwise (then validate them with the schema)."""
    if type(tokens) is not list or not tokens or type(tokens[0]) is not dict:
        return None
    try:
        return _columns(tokens, "code" in tokens[0])
    except (TypeError, KeyError, OverflowError, ValueError):
        return None


def _columns(tokens: list, with_code: bool) -> TokenFrame | None:
    count = len(tokens)
    if not _all_maps_with(tokens, _TOKEN_KEYS_CODE if with_code else _TOKEN_KEYS):
        return None
    hdrs = list(map(_hdr, tokens))
    geoms = list(map(_geom, tokens))
    stats_maps = list(map(_stats, tokens))
    topos = list(map(_topo, tokens))
    with_recon = "reconMSE" in stats_maps[0]
    if not (_all_maps_with(hdrs, _HDR_KEYS) and _all_maps_with(geoms, _GEOM_KEYS)
            and _all_maps_with(stats_maps, _STATS_KEYS_RECON if with_recon else _STATS_KEYS)
            and _all_maps_with(topos, _TOPO_KEYS)):
        return None
    pids = list(map(_pid, hdrs))
    floats = list(map(_t, hdrs))
    floats.extend(chain.from_iterable(map(_geom_values, geoms)))
    floats.extend(chain.from_iterable(map(_stats_values, stats_maps)))
    if with_recon:
        floats.extend(map(_recon, stats_maps))
    scale = list(map(_scale, hdrs))
    topo = list(chain.from_iterable(map(_topo_values, topos)))
    ints = scale + topo
    rvq_col = None
    if with_code:
        codes = list(map(_code, tokens))
        if not _all_maps_with(codes, _CODE_KEYS):
            return None
        rows = list(map(_rvq, codes))
        if set(map(type, rows)) != {list}:
            return None
        dims = len(rows[0])
        if set(map(len, rows)) != {dims}:
            return None
        rvq = list(chain.from_iterable(rows))
        ints += rvq
        if rvq and (min(rvq) < 0 or max(rvq) > 3):
            return None
    if (set(map(type, floats)) != {float} or set(map(type, ints)) != {int}
            or set(map(type, pids)) != {str} or not set(scale) <= _SCALES):
        return None
    if min(topo) < -1 or max(topo) > 1:
        return None
    values = np.array(floats)
    low, high = _float_bounds(count, with_recon)
    if not ((values >= low) & (values <= high)).all():  # NaN fails too
        return None
    if with_code:
        rvq_col = np.array(rvq, dtype=np.int64).reshape(count, dims)
    n_geom = len(GEOM_FIELDS) * count
    n_stats = len(STATS_FIELDS) * count
    return TokenFrame(
        patch_ids=pids,
        t=values[:count],
        scale=np.array(scale, dtype=np.int64),
        geom=values[count:count + n_geom].reshape(count, len(GEOM_FIELDS)),
        stats=values[count + n_geom:count + n_geom + n_stats].reshape(count, len(STATS_FIELDS)),
        topo=np.array(topo, dtype=np.int64).reshape(count, len(TOPO_FIELDS)),
        rvq=rvq_col,
        recon_mse=values[count + n_geom + n_stats:] if with_recon else None,
    )


# ------------------------------------------------------------------ from the CBOR bytes

class _Layouts:
    """The token layout of the last array read (frames of a stream share one)."""

    last: tuple[bool, int | None] = (False, 5)
    last_ids: tuple[bytes, list[str]] = (b"", [])


def columns_from_bytes(data: bytes) -> TokenFrame | None:
    """``checked_columns`` of the token array encoded in ``data`` (one CBOR array), read
    without decoding maps; None where that would answer None or the bytes are in another
    layout or encoding (decode and check the maps then)."""
    count, start = _array_head(data)
    if count <= 0:
        return None
    view = np.frombuffer(data, dtype=np.uint8)
    layout = _Layouts.last
    frame = _parse(view, start, count, layout)
    if frame is None:
        peeked = _peek_layout(data, start)
        if peeked is None or peeked == layout:
            return None
        frame = _parse(view, start, count, peeked)
        if frame is None:
            return None
        _Layouts.last = peeked
    return frame


def _array_head(data: bytes) -> tuple[int, int]:
    """(item count, position after the head) of a definite array, or (-1, 0)."""
    if not data:
        return -1, 0
    first = data[0]
    if 0x80 <= first <= 0x97:
        return first - 0x80, 1
    size = {0x98: 1, 0x99: 2, 0x9A: 4, 0x9B: 8}.get(first)
    if size is None or len(data) < 1 + size:
        return -1, 0
    return int.from_bytes(data[1:1 + size], "big"), 1 + size


def _peek_layout(data: bytes, start: int) -> tuple[bool, int | None] | None:
    """(has reconMSE, code width or None) of the first token, decoded on its own."""
    from pattools.kernels.cbor_scan import SCAN_OK, scan_item

    status, end, _, _ = scan_item(np.frombuffer(data, dtype=np.uint8), start, np.zeros(0, dtype=np.uint8))
    if status != SCAN_OK:
        return None
    try:
        token = cbor2.loads(data[start:end])
        code = token.get("code")
        dims = None if code is None else len(code["rvq"])
        return "reconMSE" in token["stats"], dims
    except Exception:  # noqa: BLE001 - any surprise: not a layout this reader takes
        return None


def _parse(view: np.ndarray, start: int, count: int, layout: tuple[bool, int | None]) -> TokenFrame | None:
    from pattools.io.token_cbor import _program
    from pattools.kernels.token_parse import PARSE_OK, parse_tokens

    with_recon, dims = layout
    program = _program(with_recon, dims)
    if count * program.const_bytes > len(view) - start:  # more tokens than the bytes can hold
        return None
    bounds = _slot_bounds(with_recon, dims)
    status, end, floats, ints, texts, n_text = parse_tokens(program.ops, program.pool, view, start, count, *bounds)
    if status != PARSE_OK or end != len(view):
        return None
    ids = texts[:n_text].tobytes()
    if ids == _Layouts.last_ids[0]:
        pids = list(_Layouts.last_ids[1])
    else:
        pids = ids.decode("ascii").split("\n")
        _Layouts.last_ids = (ids, list(pids))
    g, st = len(GEOM_FIELDS), len(STATS_FIELDS)
    return TokenFrame(  # contiguous columns: kernels downstream take C arrays
        patch_ids=pids,
        t=floats[:, 0].copy(),
        scale=ints[:, 0].copy(),
        geom=floats[:, 1:1 + g].copy(),
        stats=floats[:, 1 + g:1 + g + st].copy(),
        topo=ints[:, 1:1 + len(TOPO_FIELDS)].copy(),
        rvq=None if dims is None else ints[:, 1 + len(TOPO_FIELDS):].copy(),
        recon_mse=floats[:, -1].copy() if with_recon else None,
    )


@lru_cache(maxsize=16)
def _slot_bounds(with_recon: bool, dims: int | None) -> tuple[np.ndarray, ...]:
    """The schema's bounds per float and int column of a layout (the parser's columns:
    t, geom, stats[, reconMSE]; scale, topo[, rvq]): float low/high, int low/high, and
    which int columns must be powers of two (scale: 8, 16, 32 or 64)."""
    floats = [(-_BIG, _BIG)] + list(_GEOM_BOUNDS) + list(_STATS_BOUNDS) + ([(0.0, _BIG)] if with_recon else [])
    ints = [(min(_SCALES), max(_SCALES))] + [(-1, 1)] * len(TOPO_FIELDS) + [(0, 3)] * (dims or 0)
    power_of_two = np.zeros(len(ints), dtype=np.bool_)
    power_of_two[0] = True
    return (np.array([b[0] for b in floats]), np.array([b[1] for b in floats]),
            np.array([b[0] for b in ints], dtype=np.int64), np.array([b[1] for b in ints], dtype=np.int64),
            power_of_two)
