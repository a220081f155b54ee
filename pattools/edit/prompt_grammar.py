"""The edit-prompt grammar of docs/editing.md §4: a prompt's clauses to intents.

Why: an edit prompt ("increase coherence on rim, reduce entropy near Plane #1, flip
chirality") is a list of clauses; each becomes one ``Intent`` {verb, feature, region,
magnitude}. The grammar is small enough to read in one screen:

    prompt  := clause (SEP clause)*            SEP = "," | ";" | "and"
    clause  := MAG* VERB MAG* [ART] FEATURE MAG* [region] MAG*
    region  := [PREP] [ART] place
    place   := "near" [ART] place | REGION | "patch" INT "," INT | NAME

Every word the grammar knows is in ``VOCABULARY`` (one table: phrase, role, meaning);
multi-word phrases match longest first. ``NAME`` is whatever is left of the clause after
the place's preposition: a named region from the regions file (``--regions``), such as
"Plane #1". Anything else is a data error that quotes the clause.

The words are in ``pattools.edit.prompt_vocabulary``; the intents it yields in
``pattools.edit.intents``.
"""

from __future__ import annotations

import math
import re

from pattools.edit.intents import EVERYWHERE, Intent, Prompt, RegionRef
from pattools.edit.prompt_vocabulary import (AMOUNT, ARTICLE, FEATURE, FLIPPABLE_FEATURES, GLOBAL_FEATURES, LONGEST,
                                             MAGNITUDE, NEAR, PATCH, PHRASES, PREP, REGION, SEP, VERB, lex,
                                             lex_spans)
from pattools.errors import DataError


class _ClauseError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _region_names(names: list[str] | None) -> dict[tuple[str, ...], str]:
    return {tuple(w.lower() for w in lex(n)): n for n in (names or [])}


def split_clauses(text: str, names: list[str] | None = None) -> list[tuple[list[str], str]]:
    """Split a prompt into clauses (their words and their text) at separators, except
    the comma of ``patch x,y`` and separators inside a named region. Empty clauses
    (", and", trailing commas) are dropped."""
    spans = lex_spans(text)
    words = [w for w, _, _ in spans]
    named = _region_names(names)
    groups: list[list[int]] = [[]]
    i = 0
    while i < len(words):
        low = [w.lower() for w in words[i : i + 4]]
        take = 0
        if low[:1] == ["patch"] and len(low) == 4 and low[2] == "," and _is_int(low[1]) and _is_int(low[3]):
            take = 4
        else:
            take = _match_name(words, i, named)
        if take:
            groups[-1].extend(range(i, i + take))
            i += take
            continue
        if PHRASES.get((low[0],), (None,))[0] == SEP:
            groups.append([])
        else:
            groups[-1].append(i)
        i += 1
    return [([words[k] for k in g], text[spans[g[0]][1] : spans[g[-1]][2]]) for g in groups if g]


def _match_name(words: list[str], i: int, named: dict[tuple[str, ...], str]) -> int:
    best = 0
    for key in named:
        n = len(key)
        if n > best and tuple(w.lower() for w in words[i : i + n]) == key:
            best = n
    return best


def _is_int(word: str) -> bool:
    return word.isdigit()


class _Cursor:
    """Left-to-right reader over one clause's words with longest-phrase lookup."""

    def __init__(self, words: list[str]) -> None:
        self.words = words
        self.pos = 0

    def done(self) -> bool:
        return self.pos >= len(self.words)

    def peek(self) -> tuple[str | None, object, int]:
        """(role, meaning, length) of the longest vocabulary phrase here."""
        for n in range(min(LONGEST, len(self.words) - self.pos), 0, -1):
            key = tuple(w.lower() for w in self.words[self.pos : self.pos + n])
            if key in PHRASES:
                role, meaning = PHRASES[key]
                return role, meaning, n
        return None, None, 0

    def word(self) -> str:
        return self.words[self.pos] if not self.done() else ""

    def rest(self) -> list[str]:
        return self.words[self.pos :]


