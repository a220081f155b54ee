"""The wind (docs/lattice.md §6 item 4) in the step and as the delta decoder's energy channel.

- kernel: a zero field with etaV ≠ 0 gives the canonical kernel's bytes (with modulators and
  noise), etaV 0 the fast kernel's; the derivatives are the documented central differences;
  the energy advection is a flux (it moves energy, and a peak of A draws it in); no NaN
  without wrap; reruns are bit-identical;
- replay: off by default and then recorded as before; with --eta-v, zero-edit replay is the
  export, ``apply | replay`` ≡ ``replay --edit``, and an energy-up edit moves energy more.
"""

from __future__ import annotations

import io

import numpy as np
import pytest

from pattools.cli import apply as apply_cli
from pattools.cli import export as export_cli
from pattools.cli import replay as replay_cli
from pattools.io import read_records
from pattools.io.cbor import encode
from pattools.kernels import lattice_wind as KW
from pattools.lattice.driver import frame_wind, step
from pattools.lattice.init import create_state
from pattools.lattice.modulators import Modulators
from pattools.lattice.params import LatticeParams
from pattools.replay import decoders
from pattools.replay.settings import DecoderConstants
from tests.helpers import run_ok as ok

W, H = 32, 24
N = W * H
PARAMS = LatticeParams.preset()


def _state(wrap: bool = True):
    return create_state(W, H, 5, PARAMS, wrap=wrap, noise_seed=11)


def _mods(wind=None) -> Modulators:
    rng = np.random.default_rng(3)
    return Modulators(np.tanh(rng.random(N)).astype(np.float32), np.tanh(0.3 * rng.random(N)).astype(np.float32),
                      rng.normal(size=N).astype(np.float32), np.zeros(N, dtype=np.float32), wind=wind)


def _bump(amp: float = 40.0) -> np.ndarray:
    y, x = np.mgrid[0:H, 0:W]
    return (amp * np.exp(-((x - 16) ** 2 + (y - 12) ** 2) / 32.0)).astype(np.float32).reshape(-1)


@pytest.mark.parametrize("noise", [0.0, 0.05])
def test_zero_field_gives_the_canonical_step(noise):
    a, b = _state(), _state()
    for _ in range(6):
        step(a, PARAMS, 0.03, mods=_mods(), noise_amp=noise, kernel="reference")
        step(b, PARAMS, 0.03, mods=_mods(frame_wind(b, np.zeros(N, np.float32), 2.0)), noise_amp=noise)
    assert np.array_equal(a.phases, b.phases) and np.array_equal(a.energy, b.energy)
    assert np.array_equal(a.surf_phi, b.surf_phi) and a.noise_state == b.noise_state


def test_eta_zero_is_no_wind():
    a, b = _state(), _state()
    for _ in range(4):
        step(a, PARAMS, 0.03, mods=_mods())
        step(b, PARAMS, 0.03, mods=_mods(frame_wind(b, _bump(), 0.0)))
    assert np.array_equal(a.phases, b.phases) and np.array_equal(a.energy, b.energy)


def test_derivatives_are_central_differences():
    st = _state()
    A = _bump() + np.linspace(0, 1, N, dtype=np.float32)
    th = st.phases.astype(np.float64).reshape(H, W)
    a = A.astype(np.float64).reshape(H, W)

    def wrapped(d):
        return np.where(d > np.pi, d - 2 * np.pi, np.where(d <= -np.pi, d + 2 * np.pi, d))

    tx = 0.5 * wrapped(np.roll(th, -1, 1) - np.roll(th, 1, 1))
    ty = 0.5 * wrapped(np.roll(th, -1, 0) - np.roll(th, 1, 0))
    ax = 0.5 * (np.roll(a, -1, 1) - np.roll(a, 1, 1))
    ay = 0.5 * (np.roll(a, -1, 0) - np.roll(a, 1, 0))
    wind = frame_wind(st, A, 1.0)
    assert np.array_equal(wind.advect, (ax * tx + ay * ty).astype(np.float32).reshape(-1))
    lap = np.roll(a, 1, 1) + np.roll(a, -1, 1) + np.roll(a, 1, 0) + np.roll(a, -1, 0) - 4 * a
    np.testing.assert_allclose(wind.lap_a_raw, lap.reshape(-1), rtol=0, atol=1e-5)


def test_a_peak_draws_energy_in_and_keeps_the_total():
    plain, windy = _state(), _state()
    for _ in range(16):
        step(plain, PARAMS, 0.03, mods=_mods())
        step(windy, PARAMS, 0.03, mods=_mods(frame_wind(windy, _bump(), 1.0)))
    centre = (slice(9, 16), slice(13, 20))
    assert windy.energy.reshape(H, W)[centre].mean() > 1.3 * plain.energy.reshape(H, W)[centre].mean()
    assert abs(float(windy.energy.sum()) / float(plain.energy.sum()) - 1.0) < 0.01


