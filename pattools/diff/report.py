"""The tally as PAT_DIFF records (for CI to archive) and as a table (for people).

Records: one ``summary`` first, then one ``field`` record per field that differs or moved
within its tolerance (in the order met), then one ``record`` record per record present
in one input only.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import BinaryIO

from pattools.diff.tally import FieldTally, Place, Tally

SHOWN_ONE_SIDED = 10  # records on one side only listed in the table (all are in the records)
WIDE = 132  # columns from which the table also shows the two values at the max
ROOMY = 100  # columns from which no cell wraps


def diff_records(tally: Tally) -> Iterator[dict]:
    """The PAT_DIFF records of a comparison."""
    yield summary_record(tally)
    for field in reported_fields(tally):
        yield field_record(field)
    for side, kind, key, index in tally.only:
        yield {"kind": "PAT_DIFF", "version": 1, "type": "record", "side": side, "recordKind": kind,
               "record": key, "index": index}


def reported_fields(tally: Tally) -> list[FieldTally]:
    return [field for field in tally.fields.values() if field.differs or field.max_abs]


def summary_record(tally: Tally) -> dict:
    differing = [field for field in tally.fields.values() if field.differs]
    only_a = sum(side == "a" for side, *_ in tally.only)
    return {"kind": "PAT_DIFF", "version": 1, "type": "summary", "equal": tally.equal,
            "records": {"a": tally.records_a, "b": tally.records_b}, "matched": tally.matched,
            "onlyA": only_a, "onlyB": len(tally.only) - only_a, "fields": len(differing),
            "values": sum(field.differing + field.only_a + field.only_b for field in differing)}


def field_record(field: FieldTally) -> dict:
    record = {"kind": "PAT_DIFF", "version": 1, "type": "field", "recordKind": field.kind, "field": field.name,
              "differing": field.differing, "onlyA": field.only_a, "onlyB": field.only_b,
              "maxAbs": field.max_abs, "atol": field.tolerance.atol, "rtol": field.tolerance.rtol,
              "period": field.tolerance.period}
    if field.max_place is not None and field.max_values is not None:
        record["atMax"] = _place(field.max_place, field.max_values)
    if field.first is not None and field.first_values is not None:
        record["first"] = _place(field.first, field.first_values)
    return record


def _place(place: Place, values: tuple[object, object]) -> dict:
    out: dict = {"record": place.record, "path": place.path}
    if place.patch_id is not None:
        out["patchId"] = place.patch_id
    out["a"], out["b"] = values
    return out


def one_line(tally: Tally) -> str:
    """The outcome in one line (stderr when the report goes to a pipe)."""
    summary = summary_record(tally)
    matched = f"{summary['matched']} records matched"
    if summary["equal"]:
        return f"equal within tolerance; {matched}"
    parts = [f"{summary['fields']} fields differ ({summary['values']} values)"] if summary["fields"] else []
    if summary["onlyA"] or summary["onlyB"]:
        parts.append(f"{summary['onlyA']} records only in A, {summary['onlyB']} only in B")
    return "; ".join(parts + [matched])


def print_table(tally: Tally, names: tuple[str, str], stream: BinaryIO) -> None:
    """The report as a rich table (on a terminal, or --format table)."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    text = io.StringIO()
    console = Console(file=text, force_terminal=None, width=_width(stream))
    console.print(f"A: {names[0]}\nB: {names[1]}", highlight=False)
    fields = reported_fields(tally)
    with_kind = len({field.kind for field in fields}) > 1
    with_values = console.width >= WIDE
    if fields:
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
        roomy = console.width >= ROOMY  # else the places wrap, and counts and |Δ| keep their room
        table.add_column("field", no_wrap=roomy, overflow="fold")
        if with_kind:
            table.add_column("kind", no_wrap=True)
        table.add_column("differ", justify="right", no_wrap=True, min_width=6)
        table.add_column("max |Δ|", justify="right", no_wrap=True, min_width=8)
        table.add_column("at max", no_wrap=roomy, overflow="fold")
        if with_values:
            table.add_column("A", justify="right", no_wrap=True)
            table.add_column("B", justify="right", no_wrap=True)
        table.add_column("first difference", no_wrap=roomy, overflow="fold")
        for field in fields:
            table.add_row(*_row(field, with_kind, with_values), style=None if field.differs else "dim")
        console.print(table)
    if tally.only:
        _one_sided(console, tally)
    console.print(_verdict(tally), style="bold", highlight=False)
    stream.write(text.getvalue().encode())


def _row(field: FieldTally, with_kind: bool, with_values: bool) -> list[str]:
    counts = [str(field.differing)] if field.differing else []
    counts += [f"{field.only_a} only in A"] if field.only_a else []
    counts += [f"{field.only_b} only in B"] if field.only_b else []
    cells = [field.name] + ([field.kind] if with_kind else [])
    cells += [", ".join(counts) or "0", _number(field.max_abs), _where(field.max_place)]
    if with_values:
        a, b = field.max_values if field.max_values else ("", "")
        cells += [_value(a), _value(b)]
    return cells + [_record(field.first.record) if field.first else "-"]


def _record(key: dict) -> str:
    return " ".join(f"{name} {value}" for name, value in key.items())


def _where(place: Place | None) -> str:
    if place is None:
        return ""
    return _record(place.record) + (f" patch {place.patch_id}" if place.patch_id else "")


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


def _value(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.8g}"
    text = str(value)
    return text if len(text) <= 24 else text[:21] + "..."


def _one_sided(console, tally: Tally) -> None:
    for side, label in (("a", "only in A"), ("b", "only in B")):
        records = [(kind, key) for s, kind, key, _ in tally.only if s == side]
        if not records:
            continue
        shown = ", ".join(f"{kind} {_record(key)}" for kind, key in records[:SHOWN_ONE_SIDED])
        more = f" and {len(records) - SHOWN_ONE_SIDED} more" if len(records) > SHOWN_ONE_SIDED else ""
        console.print(f"{len(records)} records {label}: {shown}{more}", highlight=False)


def _verdict(tally: Tally) -> str:
    return one_line(tally) if tally.equal else "different: " + one_line(tally)


def _width(stream: BinaryIO) -> int:
    """The terminal's width; a log (--format table into a pipe) gets the wide table."""
    import os

    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError):
        return WIDE
