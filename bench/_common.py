"""Shared bench helpers: whole-process timing and synthetic PAT frames."""

from __future__ import annotations

import math
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / "bin"


def env() -> dict[str, str]:
    e = dict(os.environ)
    # timed as installed: pattools' modules load from their bytecode (written by the first run)
    e.pop("PYTHONDONTWRITEBYTECODE", None)
    e["PATTOOLS_PYTHON"] = sys.executable
    e["PYTHONPATH"] = str(ROOT)
    return e


def timed(argv: list[str], *, stdin_path: Path | None = None, repeat: int = 3) -> tuple[float, int]:
    """Best wall time (s) of ``repeat`` whole-process runs with stdout to /dev/null, and peak RSS (KiB)."""
    best = math.inf
    peak = 0
    for _ in range(repeat):
        stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        start = time.perf_counter()
        subprocess.run(argv, stdin=stdin, stdout=subprocess.DEVNULL, check=True, env=env())
        best = min(best, time.perf_counter() - start)
        peak = max(peak, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before)
        if stdin_path:
            stdin.close()
    return best, peak


def best_per_call(fn, calls: int, repeat: int) -> float:
    """Best seconds per call over ``repeat`` batches of ``calls`` calls (after one warm-up call)."""
    fn()
    best = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter() - start) / calls)
    return best


def median_seconds(argv: list[str], repeat: int) -> float:
    """Median wall time of ``repeat`` whole-process runs, stdout to /dev/null."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, check=True, env=env())
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def synthetic_frame(seed: int, frame: int, W: int, H: int, scale: int, rng: np.random.Generator) -> dict:
    tokens = []
    for y0 in range(0, H, scale):
        for x0 in range(0, W, scale):
            v = int(rng.integers(-1, 2))
            tokens.append({
                "hdr": {"t": (frame + 1) * 0.03, "scale": scale, "patchId": f"{x0},{y0},{scale}"},
                "geom": {"A": 1.0, "phi_gf": float(rng.uniform(-3, 3)), "theta": float(rng.uniform(-1.5, 1.5)),
                         "gradPhi": float(rng.uniform(0, 2)), "kappa": float(rng.uniform(0, 3))},
                "stats": {"rho": float(rng.uniform()), "energy": float(rng.uniform()),
                          "entropyRate": float(rng.uniform()), "arousal": 0.5, "valence": 0.25,
                          "attnMean": 0.0, "attnVar": 0.0},
                "topo": {"vortex": v, "chirality": v},
                "code": {"rvq": [int(c) for c in rng.integers(0, 4, size=5)]},
            })
    return {"kind": "PAT_FRAME", "version": 1, "seed": seed, "frame": frame,
            "sim": {"preset": "andres-net-export", "W": W, "H": H, "dt": 0.03, "stepsPerFrame": 1, "scale": scale,
                    "wrap": True, "noiseAmp": 0.0, "noiseSeed": 0, "params": {}},
            "tokens": tokens}


def add_study_arguments(parser, default_set: Path) -> None:
    """--set, --seeds, --etaV and a --<k> flag per delta-decoder constant (edit-study benchmarks)."""
    from pattools.replay.settings import CONSTANT_NAMES, DecoderConstants

    defaults = DecoderConstants()
    for name in CONSTANT_NAMES:
        parser.add_argument(f"--{name}", type=float, default=getattr(defaults, name))
    parser.add_argument("--etaV", type=float, default=0.0, help="the wind's gain (0: no wind)")
    parser.add_argument("--set", default=str(default_set))
    parser.add_argument("--seeds", default="")


def study_from_args(args):
    """The prompt set (with --seeds applied) and the replay options the flags describe."""
    from pattools.replay.driver import ReplayOptions
    from pattools.replay.settings import CONSTANT_NAMES, DecoderConstants, Gains
    from pattools.score.study import PromptSet

    constants = DecoderConstants(**{name: getattr(args, name) for name in CONSTANT_NAMES})
    ps = PromptSet.load(args.set)
    if args.seeds:
        ps = ps.with_seeds(tuple(int(s) for s in args.seeds.split(",")))
    return ps, ReplayOptions(gains=Gains(etaV=args.etaV), constants=constants)
