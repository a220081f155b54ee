"""Data the original andres-net exporter wrote reads as it is (README "Shard directories").

tests/data/original_shards/ is a directory exactly as the original wrote it
(``--seeds 1234,77 --W 64 --H 48 --frames 20 --scale 32 --shardSize 8``), and
original_shards.tokens.jsonl the same frames decoded by the original's own CBOR library
(hdr.t removed, heads absent).
"""

from __future__ import annotations

import io
import json
import shutil

import cbor2
import pytest

from pattools.io import read_records
from tests.helpers import DATA, run, shell

ORIGINAL = DATA / "original_shards"
TOKENS = DATA / "original_shards.tokens.jsonl"
CONFIG = ["--seeds", "1234,77", "--W", "64", "--H", "48", "--frames", "20", "--scale", "32", "--shardSize", "8"]
ATAN2_FIELDS = {("geom", "phi_gf"), ("geom", "theta"), ("geom", "kappa")}


def _records(data: bytes) -> list[dict]:
    return [r.document() for r in read_records(["-"], stdin=io.BytesIO(data))]


@pytest.fixture(scope="module")
def expected() -> list[dict]:
    return [json.loads(line) for line in TOKENS.read_text().splitlines()]


def _assert_tokens(got: list[dict], expected: list[dict], tolerance: float = 0.0) -> None:
    """Value for value, ``hdr.t`` aside; the atan2 fields within ``tolerance``."""
    assert [(r["seed"], r["frame"]) for r in got] == [(e["seed"], e["frame"]) for e in expected]
    for record, reference in zip(got, expected):
        assert len(record["tokens"]) == len(reference["tokens"])
        for token, want in zip(record["tokens"], reference["tokens"]):
            assert "heads" not in token and set(token) == set(want)
            for group, fields in want.items():
                have = {k: v for k, v in token[group].items() if (group, k) != ("hdr", "t")}
                assert set(have) == set(fields), (group, have, fields)
                for name, value in fields.items():
                    if (group, name) in ATAN2_FIELDS and tolerance:
                        assert abs(have[name] - value) <= tolerance, (record["seed"], record["frame"], name)
                    else:
                        assert have[name] == value and type(have[name]) is type(value) or (
                            isinstance(value, int) and type(have[name]) is float and have[name] == value), name


def _sim_times(records: list[dict], dt: float = 0.03, steps: int = 1) -> None:
    for record in records:
        assert {token["hdr"]["t"] for token in record["tokens"]} == {(record["frame"] + 1) * steps * dt}
        assert record["sim"]["dt"] == dt and record["sim"]["stepsPerFrame"] == steps


def test_directory_decodes_exactly(expected):
    result = run("pat-cat", str(ORIGINAL))
    assert result.returncode == 0, result.stderr
    got = _records(result.stdout)
    _assert_tokens(got, expected)
    _sim_times(got)
    assert all(type(t["geom"]["A"]) is float and type(t["stats"]["valence"]) is float
               for r in got for t in r["tokens"])  # integers where numbers belong become floats
    assert got[0]["sim"] == {"preset": "andres-net-export", "W": 64, "H": 48, "dt": 0.03, "stepsPerFrame": 1,
                             "scale": 32, "wrap": True, "noiseAmp": 0.0, "noiseSeed": 0, "params": {}}
    notice = result.stderr.decode()
    assert notice.count("\n") == 1 and "dt=0.03, stepsPerFrame=1" in notice and "--assume" in notice
    assert run("pat-cat", "-q", "--check", str(ORIGINAL)).stderr == b""


def test_assume_states_other_timing(expected):
    result = run("pat-cat", "--assume", "dt=0.02,stepsPerFrame=2", str(ORIGINAL))
    assert result.returncode == 0 and result.stderr == b""
    _sim_times(_records(result.stdout), dt=0.02, steps=2)
    bad = run("pat-cat", "--assume", "dt=zero", str(ORIGINAL))
    assert bad.returncode == 2 and b"--assume" in bad.stderr


def test_lone_shard_file(tmp_path, expected):
    want = [e for e in expected if e["seed"] == 77 and 8 <= e["frame"] < 16]
    beside = run("pat-cat", str(ORIGINAL / "pat_77-0001.cbor"), check=True)  # manifest.json beside it
    _assert_tokens(_records(beside.stdout), want)
    alone = tmp_path / "pat_77-0001.cbor"
    shutil.copy(ORIGINAL / "pat_77-0001.cbor", alone)
    refused = run("pat-cat", str(alone))
    assert refused.returncode == 1 and refused.stdout == b""
    assert b"does not record its grid" in refused.stderr and b"--assume W=" in refused.stderr
    stated = run("pat-cat", "--assume", "W=64,H=48", str(alone), check=True)
    got = _records(stated.stdout)
    _assert_tokens(got, want)
    _sim_times(got)
    piped = shell(f"cat {alone} | pat-cat --assume W=64,H=48,dt=0.02,stepsPerFrame=2 --format jsonl")
    assert piped.returncode == 0 and piped.stderr == b""
    _sim_times([json.loads(line) for line in piped.stdout.splitlines()], dt=0.02, steps=2)


def test_export_of_the_same_configuration_matches(tmp_path, expected):
    out = tmp_path / "ours"
    run("pat-export", *CONFIG, "--out", str(out), "-q", check=True)
    ours = _records(run("pat-cat", str(out), check=True).stdout)
    _assert_tokens(ours, expected, tolerance=1e-12)
    theirs = _records(run("pat-cat", "-q", str(ORIGINAL), check=True).stdout)
    assert [r["sim"] for r in ours] == [r["sim"] for r in theirs]
    assert [[t["hdr"] for t in r["tokens"]] for r in ours] == [[t["hdr"] for t in r["tokens"]] for r in theirs]
    # the first 64 characters of each checksum file are the original's whole content, for equal bytes
    line = (out / "pat_77-0000.sha256").read_text()
    assert len(line.split()[0]) == 64 and (ORIGINAL / "pat_77-0000.sha256").read_text().strip() != ""


