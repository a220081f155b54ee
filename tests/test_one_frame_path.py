"""One frame path (docs/design.md §1): past io a frame's tokens are read one way only,
as checked columns (``FrameTokens.frame()``), whatever shape they were written in.

Non-canonical inputs (integer values in float fields, keys in another order, JSON lines,
an earlier edit block, some tokens without a code, codes of different lengths) go
through pat-apply, pat-replay --edit and pat-diff and give the same values as their
canonical twins; ``pat-apply | pat-replay`` is ``pat-replay --edit`` on such streams; and
no module outside pattools/io reads tokens another way.
"""

from __future__ import annotations

import ast
import copy
import io
import json
from pathlib import Path

import cbor2
import pytest

from pattools.cli import apply as apply_cli
from pattools.cli import diff as diff_cli
from pattools.cli import export as export_cli
from pattools.cli import replay as replay_cli
from pattools.io import read_records
from pattools.io.cbor import encode
from tests.helpers import run_in_process, run_ok
from tests.test_apply_support import edit_record

PACKAGE = Path(__file__).resolve().parent.parent / "pattools"
SEED = 3
CODED = "0,0,16"  # the token the edit gives a code delta
WITHOUT_CODE = ("16,16,16", "32,32,16")  # tokens the mixed variants strip of their code
SHORT_CODE = "16,16,16"  # the token the mixed-length variant gives a 3-dimension code


def _documents(data: bytes) -> list[dict]:
    return [record.document() for record in read_records(["-"], validate=False, stdin=io.BytesIO(data))]


def _raw(data: bytes) -> list[bytes]:
    return [record._raw for record in read_records(["-"], validate=False, stdin=io.BytesIO(data))]


def _cbor(records: list[dict]) -> bytes:
    return b"".join(encode(record) for record in records)


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    """Four exported frames (48x48, scale 16: 9 tokens), an edit of frames 1-3 naming a
    code delta, a stats delta and geom/topo deltas, and an earlier edit of frames 1-2."""
    where = tmp_path_factory.mktemp("one-frame-path")
    base = run_ok(export_cli, ["--seeds", str(SEED), "--W", "48", "--H", "48", "--scale", "16", "--frames", "4"])
    records = _documents(base)
    sim = records[0]["sim"]
    dpats = [{"patchId": CODED, "code": {"rvqDelta": [-1, 0, 1, 1, -1]}, "stats": {"rho": 0.1}},
             {"patchId": "16,0,16", "stats": {"entropyRate": -0.1}, "geom": {"phi_gf": 0.3}},
             {"patchId": SHORT_CODE, "stats": {"energy": 0.2}},
             {"patchId": "32,16,16", "geom": {"A": -0.2}, "topo": {"vortex": 1}}]
    edit = where / "edit.cbor"
    edit.write_bytes(encode(edit_record([{"frame": f, "dpat": dpats} for f in (1, 2, 3)], seed=SEED, sim=sim,
                                        ident="e1")))
    earlier = where / "earlier.cbor"
    earlier.write_bytes(encode(edit_record([{"frame": f, "dpat": [{"patchId": "0,16,16", "stats": {"rho": -0.2}}]}
                                            for f in (1, 2)], seed=SEED, sim=sim, ident="e0")))
    return where, records, str(edit), str(earlier)


# ---------------------------------------------------------------- variants of a stream


def _integral_as_int(records: list[dict]) -> list[dict]:
    """Integral values of the tokens' float fields written as integers (valid; not the
    shape pattools writes)."""
    out = copy.deepcopy(records)
    changed = 0
    for record in out:
        for token in record["tokens"]:
            for group in ("geom", "stats"):
                for name, value in token[group].items():
                    if isinstance(value, float) and value.is_integer():
                        token[group][name] = int(value)
                        changed += 1
    assert changed
    return out


