"""ΔPAT application (docs/editing.md §2): rules, effective deltas and properties over random frames."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pattools.edit.applier import EditApplier, block_parts, edited_envelope, load_edit
from pattools.io.edit_block import EditBlockEncoder
from pattools.io.cbor import encode
from pattools.edit.apply import apply_target
from pattools.edit.bounds import Bounds
from pattools.edit.dpat import EditPackage
from pattools.tokens.deltas import Deltas, wrap_angle
from pattools.tokens.codebook import lfq_codes, lfq_features
from pattools.errors import DataError
from pattools.schema import validate
from pattools.io.token_cbor import record_with_tokens
from pattools.tokens.frame import GEOM_FIELDS, STATS_FIELDS, TOPO_FIELDS, TokenFrame
from tests.test_apply_support import edit_record, frame_record, random_frame, sim_block

PI = math.pi
PROPS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
COLUMNS = ("geom", "stats", "topo", "rvq")


def one_token(**values) -> TokenFrame:
    frame = random_frame(np.random.default_rng(0), 32, 32, 32)
    for name, value in values.items():
        if name in GEOM_FIELDS:
            frame.geom[0, GEOM_FIELDS.index(name)] = value
        elif name in STATS_FIELDS:
            frame.stats[0, STATS_FIELDS.index(name)] = value
        elif name in TOPO_FIELDS:
            frame.topo[0, TOPO_FIELDS.index(name)] = value
        elif name == "rvq":
            frame.rvq[0] = value
    return frame


def same_columns(a: TokenFrame, b: TokenFrame, *, ulps: int = 0) -> bool:
    """Equal columns; with ``ulps``, float columns (geom, stats) may differ by that many ulps of π."""
    if ulps:
        floats_close = all(np.allclose(getattr(a, c), getattr(b, c), rtol=0, atol=ulps * np.spacing(PI))
                           for c in ("geom", "stats"))
        return floats_close and all(np.array_equal(getattr(a, c), getattr(b, c)) for c in ("topo", "rvq")) \
            and a.heads == b.heads
    return all(np.array_equal(getattr(a, c), getattr(b, c)) for c in COLUMNS) and a.heads == b.heads


# --- the rules, one by one -------------------------------------------------------------


def test_codes_saturate():
    frame = one_token(rvq=[0, 3, 1, 2, 3])
    out = apply_target(frame, [{"patchId": "0,0,32", "code": {"rvqDelta": [-1, 1, 1, -1, 0]}}], Bounds.default())
    assert out.tokens.rvq[0].tolist() == [0, 3, 2, 1, 3]
    assert out.applied == [{"patchId": "0,0,32", "code": {"rvqDelta": [0, 0, 1, -1, 0]}}]


def test_stats_and_amplitude_clamp01():
    frame = one_token(rho=0.9, entropyRate=0.1, A=0.95)
    dp = {"patchId": "0,0,32", "stats": {"rho": 0.2, "entropyRate": -0.25}, "geom": {"A": 0.1}}
    out = apply_target(frame, [dp], Bounds.default())
    assert out.tokens.stats[0, 0] == 1.0 and out.tokens.stats[0, 2] == 0.0 and out.tokens.geom[0, 0] == 1.0
    applied = out.applied[0]
    assert applied["stats"]["rho"] == pytest.approx(0.1) and applied["stats"]["entropyRate"] == pytest.approx(-0.1)
    assert applied["geom"]["A"] == pytest.approx(0.05)


def test_phase_wraps_into_minus_pi_pi():
    frame = one_token(phi_gf=PI - 0.1)
    out = apply_target(frame, [{"patchId": "0,0,32", "geom": {"phi_gf": 0.3}}], Bounds.default())
    assert out.tokens.geom[0, 1] == pytest.approx(-PI + 0.2)
    assert out.applied[0]["geom"]["phi_gf"] == 0.3  # the wrapped difference is the requested delta
    # exactly pi stays pi; exactly -pi is outside (-pi, pi] and becomes pi
    frame = one_token(phi_gf=PI - 0.5)
    out = apply_target(frame, [{"patchId": "0,0,32", "geom": {"phi_gf": 0.5}}], Bounds.default())
    assert -PI < out.tokens.geom[0, 1] <= PI
    assert wrap_angle(np.array([PI, -PI, 3 * PI, -3 * PI, 0.0]), 2 * PI).tolist() == [PI, PI, PI, PI, 0.0]


def test_orientation_wraps_with_period_pi():
    frame = one_token(theta=-PI / 2 + 0.1)
    out = apply_target(frame, [{"patchId": "0,0,32", "geom": {"theta": -0.3}}], Bounds.default())
    assert out.tokens.geom[0, 2] == pytest.approx(PI / 2 - 0.2)
    assert out.applied[0]["geom"]["theta"] == -0.3
    assert wrap_angle(np.array([-PI / 2, PI / 2]), PI).tolist() == [PI / 2, PI / 2]


def test_gradient_and_curvature_stay_nonnegative():
    frame = one_token(gradPhi=0.2, kappa=1.0)
    out = apply_target(frame, [{"patchId": "0,0,32", "geom": {"gradPhi": -0.5, "kappa": -0.5}}], Bounds.default())
    assert out.tokens.geom[0, 3] == 0.0 and out.tokens.geom[0, 4] == 0.5
    assert out.applied[0]["geom"] == {"gradPhi": -0.2, "kappa": -0.5}


def test_topo_clamps():
    frame = one_token(vortex=1, chirality=-1)
    out = apply_target(frame, [{"patchId": "0,0,32", "topo": {"vortex": -2, "chirality": -2}}], Bounds.default())
    assert out.tokens.topo[0].tolist() == [-1, -1]
    assert out.applied[0]["topo"] == {"vortex": -2, "chirality": 0}


def test_untouched_fields_and_tokens_keep_their_values():
    frame = random_frame(np.random.default_rng(3), 96, 96, 32)
    out = apply_target(frame, [{"patchId": "32,32,32", "stats": {"rho": 0.01}}], Bounds.default())
    changed = np.argwhere(out.tokens.stats != frame.stats)
    assert changed.tolist() in ([[4, 0]], [])
    assert np.array_equal(out.tokens.geom, frame.geom) and np.array_equal(out.tokens.rvq, frame.rvq)
    assert frame.stats[4, 0] + 0.01 == out.tokens.stats[4, 0] or frame.stats[4, 0] + 0.01 > 1


def test_several_dpats_for_one_patch_apply_in_order():
    frame = one_token(rho=0.8)
    dps = [{"patchId": "0,0,32", "stats": {"rho": 0.25}}, {"patchId": "0,0,32", "stats": {"rho": -0.25}}]
    out = apply_target(frame, dps, Bounds.default())
    assert out.tokens.stats[0, 0] == 0.75  # clamp(0.8+0.25)=1, then 1-0.25; not 0.8
    assert out.applied[0]["stats"]["rho"] == pytest.approx(-0.05)


def test_applied_is_in_token_order_one_per_token():
    frame = random_frame(np.random.default_rng(1), 96, 96, 32)
    dps = [{"patchId": "64,64,32", "stats": {"rho": 0.1}}, {"patchId": "0,0,32", "geom": {"A": -0.1}},
           {"patchId": "64,64,32", "topo": {"vortex": 1}}]
    out = apply_target(frame, dps, Bounds.default())
    assert [dp["patchId"] for dp in out.applied] == ["0,0,32", "64,64,32"]
    assert set(out.applied[1]) == {"patchId", "stats", "topo"}
    assert out.rows.tolist() == [0, 8]


def test_head_hints_go_to_touched_tokens():
    frame = random_frame(np.random.default_rng(1), 64, 64, 32)
    heads = [{"weight": 2.0, "phase": 0.5}, {"weight": 1.0}]
    out = apply_target(frame, [{"patchId": "32,0,32", "stats": {"rho": 0.1}}], Bounds.default(), heads=heads)
    assert out.tokens.heads == [None, [0.5, 0.0], None, None]
    assert frame.heads is None


def test_unknown_patch_is_an_error_or_skipped():
    frame = random_frame(np.random.default_rng(1), 64, 64, 32)
    dps = [{"patchId": "0,0,32", "stats": {"rho": 0.1}}, {"patchId": "9,9,32", "stats": {"rho": 0.1}}]
    with pytest.raises(DataError) as info:
        apply_target(frame, dps, Bounds.default())
    assert info.value.path == "dpat[1].patchId" and "9,9,32" in info.value.message
    out = apply_target(frame, dps, Bounds.default(), lenient=True)
    assert out.skipped == 1 and len(out.applied) == 1


def test_code_delta_length_must_match():
    frame = random_frame(np.random.default_rng(1), 64, 64, 32)
    with pytest.raises(DataError) as info:
        apply_target(frame, [{"patchId": "0,0,32", "code": {"rvqDelta": [1, 0]}}], Bounds.default())
    assert info.value.path == "dpat[0].code.rvqDelta" and "length 5" in info.value.message
    bare = random_frame(np.random.default_rng(1), 64, 64, 32, code=False)
    with pytest.raises(DataError):
        apply_target(bare, [{"patchId": "0,0,32", "code": {"rvqDelta": [0] * 5}}], Bounds.default())


def test_out_of_bound_delta_is_an_error_unless_clipped():
    frame = one_token(rho=0.5)
    dps = [{"patchId": "0,0,32", "stats": {"rho": 0.2}}, {"patchId": "0,0,32", "stats": {"rho": 0.3}, "geom": {"phi_gf": 1.0}}]
    with pytest.raises(DataError) as info:
        apply_target(frame, dps, Bounds.default())
    assert info.value.path == "dpat[1].stats.rho" and "--clip" in info.value.message
    out = apply_target(frame, dps, Bounds.default(), clip=True)
    assert out.clips == 2
    assert out.tokens.stats[0, 0] == 0.5 + 0.2 + 0.25
    assert out.applied[0]["geom"]["phi_gf"] == PI / 4


def test_custom_bounds():
    frame = one_token(rho=0.5)
    tight = Bounds.from_mapping({"stats": {"rho": 0.05}})
    with pytest.raises(DataError):
        apply_target(frame, [{"patchId": "0,0,32", "stats": {"rho": 0.1}}], tight)
    assert tight.stats[1] == 0.25


def test_recode_recomputes_codes_of_touched_tokens():
    frame = random_frame(np.random.default_rng(5), 64, 64, 32)
    frame.stats[1, 2] = 0.6  # entropyRate bin 2
    frame.rvq = lfq_codes(lfq_features(frame.geom, frame.stats))
    dp = [{"patchId": "32,0,32", "stats": {"entropyRate": 0.2}}]
    plain = apply_target(frame, dp, Bounds.default())
    assert np.array_equal(plain.tokens.rvq, frame.rvq) and "code" not in plain.applied[0]
    recoded = apply_target(frame, dp, Bounds.default(), recode=True)
    assert recoded.tokens.rvq[1, 3] == 3
    assert np.array_equal(np.delete(recoded.tokens.rvq, 1, 0), np.delete(frame.rvq, 1, 0))
    assert recoded.applied[0]["code"]["rvqDelta"] == [0, 0, 0, 1, 0]


def test_delta_columns_sum_applied_deltas_per_row():
    frame = random_frame(np.random.default_rng(2), 64, 64, 32)
    applied = [{"patchId": "32,32,32", "stats": {"rho": 0.1}, "code": {"rvqDelta": [1, 0, 0, 0, -1]}},
               {"patchId": "0,0,32", "geom": {"phi_gf": 3.0}}, {"patchId": "0,0,32", "geom": {"phi_gf": 1.0}}]
    cols = Deltas.from_dpats(applied, prefix="edit.applied").per_token(frame)
    assert cols.stats[3, 0] == 0.1 and cols.stats_named[3, 0] and not cols.stats_named[3, 1]
    assert cols.rvq[3].tolist() == [1, 0, 0, 0, -1] and cols.rvq_named.tolist() == [False, False, False, True]
    assert cols.geom[0, 1] == pytest.approx(4.0 - 2 * PI)
    assert (cols.geom_named.any(1) | cols.stats_named.any(1) | cols.rvq_named).tolist() == [True, False, False, True]
    assert cols.geom.shape == (4, 5) and cols.topo.shape == (4, 2)


# --- properties over random frames and edits ---------------------------------------------

GRIDS = st.sampled_from([(32, 32, 32), (96, 96, 32), (40, 24, 8), (48, 64, 16), (100, 70, 32)])


@st.composite
def frames(draw, code: bool | None = None):
    W, H, scale = draw(GRIDS)
    seed = draw(st.integers(0, 2**32 - 1))
    with_code = draw(st.booleans()) if code is None else code
    frame = random_frame(np.random.default_rng(seed), W, H, scale, code=with_code)
    # push some values onto the edges of their ranges
    n = len(frame)
    edges = np.random.default_rng(seed + 1)
    rows = edges.integers(0, n, size=max(1, n // 3))
    frame.stats[rows, 0] = edges.choice([0.0, 1.0], len(rows))
    frame.geom[rows, 1] = edges.choice([PI, -PI + 1e-12, 0.0], len(rows))
    frame.geom[rows, 2] = edges.choice([PI / 2, -PI / 2 + 1e-15], len(rows))
    frame.geom[rows, 3] = 0.0
    if with_code:
        frame.rvq[rows] = edges.choice([0, 3], (len(rows), frame.rvq.shape[1]))
    return frame


def numbers(bound: float):
    return st.floats(-bound, bound, allow_nan=False, allow_infinity=False)


def dpat_strategy(pids: list[str], dims: int | None, scale: float = 1.0):
    groups = {
        "stats": st.fixed_dictionaries({}, optional={name: numbers(0.25 * scale) for name in STATS_FIELDS}),
        "geom": st.fixed_dictionaries({}, optional={
            "A": numbers(0.25 * scale), "phi_gf": numbers(PI / 4 * scale), "theta": numbers(PI / 4 * scale),
            "gradPhi": numbers(0.5 * scale), "kappa": numbers(0.5 * scale)}),
        "topo": st.fixed_dictionaries({}, optional={name: st.integers(-2, 2) for name in TOPO_FIELDS}),
    }
    if dims is not None:
        groups["code"] = st.fixed_dictionaries({"rvqDelta": st.lists(st.integers(-1, 1), min_size=dims, max_size=dims)})
    return st.fixed_dictionaries({"patchId": st.sampled_from(pids)}, optional=groups)


@st.composite
def frame_and_dpats(draw, max_dpats: int = 30, scale: float = 1.0):
    frame = draw(frames())
    dims = None if frame.rvq is None else frame.rvq.shape[1]
    dps = draw(st.lists(dpat_strategy(frame.patch_ids, dims, scale), max_size=max_dpats))
    return frame, dps


def in_range(column: str, values: np.ndarray) -> np.ndarray:
    """Elementwise: is each value inside the range §2 keeps its field in?"""
    if column == "geom":
        return np.stack([
            (values[:, 0] >= 0) & (values[:, 0] <= 1),
            (values[:, 1] > -PI) & (values[:, 1] <= PI),
            (values[:, 2] > -PI / 2) & (values[:, 2] <= PI / 2),
            values[:, 3] >= 0,
            values[:, 4] >= 0,
        ], axis=1)
    if column == "stats":
        return (values >= 0) & (values <= 1)
    if column == "topo":
        return (values >= -1) & (values <= 1)
    return (values >= 0) & (values <= 3)


@PROPS
@given(frame_and_dpats())
def test_results_respect_every_range_and_only_named_fields_change(case):
    frame, dps = case
    out = apply_target(frame, dps, Bounds.default())
    batch = Deltas.from_dpats(dps)
    rows = np.array([frame.index_of(p) for p in batch.patch_ids], dtype=np.int64)
    masks = {"geom": batch.geom_named, "stats": batch.stats_named, "topo": batch.topo_named}
    if frame.rvq is not None:
        masks["rvq"] = np.repeat(batch.rvq_named[:, None], frame.rvq.shape[1], axis=1)
    for column, mask in masks.items():
        before, after = getattr(frame, column), getattr(out.tokens, column)
        hit = np.zeros(before.shape, dtype=bool)
        np.logical_or.at(hit, rows, mask)
        assert np.array_equal(before[~hit], after[~hit])
        assert (in_range(column, after) | ~hit).all()
    assert out.tokens.patch_ids == frame.patch_ids and np.array_equal(out.tokens.t, frame.t)


@PROPS
@given(frame_and_dpats(max_dpats=60, scale=40.0))
def test_wrapped_fields_stay_in_range_for_any_delta_sum(case):
    frame, dps = case
    out = apply_target(frame, dps, Bounds.unbounded())
    rows = out.rows
    g = out.tokens.geom[rows]
    assert ((g[:, 1] > -PI) & (g[:, 1] <= PI)).all()
    assert ((g[:, 2] > -PI / 2) & (g[:, 2] <= PI / 2)).all()
    for dp in out.applied:
        geom = dp.get("geom", {})
        assert -PI < geom.get("phi_gf", 0.0) <= PI
        assert -PI / 2 < geom.get("theta", 0.0) <= PI / 2


@PROPS
@given(frame_and_dpats())
def test_base_plus_applied_gives_the_edited_tokens(case):
    frame, dps = case
    heads = [{"weight": 1.0, "phase": 0.25}]
    out = apply_target(frame, dps, Bounds.default(), heads=heads)
    again = apply_target(frame, out.applied, Bounds.unbounded(), heads=heads)
    # Exact when each token is named once. With several DPats on one token, one effective
    # delta may not exist that lands exactly on the sequential result (the sum's float
    # grid can be coarser than the result's), so those land within an ulp or two.
    single = len({dp["patchId"] for dp in dps}) == len(dps)
    assert same_columns(again.tokens, out.tokens, ulps=0 if single else 2)
    assert [frame.index_of(dp["patchId"]) for dp in out.applied] == out.rows.tolist()


@PROPS
@given(frame_and_dpats(), st.data())
def test_e1_then_e2_equals_their_concatenation(case, data):
    frame, dps = case
    cut = data.draw(st.integers(0, len(dps)))
    first = apply_target(frame, dps[:cut], Bounds.default())
    second = apply_target(first.tokens, dps[cut:], Bounds.default())
    both = apply_target(frame, dps, Bounds.default())
    assert same_columns(second.tokens, both.tokens)


@PROPS
@given(frame_and_dpats())
def test_application_is_deterministic(case):
    frame, dps = case
    a = apply_target(frame, dps, Bounds.default())
    b = apply_target(frame.copy(), [dict(dp) for dp in dps], Bounds.default())
    assert same_columns(a.tokens, b.tokens) and a.applied == b.applied


# --- record level -----------------------------------------------------------------------


def _apply_record(applier: EditApplier, record: dict) -> dict | None:
    """A whole frame record through the applier as pat-apply takes it (envelope and
    columns): the edited record with its tokens as maps, or None when no edit changed it."""
    done = applier.apply_frame(record, TokenFrame.from_tokens(record["tokens"]))
    if done is None:
        return None
    return record_with_tokens(edited_envelope(record, done[1]), done[0].to_tokens())


@PROPS
@given(frame_and_dpats(max_dpats=10))
def test_edited_records_validate_and_keep_untouched_tokens(case):
    frame, dps = case
    record = frame_record(frame, sim=sim_block())
    edit = edit_record([{"frame": 0, "dpat": dps}], ident="e1")
    edited = _apply_record(_applier([edit]), record)
    result = apply_target(frame, dps, Bounds.default())
    if edited is None:
        assert len(result.rows) == 0
        return
    validate(edited)
    assert edited["edit"] == {"id": "e1", "applied": result.applied}
    touched = {dp["patchId"] for dp in dps}
    for before, after in zip(record["tokens"], edited["tokens"]):
        if before["hdr"]["patchId"] not in touched:
            assert after == before
        else:
            assert after["hdr"] == before["hdr"]
    # a second edit appends and joins the ids
    again = _apply_record(_applier([dict(edit, id="e2")]), edited)
    second = apply_target(TokenFrame.from_tokens(edited["tokens"]), dps, Bounds.default())
    assert again["edit"]["id"] == "e1+e2"
    assert again["edit"]["applied"] == result.applied + second.applied


def _records(rng_seed: int, frames: int = 4, seed: int = 7) -> list[dict]:
    sim = sim_block(64, 64, 32)
    rng = np.random.default_rng(rng_seed)
    return [frame_record(random_frame(rng, 64, 64, 32, frame=f, sim=sim), seed=seed, frame=f, sim=sim)
            for f in range(frames)]


def _applier(edits: list[dict], **flags) -> EditApplier:
    bounds = Bounds.default()
    clip = flags.pop("clip", False)
    loaded = [load_edit(EditPackage.from_record(e, input="e", index=i), bounds, clip=clip,
                        input="e", index=i) for i, e in enumerate(edits)]
    return EditApplier(loaded, **flags)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**31), st.integers(1, 4))
def test_application_is_independent_of_chunking(rng_seed, chunk):
    records = _records(rng_seed)
    sim = records[0]["sim"]
    edit = edit_record([{"frame": f, "dpat": [{"patchId": "32,0,32", "stats": {"rho": 0.1 * f - 0.15}}]}
                        for f in (0, 2, 3)], seed=7, sim=sim)
    whole = _applier([edit])
    expected = [_apply_record(whole, r) for r in records]
    got = []
    for start in range(0, len(records), chunk):
        part = _applier([edit], lenient=True)
        got.extend(_apply_record(part, r) for r in records[start:start + chunk])
    assert got == expected
    assert expected[1] is None and expected[0]["edit"]["id"] == "test-edit"


def test_applier_matches_seed_and_sim_and_reports_the_rest():
    records = _records(1)
    sim = records[0]["sim"]
    ok = edit_record([{"frame": 1, "dpat": [{"patchId": "0,0,32", "stats": {"rho": 0.1}}]}], seed=7, sim=sim, ident="ok")
    other_seed = edit_record([], seed=8, sim=sim, ident="s8")
    other_grid = edit_record([], seed=7, sim=dict(sim, W=96), ident="g96")
    missing = edit_record([{"frame": 9, "dpat": []}], seed=7, sim=sim, ident="f9")
    applier = _applier([ok, other_seed, other_grid, missing])
    out = [_apply_record(applier, r) for r in records]
    assert [o is not None for o in out] == [False, True, False, False]
    problems = [(p.record, p.path) for p in applier.unmatched()]
    assert problems == [(1, "seed"), (2, "sim.W"), (3, "targets[0].frame")]
    assert applier.tally.frames_changed == 1


def test_two_edits_on_one_frame_apply_in_file_order():
    records = _records(2)
    sim = records[0]["sim"]
    e1 = edit_record([{"frame": 0, "dpat": [{"patchId": "0,0,32", "stats": {"rho": 0.25}}]}], seed=7, sim=sim, ident="a")
    e2 = edit_record([{"frame": 0, "dpat": [{"patchId": "0,0,32", "stats": {"rho": -0.25}}],
                       "dA": {"heads": [{"weight": 0.5, "phase": 1.0}]}}], seed=7, sim=sim, ident="b")
    out = _apply_record(_applier([e1, e2]), records[0])
    assert out["edit"]["id"] == "a+b" and len(out["edit"]["applied"]) == 2
    assert out["edit"]["dA"] == {"heads": [{"weight": 0.5, "phase": 1.0}]}
    assert out["tokens"][0]["heads"] == [1.0]
    rho = records[0]["tokens"][0]["stats"]["rho"]
    assert out["tokens"][0]["stats"]["rho"] == min(1.0, rho + 0.25) - 0.25


@st.composite
def stream_and_edits(draw):
    """A few frames of one grid (codes on some frames only) and 1–3 edits over them."""
    W, H, scale = draw(GRIDS)
    sim = sim_block(W, H, scale)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    count = draw(st.integers(1, 6))
    frames = [random_frame(rng, W, H, scale, frame=f, sim=sim, code=draw(st.booleans())) for f in range(count)]
    edits = []
    for e in range(draw(st.integers(1, 3))):
        targets = []
        for f in draw(st.lists(st.integers(0, count - 1), max_size=count)):
            dims = None if frames[f].rvq is None else frames[f].rvq.shape[1]
            target = {"frame": f, "dpat": draw(st.lists(dpat_strategy(frames[f].patch_ids, dims), max_size=8))}
            if draw(st.integers(0, 4)) == 0:
                target["dA"] = {"heads": [{"weight": 1.0, "phase": 0.5}]}
            targets.append(target)
        edits.append(edit_record(targets, seed=7, sim=sim, ident=f"e{e}"))
    return [frame_record(f, seed=7, frame=i, sim=sim) for i, f in enumerate(frames)], frames, edits


@PROPS
@given(stream_and_edits(), st.booleans())
def test_stacked_application_equals_frame_by_frame(case, recode):
    """pat-apply edits validated frames many at a time (pattools.edit.stacked): the same
    envelopes, columns and tallies as applying the edits to one frame after another."""
    records, columns, edits = case
    one_by_one = _applier(edits, recode=recode)
    expected = [_with_envelope(r, one_by_one.apply_frame(r, c)) for r, c in zip(records, columns)]
    together = _applier(edits, recode=recode)
    got = [_with_envelope(r, done) for r, done in zip(records, together.apply_frames(list(zip(records, columns))))]
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        assert (a is None) == (b is None)
        if a is not None:
            assert a[0] == b[0] and same_columns(a[1], b[1]) and a[1].heads == b[1].heads
    assert together.tally == one_by_one.tally
    # the memoising edit-block encoder gives the bytes of the maps, memo hits included
    blocks = EditBlockEncoder()
    again = _applier(edits, recode=recode).apply_frames(list(zip(records, columns)))
    for _ in range(2):
        for record, done in zip(records, again):
            if done is not None:
                assert blocks.block(*block_parts(done[1])) == encode(edited_envelope(record, done[1])["edit"])
    # and every edited record is schema-valid
    for result in expected:
        if result is not None:
            validate(record_with_tokens(result[0], result[1].to_tokens()))


def _with_envelope(record: dict, done: tuple | None) -> tuple | None:
    """(edited envelope, edited columns) of an apply_frame(s) result."""
    return None if done is None else (edited_envelope(record, done[1]), done[0])


def test_stacked_application_reports_the_first_error_of_frame_order():
    records = _records(3, frames=3)
    sim = records[0]["sim"]
    columns = [TokenFrame.from_tokens(r["tokens"]) for r in records]
    # the second edit fails on frame 0; the first fails on frame 2: frame order meets frame 0 first,
    # while edit order (both first edits before any second edit) would meet frame 2 first
    e1 = edit_record([{"frame": 0, "dpat": [{"patchId": "0,0,32", "stats": {"rho": 0.1}}]},
                      {"frame": 2, "dpat": [{"patchId": "9,9,32", "stats": {"rho": 0.1}}]}], seed=7, sim=sim, ident="a")
    e2 = edit_record([{"frame": 0, "dpat": [{"patchId": "0,0,32", "code": {"rvqDelta": [1]}}]}], seed=7, sim=sim,
                     ident="b")
    with pytest.raises(DataError) as stacked:
        _applier([e1, e2]).apply_frames(list(zip(records, columns)))
    with pytest.raises(DataError) as sequential:
        applier = _applier([e1, e2])
        for record, tokens in zip(records, columns):
            applier.apply_frame(record, tokens)
    assert str(stacked.value) == str(sequential.value) and "rvqDelta" in str(stacked.value)


def test_edit_block_memo_keeps_signed_zeros_apart():
    records = _records(4, frames=2)
    sim = records[0]["sim"]
    columns = [TokenFrame.from_tokens(r["tokens"]) for r in records]
    columns[1].stats[0, 5] = -0.0  # attnMean: a zero delta on -0.0 and on 0.0 encode alike,
    columns[0].stats[0, 5] = 0.0  # but the effective deltas below differ in sign
    edit = edit_record([{"frame": f, "dpat": [{"patchId": "0,0,32", "stats": {"attnMean": d}}]}
                        for f, d in ((0, 0.0), (1, -0.0))], seed=7, sim=sim)
    blocks = EditBlockEncoder()
    done = _applier([edit]).apply_frames(list(zip(records, columns)))
    encoded = [blocks.block(*block_parts(d[1])) for d in done]
    assert encoded == [encode(edited_envelope(r, d[1])["edit"]) for r, d in zip(records, done)]
    assert encoded[0] != encoded[1]


@PROPS
@given(stream_and_edits())
def test_delta_columns_of_results_equal_delta_columns_of_their_dpats(case):
    """The replay sums effective deltas straight from apply results; pat-apply | pat-replay
    sums them from the edit block's DPat maps: the same columns."""
    from pattools.edit.apply import delta_columns_of

    records, columns, edits = case
    applier = _applier(edits)
    for record, tokens in zip(records, columns):
        done = applier.apply_frame(record, tokens)
        if done is None:
            continue
        edited, changes = done
        dpats = [dp for _, _, result in changes for dp in result.applied]
        expected = Deltas.from_dpats(dpats, prefix="edit.applied").per_token(edited)
        got = delta_columns_of(edited, [result for _, _, result in changes])
        for name in ("geom", "stats", "topo", "rvq", "geom_named", "stats_named", "topo_named", "rvq_named"):
            assert np.array_equal(getattr(got, name), getattr(expected, name)), name


