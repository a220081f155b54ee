"""The step: fast kernel = canonical reference kernel = numpy twin, bit for bit (docs/design.md §4).

Every comparison is on the raw float32 bits of θ, φS, φH and E (and the noise stream
state), after every step.
"""

from __future__ import annotations

import numba
import numpy as np
import pytest

from pattools.errors import DataError, UsageError
from pattools.lattice.driver import step
from pattools.lattice.init import create_state
from pattools.lattice.modulators import Modulators
from pattools.lattice.params import LatticeParams
from tests import naive_lattice as naive

P = LatticeParams.preset()
FIELDS = ("phases", "surf_phi", "hyp_phi", "energy")


def assert_same(a, b, where=""):
    for name in FIELDS:
        x = getattr(a, name).view(np.uint32)
        y = getattr(b, name).view(np.uint32)
        assert np.array_equal(x, y), f"{where}: {name} differs in {(x != y).sum()} cells"
    assert a.noise_state == b.noise_state, where
    assert a.steps == b.steps


def random_mods(n, seed, scale=1.0, **gains):
    rng = np.random.default_rng(seed)
    arrays = [(rng.standard_normal(n) * scale * s).astype(np.float32) for s in (0.5, 0.5, 0.05, 0.05)]
    return Modulators(*arrays, **gains)


def run_both(state, steps, dt, params=P, **kw):
    fast = state
    ref = state.copy()
    for k in range(steps):
        step(fast, params, dt, **kw)
        step(ref, params, dt, kernel="reference", **kw)
        assert_same(fast, ref, f"step {k}")
    return fast, ref


@pytest.mark.parametrize("W,H,wrap", [(64, 64, True), (37, 23, True), (29, 31, False), (4, 4, True),
                                      (5, 6, True), (6, 4, False)])
def test_fast_equals_reference_short(W, H, wrap):
    run_both(create_state(W, H, W * 100 + H, P, wrap=wrap), 100 if W >= 29 else 30, 0.03)


def test_fast_equals_reference_odd_parameters():
    """Large, negative and zero couplings and a big dt push values through every wrap branch."""
    p = P.with_overrides({"K1": 3.0, "K2": 0.0, "K3": -2.0, "Kbase": 2.5, "swWeight": -4.0,
                          "surfPull": 9.0, "hypPull": -7.0, "energyDiff": 3.0, "sinkLine": -0.5,
                          "energyMax": 1.5})
    run_both(create_state(33, 21, 9, p), 40, 0.7, params=p)
    run_both(create_state(33, 21, 9, p), 20, -0.3, params=p)


def test_uncertifiable_inputs_fall_back_to_the_canonical_cells():
    """Phases far outside [0, 2π], NaN and ±inf must give the reference kernel's bytes."""
    state = create_state(32, 32, 5, P)
    state.phases[[3, 100, 517]] = [1.0e4, -300.0, 70.0]
    state.surf_phi[40] = np.nan
    state.hyp_phi[41] = np.inf
    state.energy[42] = -np.inf
    run_both(state, 5, 0.03)


def test_fast_equals_reference_with_modulators():
    state = create_state(48, 40, 77, P)
    mods = random_mods(48 * 40, 1)
    run_both(state, 60, 0.03, mods=mods)
    # strong gains: M_ij goes negative, α is large (beyond the sincos range in places)
    mods = random_mods(48 * 40, 2, scale=30.0, gamma_k=-1.5, beta_k=1.2, gamma_alpha=1.5, beta_alpha=-1.0)
    run_both(create_state(48, 40, 78, P, wrap=False), 30, 0.03, mods=mods)


