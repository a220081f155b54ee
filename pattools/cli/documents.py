"""The small files beside the record streams: bounds (``--bounds``), regions (``--regions``),
prompts (``--prompts``) and nupca-step's configuration (``--config``).

A command reads them here, through ``pattools.io``, and hands the domain the parsed value;
``pattools.edit`` and ``pattools.nupca`` never open a file. A file that cannot be read is
named in the words the record readers use ("no such file or directory", ...).
Each reader imports what it needs when called, so a command that is given no such file
(``pat-apply`` without ``--bounds``) does not load the JSON codec or the regions at start-up.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pattools.errors import DataError, expected_found

if TYPE_CHECKING:
    from pattools.edit.bounds import Bounds
    from pattools.edit.prompt_lines import PromptLine
    from pattools.edit.regions import Regions


def read_bounds(path: str | Path) -> Bounds:
    """A JSON bounds file (see ``pattools/data/bounds.json``)."""
    from pattools.edit.bounds import Bounds
    from pattools.io import decode_document, read_file_bytes

    name = str(path)
    data = read_file_bytes(name)
    return Bounds.from_mapping(decode_document(data, name), input=name)


def read_regions(path: str) -> Regions:
    """A regions file: a JSON object ``{name: [patchId | "x,y" | {x, y, w, h}, ...]}``."""
    from pattools.edit.regions import Regions
    from pattools.io import decode_document, read_file_bytes

    data = read_file_bytes(path)
    return Regions.from_record(decode_document(data, path), input=path)


def read_prompts(path: str) -> list[PromptLine]:
    """A prompts file with at least one prompt (see ``prompt_lines``)."""
    from pattools.io import read_file_bytes

    data = read_file_bytes(path)
    lines = prompt_lines(data, path)
    if not lines:
        raise DataError("no prompts in the file", input=path)
    return lines


def prompt_lines(data: bytes, name: str) -> list[PromptLine]:
    """A prompts file: one prompt per line (blank lines and ``#`` comments skipped), or
    JSON lines ``{prompt, id?, seed?, frame?}`` (the pat-pack prompt format)."""
    from pattools.edit.prompt_lines import PromptLine, prompt_line_from_record
    from pattools.io import decode_line

    out: list[PromptLine] = []
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise DataError("expected UTF-8 text", input=name) from None
    for number, raw in enumerate(text.splitlines()):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not line.startswith("{"):
            out.append(PromptLine(line, line=number))
            continue
        try:
            rec = decode_line(line.encode("utf-8"))
        except DataError as err:
            raise err.located(input=name, record=number) from None
        out.append(prompt_line_from_record(rec, name, number))
    return out


def read_config(path: str) -> dict:
    """nupca-step's JSON configuration object (keys are checked when it is applied)."""
    from pattools.io import decode_document, read_file_bytes

    document = decode_document(read_file_bytes(path), path)
    if not isinstance(document, dict):
        raise DataError(expected_found("object", document), input=path)
    return document
