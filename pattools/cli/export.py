"""pat-export: run the andres-net lattice per seed and tokenize every frame into PAT tokens."""

from __future__ import annotations

import argparse

from pattools.cli import base
from pattools.cli.progress import frame_progress
from pattools.cli.ranges import parse_seed_list
from pattools.errors import UsageError

NAME = "pat-export"
SUMMARY = "Run the deterministic Kuramoto lattice for each seed and tokenize every frame into PAT tokens."
EXAMPLES = (
    "pat-export --seeds 1234 --frames 8 | pat-cat --format jsonl | head -1",
    "pat-export --seeds 0:100 --W 96 --H 96 --frames 32 --scale 32 --out out/pat_shards --jobs 2",
    "pat-export --seeds 0:1000 --out shards --part 1/4   # run parts 1/4..4/4 anywhere, same directory",
    "pat-export --seeds 7 --param Kbase=1.1 --noise-amp 0.05 --noise-seed 9 --metrics",
)
NOTES = (
    "Frame f holds tokens after (f+1)*stepsPerFrame steps; hdr.t is that simulation time.\n"
    "Defaults and flag spellings (--spf, --stepsPerFrame, --shardSize) are the original exporter's.\n"
    "With --out, each seed's frames go to pat_<seed>-<segment:04d>.cbor shards (+ .json sidecar and\n"
    ".sha256 checksum, which sha256sum -c verifies), written atomically. A directory holding an export\n"
    "is refused unless --resume (same flags: shards whose checksum verifies are kept), another --part\n"
    "of the same export, or --force (the old export is replaced whole)."
)


