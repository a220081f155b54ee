"""pat-cat --count / --summary: build the PAT_SUMMARY record and show it."""

from __future__ import annotations

import argparse
from collections.abc import Iterable

from pattools.cli import base
from pattools.errors import DataError
from pattools.io import Record, RecordWriter
from pattools.summary import Summarizer


def summarize_and_print(records: Iterable[Record], options: argparse.Namespace, streams: base.Streams,
                        *, with_sequences: bool) -> None:
    summarizer = Summarizer(with_sequences=with_sequences)
    for record in records:
        try:
            summarizer.add(record.value, record.tokens)
        except DataError as error:
            raise error.located(input=record.input, record=record.index) from None
    summary = summarizer.record()
    fmt = options.format
    isatty = getattr(streams.stdout, "isatty", None)
    if fmt is None and isatty is not None and isatty():
        from pattools.cli.tables import print_summary_table

        print_summary_table(summary, streams.stdout)
        return
    RecordWriter(streams.stdout, fmt or "cbor").write(summary)
