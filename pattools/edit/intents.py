"""Edit intents: what one clause of a prompt asks for (verb, feature, region, magnitude),
as the editors, the scorer and the records carry it.

A prompt becomes intents through the grammar (``pattools.edit.prompt_grammar``); regions are
resolved to patches separately (``pattools.edit.regions``), because a prompt can be parsed
without a grid (``pat-baseline --explain``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pattools.edit.prompt_vocabulary import REGION, VOCABULARY
from pattools.errors import DataError


@dataclass(frozen=True)
class RegionRef:
    """A region as the prompt names it: ``place`` (built-in name, ``patch x,y`` or a
    file name), widened by its 8-neighbour patches when ``near``."""

    place: str
    kind: str  # "builtin" | "patch" | "named"
    near: bool = False
    origin: tuple[int, int] | None = None  # for kind "patch"

    def text(self) -> str:
        return ("near " if self.near else "") + self.place


EVERYWHERE = RegionRef("everywhere", "builtin")


@dataclass(frozen=True)
class Intent:
    """One clause of a prompt: what to change, where, in which direction, how much."""

    verb: str  # increase | decrease | flip
    feature: str  # token field (rho, entropyRate, ...) or "topo"
    region: RegionRef = EVERYWHERE
    magnitude: float = 1.0  # factor on the editor's step
    amount: float | None = None  # explicit step ("by 0.1"), replaces step × magnitude
    clause: str = ""
    patches: tuple[str, ...] | None = field(default=None, compare=False)  # resolved ids

    @property
    def sign(self) -> int:
        return {"increase": 1, "decrease": -1, "flip": -1}[self.verb]

    def to_record(self) -> dict:
        """The intent as written into PAT_EDIT / PAT_PACK records."""
        rec: dict = {
            "verb": self.verb,
            "feature": self.feature,
            "region": self.region.text(),
            "magnitude": self.magnitude,
        }
        if self.amount is not None:
            rec["amount"] = self.amount
        rec["clause"] = self.clause
        if self.patches is not None:
            rec["patches"] = list(self.patches)
        return rec

    def describe(self) -> str:
        """One readable line: ``increase rho on rim ×0.5  ← "slightly increase coherence on rim"``."""
        if self.verb == "flip":
            how = ""
        elif self.amount is not None:
            how = f" by {self.amount:g}"
        else:
            how = f" ×{self.magnitude:g}"
        where = self.region.text()
        if not self.region.near and where != "everywhere":
            where = "on " + where
        return f'{self.verb} {self.feature} {where}{how}  <- "{self.clause}"'


@dataclass
class Prompt:
    """The parse of one prompt: its intents and, under ``lenient``, the skipped clauses."""

    intents: list[Intent]
    skipped: list[DataError]


def intent_from_record(rec: dict) -> Intent:
    """An intent read back from a PAT_EDIT record (validated by its schema)."""
    region_text = str(rec.get("region", "everywhere"))
    near = region_text.startswith("near ")
    place = region_text[5:] if near else region_text
    kind, origin = "named", None
    builtin = {str(m) for _, r, m in VOCABULARY if r == REGION}
    if place in builtin:
        kind = "builtin"
    elif place.startswith("patch "):
        parts = place[6:].split(",")
        if len(parts) == 2 and all(p.isdigit() for p in parts):
            kind, origin = "patch", (int(parts[0]), int(parts[1]))
    patches = rec.get("patches")
    return Intent(
        verb=rec["verb"],
        feature=rec["feature"],
        region=RegionRef(place, kind, near, origin),
        magnitude=float(rec.get("magnitude", 1.0)),
        amount=None if rec.get("amount") is None else float(rec["amount"]),
        clause=str(rec.get("clause", "")),
        patches=None if patches is None else tuple(patches),
    )
