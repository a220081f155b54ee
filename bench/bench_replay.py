"""pat-replay figures (issue: pat-replay): replay against the export of the same frames.

For each configuration: one seed exported to a file (pat-export), then whole-process
runs, interleaved round by round so machine load hits every command alike:
  export           pat-export … > /dev/null
  replay           pat-replay frames.cbor              (delta decoder, no edit; target ≤ 1.1×)
  replay --edit    pat-replay --edit e.cbor frames.cbor (the baseline editor's "increase
                   coherence on left half" on every frame; target ≤ 2×)
  apply | replay   the same edit through pat-apply, for comparison
  tokens, live     the other decoders, no edit (no target; for information)
Each command's wall seconds and CPU seconds (user+system of the child, all threads),
start-up included, best and median of the rounds. Ratios are against the export run of
the same round (the order alternates round by round), and the median of those per-round
ratios is printed: on a machine whose speed drifts from run to run, a ratio of two
separate bests pairs runs made under different load.

Run: .venv/bin/python bench/bench_replay.py [--quick] [--rounds N] [--configs NAME,...] [--extra] [--threads N]
(--threads sets NUMBA_NUM_THREADS for every command: on a shared, loaded machine numba's
parallel kernels spend CPU waiting for each other, and one thread gives steadier figures).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import BIN, env  # noqa: E402

CONFIGS = {
    "96x96-s32": ["--W", "96", "--H", "96", "--scale", "32", "--frames", "2000"],
    "96x96-s8": ["--W", "96", "--H", "96", "--scale", "8", "--frames", "500"],
    "256x256-s32": ["--W", "256", "--H", "256", "--scale", "32", "--frames", "300"],
}
SEED = "1234"


THREADS: dict[str, str] = {}


def child_env() -> dict[str, str]:
    e = env()
    e.update(THREADS)
    return e


def run_once(argv: list[str] | str, shell: bool = False) -> tuple[float, float]:
    """Wall and CPU seconds of one whole-process run, stdout discarded."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, shell=shell, stdout=subprocess.DEVNULL, check=True, env=child_env(),
                   executable="/bin/bash" if shell else None)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def measure(name: str, flags: list[str], rounds: int, extra: bool, tmp: Path) -> None:
    frames = tmp / f"{name}.cbor"
    edit = tmp / f"{name}-edit.cbor"
    export = [str(BIN / "pat-export"), "--seeds", SEED, *flags]
    with open(frames, "wb") as out:
        subprocess.run(export, stdout=out, check=True, env=child_env())
    with open(edit, "wb") as out:
        subprocess.run([str(BIN / "pat-baseline"), "--prompt", "increase coherence on left half", str(frames)],
                       stdout=out, check=True, env=child_env())
    replay = str(BIN / "pat-replay")
    runs: dict[str, tuple[list[str] | str, bool]] = {
        "export": (export, False),
        "replay": ([replay, str(frames)], False),
        "replay --edit": ([replay, "--edit", str(edit), str(frames)], False),
        "apply | replay": (f"set -o pipefail; {BIN / 'pat-apply'} --edit {edit} {frames} | {replay}", True),
    }
    if extra:
        runs["replay tokens"] = ([replay, "--decoder", "tokens", str(frames)], False)
        runs["replay live"] = ([replay, "--decoder", "live", str(frames)], False)
    for argv, shell in runs.values():  # warm the numba cache, the bytecode and the page cache
        run_once(argv, shell)
    times: dict[str, list[tuple[float, float]]] = {key: [] for key in runs}
    for round_index in range(rounds):
        order = list(runs) if round_index % 2 == 0 else list(reversed(runs))
        for key in order:
            argv, shell = runs[key]
            times[key].append(run_once(argv, shell))
    threads = THREADS.get("NUMBA_NUM_THREADS", "default")
    print(f"{name} ({' '.join(flags)}, seed {SEED}), numba threads {threads}, {rounds} rounds:")
    print(f"  {'':16s} {'best wall':>9s} {'cpu':>7s}   {'median wall':>11s} {'cpu':>7s}   ratio to export: median of rounds (wall, cpu)")
    for key, pairs in times.items():
        walls, cpus = [w for w, _ in pairs], [c for _, c in pairs]
        ratios = [(w / ew, c / ec) for (w, c), (ew, ec) in zip(pairs, times["export"])]
        print(f"  {key:16s} {min(walls):9.3f} {min(cpus):7.3f}   {statistics.median(walls):11.3f} "
              f"{statistics.median(cpus):7.3f}   {statistics.median(r[0] for r in ratios):4.2f}x "
              f"{statistics.median(r[1] for r in ratios):4.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--configs", default=",".join(CONFIGS))
    parser.add_argument("--extra", action="store_true", help="also time the tokens and live decoders")
    parser.add_argument("--threads", type=int, help="NUMBA_NUM_THREADS for every command")
    parser.add_argument("--quick", action="store_true", help="make bench: one round of 96x96-s32 at 400 frames")
    options = parser.parse_args()
    if options.quick:
        options.rounds, options.configs = 1, "96x96-s32"
        CONFIGS["96x96-s32"] = [*CONFIGS["96x96-s32"][:-1], "400"]
    if options.threads:
        THREADS["NUMBA_NUM_THREADS"] = str(options.threads)
    with tempfile.TemporaryDirectory() as tmp:
        for name in options.configs.split(","):
            measure(name, CONFIGS[name], options.rounds, options.extra, Path(tmp))


if __name__ == "__main__":
    main()
