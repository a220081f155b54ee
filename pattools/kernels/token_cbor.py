"""Token-array writer for canonical CBOR (the bytes ``cbor2.dumps(tokens, canonical=True)`` gives).

Why: canonical CBOR encoding of a frame's token maps was a large share of pat-export's
per-frame time (cbor2 sorts every map's keys; ≈ 20 ms for 1,024 tokens). Every token of a
frame has the same shape, so the bytes of one token are a fixed "program" run once per
token: copy constant bytes (map/array heads, encoded keys) from a pool, write a float
column, write an int column, write the token's patchId. The wrapper
(pattools.io.token_cbor) builds the program from the key strings, chooses each float's
width (half/single/double, exactly as cbor2's canonical mode) with numpy, and calls
``write_tokens`` once per frame; this kernel only writes bytes.

Compiled for one signature only (eagerly, from the cache after the first run).
"""

from __future__ import annotations

import numpy as np

from pattools.kernels._jit import kernel

# program operations: one row (op, a, b) of the int64[n, 3] program
OP_CONST = 0  # copy pool[a:a+b]
OP_FLOAT = 1  # float column a (width class and bits precomputed)
OP_INT = 2  # int column a, shortest major 0/1 head
OP_TEXT = 3  # this token's patchId bytes (head included) from the text pool

# float width classes (the wrapper computes them)
FLOAT_HALF = 0
FLOAT_SINGLE = 1
FLOAT_DOUBLE = 2

_SIGNATURE = ("int64(int64[:, ::1], uint8[::1], uint8[:, ::1], int64[:, ::1], int64[:, ::1], "
              "uint8[::1], int64[::1], uint8[::1], int64)")


@kernel(_SIGNATURE)
def write_tokens(
    program: np.ndarray,
    pool: np.ndarray,
    float_class: np.ndarray,
    float_bits: np.ndarray,
    ints: np.ndarray,
    text_pool: np.ndarray,
    text_offsets: np.ndarray,
    out: np.ndarray,
    pos: int,
) -> int:
    """Run ``program`` for tokens 0 … T−1 (T = len(text_offsets) − 1), writing at ``out[pos:]``.

    ``float_class``/``float_bits`` [T, F]: width class and the IEEE bits at that width (in
    the low 16/32/64 bits); ``ints`` [T, I]; ``text_pool[text_offsets[i]:text_offsets[i+1]]``
    is token i's encoded patchId. ``out`` must be large enough (the wrapper bounds it).
    Returns the position after the last byte written.
    """
    count = text_offsets.shape[0] - 1
    steps = program.shape[0]
    for i in range(count):
        for k in range(steps):
            op = program[k, 0]
            a = program[k, 1]
            if op == OP_CONST:
                b = program[k, 2]
                for j in range(b):
                    out[pos + j] = pool[a + j]
                pos += b
            elif op == OP_FLOAT:
                cls = float_class[i, a]
                bits = float_bits[i, a]
                if cls == FLOAT_HALF:
                    out[pos] = 0xF9
                    width = 2
                elif cls == FLOAT_SINGLE:
                    out[pos] = 0xFA
                    width = 4
                else:
                    out[pos] = 0xFB
                    width = 8
                for j in range(width):
                    out[pos + width - j] = (bits >> (8 * j)) & 0xFF
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
                start = text_offsets[i]
                stop = text_offsets[i + 1]
                for j in range(stop - start):
                    out[pos + j] = text_pool[start + j]
                pos += stop - start
    return pos
