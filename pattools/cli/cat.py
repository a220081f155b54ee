"""pat-cat: read any PAT input, convert framing, select, validate, count and summarize."""

from __future__ import annotations

import argparse

from pattools.cli import base
from pattools.cli.ranges import in_range, parse_range, parse_seed_list
from pattools.io import RecordWriter, read_records

NAME = "pat-cat"
SUMMARY = "Read PAT data (streams, shard files, shard directories), convert CBOR<->JSONL, select, validate."
EXAMPLES = (
    "pat-cat out/pat_shards --format jsonl | jq .frame",
    "pat-export --seeds 1,2 | pat-cat --seed 2 --frames 4:8 > part.cbor",
    "pat-cat --count frames.cbor",
    "pat-cat --summary out/pat_shards",
    "pat-cat --check out/pat_shards && echo verified",
    "pat-cat --no-validate big.jsonl --format cbor > big.cbor",
)


def build_parser() -> argparse.ArgumentParser:
    parser = base.make_parser(NAME, SUMMARY, EXAMPLES, notes=(
        "Inputs are read in order and concatenated; a shard directory streams as PAT_FRAME\n"
        "records (sim block from the manifest). Selection keeps records whose seed/frame fall\n"
        "in the given sets; records without those fields pass through.\n"
        "A shard directory yields exactly the frames its manifest.json describes, checksums verified\n"
        "(--no-verify skips them), or exits 1 naming the shard and the problem."))
    base.add_inputs(parser)
    base.add_format(parser)
    parser.add_argument("--seed", "--seeds", dest="seeds", type=parse_seed_list, metavar="SEEDS",
                        help="keep only these seeds (list and half-open ranges: 1,2,10:20)")
    parser.add_argument("--frames", type=parse_range, metavar="A:B",
                        help="keep only frames A..B-1 (half-open; either end may be left out)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--count", action="store_true",
                      help="print one PAT_SUMMARY record with the number of records per kind instead of the records")
    mode.add_argument("--summary", action="store_true",
                      help="print one PAT_SUMMARY record: records per kind, per-seed frames, grid, tokens per frame "
                           "and TokenAtlas code usage/perplexity (a table when stdout is a terminal)")
    mode.add_argument("--check", action="store_true",
                      help="read and verify everything (framing, schema, checksums, the manifest's description) "
                           "without writing records; exit 0 when all is well, 1 naming the first problem")
    base.add_validation(parser)
    base.add_verbosity(parser)
    return parser


def run(options: argparse.Namespace, streams: base.Streams) -> int:
    records = read_records(options.inputs, validate=options.validate,
                           max_record_bytes=options.max_record_bytes, stdin=streams.stdin,
                           shards=base.shard_reading(options, streams, NAME))
    seeds = set(options.seeds) if options.seeds is not None else None
    selected = (record for record in records if _selected(record.value, seeds, options.frames))
    if options.count or options.summary:
        from pattools.cli.summary_view import summarize_and_print

        summarize_and_print(selected, options, streams, with_sequences=options.summary)
        return base.EXIT_OK
    if options.check:
        count = sum(1 for _ in selected)
        base.warn(streams, NAME, f"{', '.join(options.inputs)}: ok ({count} records)", options)
        return base.EXIT_OK
    writer = RecordWriter(streams.stdout, base.output_format(options, streams))
    for record in selected:
        writer.write(record.document())
    return base.EXIT_OK


def _selected(value: dict, seeds: set[int] | None, frames: tuple[int | None, int | None] | None) -> bool:
    if seeds is not None and "seed" in value and value["seed"] not in seeds:
        return False
    if frames is not None and "frame" in value and not in_range(value["frame"], frames):
        return False
    return True


main = base.entry_point(NAME, build_parser, run)

if __name__ == "__main__":
    main()
