"""pat-diff as CI runs it: exports compared with and without tolerances, shard directories
against streams, one-sided records, bad input (exit 2) and pipelines."""

from __future__ import annotations

import json

import pytest

from pattools import schema
from pattools.io import cbor as pcbor
from tests.helpers import DATA, make_frame, run, shell

EXPORT = ["--seeds", "1,2", "--frames", "3", "--W", "32", "--H", "32", "--scale", "16", "--metrics"]


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    directory = tmp_path_factory.mktemp("diff")
    plain = [arg for arg in EXPORT if arg != "--metrics"]
    run("pat-export", *plain, "--out", str(directory / "shards"), check=True)
    (directory / "plain.cbor").write_bytes(run("pat-export", *plain, check=True).stdout)
    (directory / "a.cbor").write_bytes(run("pat-export", *EXPORT, check=True).stdout)
    (directory / "a.jsonl").write_bytes(run("pat-cat", "--format", "jsonl", str(directory / "a.cbor"), check=True).stdout)
    (directory / "b.cbor").write_bytes(run("pat-export", *EXPORT, "--dt", "0.0301", check=True).stdout)
    return directory


def _report(result) -> list[dict]:
    records = [json.loads(line) for line in result.stdout.splitlines()]
    for record in records:
        schema.validate(record)
    return records


def _fields(records: list[dict]) -> dict[str, dict]:
    return {record["field"]: record for record in records if record["type"] == "field"}


def test_identical_inputs_are_equal(exports):
    for a, b in (("a.cbor", "a.cbor"), ("a.cbor", "a.jsonl"), ("shards", "plain.cbor"), ("plain.cbor", "shards")):
        result = run("pat-diff", str(exports / a), str(exports / b), "--format", "jsonl")
        assert result.returncode == 0, result.stderr
        records = _report(result)
        assert records == [{"kind": "PAT_DIFF", "version": 1, "type": "summary", "equal": True,
                            "records": {"a": 6, "b": 6}, "matched": 6, "onlyA": 0, "onlyB": 0, "fields": 0,
                            "values": 0}]
        assert result.stderr == b"pat-diff: equal within tolerance; 6 records matched\n"


def _frames(path) -> list[dict]:
    return [record for record in pcbor.iter_items(open(path, "rb"), str(path), max_record_bytes=1 << 30)]


def test_a_dt_change_names_the_fields_and_their_max_differences(exports):
    result = run("pat-diff", str(exports / "a.cbor"), str(exports / "b.cbor"), "--format", "jsonl")
    assert result.returncode == 1, result.stderr
    records = _report(result)
    summary, fields = records[0], _fields(records)
    assert summary["equal"] is False and summary["matched"] == 6 and summary["fields"] == len(fields)
    assert {"sim.dt", "tokens.hdr.t", "tokens.stats.rho", "tokens.stats.energy", "metrics.rhoMean"} <= set(fields)
    a = [value for value, _ in _frames(exports / "a.cbor")]
    b = [value for value, _ in _frames(exports / "b.cbor")]
    rho = [(abs(ta["stats"]["rho"] - tb["stats"]["rho"]), fa["seed"], fa["frame"], ta["hdr"]["patchId"])
           for fa, fb in zip(a, b) for ta, tb in zip(fa["tokens"], fb["tokens"])]
    best = max(rho)
    field = fields["tokens.stats.rho"]
    assert field["maxAbs"] == best[0]
    assert field["atMax"]["record"] == {"seed": best[1], "frame": best[2]} and field["atMax"]["patchId"] == best[3]
    assert field["differing"] == sum(delta > 0 for delta, *_ in rho)
    assert field["first"]["record"] == {"seed": 1, "frame": 0}
    assert fields["sim.dt"]["atMax"]["a"] == 0.03 and fields["sim.dt"]["atMax"]["b"] == 0.0301
    assert fields["tokens.geom.theta"]["period"] == pytest.approx(3.141592653589793)
    assert b"fields differ" in result.stderr


def test_tolerances_absorb_the_change(exports):
    a, b = str(exports / "a.cbor"), str(exports / "b.cbor")
    assert run("pat-diff", "-q", a, b, "--atol", "0.1").returncode == 0
    narrow = run("pat-diff", a, b, "--atol", "0.1", "--tol", "geom.theta=1e-6", "--format", "jsonl")
    assert narrow.returncode == 1
    assert [f["field"] for f in _report(narrow) if f["type"] == "field" and f["differing"]] == ["tokens.geom.theta"]
    ignored = run("pat-diff", a, b, "--atol", "0.1", "--tol", "geom.theta=1e-6", "--ignore", "theta", "-q")
    assert ignored.returncode == 0 and ignored.stdout == b"" and ignored.stderr == b""
    # dt moved by 1e-4 / 0.0301 = 3.3e-3 of itself: within an rtol of 1e-2, not of 1e-3
    loose = _fields(_report(run("pat-diff", a, b, "--rtol", "1e-2", "--format", "jsonl")))
    assert loose["sim.dt"]["differing"] == 0 and loose["sim.dt"]["maxAbs"] > 0  # reported, within tolerance
    tight = _fields(_report(run("pat-diff", a, b, "--rtol", "1e-3", "--format", "jsonl")))
    assert tight["sim.dt"]["differing"] == 6