def _reversed_keys(value: object) -> object:
    if isinstance(value, dict):
        return {key: _reversed_keys(value[key]) for key in reversed(list(value))}
    if isinstance(value, list):
        return [_reversed_keys(item) for item in value]
    return value


def _without_codes(records: list[dict], short: bool = False) -> list[dict]:
    """Some tokens without code.rvq (and, with ``short``, one with a 3-dimension code)."""
    out = copy.deepcopy(records)
    for record in out:
        for token in record.get("tokens", []):
            pid = token["hdr"]["patchId"]
            if short and pid == SHORT_CODE:
                token["code"]["rvq"] = token["code"]["rvq"][:3]
            elif pid in WITHOUT_CODE:
                del token["code"]
    return out


VARIANTS = {
    "integers in float fields": lambda records: _cbor(_integral_as_int(records)),
    "keys in another order": lambda records: b"".join(cbor2.dumps(_reversed_keys(r)) for r in records),
    "json lines, keys reordered, integers": lambda records: b"".join(
        (json.dumps(_reversed_keys(r)) + "\n").encode() for r in _integral_as_int(records)),
}


def _twin_and_variant(records: list[dict], name: str) -> tuple[bytes, bytes]:
    return _cbor(records), VARIANTS[name](records)


def _applied(case, stdin: bytes, *flags: str) -> bytes:
    _, _, edit, _ = case
    return run_ok(apply_cli, ["--edit", edit, *flags], stdin)


def _assert_same_values_and_edited_bytes(got: bytes, expected: bytes) -> None:
    """The same values record by record; frames the edit changed are written canonically,
    so they are the twin's bytes."""
    assert _documents(got) == _documents(expected)
    for doc, raw_got, raw_expected in zip(_documents(got), _raw(got), _raw(expected)):
        if doc.get("edit") is not None:
            assert raw_got == raw_expected


# ---------------------------------------------------------------- pat-apply


@pytest.mark.parametrize("name", VARIANTS)
def test_apply_gives_non_canonical_frames_the_values_of_their_canonical_twins(case, name):
    _, records, _, _ = case
    twin, variant = _twin_and_variant(records, name)
    _assert_same_values_and_edited_bytes(_applied(case, variant), _applied(case, twin))
    _assert_same_values_and_edited_bytes(_applied(case, variant, "--recode"), _applied(case, twin, "--recode"))


@pytest.mark.parametrize("name", VARIANTS)
def test_apply_extends_an_earlier_edit_block_of_a_non_canonical_frame(case, name):
    _, records, edit, earlier = case
    once = run_ok(apply_cli, ["--edit", earlier], _cbor(records))
    twin, variant = _twin_and_variant(_documents(once), name)
    got, expected = _applied(case, variant), _applied(case, twin)
    _assert_same_values_and_edited_bytes(got, expected)
    blocks = [doc.get("edit") for doc in _documents(got)]
    assert [None if b is None else b["id"] for b in blocks] == [None, "e0+e1", "e0+e1", "e1"]


def _code_stripped(data: bytes, short: bool = False) -> list[dict]:
    return _without_codes(_documents(data), short)


def test_apply_edits_frames_with_some_tokens_without_code(case):
    """Tokens without code.rvq keep none; every other value is the coded twin's (the
    edit names no code delta on them)."""
    _, records, _, _ = case
    twin, variant = _cbor(records), _cbor(_without_codes(records))
    assert _documents(_applied(case, variant)) == _code_stripped(_applied(case, twin))


def test_apply_edits_frames_with_codes_of_different_lengths(case):
    """Unvalidated frames may carry codes of any lengths: each code keeps its own."""
    _, records, _, _ = case
    twin, variant = _cbor(records), _cbor(_without_codes(records, short=True))
    got = _documents(_applied(case, variant, "--no-validate"))
    expected = _code_stripped(_applied(case, twin, "--no-validate"), short=True)
    assert got == expected
    assert [len(t["code"]["rvq"]) for t in got[1]["tokens"] if t["hdr"]["patchId"] == SHORT_CODE] == [3]


