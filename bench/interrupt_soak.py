"""Interrupt each long-running command at random moments with SIGINT and SIGTERM.

For every command and signal it starts the command, sends the signal after a random delay
(seeded), and checks what docs/design.md §3 promises: exit 130 for SIGINT, 143 for SIGTERM (or
0 when the run had already finished), at most one line on stderr and no traceback, stdout
ending at a complete record, no temporary file left, and for ``--out`` exports that
``--resume`` then completes the directory to the same bytes as an uninterrupted run.
SIGINT goes to the whole process group (what Ctrl-C at a terminal does, so --jobs
workers get it too); SIGTERM only to the command's process (what ``kill PID`` does).

    python bench/interrupt_soak.py --moments 30            # the acceptance run
    python bench/interrupt_soak.py --moments 3 --only replay,nupca
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / "bin"
EXPECTED = {signal.SIGINT: 130, signal.SIGTERM: 143}
EARLIEST = 0.0  # s after the command has installed its signal handling (see wait_for_handler)


@dataclass
class Case:
    name: str
    argv: list[str]  # {dir}: the per-run work directory; {data}: the prepared inputs
    out_dir: bool = False  # an --out export: check --resume completes it to the reference bytes


SIZES = {  # (seeds, frames per seed) of the exports, frames of the replayed input
    "suite": ("0:3", "30", "40"),
    "default": ("0:6", "60", "80"),
    "large": ("0:12", "120", "200"),
}


def cases(size: str) -> list[Case]:
    seeds, frames, _ = SIZES[size]
    export = ["pat-export", "--seeds", seeds, "--frames", frames, "--W", "48", "--H", "48", "--scale", "16"]
    return [
        Case("export", export),
        Case("export-out", [*export, "--out", "{dir}/shards", "--shard-size", "16"], out_dir=True),
        Case("export-jobs", [*export, "--jobs", "2"]),
        Case("export-out-jobs", [*export, "--jobs", "2", "--out", "{dir}/shards", "--shard-size", "16"], out_dir=True),
        Case("replay", ["pat-replay", "{data}/frames.cbor"]),
        Case("score", ["pat-score", "--original", "{data}/frames.cbor", "--edit", "{data}/edit.cbor"]),
        Case("nupca", ["nupca-step", "--from-pat", "--state-out", "{dir}/state.cbor", "--checkpoint", "10",
                       "{data}/frames.cbor"]),
    ]


@dataclass
class Tally:
    runs: int = 0
    finished: int = 0
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0


def env() -> dict[str, str]:
    e = dict(os.environ)
    e["PATTOOLS_PYTHON"] = sys.executable
    e.pop("COLUMNS", None)
    return e


def prepare(data: Path, size: str) -> None:
    """Input frames (one seed, enough frames for a few seconds of replay) and an edit."""
    frames = SIZES[size][2]
    subprocess.run(f"'{BIN}/pat-export' --seeds 3 --frames {frames} --W 64 --H 64 --scale 16 > '{data}/frames.cbor' && "
                   f"'{BIN}/pat-baseline' --prompt 'increase coherence on rim' --frames 10:{frames} "
                   f"'{data}/frames.cbor' > '{data}/edit.cbor'", shell=True, check=True, env=env())


def expand(argv: list[str], work: Path, data: Path) -> list[str]:
    return [str(BIN / argv[0])] + [a.replace("{dir}", str(work)).replace("{data}", str(data)) for a in argv[1:]]


def reference(case: Case, data: Path, base: Path) -> tuple[float, Path | None]:
    """An uninterrupted run: its duration, and its output directory for --out cases."""
    work = base / f"ref-{case.name}"
    work.mkdir()
    with open(work / "stdout", "wb") as out:
        proc = subprocess.Popen(expand(case.argv, work, data), stdout=out, env=env())
        wait_for_handler(proc.pid)
        start = time.monotonic()  # moments are drawn from here on, as in run_once
        if proc.wait() != 0:
            raise RuntimeError(f"{case.name}: the uninterrupted run failed")
    return time.monotonic() - start, (work / "shards" if case.out_dir else None)


def run_once(case: Case, sig: int, delay: float, data: Path, base: Path, ref_dir: Path | None,
             label: str) -> tuple[str | None, int | None]:
    """One interrupted run: a description of what went wrong (or None), and the exit code."""
    work = base / label
    work.mkdir()
    argv = expand(case.argv, work, data)
    with open(work / "stdout", "wb") as out, open(work / "stderr", "wb") as err:
        proc = subprocess.Popen(argv, stdout=out, stderr=err, env=env(), start_new_session=True)
        wait_for_handler(proc.pid)
        time.sleep(delay)
        try:
            if sig == signal.SIGINT:
                os.killpg(proc.pid, sig)  # Ctrl-C at a terminal: the whole foreground group
            else:
                os.kill(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            code = proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            return f"{label}: hung after the signal", None
    problem = check_run(case, sig, code, work, label)
    if problem is None and case.out_dir:
        problem = check_resume(case, work, data, ref_dir, label)
    if problem is None:
        shutil.rmtree(work)
    return problem, code


def wait_for_handler(pid: int, timeout: float = 10.0) -> None:
    """Until the process catches SIGTERM: pattools has installed its handling (the moments
    before are the interpreter's own start-up, ~0.1 s, where Python's defaults apply:
    docs/failing-loudly.md). Linux: the SigCgt mask in /proc/PID/status."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return
        caught = next((line.split()[1] for line in status.splitlines() if line.startswith("SigCgt:")), "0")
        # the launcher is a shell script that execs Python: the shell may catch SIGTERM too
        if b"pattools.cli" in command and int(caught, 16) & (1 << (signal.SIGTERM - 1)):
            return
        time.sleep(0.002)


