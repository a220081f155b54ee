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
from pattools.tokens.lattice_frames import LatticeFrames
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
