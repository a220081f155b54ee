"""EditReward (docs/score.md): the reward arithmetic on hand-made cubes, the scorer on
hand-made sequences, and pat-score in real pipelines."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest

from pattools.edit.dpat import EditPackage
from pattools.edit.prompt_grammar import parse_prompt
from pattools.edit.regions import Grid, resolve_intent
from pattools.io import read_records
from pattools.schema import validate
from pattools.score.evaluate import ScoreSettings, score_edit
from pattools.score.features import DRIFT_FEATURES, SCORED_FEATURES
from pattools.score.reward import FeatureCube, background_mask, edit_reward
from pattools.score.sequences import Sequence
from pattools.score.summary import summarize
from pattools.tokens.frame import TokenFrame
from tests.helpers import make_frame, run, shell, sim_block

F = len(SCORED_FEATURES)
RHO = SCORED_FEATURES.index("rho")
PHI = SCORED_FEATURES.index("phi_gf")


def _intents(prompt: str, grid: Grid):
    out = [resolve_intent(i, grid) for i in parse_prompt(prompt).intents]
    return out, [np.isin(np.arange(grid.count), [grid.patch_ids().index(p) for p in i.patches]) for i in out]


# ------------------------------------------------------------------ reward arithmetic


def test_faithfulness_drift_and_reward() -> None:
    grid = Grid(48, 48, 16)  # 3×3: rim = 8 patches, centre = 1
    intents, masks = _intents("increase coherence on rim, lower phase in the centre", grid)
    base = FeatureCube(np.zeros((2, 9, F)), np.zeros((2, 9), dtype=np.int64))
    edited = FeatureCube(np.zeros((2, 9, F)), np.zeros((2, 9), dtype=np.int64))
    rim = masks[0]
    edited.values[:, rim, RHO] = 0.05  # effect 0.05 → tanh(1)
    base.values[:, 4, PHI] = math.pi - 0.1  # circular: E − B = −0.2 (not 2π − 0.2)
    edited.values[:, 4, PHI] = -math.pi + 0.1 - 0.4
    bg = background_mask(masks, grid.dilate, 0, np.zeros(9, dtype=bool))
    assert not bg.any()  # rim + centre cover the 3×3 grid
    r = edit_reward(base, edited, intents, masks, bg)
    assert r.intents[0].faithfulness == pytest.approx(math.tanh(1.0))
    assert r.intents[1].effect == pytest.approx(-0.2)
    assert r.intents[1].faithfulness == pytest.approx(math.tanh(0.2 / (math.pi / 8)))
    assert r.faithfulness == pytest.approx((r.intents[0].faithfulness + r.intents[1].faithfulness) / 2)
    assert r.drift == 0.0 and r.edit_reward == r.faithfulness
    # drift over the background only, per feature scale, λ-weighted
    intents, masks = _intents("increase coherence on rim", grid)
    bg = background_mask(masks, grid.dilate, 0, np.zeros(9, dtype=bool))
    assert np.flatnonzero(bg).tolist() == [4]
    edited.values[:, 4, SCORED_FEATURES.index("kappa")] = 0.2 * len(DRIFT_FEATURES)
    r = edit_reward(base, edited, intents, masks, bg, lam=0.5)
    assert r.drift_by_feature["kappa"] == pytest.approx(len(DRIFT_FEATURES))
    assert r.drift == pytest.approx(1.0 + r.drift_by_feature["phi_gf"] / len(DRIFT_FEATURES))
    assert r.edit_reward == pytest.approx(r.faithfulness - 0.5 * r.drift)
    assert not background_mask(masks, grid.dilate, 1, np.zeros(9, dtype=bool)).any()  # halo 1


def test_flip_scoring_everywhere_is_relative_to_chaos() -> None:
    grid = Grid(48, 48, 16)
    intents, masks = _intents("flip chirality", grid)
    no_bg = np.zeros(9, dtype=bool)
    chir_b = np.array([[1, -1, 0, 1, -1, 1, 0, 0, 0]])
    cube = lambda c: FeatureCube(np.zeros((1, 9, F)), np.array(c))  # noqa: E731
    unchanged = edit_reward(cube(chir_b), cube(chir_b), intents, masks, no_bg)
    assert unchanged.intents[0].samples == 5 and unchanged.faithfulness == 0.0
    clean = edit_reward(cube(chir_b), cube(-chir_b), intents, masks, no_bg)
    assert clean.faithfulness == 1.0
    # scrambled: as many reversed (2) as kept (2), one lost -> 0; three reversed, one kept -> 2/5
    scrambled = edit_reward(cube(chir_b), cube([[-1, -1, 1, 1, 0, -1, 1, 0, 0]]), intents, masks, no_bg)
    assert scrambled.faithfulness == 0.0
    partial = edit_reward(cube(chir_b), cube([[-1, 1, 0, 1, 1, 0, 0, 0, 0]]), intents, masks, no_bg)
    assert partial.faithfulness == pytest.approx((3 - 1) / 5)
    none = edit_reward(cube(np.zeros((1, 9), dtype=np.int64)), cube(chir_b), intents, masks, no_bg)
    assert none.faithfulness == 0.0


def test_flip_scoring_region_minus_background() -> None:
    grid = Grid(48, 48, 16)
    intents, masks = _intents("flip chirality in the centre", grid)  # patch 4 of 3x3
    bg = background_mask(masks, grid.dilate, 0, np.zeros(9, dtype=bool))
    chir_b = np.array([[1, -1, 1, -1, 1, 1, -1, 1, -1], [1, -1, 1, -1, -1, 1, -1, 1, -1]])
    cube = lambda c: FeatureCube(np.zeros((2, 9, F)), np.array(c))  # noqa: E731
    assert edit_reward(cube(chir_b), cube(chir_b), intents, masks, bg).faithfulness == 0.0
    flipped = chir_b.copy()
    flipped[:, 4] *= -1
    assert edit_reward(cube(chir_b), cube(flipped), intents, masks, bg).faithfulness == 1.0
    # scrambling everything flips the region and the background alike: 0
    assert edit_reward(cube(chir_b), cube(-chir_b), intents, masks, bg).faithfulness == 0.0
    # region flipped once of two frames, background flipped on 4 of 16 patch-frames: 0.5 - 0.25
    half = chir_b.copy()
    half[0, 4] *= -1
    half[1, :4] *= -1
    assert edit_reward(cube(chir_b), cube(half), intents, masks, bg).faithfulness == pytest.approx(0.25)


@pytest.mark.parametrize("effective, frames", [(False, 2), (True, 0)])
def test_null_cases_score_exactly_zero(effective: bool, frames: int) -> None:
    grid = Grid(48, 48, 16)
    intents, masks = _intents("reduce coherence on rim, raise phase", grid)
    base = FeatureCube(np.zeros((frames, 9, F)), np.zeros((frames, 9), dtype=np.int64))
    edited = FeatureCube(np.ones((frames, 9, F)), np.ones((frames, 9), dtype=np.int64))
    r = edit_reward(base, edited, intents, masks, ~masks[0], effective=effective)
    for value in (r.faithfulness, r.drift, r.edit_reward, *(s.faithfulness for s in r.intents)):
        assert value == 0.0 and math.copysign(1, value) == 1  # no NaN, no −0.0


# ------------------------------------------------------------------ scorer on hand-made sequences

W = H = 48
SCALE = 16
SIM = sim_block(W, H, SCALE)


def _sequence(seed: int, frames: int = 3, bump: float = 0.0, where: str = "rim") -> Sequence:
    seq = Sequence(seed, SIM, f"seq{bump}")
    grid = Grid(W, H, SCALE)
    rows = resolve_intent(parse_prompt(f"raise energy on {where}").intents[0], grid).patches
    for f in range(frames):
        tokens = TokenFrame.from_tokens(make_frame(seed, f, W, H, SCALE)["tokens"])
        for pid in rows:
            tokens.stats[tokens.index_of(pid), 0] += bump
        seq.frames.append(f)
        seq.tokens.append(tokens)
        seq.patch_defects.append(None)
        seq.edits.append(None)
        seq.replays.append(None)
    return seq


def _package(seed: int, prompt: str, dpat: list, frames=(1, 2)) -> EditPackage:
    grid = Grid(W, H, SCALE)
    intents = [resolve_intent(i, grid).to_record() for i in parse_prompt(prompt).intents]
    return EditPackage.from_record({
        "kind": "PAT_EDIT", "version": 1, "id": f"heuristic-{seed}-000000000000", "prompt": prompt, "seed": seed,
        "sim": SIM, "intents": intents, "targets": [{"frame": f, "dpat": dpat} for f in frames],
        "repro": EditPackage.repro_of(SIM)})


def test_score_edit_record() -> None:
    base = _sequence(3)
    edited = _sequence(3, bump=0.01)  # rho +0.01 on the rim
    pkg = _package(3, "increase coherence on rim", [{"patchId": "0,0,16", "stats": {"rho": -0.1}}])
    rec = score_edit(base, edited, pkg, edited2=edited)
    validate(rec)
    assert rec["window"] == {"start": 1, "stop": 3, "frames": 2}
    assert rec["intents"][0]["effect"] == pytest.approx(0.01)
    assert rec["faithfulness"] == pytest.approx(math.tanh(0.2))
    assert rec["drift"] == 0.0 and rec["backgroundPatches"] == 1
    assert rec["determinismRMSE"] == 0.0 and rec["effective"] and rec["editedTokens"] == 2
    assert rec["atlas"]["healthy"] is True and rec["atlas"]["delta"]["perplexity"] == [0.0] * 5
    # a wrong-way edit scores negative; an edit that saturates to nothing scores 0
    assert score_edit(base, _sequence(3, bump=-0.01), pkg)["faithfulness"] < 0
    base.tokens[1].stats[0, 0] = 0.0
    base.tokens[2].stats[0, 0] = 0.0
    zero = score_edit(base, edited, pkg, reference=base)
    assert (zero["faithfulness"], zero["drift"], zero["editReward"], zero["effective"]) == (0.0, 0.0, 0.0, False)
    assert score_edit(base, edited, pkg, settings=ScoreSettings(window=(5, None)))["window"]["frames"] == 0


def test_score_edit_checks_pairing() -> None:
    pkg = _package(3, "increase coherence on rim", [])
    with pytest.raises(Exception, match="base replay is seed 4, the edit is for seed 3"):
        score_edit(_sequence(4), _sequence(3), pkg)
    short = _sequence(3, frames=2)
    with pytest.raises(Exception, match="edited replay lacks frame 2"):
        score_edit(_sequence(3), short, pkg)


def test_summary_means_per_editor() -> None:
    def rec(ident, f, d):
        return ({"kind": "PAT_SCORE", "version": 1, "scope": "edit", "edit": ident, "faithfulness": f,
                 "drift": d, "editReward": f - d, "determinismRMSE": None, "atlas": None}, "x", 0)

    rows = summarize([rec("heuristic-1-a", 0.5, 0.1), rec("random-1-a", 0.0, 0.2), rec("heuristic-2-a", 0.3, 0.1)])
    assert [(r["group"], r["edits"]) for r in rows] == [("heuristic", 2), ("random", 1)]
    assert rows[0]["faithfulness"] == pytest.approx(0.4) and rows[0]["editReward"] == pytest.approx(0.3)
    for r in rows:
        validate(r)


# ------------------------------------------------------------------ the command


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A small real export (2 seeds, 48×48, scale 16, 4 frames of 2 steps)."""
    d = tmp_path_factory.mktemp("score")
    out = run("pat-export", "-q", "--seeds", "11,12", "--W", "48", "--H", "48", "--frames", "4", "--spf", "2",
              "--scale", "16", check=True)
    (d / "frames.cbor").write_bytes(out.stdout)
    return d


