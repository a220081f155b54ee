"""The original's two xorshift32 streams and their seeds (docs/lattice.md §1).

Both streams are the 13/17/5 xorshift32 on a 32-bit state, with outputs
``uint32(x) / 0xFFFFFFFF`` in (0, 1] (1.0 is possible, 0 is not). A zero state is
replaced by 123456789. States are kept as signed int32 Python ints, as the original
stores them; the bulk draws run in ``pattools.kernels.lattice_rng``.
"""

from __future__ import annotations

import math

ZERO_SEED_REPLACEMENT = 123456789
U32_MAX = 4294967295.0


def to_int32(value: float | int) -> int:
    """JS ToInt32: truncate toward zero, wrap modulo 2**32, read as signed."""
    if isinstance(value, float):
        if not math.isfinite(value):
            return 0
        value = int(value)  # truncates toward zero
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >= (1 << 31) else value


def to_uint32(value: int) -> int:
    return int(value) & 0xFFFFFFFF


def graph_seed(W: int, H: int, key: int) -> int:
    """Seed of the graph/initial-state stream: int32(12345 + 31W + 101H + 997·key), summed in double."""
    total = 12345.0 + 31.0 * W
    total = total + 101.0 * H
    total = total + 997.0 * float(key)
    seed = to_int32(total)
    return seed if seed != 0 else ZERO_SEED_REPLACEMENT


def default_noise_seed(W: int, H: int, key: int) -> int:
    """Initial noise state: int32(0x9E3779B9 ^ (W<<5) ^ (H<<11) ^ (key<<17)) in int32 arithmetic."""
    golden = to_int32(0x9E3779B9)
    value = golden ^ to_int32(to_int32(W) << 5) ^ to_int32(to_int32(H) << 11)
    value ^= to_int32(to_int32(key) << 17)
    return to_int32(value)


def set_noise_seed(seed: int) -> int:
    """The original's setNoiseSeed: ``(s|0) || 123456789``."""
    return to_int32(seed) or ZERO_SEED_REPLACEMENT


def xorshift32(state: int) -> int:
    """One 13/17/5 update of a 32-bit state (given and returned as unsigned)."""
    x = state & 0xFFFFFFFF
    x ^= (x << 13) & 0xFFFFFFFF
    x ^= x >> 17
    x ^= (x << 5) & 0xFFFFFFFF
    return x


class XorShift32:
    """A plain-Python stream, for small draws and for tests (bulk draws are kernels)."""

    def __init__(self, seed: int) -> None:
        state = to_uint32(to_int32(seed))
        self.state = state if state != 0 else ZERO_SEED_REPLACEMENT

    def __call__(self) -> float:
        self.state = xorshift32(self.state)
        return self.state / U32_MAX

    @property
    def state_int32(self) -> int:
        return to_int32(self.state)
