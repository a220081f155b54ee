"""pat-pack: pack prompts and PAT token windows (and ΔPAT targets) into training records."""

from __future__ import annotations

import argparse

from pattools.cli import base
from pattools.errors import UsageError
from pattools.io import RecordWriter, read_records
from pattools.io.nonempty import require_records

NAME = "pat-pack"
SUMMARY = "Pair edit prompts with windows of PAT frames (and optional ΔPAT targets) as PAT_PACK training records."
EXAMPLES = (
    'pat-export --seeds 0:8 --frames 32 | pat-pack --prompt "increase coherence on rim" --context 4 --horizon 2 > train.cbor',
    "pat-pack --prompts prompts.jsonl --context 8 --horizon 4 --stride 2 --split val=0.1 frames.cbor",
    'pat-pack --prompt "reduce entropy" --targets baseline --context 4 --horizon 1 --format npz --out train.npz frames.cbor',
    "pat-pack --targets edits.cbor --context 4 --horizon 4 frames.cbor | pat-cat --format jsonl | jq .targets",
)
NOTES = """\
A window around edit frame T: inputs are frames T-K..T-1 (--context K), targets lie on
frames T..T+H-1 (--horizon H). T is the prompt's frame when it has one; otherwise windows
slide from the sequence's first frame + K in steps of --stride (default H). A window whose
frames are not all in the sequence (past the end or the start, or across a gap) is
dropped and counted on stderr, never padded.
Prompts: --prompt TEXT (repeatable), or --prompts FILE with one prompt per line or JSON
lines {prompt, id?, seed?, frame?} (seed limits a prompt to that sequence, frame fixes
T). With --targets FILE and no prompts, each edit package is a prompt (its prompt, id,
seed, and T = its first target frame).
Targets: none (default; empty list, for pairless reward-driven training); baseline (the
baseline editor's deltas on the horizon frames as pseudo-labels; --regions, --lenient as
in pat-baseline); FILE (PAT_EDIT records: every edit of the sequence's seed and sim whose
prompt is the record's, or that has none, gives its targets on the horizon frames). To
name a file called none or baseline, write ./none.
Record id: <prompt id or sha256(prompt)[:12]>-<seed>-<T>. --split val=0.1[,test=0.1]
holds out whole groups, never single windows (windows of one seed overlap): the group is
the seed (--split-by seed, default; no frame of a val record is in a train record) or the
prompt id (--split-by prompt); a group goes to the first name whose cumulative fraction
exceeds the first 8 bytes of sha256("<seed>" or "<prompt id>") / 2^64, else train.
--format npz writes one archive (numpy.load, no pickle; layout pat-pack-npz/2): inputs
float32[R,K,P,F] in the order of features (angles as cos/sin pairs: phi_gf, and theta as
cos 2theta/sin 2theta), input_codes int8[R,K,P,D] (input_code_mask bool[R,K,P] when
some token has no code: its codes are 0; every code of an archive has one length D, a
code of another length is a data error); feature_mean/feature_std float32[F]
from the train split only (constant features: std 1, feature_constant); patch_ids,
patch_coords (x0,y0), patch_size (w,h), patch_partial, patch_mask bool[R,P];
target_deltas float32[R,H,P,G] and target_mask bool[R,H,P,G] in the order of
target_features, target_codes int8[R,H,P,D], target_code_mask bool[R,H,P]; intent_verbs,
intent_features, intent_regions str[R,I], intent_mask bool[R,I], region_masks
bool[R,I,P]; ids, prompts, splits, seeds, edit_frames, input_frames, target_frames, sims
(JSON text). All records of an archive need the same patch layout. npz retains every
record until the end; cbor and jsonl stream per sequence."""


def build_parser() -> argparse.ArgumentParser:
    parser = base.make_parser(NAME, SUMMARY, EXAMPLES, notes=NOTES)
    base.add_inputs(parser, help_text="PAT_FRAME stream(s), shard file or directory; '-' or nothing reads stdin")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--prompt", action="append", metavar="TEXT", help="an edit prompt (repeatable)")
    source.add_argument("--prompts", metavar="FILE", help="prompts file: text lines or JSON lines {prompt, id?, seed?, frame?}")
    parser.add_argument("--context", type=base.positive_int, required=True, metavar="K",
                        help="input frames before the edit frame")
    parser.add_argument("--horizon", type=base.positive_int, default=1, metavar="H",
                        help="target frames from the edit frame on (default 1)")
    parser.add_argument("--stride", type=base.positive_int, metavar="S",
                        help="step between sliding edit frames when a prompt has no frame (default H)")
    parser.add_argument("--targets", default="none", metavar="none|baseline|FILE",
                        help="where targets come from (default none: empty)")
    parser.add_argument("--regions", metavar="FILE", help="named regions for --targets baseline")
    parser.add_argument("--lenient", action="store_true",
                        help="with --targets baseline, skip prompt clauses that do not parse")
    parser.add_argument("--split", type=_split, metavar="NAME=FRACTION[,...]",
                        help="assign splits by group deterministically (e.g. val=0.1); the rest is train")
    parser.add_argument("--split-by", choices=["seed", "prompt"], default="seed",
                        help="the group a split holds out whole: seed (default; no frame is shared between "
                             "splits) or prompt")
    parser.add_argument("--format", choices=["cbor", "jsonl", "npz"], default=None,
                        help="output: cbor (default; jsonl when stdout is a terminal), jsonl, or an npz archive")
    parser.add_argument("--out", metavar="FILE", help="write to FILE atomically instead of stdout")
    base.add_validation(parser)
    base.add_verbosity(parser)
    return parser


