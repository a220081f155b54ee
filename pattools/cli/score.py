"""pat-score: EditReward of an edit from base and edited replays (or running them itself)."""

from __future__ import annotations

import argparse

from pattools.cli import base
from pattools.cli.ranges import parse_range
from pattools.errors import DataError, UsageError
from pattools.io import RecordWriter, read_records
from pattools.io.nonempty import require_records

NAME = "pat-score"
SUMMARY = "EditReward: faithfulness per intent, preservation drift, determinism, edit size and code usage of an edit."
EXAMPLES = (
    "pat-score --original frames.cbor --edit edit.cbor --table > score.cbor",
    "pat-score --base base.cbor --edited edited.cbor --edit edit.cbor --edited2 edited2.cbor",
    "pat-score --original frames.cbor --edit edits.cbor --decoder tokens --halo 1 --lambda 0.5",
    "pat-score --summary --table scores/*.cbor --format jsonl > summary.jsonl",
)
NOTES = """\
Per intent i over its region R_i and the evaluation window (first target frame to the
end, or --window): effect_i = mean(f_E - f_B), faith_i = tanh(sign_i * effect_i / s_f)
with scales s_f: rho, entropyRate, energy, attnMean, arousal, valence 0.05; gradPhi
0.1; kappa 0.2; phi_gf pi/8 (circular difference); defects 1 per patch (metrics
patchDefects when present, else |vortex|). An amplitude intent is scored on rho
(exported tokens carry A = 1). "reduce vortices" is scored on defects; a
flip is scored against the base and chaos: over patch-frames with non-zero base
chirality, the share reversed (chir_E = -chir_B) in the region minus the share reversed
in the background over the same frames (a whole-grid flip, without background:
max(0, reversed share - kept share)); unchanged scores 0, a scrambled lattice about 0.
faithfulness = mean over intents.
drift = mean over background patches (in no R_i; --halo N also excludes N rings of
neighbours), frames and the features rho, entropyRate, gradPhi, kappa, phi_gf, defects,
energy of |f_E - f_B| / s_f. editReward = faithfulness - lambda * drift. An edit with
no effective deltas (applied to the original frames, or to B without --original), or an
empty window, scores exactly 0.
determinismRMSE: RMSE over every numeric token field between two edited replays (--edited2,
or the second replay pat-score runs with --original); null when not measured.
editSize: mean L1 of the applied rvq deltas per edited token. atlas: TokenAtlas per-dim
usage and perplexity and joint perplexity of B and E pooled over the window, their
deltas, and healthy = every per-dim perplexity within +-0.5 of the base.

With --original O (and no --base/--edited), pat-score replays O without and with each
edit of --edit, each twice, and scores every edit (one PAT_SCORE per edit). From files,
each sequence of --edited is scored against the --base sequence of its seed and the edit
its replay block names (or the only edit for that seed).
--summary reads PAT_SCORE records and writes one record per editor (scope "mean"):
mean editReward, faithfulness and drift. --table prints tables to stderr.
Memory: retains all inputs."""


def build_parser() -> argparse.ArgumentParser:
    parser = base.make_parser(NAME, SUMMARY, EXAMPLES, notes=NOTES)
    parser.add_argument("inputs", nargs="*", metavar="INPUT",
                        help="with --summary: PAT_SCORE records ('-' or nothing reads stdin)")
    parser.add_argument("--edit", metavar="FILE", help="the edit package(s) (PAT_EDIT)")
    parser.add_argument("--base", metavar="FILE", help="base replay (no edit)")
    parser.add_argument("--edited", metavar="FILE", help="edited replay")
    parser.add_argument("--edited2", metavar="FILE", help="a second edited replay, for the determinism RMSE")
    parser.add_argument("--original", metavar="FILE",
                        help="the original frames: pat-score replays them itself (or, with --base/--edited, "
                             "the frames the edit's effective deltas are computed on)")
    parser.add_argument("--decoder", choices=("delta", "tokens", "live"), default=None,
                        help="replay decoder with --original (default: pat-replay's default, delta)")
    parser.add_argument("--window", type=parse_range, metavar="A:B",
                        help="evaluation frames A..B-1 (default: first target frame to the end)")
    parser.add_argument("--lambda", dest="lam", type=base.non_negative_float, default=1.0, metavar="L",
                        help="drift weight in editReward = faithfulness - L * drift (default 1)")
    parser.add_argument("--halo", type=base.non_negative_int, default=0, metavar="N",
                        help="also exclude N rings of neighbours of the intent regions from the background "
                             "(default 0)")
    parser.add_argument("--regions", metavar="FILE",
                        help="regions file, for intents that name a region without recorded patches")
    parser.add_argument("--summary", action="store_true",
                        help="summarize PAT_SCORE inputs: one mean record per editor")
    parser.add_argument("--table", action="store_true", help="also print a table to stderr")
    base.add_format(parser)
    base.add_validation(parser)
    base.add_shard_reading(parser)
    base.add_verbosity(parser)
    return parser






