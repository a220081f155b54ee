"""Run benchmark scripts of this checkout and of another one (an older revision) in one run.

Why: "speed kept or better" means nothing unless the old and the new code are timed on the
same machine under the same load. For each script named, the old checkout's copy and this
checkout's copy run one after the other, round by round (old, new, old, new, ...), each
with its own checkout's interpreter (``OLD/.venv/bin/python`` when present), and their
output tables are printed under each other. Compare like rows; the last round of each is
printed in full, earlier rounds only when ``--all-rounds`` is given.

Make the old checkout with ``git worktree add ../old <revision>`` and ``make
.venv/.installed-test`` inside it.

Run: .venv/bin/python bench/against.py OLD [--only bench_export.py,bench_apply.py]
     [--rounds N] [--args "SCRIPT=ARG ARG;SCRIPT=ARG"] [--all-rounds]
     .venv/bin/python bench/against.py --quick   (this checkout against itself, quick
     bench_cat.py: the run-to-run noise to read the differences against)
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT = "bench_export.py,bench_apply.py,bench_replay.py,bench_cat.py,bench_tokens.py,bench_lattice_step.py"


def interpreter(checkout: Path) -> str:
    venv = checkout / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def run(checkout: Path, script: str, args: list[str]) -> tuple[float, int, str]:
    start = time.perf_counter()
    done = subprocess.run([interpreter(checkout), str(checkout / "bench" / script), *args],
                          cwd=checkout, capture_output=True, text=True)
    text = done.stdout + (done.stderr if done.returncode else "")
    return time.perf_counter() - start, done.returncode, text


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path, nargs="?", default=ROOT,
                        help="the other checkout (with its own .venv); default: this one")
    parser.add_argument("--quick", action="store_true", help="quick bench_cat.py only")
    parser.add_argument("--only", default=DEFAULT, help="comma list of bench scripts")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--args", default="", help='per-script arguments: "bench_apply.py=300 2;..."')
    parser.add_argument("--all-rounds", action="store_true")
    return parser.parse_args(argv)


def script_args(spec: str) -> dict[str, list[str]]:
    table: dict[str, list[str]] = {}
    for part in filter(None, (p.strip() for p in spec.split(";"))):
        name, _, rest = part.partition("=")
        table[name.strip()] = shlex.split(rest)
    return table


def main(argv: list[str]) -> int:
    options = parse_args(argv)
    if options.quick:
        options.only, options.args = "bench_cat.py", options.args or "bench_cat.py=1000"
    extra = script_args(options.args)
    failed = False
    for script in filter(None, options.only.split(",")):
        args = extra.get(script, [])
        for round_ in range(1, options.rounds + 1):
            for label, checkout in (("old", options.old.resolve()), ("new", ROOT)):
                seconds, code, text = run(checkout, script, args)
                failed |= code != 0
                if round_ == options.rounds or options.all_rounds:
                    print(f"== {script} {' '.join(args)} [{label}: {checkout.name}, round {round_}, "
                          f"{seconds:.1f} s, exit {code}]")
                    print(text.rstrip())
        print()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
