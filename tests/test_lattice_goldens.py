"""The two recorded trajectories of the original program, bit for bit (docs/lattice.md §11).

Frame k is the state after k+1 steps; the 24×24 golden stores energy subsampled as
E[2y·W + 2x]. Both kernels must reproduce phases and energy of every frame exactly.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from pattools.lattice.driver import step
from pattools.lattice.init import create_state
from pattools.lattice.params import LatticeParams

GOLDENS = Path(__file__).parent / "data" / "goldens"
CASES = [
    ("baseline_24x24_f6_dt003.json", 4242, 0.03, 2),
    ("baseline_16x16_f8_dt002.json", 1111, 0.02, 1),
]


def _f32(values):
    # JSON holds the float32 values widened to double, so this conversion is exact
    arr = np.array(values, dtype=np.float64)
    out = arr.astype(np.float32)
    assert np.array_equal(out.astype(np.float64), arr)
    return out


@pytest.mark.parametrize("kernel", ["fast", "reference"])
@pytest.mark.parametrize("name,key,dt,stride", CASES)
def test_golden_trajectory_bit_exact(name, key, dt, stride, kernel):
    golden = json.loads((GOLDENS / name).read_text())
    W, H = golden["meta"]["W"], golden["meta"]["H"]
    assert golden["meta"]["frames"] == len(golden["frames"])
    params = LatticeParams.preset()
    state = create_state(W, H, key, params)
    for k, frame in enumerate(golden["frames"]):
        assert frame["t"] == k
        step(state, params, dt, kernel=kernel)
        energy = state.energy.reshape(H, W)[::stride, ::stride].ravel()
        assert np.array_equal(state.phases.view(np.uint32), _f32(frame["phases"]).view(np.uint32)), k
        assert np.array_equal(energy.view(np.uint32), _f32(frame["energy"]).view(np.uint32)), k
    assert state.steps == len(golden["frames"])
