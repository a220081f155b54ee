"""pat-diff figures (issue 15): comparing two exports of 2,000 frames at 96x96 (scale 32)
against the time pat-cat takes to read both (validation on, CBOR to /dev/null).

Cases: identical inputs; every value moved (the second export ran with --dt 0.0301),
exit status only and with the PAT_DIFF report; a shard directory against the stream.

Run: .venv/bin/python bench/bench_diff.py [FRAMES] [--quick]
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import BIN, env, timed  # noqa: E402


def _export(path: Path, frames: int, *extra: str) -> None:
    argv = [str(BIN / "pat-export"), "--seeds", "1", "--frames", str(frames), "--W", "96", "--H", "96", *extra]
    with open(path, "wb") as out:
        subprocess.run(argv, stdout=out, check=True, env=env())


def _timed_diff(argv: list[str], repeat: int) -> float:
    """Best wall time of pat-diff (exit 0 or 1 are both results)."""
    import math
    import time

    best = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        code = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env()).returncode
        best = min(best, time.perf_counter() - start)
        if code not in (0, 1):
            raise SystemExit(f"{' '.join(argv)} exited {code}")
    return best


def main() -> None:
    args = [arg for arg in sys.argv[1:] if not arg.startswith("--")]
    quick = "--quick" in sys.argv
    frames = int(args[0]) if args else (300 if quick else 2000)
    repeat = 1 if quick else 3
    with tempfile.TemporaryDirectory() as tmp:
        a, b, shards = Path(tmp) / "a.cbor", Path(tmp) / "b.cbor", Path(tmp) / "shards"
        _export(a, frames)
        _export(b, frames, "--dt", "0.0301")
        _export(Path(tmp) / "unused", frames, "--out", str(shards))
        diff = str(BIN / "pat-diff")
        cat, _ = timed([str(BIN / "pat-cat"), str(a), str(b)], repeat=repeat)
        same = _timed_diff([diff, "-q", str(a), str(a)], repeat)
        moved = _timed_diff([diff, "-q", str(a), str(b)], repeat)
        report = _timed_diff([diff, "--format", "jsonl", str(a), str(b)], repeat)
        directory = _timed_diff([diff, "-q", str(shards), str(a)], repeat)
    print(f"{frames} frames of 96x96 (9 tokens) per input")
    print(f"pat-cat A B (reads both, validation on):  {cat:7.3f} s")
    for label, seconds in (("pat-diff -q A A (identical)", same), ("pat-diff -q A B (--dt 0.0301)", moved),
                           ("pat-diff --format jsonl A B", report), ("pat-diff -q shard-dir A", directory)):
        print(f"{label:<40} {seconds:7.3f} s  {seconds / cat:5.2f}x pat-cat   (target <= 2x)")


if __name__ == "__main__":
    main()