def test_missing_and_bad_inputs_exit_2(exports, tmp_path):
    a = str(exports / "a.cbor")
    missing = run("pat-diff", a, str(tmp_path / "nope.cbor"))
    assert missing.returncode == 2
    assert missing.stderr.decode() == f"pat-diff: {tmp_path / 'nope.cbor'}: no such file or directory\n"
    (tmp_path / "junk").write_bytes(b"\x00\x01junk")
    junk = run("pat-diff", str(tmp_path / "junk"), a)
    assert junk.returncode == 2 and junk.stderr.count(b"\n") == 1 and b"Traceback" not in junk.stderr
    bad = make_frame(W=32, H=32, scale=16)
    bad["tokens"][0]["stats"]["rho"] = "high"
    invalid = run("pat-diff", "-", a, input=pcbor.encode(bad))
    assert invalid.returncode == 2
    assert b"record 0: tokens[0].stats.rho: expected a number" in invalid.stderr
    for argv in (["--tol", "rho", a, a], ["--tol", "rho=-1", a, a], ["--ignore", "a..b", a, a], ["-", "-"], [a]):
        result = run("pat-diff", *argv, input=b"")
        assert result.returncode == 2 and b"Traceback" not in result.stderr, argv


def test_records_on_one_side_and_empty_inputs(exports, tmp_path):
    a = str(exports / "a.cbor")
    one_seed = run("pat-cat", "--seed", "1", "--frames", ":2", a, check=True).stdout
    result = run("pat-diff", a, "-", "--format", "jsonl", input=one_seed)
    assert result.returncode == 1
    records = _report(result)
    only = [(r["side"], r["record"]["seed"], r["record"]["frame"], r["index"]) for r in records if r["type"] == "record"]
    assert only == [("a", 1, 2, 2), ("a", 2, 0, 3), ("a", 2, 1, 4), ("a", 2, 2, 5)]
    assert records[0]["onlyA"] == 4 and records[0]["onlyB"] == 0 and records[0]["matched"] == 2
    empty = run("pat-diff", a, "-", "--format", "jsonl", input=b"")
    assert empty.returncode == 1 and _report(empty)[0]["onlyA"] == 6
    assert run("pat-diff", "-", str(tmp_path / "empty"), input=b"") .returncode == 2  # missing, not empty
    (tmp_path / "empty").write_bytes(b"")
    assert run("pat-diff", "-q", "-", str(tmp_path / "empty"), input=b"").returncode == 0


def test_angles_compare_on_the_circle_and_tokens_out_of_order_are_invalid(tmp_path):
    frame = make_frame(W=32, H=32, scale=16)
    other = json.loads(json.dumps(frame))
    frame["tokens"][0]["geom"]["phi_gf"] = 3.141592653589793
    other["tokens"][0]["geom"]["phi_gf"] = -3.141592653589793
    frame["tokens"][1]["geom"]["theta"] = 1.5707963267948966
    other["tokens"][1]["geom"]["theta"] = -1.5707963267948966
    (tmp_path / "a").write_bytes(pcbor.encode(frame))
    (tmp_path / "b").write_bytes(pcbor.encode(other))
    assert run("pat-diff", "-q", str(tmp_path / "a"), str(tmp_path / "b")).returncode == 0
    other["tokens"].reverse()  # tokens must follow the grid's patch order: not comparable
    (tmp_path / "b").write_bytes(pcbor.encode(other))
    result = run("pat-diff", str(tmp_path / "a"), str(tmp_path / "b"), "--format", "jsonl")
    assert result.returncode == 2 and result.stdout == b""
    assert b"tokens[0].hdr.patchId: expected patchId '0,0,16'" in result.stderr