def _mixed_codes(frame: TokenFrame, lengths: np.ndarray) -> TokenFrame:
    """``frame`` with token i's code cut to lengths[i] dimensions (-1: no code)."""
    tokens = frame.to_tokens()
    for token, length in zip(tokens, lengths.tolist()):
        if length < 0:
            del token["code"]
        else:
            token["code"]["rvq"] = token["code"]["rvq"][:length]
    return TokenFrame.from_tokens(tokens)


@st.composite
def mixed_code_stream(draw):
    """Frames of one grid whose tokens carry codes of 5 or 3 dimensions, or none, with
    edits whose code deltas each fit their token's code."""
    W, H, scale = draw(GRIDS)
    sim = sim_block(W, H, scale)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    count = draw(st.integers(2, 5))
    frames = []
    for f in range(count):
        full = random_frame(rng, W, H, scale, frame=f, sim=sim)
        lengths = np.array(draw(st.lists(st.sampled_from([5, 5, 3, -1]), min_size=len(full), max_size=len(full))))
        frames.append(_mixed_codes(full, lengths))
    edits = []
    for e in range(draw(st.integers(1, 2))):
        targets = []
        for f in draw(st.lists(st.integers(0, count - 1), max_size=count)):
            dpats = []
            for row in draw(st.lists(st.integers(0, len(frames[f]) - 1), max_size=6)):
                frame = frames[f]
                if frame.rvq is None:
                    dims = None
                elif frame.rvq_len is None:
                    dims = frame.rvq.shape[1]
                else:
                    dims = None if frame.rvq_len[row] < 0 else int(frame.rvq_len[row])
                dpat = draw(dpat_strategy([frames[f].patch_ids[row]], dims))
                dpats.append(dpat)
            targets.append({"frame": f, "dpat": dpats})
        edits.append(edit_record(targets, seed=7, sim=sim, ident=f"e{e}"))
    return [frame_record(f, seed=7, frame=i, sim=sim) for i, f in enumerate(frames)], frames, edits


