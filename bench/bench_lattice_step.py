"""Lattice step speed (issue: pat-export): fast kernel vs the straightforward numpy step.

For each grid: the fast kernel at the current numba thread count and at one thread, the
canonical reference kernel, and the naive numpy gather form of bench/naive_step.py, run
in the same process on the same state. Times are the best of several batches (the
machine may be shared); site updates per second = W·H / (seconds per step). The last
column checks that one naive step from the same state gives the fast kernel's float32
values (it sums in numpy's pairwise order, so a rare last-ulp difference would show).

"1-thr CPU" is the calling thread's CPU time per step with one numba thread: the
kernel's cost without the wait for a shared machine's other work.

Targets: ≥ 60 M site-updates/s at 512×512 on 2 cores and ≥ 20× the naive step; the
step is a fraction of the per-frame export budget (0.6 ms at 96², 4.7 ms at 256²).

Run: .venv/bin/python bench/bench_lattice_step.py [--sizes 96,256,512] [--repeat 7]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import best_per_call  # noqa: E402

import pattools.kernels._jit  # noqa: E402,F401  (the kernels' numba configuration, before numba)
import numba  # noqa: E402

from bench.naive_step import NaiveLattice, naive_step  # noqa: E402
from pattools.lattice.driver import step  # noqa: E402
from pattools.lattice.init import create_state  # noqa: E402
from pattools.lattice.params import LatticeParams  # noqa: E402

DT = 0.03


def cpu_per_step(fn, steps: int, repeat: int) -> float:
    """Best CPU seconds per step of the calling thread (one numba thread runs in it)."""
    fn()
    best = float("inf")
    for _ in range(repeat):
        start = time.thread_time()
        for _ in range(steps):
            fn()
        best = min(best, (time.thread_time() - start) / steps)
    return best


def measure(n: int, repeat: int, threads: int) -> dict:
    params = LatticeParams.preset()
    state = create_state(n, n, 1234, params)
    for _ in range(3):
        step(state, params, DT)
    batch = max(1, int(2e6 // (n * n)))
    out = {"n": n}
    numba.set_num_threads(threads)
    out["fast"] = best_per_call(lambda: step(state, params, DT), batch, repeat)
    numba.set_num_threads(1)
    out["fast1"] = best_per_call(lambda: step(state, params, DT), batch, repeat)
    out["cpu1"] = cpu_per_step(lambda: step(state, params, DT), batch, repeat)
    numba.set_num_threads(threads)
    ref = state.copy()
    out["ref"] = best_per_call(lambda: step(ref, params, DT, kernel="reference"), 1, max(1, min(repeat, 3)))
    naive = state.copy()
    lattice = NaiveLattice(naive, params)
    out["naive"] = best_per_call(lambda: naive_step(naive, lattice, DT), 1, max(1, min(repeat, 3)))
    a = state.copy()
    b = state.copy()
    step(a, params, DT)
    naive_step(b, lattice, DT)
    out["diff"] = sum(int((getattr(a, f).view(np.uint32) != getattr(b, f).view(np.uint32)).sum())
                      for f in ("phases", "surf_phi", "hyp_phi", "energy"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="96,256,512", help="grid sides, comma-separated")
    parser.add_argument("--repeat", type=int, default=7, help="timed batches per figure (best is kept)")
    args = parser.parse_args()
    threads = numba.get_num_threads()
    rows = [measure(int(s), args.repeat, threads) for s in args.sizes.split(",")]
    # the load average counts this process too; other work shows as load above the thread count
    load = os.getloadavg()[0]
    print(f"lattice step, dt {DT}, {threads} numba threads (threading layer {numba.threading_layer()}), "
          f"{os.cpu_count()} CPUs, load average {load:.1f} at the end")
    head = (f"{'grid':>9} {'fast ms':>9} {'M site/s':>9} {'1-thr ms':>9} {'1-thr CPU':>9} {'ref ms':>9} "
            f"{'naive ms':>10} {'×naive':>8} {'×ref':>7} {'naive≠':>7}")
    print(head)
    print("-" * len(head))
    for r in rows:
        n = r["n"]
        print(f"{n:>4}×{n:<4} {r['fast'] * 1e3:>9.3f} {n * n / r['fast'] / 1e6:>9.1f} {r['fast1'] * 1e3:>9.3f} "
              f"{r['cpu1'] * 1e3:>9.3f} "
              f"{r['ref'] * 1e3:>9.2f} {r['naive'] * 1e3:>10.1f} {r['naive'] / r['fast']:>8.1f} "
              f"{r['ref'] / r['fast']:>7.1f} {r['diff']:>7d}")
    by_n = {r["n"]: r for r in rows}
    if 512 in by_n:
        r = by_n[512]
        rate = 512 * 512 / r["fast"] / 1e6
        ratio = r["naive"] / r["fast"]
        print(f"512×512: {rate:.1f} M site-updates/s (target ≥ 60): {'ok' if rate >= 60 else 'MISSED'}; "
              f"{ratio:.0f}× naive (target ≥ 20): {'ok' if ratio >= 20 else 'MISSED'}")
        print(f"         one thread's CPU time per step: {r['cpu1'] * 1e3:.2f} ms = "
              f"{512 * 512 / r['cpu1'] / 1e6:.1f} M site-updates per CPU-second "
              f"(a machine shared with other work slows the wall-clock figures, not this one)")
    for n, budget in ((96, 0.6), (256, 4.7)):
        if n in by_n:
            ms = by_n[n]["fast"] * 1e3
            print(f"{n}×{n}: step {ms:.3f} ms = {100 * ms / budget:.0f}% of the {budget} ms per-frame export budget")


if __name__ == "__main__":
    main()