def test_edits_pair_by_id_in_any_order(tmp_path):
    sim = make_frame()["sim"]
    repro = {key: sim[key] for key in ("dt", "stepsPerFrame", "scale", "noiseSeed")}
    edits = [{"kind": "PAT_EDIT", "version": 1, "id": name, "seed": 1, "sim": sim, "repro": repro,
              "targets": [{"frame": 0, "dpat": [{"patchId": "0,0,32", "stats": {"rho": 0.1}}]}]}
             for name in ("x", "y")]
    (tmp_path / "a").write_bytes(b"".join(pcbor.encode(e) for e in edits))
    (tmp_path / "b").write_bytes(b"".join(pcbor.encode(e) for e in reversed(edits)))
    assert run("pat-diff", "-q", str(tmp_path / "a"), str(tmp_path / "b")).returncode == 0
    edits[1]["targets"][0]["dpat"][0]["stats"]["rho"] = 0.1 + 1e-12
    (tmp_path / "b").write_bytes(b"".join(pcbor.encode(e) for e in edits))
    result = run("pat-diff", str(tmp_path / "a"), str(tmp_path / "b"), "--format", "jsonl")
    field = _fields(_report(result))["targets.dpat.stats.rho"]
    assert result.returncode == 1 and field["recordKind"] == "PAT_EDIT"
    assert field["first"]["record"] == {"id": "y"} and field["first"]["path"] == "targets[0].dpat[0].stats.rho"
    assert run("pat-diff", "-q", "--tol", "rho=1e-9", str(tmp_path / "a"), str(tmp_path / "b")).returncode == 0


def test_table_and_pipelines(exports):
    a, b = exports / "a.cbor", exports / "b.cbor"
    table = run("pat-diff", str(a), str(b), "--format", "table")
    assert table.returncode == 1
    text = table.stdout.decode()
    assert "tokens.stats.rho" in text and "max |Δ|" in text and "different: " in text
    assert "seed 1 frame 0" in text
    head = shell(f"pat-diff --format jsonl {a} {b} | head -1")  # 141 or 1: did pat-diff write after head left?
    assert head.returncode in (1, 141) and head.stdout.count(b"\n") == 1 and b"Traceback" not in head.stderr
    summary = {"kind": "PAT_SUMMARY", "version": 1, "records": 0, "kinds": {}}
    (exports / "many.cbor").write_bytes(pcbor.encode(summary) * 5000)  # a report far beyond a pipe's buffer
    closed = shell(f"pat-diff --format jsonl {exports / 'many.cbor'} /dev/null | head -2")
    assert closed.returncode == 141 and closed.stdout.count(b"\n") == 2 and closed.stderr == b""
    piped = shell(f"pat-export {' '.join(EXPORT)} | pat-diff -q - {a} && echo same")
    assert piped.returncode == 0 and piped.stdout == b"same\n"


def test_typed_arrays_compare_alike_in_both_framings(tmp_path):
    state_cbor = run("nupca-step", "--init", "16,4", check=True).stdout
    state_jsonl = run("nupca-step", "--init", "16,4", "--format", "jsonl", check=True).stdout
    assert state_cbor[:1] != state_jsonl[:1]
    (tmp_path / "s.cbor").write_bytes(state_cbor)
    assert run("pat-diff", "-q", str(tmp_path / "s.cbor"), "-", input=state_jsonl).returncode == 0
    other = json.loads(state_jsonl)
    other["library"]["bias"]["data"][0] += 0.5
    result = run("pat-diff", str(tmp_path / "s.cbor"), "-", "--format", "jsonl",
                 input=(json.dumps(other) + "\n").encode())
    fields = _fields(_report(result))
    assert result.returncode == 1 and fields["library.bias.data"]["maxAbs"] == 0.5


def test_shard_directories_take_no_verify_and_assume(tmp_path):
    for name in ("a", "b"):
        run("pat-export", "--seeds", "1:3", "--frames", "4", "--W", "32", "--H", "32", "--scale", "16",
            "--out", str(tmp_path / name), "-q", check=True)
    (tmp_path / "b" / "pat_1-0000.sha256").write_text("0" * 64 + "  pat_1-0000.cbor\n")
    checked = run("pat-diff", str(tmp_path / "a"), str(tmp_path / "b"))
    assert checked.returncode == 2 and b"checksum mismatch" in checked.stderr
    unchecked = run("pat-diff", "--no-verify", "--format", "jsonl", str(tmp_path / "a"), str(tmp_path / "b"))
    assert unchecked.returncode == 0, unchecked.stderr
    assert json.loads(unchecked.stdout.splitlines()[-1])["matched"] == 8
    original = str(DATA / "original_shards")
    assumed_stream = tmp_path / "assumed.cbor"
    assumed_stream.write_bytes(run("pat-cat", "--assume", "dt=0.05", original, check=True).stdout)
    assert run("pat-diff", "-q", original, str(assumed_stream)).returncode == 1  # dt 0.03 assumed by default
    assert run("pat-diff", "-q", "--assume", "dt=0.05", original, str(assumed_stream)).returncode == 0
