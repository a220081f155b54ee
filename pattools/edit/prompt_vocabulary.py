"""The words of the edit-prompt grammar (docs/editing.md §4): one table of phrase, role and
meaning, and the lexer. The grammar that reads them is ``pattools.edit.prompt_grammar``."""

from __future__ import annotations

import re

# Roles of the vocabulary.
VERB = "verb"
FEATURE = "feature"
REGION = "region"
MAGNITUDE = "magnitude"  # meaning: a factor on the editor's step
AMOUNT = "amount"  # "by": the next token is an explicit amount
PREP = "preposition"
ARTICLE = "article"
NEAR = "near"
PATCH = "patch"
SEP = "separator"

# fmt: off
VOCABULARY: tuple[tuple[str, str, object], ...] = (
    # phrase              role        meaning
    ("increase",          VERB,       "increase"),
    ("raise",             VERB,       "increase"),
    ("boost",             VERB,       "increase"),
    ("strengthen",        VERB,       "increase"),
    ("more",              VERB,       "increase"),
    ("decrease",          VERB,       "decrease"),
    ("reduce",            VERB,       "decrease"),
    ("lower",             VERB,       "decrease"),
    ("weaken",            VERB,       "decrease"),
    ("dampen",            VERB,       "decrease"),
    ("less",              VERB,       "decrease"),
    ("fewer",             VERB,       "decrease"),
    ("remove",            VERB,       "decrease"),
    ("flip",              VERB,       "flip"),
    ("invert",            VERB,       "flip"),
    ("reverse",           VERB,       "flip"),

    ("coherence",         FEATURE,    "rho"),
    ("synchrony",         FEATURE,    "rho"),
    ("synchronization",   FEATURE,    "rho"),
    ("order",             FEATURE,    "rho"),
    ("rho",               FEATURE,    "rho"),
    ("entropy",           FEATURE,    "entropyRate"),
    ("entropy rate",      FEATURE,    "entropyRate"),
    ("disorder",          FEATURE,    "entropyRate"),
    ("turbulence",        FEATURE,    "entropyRate"),
    ("energy",            FEATURE,    "energy"),
    ("gradient",          FEATURE,    "gradPhi"),
    ("gradients",         FEATURE,    "gradPhi"),
    ("phase gradient",    FEATURE,    "gradPhi"),
    ("curvature",         FEATURE,    "kappa"),
    ("phase",             FEATURE,    "phi_gf"),
    ("chirality",         FEATURE,    "topo"),
    ("handedness",        FEATURE,    "topo"),
    ("vortex",            FEATURE,    "topo"),
    ("vortices",          FEATURE,    "topo"),
    ("defect",            FEATURE,    "topo"),
    ("defects",           FEATURE,    "topo"),
    ("arousal",           FEATURE,    "arousal"),
    ("valence",           FEATURE,    "valence"),
    ("attention",         FEATURE,    "attnMean"),
    ("amplitude",         FEATURE,    "A"),

    ("everywhere",        REGION,     "everywhere"),
    ("globally",          REGION,     "everywhere"),
    ("grid",              REGION,     "everywhere"),
    ("whole grid",        REGION,     "everywhere"),
    ("entire grid",       REGION,     "everywhere"),
    ("rim",               REGION,     "rim"),
    ("edge",              REGION,     "rim"),
    ("edges",             REGION,     "rim"),
    ("border",            REGION,     "rim"),
    ("centre",            REGION,     "centre"),
    ("center",            REGION,     "centre"),
    ("core",              REGION,     "centre"),
    ("middle",            REGION,     "centre"),
    ("left half",         REGION,     "left half"),
    ("right half",        REGION,     "right half"),
    ("top half",          REGION,     "top half"),
    ("bottom half",       REGION,     "bottom half"),
    ("top-left",          REGION,     "top-left"),
    ("top left",          REGION,     "top-left"),
    ("top-right",         REGION,     "top-right"),
    ("top right",         REGION,     "top-right"),
    ("bottom-left",       REGION,     "bottom-left"),
    ("bottom left",       REGION,     "bottom-left"),
    ("bottom-right",      REGION,     "bottom-right"),
    ("bottom right",      REGION,     "bottom-right"),
    ("quadrant",          ARTICLE,    None),   # "the top-left quadrant"
    ("corner",            ARTICLE,    None),

    ("slightly",          MAGNITUDE,  0.5),
    ("a little",          MAGNITUDE,  0.5),
    ("a bit",             MAGNITUDE,  0.5),
    ("strongly",          MAGNITUDE,  2.0),
    ("a lot",             MAGNITUDE,  2.0),
    ("by",                AMOUNT,     None),

    ("on",                PREP,       None),
    ("in",                PREP,       None),
    ("at",                PREP,       None),
    ("across",            PREP,       None),
    ("over",              PREP,       None),
    ("near",              NEAR,       None),
    ("the",               ARTICLE,    None),
    ("a",                 ARTICLE,    None),
    ("an",                ARTICLE,    None),
    ("patch",             PATCH,      None),
    ("and",               SEP,        None),
    (",",                 SEP,        None),
    (";",                 SEP,        None),
)
# fmt: on

GLOBAL_FEATURES: frozenset[str] = frozenset({"arousal", "valence"})
FLIPPABLE_FEATURES: frozenset[str] = frozenset({"topo"})

# Words: letters/digits with inner hyphens, '#', '_' or '.'; numbers; ',' and ';'.
_TOKEN = re.compile(r"[0-9]+(?:\.[0-9]+)?|[^\s,;]+|[,;]")


def lex(text: str) -> list[str]:
    """The words of a prompt (case kept; matching lowercases)."""
    return _TOKEN.findall(text)


def lex_spans(text: str) -> list[tuple[str, int, int]]:
    """The words of a prompt with their start and end in ``text``."""
    return [(m.group(0), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def _phrase_table() -> dict[tuple[str, ...], tuple[str, object]]:
    table: dict[tuple[str, ...], tuple[str, object]] = {}
    for phrase, role, meaning in VOCABULARY:
        table[tuple(lex(phrase.lower()))] = (role, meaning)
    return table


PHRASES = _phrase_table()
LONGEST = max(len(k) for k in PHRASES)