def _records(data: bytes) -> list[dict]:
    return [r.document() for r in read_records(["-"], stdin=io.BytesIO(data))]


NULL_PROMPTS = ["increase coherence on rim", "reduce entropy in the centre, flip chirality",
                "strongly raise phase near patch 16,16", "lower valence and increase attention on the rim"]


def test_null_editor_scores_exactly_zero(exported) -> None:
    d = exported
    prompts = d / "prompts.txt"
    prompts.write_text("\n".join(NULL_PROMPTS) + "\n")
    r = shell(f"pat-baseline --editor null --prompts {prompts} --frames 1: {d}/frames.cbor > {d}/null.cbor && "
              f"pat-score --original {d}/frames.cbor --edit {d}/null.cbor > {d}/null-score.cbor")
    assert r.returncode == 0, r.stderr.decode()
    scores = _records((d / "null-score.cbor").read_bytes())
    assert len(scores) == 2 * len(NULL_PROMPTS)
    for s in scores:
        assert (s["faithfulness"], s["drift"], s["editReward"]) == (0.0, 0.0, 0.0)
        assert all(i["faithfulness"] == 0.0 for i in s["intents"])
        assert s["determinismRMSE"] == 0.0 and s["baseDeterminismRMSE"] == 0.0
    assert b"\xfb\x80" not in (d / "null-score.cbor").read_bytes()  # no −0.0 anywhere


