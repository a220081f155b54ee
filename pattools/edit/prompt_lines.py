"""The prompts of a prompts file (``--prompts``): text, and optionally an id, a seed and
the first target frame. The file itself is read by the command (``pattools.cli.documents``)."""

from __future__ import annotations

from dataclasses import dataclass

from pattools.errors import DataError, expected_found


@dataclass(frozen=True)
class PromptLine:
    """One prompt of a prompts file: text, optional id, seed and first target frame."""

    prompt: str
    id: str | None = None
    seed: int | None = None
    frame: int | None = None
    line: int = 0


def prompt_line_from_record(rec: object, name: str, number: int) -> PromptLine:
    """A JSON-lines prompt ``{prompt, id?, seed?, frame?}``, checked; ``number`` is its line."""

    def fail(path: str, expected: str, found: object) -> DataError:
        return DataError(expected_found(expected, found), input=name, record=number, path=path)

    if not isinstance(rec, dict):
        raise fail("", "object", rec)
    prompt = rec.get("prompt")
    if not isinstance(prompt, str):
        raise fail("prompt", "string", prompt)
    ident = rec.get("id")
    if ident is not None and not isinstance(ident, str):
        raise fail("id", "string", ident)
    values = {}
    for key in ("seed", "frame"):
        v = rec.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 0):
            raise fail(key, "non-negative integer", v)
        values[key] = v
    for key in rec:
        if key not in ("prompt", "id", "seed", "frame"):
            raise DataError("unknown field (expected one of prompt, id, seed, frame)", input=name,
                            record=number, path=str(key))
    return PromptLine(prompt, ident, values["seed"], values["frame"], number)
