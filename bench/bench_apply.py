"""pat-apply figures (issue: ΔPAT edits): throughput with validation on, against a bare loop
that decodes each record with cbor2 and re-encodes it canonically, nothing else.

Two streams: 10,000 frames of 96×96 at scale 32 (9 tokens each) and 200 frames of
1024×1024 at scale 32 (1,024 tokens each). Two edits per stream: "dense" targets every
frame and nudges rho, entropyRate and a code dimension of every rim patch (the
baseline editor's "increase coherence on rim"); "sparse" does the same on every 10th
frame. Whole processes, same data, same run; the bare loop and the pat-apply runs are
interleaved and each figure is the best of 3, as wall time and as CPU time (user+sys of
the child, steadier when other work shares the machine). The ratio is bare time over
pat-apply time (= pat-apply throughput / bare throughput).

Run: .venv/bin/python bench/bench_apply.py [FRAMES_SMALL FRAMES_LARGE]
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import BIN, env, synthetic_frame  # noqa: E402
from pattools.io import cbor as pcbor  # noqa: E402

BARE_LOOP = """
import sys, cbor2
decoder = cbor2.CBORDecoder(sys.stdin.buffer)
out = sys.stdout.buffer
while True:
    try:
        record = decoder.decode()
    except cbor2.CBORDecodeEOF:
        break
    out.write(cbor2.dumps(record, canonical=True))
"""


def rim_edit(frames: int, every: int, W: int, H: int, scale: int, sim: dict) -> dict:
    nx, ny = -(-W // scale), -(-H // scale)
    rim = [f"{px * scale},{py * scale},{scale}" for py in range(ny) for px in range(nx)
           if px in (0, nx - 1) or py in (0, ny - 1)]
    dpat = [{"patchId": pid, "stats": {"rho": 0.1, "entropyRate": -0.05}, "code": {"rvqDelta": [0, 0, 0, -1, 0]}}
            for pid in rim]
    return {"kind": "PAT_EDIT", "version": 1, "id": f"bench-{every}", "seed": 1234, "sim": sim,
            "targets": [{"frame": f, "dpat": dpat} for f in range(0, frames, every)],
            "repro": {"dt": sim["dt"], "stepsPerFrame": sim["stepsPerFrame"], "scale": sim["scale"],
                      "noiseSeed": sim["noiseSeed"]}}


def run_once(argv: list[str], stdin_path: Path) -> tuple[float, float]:
    """(wall seconds, child CPU seconds) of one whole-process run, stdout to /dev/null."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with open(stdin_path, "rb") as stdin:
        subprocess.run(argv, stdin=stdin, stdout=subprocess.DEVNULL, check=True, env=env())
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure(tmp: Path, frames: int, W: int, H: int, scale: int, repeat: int = 3) -> None:
    rng = np.random.default_rng(0)
    path = tmp / f"frames_{W}.cbor"
    sim = None
    with open(path, "wb") as stream:
        for i in range(frames):
            record = synthetic_frame(1234, i, W, H, scale, rng)
            sim = record["sim"]
            stream.write(pcbor.encode(record))
    commands = {"bare": [sys.executable, "-c", BARE_LOOP]}
    for name, every in (("dense", 1), ("sparse", 10)):
        edit = tmp / f"edit_{W}_{name}.cbor"
        edit.write_bytes(pcbor.encode(rim_edit(frames, every, W, H, scale, sim)))
        commands[name] = [str(BIN / "pat-apply"), "--edit", str(edit)]
    best = {name: [float("inf"), float("inf")] for name in commands}
    for _ in range(repeat):
        for name, argv in commands.items():
            wall, cpu = run_once(argv, path)
            best[name] = [min(best[name][0], wall), min(best[name][1], cpu)]
    tokens = (-(-W // scale)) * (-(-H // scale))
    print(f"{frames} frames of {W}x{H}/scale {scale} ({tokens} tokens/frame, {path.stat().st_size / 1e6:.1f} MB)")
    bare_wall, bare_cpu = best["bare"]
    print(f"  {'bare cbor2 decode + canonical encode':38s} wall {bare_wall:7.3f} s  cpu {bare_cpu:7.3f} s  "
          f"{frames / bare_wall:8.0f} frames/s")
    for name in ("dense", "sparse"):
        wall, cpu = best[name]
        print(f"  {'pat-apply ' + name + ' (validation on)':38s} wall {wall:7.3f} s  cpu {cpu:7.3f} s  "
              f"{frames / wall:8.0f} frames/s  ratio wall {bare_wall / wall:4.2f}  cpu {bare_cpu / cpu:4.2f}"
              "  (target >= 0.50)")


def main() -> None:
    small = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    large = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    with tempfile.TemporaryDirectory() as tmp:
        measure(Path(tmp), small, 96, 96, 32)
        measure(Path(tmp), large, 1024, 1024, 32)


if __name__ == "__main__":
    main()
