"""Token-array writer for canonical CBOR (the bytes ``cbor2.dumps(tokens, canonical=True)`` gives).

Why: canonical CBOR encoding of a frame's token maps was a large share of pat-export's
per-frame time (cbor2 sorts every map's keys: ≈ 20 ms for 1,024 tokens). Every token of a
frame has the same shape, so one token's bytes are a fixed "program" run once per token:
constant bytes (map/array heads and encoded keys, merged into runs), a float column, an
int column, the token's patchId. The wrapper (pattools.io.token_cbor) derives the program
from the key strings and splices the result into the record's map.

Floats follow cbor2's canonical rule: half (f9) if the value is exactly a half (subnormal
halves and ±0 included), else single (fa) if exactly a float32, else double (fb). The
float32 test is a round trip through float32; ``half_bits`` then reads the half off the
float32's bits (tests check it against numpy's float16 for every half and ~10⁵ floats).

Cost (bench/bench_token_cbor.py): ≈ 0.12 µs per token (≈ 120 µs for 1,024 exported
tokens, ≈ 2 µs for 9); byte copies go through word-sized stores (see SLACK), ≈ 3× faster
than byte loops. Compiled for one signature only, eagerly when the module is imported:
≈ 1–1.5 s with an empty numba cache, ≈ 7 ms to load from it afterwards.
"""

from __future__ import annotations

import numpy as np

from pattools.kernels._jit import kernel

# program operations: one row (op, a, b) of the int64[n, 3] program
OP_CONST = 0  # b constant bytes from pool words a, a+1, … (little-endian bytes of each word)
OP_FLOAT = 1  # float column a, canonical width
OP_INT = 2  # int column a, shortest major 0/1 head
OP_TEXT = 3  # this token's encoded patchId from the text words

# Bytes are moved as whole 64-bit words (one store each, through a view that starts at
# the write position, so every index is provably in range and LLVM merges the byte
# stores); the last word of a run may write up to 7 bytes past it. Those bytes are
# overwritten by what follows, or lie past the end: the output carries SLACK spare bytes.
SLACK = 16

_SIGNATURE = ("int64(int64[:, ::1], int64[::1], float64[:, ::1], int64[:, ::1], int64[:, ::1], "
              "int64[::1], int64[:, ::1], uint8[::1], int64)")


@kernel
def half_bits(single: int) -> int:
    """IEEE half bits of the float32 with bits ``single`` if it is exactly a half, else −1.

    ±Inf maps to ±Inf (NaN never reaches here); float32 subnormals are below every half.
    """
    sign = (single >> 16) & 0x8000
    exponent = (single >> 23) & 0xFF
    mantissa = single & 0x7FFFFF
    if exponent == 0xFF:
        return sign | 0x7C00
    if exponent == 0:
        return sign if mantissa == 0 else -1
    e = exponent - 127
    if -14 <= e <= 15:  # normal half: the low 13 mantissa bits must be zero
        if mantissa & 0x1FFF:
            return -1
        return sign | ((e + 15) << 10) | (mantissa >> 13)
    if -24 <= e <= -15:  # subnormal half k·2^-24 with k = 1.m·2^(e+24) < 1024
        full = mantissa | 0x800000
        shift = -1 - e  # 14 … 23
        if full & ((1 << shift) - 1):
            return -1
        return sign | (full >> shift)
    return -1


@kernel(_SIGNATURE)
def write_tokens(
    program: np.ndarray,
    pool: np.ndarray,
    floats: np.ndarray,
    double_bits: np.ndarray,
    ints: np.ndarray,
    text_words: np.ndarray,
    text_index: np.ndarray,
    out: np.ndarray,
    pos: int,
) -> int:
    """Run ``program`` for tokens 0 … T−1 (T = len(text_index)), writing at ``out[pos:]``.

    ``floats`` [T, F] and ``double_bits``, the same array viewed as int64; ``ints``
    [T, I]; token i's encoded patchId is ``text_index[i, 1]`` bytes from
    ``text_words[text_index[i, 0]:]``. A float is written as half if it is exactly a
    half, else single if exactly a single, else double (cbor2's canonical rule). ``out``
    must hold every item at its widest plus SLACK (the wrapper's bound). Returns the
    position after the last byte written, or −1 at the first NaN.
    """
    count = text_index.shape[0]
    steps = program.shape[0]
    single = np.empty(1, dtype=np.float32)
    single_bits = single.view(np.uint32)
    for i in range(count):
        for k in range(steps):
            op = program[k, 0]
            a = program[k, 1]
            if op == OP_CONST:
                b = program[k, 2]
                for j in range(0, b, 8):  # whole words (see SLACK)
                    word = pool[a + (j >> 3)]
                    dst = out[pos + j:pos + j + 8]
                    for c in range(8):
                        dst[c] = (word >> (8 * c)) & 0xFF
                pos += b
            elif op == OP_FLOAT:
                x = floats[i, a]
                if x != x:
                    return -1  # NaN: the caller takes the plain path
                single[0] = x  # round to nearest float32 (±Inf beyond its range)
                if np.float64(single[0]) == x:
                    bits32 = np.int64(single_bits[0])
                    half = half_bits(bits32)
                    if half >= 0:
                        out[pos] = 0xF9
                        value = half << 48
                        width = 2
                    else:
                        out[pos] = 0xFA
                        value = bits32 << 32
                        width = 4
                else:
                    out[pos] = 0xFB
                    value = double_bits[i, a]
                    width = 8
                dst = out[pos + 1:pos + 9]
                for c in range(8):  # all 8 bytes, high first; the unused tail is overwritten
                    dst[c] = (value >> (56 - 8 * c)) & 0xFF
                pos += width + 1
            elif op == OP_INT:
                value = ints[i, a]
                major = 0x00
                if value < 0:
                    major = 0x20
                    value = -1 - value  # non-negative for every int64
                if value < 24:
                    out[pos] = major | value
                    pos += 1
                else:
                    if value < 0x100:
                        out[pos] = major | 24
                        width = 1
                    elif value < 0x10000:
                        out[pos] = major | 25
                        width = 2
                    elif value < 0x100000000:
                        out[pos] = major | 26
                        width = 4
                    else:
                        out[pos] = major | 27
                        width = 8
                    for j in range(width):
                        out[pos + width - j] = (value >> (8 * j)) & 0xFF
                    pos += width + 1
            else:  # OP_TEXT
                size = text_index[i, 1]
                first = text_index[i, 0]
                for j in range(0, size, 8):
                    word = text_words[first + (j >> 3)]
                    dst = out[pos + j:pos + j + 8]
                    for c in range(8):
                        dst[c] = (word >> (8 * c)) & 0xFF
                pos += size
    return pos
