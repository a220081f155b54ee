"""pat-apply: apply ΔPAT edits to PAT frames deterministically."""

from __future__ import annotations

import argparse

from pattools.cli import base
from pattools.io import RecordWriter, read_records
from pattools.io.nonempty import require_records

NAME = "pat-apply"
SUMMARY = "Apply ΔPAT edit packages (PAT_EDIT) to PAT frames with bounded, clamped, wrapped and saturated deltas."
EXAMPLES = (
    "pat-export --seeds 1 --frames 8 | pat-apply --edit edit.cbor | pat-cat --format jsonl",
    "pat-apply --edit edits.cbor frames.cbor > edited.cbor",
    "pat-apply --edit edit.cbor --clip --bounds my-bounds.json out/pat_shards > edited.cbor",
    "pat-apply --edit edit.cbor --lenient --recode frames.cbor | pat-replay > replayed.cbor",
)
STACK_FRAMES = 64  # validated frames edited together; bounds memory and output latency
STACK_TOKENS = 1 << 15

NOTES = """\
Each PAT_EDIT applies to the frames of its seed and sim block (grid, scale, physics);
an edit file may hold many. For each target frame the DPats apply in order:
  code.rvq[d]     <- clamp(rvq[d] + rvqDelta[d], 0, 3)  (saturating; length must match)
  stats.*, geom.A <- clamp(x + d, 0, 1)
  geom.phi_gf     <- wrap(x + d) into (-pi, pi]
  geom.theta      <- wrap(x + d) into (-pi/2, pi/2]  (an orientation: period pi)
  geom.gradPhi, geom.kappa <- max(0, x + d)
  topo.vortex, topo.chirality <- clamp(x + d, -1, 1)
Several DPats for one patch apply one after another. A target's dA.heads hint gives the
tokens it touches heads = the hint phases (0 where a head has none).
Every changed frame gets edit: {id, applied[, dA]}: applied lists the effective deltas
(after clamping, saturating and wrapping; angle deltas as wrapped differences), one DPat
per touched token in token order; a second edit appends to applied and joins the ids
with "+"; dA is the latest edit's head hints. Frames no edit targets, and every field
no DPat names, pass through unchanged (frames byte for byte).
Bounds on each delta (default; --bounds FILE overrides any subset, see the file
pattools/data/bounds.json): |rvqDelta| <= 1, stats and A +-0.25, phi_gf and theta +-pi/4,
gradPhi and kappa +-0.5, topo +-2. An out-of-bound delta is a data error; --clip clips
it and counts the clips on stderr.
Data errors (exit 1): an unknown patchId (--lenient skips and counts it), an rvqDelta of
the wrong length, a NaN, a record of another kind, repro disagreeing with sim, and an
edit whose seed, sim or target frames never appear in the input (reported after the
stream; --lenient makes these warnings). Without --recode, applying edit E1 then E2
equals applying their concatenation; --recode recomputes code.rvq of touched tokens from
their edited fields (codebook PAT_LFQ_v1)."""


def build_parser() -> argparse.ArgumentParser:
    parser = base.make_parser(NAME, SUMMARY, EXAMPLES, notes=NOTES)
    base.add_inputs(parser, help_text="PAT_FRAME stream(s), shard file or directory; '-' or nothing reads stdin")
    parser.add_argument("--edit", action="append", required=True, metavar="EDITS",
                        help="PAT_EDIT records (CBOR sequence or JSONL; repeatable: files apply in order)")
    parser.add_argument("--bounds", metavar="FILE", help="JSON bounds file overriding the default delta bounds")
    parser.add_argument("--clip", action="store_true",
                        help="clip out-of-bound deltas to the bounds (counted on stderr) instead of failing")
    parser.add_argument("--lenient", action="store_true",
                        help="skip DPats with unknown patchIds (counted on stderr), and only warn about edits "
                             "whose seed, sim or target frames are not in the input")
    parser.add_argument("--recode", action="store_true",
                        help="recompute code.rvq of edited tokens from their edited fields after the deltas")
    base.add_format(parser)
    base.add_validation(parser)
    base.add_verbosity(parser)
    return parser


def run(options: argparse.Namespace, streams: base.Streams) -> int:
    from pattools.edit.applier import EditApplier, load_edits
    from pattools.cli.documents import read_bounds
    from pattools.edit.bounds import Bounds

    bounds = read_bounds(options.bounds) if options.bounds else Bounds.default()
    edit_records = (record for name in options.edit for record in require_records(
        read_records([name], validate=False, max_record_bytes=options.max_record_bytes, stdin=streams.stdin,
                     expand_shards=False), [name], "PAT_EDIT records"))
    edits = load_edits(edit_records, bounds, clip=options.clip, validate=options.validate)
    applier = EditApplier(edits, lenient=options.lenient, recode=options.recode)
    base.settle_long_lived(streams)  # the loaded edits live all run: keep the collector off them
    fmt = base.output_format(options, streams)
    writer = RecordWriter(streams.stdout, fmt)
    frames = require_records(read_records(
        options.inputs, validate=options.validate, max_record_bytes=options.max_record_bytes, stdin=streams.stdin,
        shards=base.shard_reading(options, streams, NAME), columns=True), options.inputs, "PAT_FRAME records")
    pending: list = []  # (record, columns or None), edited together (pattools.edit.stacked)
    pending_tokens = 0
    may_target = applier.may_target
    for record in frames:
        columns = _columns(record) if may_target(record.value) else None  # None: written as read
        pending.append((record, columns))
        pending_tokens += len(columns) if columns is not None else 0 if record.tokens is None else len(record.tokens)
        if len(pending) >= STACK_FRAMES or pending_tokens >= STACK_TOKENS:
            _write_stacked(applier, pending, writer)
            pending, pending_tokens = [], 0
    _write_stacked(applier, pending, writer)
    streams.stdout.flush()
    tally = applier.tally
    base.report(streams, f"{base.plural(frames.count, 'frame')} read, {tally.frames_changed} edited by "
                         f"{base.plural(len(edits), 'edit')}", frames.count, "frames")
    if tally.clips:
        base.warn(streams, NAME, f"clipped {tally.clips} out-of-bound deltas to the bounds", options)
    if tally.skipped:
        base.warn(streams, NAME, f"skipped {tally.skipped} DPats with unknown patchIds", options)
    problems = applier.unmatched()
    for problem in problems:
        if options.lenient:
            base.warn(streams, NAME, f"warning: {problem}", options)
        else:
            streams.stderr.write(f"{NAME}: {problem}\n")
    return base.EXIT_DATA if problems and not options.lenient else base.EXIT_OK


def _columns(record):
    """The tokens of a frame an edit may change, as columns."""
    if record.tokens is None:
        from pattools.errors import DataError

        raise DataError("missing required field", input=record.input, record=record.index, path="tokens")
    return record.tokens.frame()


def _write_stacked(applier, pending: list, writer: RecordWriter) -> None:
    """Edit the frames of ``pending`` together and write every record in order: unchanged
    ones as read, edited ones from their columns."""
    from pattools.edit.applier import block_parts, edited_envelope

    if not pending:
        return
    results = applier.apply_frames([(record.value, columns) for record, columns in pending])
    for (record, _), result in zip(pending, results):
        if result is None:
            writer.write_record(record)
            continue
        tokens, changes = result
        if "edit" in record.value:  # an earlier edit block: extend it as maps
            writer.write_frame(edited_envelope(record.value, changes), tokens)
        else:
            writer.write_edited_frame(record.value, tokens, *block_parts(changes))


main = base.entry_point(NAME, build_parser, run)

if __name__ == "__main__":
    main()
