"""pat-export's per-frame cost at 96x96 (scale 32, one step per frame), in process, on one
thread: the whole path (``LatticeFrames.step`` + ``.frame``) and each numba kernel it
runs, on the real planes of a running lattice. Times are the best batch mean (µs per
call) of ``--rounds`` batches of ``--batch`` calls. ``--digest`` prints a hash of the
bytes of ``--frames`` frames (tokens, metrics, state) to compare two versions' output.

Run: .venv/bin/python bench/bench_frame_kernels.py [--rounds 7] [--batch 2000] [--digest] [--quick]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import best_per_call  # noqa: E402

import pattools.kernels._jit  # noqa: E402,F401  (the kernels' numba configuration, before numba)
import numba  # noqa: E402

from pattools.kernels import lattice as KL  # noqa: E402
from pattools.kernels import metrics as km  # noqa: E402
from pattools.kernels import patches as kp  # noqa: E402
from pattools.kernels import tokens as kt  # noqa: E402
from pattools.lattice.init import create_state  # noqa: E402
from pattools.lattice.params import LatticeParams  # noqa: E402
from pattools.simulation.frames import LatticeFrames  # noqa: E402

W = H = 96
SCALE = 32


def best_us(fn, rounds: int, batch: int) -> float:
    return best_per_call(fn, batch, rounds) * 1e6


def make_run(warm: int = 50) -> LatticeFrames:
    params = LatticeParams.preset()
    state = create_state(W, H, 1234, params, wrap=True, noise_seed=0)
    run = LatticeFrames(state, params, 0.03, scale=SCALE)
    for k in range(warm):
        run.step()
        run.frame((k + 1) * 0.03)
    return run


def digest(frames: int) -> str:
    run = make_run(0)
    h = hashlib.sha256()
    for k in range(frames):
        run.step()
        built = run.frame((k + 1) * 0.03)
        tok = built.tokens
        for arr in (tok.t, tok.scale, tok.geom, tok.stats, tok.topo, tok.rvq, built.patch_defects):
            h.update(np.ascontiguousarray(arr).tobytes())
        h.update(repr(built.metrics).encode())
        st = run.state
        for arr in (st.phases, st.energy, st.surf_phi, st.hyp_phi):
            h.update(arr.tobytes())
    return h.hexdigest()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--batch", type=int, default=2000)
    ap.add_argument("--digest", action="store_true")
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--quick", action="store_true", help="2 rounds of 20 calls (a smoke run)")
    args = ap.parse_args()
    if args.quick:
        args.rounds, args.batch, args.frames = 2, 20, 20
    numba.set_num_threads(1)
    if args.digest:
        print("digest", digest(args.frames))
        return
    run = make_run()
    counter = [0]

    def frame_path():
        run.step()
        counter[0] += 1
        run.frame(counter[0] * 0.03)

    st = run.state
    ws = run.workspace
    n = W * H
    bands = 1
    theta = st.phases
    e = st.energy
    no_a = np.zeros(1, np.float32)
    k4 = run.weights
    s_out = np.empty(n)
    c_out = np.empty(n)
    results = {"frame_path (step+frame)": best_us(frame_path, args.rounds, args.batch)}

    # the step on a fixed copy of the state, fed the real shared planes (what the path runs)
    theta0 = theta.copy()
    kt.frame_reduce(theta, e, no_a, False, W, H, True, SCALE, bands, True, ws.cp, ws.sp, ws.ctp, ws.stp, ws.php,
                    ws.rho, ws.ex, ws.ey, ws.dsign, k4, ws.step_s, ws.step_c)
    pre_s0 = ws.step_s.copy()
    pre_c0 = ws.step_c.copy()
    sines = np.empty((2, n))
    copies = [a.copy() for a in (st.phases, st.surf_phi, st.hyp_phi, st.energy)]
    scratch = np.empty(n, np.float32)
    empty = np.zeros(0, np.float32)
    ps = pre_s0.copy()
    pc = pre_c0.copy()
    th = copies[0].copy()
    fs = copies[1].copy()
    fh = copies[2].copy()
    en = copies[3].copy()

    def run_step(sines_given: bool) -> None:
        KL.step_fast(th, st.omegas, fs, st.surf_omega, fh, st.hyp_omega, en, scratch, W, H, True, st.sw_ptr,
                     st.sw_src, st.sw_sign, st.sw_dst, run.coef, False, empty, empty, empty, empty,
                     np.zeros(6), 0.0, 0.0, np.zeros(1, np.int64), 1, ps, pc, ws.sp, ws.cp, sines, sines_given)

    run_step(False)

    def step_only():
        ps[:] = pre_s0
        pc[:] = pre_c0
        th[:] = copies[0]
        run_step(True)

    def copies_only():
        ps[:] = pre_s0
        pc[:] = pre_c0
        th[:] = copies[0]

    results["step_fast (incl. 3 copies)"] = best_us(step_only, args.rounds, args.batch)
    results["  the 3 copies"] = best_us(copies_only, args.rounds, args.batch)
    results["frame_reduce"] = best_us(
        lambda: kt.frame_reduce(theta0, e, no_a, False, W, H, True, SCALE, bands, True, ws.cp, ws.sp, ws.ctp,
                                ws.stp, ws.php, ws.rho, ws.ex, ws.ey, ws.dsign, k4, s_out, c_out),
        args.rounds, args.batch)
    results["  phase_fields_into"] = best_us(
        lambda: kt.phase_fields_into(theta0, W, H, True, bands, ws.cp, ws.sp, ws.ctp, ws.stp, ws.php),
        args.rounds, args.batch)
    results["  rho_step_terms_into"] = best_us(
        lambda: km.rho_step_terms_into(ws.cp, ws.sp, theta0, W, H, True, bands, ws.rho, ws.ex, ws.ey, ws.dsign,
                                       k4, s_out, c_out), args.rounds, args.batch)
    results["  frame_sums"] = best_us(
        lambda: kt.frame_sums(ws.rho, ws.ex, ws.ey, ws.dsign, e, W, H, True), args.rounds, args.batch)
    results["  patch_reduce"] = best_us(
        lambda: kp.patch_reduce(ws.ctp, ws.stp, ws.php, e, no_a, False, W, H, SCALE), args.rounds, args.batch)
    for name, us in results.items():
        print(f"{name:30s} {us:8.1f} us")


if __name__ == "__main__":
    main()