def test_recode_recomputes_only_the_codes_tokens_have(case):
    _, records, _, _ = case
    got = _documents(_applied(case, _cbor(_without_codes(records, short=True)), "--recode", "--no-validate"))
    expected = _documents(_applied(case, _cbor(records), "--recode", "--no-validate"))
    for doc, twin in zip(got, expected):
        for token, twin_token in zip(doc["tokens"], twin["tokens"]):
            pid = token["hdr"]["patchId"]
            if pid == SHORT_CODE:
                assert token["code"]["rvq"] == twin_token["code"]["rvq"][:3]
            elif pid in WITHOUT_CODE:
                assert "code" not in token
            else:
                assert token == twin_token


@pytest.mark.parametrize("dpat, message", [
    ({"patchId": WITHOUT_CODE[1], "code": {"rvqDelta": [1, 0, 0, 0, 0]}},
     "targets[0].dpat[0].code.rvqDelta: expected no code delta (the frame's tokens carry no code.rvq)"),
    ({"patchId": SHORT_CODE, "code": {"rvqDelta": [1, 0, 0, 0, 0]}},
     "targets[0].dpat[0].code.rvqDelta: expected array of length 3 (one per code dimension), got array of length 5"),
    ({"patchId": CODED, "code": {"rvqDelta": [1, 0, 0]}},
     "targets[0].dpat[0].code.rvqDelta: expected array of length 5 (one per code dimension), got array of length 3"),
])
def test_a_code_delta_must_fit_its_own_token(case, tmp_path, dpat, message):
    """A code delta on a token without code, or of another length than the token's code,
    is the data error the maps path gave, however other tokens of the frame carry codes."""
    _, records, _, _ = case
    edit = tmp_path / "bad.cbor"
    neighbour = {"patchId": "0,16,16", "stats": {"rho": 0.1}}  # a coded token touched too
    edit.write_bytes(encode(edit_record([{"frame": 1, "dpat": [dpat, neighbour]}], seed=SEED, sim=records[0]["sim"])))
    stream = _cbor(_without_codes(records, short=True))
    for module, flags in ((apply_cli, []), (replay_cli, [])):
        code, out, err = run_in_process(module, ["--edit", str(edit), "--no-validate", *flags], stream)
        assert code == 1 and err.count("\n") == 1 and message in err and "Traceback" not in err, err


# ---------------------------------------------------------------- pat-replay


def _replayed(case, stdin: bytes, *flags: str) -> bytes:
    _, _, edit, _ = case
    return run_ok(replay_cli, ["--edit", edit, *flags], stdin)


@pytest.mark.parametrize("name", VARIANTS)
def test_replay_edit_gives_non_canonical_frames_the_replay_of_their_twins(case, name):
    _, records, _, earlier = case
    twin, variant = _twin_and_variant(records, name)
    assert _replayed(case, variant) == _replayed(case, twin)
    once = run_ok(apply_cli, ["--edit", earlier], _cbor(records))
    twin, variant = _twin_and_variant(_documents(once), name)
    assert _replayed(case, variant, "--decoder", "tokens") == _replayed(case, twin, "--decoder", "tokens")


@pytest.mark.parametrize("short, flags", [(False, []), (True, ["--no-validate"])])
def test_apply_then_replay_is_replay_edit_on_mixed_code_frames(case, short, flags):
    _, records, edit, _ = case
    stream = _cbor(_without_codes(records, short))
    for decoder in ("delta", "tokens", "live"):
        piped = run_ok(replay_cli, ["--decoder", decoder, *flags], _applied(case, stream, *flags))
        assert piped == _replayed(case, stream, "--decoder", decoder, *flags)
    # the delta replay reads only what the edit did: the coded twin's replay
    assert _replayed(case, stream, *flags) == _replayed(case, _cbor(records), *flags)