def test_zero_edit_replay_reproduces_the_tokens(expected):
    replayed = _records(run("pat-replay", "-q", str(ORIGINAL), check=True).stdout)
    _assert_tokens(replayed, expected, tolerance=1e-12)


def test_every_command_that_reads_frames_accepts_it(tmp_path):
    script = f"""
    D={ORIGINAL}
    pat-replay -q $D > base.cbor
    pat-baseline -q --prompt "increase coherence on rim" --frames 1: $D > edit.cbor
    pat-apply -q --edit edit.cbor $D | pat-replay -q > edited.cbor
    pat-score -q --base base.cbor --edited edited.cbor --edit edit.cbor > score.cbor
    pat-pack -q --prompt "increase coherence on rim" --context 4 $D > pack.cbor
    nupca-step -q --from-pat $D > trace.cbor
    pat-cat --count --format jsonl edit.cbor edited.cbor score.cbor pack.cbor trace.cbor
    """
    result = shell(script, cwd=tmp_path)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stderr == b""
    kinds = json.loads(result.stdout)["kinds"]
    assert kinds == {"PAT_EDIT": 2, "PAT_FRAME": 40, "PAT_SCORE": 2, "PAT_PACK": 32, "NUPCA_TRACE": 40}


def _frame_with(tokens_patch) -> bytes:
    token = {"hdr": {"t": 0.03, "scale": 32, "patchId": "0,0,32"},
             "geom": {"A": 1.0, "phi_gf": 0.5, "theta": 0.25, "gradPhi": 0.5, "kappa": 0.5},
             "stats": {"rho": 0.5, "energy": 0.5, "entropyRate": 0.5, "arousal": 0.5, "valence": 0.5,
                       "attnMean": 0.0, "attnVar": 0.0},
             "heads": cbor2.undefined, "topo": {"vortex": 0, "chirality": 0}, "code": {"rvq": [0, 1, 2, 3, 0]}}
    tokens_patch(token)
    sim = {"preset": "andres-net-export", "W": 32, "H": 32, "dt": 0.03, "stepsPerFrame": 1, "scale": 32,
           "wrap": True, "noiseAmp": 0.0, "noiseSeed": 0, "params": {}}
    return cbor2.dumps({"kind": "PAT_FRAME", "version": 1, "seed": 1, "frame": 0, "sim": sim, "tokens": [token]})


@pytest.mark.parametrize("patch, needle", [
    (lambda t: None, None),
    (lambda t: t["stats"].__setitem__("rho", cbor2.undefined), b"tokens[0].stats.rho"),
    (lambda t: t["geom"].__setitem__("A", cbor2.CBORTag(1, 5)), b"CBOR tag 1"),
    (lambda t: t["geom"].__setitem__("kappa", float("nan")), b"expected a finite number"),
])
def test_strictness_stays_for_everything_but_undefined_heads(patch, needle):
    result = run("pat-cat", "--format", "jsonl", input=_frame_with(patch))
    if needle is None:
        assert result.returncode == 0, result.stderr
        assert "heads" not in json.loads(result.stdout)["tokens"][0]
    else:
        assert result.returncode == 1 and needle in result.stderr, result.stderr
        assert result.stdout == b""


def test_duplicate_keys_stay_refused():
    data = _frame_with(lambda t: t.__setitem__("hdq", 1)).replace(b"\x63hdq", b"\x63hdr")
    result = run("pat-cat", input=data)
    assert result.returncode == 1 and result.stdout == b""
    assert b"duplicate map key" in result.stderr, result.stderr


def test_sha256_of_the_original_verifies_bare_hex(tmp_path):
    target = tmp_path / "orig"
    shutil.copytree(ORIGINAL, target)
    for path in target.iterdir():
        path.chmod(0o644)
    data = bytearray((target / "pat_1234-0002.cbor").read_bytes())
    data[-3] ^= 0x40
    (target / "pat_1234-0002.cbor").write_bytes(bytes(data))
    result = run("pat-cat", "-q", str(target))
    assert result.returncode == 1 and b"pat_1234-0002.cbor: checksum mismatch" in result.stderr
    assert [r["frame"] for r in _records(result.stdout) if r["seed"] == 1234] == list(range(16))


def test_half_and_single_floats_decode(tmp_path):
    import numpy as np

    shard = cbor2.loads((ORIGINAL / "pat_77-0000.cbor").read_bytes())
    token = shard["items"][0]["tokens"][1]
    single = float(np.float32(0.1))
    token["stats"]["energy"] = 0.5  # a half float, as the original's encoder writes it
    token["geom"]["gradPhi"] = single  # a single float
    data = cbor2.dumps(shard, canonical=True)  # shortest float forms
    assert b"\xf9\x38\x00" in data and b"\xfa" + np.float32(0.1).tobytes()[::-1] in data
    (tmp_path / "pat_77-0000.cbor").write_bytes(data)
    got = _records(run("pat-cat", "--assume", "W=64,H=48", "-q", str(tmp_path / "pat_77-0000.cbor"),
                       check=True).stdout)
    assert got[0]["tokens"][1]["stats"]["energy"] == 0.5
    assert got[0]["tokens"][1]["geom"]["gradPhi"] == single
