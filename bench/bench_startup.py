"""Start-up figures (issue: one frame path): how long a command takes when it has almost
nothing to do, against the bare interpreter importing what it must.

Median wall time of N whole processes (5; 3 with --quick), warm numba cache, stdout to
/dev/null, all in one run so the figures share the machine's load:
- ``python -c "import numpy"`` and ``python -c "import numba"`` (the floors);
- a 1-frame 32x32 ``pat-export``: target <= import numba + 0.25 s;
- ``pat-apply --edit E F`` and ``pat-baseline --prompt P F`` on one 96x96 frame (the
  default grid): target <= 3x import numpy;
- ``pat-cat --help`` (no target; what a command costs before it does anything).

Run: .venv/bin/python bench/bench_startup.py [--quick]
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import BIN, env, median_seconds  # noqa: E402

PROMPT = "increase coherence on rim"




def command(name: str, *args: str) -> list[str]:
    return [str(BIN / name), *args]


def inputs(work: Path) -> tuple[Path, Path]:
    """One default-grid frame and an edit of it (the baseline editor's); applies it once,
    so that every command's kernels are in the numba cache."""
    frame = work / "frame.cbor"
    edit = work / "edit.cbor"
    with open(frame, "wb") as out:
        subprocess.run(command("pat-export", "--seeds", "1", "--frames", "1"), stdout=out, check=True, env=env())
    with open(edit, "wb") as out:
        subprocess.run(command("pat-baseline", "--prompt", PROMPT, str(frame)), stdout=out, check=True, env=env())
    subprocess.run(command("pat-apply", "--edit", str(edit), str(frame)), stdout=subprocess.DEVNULL, check=True,
                   env=env())
    return frame, edit


def main() -> None:
    quick = "--quick" in sys.argv[1:]
    repeat = 3 if quick else 5
    python = sys.executable
    export = command("pat-export", "--seeds", "1234", "--W", "32", "--H", "32", "--frames", "1")
    with tempfile.TemporaryDirectory() as tmp:
        frame, edit = inputs(Path(tmp))  # also warms the numba cache
        subprocess.run(export, stdout=subprocess.DEVNULL, check=True, env=env())
        numpy_s = median_seconds([python, "-c", "import numpy"], repeat)
        numba_s = median_seconds([python, "-c", "import numba"], repeat)
        rows = [
            ('python -c "import numpy"', numpy_s, None, ""),
            ('python -c "import numba"', numba_s, None, ""),
            ("pat-export, 1 frame 32x32", median_seconds(export, repeat), numba_s + 0.25, "import numba + 0.25 s"),
            ("pat-apply --edit E F (96x96)", median_seconds(command("pat-apply", "--edit", str(edit), str(frame)),
                                                            repeat), 3 * numpy_s, "3x import numpy"),
            ("pat-baseline --prompt P F (96x96)",
             median_seconds(command("pat-baseline", "--prompt", PROMPT, str(frame)), repeat), 3 * numpy_s,
             "3x import numpy"),
            ("pat-cat --help", median_seconds(command("pat-cat", "--help"), repeat), None, ""),
        ]
    print(f"start-up, median of {repeat} whole processes, warm cache")
    for what, seconds, target, rule in rows:
        verdict = "" if target is None else f"  target <= {target:.3f} s ({rule}): {'PASS' if seconds <= target else 'FAIL'}"
        print(f"{what:<36} {seconds:6.3f} s{verdict}")


if __name__ == "__main__":
    main()
