"""pat-replay in pipelines: zero-edit identity, apply|replay == replay --edit, --verify,
--frames, --fields and data errors. Commands run in-process (pattools.cli.base.execute)
with byte streams, as a shell pipeline would connect them; one test uses real processes."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest

from pattools.cli import apply as apply_cli
from pattools.cli import export as export_cli
from pattools.cli import replay as replay_cli
from pattools.io import read_records
from pattools.io.cbor import encode
from tests.helpers import shell
from tests.helpers import run_in_process as run_cli
from tests.helpers import run_ok as ok


def records(data: bytes) -> list[dict]:
    return [r.document() for r in read_records(["-"], stdin=io.BytesIO(data))]


def export(*argv: str) -> bytes:
    return ok(export_cli, ["--format", "cbor", *argv])


def without_replay(record: dict) -> dict:
    return {k: v for k, v in record.items() if k != "replay"}


GRIDS = [
    ("--W", "24", "--H", "20", "--scale", "8", "--frames", "4", "--seeds", "3"),
    ("--W", "32", "--H", "32", "--scale", "16", "--frames", "3", "--spf", "3", "--seeds", "1,2"),
    ("--W", "20", "--H", "28", "--scale", "8", "--frames", "3", "--spf", "2", "--metrics",
     "--noise-amp", "0.05", "--noise-seed", "3", "--seeds", "5"),
    ("--W", "40", "--H", "24", "--scale", "32", "--frames", "3", "--dt", "0.02", "--param", "Kbase=1.1",
     "--seeds", "9"),
]


@pytest.mark.parametrize("argv", GRIDS, ids=["24x20s8", "32x32s16spf3", "20x28noise", "40x24s32"])
def test_zero_edit_replay_is_the_export(argv):
    exported = export(*argv)
    replayed = ok(replay_cli, ["--format", "cbor"], exported)
    ex, rp = records(exported), records(replayed)
    assert len(rp) == len(ex)
    for e, r in zip(ex, rp):
        assert without_replay(r) == e
        assert encode(without_replay(r)) == encode(e)
        assert r["replay"]["decoder"] == "delta" and r["replay"]["editId"] is None
        assert r["replay"]["gains"]["gammaK"] == 0.6 and r["replay"]["constants"]["kRho"] == 10.0


# ---------------------------------------------------------------------- edits

SMALL = ("--W", "24", "--H", "24", "--scale", "8", "--frames", "4", "--spf", "2", "--seeds", "4")


def edit_package(sim: dict, seed: int, ident: str = "e1", heads: bool = True) -> dict:
    target_1 = {"frame": 1, "dpat": [
        {"patchId": "0,0,8", "stats": {"rho": 0.2, "entropyRate": -0.1}, "code": {"rvqDelta": [0, 0, 0, -1, 0]}},
        {"patchId": "8,0,8", "stats": {"rho": -0.15}, "geom": {"phi_gf": 0.3, "gradPhi": 0.2}},
        {"patchId": "0,0,8", "stats": {"rho": 0.1}},
    ]}
    target_2 = {"frame": 2, "dpat": [{"patchId": "16,16,8", "stats": {"attnMean": 0.2}, "geom": {"A": -0.1}}]}
    if heads:
        target_2["dA"] = {"heads": [{"weight": 0.5, "phase": 1.0}, {"weight": 2.0}]}
    return {"kind": "PAT_EDIT", "version": 1, "id": ident, "seed": seed, "sim": sim,
            "targets": [target_1, target_2],
            "repro": {"dt": sim["dt"], "stepsPerFrame": sim["stepsPerFrame"], "scale": sim["scale"],
                      "noiseSeed": sim["noiseSeed"]}}


@pytest.fixture(scope="module")
def edited_case(tmp_path_factory):
    where = tmp_path_factory.mktemp("replay")
    exported = export(*SMALL)
    sim = records(exported)[0]["sim"]
    edit = where / "e.cbor"
    edit.write_bytes(encode(edit_package(sim, 4)) + encode(edit_package(sim, 4, "e2", heads=False)))
    return exported, str(edit)


@pytest.mark.parametrize("decoder", ["delta", "tokens", "live"])
def test_apply_then_replay_equals_replay_with_edit(edited_case, decoder):
    exported, edit = edited_case
    applied = ok(apply_cli, ["--edit", edit, "--format", "cbor"], exported)
    via_apply = ok(replay_cli, ["--decoder", decoder, "--format", "cbor"], applied)
    via_flag = ok(replay_cli, ["--decoder", decoder, "--edit", edit, "--format", "cbor"], exported)
    assert via_apply == via_flag
    out = records(via_flag)
    assert [r["replay"]["editId"] for r in out] == [None, "e1+e2", "e1+e2", None]
    if decoder == "delta":
        plain = records(ok(replay_cli, ["--format", "cbor"], exported))
        assert out[0] == plain[0]  # frames before the first edit replay as the export
        assert out[1]["tokens"] != plain[1]["tokens"]
        assert any(t["stats"]["attnMean"] > 0 for t in out[1]["tokens"])


def test_head_weights_scale_the_drive(edited_case, tmp_path):
    exported, _ = edited_case
    sim = records(exported)[0]["sim"]
    outs = []
    for weight in (1.0, 3.0):
        package = edit_package(sim, 4, heads=False)
        package["targets"] = [{"frame": 0, "dpat": [{"patchId": "8,8,8", "stats": {"rho": 0.05}}],
                               "dA": {"heads": [{"weight": weight}]}}]
        path = tmp_path / f"w{weight}.cbor"
        path.write_bytes(encode(package))
        fields = tmp_path / f"f{weight}"
        ok(replay_cli, ["--edit", str(path), "--fields", str(fields), "--frames", "0:1"], exported)
        outs.append(np.load(fields / "4-0000-aact.npy"))
    peak = (4 + 8) * 24 + 12  # centre cell of patch 8,8
    assert outs[0].reshape(-1)[peak] == np.float32(math.tanh(10 * 0.05))
    assert outs[1].reshape(-1)[peak] == np.float32(math.tanh(3 * 10 * 0.05))


# ---------------------------------------------------------------------- verify, determinism


@pytest.mark.parametrize("decoder", ["delta", "tokens", "live"])
def test_verify_passes_and_replays_are_bit_identical(edited_case, decoder):
    exported, edit = edited_case
    argv = ["--decoder", decoder, "--edit", edit, "--format", "cbor"]
    code, verified, err = run_cli(replay_cli, ["--verify", *argv], exported)
    assert code == 0, err
    assert "bit-identical" in err and "RMSE 0" in err
    assert verified == ok(replay_cli, argv, exported) == ok(replay_cli, argv, exported)


def test_verify_reports_a_difference(edited_case, monkeypatch):
    exported, _ = edited_case
    from pattools import edited_replay as driver

    real = driver.replay_pairs

    def skewed(*args, **kwargs):
        for a, b in real(*args, **kwargs):
            if a.frame == 2:
                b.tokens.stats[:, 0] += 0.5
            yield a, b

    monkeypatch.setattr(driver, "replay_pairs", skewed)
    code, out, err = run_cli(replay_cli, ["--verify"], exported)
    assert code == 1
    assert "differ in 1 of 4 frames (first: seed 4, frame 2)" in err and "RMSE" in err
    assert len(records(out)) == 4  # the first replay is still written


# ---------------------------------------------------------------------- selection, fields


def test_frames_selects_output_but_runs_from_zero(edited_case):
    exported, edit = edited_case
    full = records(ok(replay_cli, ["--edit", edit, "--format", "cbor"], exported))
    part = records(ok(replay_cli, ["--edit", edit, "--frames", "2:4", "--format", "cbor"], exported))
    assert part == full[2:4]
    assert records(ok(replay_cli, ["--frames", "1", "--format", "cbor"], exported))[0]["frame"] == 1


def test_fields_dump(edited_case, tmp_path):
    exported, edit = edited_case
    ok(replay_cli, ["--edit", edit, "--fields", str(tmp_path / "f")], exported)
    names = sorted(p.name for p in (tmp_path / "f").iterdir())
    assert len(names) == 16 and names[0] == "4-0000-aact.npy"
    zero = np.load(tmp_path / "f" / "4-0000-aact.npy")
    assert zero.shape == (24, 24) and zero.dtype == np.float32 and not zero.any()
    assert np.load(tmp_path / "f" / "4-0001-aact.npy").any()
    assert np.load(tmp_path / "f" / "4-0001-uact.npy").any()  # the rho decrease on 8,0
    assert np.load(tmp_path / "f" / "4-0001-lapA.npy").any()  # the phi_gf delta
    assert not np.load(tmp_path / "f" / "4-0001-divU.npy").any()


def test_metrics_flag(edited_case):
    exported, _ = edited_case
    out = records(ok(replay_cli, ["--metrics", "--frames", "0:1", "--format", "cbor"], exported))
    assert set(out[0]["metrics"]) >= {"rhoMean", "patchDefects"} and len(out[0]["metrics"]["patchDefects"]) == 9


# ---------------------------------------------------------------------- errors


def _stream(recs) -> bytes:
    return b"".join(encode(r) for r in recs)


@pytest.mark.parametrize("case,message", [
    ("late-start", "record 0: frame: expected frame 0"),
    ("gap", "record 2: frame: expected frame 2"),
    ("interleaved", "record 2: frame: expected frame 0"),
    ("sim-change", "record 1: sim: expected the same sim block"),
    ("not-a-frame", "record 0: kind: expected \"PAT_FRAME\""),
])
def test_data_errors(edited_case, case, message):
    exported, _ = edited_case
    frames = records(exported)
    other = records(export("--W", "24", "--H", "24", "--scale", "8", "--frames", "2", "--seeds", "5"))
    if case == "late-start":
        recs = frames[1:]
    elif case == "gap":
        recs = [frames[0], frames[1], frames[3]]
    elif case == "interleaved":
        recs = [frames[0], other[0], frames[1]]
    elif case == "sim-change":
        changed = dict(frames[1])
        changed["sim"] = dict(changed["sim"], noiseAmp=0.5)
        recs = [frames[0], changed]
    else:
        recs = [{"kind": "PAT_SUMMARY", "version": 1, "records": {}}]
    code, _, err = run_cli(replay_cli, ["--no-validate"] if case == "not-a-frame" else [], _stream(recs))
    assert code == 1, err
    assert err.startswith("pat-replay: <stdin>: ") and message in err, err
    assert "Traceback" not in err


def test_edit_for_another_seed_is_a_data_error(edited_case, tmp_path):
    exported, _ = edited_case
    sim = records(exported)[0]["sim"]
    path = tmp_path / "other.cbor"
    path.write_bytes(encode(edit_package(sim, 77)))
    code, _, err = run_cli(replay_cli, ["--edit", str(path)], exported)
    assert code == 1 and "no frames of seed 77" in err


def test_usage_errors():
    assert run_cli(replay_cli, ["--decoder", "nope"])[0] == 2
    assert run_cli(replay_cli, ["--gamma-k", "nan"])[0] == 2
    assert run_cli(replay_cli, ["--frames", "x:y"])[0] == 2


def test_help_shows_examples_first():
    code, out, _ = run_cli(replay_cli, ["--help"])
    # argparse prints help to sys.stdout, not the injected stream; the parser text is what counts
    text = replay_cli.build_parser().format_help()
    assert text.index("examples:") < text.index("options:")
    assert "--decoder" in text and "delta" in text and "live" in text


def test_real_pipeline(tmp_path):
    result = shell("pat-export --seeds 2 --W 16 --H 16 --scale 8 --frames 3 > ex.cbor && "
                   "pat-replay ex.cbor | pat-cat --format jsonl > rp.jsonl && "
                   "pat-replay --verify --decoder live ex.cbor > /dev/null", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "rp.jsonl").read_text().count("\n") == 3
    assert b"bit-identical" in result.stderr


def test_validation_checks_what_the_replay_reads(edited_case):
    exported, _ = edited_case
    frames = records(exported)
    bad_token = [dict(f) for f in frames]
    bad_token[1]["tokens"] = [dict(t) for t in bad_token[1]["tokens"]]
    bad_token[1]["tokens"][0] = dict(bad_token[1]["tokens"][0], stats={"rho": "high"})
    # the delta decoder never reads an unedited frame's tokens: the replay is still the export
    assert records(ok(replay_cli, [], _stream(bad_token)))[1]["tokens"] == frames[1]["tokens"]
    code, _, err = run_cli(replay_cli, ["--decoder", "tokens"], _stream(bad_token))
    assert code == 1 and "record 1: tokens[0].stats" in err, err
    bad_sim = [frames[0], dict(frames[1], sim=dict(frames[1]["sim"], W="wide"))]
    code, _, err = run_cli(replay_cli, [], _stream(bad_sim))
    assert code == 1 and "record 1: sim.W: expected an integer" in err, err


def test_validation_checks_tokens_an_edit_reads(edited_case, tmp_path):
    exported, edit = edited_case
    frames = records(exported)
    bad = [dict(f) for f in frames]
    bad[1]["tokens"] = [dict(t) for t in bad[1]["tokens"]]
    bad[1]["tokens"][1] = dict(bad[1]["tokens"][1], geom={"A": 2})  # 8,0,8: named by e1's frame-1 target
    code, _, err = run_cli(replay_cli, ["--edit", edit], _stream(bad))
    assert code == 1 and "record 1: tokens[1].geom" in err, err
    # an edit that does not name that token reads the frame's tokens all the same (as
    # columns, the one form of a frame's tokens past io): the same error
    sim = frames[0]["sim"]
    package = edit_package(sim, 4, heads=False)
    package["targets"] = [{"frame": 1, "dpat": [{"patchId": "0,0,8", "stats": {"rho": 0.1}}]}]
    path = tmp_path / "other.cbor"
    path.write_bytes(encode(package))
    code, _, err = run_cli(replay_cli, ["--edit", str(path)], _stream(bad))
    assert code == 1 and "record 1: tokens[1].geom" in err, err
    # a frame no edit targets is not read (the delta decoder, no edit block)
    package["targets"] = [{"frame": 2, "dpat": [{"patchId": "0,0,8", "stats": {"rho": 0.1}}]}]
    path.write_bytes(encode(package))
    assert run_cli(replay_cli, ["--edit", str(path)], _stream(bad))[0] == 0


@pytest.mark.parametrize("change, message", [
    (lambda p: p.update(seed=77), "no frames of seed 77 in the input (seeds seen: 4)"),
    (lambda p: p["targets"].append({"frame": 99, "dpat": []}), "targets[2].frame: frame 99 of seed 4 is not in the input"),
    (lambda p: p.update(sim=dict(p["sim"], dt=0.05), repro=dict(p["repro"], dt=0.05)), "sim.dt: expected 0.03"),
])
def test_edits_that_match_no_input_frame_are_reported(edited_case, tmp_path, change, message):
    exported, _ = edited_case
    package = edit_package(records(exported)[0]["sim"], 4)
    change(package)
    path = tmp_path / "e.cbor"
    path.write_bytes(encode(package))
    code, _, err = run_cli(replay_cli, ["--edit", str(path)], exported)
    assert code == 1 and message in err, err


def test_replay_without_edits_imports_no_decoding_or_edit_machinery(tmp_path):
    """Start-up: a replay whose frames carry no edit steps the lattice unmodulated, so it
    never imports the decoders, their field kernels, the delta type or pat-apply's edit code."""
    import subprocess
    import sys

    frames = tmp_path / "frames.cbor"
    frames.write_bytes(export("--W", "24", "--H", "24", "--scale", "8", "--frames", "3", "--seeds", "2"))
    script = ("import sys; from pattools.cli.replay import main\n"
              f"sys.argv = ['pat-replay', {str(frames)!r}]\n"
              "try:\n    main()\nexcept SystemExit:\n    pass\n"
              "heavy = ['pattools.replay.decoders', 'pattools.kernels.fields', 'pattools.tokens.deltas',\n"
              "         'pattools.edit', 'pattools.replay.verify', 'pattools.io.field_files']\n"
              "sys.stderr.write('loaded: ' + ' '.join(m for m in heavy if m in sys.modules))\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True)
    assert result.stdout and result.stderr.decode().endswith("loaded: "), result.stderr.decode()[-400:]
