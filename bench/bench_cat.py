"""pat-cat figures (issue: foundation): --help wall time, and CBOR→JSONL conversion of
10,000 frames of 9 tokens with validation on versus a bare cbor2-decode + json.dumps loop.

Run: .venv/bin/python bench/bench_cat.py
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
import sys, json, cbor2
decoder = cbor2.CBORDecoder(sys.stdin.buffer)
out = sys.stdout
while True:
    try:
        record = decoder.decode()
    except cbor2.CBORDecodeEOF:
        break
    out.write(json.dumps(record) + "\\n")
"""


def main() -> None:
    frames = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "frames.cbor"
        with open(path, "wb") as stream:
            for i in range(frames):
                stream.write(pcbor.encode(synthetic_frame(1234, i, 96, 96, 32, rng)))
        help_time, _ = timed([str(BIN / "pat-cat"), "--help"], repeat=5)
        bare, bare_rss = timed([sys.executable, "-c", BARE_LOOP], stdin_path=path)
        cat, cat_rss = timed([str(BIN / "pat-cat"), "--format", "jsonl"], stdin_path=path)
        size = path.stat().st_size
    print(f"pat-cat --help wall time:        {help_time * 1000:7.1f} ms   (target <= 250 ms)")
    print(f"bare cbor2+json.dumps loop:      {bare:7.3f} s  {frames / bare:9.0f} frames/s  ({size / bare / 1e6:.1f} MB/s)")
    print(f"pat-cat --format jsonl (valid.): {cat:7.3f} s  {frames / cat:9.0f} frames/s  peak RSS {cat_rss / 1024:.0f} MiB")
    print(f"throughput ratio pat-cat / bare: {bare / cat:7.2f}    (target >= 0.50)")


if __name__ == "__main__":
    main()