def _param(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name or not value:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name.strip(), value.strip()


def _part(text: str) -> tuple[int, int]:
    try:
        index_text, count_text = text.split("/")
        index, count = int(index_text), int(count_text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected i/N (e.g. 1/4), got {text!r}") from None
    if count < 1 or not 1 <= index <= count:
        raise argparse.ArgumentTypeError(f"expected 1 <= i <= N in i/N, got {text!r}")
    return index, count


def _grid_size(text: str) -> int:
    value = base.positive_int(text)
    if value < 4:
        raise argparse.ArgumentTypeError(f"grid sides must be at least 4 cells, got {value}")
    return value






def build_parser() -> argparse.ArgumentParser:
    parser = base.make_parser(NAME, SUMMARY, EXAMPLES, NOTES)
    run = parser.add_argument_group("run")
    run.add_argument("--seeds", type=parse_seed_list, default=[1234, 5678], metavar="SEEDS",
                     help="seeds: a list and half-open ranges, e.g. 1234,5678 or 0:1000 (default 1234,5678); "
                          "sequences are written in increasing seed order")
    run.add_argument("--W", type=_grid_size, default=96, help="grid width in cells (default 96)")
    run.add_argument("--H", type=_grid_size, default=96, help="grid height in cells (default 96)")
    run.add_argument("--frames", type=base.positive_int, default=32, help="frames per seed (default 32)")
    run.add_argument("--scale", type=int, choices=[8, 16, 32, 64], default=32,
                     help="token patch size (default 32; the original has 32 and 64)")
    run.add_argument("--dt", type=base.positive_float, default=0.03, help="time step (default 0.03)")
    run.add_argument("--steps-per-frame", "--spf", "--stepsPerFrame", dest="steps_per_frame",
                     type=base.positive_int, default=1, help="lattice steps per frame (default 1)")
    run.add_argument("--noise-amp", type=base.non_negative_float, default=0.0, help="phase noise amplitude (default 0)")
    run.add_argument("--noise-seed", type=int, default=0, help="seed of the separate noise stream (default 0)")
    run.add_argument("--param", type=_param, action="append", default=[], metavar="NAME=VALUE",
                     help="override a lattice parameter of the andres-net-export preset (repeatable); "
                          "recorded in each frame's sim.params")
    run.add_argument("--no-wrap", dest="wrap", action="store_false",
                     help="open boundaries for the ring neighbourhoods (default: torus, as the exporter)")
    run.add_argument("--metrics", action="store_true",
                     help="add the metrics block (rhoMean, defects, entropyGrad, patchDefects, ...) to each frame")
    run.add_argument("--kernel", choices=["fast", "reference"], default="fast",
                     help="lattice step kernel; 'reference' is the canonical-order kernel for parity audits")
    out = parser.add_argument_group("output")
    base.add_format(out)
    out.add_argument("--out", metavar="DIR", help="write a shard directory instead of a stream")
    out.add_argument("--shard-size", "--shardSize", dest="shard_size", type=base.positive_int, default=16,
                     help="frames per shard with --out (default 16)")
    out.add_argument("--resume", action="store_true",
                     help="with --out: complete the export in DIR made with the same flags, keeping shards whose "
                          "checksum verifies (refused, naming the field, when a defining flag differs)")
    out.add_argument("--force", action="store_true",
                     help="with --out: replace the export in DIR whole (its shards that the new export does not "
                          "describe are removed; the others rewritten)")
    out.add_argument("--provenance", action="store_true",
                     help="record the pattools version and commit id in the manifest (off: outputs stay comparable)")
    scale_out = parser.add_argument_group("scaling out")
    scale_out.add_argument("--part", type=_part, metavar="i/N",
                           help="export only every N-th seed starting at the i-th (1-based); parts may run "
                                "concurrently into one --out directory and give the same result as one run")
    scale_out.add_argument("--jobs", type=base.positive_int, default=1,
                           help="parallel worker processes, one seed per task (default 1)")
    scale_out.add_argument("--scheduler", metavar="ADDRESS",
                           help="run the per-seed tasks on a Dask distributed scheduler (needs the dask extra)")
    base.add_verbosity(parser)
    return parser


def run(options: argparse.Namespace, streams: base.Streams) -> int:
    if options.resume and not options.out:
        raise UsageError("--resume needs --out")
    if options.force and not options.out:
        raise UsageError("--force needs --out")
    if options.force and options.resume:
        raise UsageError("--force and --resume exclude each other (--force rewrites, --resume keeps)")
    if options.out:
        from pattools.io.paths import check_output_directory

        check_output_directory(options.out, "--out")
    from pattools import exporting
    from pattools.parallel import run_ordered

    config = exporting.ExportConfig(
        W=options.W, H=options.H, frames=options.frames, scale=options.scale, dt=options.dt,
        steps_per_frame=options.steps_per_frame, noise_amp=options.noise_amp, noise_seed=options.noise_seed,
        wrap=options.wrap, params=dict(options.param), metrics=options.metrics, kernel=options.kernel,
        shard_size=options.shard_size)
    config.sim_block()  # validates --param names and values before any work
    all_seeds = sorted(options.seeds)
    seeds = all_seeds
    if options.part:
        index, count = options.part
        seeds = all_seeds[index - 1::count]
    parallel = options.jobs > 1 or options.scheduler
    total = len(seeds) * config.frames
    with frame_progress(streams, total, len(seeds), quiet=options.quiet) as tick:
        if options.out:
            exporting.prepare_output(config, all_seeds, options.out, resume=options.resume, force=options.force,
                                     part=options.part is not None, provenance=options.provenance)
            if parallel:
                tasks = [(config, seed, options.out, options.resume) for seed in seeds]
                for _ in run_ordered(exporting.export_seed_to_directory, tasks, jobs=options.jobs,
                                     scheduler=options.scheduler):
                    tick(config.frames, seed_done=True)
            else:
                for seed in seeds:
                    exporting.export_seed_to_directory(config, seed, options.out, options.resume, progress=tick)
                    tick(0, seed_done=True)
            base.report(streams, f"{base.plural(len(seeds), 'seed')}, {base.plural(total, 'frame')} into {options.out}", total, "frames")
            return base.EXIT_OK
        fmt = base.output_format(options, streams)
        if parallel:
            tasks = [(config, seed, fmt) for seed in seeds]
            for data in run_ordered(exporting.export_seed_bytes, tasks, jobs=options.jobs,
                                    scheduler=options.scheduler):
                streams.stdout.write(data)
                tick(config.frames, seed_done=True)
        else:
            for seed in seeds:
                for data in exporting.export_seed_stream(config, seed, fmt, progress=tick):
                    streams.stdout.write(data)
                tick(0, seed_done=True)
    base.report(streams, f"{base.plural(len(seeds), 'seed')}, {base.plural(total, 'frame')}", total, "frames")
    return base.EXIT_OK


main = base.entry_point(NAME, build_parser, run)

if __name__ == "__main__":
    main()