def _split(text: str):
    from pattools.edit.pack import parse_split

    try:
        return parse_split(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def run(options: argparse.Namespace, streams: base.Streams) -> int:
    from pattools.edit import pack
    from pattools.io.atomic import atomic_writer

    if options.out:
        from pattools.io.paths import check_output_file

        check_output_file(options.out, "--out")
    mode = options.targets if options.targets in ("none", "baseline") else "file"
    edits = _edit_packages(options) if mode == "file" else []
    prompts = _prompts(options, edits)
    baseline = _baseline(options) if mode == "baseline" else None
    fmt = options.format or ("cbor" if options.out else base.output_format(options, streams))
    if fmt == "npz" and not options.out and _isatty(streams.stdout):
        raise UsageError("refusing to write an npz archive to a terminal (redirect stdout or use --out)")
    window = pack.Window(options.context, options.horizon, options.stride)
    tally = pack.PackTally()
    used: set[int] = set()
    index = pack.EditIndex(edits)
    frames = require_records(read_records(options.inputs, validate=options.validate,
                                          max_record_bytes=options.max_record_bytes, stdin=streams.stdin,
                                          shards=base.shard_reading(options, streams, NAME)),
                             options.inputs, "PAT_FRAME records")
    items = _packed(frames, prompts, window, mode, index, baseline, options, tally, used)
    if options.out:
        with atomic_writer(options.out) as stream:
            _write(items, stream, fmt)
    else:
        _write(items, streams.stdout, fmt)
        streams.stdout.flush()
    base.report(streams, f"{base.plural(tally.records, 'record')} packed ({fmt})", tally.records)
    _warn_unused(options, streams, tally, len(prompts) - len(used), len(prompts))
    return base.EXIT_OK


def _packed(frames, prompts: list, window, mode: str, index, baseline, options: argparse.Namespace, tally,
            used: set[int]):
    """The packed windows of every sequence, as they are made."""
    from pattools.edit.pack import pack_sequence
    from pattools.score.sequences import read_sequences

    for seq in read_sequences(frames):
        yield from pack_sequence(seq.seed, seq.sim, seq.frames, seq.tokens, prompts, window,
                                 targets=mode, edits=index, baseline=baseline, split=options.split,
                                 split_by=options.split_by, tally=tally, used=used, sources=seq.sources)


def _write(items, stream, fmt: str) -> None:
    if fmt == "npz":
        from pattools.io import encode_line
        from pattools.io.npz import encode_npz

        from pattools.edit.pack_tensors import TensorPack

        tensors = TensorPack()
        for item in items:
            tensors.add(item)
        stream.write(encode_npz(tensors.arrays(lambda sim: encode_line(sim).decode("utf-8").rstrip("\n"))))
        return
    writer = RecordWriter(stream, fmt)
    for item in items:
        writer.write(item.record)


def _warn_unused(options: argparse.Namespace, streams: base.Streams, tally, unused: int, prompts: int) -> None:
    if tally.dropped:
        base.warn(streams, NAME, f"dropped {tally.dropped} windows not wholly inside their sequence "
                                 f"(context {options.context}, horizon {options.horizon})", options)
    if unused:
        base.warn(streams, NAME, f"{unused} of {prompts} prompts made no record "
                                 "(seed not in the input, or no whole window)", options)


def _isatty(stream) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _edit_packages(options: argparse.Namespace) -> list:
    from pattools.edit.applier import edit_packages

    records = require_records(read_records([options.targets], validate=False,
                                           max_record_bytes=options.max_record_bytes, expand_shards=False),
                              [options.targets], "PAT_EDIT records")
    return list(edit_packages(records, validate=options.validate))


def _prompts(options: argparse.Namespace, edits: list) -> list:
    from pattools.edit.pack import PackPrompt, prompts_from_edits

    if options.prompt:
        return [PackPrompt(text) for text in options.prompt]
    if options.prompts:
        from pattools.cli.documents import read_prompts

        lines = read_prompts(options.prompts)
        return [PackPrompt(line.prompt, line.id, line.seed, line.frame) for line in lines]
    if edits:
        return prompts_from_edits([package for package, _, _ in edits])
    raise UsageError("give --prompt TEXT or --prompts FILE (or --targets FILE, whose edits carry their prompts)")


def _baseline(options: argparse.Namespace):
    try:
        from pattools.edit.editors import heuristic_edit
    except ModuleNotFoundError as exc:
        if exc.name != "pattools.edit.editors":
            raise
        raise UsageError("--targets baseline needs the baseline editor (pattools.edit.editors), "
                         "which this installation lacks") from None
    regions = None
    if options.regions:
        from pattools.cli.documents import read_regions

        regions = read_regions(options.regions)

    def edit(horizon, sim, seed, prompt):
        return heuristic_edit(horizon, sim, seed, prompt, regions=regions, lenient=options.lenient)

    return edit


main = base.entry_point(NAME, build_parser, run)

if __name__ == "__main__":
    main()
