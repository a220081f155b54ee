"""Prompt grammar (docs/editing.md §4): a table of prompts and what they parse to."""

from __future__ import annotations

import numpy as np
import pytest

from pattools.edit.intents import Intent, intent_from_record
from pattools.edit.prompt_grammar import parse_prompt
from pattools.edit.prompt_vocabulary import VOCABULARY
from pattools.edit.regions import Grid, Regions, intent_mask, region_mask, resolve_intent
from pattools.errors import DataError

NAMES = ["Plane #1", "Plane #2", "X", "north and south"]

I, D, F = "increase", "decrease", "flip"

# prompt → [(verb, feature, region, magnitude, amount)]
PARSES = [
    # the spec's and the seed's examples
    ("increase coherence on rim, reduce entropy near Plane #1, flip chirality",
     [(I, "rho", "rim", 1, None), (D, "entropyRate", "near Plane #1", 1, None), (F, "topo", "everywhere", 1, None)]),
    ("increase coherence on rim", [(I, "rho", "rim", 1, None)]),
    ("lower entropy near X", [(D, "entropyRate", "near X", 1, None)]),
    # verbs and their synonyms
    ("raise synchrony", [(I, "rho", "everywhere", 1, None)]),
    ("boost order in the centre", [(I, "rho", "centre", 1, None)]),
    ("strengthen coherence at the core", [(I, "rho", "centre", 1, None)]),
    ("more coherence on the border", [(I, "rho", "rim", 1, None)]),
    ("decrease disorder on the edge", [(D, "entropyRate", "rim", 1, None)]),
    ("weaken turbulence in the left half", [(D, "entropyRate", "left half", 1, None)]),
    ("dampen energy in the right half", [(D, "energy", "right half", 1, None)]),
    ("less entropy across the grid", [(D, "entropyRate", "everywhere", 1, None)]),
    ("invert handedness", [(F, "topo", "everywhere", 1, None)]),
    ("reverse vortex near the centre", [(F, "topo", "near centre", 1, None)]),
    ("reduce defects on the rim", [(D, "topo", "rim", 1, None)]),
    ("fewer vortices", [(D, "topo", "everywhere", 1, None)]),
    # features
    ("increase gradient on the top half", [(I, "gradPhi", "top half", 1, None)]),
    ("reduce the phase gradient in the bottom half", [(D, "gradPhi", "bottom half", 1, None)]),
    ("increase curvature", [(I, "kappa", "everywhere", 1, None)]),
    ("raise phase at patch 16,0", [(I, "phi_gf", "patch 16,0", 1, None)]),
    ("raise arousal", [(I, "arousal", "everywhere", 1, None)]),
    ("lower valence slightly", [(D, "valence", "everywhere", 0.5, None)]),
    ("increase attention on the rim", [(I, "attnMean", "rim", 1, None)]),
    ("increase amplitude in the centre", [(I, "A", "centre", 1, None)]),
    ("reduce entropy rate", [(D, "entropyRate", "everywhere", 1, None)]),
    # regions
    ("increase coherence in the top-left quadrant", [(I, "rho", "top-left", 1, None)]),
    ("increase coherence top right", [(I, "rho", "top-right", 1, None)]),
    ("increase coherence in the bottom-left corner", [(I, "rho", "bottom-left", 1, None)]),
    ("increase coherence at bottom right", [(I, "rho", "bottom-right", 1, None)]),
    ("increase coherence everywhere", [(I, "rho", "everywhere", 1, None)]),
    ("increase coherence near patch 32,16", [(I, "rho", "near patch 32,16", 1, None)]),
    ("increase coherence on Plane #2", [(I, "rho", "Plane #2", 1, None)]),
    ("increase coherence on plane #2", [(I, "rho", "Plane #2", 1, None)]),
    ("raise energy near north and south", [(I, "energy", "near north and south", 1, None)]),
    # magnitudes
    ("slightly increase coherence on rim", [(I, "rho", "rim", 0.5, None)]),
    ("increase coherence slightly on rim", [(I, "rho", "rim", 0.5, None)]),
    ("strongly reduce entropy near Plane #1", [(D, "entropyRate", "near Plane #1", 2, None)]),
    ("reduce entropy a lot", [(D, "entropyRate", "everywhere", 2, None)]),
    ("increase coherence a little in the centre", [(I, "rho", "centre", 0.5, None)]),
    ("increase coherence on rim by 0.05", [(I, "rho", "rim", 1, 0.05)]),
    ("increase coherence by 0.2 at patch 0,0", [(I, "rho", "patch 0,0", 1, 0.2)]),
    # separators
    ("increase coherence on rim; reduce entropy in the centre",
     [(I, "rho", "rim", 1, None), (D, "entropyRate", "centre", 1, None)]),
    ("increase coherence on rim and reduce entropy in the centre",
     [(I, "rho", "rim", 1, None), (D, "entropyRate", "centre", 1, None)]),
    ("increase coherence at patch 16,0, and flip chirality,",
     [(I, "rho", "patch 16,0", 1, None), (F, "topo", "everywhere", 1, None)]),
    ("Increase Coherence On Rim", [(I, "rho", "rim", 1, None)]),
]

