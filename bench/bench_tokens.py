"""build_frame figures (issue: pat-export): tokens + affect + computeMetrics per frame at
96×96, 256×256 and 1024×1024 (scale 32), with a per-stage breakdown and the lattice step
for comparison, at the current numba thread count and at one thread, plus the reference
kernels. Fields are lattice states after a few steps. Times are the best of N runs
(wall clock), so they approach the unloaded machine's figures.

Run: .venv/bin/python bench/bench_tokens.py [--repeat N] [--sizes 96,256,1024]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pattools.kernels._jit  # noqa: E402,F401  (the kernels' numba configuration, before numba)
import numba  # noqa: E402

from pattools.kernels.metrics import metric_sums, rho_terms_into  # noqa: E402
from pattools.kernels.patches import patch_reduce  # noqa: E402
from pattools.kernels.planes import band_count  # noqa: E402
from pattools.kernels.tokens import energy_sums, phase_fields_into  # noqa: E402
from pattools.tokens.build import _workspace, build_frame  # noqa: E402


def best_ms(fn, repeat: int) -> float:
    fn()
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best * 1e3


def stages(th, e, W, H, scale, repeat):
    """Per-kernel best times on the reused workspace planes, as build_frame runs them."""
    bands = band_count(H)
    ws = _workspace(W, H)
    planes = (ws.cp, ws.sp, ws.ctp, ws.stp, ws.php)
    terms = (ws.rho, ws.ex, ws.ey, ws.dsign)
    phase_fields_into(th, W, H, True, bands, *planes)
    rho_terms_into(ws.cp, ws.sp, th, W, H, True, bands, *terms)
    a = np.zeros(1, np.float32)
    return {
        "phase_fields": best_ms(lambda: phase_fields_into(th, W, H, True, bands, *planes), repeat),
        "rho_terms": best_ms(lambda: rho_terms_into(ws.cp, ws.sp, th, W, H, True, bands, *terms), repeat),
        "metric_sums": best_ms(lambda: metric_sums(*terms), repeat),
        "energy_sums": best_ms(lambda: energy_sums(e, W, H), repeat),
        "patch_reduce": best_ms(lambda: patch_reduce(ws.ctp, ws.stp, ws.php, e, a, False, W, H, scale), repeat),
    }


def lattice_fields(W, H):
    from pattools.lattice.driver import step
    from pattools.lattice.init import create_state
    from pattools.lattice.params import LatticeParams

    params = LatticeParams.preset()
    state = create_state(W, H, 1234, params)
    for _ in range(3):
        step(state, params, 0.03)
    return state.phases, state.energy, (lambda: step(state, params, 0.03))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--sizes", default="96,256,1024")
    parser.add_argument("--scale", type=int, default=32)
    options = parser.parse_args()
    threads = numba.get_num_threads()
    for size in [int(s) for s in options.sizes.split(",")]:
        W = H = size
        th, e, one_step = lattice_fields(W, H)
        th = th.copy()
        e = e.copy()
        repeat = max(5, options.repeat // 8) if size > 256 else options.repeat
        for n in sorted({threads, 1}, reverse=True):
            numba.set_num_threads(n)
            built = best_ms(lambda: build_frame(th, e, W, H, options.scale, 0.03), repeat)
            stepped = best_ms(one_step, repeat)
            parts = stages(th, e, W, H, options.scale, repeat)
            detail = "  ".join(f"{k} {v:.3f}" for k, v in parts.items())
            print(f"{W}x{H} scale {options.scale} threads {n}: build_frame {built:8.3f} ms   "
                  f"(lattice step {stepped:.3f} ms)   [{detail}]")
        if size <= 256:
            ref = best_ms(lambda: build_frame(th, e, W, H, options.scale, 0.03, kernel="reference"), repeat)
            print(f"{W}x{H} scale {options.scale} threads {threads}: build_frame kernel=reference {ref:8.3f} ms")
        numba.set_num_threads(threads)


if __name__ == "__main__":
    main()