@PROPS
@given(mixed_code_stream(), st.booleans())
def test_frames_with_codes_of_different_lengths_stack_and_keep_each_code_length(case, recode):
    records, columns, edits = case
    one_by_one = _applier(edits, recode=recode)
    expected = [one_by_one.apply_frame(r, c) for r, c in zip(records, columns)]
    together = _applier(edits, recode=recode)
    got = together.apply_frames(list(zip(records, columns)))
    assert together.tally == one_by_one.tally
    for record, before, a, b in zip(records, columns, got, expected):
        assert (a is None) == (b is None)
        if a is None:
            continue
        assert same_columns(a[0], b[0])
        assert edited_envelope(record, a[1]) == edited_envelope(record, b[1])
        edited = record_with_tokens(edited_envelope(record, a[1]), a[0].to_tokens())
        validate(edited)  # codes of 3 dimensions are schema-valid (the layout check wants 5)
        for token, old in zip(edited["tokens"], record["tokens"]):
            assert ("code" in token) == ("code" in old)
            if "code" in token:
                assert len(token["code"]["rvq"]) == len(old["code"]["rvq"])
        for dp in edited["edit"]["applied"]:
            old = record["tokens"][before.index_of(dp["patchId"])]
            if "code" in dp:
                assert len(dp["code"]["rvqDelta"]) == len(old["code"]["rvq"])
