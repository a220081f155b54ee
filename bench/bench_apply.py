"""pat-apply figures (issue: ΔPAT edits): throughput with validation on, against a bare loop
that decodes each record with cbor2 and re-encodes it canonically, nothing else.

Two streams: 10,000 frames of 96×96 at scale 32 (9 tokens each) and 200 frames of
1024×1024 at scale 32 (1,024 tokens each). Two edits per stream: "dense" targets every
frame and nudges rho, entropyRate and a code dimension of every rim patch (the
baseline editor's "increase coherence on rim"); "sparse" does the same on every 10th
frame. Whole-process wall times (best of 3), same data, same run.

Run: .venv/bin/python bench/bench_apply.py [FRAMES_SMALL FRAMES_LARGE]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import BIN, synthetic_frame, timed  # noqa: E402
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


def measure(tmp: Path, frames: int, W: int, H: int, scale: int) -> None:
    rng = np.random.default_rng(0)
    path = tmp / f"frames_{W}.cbor"
    sim = None
    with open(path, "wb") as stream:
        for i in range(frames):
            record = synthetic_frame(1234, i, W, H, scale, rng)
            sim = record["sim"]
            stream.write(pcbor.encode(record))
    bare, _ = timed([sys.executable, "-c", BARE_LOOP], stdin_path=path)
    tokens = (-(-W // scale)) * (-(-H // scale))
    print(f"{frames} frames of {W}x{H}/scale {scale} ({tokens} tokens/frame, {path.stat().st_size / 1e6:.1f} MB)")
    print(f"  bare cbor2 decode + canonical encode: {bare:7.3f} s  {frames / bare:9.0f} frames/s")
    for name, every in (("dense", 1), ("sparse", 10)):
        edit = tmp / f"edit_{W}_{name}.cbor"
        edit.write_bytes(pcbor.encode(rim_edit(frames, every, W, H, scale, sim)))
        took, rss = timed([str(BIN / "pat-apply"), "--edit", str(edit)], stdin_path=path)
        print(f"  pat-apply {name:6s} (validation on):   {took:7.3f} s  {frames / took:9.0f} frames/s  "
              f"ratio {bare / took:5.2f} (target >= 0.50)  peak RSS {rss / 1024:.0f} MiB")


def main() -> None:
    small = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    large = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    with tempfile.TemporaryDirectory() as tmp:
        measure(Path(tmp), small, 96, 96, 32)
        measure(Path(tmp), large, 1024, 1024, 32)


if __name__ == "__main__":
    main()
