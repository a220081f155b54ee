"""The Python API for notebooks: records in and out, and the commands as functions.

Names end in what they return or act on (``replay_frames``, ``score_edits``), so they
never collide with the subpackages of the same stem. Every command function runs that command's own parser and ``run`` in-process, with the
in-memory records as its input stream and its output decoded back into records; so a
result is exactly what the command would print, and there is no second implementation to
drift from it. Keyword arguments are the command's flags (``gamma_k=0.5`` is
``--gamma-k 0.5``; ``True`` gives a bare flag, ``False``/``None`` leaves it out, a list or
tuple of paths or values repeats it). Bad data raises ``pattools.DataError`` with the command's message;
a bad flag raises ``pattools.UsageError``. A command that would exit non-zero raises too, with
its last message (``DataError`` for status 1, ``UsageError`` for 2), except ``pat-diff``'s 1,
which only says the inputs differ. Warnings go to ``sys.stderr``.

Inputs (``frames``, ``edit``, …) may be a list of records (dicts), one record, ``bytes``
of a stream, or a path (``str`` or ``os.PathLike``) of a file or shard directory.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Union

from pattools.errors import UsageError

Source = Union[str, os.PathLike, bytes, Mapping, Iterable[Mapping]]
Records = list[dict]


# ---- records ----------------------------------------------------------------------------

def iter_records(*inputs: str | os.PathLike | bytes, validate: bool = True) -> Iterator[dict]:
    """Records of every input in order: paths (stream or shard file or shard directory) or bytes."""
    from pattools.io import read_records

    for source in inputs:
        if isinstance(source, (bytes, bytearray)):
            yield from (r.document() for r in read_records(["-"], validate=validate, stdin=io.BytesIO(source)))
        else:
            yield from (r.document() for r in read_records([os.fspath(source)], validate=validate))


def read_records(*inputs: str | os.PathLike | bytes, validate: bool = True) -> Records:
    """All records of the inputs, as a list (see ``iter_records``)."""
    return list(iter_records(*inputs, validate=validate))


def dumps(records: Mapping | Iterable[Mapping], format: str = "cbor") -> bytes:
    """The bytes of ``records`` as a canonical CBOR sequence or JSON lines (what the commands write)."""
    from pattools.io import RecordWriter

    buffer = io.BytesIO()
    writer = RecordWriter(buffer, format)
    for record in _as_list(records):
        writer.write(record)
    return buffer.getvalue()


def loads(data: bytes, *, validate: bool = True) -> Records:
    """Records from the bytes of a stream (CBOR sequence or JSON lines, sniffed)."""
    return read_records(data, validate=validate)


def write_records(records: Mapping | Iterable[Mapping], path: str | os.PathLike, format: str | None = None) -> None:
    """Write records to ``path`` atomically; format from the suffix (``.jsonl``/``.json``: JSON lines) or CBOR."""
    from pattools.io import write_atomic

    if format is None:
        format = "jsonl" if Path(path).suffix in (".jsonl", ".json") else "cbor"
    write_atomic(Path(path), dumps(records, format))


# ---- commands ---------------------------------------------------------------------------

def export_frames(seeds: int | str | Iterable[int] = 1234, **flags: Any) -> Records:
    """``pat-export``: PAT_FRAME records of the given seeds (``W=64, H=64, frames=8, scale=16, metrics=True``…)."""
    if not isinstance(seeds, str):
        seeds = ",".join(str(s) for s in ([seeds] if isinstance(seeds, int) else seeds))
    return run_command("pat-export", seeds=seeds, **flags)


def baseline_edits(frames: Source, prompt: str | None = None, **flags: Any) -> Records:
    """``pat-baseline``: PAT_EDIT records for ``prompt`` on the frames (``frames="2:"``, ``editor="random"``…).

    ``frames`` here are the input records; the ``--frames`` flag (target frames) is ``target_frames``.
    """
    if "target_frames" in flags:
        flags["frames"] = flags.pop("target_frames")
    return run_command("pat-baseline", frames, prompt=prompt, **flags)


def apply_edits(frames: Source, edit: Source, **flags: Any) -> Records:
    """``pat-apply``: the frames with the edit packages applied (``clip=True``, ``bounds={...}``…)."""
    return run_command("pat-apply", frames, edit=edit, **flags)


def replay_frames(frames: Source, **flags: Any) -> Records:
    """``pat-replay``: the replayed frames (``edit=...``, ``decoder="live"``, ``gamma_k=0.5``…)."""
    return run_command("pat-replay", frames, **flags)


def score_edits(original: Source | None = None, *, edit: Source, **flags: Any) -> Records:
    """``pat-score``: one PAT_SCORE per edit. Replays ``original`` itself, or scores
    ``base=``/``edited=`` (and ``edited2=``) replays made elsewhere."""
    return run_command("pat-score", original=original, edit=edit, **flags)


# Flags whose value is a file the command reads: in-memory values are written to a
# temporary file first (records as CBOR, a mapping as JSON).
_FILE_FLAGS = frozenset({"edit", "bounds", "regions", "prompts", "base", "edited", "edited2", "original", "targets"})


def run_command(command: str, *inputs: Source, **flags: Any) -> Records:
    """Run any command in-process on in-memory inputs and return its output records."""
    return loads(run_bytes(command, *inputs, **flags), validate=False)


def run_bytes(command: str, *inputs: Source, **flags: Any) -> bytes:
    """Like ``run_command``, but return the command's stdout bytes (CBOR unless ``format="jsonl"``)."""
    from pattools.cli import base
    from pattools.cli.commands import by_name

    module = importlib.import_module(by_name(command).module)
    flags.setdefault("format", "cbor")
    with tempfile.TemporaryDirectory(prefix="pattools-") as scratch:
        stdin = io.BytesIO()
        args = _flag_args(flags, Path(scratch))
        for index, source in enumerate(inputs):
            if isinstance(source, (str, os.PathLike)):
                args.append(os.fspath(source))
            elif stdin.getbuffer().nbytes == 0:
                stdin = io.BytesIO(_source_bytes(source))
                args.append("-")
            else:
                args.append(_to_file(source, Path(scratch) / f"input{index}.cbor"))
        options = _parse(module.build_parser(), args)
        stdout, stderr = io.BytesIO(), io.StringIO()
        try:
            code = module.run(options, base.Streams(stdin, stdout, stderr))
        except BaseException:
            sys.stderr.write(stderr.getvalue())
            raise
    _raise_on_failure(command, code, stderr.getvalue())
    return stdout.getvalue()


