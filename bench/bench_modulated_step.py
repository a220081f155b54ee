"""The fast lattice step with modulators (what pat-replay --edit steps), by which fields an
edit turns on: none, A only (a coherence increase), A with a phase lag, A, U and a lag.

A field that is zero everywhere (A, U) and a row without phase lag skip their part of the
modulated step (pattools.kernels.lattice), so "A only" should cost less than "A+U+lag".
Milliseconds per step: best of 5 batches of 300 steps, in process, 96×96 by default.

Run: .venv/bin/python bench/bench_modulated_step.py [--size N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pattools.lattice.driver import step  # noqa: E402
from pattools.lattice.init import create_state  # noqa: E402
from pattools.lattice.modulators import Modulators  # noqa: E402
from pattools.lattice.params import LatticeParams  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=96)
    args = parser.parse_args()
    params = LatticeParams.preset()
    n = args.size * args.size
    state = create_state(args.size, args.size, 1234, params)
    rng = np.random.default_rng(1)
    a = np.tanh(np.abs(rng.normal(size=n))).astype(np.float32)
    lag = (0.1 * rng.normal(size=n)).astype(np.float32)
    zero = np.zeros(n, np.float32)
    cases = {"no modulators": None, "A only": Modulators(a, zero, zero, zero),
             "A + lag": Modulators(a, zero, lag, zero), "A + U + lag": Modulators(a, a, lag, zero)}
    print(f"{args.size}x{args.size}, ms per step (best of 5 x 300 steps)")
    for name, mods in cases.items():
        for _ in range(20):  # compile and warm up
            step(state, params, 0.03, mods=mods)
        best = float("inf")
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(300):
                step(state, params, 0.03, mods=mods)
            best = min(best, (time.perf_counter() - start) / 300 * 1e3)
        print(f"  {name:14s} {best:.3f}")


if __name__ == "__main__":
    main()
