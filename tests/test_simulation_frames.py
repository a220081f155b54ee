"""LatticeFrames (the token pass hands its sin/cos planes and box sums to the next lattice
step) gives the bytes of ``step`` followed by ``build_frame``, state and tokens."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from pattools.lattice.driver import step
from pattools.lattice.init import create_state
from pattools.lattice.params import LatticeParams
from pattools.tokens.build import build_frame
from pattools.simulation.frames import LatticeFrames
from tests.test_lattice_step import assert_same

P = LatticeParams.preset()


def _plain_and_shared(W, H, *, wrap=True, noise=0.0, params=P, scale=16, frames=12, skip=(), spf=1):
    plain = create_state(W, H, 5, params, wrap=wrap, noise_seed=3)
    shared = create_state(W, H, 5, params, wrap=wrap, noise_seed=3)
    run = LatticeFrames(shared, params, 0.03, noise_amp=noise, scale=scale)
    for frame in range(frames):
        for _ in range(spf):
            step(plain, params, 0.03, noise_amp=noise)
            run.step()
        assert_same(plain, shared, f"frame {frame}")
        if frame in skip:
            continue
        expected = build_frame(plain.phases, plain.energy, W, H, scale, 0.5, wrap=wrap)
        got = run.frame(0.5)
        assert got.tokens.to_tokens() == expected.tokens.to_tokens()
        assert got.metrics == expected.metrics
        assert np.array_equal(got.patch_defects, expected.patch_defects)


@pytest.mark.parametrize("W,H,wrap", [(48, 40, True), (37, 23, False), (9, 13, True), (4, 4, True), (6, 5, False)])
def test_shared_work_gives_the_same_bytes(W, H, wrap):
    _plain_and_shared(W, H, wrap=wrap, scale=8)


def test_noise_skipped_frames_and_several_steps_per_frame():
    _plain_and_shared(40, 32, noise=0.3, skip=(2, 3, 7), spf=2)
    _plain_and_shared(40, 32, noise=0.1, skip=(0,), spf=1)


def test_odd_coupling_parameters():
    params = P.with_overrides({"K1": "0.7", "K2": "-0.35", "K3": "0.1", "swWeight": "0.4"})
    _plain_and_shared(33, 30, params=params, frames=8)


def test_two_threads():
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        _plain_and_shared(64, 50, noise=0.05, frames=8)
    finally:
        numba.set_num_threads(before)


def test_sin_only_is_odd_holds_where_it_says_so():
    import math

    from pattools.kernels.lattice_sincos import sin_only, sin_only_is_odd

    rng = np.random.default_rng(3)
    xs = list(rng.uniform(-63.0, 63.0, 20000))
    for k in range(-39, 40, 2):  # around odd multiples of π/2, where the reduction ties
        centre = k * math.pi / 2
        xs += [centre + step * math.ulp(centre) for step in range(-64, 64)]
    flagged = 0
    for x in xs:
        if sin_only_is_odd(x):
            assert sin_only(-x) == -sin_only(x), x
        else:
            flagged += 1
    assert flagged > 0


def test_layer_rows_with_missing_sines_take_the_canonical_update():
    from pattools.kernels.lattice import _layer_row
    from pattools.kernels.lattice_sincos import sin_only

    rng = np.random.default_rng(4)
    W = 256
    th = (rng.random(W) * 6.28).astype(np.float32)
    om = ((rng.random(W) - 0.5) * 0.2).astype(np.float32)
    phi0 = (rng.random(W) * 6.28).astype(np.float32)
    okv = np.empty(W, dtype=np.bool_)
    computed = phi0.copy()
    _layer_row(computed, om, th, W, 0.4, 0.03, okv, np.zeros(0))
    sines = np.array([sin_only(np.float64(p) - np.float64(t)) for p, t in zip(phi0, th)])
    sines[::7] = np.nan  # as where the reduction would tie: those cells take the canonical update
    given = phi0.copy()
    _layer_row(given, om, th, W, 0.4, 0.03, okv, sines)
    assert np.array_equal(computed.view(np.uint32), given.view(np.uint32))
    assert not okv[::7].any()


def test_modulated_steps_in_between_are_noticed():
    # pat-replay interleaves LatticeFrames steps with modulated driver.step calls
    from tests.test_lattice_step import random_mods

    W, H = 36, 28
    mods = random_mods(W * H, 9)
    plain = create_state(W, H, 6, P)
    shared = create_state(W, H, 6, P)
    run = LatticeFrames(shared, P, 0.03, scale=8)
    for frame in range(10):
        modulated = frame % 3 == 1
        for state in (plain, shared):
            if modulated:
                step(state, P, 0.03, mods=mods)
        if not modulated:
            step(plain, P, 0.03)
            run.step()
        assert_same(plain, shared, f"frame {frame}")
        expected = build_frame(plain.phases, plain.energy, W, H, 8, 0.5)
        assert run.frame(0.5).tokens.to_tokens() == expected.tokens.to_tokens()
