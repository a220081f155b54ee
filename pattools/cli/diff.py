"""pat-diff: compare two PAT outputs field by field, with tolerances, for CI regression diffs."""

from __future__ import annotations

import argparse

from pattools.cli import base
from pattools.errors import DataError, UsageError

NAME = "pat-diff"
SUMMARY = "Compare two PAT outputs field by field with tolerances; exit 0 equal, 1 different, 2 trouble."
EXAMPLES = (
    "pat-diff old/frames.cbor new/frames.cbor",
    "pat-diff --tol stats.rho=1e-6 --tol energy=1e-3 --ignore replay,hdr.t base.cbor edited.cbor",
    "pat-diff --atol 1e-9 --rtol 1e-6 out/pat_shards frames.jsonl",
    "pat-diff -q a.cbor b.cbor || echo 'outputs changed'",
    "pat-diff --format jsonl a.cbor b.cbor > diff.jsonl   # PAT_DIFF records for CI to archive",
)
EXIT_STATUS_TEXT = """\
0    the inputs are equal within tolerance
1    they differ (values beyond tolerance, or records, keys or tokens on one side only)
2    they could not be compared: usage error, or an input missing, unreadable or invalid
     (like cmp and diff; the other commands exit 1 on bad input data)
130  interrupted (Ctrl-C)
141  the downstream reader closed the pipe (e.g. | head); nothing is printed"""
NOTES = """\
Inputs are any PAT input: a stream (CBOR or JSONL), a shard file or a shard directory,
of any record kind; '-' is stdin (for one of the two). Records are paired by kind and
key: PAT_FRAME by seed and frame (tokens by patchId), PAT_EDIT and PAT_PACK by id,
PAT_SCORE by edit and seed, NUPCA_TRACE by t, other kinds by position. Records on one
side only are reported (two empty inputs are equal). Every record is validated first.

A FIELD is a dotted path without array positions (tokens.stats.rho) or any contiguous
part of one: stats.rho names tokens.stats.rho and edit.applied.stats.rho; replay names
the whole replay block. Two numbers differ when |a - b| > atol + rtol * max(|a|, |b|);
angles (geom.phi_gf, head phases: period 2 pi; the orientation geom.theta: period pi)
are compared on the circle. Anything else must be equal, type included.

Report: on a terminal, a table of the fields that differ (count of differing values,
max |delta| and where, the two values there, the first difference); otherwise PAT_DIFF
records (--format): a summary, one record per field that differs or moved within its
tolerance, one per record on one side only; and one line on stderr. Exit status, like
cmp and diff: 0 equal within tolerance, 1 different, 2 could not compare (a missing,
unreadable or invalid input is 2 here; the other commands exit 1 on bad input data)."""


def build_parser() -> argparse.ArgumentParser:
    parser = base.make_parser(NAME, SUMMARY, EXAMPLES, notes=NOTES)
    parser.epilog = ("exit status: 0 equal within tolerance, 1 different, 2 could not compare (missing, unreadable "
                     "or invalid input, usage error), 130 interrupted, 141 downstream closed the pipe. See man pat-diff.")
    parser.add_argument("a", metavar="A", help="the first input (a stream, shard file, shard directory or -)")
    parser.add_argument("b", metavar="B", help="the second input")
    parser.add_argument("--atol", type=base.non_negative_float, default=0.0, metavar="X",
                        help="absolute tolerance of every number (default 0)")
    parser.add_argument("--rtol", type=base.non_negative_float, default=0.0, metavar="X",
                        help="relative tolerance of every number (default 0)")
    parser.add_argument("--tol", action="append", default=[], metavar="FIELD=ATOL[,RTOL]",
                        help="tolerance of one field (repeatable), e.g. stats.rho=1e-6; RTOL defaults to --rtol")
    parser.add_argument("--ignore", action="append", default=[], metavar="FIELD[,FIELD...]",
                        help="fields not compared (repeatable), e.g. --ignore replay,hdr.t")
    parser.add_argument("--format", choices=["table", "cbor", "jsonl"], default=None,
                        help="report as a table, or PAT_DIFF records (default: table on a terminal, else cbor)")
    parser.add_argument("--max-record-bytes", type=base.positive_int, default=256 * 1024 * 1024, metavar="N",
                        help="refuse any input record larger than N bytes (default 256 MiB)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no report: the exit status only")
    base.add_shard_reading(parser)
    return parser


def run(options: argparse.Namespace, streams: base.Streams) -> int:
    """Exit 0 equal, 1 different; every failure to compare is 2 (like cmp and diff)."""
    try:
        rules = _rules(options)
        tally = _compare(options, streams, rules)
    except (DataError, UsageError) as error:
        streams.stderr.write(f"{NAME}: {error}\n")
        return base.EXIT_USAGE
    code = base.EXIT_OK if tally.equal else base.EXIT_DATA
    if options.quiet:
        return code
    _report(options, streams, tally)
    return code


def _rules(options: argparse.Namespace):
    from pattools.diff.fields import Rules, parse_field, parse_tolerance

    if options.a == "-" and options.b == "-":
        raise UsageError("only one input can be stdin ('-')")
    return Rules(atol=options.atol, rtol=options.rtol,
                 tolerances=[parse_tolerance(text) for text in options.tol],
                 ignored=[parse_field(text) for given in options.ignore for text in given.split(",")])


def _compare(options: argparse.Namespace, streams: base.Streams, rules):
    from pattools.diff.compare import compare_streams
    from pattools.io import read_records

    def records(name: str):
        return read_records([name], validate=True, max_record_bytes=options.max_record_bytes, stdin=streams.stdin,
                            shards=base.shard_reading(options, streams, NAME))

    return compare_streams(records(options.a), records(options.b), rules)


def _report(options: argparse.Namespace, streams: base.Streams, tally) -> None:
    from pattools.diff import report

    fmt = options.format
    isatty = getattr(streams.stdout, "isatty", None)
    if fmt == "table" or fmt is None and isatty is not None and isatty():
        report.print_table(tally, (options.a, options.b), streams.stdout)
        return
    from pattools.io import RecordWriter

    writer = RecordWriter(streams.stdout, fmt or "cbor")
    for record in report.diff_records(tally):
        writer.write(record)
    streams.stdout.flush()
    streams.stderr.write(f"{NAME}: {report.one_line(tally)}\n")


main = base.entry_point(NAME, build_parser, run)

if __name__ == "__main__":
    main()
