"""Reading a shard directory: what verifying checksums costs (issue: shard directories).

Exports a 1,000-seed directory (16×16 grid, scale 8, 4 frames of 4 tokens per seed,
2 frames per shard: 2,000 shards) once, then times ``pat-cat --count DIR`` with and
without ``--no-verify`` (best of N whole-process runs, stdout to /dev/null), and
``pat-cat --check DIR``; and, in process, the SHA-256 of every shard alone (the part of
the difference that is not timing noise).

Run: .venv/bin/python bench/bench_shards.py [seeds] [repeat]
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import BIN, env, timed  # noqa: E402


def main() -> None:
    seeds = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    repeat = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "shards"
        start = time.perf_counter()
        subprocess.run([str(BIN / "pat-export"), "--seeds", f"0:{seeds}", "--W", "16", "--H", "16", "--frames", "4",
                        "--scale", "8", "--shard-size", "2", "--out", str(out), "-q"], check=True, env=env())
        made = time.perf_counter() - start
        shards = len(list(out.glob("*.cbor")))
        size = sum(p.stat().st_size for p in out.glob("*.cbor"))
        print(f"directory: {seeds} seeds, {shards} shards, {size / 1e6:.1f} MB of shards (export {made:.1f} s)")
        runs = {
            "pat-cat --count DIR": [str(BIN / "pat-cat"), "--count", str(out)],
            "pat-cat --count --no-verify DIR": [str(BIN / "pat-cat"), "--count", "--no-verify", str(out)],
            "pat-cat --check DIR": [str(BIN / "pat-cat"), "--check", "-q", str(out)],
        }
        results = {label: timed(argv, repeat=repeat) for label, argv in runs.items()}
        for label, (seconds, _rss) in results.items():  # (peak RSS here would include the export's)
            print(f"{label:34s} {seconds:7.3f} s")
        start = time.perf_counter()
        for path in sorted(out.glob("*.cbor")):
            hashlib.sha256(path.read_bytes()).hexdigest()
        print(f"reading and hashing every shard alone: {time.perf_counter() - start:.3f} s")
        verified = results["pat-cat --count DIR"][0]
        unverified = results["pat-cat --count --no-verify DIR"][0]
        print(f"verification costs {100 * (verified - unverified) / unverified:+.1f} % "
              f"({1000 * (verified - unverified) / shards:.3f} ms per shard)")


if __name__ == "__main__":
    main()
