"""pat-apply as a user runs it: real subprocesses and pipes (bin/pat-apply, bin/pat-cat, bin/pat-export)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from pattools.io.cbor import encode
from pattools.io.jsonl import encode_line
from tests.helpers import run, shell
from tests.test_apply_support import edit_record, sequence, sim_block

SEED = 1234


@pytest.fixture(scope="module")
def frames(tmp_path_factory):
    """Four frames of seed 1234 (96×96, scale 32) and two of seed 99, as CBOR and JSONL files."""
    where = tmp_path_factory.mktemp("apply")
    rng = np.random.default_rng(11)
    records = sequence(rng, 4, seed=SEED) + sequence(rng, 2, seed=99)
    cbor_path = where / "frames.cbor"
    cbor_path.write_bytes(b"".join(encode(r) for r in records))
    jsonl_path = where / "frames.jsonl"
    jsonl_path.write_bytes(b"".join(encode_line(r) for r in records))
    return where, records, cbor_path, jsonl_path


def write_edits(path, *edits) -> str:
    path.write_bytes(b"".join(encode(e) for e in edits))
    return str(path)


def cbor_items(data: bytes) -> list[dict]:
    return [json.loads(line) for line in run("pat-cat", "--format", "jsonl", input=data, check=True).stdout.splitlines()]


def split_cbor(data: bytes) -> list[bytes]:
    """The raw bytes of each record of a CBOR sequence (via pat-cat's reader)."""
    from pattools.io.records import read_records
    import io

    return [r._raw for r in read_records(["-"], stdin=io.BytesIO(data))]


RHO = {"patchId": "32,0,32", "stats": {"rho": 0.1}}


def test_pipeline_edits_target_frames_and_passes_the_rest_byte_for_byte(frames, tmp_path):
    _, records, cbor_path, _ = frames
    edit = write_edits(tmp_path / "e.cbor", edit_record([{"frame": 2, "dpat": [RHO]}], ident="e1"))
    result = shell(f"pat-apply --edit {edit} < {cbor_path} | pat-cat --format jsonl")
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [("edit" in r) for r in out] == [False, False, True, False, False, False]
    assert out[2]["edit"] == {"id": "e1", "applied": [{"patchId": "32,0,32", "stats": {"rho": 0.1}}]} or \
        out[2]["edit"]["applied"][0]["stats"]["rho"] <= 0.1
    before, after = records[2]["tokens"], out[2]["tokens"]
    assert after[1]["stats"]["rho"] == min(1.0, before[1]["stats"]["rho"] + 0.1)
    assert [t for i, t in enumerate(after) if i != 1] == [t for i, t in enumerate(before) if i != 1]
    raw_in = split_cbor(cbor_path.read_bytes())
    raw_out = split_cbor(run("pat-apply", "--edit", edit, str(cbor_path), check=True).stdout)
    assert [a == b for a, b in zip(raw_in, raw_out)] == [True, True, False, True, True, True]


def test_empty_edit_is_the_identity_on_bytes(frames, tmp_path):
    _, _, cbor_path, jsonl_path = frames
    empty = write_edits(tmp_path / "empty.cbor", edit_record([], ident="null-1234"),
                        edit_record([{"frame": 1, "dpat": []}], ident="null-again"))
    out = run("pat-apply", "--edit", empty, str(cbor_path), check=True)
    assert out.stdout == cbor_path.read_bytes() and out.stderr == b""
    out = run("pat-apply", "--edit", empty, "--format", "jsonl", str(jsonl_path), check=True)
    assert out.stdout == jsonl_path.read_bytes()


def test_export_apply_cat_pipeline(tmp_path):
    sim = sim_block(64, 64, 32, dt=0.03, steps=1)
    exported = shell("pat-export --seeds 5 --W 64 --H 64 --frames 3 --scale 32 --dt 0.03 --steps-per-frame 1 "
                     "| pat-cat --format jsonl")
    assert exported.returncode == 0, exported.stderr
    sim = json.loads(exported.stdout.splitlines()[0])["sim"]
    edit = write_edits(tmp_path / "e.cbor", edit_record(
        [{"frame": 1, "dpat": [{"patchId": "0,32,32", "stats": {"rho": -0.2}, "code": {"rvqDelta": [0, 0, 0, 1, 0]}}]}],
        seed=5, sim=sim, ident="x"))
    result = shell(f"pat-export --seeds 5 --W 64 --H 64 --frames 3 --scale 32 --dt 0.03 --steps-per-frame 1 "
                   f"| pat-apply --edit {edit} | pat-cat --format jsonl")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    base = exported.stdout.splitlines()
    assert lines[0] == base[0] and lines[2] == base[2] and lines[1] != base[1]
    edited = json.loads(lines[1])
    assert edited["edit"]["id"] == "x" and edited["edit"]["applied"][0]["patchId"] == "0,32,32"


def test_several_edits_each_apply_to_their_own_seed(frames, tmp_path):
    _, records, cbor_path, _ = frames
    edits = write_edits(tmp_path / "two.cbor",
                        edit_record([{"frame": 0, "dpat": [RHO]}], seed=99, ident="b"),
                        edit_record([{"frame": 0, "dpat": [RHO]}, {"frame": 3, "dpat": [RHO]}], seed=SEED, ident="a"))
    out = cbor_items(run("pat-apply", "--edit", edits, str(cbor_path), check=True).stdout)
    assert [r.get("edit", {}).get("id") for r in out] == ["a", None, None, "a", "b", None]


def test_second_edit_appends_and_equals_the_concatenation(frames, tmp_path):
    _, _, cbor_path, _ = frames
    dp1 = [{"patchId": "0,0,32", "stats": {"rho": 0.25}, "geom": {"phi_gf": 0.7}},
           {"patchId": "64,64,32", "topo": {"vortex": -2}}]
    dp2 = [{"patchId": "0,0,32", "stats": {"rho": -0.25}, "geom": {"phi_gf": 0.7}}]
    e1 = write_edits(tmp_path / "e1.cbor", edit_record([{"frame": 1, "dpat": dp1}], ident="one"))
    e2 = write_edits(tmp_path / "e2.cbor", edit_record([{"frame": 1, "dpat": dp2}], ident="two"))
    e12 = write_edits(tmp_path / "e12.cbor", edit_record([{"frame": 1, "dpat": dp1 + dp2}], ident="both"))
    chained = shell(f"pat-apply --edit {e1} {cbor_path} | pat-apply --edit {e2} | pat-cat --format jsonl")
    assert chained.returncode == 0, chained.stderr
    twice = [json.loads(line) for line in chained.stdout.splitlines()]
    once = cbor_items(run("pat-apply", "--edit", e12, str(cbor_path), check=True).stdout)
    assert [r["tokens"] for r in twice] == [r["tokens"] for r in once]
    assert twice[1]["edit"]["id"] == "one+two" and len(twice[1]["edit"]["applied"]) == 3
    both_files = cbor_items(run("pat-apply", "--edit", e1, "--edit", e2, str(cbor_path), check=True).stdout)
    assert both_files == twice


def test_output_does_not_depend_on_how_the_input_is_split(frames, tmp_path):
    _, records, _, _ = frames
    edit = write_edits(tmp_path / "e.cbor", edit_record([{"frame": f, "dpat": [RHO]} for f in (0, 1, 3)], ident="s"))
    whole = tmp_path / "whole.cbor"
    whole.write_bytes(b"".join(encode(r) for r in records[:4]))
    expected = run("pat-apply", "--edit", edit, str(whole), check=True).stdout
    pieces = []
    for part, chunk in enumerate((records[:1], records[1:3], records[3:4])):
        path = tmp_path / f"part{part}.cbor"
        path.write_bytes(b"".join(encode(r) for r in chunk))
        pieces.append(run("pat-apply", "--lenient", "-q", "--edit", edit, str(path), check=True).stdout)
    assert b"".join(pieces) == expected
    split_files = run("pat-apply", "--edit", edit, *(str(tmp_path / f"part{p}.cbor") for p in range(3)), check=True)
    assert split_files.stdout == expected


def test_clip_counts_and_bounds_file(frames, tmp_path):
    _, _, cbor_path, _ = frames
    edit = write_edits(tmp_path / "big.cbor", edit_record(
        [{"frame": 0, "dpat": [{"patchId": "0,0,32", "stats": {"rho": 0.5}, "geom": {"theta": 1.0}}]}]))
    failed = run("pat-apply", "--edit", edit, str(cbor_path))
    assert failed.returncode == 1 and failed.stdout == b""
    clipped = run("pat-apply", "--edit", edit, "--clip", str(cbor_path))
    assert clipped.returncode == 0 and b"clipped 2 out-of-bound deltas" in clipped.stderr
    applied = cbor_items(clipped.stdout)[0]["edit"]["applied"][0]
    assert applied["geom"]["theta"] == pytest.approx(math.pi / 4) and applied["stats"]["rho"] <= 0.25
    bounds = tmp_path / "bounds.json"
    bounds.write_text(json.dumps({"stats": {"rho": 0.5}, "geom": {"theta": 1.0}}))
    loose = run("pat-apply", "--edit", edit, "--bounds", str(bounds), str(cbor_path))
    assert loose.returncode == 0 and loose.stderr == b""
    bounds.write_text(json.dumps({"stats": {"rho": "wide"}}))
    bad = run("pat-apply", "--edit", edit, "--bounds", str(bounds), str(cbor_path))
    assert bad.returncode == 1 and b"stats.rho: expected number" in bad.stderr


def test_lenient_skips_unknown_patches_and_missing_frames(frames, tmp_path):
    _, _, cbor_path, _ = frames
    edit = write_edits(tmp_path / "e.cbor", edit_record(
        [{"frame": 0, "dpat": [{"patchId": "5,5,32", "stats": {"rho": 0.1}}, RHO]}, {"frame": 40, "dpat": [RHO]}]))
    strict = run("pat-apply", "--edit", edit, str(cbor_path))
    assert strict.returncode == 1 and b"targets[0].dpat[0].patchId: unknown patchId '5,5,32'" in strict.stderr
    lenient = run("pat-apply", "--lenient", "--edit", edit, str(cbor_path))
    assert lenient.returncode == 0
    assert b"skipped 1 DPats with unknown patchIds" in lenient.stderr
    assert b"warning:" in lenient.stderr and b"targets[1].frame: frame 40 of seed 1234 is not in the input" in lenient.stderr
    out = cbor_items(lenient.stdout)
    assert [dp["patchId"] for dp in out[0]["edit"]["applied"]] == ["32,0,32"]
    quiet = run("pat-apply", "--lenient", "-q", "--edit", edit, str(cbor_path))
    assert quiet.stderr == b""


def test_recode_recomputes_codes(frames, tmp_path):
    _, records, cbor_path, _ = frames
    token = records[0]["tokens"][0]
    delta = 0.25 if token["stats"]["entropyRate"] < 0.75 else -0.25
    edit = write_edits(tmp_path / "e.cbor", edit_record([{"frame": 0, "dpat": [
        {"patchId": "0,0,32", "stats": {"entropyRate": delta}}]}]))
    plain = cbor_items(run("pat-apply", "--edit", edit, str(cbor_path), check=True).stdout)[0]
    assert plain["tokens"][0]["code"] == token["code"] and "code" not in plain["edit"]["applied"][0]
    recoded = cbor_items(run("pat-apply", "--recode", "--edit", edit, str(cbor_path), check=True).stdout)[0]
    new_bin = min(3, int(recoded["tokens"][0]["stats"]["entropyRate"] * 4))
    assert recoded["tokens"][0]["code"]["rvq"][3] == new_bin
    assert recoded["edit"]["applied"][0]["code"]["rvqDelta"][3] == new_bin - token["code"]["rvq"][3]


def test_head_hints_reach_tokens_and_edit_block(frames, tmp_path):
    _, _, cbor_path, _ = frames
    edit = write_edits(tmp_path / "e.cbor", edit_record([{"frame": 3, "dpat": [RHO], "dA": {
        "heads": [{"weight": 2.0, "phase": 0.5}, {"weight": 0.5, "phase": -1.0}]}}]))
    out = cbor_items(run("pat-apply", "--edit", edit, str(cbor_path), check=True).stdout)[3]
    assert out["tokens"][1]["heads"] == [0.5, -1.0] and "heads" not in out["tokens"][0]
    assert out["edit"]["dA"]["heads"][0] == {"weight": 2.0, "phase": 0.5}


def nan_edit() -> dict:
    return edit_record([{"frame": 0, "dpat": [{"patchId": "0,0,32", "stats": {"rho": math.nan}}]}])


BAD_EDITS = {
    "unknown patchId": (edit_record([{"frame": 1, "dpat": [RHO, {"patchId": "1,2,32", "geom": {"A": 0.1}}]}]),
                        "record 0: targets[0].dpat[1].patchId: unknown patchId '1,2,32'"),
    "out-of-bound delta": (edit_record([{"frame": 1, "dpat": [RHO, {"patchId": "0,0,32", "geom": {"kappa": 0.75}}]}]),
                           "record 0: targets[0].dpat[1].geom.kappa: expected delta within [-0.5, 0.5]"),
    "rvqDelta of wrong length": (edit_record([{"frame": 1, "dpat": [{"patchId": "0,0,32", "code": {"rvqDelta": [1, 0, 0]}}]}]),
                                 "record 0: targets[0].dpat[0].code.rvqDelta: expected array of length 5"),
    "edit for another seed": (edit_record([{"frame": 1, "dpat": [RHO]}], seed=4321),
                              "record 0: seed: no frames of seed 4321 in the input"),
    "edit for another grid": (edit_record([{"frame": 1, "dpat": [RHO]}], sim=sim_block(64, 64, 32)),
                              "record 0: sim.H: expected 96"),
    "NaN delta": (nan_edit(), "record 0: targets[0].dpat[0].stats.rho: expected a finite number, got"),
    "repro disagrees with sim": (dict(edit_record([]), repro={"dt": 0.5, "stepsPerFrame": 1, "scale": 32}),
                                 "record 0: repro.dt: expected 0.03 (as sim.dt), got 0.5"),
    "wrong kind": (sequence(np.random.default_rng(0), 1)[0], "record 0: kind: expected \"PAT_EDIT\""),
    "schema violation": (edit_record([{"frame": "one", "dpat": []}]), "record 0: targets[0].frame: expected an integer"),
}


@pytest.mark.parametrize("case", list(BAD_EDITS))
def test_bad_input_exits_1_with_one_line_naming_record_and_field(case, frames, tmp_path):
    _, _, cbor_path, _ = frames
    record, expected = BAD_EDITS[case]
    path = tmp_path / "bad.cbor"
    path.write_bytes(encode(record))
    result = run("pat-apply", "--edit", str(path), str(cbor_path))
    err = result.stderr.decode()
    assert result.returncode == 1, err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"pat-apply: {path}: ") and expected in err, err


