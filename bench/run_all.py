"""Run every benchmark in bench/ and print one table (``make bench``).

Quick mode (the default) gives each script small inputs and few repeats, so the whole run
takes a minute or two on the project's 2-core machine; its figures show the order of
magnitude and catch regressions, not the published numbers. ``--full`` runs each script
as its own docstring says (the figures in the README come from those runs).

Every ``bench/*.py`` with a ``__main__`` block is run, in name order, as a separate
process with this interpreter. A script listed in QUICK gets those arguments in quick
mode; any other script is run with ``--quick`` (so a new benchmark takes that flag). The
table has one row per line a script prints, under its name, with its wall time and exit
status; the exit status of run_all is 1 when any script failed.

Run: .venv/bin/python bench/run_all.py [--full] [--only NAME,...] [--timeout SECONDS]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

# Quick-mode arguments of scripts that already take size flags (others get --quick).
QUICK: dict[str, list[str]] = {
    "bench_apply.py": ["300", "2"],
    "bench_cat.py": ["1000"],
    "bench_lattice_step.py": ["--sizes", "96,256", "--repeat", "2"],
    "bench_modulated_step.py": ["--size", "48"],
    "bench_tokens.py": ["--repeat", "3", "--sizes", "96,256"],
    "fuzz_readers.py": ["--inputs", "2000"],
    "interrupt_soak.py": ["--moments", "1", "--only", "export,export-out", "--size", "suite"],
    "bench_render.py": ["--frames", "10", "--grids", "96"],
    "bench_shards.py": ["50", "2"],
    "edit_authority.py": ["--seeds", "101", "--kinds", "coherence,phase"],
    "calibrate_delta.py": ["--seeds", "1", "--kinds", "coherence"],
    "verify_phase_angle.py": ["--limit", "20000000"],
}


def scripts() -> list[Path]:
    return [p for p in sorted(HERE.glob("*.py"))
            if p.name != Path(__file__).name and not p.name.startswith("_")
            and 'if __name__ == "__main__":' in p.read_text()]


def run_one(script: Path, full: bool, timeout: float) -> tuple[int, float, list[str]]:
    args = [] if full else QUICK.get(script.name, ["--quick"])
    env = dict(os.environ, PYTHONPATH=str(ROOT), PATTOOLS_PYTHON=sys.executable)
    start = time.perf_counter()
    try:
        result = subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True,
                                cwd=ROOT, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        return -1, time.perf_counter() - start, [f"(timed out after {timeout:.0f} s)"]
    seconds = time.perf_counter() - start
    lines = [line.rstrip() for line in result.stdout.splitlines() if line.strip()]
    if result.returncode != 0:
        lines += [f"! {line}" for line in result.stderr.strip().splitlines()[-3:]]
    return result.returncode, seconds, lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="each script's full run (minutes to hours)")
    parser.add_argument("--only", help="comma-separated script names (bench_cat or bench_cat.py)")
    parser.add_argument("--timeout", type=float, default=600, help="per script, seconds (default 600)")
    options = parser.parse_args(argv)
    chosen = scripts()
    if options.only:
        wanted = {name if name.endswith(".py") else f"{name}.py" for name in options.only.split(",")}
        unknown = wanted - {p.name for p in chosen}
        if unknown:
            parser.error(f"no such benchmark: {', '.join(sorted(unknown))}")
        chosen = [p for p in chosen if p.name in wanted]
    mode = "full" if options.full else "quick"
    width = max(len(p.stem) for p in chosen)
    print(f"{'benchmark':<{width}}  {'status':>6}  {'seconds':>7}  output ({mode} mode)")
    print(f"{'-' * width}  {'-' * 6}  {'-' * 7}  {'-' * 60}")
    failed, total = 0, 0.0
    for script in chosen:
        code, seconds, lines = run_one(script, options.full, options.timeout)
        total += seconds
        failed += code != 0
        status = "ok" if code == 0 else ("timeout" if code == -1 else f"exit {code}")
        for i, line in enumerate(lines or ["(no output)"]):
            head = (f"{script.stem:<{width}}  {status:>6}  {seconds:7.1f}" if i == 0 else f"{'':<{width}}  {'':>6}  {'':>7}")
            print(f"{head}  {line}", flush=True)
    print(f"{'-' * width}  {'-' * 6}  {'-' * 7}  {'-' * 60}")
    print(f"{len(chosen)} benchmarks, {failed} failed, {total:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
