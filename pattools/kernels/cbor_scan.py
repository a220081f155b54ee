"""Finding a CBOR item's end, and one top-level map value in it, without decoding it.

Why: a replay reads a frame's envelope (seed, frame, sim, edit) but usually not its
tokens, and decoding a token array into maps costs more than all the rest of the frame's
input handling. ``scan_item`` walks the item's heads only. It accepts well-formed items
without tags, nested at most MAX_DEPTH deep; anything else is SCAN_BAD, and the caller
lets the strict decoder report the exact error.
"""

from __future__ import annotations

import numpy as np

from pattools.kernels._jit import kernel

SCAN_OK = 0
SCAN_MORE = 1  # the item runs past the end of the buffer
SCAN_BAD = 2  # not well-formed, a tag, nested too deep, or the key twice

MAX_DEPTH = 64


@kernel
def _argument(buf: np.ndarray, pos: int, info: int) -> tuple:
    """(argument, position after the head, status) for additional info ``info`` whose
    extra bytes start at ``pos``. An argument beyond int64 comes back negative: callers
    treat a negative length as SCAN_BAD (no buffer is that long); integers pass as they are."""
    if info < 24:
        return np.int64(info), pos, SCAN_OK
    if info > 27:
        return np.int64(0), pos, SCAN_BAD
    size = 1 << (info - 24)
    if pos + size > len(buf):
        return np.int64(0), pos, SCAN_MORE
    value = np.int64(0)
    for k in range(size):
        value = (value << 8) | np.int64(buf[pos + k])
    return value, pos + size, SCAN_OK


@kernel
def _matches(buf: np.ndarray, start: int, end: int, key: np.ndarray) -> bool:
    if end - start != len(key):
        return False
    for k in range(len(key)):
        if buf[start + k] != key[k]:
            return False
    return True


@kernel
def scan_item(buf: np.ndarray, start: int, key: np.ndarray) -> tuple:
    """(status, end, value_start, value_end): the end of the item at ``start`` and, when
    it is a map with a key encoded exactly as ``key``, the byte span of that key's value
    (else -1, -1)."""
    n = len(buf)
    remaining = np.zeros(MAX_DEPTH + 1, dtype=np.int64)  # items left per open container; -1: indefinite
    depth = 0  # open containers; depth 0 is the sequence, expecting one item
    remaining[0] = 1
    top_is_map = False
    index = 0  # position of the next item inside the top-level container
    wanted = -1  # index of the value whose key matched
    value_start = -1
    value_end = -1
    pos = start
    while True:
        if depth == 0 and remaining[0] == 0:
            return SCAN_OK, pos, value_start, value_end
        if pos >= n:
            return SCAN_MORE, pos, -1, -1
        item_start = pos
        if depth == 1 and index == wanted:
            value_start = pos
        initial = np.int64(buf[pos])
        major = initial >> 5
        info = initial & 31
        pos += 1
        opened = -2  # the count of a container opened by this item (-1: indefinite)
        if initial == 0xFF:  # a break closes the innermost indefinite container
            if depth == 0 or remaining[depth] != -1:
                return SCAN_BAD, pos, -1, -1
            depth -= 1
        elif major == 6 or (major == 7 and info == 31):
            return SCAN_BAD, pos, -1, -1
        elif info == 31:  # indefinite length
            if major <= 1:
                return SCAN_BAD, pos, -1, -1
            if major >= 4:
                opened = -1
            else:  # a string in definite chunks of its own major, then a break
                while True:
                    if pos >= n:
                        return SCAN_MORE, pos, -1, -1
                    chunk = np.int64(buf[pos])
                    pos += 1
                    if chunk == 0xFF:
                        break
                    if chunk >> 5 != major or chunk & 31 == 31:
                        return SCAN_BAD, pos, -1, -1
                    length, pos, status = _argument(buf, pos, chunk & 31)
                    if status != SCAN_OK:
                        return status, pos, -1, -1
                    if length < 0:
                        return SCAN_BAD, pos, -1, -1
                    if length > n - pos:  # not pos + length > n: that sum can overflow int64
                        return SCAN_MORE, pos, -1, -1
                    pos += length
        elif major == 7:  # a simple value or a float: its bytes follow the head
            if info > 27:
                return SCAN_BAD, pos, -1, -1
            if info >= 24:
                pos += 1 << (info - 24)
                if pos > n:
                    return SCAN_MORE, pos, -1, -1
        else:
            argument, pos, status = _argument(buf, pos, info)
            if status != SCAN_OK:
                return status, pos, -1, -1
            if major >= 2 and argument < 0:
                return SCAN_BAD, pos, -1, -1
            if major == 2 or major == 3:
                if argument > n - pos:  # not pos + argument > n: that sum can overflow int64
                    return SCAN_MORE, pos, -1, -1
                pos += argument
                if depth == 1 and top_is_map and index % 2 == 0 and _matches(buf, item_start, pos, key):
                    if wanted >= 0:
                        return SCAN_BAD, pos, -1, -1
                    wanted = index + 1
            elif major == 4:
                if argument > n:  # more items than bytes: let the buffer grow (or the size check refuse it)
                    return SCAN_MORE, pos, -1, -1
                opened = argument
            elif major == 5:
                if argument > n:  # more pairs than bytes left: not well-formed here (2 * argument may overflow)
                    return SCAN_MORE, pos, -1, -1
                opened = 2 * argument
        if opened != -2 and opened != 0:
            if depth == MAX_DEPTH:
                return SCAN_BAD, pos, -1, -1
            if depth == 0:
                top_is_map = major == 5
            depth += 1
            remaining[depth] = opened
            continue
        # an item of the container at ``depth`` is complete (a closed container counts too)
        while True:
            if depth == 1:
                if index == wanted:
                    value_end = pos
                index += 1
            if remaining[depth] == -1:
                break
            remaining[depth] -= 1
            if remaining[depth] > 0 or depth == 0:
                break
            depth -= 1