def test_bad_second_record_and_jsonl_edit_file(frames, tmp_path):
    _, _, cbor_path, _ = frames
    path = tmp_path / "edits.jsonl"
    path.write_bytes(encode_line(edit_record([])) + encode_line(
        edit_record([{"frame": 0, "dpat": [{"patchId": "0,0,32", "stats": {"rho": "up"}}]}])))
    result = run("pat-apply", "--edit", str(path), str(cbor_path))
    assert result.returncode == 1
    assert result.stderr.decode().startswith(f"pat-apply: {path}: record 1: targets[0].dpat[0].stats.rho: expected a number")


def test_usage_errors_exit_2(frames):
    _, _, cbor_path, _ = frames
    assert run("pat-apply", str(cbor_path)).returncode == 2  # --edit is required
    assert run("pat-apply", "--edit", "x", "--bogus").returncode == 2
    missing = run("pat-apply", "--edit", "/nonexistent/e.cbor", str(cbor_path))
    assert missing.returncode == 1 and b"no such file" in missing.stderr


FAST_PATH_EDITS = [
    # several DPats on one patch, clamps, wrapped angles, topo, codes, a patch named twice
    [{"frame": 0, "dpat": [RHO, {"patchId": "0,0,32", "geom": {"phi_gf": 0.7, "theta": -0.7, "kappa": -0.5},
                                 "topo": {"vortex": 2}, "code": {"rvqDelta": [1, -1, 1, -1, 1]}},
                           {"patchId": "32,0,32", "stats": {"rho": 0.25, "energy": -0.25, "valence": 0.2}}]},
     {"frame": 1, "dpat": [{"patchId": "64,64,32", "geom": {"A": -0.25, "gradPhi": -0.5}}]},
     {"frame": 3, "dpat": [RHO], "dA": {"heads": [{"weight": 2.0, "phase": 0.5}]}}],
    [{"frame": 1, "dpat": [{"patchId": "64,64,32", "stats": {"entropyRate": 0.25}}]},
     {"frame": 2, "dpat": [{"patchId": "0,32,32", "stats": {"arousal": -0.25}, "topo": {"chirality": -2}}]}],
]