class _ClauseParser:
    def __init__(self, words: list[str], names: dict[tuple[str, ...], str]) -> None:
        self.cur = _Cursor(words)
        self.names = names
        self.magnitudes: list[tuple[str, float | None, float | None]] = []  # (text, factor, amount)
        self.feature_word = ""

    def parse(self) -> Intent:
        self._magnitudes()
        verb = self._expect(VERB, "a verb (increase, decrease, flip or a synonym)")
        self._magnitudes()
        self._skip(ARTICLE)
        self.feature_word = " ".join(self.cur.words[self.cur.pos : self.cur.pos + self.cur.peek()[2]])
        feature = self._expect(FEATURE, "a feature (coherence, entropy, energy, ...)")
        self._magnitudes()
        region = EVERYWHERE
        if not self.cur.done():
            region = self._region()
        self._magnitudes()
        if not self.cur.done():
            raise _ClauseError(f'unexpected "{" ".join(self.cur.rest())}"')
        return self._intent(verb, feature, region)

    def _intent(self, verb: str, feature: str, region: RegionRef) -> Intent:
        if len(self.magnitudes) > 1:
            texts = ", ".join(f'"{m[0]}"' for m in self.magnitudes)
            raise _ClauseError(f"more than one magnitude ({texts})")
        if verb == "flip" and feature not in FLIPPABLE_FEATURES:
            raise _ClauseError(f"only chirality can be flipped, not {self.feature_word}")
        if verb == "flip" and self.magnitudes:
            raise _ClauseError("flip takes no magnitude")
        if feature == "topo" and verb == "increase":
            raise _ClauseError(f"{self.feature_word} can be flipped or reduced, not increased")
        if feature in GLOBAL_FEATURES and region != EVERYWHERE:
            raise _ClauseError(f"{self.feature_word} is global and takes no region")
        factor, amount = 1.0, None
        if self.magnitudes:
            _, f, a = self.magnitudes[0]
            factor = 1.0 if f is None else f
            amount = a
        return Intent(verb, feature, region, factor, amount)

    def _skip(self, role: str) -> None:
        while True:
            r, _, n = self.cur.peek()
            if r != role:
                return
            self.cur.pos += n

    def _expect(self, role: str, what: str) -> str:
        r, meaning, n = self.cur.peek()
        if r != role:
            found = f'"{self.cur.word()}"' if not self.cur.done() else "end of clause"
            raise _ClauseError(f"expected {what}, got {found}")
        self.cur.pos += n
        return str(meaning)

    def _magnitudes(self) -> None:
        while not self.cur.done():
            r, meaning, n = self.cur.peek()
            if r == MAGNITUDE:
                text = " ".join(self.cur.words[self.cur.pos : self.cur.pos + n])
                self.magnitudes.append((text, float(meaning), None))  # type: ignore[arg-type]
                self.cur.pos += n
            elif r == AMOUNT:
                self.cur.pos += n
                value = self.cur.word()
                if not _is_number(value):
                    found = f'"{value}"' if value else "end of clause"
                    raise _ClauseError(f'expected a number after "by", got {found}')
                amount = float(value)
                if not (amount > 0 and math.isfinite(amount)):
                    raise _ClauseError(f"expected a positive amount, got {value}")
                self.magnitudes.append((f"by {value}", None, amount))
                self.cur.pos += 1
            else:
                return

    def _region(self) -> RegionRef:
        r, _, n = self.cur.peek()
        if r == PREP:
            self.cur.pos += n
        return self._place()

    def _place(self) -> RegionRef:
        self._skip(ARTICLE)
        r, meaning, n = self.cur.peek()
        if r == NEAR:
            self.cur.pos += n
            inner = self._place()
            if inner.near:
                raise _ClauseError('"near" twice')
            return RegionRef(inner.place, inner.kind, True, inner.origin)
        # A named region from the file wins over built-in words it contains.
        span = _match_name(self.cur.words, self.cur.pos, self.names)
        if span:
            key = tuple(w.lower() for w in self.cur.words[self.cur.pos : self.cur.pos + span])
            self.cur.pos += span
            return RegionRef(self.names[key], "named")
        if r == REGION:
            self.cur.pos += n
            self._skip(ARTICLE)  # "top-left quadrant", "the rim"
            return RegionRef(str(meaning), "builtin")
        if r == PATCH:
            self.cur.pos += n
            return self._patch()
        if self.cur.done():
            raise _ClauseError("expected a region, got end of clause")
        name = self._trailing_name()
        hint = "not in the regions file" if self.names else "no regions file given"
        raise _ClauseError(f'unknown region "{name}" ({hint})')

    def _trailing_name(self) -> str:
        """The unknown region's words: up to a trailing magnitude phrase."""
        words = self.cur.rest()
        for i in range(len(words)):
            sub = _Cursor(words[i:])
            role, _, _ = sub.peek()
            if role in (MAGNITUDE, AMOUNT):
                return " ".join(words[:i]) or " ".join(words)
        return " ".join(words)

    def _patch(self) -> RegionRef:
        words = self.cur.words[self.cur.pos : self.cur.pos + 3]
        if len(words) == 3 and _is_int(words[0]) and words[1] == "," and _is_int(words[2]):
            self.cur.pos += 3
            x, y = int(words[0]), int(words[2])
            return RegionRef(f"patch {x},{y}", "patch", False, (x, y))
        found = " ".join(words) if words else "end of clause"
        raise _ClauseError(f'expected "patch X,Y" with pixel coordinates, got "patch {found}"')


def _is_number(word: str) -> bool:
    return bool(re.fullmatch(r"[0-9]+(?:\.[0-9]+)?", word))




def _parse_words(words: list[str], clause: str, names: list[str] | None) -> Intent:
    try:
        intent = _ClauseParser(words, _region_names(names)).parse()
    except _ClauseError as exc:
        raise DataError(f'clause "{clause}": {exc.reason}', path="prompt") from None
    return Intent(intent.verb, intent.feature, intent.region, intent.magnitude, intent.amount, clause)


def parse_prompt(text: str, region_names: list[str] | None = None, lenient: bool = False) -> Prompt:
    """Parse a prompt into intents. ``region_names`` are the names of the regions file.

    A clause that does not parse raises a DataError quoting it; with ``lenient`` it is
    skipped and reported in ``Prompt.skipped``. A prompt without any clause is an error
    either way.
    """
    clauses = split_clauses(text, region_names)
    if not clauses:
        raise DataError("empty prompt", path="prompt")
    intents: list[Intent] = []
    skipped: list[DataError] = []
    for words, clause in clauses:
        try:
            intents.append(_parse_words(words, clause, region_names))
        except DataError as exc:
            if not lenient:
                raise
            skipped.append(exc)
    return Prompt(intents, skipped)