@pytest.mark.parametrize("zero", ["A", "U", "both", "lag", "lag in some rows"])
@pytest.mark.parametrize("wrap", [True, False])
def test_fast_equals_reference_when_a_modulator_field_is_zero(zero, wrap):
    """A field that is zero everywhere is skipped by the fast kernel (an edit that only
    raises coherence has no U and no phase lag): the bytes stay the canonical kernel's."""
    n = 40 * 32
    mods = random_mods(n, 5, scale=3.0)
    if zero in ("A", "both"):
        mods.aact[:] = 0.0
    if zero in ("U", "both"):
        mods.uact[:] = -0.0
    if zero == "lag":
        mods.lap_a[:] = 0.0
        mods.div_u[:] = -0.0
    if zero == "lag in some rows":
        mods.lap_a[: n // 2] = 0.0
        mods.div_u[:] = 0.0
    run_both(create_state(40, 32, 21, P, wrap=wrap), 30, 0.03, mods=mods, noise_amp=0.02)


def test_zero_modulators_equal_no_modulators():
    n = 40 * 36
    a = create_state(40, 36, 11, P)
    b = a.copy()
    for k in range(50):
        step(a, P, 0.03)
        step(b, P, 0.03, mods=Modulators.zeros(n))
        assert_same(a, b, f"step {k}")
    c = create_state(40, 36, 11, P)
    for _ in range(5):
        step(c, P, 0.03, mods=Modulators.zeros(n), kernel="reference")
    d = create_state(40, 36, 11, P)
    for _ in range(5):
        step(d, P, 0.03)
    assert_same(c, d)


@pytest.mark.parametrize("with_mods", [False, True])
def test_noise_path(with_mods):
    W, H = 37, 29
    state = create_state(W, H, 3, P, noise_seed=0 if with_mods else 99)
    mods = random_mods(W * H, 4) if with_mods else None
    start = state.noise_state
    fast, _ref = run_both(state, 25, 0.03, mods=mods, noise_amp=0.8)
    assert fast.noise_state != start
    # the stream advanced by exactly N draws per step
    from pattools.lattice.rng import XorShift32, to_int32
    s = XorShift32(start)
    for _ in range(25 * W * H):
        s()
    assert fast.noise_state == to_int32(s.state)
    # noise really moved θ
    quiet = create_state(W, H, 3, P)
    for _ in range(25):
        step(quiet, P, 0.03, mods=mods)
    assert not np.array_equal(quiet.phases, fast.phases)


@pytest.mark.parametrize("W,H,wrap,mods,noise", [(24, 24, True, False, 0.0), (19, 13, False, False, 0.0),
                                                 (21, 17, True, True, 0.0), (16, 20, True, True, 0.5)])
def test_reference_kernel_equals_the_numpy_twin(W, H, wrap, mods, noise):
    state = create_state(W, H, 31, P, wrap=wrap)
    twin = naive.init(W, H, 31, wrap=wrap)
    table = naive.neighbour_table(W, H, wrap)
    m = random_mods(W * H, 5) if mods else None
    for k in range(12):
        step(state, P, 0.03, mods=m, noise_amp=noise, kernel="reference")
        naive.step(twin, 0.03, table=table, noise_amp=noise,
                   mods=None if m is None else (m.aact, m.uact, m.lap_a, m.div_u))
        for mine, theirs in [("phases", "theta"), ("surf_phi", "phi_s"), ("hyp_phi", "phi_h"),
                             ("energy", "energy")]:
            assert np.array_equal(getattr(state, mine).view(np.uint32), twin[theirs].view(np.uint32)), (k, mine)
        assert state.noise_state == twin["noise"]


def test_one_and_two_threads_give_identical_bytes():
    results = []
    before = numba.get_num_threads()
    try:
        for threads in (1, 2):
            numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
            state = create_state(64, 50, 8, P)
            mods = random_mods(64 * 50, 6)
            for _ in range(20):
                step(state, P, 0.03, mods=mods, noise_amp=0.2)
            for _ in range(20):
                step(state, P, 0.03)
            results.append(b"".join(getattr(state, f).tobytes() for f in FIELDS))
    finally:
        numba.set_num_threads(before)
    assert results[0] == results[1]


@pytest.mark.parametrize("bands", [1, 3, 7, 50])
def test_band_split_does_not_change_bytes(bands, monkeypatch):
    """Results depend on nothing but the state: any split of rows into bands gives the same bytes."""
    from pattools.kernels import lattice as kernels

    W, H = 41, 50
    mods = random_mods(W * H, 7)
    base = create_state(W, H, 12, P)
    for _ in range(10):
        step(base, P, 0.03, mods=mods, noise_amp=0.3)
    monkeypatch.setattr(kernels, "thread_count", lambda: bands)
    other = create_state(W, H, 12, P)
    for _ in range(10):
        step(other, P, 0.03, mods=mods, noise_amp=0.3)
    assert_same(base, other, f"{bands} bands")


def test_step_rejects_bad_arguments():
    state = create_state(8, 8, 1, P)
    with pytest.raises(UsageError, match="unknown lattice kernel"):
        step(state, P, 0.03, kernel="turbo")
    with pytest.raises(UsageError, match="dt"):
        step(state, P, float("nan"))
    with pytest.raises(UsageError, match="noise"):
        step(state, P, 0.03, noise_amp=-1.0)
    with pytest.raises(DataError, match="mods.uact"):
        mods = Modulators.zeros(64)
        mods.uact = np.zeros(63, np.float32)
        step(state, P, 0.03, mods=mods)
    assert state.steps == 0


@pytest.mark.slow
def test_fast_equals_reference_long_run():
    """docs/design.md §4: 256×256, 1,000 steps, zero differing float32 values."""
    fast = create_state(256, 256, 2024, P)
    ref = fast.copy()
    for k in range(1000):
        step(fast, P, 0.03)
        step(ref, P, 0.03, kernel="reference")
        if k % 50 == 49 or k == 999:
            assert_same(fast, ref, f"step {k}")