def test_files_and_original_agree_and_output_is_byte_identical(exported) -> None:
    d = exported
    script = (
        f"pat-baseline --prompt 'increase coherence on rim, reduce entropy in the centre' --frames 1: "
        f"  {d}/frames.cbor > {d}/e.cbor && "
        f"pat-replay {d}/frames.cbor > {d}/b.cbor && "
        f"pat-apply --edit {d}/e.cbor {d}/frames.cbor | pat-replay > {d}/e1.cbor && "
        f"pat-replay --edit {d}/e.cbor {d}/frames.cbor > {d}/e2.cbor && "
        f"pat-score --base {d}/b.cbor --edited {d}/e1.cbor --edited2 {d}/e2.cbor --edit {d}/e.cbor > {d}/s1.cbor && "
        f"pat-score --base {d}/b.cbor --edited {d}/e1.cbor --edited2 {d}/e2.cbor --edit {d}/e.cbor > {d}/s2.cbor && "
        f"pat-score --original {d}/frames.cbor --edit {d}/e.cbor --table > {d}/s3.cbor 2> {d}/table.txt && "
        f"pat-score --base {d}/b.cbor --edited {d}/e1.cbor --edit {d}/e.cbor --halo 1 --lambda 0.5 --window 2: "
        f"  --format jsonl > {d}/s4.jsonl"
    )
    r = shell(script)
    assert r.returncode == 0, r.stderr.decode()
    s1, s2 = (d / "s1.cbor").read_bytes(), (d / "s2.cbor").read_bytes()
    assert s1 == s2
    files, original = _records(s1), _records((d / "s3.cbor").read_bytes())
    for a, b in zip(files, original, strict=True):
        assert b.pop("baseDeterminismRMSE") == 0.0
        assert a == b
        assert a["effective"] and a["determinismRMSE"] == 0.0
    flagged = [r.document() for r in read_records([str(d / "s4.jsonl")])]
    assert [(r["halo"], r["lambda"], r["window"]["start"], r["determinismRMSE"]) for r in flagged] == [
        (1, 0.5, 2, None), (1, 0.5, 2, None)]
    table = (d / "table.txt").read_text()
    assert "increase coherence on rim" in table and "editReward" in table