def check_run(case: Case, sig: int, code: int, work: Path, label: str) -> str | None:
    stderr = (work / "stderr").read_text(errors="replace")
    lines = stderr.splitlines()
    if code not in (EXPECTED[sig], 0):
        return f"{label}: exit {code}, stderr: {stderr[-300:]!r}"
    if len(lines) > 1 or "Traceback" in stderr:
        return f"{label}: {len(lines)} stderr lines: {stderr[-300:]!r}"
    if code == EXPECTED[sig] and lines and not lines[0].endswith(("interrupted", "terminated")):
        return f"{label}: unexpected message {lines[0]!r}"
    leftovers = [p.name for p in work.rglob("*.tmp")]
    if leftovers:
        return f"{label}: temporary files left: {leftovers[:3]}"
    data = (work / "stdout").read_bytes()
    if data and not complete_records(data):
        return f"{label}: stdout does not end at a complete record ({len(data)} bytes)"
    state = work / "state.cbor"
    if state.exists() and not complete_records(state.read_bytes()):
        return f"{label}: state file is not one complete record"
    return None


def complete_records(data: bytes) -> bool:
    """Whether ``data`` is a whole CBOR sequence (or whole JSON lines)."""
    import io

    import cbor2

    if data[:1] == b"{":
        return data.endswith(b"\n")
    stream = io.BytesIO(data)
    try:
        while stream.tell() < len(data):
            cbor2.load(stream)
    except Exception:  # noqa: BLE001 - any decoding failure means a cut record
        return False
    return True


def check_resume(case: Case, work: Path, data: Path, ref_dir: Path | None, label: str) -> str | None:
    argv = expand(case.argv, work, data) + ["--resume"]
    done = subprocess.run(argv, capture_output=True, env=env())
    if done.returncode != 0:
        return f"{label}: --resume exited {done.returncode}: {done.stderr.decode(errors='replace')[-300:]!r}"
    assert ref_dir is not None
    ours = {p.name: p.read_bytes() for p in (work / "shards").iterdir()}
    theirs = {p.name: p.read_bytes() for p in ref_dir.iterdir()}
    if ours != theirs:
        differ = sorted(set(ours) ^ set(theirs)) or sorted(n for n in ours if ours[n] != theirs[n])
        return f"{label}: --resume gave a different directory ({differ[:3]})"
    return None


def soak(moments: int, *, seed: int = 0, only: list[str] | None = None, size: str = "default",
         signals: tuple[int, ...] = (signal.SIGINT, signal.SIGTERM), fixed_delays: float | None = None,
         log=None) -> dict[str, Tally]:
    """Run the soak; per case name, the tally (failures described). Delays are drawn up to
    each command's measured duration, or up to ``fixed_delays`` seconds (no timing runs)."""
    rng = random.Random(seed)
    base = Path(tempfile.mkdtemp(prefix="pattools-soak-"))
    data = base / "data"
    data.mkdir()
    results: dict[str, Tally] = {}
    try:
        prepare(data, size)
        references: dict[str, tuple[float, Path | None]] = {}
        for case in cases(size):
            if only and case.name not in only:
                continue
            # the --jobs export must give the serial export's bytes: one reference serves both
            key = case.name.removesuffix("-jobs") if case.out_dir else case.name
            if key not in references:
                references[key] = reference(case, data, base) if fixed_delays is None else \
                    (fixed_delays, reference(case, data, base)[1] if case.out_dir else None)
            duration, ref_dir = references[key]
            tally = results[case.name] = Tally()
            start = time.monotonic()
            for sig in signals:
                for moment in range(moments):
                    delay = rng.uniform(EARLIEST, duration)
                    label = f"{case.name}-{signal.Signals(sig).name}-{moment}"
                    problem, code = run_once(case, sig, delay, data, base, ref_dir, label)
                    tally.runs += 1
                    tally.finished += code == 0
                    if problem:
                        tally.failures.append(problem)
                    if log:
                        log(f"{label}: delay {delay:.2f} s of {duration:.2f} s: {problem or 'ok'}")
            tally.seconds = time.monotonic() - start
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moments", type=int, default=30, help="random moments per command and signal (default 30)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", help="comma-separated case names")
    parser.add_argument("--size", choices=list(SIZES), default="default",
                        help="how long each run is (suite: the test suite's sample)")
    parser.add_argument("-v", "--verbose", action="store_true")
    options = parser.parse_args()
    log = (lambda line: print(line, file=sys.stderr, flush=True)) if options.verbose else None
    results = soak(options.moments, seed=options.seed, only=options.only.split(",") if options.only else None,
                   size=options.size, log=log)
    bad = 0
    print(f"{'case':<16} {'runs':>5} {'ok':>5} {'finished':>8} {'seconds':>8}")
    for name, tally in results.items():
        print(f"{name:<16} {tally.runs:>5} {tally.runs - len(tally.failures):>5} {tally.finished:>8} "
              f"{tally.seconds:>8.1f}")
        for failure in tally.failures:
            print(f"  FAIL {failure}")
        bad += len(tally.failures)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
