"""Reading a token array's columns straight from its CBOR bytes.

Why: decoding a frame's tokens into maps and gathering the maps into columns costs
several µs per token; the tokens pattools writes all have one layout, so their bytes can
be matched against the same per-layout program that writes them (pattools.io.token_cbor):
constant runs must match byte for byte, and each slot must hold a value of its type.
A float slot takes a half, single or double float (not NaN or ±Inf); an int slot an
integer head (major 0 or 1) within int64; the patchId slot a definite text string of
printable ASCII. Anything else fails, and the caller decodes the maps as before.
"""

from __future__ import annotations

import math

import numpy as np

from pattools.kernels._jit import kernel
from pattools.kernels.token_cbor import OP_CONST, OP_FLOAT, OP_INT, OP_TEXT

PARSE_OK = 0
PARSE_FAIL = 1
PID_SEPARATOR = 0x0A  # between patchIds in the text output (never inside one: printable only)


@kernel
def _half(bits: int) -> float:
    """The value of IEEE half ``bits`` (finite halves only; the caller rejects the rest)."""
    exponent = (bits >> 10) & 0x1F
    mantissa = bits & 0x3FF
    if exponent == 0:
        value = math.ldexp(float(mantissa), -24)
    else:
        value = math.ldexp(float(mantissa | 0x400), exponent - 25)
    return -value if bits & 0x8000 else value


_INT64_MAX = np.uint64(2**63 - 1)


@kernel
def _unsigned(data: np.ndarray, pos: int, size: int) -> np.uint64:
    """The big-endian unsigned integer in ``data[pos:pos + size]`` (size ≤ 8)."""
    value = np.uint64(0)
    for c in range(size):
        value = (value << np.uint64(8)) | np.uint64(data[pos + c])
    return value


@kernel
def parse_tokens(program: np.ndarray, pool: np.ndarray, data: np.ndarray, pos: int, count: int,
                 float_low: np.ndarray, float_high: np.ndarray, int_low: np.ndarray, int_high: np.ndarray,
                 int_power_of_two: np.ndarray) -> tuple:
    """Run ``program`` backwards over ``count`` tokens of ``data`` from ``pos``:
    (status, end, floats[count, F], ints[count, I], texts, text_length), the patchIds
    written to ``texts`` one after another, separated by PID_SEPARATOR. Float column c must
    lie in [float_low[c], float_high[c]], int column c in [int_low[c], int_high[c]] (and be
    a power of two where int_power_of_two[c]); otherwise PARSE_FAIL."""
    n_floats = len(float_low)
    n_ints = len(int_low)
    floats = np.empty((count, n_floats))
    ints = np.empty((count, n_ints), dtype=np.int64)
    texts = np.empty(max(1, len(data)), dtype=np.uint8)
    n_text = 0
    single = np.empty(1, dtype=np.float32)
    single_bits = single.view(np.uint32)
    double = np.empty(1, dtype=np.float64)
    double_bits = double.view(np.uint64)
    n = len(data)
    fail = (PARSE_FAIL, pos, floats, ints, texts, 0)
    for i in range(count):
        for k in range(program.shape[0]):
            op = program[k, 0]
            a = program[k, 1]
            if op == OP_CONST:
                b = program[k, 2]
                if pos + b > n:
                    return fail
                for j in range(b):
                    if data[pos + j] != (pool[a + (j >> 3)] >> (8 * (j & 7))) & 0xFF:
                        return fail
                pos += b
                continue
            if pos >= n:
                return fail
            initial = np.int64(data[pos])
            pos += 1
            if op == OP_FLOAT:
                if initial == 0xF9:
                    if pos + 2 > n:
                        return fail
                    bits = (np.int64(data[pos]) << 8) | np.int64(data[pos + 1])
                    if (bits >> 10) & 0x1F == 0x1F:
                        return fail
                    floats[i, a] = _half(bits)
                    pos += 2
                elif initial == 0xFA:
                    if pos + 4 > n:
                        return fail
                    single_bits[0] = np.uint32(_unsigned(data, pos, 4))
                    value = np.float64(single[0])
                    if not math.isfinite(value):
                        return fail
                    floats[i, a] = value
                    pos += 4
                elif initial == 0xFB:
                    if pos + 8 > n:
                        return fail
                    double_bits[0] = _unsigned(data, pos, 8)
                    if not math.isfinite(double[0]):
                        return fail
                    floats[i, a] = double[0]
                    pos += 8
                else:
                    return fail
            elif op == OP_INT:
                major = initial >> 5
                info = initial & 0x1F
                if major > 1 or info > 27:
                    return fail
                value = info
                if info >= 24:
                    size = 1 << (info - 24)
                    if pos + size > n:
                        return fail
                    wide = _unsigned(data, pos, size)
                    if wide > _INT64_MAX:
                        return fail
                    value = np.int64(wide)
                    pos += size
                ints[i, a] = -1 - value if major == 1 else value
            elif op == OP_TEXT:
                if initial >> 5 != 3 or initial & 0x1F > 27:
                    return fail
                length = initial & 0x1F
                if length >= 24:
                    size = 1 << (length - 24)
                    if pos + size > n:
                        return fail
                    wide = _unsigned(data, pos, size)
                    if wide > _INT64_MAX:
                        return fail
                    length = np.int64(wide)
                    pos += size
                if length < 0 or pos + length > n:
                    return fail
                if i > 0:
                    texts[n_text] = PID_SEPARATOR
                    n_text += 1
                for c in range(length):
                    byte = data[pos + c]
                    if byte < 0x20 or byte > 0x7E:
                        return fail
                    texts[n_text] = byte
                    n_text += 1
                pos += length
            else:
                return fail
            if op == OP_FLOAT:
                if not float_low[a] <= floats[i, a] <= float_high[a]:
                    return fail
            elif op == OP_INT:
                v = ints[i, a]
                if v < int_low[a] or v > int_high[a] or (int_power_of_two[a] and v & (v - 1) != 0):
                    return fail
    return PARSE_OK, pos, floats, ints, texts, n_text