def test_halo_lambda_and_window(exported) -> None:
    from pattools.edit.editors import heuristic_edit
    from pattools.score.runner import load_sequences, score_original

    seqs = load_sequences(read_records([str(exported / "frames.cbor")]), keep_records=True)
    seq = seqs[0]
    pkg = heuristic_edit(list(zip(seq.frames, seq.tokens)), seq.sim, seq.seed, "increase coherence at patch 0,0")

    def score(**settings):
        (rec,) = score_original([seq], [(pkg, "e", 0)], twice=False, settings=ScoreSettings(**settings))
        return rec

    plain, halo = score(), score(halo=1)
    assert (plain["backgroundPatches"], halo["backgroundPatches"]) == (8, 5)
    lam = score(lam=0.25)
    assert lam["editReward"] == pytest.approx(lam["faithfulness"] - 0.25 * lam["drift"])
    assert score(window=(2, 3))["window"] == {"start": 2, "stop": 3, "frames": 1}
    assert plain["determinismRMSE"] is None


def test_usage_and_data_errors(exported) -> None:
    d = exported
    assert run("pat-score", "--edit", "e.cbor").returncode == 2
    assert run("pat-score", "--base", "b.cbor", "--edit", "e.cbor").returncode == 2
    bad = run("pat-score", "--base", f"{d}/frames.cbor", "--edited", f"{d}/frames.cbor", "--edit",
              f"{d}/frames.cbor")
    assert bad.returncode == 1 and b"Traceback" not in bad.stderr


def test_summary_command(tmp_path) -> None:
    lines = []
    for ident, f, dr in (("null-1-a", 0.0, 0.0), ("heuristic-1-a", 0.25, 0.125), ("heuristic-2-a", 0.5, 0.125)):
        lines.append('{"kind":"PAT_SCORE","version":1,"scope":"edit","edit":"%s","faithfulness":%r,"drift":%r,'
                     '"editReward":%r}' % (ident, f, dr, f - dr))
    (tmp_path / "scores.jsonl").write_text("\n".join(lines) + "\n")
    r = shell(f"pat-score --summary --table --format jsonl {tmp_path}/scores.jsonl")
    assert r.returncode == 0, r.stderr.decode()
    rows = [line for line in r.stdout.decode().splitlines()]
    assert rows == [  # keys in the schema's order (one JSON text per record)
        '{"kind":"PAT_SCORE","version":1,"scope":"mean","faithfulness":0.0,"drift":0.0,"editReward":0.0,'
        '"determinismRMSE":null,"group":"null","edits":1,"healthyShare":null}',
        '{"kind":"PAT_SCORE","version":1,"scope":"mean","faithfulness":0.375,"drift":0.125,"editReward":0.25,'
        '"determinismRMSE":null,"group":"heuristic","edits":2,"healthyShare":null}']
    assert "EditReward per editor" in r.stderr.decode()
    (tmp_path / "means.jsonl").write_text(rows[0] + "\n")
    bad = run("pat-score", "--summary", f"{tmp_path}/means.jsonl")
    assert bad.returncode == 1
    assert bad.stderr.decode() == (f"pat-score: {tmp_path}/means.jsonl: record 0: scope: "
                                   "expected \"edit\" (a score of one edit), got string 'mean'\n")
