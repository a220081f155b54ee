"""φ = atan2(sinT, cosT) of the token pass (kernels.phase_angle): libm's bits, also where
libm misrounds. The exhaustive check over every stored phase is bench/verify_phase_angle.py."""

from __future__ import annotations

import math

import numpy as np

from pattools.kernels import phase_angle as pa
from pattools.kernels._jit import kernel
from pattools.kernels.tokens import phase_fields_into

# phases whose (sinT, cosT) glibc's atan2 misrounds although the fast value is within its
# own error bound of being certain (one in 12 of the 736 in [0, f32(2π)], exhaustive
# search): only the GLIBC_ERR margin sends them to libm
MISROUNDED = [
    0x3d1feb91, 0x3d7fadc9, 0x3d7fb2a0, 0x3d87a999, 0x3d9f970e, 0x3d9f9e59, 0x3dc73777, 0x3dc73e7a,
    0x3dc74756, 0x3de6dbbd, 0x3de6e3ec, 0x3de6eb75, 0x3e033940, 0x3e034190, 0x3e2281c4, 0x3e229053,
    0x3e22969b, 0x3e419b5a, 0x3e41a39c, 0x3e41abfa, 0x3e640f82, 0x3e64175e, 0x3e8305f3, 0x3e831045,
    0x3e84f098, 0x3ea42b03, 0x3ea5ec52, 0x3ea5f35a, 0x3ec3e01d, 0x3ec7485c, 0x3ee3b4d9, 0x3eeefb0b,
    0x3ef86ee3, 0x3f0fb897, 0x3f2601e7, 0x3f2eaa74, 0x3f3ad121, 0x3f4607a3, 0x3f515465, 0x3f5b3d71,
    0x3f699a80, 0x3f7c0ecd, 0x3f97aa47, 0x3fa07861, 0x3fa66da4, 0x3faaa6f5, 0x3faf6751, 0x3fd87dc7,
    0x3fdf5644, 0x3fe42622, 0x3feca098, 0x3ff0bd36, 0x4016cc47, 0x403acd86, 0x40523f2d, 0x405d1f8b,
    0x4088f9d8, 0x408f316b, 0x409b24a4, 0x40abdd48, 0x40b258a6, 0x40bb72b7,
]


@kernel
def _libm_atan2(stp, ctp, out) -> None:
    for y in range(out.shape[0]):
        for x in range(out.shape[1]):
            out[y, x] = math.atan2(np.float64(stp[y + 1, x + 1]), np.float64(ctp[y + 1, x + 1]))


def _phi_and_libm(theta: np.ndarray, W: int) -> tuple[np.ndarray, np.ndarray]:
    H = theta.size // W
    cp, sp = np.empty((H + 6, W + 6)), np.empty((H + 6, W + 6))
    ctp, stp = np.empty((H + 2, W + 2), np.float32), np.empty((H + 2, W + 2), np.float32)
    php = np.empty((H + 2, W + 2))
    phase_fields_into(theta, W, H, True, 1, cp, sp, ctp, stp, php)
    expected = np.empty((H, W))
    _libm_atan2(stp, ctp, expected)
    return php[1:H + 1, 1:W + 1], expected


def _assert_bits_equal(theta: np.ndarray, W: int) -> None:
    got, expected = _phi_and_libm(theta, W)
    assert np.array_equal(got.view(np.int64), expected.view(np.int64)), theta.reshape(got.shape)[got != expected]


def test_misrounded_by_libm_take_libm():
    theta = np.array(MISROUNDED * 4, dtype=np.uint32).view(np.float32)
    _assert_bits_equal(theta, len(MISROUNDED))


def test_random_stored_phases():
    rng = np.random.default_rng(11)
    theta = (rng.random(1 << 20) * pa.TWO_PI_F32).astype(np.float32)
    theta[:8] = [0.0, -0.0, pa.TWO_PI_F32, math.pi / 2, math.pi, 3 * math.pi / 2, 1e-30, 2 * math.pi]
    _assert_bits_equal(theta, 1024)


def test_axes_octant_edges_and_table_points():
    # cosT or sinT tiny, |sinT| = |cosT|, u = k/256 exactly: around every multiple of π/4
    # and the table's angles
    centres = np.concatenate([np.arange(9) * (math.pi / 4), np.arctan(np.arange(257) / 256.0),
                              math.pi - np.arctan(np.arange(257) / 256.0)])
    bits = np.array(centres, dtype=np.float32).view(np.int32)[:, None] + np.arange(-64, 64)[None, :]
    theta = bits.astype(np.int32).view(np.float32).reshape(-1)
    theta = theta[(theta >= 0) & (theta <= pa.TWO_PI_F32)]
    theta = theta[: theta.size // 64 * 64]
    _assert_bits_equal(theta, 64)


def test_phases_outside_the_stored_range_take_libm():
    rng = np.random.default_rng(12)
    theta = np.concatenate([rng.standard_normal(4096) * 50.0, -rng.random(4096) * 7.0,
                            [np.nan, np.inf, -np.inf, 1e30]] + [np.zeros(60)]).astype(np.float32)
    _assert_bits_equal(theta, 64)


def test_table_is_atan_to_double_double():
    from fractions import Fraction

    for k in (0, 1, 37, 128, 255, 256):
        hi, lo = pa.ATAN_HI[k], pa.ATAN_LO[k]
        assert hi == math.atan(k / 256.0) or abs(hi - math.atan(k / 256.0)) <= math.ulp(hi)
        assert abs(lo) <= math.ulp(hi) / 2
    assert (pa._PI_HI, pa._PI_LO) == (math.pi, float.fromhex("0x1.1a62633145c07p-53"))
    # atan(1/2) by Machin-like identity: atan(1/2) = atan(1/3) + atan(1/7)
    third = pa._atan_fixed(1, 3, 200)
    seventh = pa._atan_fixed(1, 7, 200)
    half = pa._atan_fixed(128, 256, 200)
    assert abs(Fraction(third + seventh - half, 1 << 200)) < Fraction(1, 1 << 190)


def test_most_stored_phases_take_the_fast_path():
    if not pa.FAST_PATH:
        return  # not glibc: every cell takes libm by design
    rng = np.random.default_rng(13)
    n = 4096
    theta = (rng.random(n) * pa.TWO_PI_F32).astype(np.float32)
    sf = np.sin(theta.astype(np.float64)).astype(np.float32)
    cf = np.cos(theta.astype(np.float64)).astype(np.float32)
    ok = np.empty(n, dtype=np.bool_)
    scratch = (np.empty(n, np.int64), np.empty(n), np.empty(n), np.empty(n))
    pa.phase_angle_row(sf, cf, theta, np.empty(n), *scratch, ok)
    assert ok.mean() > 0.85
