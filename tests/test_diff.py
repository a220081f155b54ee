"""pat-diff's comparison in process: field patterns, tolerances, angles, pairing, and the
token columns agreeing with the value walker on every tally."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pattools.diff.compare import compare_streams
from pattools.diff.fields import Rules, difference, parse_tolerance
from pattools.diff.tally import Tally
from pattools.diff.tokens import compare_token_frames
from pattools.diff.values import ValueComparer, Where
from pattools.errors import UsageError
from pattools.io import Record
from pattools.tokens.frame import TokenFrame
from tests.helpers import make_frame

PROPS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_field_patterns_and_tolerances():
    rules = Rules(atol=1e-3, rtol=0.0, tolerances=[parse_tolerance("rho=0.5"), parse_tolerance("stats.rho=1e-6,0.1")],
                  ignored=[("replay",), ("hdr", "t")])
    assert rules.of(("tokens", "stats", "rho")).atol == 1e-6  # the longest pattern wins
    assert rules.of(("tokens", "stats", "rho")).rtol == 0.1
    assert rules.of(("metrics", "rho")).atol == 0.5
    assert rules.of(("metrics", "rhoMean")).atol == 1e-3  # parts match whole names only
    assert rules.of(("replay", "gains", "kRho")) is None and rules.of(("tokens", "hdr", "t")) is None
    assert rules.of(("tokens", "hdr", "scale")) is not None
    assert rules.of(("tokens", "geom", "theta")).period == math.pi
    assert rules.of(("edit", "applied", "geom", "phi_gf")).period == 2 * math.pi
    assert rules.of(("tokens", "heads")).period == 2 * math.pi
    assert rules.of(("tokens", "stats", "rho")).period is None
    for bad in ("rho", "rho=x", "rho=-1", "rho=1,2,3", "=1", "a..b=1", "rho=nan"):
        with pytest.raises(UsageError):
            parse_tolerance(bad)


@PROPS
@given(st.floats(-math.pi, math.pi), st.floats(-math.pi, math.pi), st.integers(-3, 3))
def test_angles_compare_on_the_circle(a, b, turns):
    delta = difference(a, b, 2 * math.pi)
    assert 0 <= delta <= math.pi + 1e-12
    assert delta == pytest.approx(difference(a + turns * 2 * math.pi, b, 2 * math.pi), abs=1e-9)
    assert delta == pytest.approx(min(abs(a - b), 2 * math.pi - abs(a - b)), abs=1e-12)
    assert difference(math.pi, -math.pi, 2 * math.pi) == 0.0
    assert difference(math.pi / 2, -math.pi / 2, math.pi) == 0.0


def _summary(tally: Tally) -> dict:
    return {name: (f.differing, f.only_a, f.only_b, f.max_abs,
                   f.max_place and (f.max_place.path, f.max_place.patch_id, f.max_place.row),
                   f.first and (f.first.path, f.first.patch_id, f.first.row), f.max_values, f.first_values)
            for (kind, path), f in tally.fields.items() for name in [".".join(path)]}


@PROPS
@given(st.data())
def test_token_columns_tally_exactly_as_the_walker(data):
    frame = make_frame(W=48, H=32, scale=16, rng=np.random.default_rng(data.draw(st.integers(0, 99))))
    other = copy.deepcopy(frame)
    for _ in range(data.draw(st.integers(0, 12))):
        token = other["tokens"][data.draw(st.integers(0, len(other["tokens"]) - 1))]
        group, name = data.draw(st.sampled_from([("geom", "phi_gf"), ("geom", "theta"), ("stats", "rho"),
                                                 ("hdr", "t"), ("topo", "vortex"), ("geom", "kappa")]))
        if name == "vortex":
            token[group][name] = data.draw(st.integers(-1, 1))
        elif name == "phi_gf":
            token[group][name] = data.draw(st.sampled_from([math.pi, -math.pi, token[group][name] + 1e-9, 0.5]))
        else:
            token[group][name] = token[group][name] + data.draw(st.floats(-1e-3, 1e-3))
    for side in (frame, other):  # the per-token extras, on one side, both or neither
        for token in side["tokens"]:
            if data.draw(st.integers(0, 3)) == 0:
                token["heads"] = [data.draw(st.sampled_from([0.5, -math.pi, math.pi]))]
            if data.draw(st.integers(0, 3)) == 0:
                token["stats"]["reconMSE"] = data.draw(st.sampled_from([0.25, 0.25 + 1e-6]))
            if data.draw(st.integers(0, 3)) == 0:
                token["code"]["stage"] = data.draw(st.sampled_from([1, [2], {"s": 3}]))
    if data.draw(st.booleans()):
        other["tokens"].reverse()
    if data.draw(st.booleans()):
        del other["tokens"][data.draw(st.integers(0, len(other["tokens"]) - 1))]
    rules = Rules(atol=data.draw(st.sampled_from([0.0, 1e-4])), rtol=data.draw(st.sampled_from([0.0, 1e-3])))
    where = Where("PAT_FRAME", {"seed": 1234, "frame": 0}, 0)
    walked, columned = Tally(), Tally()
    ValueComparer(rules, walked).compare(where, frame["tokens"], other["tokens"], ("tokens",), "tokens")
    compare_token_frames(ValueComparer(rules, columned), where, TokenFrame.from_tokens(frame["tokens"]),
                         TokenFrame.from_tokens(other["tokens"]))
    assert _summary(columned) == _summary(walked)


def _containers(inner):
    return st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=2), inner, max_size=3))


_ANY = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=2)),
                    _containers, max_leaves=20)


@PROPS
@given(_ANY)
def test_a_value_equals_itself_and_not_its_other_types(value):
    tally = Tally()
    comparer = ValueComparer(Rules(), tally)
    where = Where("X", {"position": 0}, 0)
    comparer.compare(where, value, copy.deepcopy(value))
    assert tally.equal
    comparer.compare(where, {"v": True}, {"v": 1})
    comparer.compare(where, {"v": 1}, {"v": 1.0})
    comparer.compare(where, {"v": 0.0}, {"v": -0.0})
    assert [(f.name, f.differing) for f in tally.fields.values()] == [("v", 1)]  # True is not 1


def _records(values: list[dict]) -> list[Record]:
    return [Record(value, "x", index) for index, value in enumerate(values)]


def test_pairing_by_kind_and_key():
    score = {"kind": "PAT_SCORE", "version": 1, "scope": "edit", "edit": "e", "seed": 1, "faithfulness": 0.5,
             "drift": 0.1, "editReward": 0.4}
    trace = {"kind": "NUPCA_TRACE", "version": 1, "t": 3}
    summary = {"kind": "PAT_SUMMARY", "version": 1, "records": 1, "kinds": {"PAT_FRAME": 1}}
    frames = [make_frame(frame=f, W=32, H=32) for f in range(3)]
    a = _records([score, frames[0], frames[1], trace, summary, {**summary, "records": 2}])
    b = _records([frames[1], {**summary, "records": 5}, trace, {**score, "editReward": 0.5}, frames[0], summary])
    tally = compare_streams(a, b, Rules())
    assert tally.matched == 6 and not tally.only
    assert [(f.kind, f.name, f.differing) for f in tally.fields.values()] == \
        [("PAT_SCORE", "editReward", 1), ("PAT_SUMMARY", "records", 2)]
    repeated = compare_streams(_records([frames[2], frames[2]]), _records([frames[2]]), Rules())
    assert repeated.only == [("a", "PAT_FRAME", {"seed": 1234, "frame": 2, "occurrence": 1}, 1)]


def test_report_records_validate_for_every_key_shape():
    from pattools import schema
    from pattools.diff.report import diff_records

    mean = {"kind": "PAT_SCORE", "version": 1, "scope": "mean", "faithfulness": 0.5, "drift": 0.1, "editReward": 0.4,
            "group": "g", "edits": 2}
    summary = {"kind": "PAT_SUMMARY", "version": 1, "records": 1, "kinds": {"PAT_FRAME": 1}}
    frame = make_frame(W=32, H=32, scale=16)
    other = copy.deepcopy(frame)
    other["tokens"][0]["stats"]["rho"] = 0.5
    del other["tokens"][1]
    tally = compare_streams(_records([mean, summary, frame]), _records([other, {**summary, "records": 2}]), Rules())
    records = list(diff_records(tally))
    for record in records:
        schema.validate(record)
    assert [r["type"] for r in records] == ["summary", "field", "field", "field", "record"]
    assert records[-1]["record"] == {"edit": None, "seed": None}