def test_no_wrap_has_no_nan_and_reruns_are_identical():
    runs = []
    for _ in range(2):
        st = _state(wrap=False)
        for _ in range(5):
            step(st, PARAMS, 0.03, mods=_mods(frame_wind(st, _bump(), 1.5)))
        runs.append((st.phases.copy(), st.energy.copy()))
    assert np.all(np.isfinite(runs[0][0])) and np.all(np.isfinite(runs[0][1]))
    assert all(np.array_equal(x, y) for x, y in zip(*runs))


def test_kernel_laplacian_clamps_without_wrap():
    a = np.arange(N, dtype=np.float32)
    lap = KW.laplacian5(a, W, H, False).reshape(H, W)
    assert lap[0, 0] == 1.0 + W  # the left and upper neighbours clamp to the cell itself (0)


def test_wind_drive_is_energy_up_only():
    dstats = np.zeros((3, 7))
    dstats[:, 1] = [0.2, -0.2, 0.0]
    c = DecoderConstants()
    assert decoders.wind_drive(dstats, c).tolist() == [pytest.approx(0.2 * c.kWindE), 0.0, 0.0]


# ------------------------------------------------------------------ replay

SMALL = ("--W", "32", "--H", "32", "--scale", "16", "--frames", "4", "--spf", "3", "--seeds", "2")


def _records(data: bytes) -> list[dict]:
    return [r.document() for r in read_records(["-"], stdin=io.BytesIO(data))]


@pytest.fixture(scope="module")
def energy_case(tmp_path_factory):
    exported = ok(export_cli, ["--format", "cbor", *SMALL])
    sim = _records(exported)[0]["sim"]
    package = {"kind": "PAT_EDIT", "version": 1, "id": "up", "seed": 2, "sim": sim,
               "targets": [{"frame": f, "dpat": [{"patchId": "16,16,16", "stats": {"energy": 0.2}},
                                                 {"patchId": "0,0,16", "stats": {"energy": -0.1, "rho": 0.1}}]}
                           for f in (1, 2)],
               "repro": {"dt": sim["dt"], "stepsPerFrame": sim["stepsPerFrame"], "scale": sim["scale"],
                         "noiseSeed": sim["noiseSeed"]}}
    edit = tmp_path_factory.mktemp("wind") / "e.cbor"
    edit.write_bytes(encode(package))
    return exported, str(edit)


def test_zero_edit_replay_with_wind_is_the_export(energy_case):
    exported, _ = energy_case
    out = _records(ok(replay_cli, ["--eta-v", "1", "--format", "cbor"], exported))
    assert [{k: v for k, v in r.items() if k != "replay"} for r in out] == _records(exported)
    assert out[0]["replay"]["gains"]["etaV"] == 1.0 and "kWindE" in out[0]["replay"]["constants"]


def test_apply_then_replay_equals_replay_with_edit(energy_case):
    exported, edit = energy_case
    applied = ok(apply_cli, ["--edit", edit, "--format", "cbor"], exported)
    flags = ["--eta-v", "1", "--format", "cbor"]
    via_apply = ok(replay_cli, flags, applied)
    assert via_apply == ok(replay_cli, ["--edit", edit, *flags], exported)
    assert via_apply == ok(replay_cli, ["--edit", edit, *flags], exported)  # reruns: same bytes


def test_wind_is_off_by_default_and_draws_energy_in(energy_case):
    exported, edit = energy_case
    calm = _records(ok(replay_cli, ["--edit", edit, "--format", "cbor"], exported))
    windy = _records(ok(replay_cli, ["--edit", edit, "--eta-v", "1", "--format", "cbor"], exported))
    assert "etaV" not in calm[1]["replay"]["gains"] and "kWindE" not in calm[1]["replay"]["constants"]

    def energy(records, frame):
        return next(t["stats"]["energy"] for t in records[frame]["tokens"] if t["hdr"]["patchId"] == "16,16,16")

    assert calm[0] == {**windy[0], "replay": calm[0]["replay"]}  # before the edit: the same frame
    assert energy(windy, 2) > energy(calm, 2)


# sha256 of θ, E and the layers after each of 3 frames × 2 steps of a windy run on the
# 32×24 grid above (wrap and not, noise 0.05): pins the wind's bytes, which no golden covers
WINDY_RUN_SHA256 = "079e723c683de7c62653d8845a0e61b75829ecea994f0656e69fd7d2d47dfcb4"


def test_windy_run_bytes_are_pinned():
    import hashlib

    digest = hashlib.sha256()
    for wrap in (True, False):
        st = _state(wrap)
        for _ in range(3):
            mods = _mods(frame_wind(st, _bump(), 1.5))
            for _ in range(2):
                step(st, PARAMS, 0.03, mods=mods, noise_amp=0.05)
            for values in (st.phases, st.energy, st.surf_phi, st.hyp_phi):
                digest.update(values.tobytes())
    assert digest.hexdigest() == WINDY_RUN_SHA256