@pytest.mark.parametrize("flags", [[], ["--recode"]])
def test_validated_frames_take_the_column_path_with_the_same_bytes(frames, tmp_path, flags):
    """Frames whose tokens pass the columnar check (io's fast way) are edited and encoded
    from columns, validated or not: the same bytes, also when a second pat-apply edits
    frames that already carry an edit block."""
    from pattools.io.records import read_records

    _, _, cbor_path, _ = frames
    assert all(r.tokens._exact() for r in read_records([str(cbor_path)]))
    first = write_edits(tmp_path / "e1.cbor", edit_record(FAST_PATH_EDITS[0], ident="a"),
                        edit_record(FAST_PATH_EDITS[1], ident="b"))
    second = write_edits(tmp_path / "e2.cbor", edit_record(FAST_PATH_EDITS[1], ident="c"))
    fast = run("pat-apply", *flags, "--edit", first, str(cbor_path), check=True).stdout
    slow = run("pat-apply", *flags, "--no-validate", "--edit", first, str(cbor_path), check=True).stdout
    assert fast == slow
    again_fast = run("pat-apply", *flags, "--edit", second, input=fast, check=True).stdout
    again_slow = run("pat-apply", *flags, "--no-validate", "--edit", second, input=fast, check=True).stdout
    assert again_fast == again_slow and again_fast != fast


def test_one_frame_apply_does_not_import_numba(frames, tmp_path):
    """Start-up: pat-apply needs no kernel, so a one-frame run never imports numba (the
    CBOR codec's scanner and encoder kernels load only for large streams)."""
    import subprocess
    import sys

    _, _, cbor_path, _ = frames
    edit = write_edits(tmp_path / "e.cbor", edit_record([{"frame": 0, "dpat": [RHO]}]))
    script = ("import sys; from pattools.cli.apply import main\n"
              f"sys.argv = ['pat-apply', '--edit', {edit!r}, {str(cbor_path)!r}]\n"
              "try:\n    main()\nexcept SystemExit:\n    pass\n"
              "sys.stderr.write('numba' in sys.modules and 'NUMBA LOADED' or 'no numba')\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True)
    assert b"no numba" in result.stderr and result.stdout