def _raise_on_failure(command: str, code: int, messages: str) -> None:
    """Pass the command's warnings on; a failing exit status raises its last message (as
    the command at a shell would exit non-zero), except pat-diff's 1, which means the
    inputs differ and the PAT_DIFF records are the result."""
    from pattools.cli import base
    from pattools.errors import DataError

    lines = messages.splitlines(keepends=True)
    failed = code not in (base.EXIT_OK, None) and not (command == "pat-diff" and code == base.EXIT_DATA)
    if not failed:
        sys.stderr.write(messages)
        return
    sys.stderr.write("".join(lines[:-1]))
    last = lines[-1].rstrip("\n") if lines else f"{command} exited with status {code}"
    raise (UsageError if code == base.EXIT_USAGE else DataError)(last)


def _parse(parser, args: list[str]):
    message = io.StringIO()
    try:
        with contextlib.redirect_stderr(message):
            return parser.parse_args(args)
    except SystemExit:
        lines = message.getvalue().strip().splitlines()
        raise UsageError(lines[-1] if lines else f"bad arguments: {args}") from None


def _flag_args(flags: Mapping[str, Any], scratch: Path) -> list[str]:
    args: list[str] = []
    for name, value in flags.items():
        if value is None or value is False:
            continue
        flag = "--" + name.replace("_", "-")
        if value is True:
            args.append(flag)
            continue
        values = value if isinstance(value, (list, tuple)) and not _is_records(value) else [value]
        for item in values:
            if name in _FILE_FLAGS and not isinstance(item, (str, os.PathLike)):
                item = _to_file(item, scratch / f"{name}{len(args)}.{'json' if _is_document(name) else 'cbor'}",
                                document=_is_document(name))
            args.extend([flag, os.fspath(item) if isinstance(item, os.PathLike) else str(item)])
    return args


def _is_records(value: list | tuple) -> bool:
    """A list of records is one in-memory input; a list of paths repeats the flag."""
    return bool(value) and all(isinstance(item, Mapping) for item in value)


def _is_document(flag: str) -> bool:
    return flag in ("bounds", "regions")


def _to_file(source: Any, path: Path, document: bool = False) -> str:
    path.write_bytes(dumps(source, "jsonl") if document else _source_bytes(source))
    return str(path)


def _source_bytes(source: Any) -> bytes:
    if isinstance(source, (bytes, bytearray)):
        return bytes(source)
    return dumps(source, "cbor")


def _as_list(records: Mapping | Iterable[Mapping]) -> list:
    return [records] if isinstance(records, Mapping) else list(records)
