"""Shared test helpers: run commands as a user would, and build hand-made PAT frames."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / "bin"
DATA = Path(__file__).resolve().parent / "data"
SHARED = ROOT.parent / "shared"


def command_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATTOOLS_PYTHON"] = sys.executable
    env.pop("COLUMNS", None)
    return env


def run(command: str, *args: str, input: bytes | None = None, check: bool = False,
        cwd: str | Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run bin/<command> with args in a real subprocess; stdout/stderr captured as bytes."""
    result = subprocess.run([str(BIN / command), *args], input=input, capture_output=True,
                            env=command_env(), cwd=cwd, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"{command} {' '.join(args)} exited {result.returncode}:\n"
                             f"{result.stderr.decode(errors='replace')}")
    return result


def shell(script: str, *, cwd: str | Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run a bash pipeline with bin/ first on PATH (pipefail on)."""
    env = command_env()
    env["PATH"] = f"{BIN}{os.pathsep}{env['PATH']}"
    return subprocess.run(["bash", "-o", "pipefail", "-c", script], capture_output=True, env=env,
                          cwd=cwd, timeout=timeout)


def sim_block(W: int = 96, H: int = 96, scale: int = 32, dt: float = 0.03, steps: int = 1) -> dict:
    return {"preset": "andres-net-export", "W": W, "H": H, "dt": dt, "stepsPerFrame": steps,
            "scale": scale, "wrap": True, "noiseAmp": 0.0, "noiseSeed": 0, "params": {}}


def make_frame(seed: int = 1234, frame: int = 0, W: int = 96, H: int = 96, scale: int = 32,
               rng: np.random.Generator | None = None) -> dict:
    """A schema-valid PAT_FRAME with random token values (not a simulation result)."""
    rng = rng or np.random.default_rng(seed * 1000 + frame)
    tokens = []
    for y0 in range(0, H, scale):
        for x0 in range(0, W, scale):
            vortex = int(rng.integers(-1, 2))
            tokens.append({
                "hdr": {"t": (frame + 1) * 0.03, "scale": scale, "patchId": f"{x0},{y0},{scale}"},
                "geom": {"A": 1.0, "phi_gf": float(rng.uniform(-math.pi, math.pi)),
                         "theta": float(rng.uniform(-math.pi / 2, math.pi / 2)),
                         "gradPhi": float(rng.uniform(0, 2)), "kappa": float(rng.uniform(0, 3))},
                "stats": {"rho": float(rng.uniform()), "energy": float(rng.uniform()),
                          "entropyRate": float(rng.uniform()), "arousal": 0.5, "valence": 0.25,
                          "attnMean": 0.0, "attnVar": 0.0},
                "topo": {"vortex": vortex, "chirality": vortex},
                "code": {"rvq": [int(v) for v in rng.integers(0, 4, size=5)]},
            })
    return {"kind": "PAT_FRAME", "version": 1, "seed": seed, "frame": frame, "sim": sim_block(W, H, scale),
            "tokens": tokens}


def peak_rss_kib(argv: list[str], stdin_path: str | Path | None = None) -> int:
    """Peak resident memory (KiB) of a command run with stdout discarded, measured in a fresh parent."""
    code = ("import resource, subprocess, sys\n"
            "stdin = open(sys.argv[1], 'rb') if sys.argv[1] else subprocess.DEVNULL\n"
            "subprocess.run(sys.argv[2:], stdin=stdin, stdout=subprocess.DEVNULL, check=True)\n"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")
    out = subprocess.run([sys.executable, "-c", code, str(stdin_path or ""), *argv], capture_output=True,
                         env=command_env(), check=True, timeout=600)
    return int(out.stdout)


def run_in_process(module, argv, stdin: bytes = b"") -> tuple[int, bytes, str]:
    """Run a command module's parser and run() in this process: exit code, stdout, stderr."""
    import io

    from pattools.cli import base

    out, err = io.BytesIO(), io.StringIO()
    code = base.execute(module.NAME, module.build_parser, module.run, list(argv),
                        base.Streams(io.BytesIO(stdin), out, err))
    return code, out.getvalue(), err.getvalue()


def run_ok(module, argv, stdin: bytes = b"") -> bytes:
    """stdout of a command module run in process; fails the test on a non-zero exit."""
    code, out, err = run_in_process(module, argv, stdin)
    assert code == 0, err
    return out
