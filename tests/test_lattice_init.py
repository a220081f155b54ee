"""createSimulation: seeds, draw order, small-world graph, memory (docs/lattice.md §1–3)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.naive_lattice import init as naive_init
from pattools.errors import UsageError
from pattools.lattice.init import create_state
from pattools.lattice.params import LatticeParams
from pattools.lattice.rng import (
    XorShift32, default_noise_seed, graph_seed, set_noise_seed, to_int32, xorshift32,
)

P = LatticeParams.preset()


def test_seed_examples_from_the_spec():
    assert graph_seed(96, 96, 1234) == 1255315
    assert graph_seed(96, 96, 0) == 25017
    assert default_noise_seed(96, 96, 1234) == -1752140359
    assert default_noise_seed(32, 32, 1312) == -1804173895
    # keys k and k + 32768 share a noise stream (only 15 bits survive key<<17)
    assert default_noise_seed(32, 32, 5) == default_noise_seed(32, 32, 5 + 32768)
    # the graph seed is summed in double, then ToInt32
    assert graph_seed(96, 96, 10**7) == to_int32(12345 + 2976 + 9696 + 997 * 10**7)
    assert set_noise_seed(0) == 123456789 and set_noise_seed(2**32 + 7) == 7


def test_xorshift_stream():
    s = XorShift32(0)
    assert s.state == 123456789
    u = s()
    assert s.state == xorshift32(123456789) and u == s.state / 4294967295.0
    assert xorshift32(0xFFFFFFFF) != 0
    # the output can be exactly 1.0 (state −1) but never 0
    assert XorShift32(-1).state / 4294967295.0 == 1.0


@pytest.mark.parametrize("W,H,key", [(96, 96, 1234), (32, 32, 1312)])
def test_small_world_edge_counts(W, H, key):
    state = create_state(W, H, key, P)
    assert state.sw_src.size == {(96, 96): 667, (32, 32): 70}[(W, H)]
    assert state.sw_ptr[-1] == state.sw_src.size
    assert set(np.unique(state.sw_sign)) <= {-1, 1}


@pytest.mark.parametrize("W,H,key,wrap", [(24, 24, 4242, True), (13, 9, -77, True), (20, 17, 5, False),
                                          (4, 4, 3, True), (40, 8, 2**40, True)])
def test_init_matches_the_naive_twin(W, H, key, wrap):
    state = create_state(W, H, key, P, wrap=wrap)
    twin = naive_init(W, H, key, wrap=wrap)
    for mine, theirs in [("phases", "theta"), ("omega_seeds", "oseed"), ("omegas", "omega"),
                         ("surf_phi", "phi_s"), ("hyp_phi", "phi_h"), ("surf_omega", "omega_s"),
                         ("hyp_omega", "omega_h"), ("energy", "energy")]:
        arr = getattr(state, mine)
        assert arr.dtype == np.float32 and arr.shape == (W * H,)
        assert np.array_equal(arr.view(np.uint32), twin[theirs].view(np.uint32)), mine
    edges = [[(int(state.sw_src[e]), int(state.sw_sign[e])) for e in range(state.sw_ptr[i], state.sw_ptr[i + 1])]
             for i in range(W * H)]
    assert edges == twin["edges"]
    assert np.array_equal(state.sw_dst, np.repeat(np.arange(W * H), np.diff(state.sw_ptr)))
    assert state.noise_state == twin["noise"]
    assert (state.rng_state & 0xFFFFFFFF) == twin["rng"]
    assert state.steps == 0 and state.wrap is wrap


def test_overridden_init_parameters_change_the_draws():
    p = P.with_overrides({"swProb": "0.5", "swEdgesPerNode": 1, "omegaSpread": 1.0, "energyBaseline": 0.5})
    state = create_state(24, 24, 4242, p)
    twin = naive_init(24, 24, 4242, sw_prob=0.5, per_node=1, spread=1.0, e0=0.5)
    assert np.array_equal(state.omegas, twin["omega"])
    assert state.sw_src.size == sum(len(e) for e in twin["edges"])
    assert np.all(state.energy == np.float32(0.5))


def test_noise_seed_argument():
    assert create_state(8, 8, 1, P).noise_state == default_noise_seed(8, 8, 1)
    assert create_state(8, 8, 1, P, noise_seed=42).noise_state == 42
    assert create_state(8, 8, 1, P, noise_seed=2**32).noise_state == 123456789


@pytest.mark.parametrize("W,H", [(3, 10), (10, 3), (0, 0), (-5, 8)])
def test_small_grids_are_usage_errors(W, H):
    with pytest.raises(UsageError, match="at least 4"):
        create_state(W, H, 1, P)


def test_non_integer_grid_or_seed_is_a_usage_error():
    with pytest.raises(UsageError):
        create_state(8.5, 8, 1, P)  # type: ignore[arg-type]
    with pytest.raises(UsageError):
        create_state(8, 8, "1", P)  # type: ignore[arg-type]


def test_megapixel_state_is_small():
    state = create_state(1024, 1024, 7, P)
    # eight float32 fields + CSR pointer (36 MB; few edges survive the distance test at this size),
    # far from an N×48 neighbour table (~400 MB)
    assert state.nbytes() < 48 * 2**20
    assert state.sw_src.size < 0.1 * 1024 * 1024