# prompt → exact message (lenient skips exactly these clauses)
ERRORS = [
    ("increse coherence", 'clause "increse coherence": expected a verb (increase, decrease, flip or a synonym), got "increse"'),
    ("coherence on rim", 'clause "coherence on rim": expected a verb (increase, decrease, flip or a synonym), got "coherence"'),
    ("increase", 'clause "increase": expected a feature (coherence, entropy, energy, ...), got end of clause'),
    ("increase happiness", 'clause "increase happiness": expected a feature (coherence, entropy, energy, ...), got "happiness"'),
    ("increase coherence on the moon", 'clause "increase coherence on the moon": unknown region "moon" (not in the regions file)'),
    ("increase coherence on Plane #9 slightly", 'clause "increase coherence on Plane #9 slightly": unknown region "Plane #9" (not in the regions file)'),
    ("increase coherence on", 'clause "increase coherence on": expected a region, got end of clause'),
    ("increase coherence at patch 16", 'clause "increase coherence at patch 16": expected "patch X,Y" with pixel coordinates, got "patch 16"'),
    ("flip coherence", 'clause "flip coherence": only chirality can be flipped, not coherence'),
    ("slightly flip chirality", 'clause "slightly flip chirality": flip takes no magnitude'),
    ("increase vortices", 'clause "increase vortices": vortices can be flipped or reduced, not increased'),
    ("raise arousal on rim", 'clause "raise arousal on rim": arousal is global and takes no region'),
    ("slightly increase coherence strongly", 'clause "slightly increase coherence strongly": more than one magnitude ("slightly", "strongly")'),
    ("increase coherence by much", 'clause "increase coherence by much": expected a number after "by", got "much"'),
    ("increase coherence by 0", 'clause "increase coherence by 0": expected a positive amount, got 0'),
    ("increase coherence near near rim", 'clause "increase coherence near near rim": "near" twice'),
    ("increase coherence on rim please", 'clause "increase coherence on rim please": unexpected "please"'),
]


def _tuple(intent: Intent) -> tuple:
    return (intent.verb, intent.feature, intent.region.text(), intent.magnitude, intent.amount)


@pytest.mark.parametrize("prompt, expected", PARSES, ids=[p for p, _ in PARSES])
def test_parses(prompt: str, expected: list[tuple]) -> None:
    intents = parse_prompt(prompt, NAMES).intents
    assert [_tuple(i) for i in intents] == [tuple(e) for e in expected]


@pytest.mark.parametrize("prompt, message", ERRORS, ids=[p for p, _ in ERRORS])
def test_errors(prompt: str, message: str) -> None:
    with pytest.raises(DataError) as info:
        parse_prompt(prompt, NAMES)
    assert info.value.message == message
    assert info.value.path == "prompt"


@pytest.mark.parametrize("prompt, message", ERRORS, ids=[p for p, _ in ERRORS])
def test_lenient_skips_the_bad_clause(prompt: str, message: str) -> None:
    parsed = parse_prompt(f"increase coherence on rim, {prompt}, flip chirality", NAMES, lenient=True)
    assert [_tuple(i)[:3] for i in parsed.intents] == [(I, "rho", "rim"), (F, "topo", "everywhere")]
    assert [e.message for e in parsed.skipped] == [message]


def test_table_size() -> None:
    assert len(PARSES) + len(ERRORS) >= 40


def test_clause_text_is_quoted_as_written() -> None:
    (intent,) = parse_prompt("  raise phase   at patch 16,0 ", NAMES).intents
    assert intent.clause == "raise phase   at patch 16,0"


def test_named_region_without_file() -> None:
    with pytest.raises(DataError) as info:
        parse_prompt("reduce entropy near Plane #1")
    assert info.value.message == 'clause "reduce entropy near Plane #1": unknown region "Plane #1" (no regions file given)'


def test_empty_prompt() -> None:
    for text in ("", " , and ;"):
        with pytest.raises(DataError, match="empty prompt"):
            parse_prompt(text)


def test_vocabulary_has_no_duplicate_phrases() -> None:
    phrases = [p for p, _, _ in VOCABULARY]
    assert len(phrases) == len(set(phrases))


def test_record_round_trip() -> None:
    for prompt, _ in PARSES:
        for intent in parse_prompt(prompt, NAMES).intents:
            back = intent_from_record(intent.to_record())
            assert back == intent


# ------------------------------------------------------------------------ regions

