"""pat-render: pictures of lattice fields, token patch maps and edit effects."""

from __future__ import annotations

import argparse

from pattools.cli import base
from pattools.cli.ranges import parse_range, parse_seed_list
from pattools.errors import UsageError

NAME = "pat-render"
SUMMARY = ("Draw PAT frames as pictures: lattice phase and energy fields (re-run as pat-replay runs them), "
           "token patch maps, and edit-effect maps and time series.")
EXAMPLES = (
    "pat-export --seeds 7 --frames 16 | pat-render --out pics            # last frame of seed 7",
    "pat-render frames.cbor --out pics --frames 0,8:16 --kinds phase",
    "pat-apply --edit e.cbor frames.cbor | pat-render --out pics          # the steered lattice",
    "pat-render frames.cbor --edit e.cbor --out pics                      # the same pictures",
    "pat-render frames.cbor --out pics --animate                          # pics/<seed>-phase.gif",
    "pat-render --base base.cbor --edited edited.cbor --edit e.cbor --out pics",
    "pat-render frames.cbor --out paper --format pdf --dpi 300",
)
NOTES = """\
Frame pictures (FRAMES mode) go to DIR/<seed>-<frame>-<kind>.<format>:
  phase   the lattice phase field theta (mod 2 pi), cyclic colour map (twilight)
  energy  the lattice energy field E, colour map cividis, range of the frame
  tokens  patch maps of rho, entropyRate (0..1, viridis), gradPhi and kappa (0..frame
          maximum, viridis), phi_gf (-pi..pi, twilight) and chirality (-1, 0, +1)
Fields come from running each sequence's lattice from its sim block with the replay driver,
exactly as pat-replay runs it: frames without an edit reproduce the export; frames with an
edit block (pat-apply's output) and frames an --edit package targets are drawn from the
steered lattice. The tokens drawn are the frame's own, with --edit applied as pat-apply
applies it. A frame that is itself a replay of an edit (pat-replay's output with an edit id)
does not carry its steering and is refused (exit 1): render the frames that replay read.
Sequences must start at frame 0 with no gaps (the lattice always runs from frame 0).
Default --frames: the last frame of each sequence (all frames with --animate).
Effect pictures (--base B --edited E) go to DIR/<seed>-effect.<format> (per drift feature,
edited - base averaged over the evaluation window: the edit's first target frame to the end,
or --window; colour map RdBu_r centred at 0; the intents' regions outlined) and
DIR/<seed>-timeseries.<format> (each intent's region mean of its feature per frame, base
and edited: chirality for a flip, a circular mean for phi_gf; without an edit, the
whole-grid mean of each drift feature).
Pictures: cells drawn as whole-pixel blocks (x to the right, y downwards, as patch ids
count), titled with seed, frame, simulation time and grid. Output bytes are deterministic
for the same inputs, flags and matplotlib: no dates or versions in any file.
The path of every file written is printed on stdout, one per line.
matplotlib comes with the plot extra (pip install 'pattools[plot]'); without it
pat-render exits 2 saying so.
Memory: streams; one lattice state and the pictures' figures (animations hold their frames)."""


def _frame_list(text: str) -> tuple[tuple[int | None, int | None], ...]:
    """``"0,8:16,20:"``: frames and half-open ranges."""
    parts = [p.strip() for p in text.split(",")]
    if not all(parts):
        raise argparse.ArgumentTypeError(f"expected frames like 0,8:16, got {text!r}")
    return tuple(parse_range(p) for p in parts)


def _kinds(text: str) -> tuple[str, ...]:
    from pattools.render.pictures import KINDS

    kinds = tuple(k.strip() for k in text.split(","))
    bad = [k for k in kinds if k not in KINDS]
    if bad or not kinds:
        raise argparse.ArgumentTypeError(f"expected kinds from {','.join(KINDS)}, got {text!r}")
    return tuple(k for k in KINDS if k in kinds)


def build_parser() -> argparse.ArgumentParser:
    parser = base.make_parser(NAME, SUMMARY, EXAMPLES, NOTES)
    base.add_inputs(parser, help_text="PAT_FRAME input (stream, shard file or shard directory); '-' or nothing "
                                      "reads stdin (not with --base/--edited)")
    parser.add_argument("--out", required=True, metavar="DIR", help="directory for the pictures (created if missing)")
    frames = parser.add_argument_group("frame pictures")
    frames.add_argument("--frames", type=_frame_list, metavar="LIST",
                        help="frames to draw: numbers and half-open ranges A:B, e.g. 0,8:16 "
                             "(default: the last frame of each sequence)")
    frames.add_argument("--seeds", type=parse_seed_list, metavar="LIST", help="only these seeds, e.g. 1,2,10:20")
    frames.add_argument("--kinds", type=_kinds, default=None, metavar="LIST",
                        help="pictures per frame, from phase,energy,tokens (default all three)")
    frames.add_argument("--animate", nargs="?", const="gif", choices=("gif", "apng"), default=None,
                        help="instead of pictures, write the phase field over the selected frames as "
                             "DIR/<seed>-phase.gif (or .apng), 10 frames per second")
    frames.add_argument("--kernel", choices=["fast", "reference"], default="fast",
                        help="lattice step kernel ('reference' for parity audits)")
    effects = parser.add_argument_group("edit-effect pictures")
    effects.add_argument("--base", metavar="FILE", help="base replay (no edit)")
    effects.add_argument("--edited", metavar="FILE", help="edited replay of the same sequences")
    effects.add_argument("--window", type=parse_range, metavar="A:B",
                         help="evaluation frames A..B-1 (default: the edit's first target frame to the end)")
    effects.add_argument("--regions", metavar="FILE", help="regions file, for intents naming a region")
    edits = parser.add_argument_group("edits")
    edits.add_argument("--edit", action="append", default=[], metavar="EDITS",
                       help="PAT_EDIT file: with FRAMES, applied and replayed as pat-replay --edit does "
                            "(repeatable); with --base/--edited, the edit whose intents are outlined")
    edits.add_argument("--bounds", metavar="FILE", help="delta bounds file (default: the bounds of docs/editing.md §1)")
    edits.add_argument("--clip", action="store_true", help="clip out-of-bound deltas instead of failing")
    edits.add_argument("--lenient", action="store_true", help="skip DPats whose patchId is not in the frame")
    out = parser.add_argument_group("output")
    out.add_argument("--format", choices=("png", "svg", "pdf"), default="png", help="picture format (default png)")
    out.add_argument("--dpi", type=base.positive_float, default=100.0, metavar="N",
                     help="resolution: pixels per inch of the figures (default 100); text and cells scale with it")
    base.add_validation(parser)
    base.add_verbosity(parser)
    return parser