def test_short_codes_with_code_deltas_replay_without_the_missing_dimensions(case, tmp_path):
    """Codes shorter than the codebook's (unvalidated input) with code deltas of their
    length: the dimensions they lack carry no delta (a traceback before), and apply |
    replay is replay --edit."""
    _, records, _, _ = case
    short = copy.deepcopy(records)
    for record in short:
        for token in record["tokens"]:
            token["code"]["rvq"] = token["code"]["rvq"][:3]
    edit = tmp_path / "short-edit.cbor"
    edit.write_bytes(encode(edit_record([{"frame": f, "dpat": [{"patchId": CODED, "code": {"rvqDelta": [1, -1, 1]}}]}
                                         for f in (1, 2)], seed=SEED, sim=records[0]["sim"], ident="e3")))
    stream = _cbor(short)
    for decoder in ("delta", "tokens", "live"):
        direct = run_ok(replay_cli, ["--no-validate", "--decoder", decoder, "--edit", str(edit)], stream)
        applied = run_ok(apply_cli, ["--no-validate", "--edit", str(edit)], stream)
        assert run_ok(replay_cli, ["--no-validate", "--decoder", decoder], applied) == direct
    # a code delta on the phase dimension steers the delta decoder as its bin width would
    assert direct != run_ok(replay_cli, ["--no-validate"], stream)


# ---------------------------------------------------------------- pat-diff


def _diff(tmp_path: Path, a: bytes, b: bytes) -> tuple[int, bytes]:
    pa, pb = tmp_path / "a", tmp_path / "b"
    pa.write_bytes(a)
    pb.write_bytes(b)
    code, out, err = run_in_process(diff_cli, [str(pa), str(pb), "--format", "jsonl"])
    assert code in (0, 1), err
    return code, out


@pytest.mark.parametrize("name", VARIANTS)
def test_diff_reports_non_canonical_frames_as_their_twins(case, tmp_path, name):
    _, records, _, _ = case
    twin, variant = _twin_and_variant(records, name)
    assert _diff(tmp_path, variant, twin) == (0, _diff(tmp_path, twin, twin)[1])
    edited_twin, edited_variant = _applied(case, twin), _applied(case, variant)
    report = _diff(tmp_path, twin, edited_twin)
    assert report[0] == 1 and b"tokens.code.rvq" in report[1]
    assert _diff(tmp_path, variant, edited_variant) == report


def test_diff_reports_mixed_code_frames_as_their_twins(case, tmp_path):
    """Codes present on both sides compare as the coded twin's do; a code on one side
    only is reported as such."""
    _, records, _, _ = case
    twin, variant = _cbor(records), _cbor(_without_codes(records))
    report = _diff(tmp_path, twin, _applied(case, twin))
    assert _diff(tmp_path, variant, _applied(case, variant)) == report
    code, out = _diff(tmp_path, twin, variant)
    fields = {r["field"]: r for r in map(json.loads, out.splitlines()) if r["type"] == "field"}
    assert code == 1 and fields["tokens.code"]["onlyA"] == 2 * len(records) and len(fields) == 1


# ---------------------------------------------------------------- the rule, as a check


# Calls that read tokens another way than frame(), allowed outside pattools/io: the Python
# API's records and pat-cat's conversion give each record as it was read.
ALLOWED = {("api.py", "document"), ("cli/cat.py", "document")}
TOKEN_READERS = ("maps", "exact", "_exact", "document")


def test_past_io_tokens_are_read_as_frames_only():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = path.relative_to(PACKAGE).as_posix()
        if name.startswith("io/"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in TOKEN_READERS and (name, node.func.attr) not in ALLOWED):
                offenders.append(f"{name}:{node.lineno}: .{node.func.attr}()")
    assert not offenders, "\n".join(offenders)


def test_frame_tokens_offer_no_other_public_way_to_the_tokens():
    from pattools.io.frame_tokens import FrameTokens

    public = {name for name in dir(FrameTokens) if not name.startswith("_")}
    assert public == {"frame", "maps", "mark_valid"}