G96 = Grid(96, 96, 16)  # 6×6


def _ids(prompt: str, grid: Grid = G96, regions: Regions | None = None) -> list[str]:
    names = regions.names() if regions else None
    (intent,) = parse_prompt(prompt, names).intents
    return list(resolve_intent(intent, grid, regions).patches or ())


def _cells(ids: list[str], scale: int = 16) -> set[tuple[int, int]]:
    return {(int(p.split(",")[0]) // scale, int(p.split(",")[1]) // scale) for p in ids}


def test_builtin_regions_on_6x6() -> None:
    every = {(x, y) for x in range(6) for y in range(6)}
    assert _cells(_ids("raise energy on rim")) == {c for c in every if 0 in c or 5 in c}
    assert _cells(_ids("raise energy in the centre")) == {(2, 2), (3, 2), (2, 3), (3, 3)}
    assert _cells(_ids("raise energy in the left half")) == {c for c in every if c[0] < 3}
    assert _cells(_ids("raise energy in the bottom half")) == {c for c in every if c[1] >= 3}
    assert _cells(_ids("raise energy top-right")) == {c for c in every if c[0] >= 3 and c[1] < 3}
    assert _cells(_ids("raise energy")) == every
    assert _cells(_ids("raise energy near patch 0,16")) == {(0, 0), (1, 0), (0, 1), (1, 1), (0, 2), (1, 2)}


def test_odd_grid_middle_belongs_to_no_half() -> None:
    g = Grid(80, 48, 16)  # 5×3
    assert _cells(_ids("raise energy in the left half", g)) == {(x, y) for x in (0, 1) for y in range(3)}
    assert _cells(_ids("raise energy in the right half", g)) == {(x, y) for x in (3, 4) for y in range(3)}
    assert _cells(_ids("raise energy in the top half", g)) == {(x, 0) for x in range(5)}
    assert _cells(_ids("raise energy in the centre", g)) == {(2, 1)}


def test_empty_and_missing_regions_are_errors() -> None:
    with pytest.raises(DataError) as info:
        _ids("raise energy in the centre", Grid(64, 64, 32))
    assert info.value.message == 'clause "raise energy in the centre": region "centre" is empty on the 2×2 grid (scale 32)'
    with pytest.raises(DataError) as info:
        _ids("raise energy at patch 8,0")
    assert info.value.message == 'clause "raise energy at patch 8,0": patch 8,0 is not a patch origin on the 6×6 grid (scale 16)'
    with pytest.raises(DataError) as info:
        _ids("raise energy in the top-left", Grid(16, 96, 16))
    assert info.value.message == 'clause "raise energy in the top-left": region "top-left" is empty on the 1×6 grid (scale 16)'


def test_regions_file() -> None:
    regions = Regions.from_record(
        {"Plane #1": ["16,16,16", "32,16"], "box": [{"x": 40, "y": 40, "w": 20, "h": 5}]}
    )
    assert _cells(_ids("reduce entropy on Plane #1", regions=regions)) == {(1, 1), (2, 1)}
    assert _cells(_ids("reduce entropy near Plane #1", regions=regions)) == {
        (x, y) for x in range(4) for y in range(3)
    }
    assert _cells(_ids("reduce entropy in box", regions=regions)) == {(2, 2), (3, 2)}
    with pytest.raises(DataError, match=r"patch 16,16,16 is not on the 3×3 grid \(scale 32\)"):
        _ids("reduce entropy on Plane #1", Grid(96, 96, 32), regions)


@pytest.mark.parametrize(
    "record, path, message",
    [
        ([], None, "expected object of named regions, got array of length 0"),
        ({"a": "1,2"}, "a", "expected array of patch ids or rectangles, got string '1,2'"),
        ({"a": ["1;2"]}, "a[0]", "expected patch id \"x0,y0[,scale]\", got string '1;2'"),
        ({"a": [{"x": 0, "y": 0, "w": 0, "h": 1}]}, "a[0].w", "expected positive integer, got integer 0"),
        ({"a": [{"x": 0, "y": 0.5, "w": 1, "h": 1}]}, "a[0].y", "expected integer, got number 0.5"),
        ({"a": [7]}, "a[0]", "expected patch id or {x, y, w, h} rectangle, got integer 7"),
    ],
)
def test_bad_regions_file(record: object, path: str | None, message: str) -> None:
    with pytest.raises(DataError) as info:
        Regions.from_record(record, input="regions.json")
    assert (info.value.path, info.value.message, info.value.input) == (path, message, "regions.json")


def test_intent_mask_from_recorded_patches() -> None:
    (intent,) = parse_prompt("raise energy on rim").intents
    resolved = resolve_intent(intent, G96)
    assert np.array_equal(intent_mask(resolved, G96), region_mask(intent.region, G96))