def _edit_packages(options: argparse.Namespace, streams: base.Streams) -> list:
    from pattools.edit.applier import edit_packages
    from pattools.io import read_records

    if not options.edit:
        return []
    records = read_records(options.edit, validate=options.validate, max_record_bytes=options.max_record_bytes,
                           stdin=streams.stdin, columns=True)
    return list(edit_packages(records, validate=False))


def _check_usage(options: argparse.Namespace) -> bool:
    """Which mode (True: effects); usage errors for flags of the other mode."""
    effects = options.base is not None or options.edited is not None
    if effects and (options.base is None or options.edited is None):
        raise UsageError("--base and --edited go together")
    if effects and options.inputs != ["-"]:
        raise UsageError("give frames as INPUT, or replays with --base/--edited, not both")
    frame_flags = ("frames", "seeds", "kinds", "animate")
    if effects and any(getattr(options, f) is not None for f in frame_flags):
        raise UsageError("--frames, --seeds, --kinds and --animate draw frames; not with --base/--edited")
    if not effects and (options.window is not None or options.regions is not None):
        raise UsageError("--window and --regions go with --base/--edited")
    if options.animate is not None and options.format != "png":
        raise UsageError("--animate writes GIF or APNG; --format applies to pictures")
    if options.animate is not None and options.kinds is not None:
        raise UsageError("--animate animates the phase field; --kinds applies to pictures")
    return effects


def run(options: argparse.Namespace, streams: base.Streams) -> int:
    from pattools.render.backend import matplotlib
    from pattools.render.runner import OutputDir

    effects = _check_usage(options)
    matplotlib()  # the plot extra is missing: say so before reading anything
    out = OutputDir(options.out)

    def emit(path: str) -> None:
        streams.stdout.write(path.encode() + b"\n")
        streams.stdout.flush()

    if effects:
        return _effects(options, streams, out, emit)
    return _frames(options, streams, out, emit)


def _frames(options: argparse.Namespace, streams: base.Streams, out, emit) -> int:
    from pattools.cli.documents import read_bounds
    from pattools.edit.bounds import Bounds
    from pattools.edited_replay import EditOptions, load_edits
    from pattools.io import read_records
    from pattools.render.lattice import Selection
    from pattools.render.pictures import KINDS
    from pattools.render.runner import RenderSettings, render_frames

    ranges = options.frames if options.frames is not None else (((0, None),) if options.animate else None)
    settings = RenderSettings(kinds=options.kinds or KINDS, selection=Selection(ranges),
                              seeds=None if options.seeds is None else frozenset(options.seeds), fmt=options.format,
                              dpi=options.dpi, animate=options.animate, validate=options.validate,
                              lenient=options.lenient, kernel=options.kernel)
    bounds = read_bounds(options.bounds) if options.bounds else Bounds.default()
    edits = load_edits(_edit_packages(options, streams), EditOptions(bounds=bounds, clip=options.clip))
    records = read_records(options.inputs, validate=False, max_record_bytes=options.max_record_bytes,
                           stdin=streams.stdin)
    written = render_frames(records, edits, out, settings, emit)
    if options.verbose:
        base.warn(streams, NAME, f"wrote {written} files into {options.out}", options)
    return base.EXIT_OK


def _effects(options: argparse.Namespace, streams: base.Streams, out, emit) -> int:
    from pattools.cli.documents import read_regions
    from pattools.io import read_records
    from pattools.render.runner import render_effects
    from pattools.score.sequences import read_sequences

    def sequences(name: str) -> list:
        return list(read_sequences(read_records([name], validate=options.validate,
                                                max_record_bytes=options.max_record_bytes, stdin=streams.stdin)))

    edits = [pkg for pkg, _, _ in _edit_packages(options, streams)]
    regions = read_regions(options.regions) if options.regions else None
    render_effects(sequences(options.base), sequences(options.edited), edits, regions, options.window, out,
                   options.format, options.dpi, emit)
    return base.EXIT_OK


main = base.entry_point(NAME, build_parser, run)

if __name__ == "__main__":
    main()
