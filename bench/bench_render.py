"""pat-render figures (issue: pat-render): seconds per picture, after the first.

For each grid (96² and 256², scale 32, one seed of FRAMES frames exported by pat-export):
1. in process, the lattice re-run by the replay driver (pattools.render.lattice) for every
   frame, then each picture kind drawn and encoded as PNG for every frame: the first
   picture of a kind (which lays out its figure) and the median and worst of the rest;
2. a whole-process run, `pat-render frames.cbor --out DIR --frames 0:FRAMES` (every kind
   of every frame), wall seconds and seconds per picture, start-up included.
Target: at most 0.25 s per picture at 256² after the first. On a shared machine the CPU
seconds of the process are the steadier figure (drawing is single-threaded).

Run: .venv/bin/python bench/bench_render.py [--frames N] [--grids 96,256]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import BIN, env  # noqa: E402


def in_process(path: Path) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Wall and CPU seconds (this process) per frame: the lattice, then each kind's picture."""
    from pattools.io import read_records
    from pattools.render.lattice import FieldReader, Selection
    from pattools.render.pictures import KINDS, Painter

    painter = Painter()
    wall: dict[str, list[float]] = {kind: [] for kind in ("lattice", *KINDS)}
    cpu: dict[str, list[float]] = {kind: [] for kind in ("lattice", *KINDS)}
    reader = FieldReader(Selection(((0, None),)), edits=[])
    records = read_records([str(path)], validate=False, columns=True)
    start, start_cpu = time.perf_counter(), time.process_time()
    for frame in reader.frames(records):
        wall["lattice"].append(time.perf_counter() - start)
        cpu["lattice"].append(time.process_time() - start_cpu)
        for kind in KINDS:
            t0, c0 = time.perf_counter(), time.process_time()
            data = painter.picture(kind, frame)
            wall[kind].append(time.perf_counter() - t0)
            cpu[kind].append(time.process_time() - c0)
            assert data[:4] == b"\x89PNG"
        start, start_cpu = time.perf_counter(), time.process_time()
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--grids", default="96,256")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for size in (int(g) for g in options.grids.split(",")):
            path = Path(tmp) / f"frames-{size}.cbor"
            with open(path, "wb") as out:
                subprocess.run([str(BIN / "pat-export"), "-q", "--seeds", "7", "--W", str(size), "--H", str(size),
                                "--frames", str(options.frames), "--scale", "32"], stdout=out, check=True, env=env())
            wall, cpu = in_process(path)
            print(f"{size}x{size}, {options.frames} frames, in process (seconds; wall, then CPU of this process):")
            for kind in wall:
                line = f"  {kind:<8}"
                for name, values in (("wall", wall[kind]), ("cpu", cpu[kind])):
                    rest = values[1:] or values
                    line += (f"  {name}: first {values[0]:.3f} median {statistics.median(rest):.3f} "
                             f"worst {max(rest):.3f}")
                print(line)
            out_dir = Path(tmp) / f"pics-{size}"
            start = time.perf_counter()
            subprocess.run([str(BIN / "pat-render"), str(path), "--out", str(out_dir), "--frames",
                            f"0:{options.frames}"], stdout=subprocess.DEVNULL, check=True, env=env())
            wall = time.perf_counter() - start
            count = len(list(out_dir.iterdir()))
            print(f"  whole process: {count} pictures in {wall:.2f} s, {wall / count:.3f} s per picture "
                  "(start-up and lattice included)")


if __name__ == "__main__":
    main()