def run(options: argparse.Namespace, streams: base.Streams) -> int:
    writer = RecordWriter(streams.stdout, base.output_format(options, streams))
    if options.summary:
        return _summary(options, streams, writer)
    if options.inputs != ["-"] and options.inputs:
        raise UsageError("positional inputs are for --summary; give replays with --base/--edited or --original")
    if options.edit is None:
        raise UsageError("--edit is required (the edit package to score)")
    from_files = options.base is not None or options.edited is not None
    if from_files and (options.base is None or options.edited is None):
        raise UsageError("--base and --edited go together")
    if not from_files and options.original is None:
        raise UsageError("give --base B --edited E, or --original O")
    if from_files and options.decoder is not None:
        raise UsageError("--decoder applies to --original without --base/--edited")

    from pattools.cli.documents import read_regions
    from pattools.score.evaluate import ScoreSettings
    from pattools.score.runner import load_edits, load_sequences, score_files, score_original

    settings = ScoreSettings(lam=options.lam, halo=options.halo, window=options.window)
    regions = read_regions(options.regions) if options.regions else None

    def sequences(name: str | None, keep_records: bool = False):
        if name is None:
            return None
        return load_sequences(require_records(
            read_records([name], validate=options.validate, max_record_bytes=options.max_record_bytes,
                         stdin=streams.stdin, shards=base.shard_reading(options, streams, NAME), columns=True),
            [name], "PAT_FRAME records"), keep_records)

    edits = load_edits(require_records(
        read_records([options.edit], validate=options.validate, max_record_bytes=options.max_record_bytes,
                     stdin=streams.stdin), [options.edit], "PAT_EDIT records"))
    if not edits:
        raise DataError("no PAT_EDIT records", input=options.edit)
    if from_files:
        from pattools.score.matched import check_matched

        base_seqs, edited_seqs, edited2_seqs = (sequences(options.base), sequences(options.edited),
                                                sequences(options.edited2))
        check_matched(base_seqs, edited_seqs, "the edited replay")
        if edited2_seqs is not None:
            check_matched(base_seqs, edited2_seqs, "the second edited replay")
        scores = score_files(base_seqs, edited_seqs, edits, edited2=edited2_seqs,
                             reference=sequences(options.original), regions=regions, settings=settings)
    else:
        scores = score_original(sequences(options.original, keep_records=True), edits, decoder=options.decoder,
                                regions=regions, settings=settings)
    count = 0
    for score in scores:
        writer.write(score)
        count += 1
        base.report(streams, f"{base.plural(count, 'edit')} scored", count, "scores")
        if options.table:
            from pattools.score.table import print_score_table

            print_score_table(score, streams.stderr)
    return base.EXIT_OK


def _summary(options: argparse.Namespace, streams: base.Streams, writer: RecordWriter) -> int:
    from pattools.score.summary import summarize

    records = require_records(read_records(options.inputs, validate=options.validate,
                                           max_record_bytes=options.max_record_bytes, stdin=streams.stdin),
                              options.inputs or ["-"], "PAT_SCORE records")
    rows = summarize((r.value, r.input, r.index) for r in records)
    for row in rows:
        writer.write(row)
    base.report(streams, f"{base.plural(records.count, 'score')} summarized in {base.plural(len(rows), 'row')}",
                records.count, "records")
    if options.table:
        from pattools.score.table import print_summary_table

        print_summary_table(rows, streams.stderr)
    return base.EXIT_OK


main = base.entry_point(NAME, build_parser, run)

if __name__ == "__main__":
    main()
