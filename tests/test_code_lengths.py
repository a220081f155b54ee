"""pat-cat --summary, pat-score, nupca-step --from-pat and pat-pack on frames whose tokens
carry codes of different lengths or only some codes (TokenFrame.rvq_len).

Only some tokens with a code is valid input; codes of another length than the codebook's
pass the schema but not the layout check, so those streams are read with --no-validate.
"""

from __future__ import annotations

import copy
import io
import json

import numpy as np
import pytest

from pattools.cli import cat, nupca_step, pack
from pattools.errors import DataError
from pattools.exporting import ExportConfig, export_seed_bytes
from pattools.io import Record, read_records
from pattools.io import cbor as pcbor
from pattools.score.evaluate import atlas_block
from pattools.score.sequences import read_sequences
from pattools.score.study import exported_sequence
from pattools.tokens.atlas import Atlas
from tests.helpers import make_frame, run_in_process, run_ok

FRAMES = 6


def _base() -> list[dict]:
    return [make_frame(seed=3, frame=f, W=64, H=64, scale=32) for f in range(FRAMES)]


def _some() -> list[dict]:
    """Every other token without a code."""
    frames = _base()
    for frame in frames:
        for i, token in enumerate(frame["tokens"]):
            if i % 2:
                del token["code"]
    return frames


def _mixed() -> list[dict]:
    """Token 0 with a 3-long code, token 1 a 6-long one, token 2 none, token 3 the codebook's 5."""
    frames = _base()
    for frame in frames:
        tokens = frame["tokens"]
        tokens[0]["code"]["rvq"] = tokens[0]["code"]["rvq"][:3]
        tokens[1]["code"]["rvq"] = tokens[1]["code"]["rvq"] + [2]
        del tokens[2]["code"]
    return frames


def _cbor(frames: list[dict]) -> bytes:
    return b"".join(pcbor.encode(f) for f in frames)


def _jsonl(data: bytes) -> list[dict]:
    return [json.loads(line) for line in data.decode().splitlines()]


def _codes(frames: list[dict], length: int) -> np.ndarray:
    return np.array([t["code"]["rvq"] for f in frames for t in f["tokens"]
                     if "code" in t and len(t["code"]["rvq"]) == length], dtype=np.int64)


def _figures(codes: np.ndarray) -> dict:
    atlas = Atlas()
    atlas.add(codes)
    return atlas.figures()


# ------------------------------------------------------------------ pat-cat --summary


def test_summary_pools_only_the_tokens_that_carry_a_code():
    frames = _some()
    (summary,) = _jsonl(run_ok(cat, ["--summary", "--format", "jsonl"], _cbor(frames)))
    assert summary["atlas"] == _figures(_codes(frames, 5))
    assert summary["atlas"]["count"] == FRAMES * 2 and "otherLengths" not in summary["atlas"]
    assert summary["sequences"][0]["tokensPerFrame"] == 4


def test_summary_of_codes_of_several_lengths_pools_the_codebooks_and_counts_the_others():
    frames = _mixed()
    for data in (_cbor(frames), "".join(json.dumps(f) + "\n" for f in frames).encode()):
        code, out, err = run_in_process(cat, ["--summary", "--no-validate", "--format", "jsonl"], data)
        assert code == 0 and err == ""
        (summary,) = _jsonl(out)
        assert summary["atlas"] == _figures(_codes(frames, 5)) | {"otherLengths": {"3": FRAMES, "6": FRAMES}}


def test_summary_without_any_code_of_the_codebooks_length_reports_the_commonest():
    frames = _base()
    for frame in frames:
        for i, token in enumerate(frame["tokens"]):
            token["code"]["rvq"] = token["code"]["rvq"][:3] if i else token["code"]["rvq"][:2]
    (summary,) = _jsonl(run_ok(cat, ["--summary", "--no-validate", "--format", "jsonl"], _cbor(frames)))
    assert summary["atlas"] == _figures(_codes(frames, 3)) | {"otherLengths": {"2": FRAMES}}


# ------------------------------------------------------------------ pat-score


def _sequence(frames: list[dict]):
    records = read_records(["-"], stdin=io.BytesIO(_cbor(frames)), validate=False)
    (seq,) = list(read_sequences(records))
    return seq


def test_score_reads_each_tokens_code_as_written():
    frames = _mixed()
    seq = _sequence(frames)
    tokens = seq.tokens[0]
    assert tokens.rvq_len.tolist() == [3, 6, -1, 5]
    assert tokens.to_tokens() == frames[0]["tokens"]
    assert seq.sources == [("<stdin>", f) for f in range(FRAMES)]


def test_score_atlas_counts_no_code_where_a_token_has_none():
    frames = _some()
    seq = _sequence(frames)
    block = atlas_block(seq, seq, seq.frames)
    expected = _figures(_codes(frames, 5))
    assert block["base"]["usage"] == expected["usage"] and block["base"]["perplexity"] == expected["perplexity"]


def test_a_frame_without_tokens_is_a_data_error_naming_the_record():
    record = Record({k: v for k, v in _base()[0].items() if k != "tokens"}, "x.cbor", 4)
    with pytest.raises(DataError) as info:
        list(read_sequences([record]))
    assert str(info.value) == "x.cbor: record 4: tokens: expected a token list, got nothing (required field missing)"


def test_the_study_scores_the_exporters_columns_as_pat_export_writes_them():
    config = ExportConfig(W=64, H=64, frames=3, scale=32)
    seq = exported_sequence(config, 9)
    (read,) = list(read_sequences(read_records(["-"], stdin=io.BytesIO(export_seed_bytes(config, 9, "cbor")))))
    assert seq.frames == read.frames == [0, 1, 2] and seq.sim == read.sim
    for ours, theirs in zip(seq.tokens, read.tokens):
        assert ours.to_tokens() == theirs.to_tokens()
    assert [(envelope["frame"], tokens.frame() is frame) for (envelope, _, _, tokens), frame
            in zip(seq.records, seq.tokens)] == [(0, True), (1, True), (2, True)]


# ------------------------------------------------------------------ nupca-step --from-pat


@pytest.mark.parametrize("variant", [_some, _mixed])
def test_agent_observations_do_not_depend_on_codes(variant):
    args = ["--from-pat", "--no-validate", "--format", "jsonl"]
    assert run_ok(nupca_step, args, _cbor(variant())) == run_ok(nupca_step, args, _cbor(_base()))


# ------------------------------------------------------------------ pat-pack


@pytest.mark.parametrize("variant", [_some, _mixed])
def test_pack_records_carry_each_tokens_code_as_written(variant):
    frames = variant()
    out = run_ok(pack, ["--prompt", "raise energy", "--context", "2", "--no-validate", "--format", "jsonl"],
                 _cbor(frames))
    records = _jsonl(out)
    assert records and all(item["tokens"] == frames[item["frame"]]["tokens"]
                           for record in records for item in record["inputs"])


def _npz(data: bytes, *extra: str) -> tuple[int, dict | None, str]:
    code, out, err = run_in_process(pack, ["--prompt", "raise energy", "--context", "2", "--format", "npz", *extra],
                                    data)
    return code, (dict(np.load(io.BytesIO(out), allow_pickle=False)) if code == 0 else None), err


def test_npz_masks_the_tokens_without_a_code():
    frames = _some()
    code, arrays, err = _npz(_cbor(frames))
    assert code == 0, err
    mask, codes = arrays["input_code_mask"], arrays["input_codes"]
    assert mask.shape == codes.shape[:3] and mask.dtype == bool
    for r, inputs in enumerate(arrays["input_frames"].tolist()):
        for k, f in enumerate(inputs):
            for p, token in enumerate(frames[f]["tokens"]):
                assert mask[r, k, p] == ("code" in token)
                assert codes[r, k, p].tolist() == token.get("code", {"rvq": [0] * 5})["rvq"]


def test_npz_of_codes_of_one_length_has_no_mask():
    code, arrays, err = _npz(_cbor(_base()))
    assert code == 0, err
    assert "input_code_mask" not in arrays and arrays["input_codes"].shape[-1] == 5


def test_npz_refuses_codes_of_several_lengths_naming_the_token():
    code, arrays, err = _npz(_cbor(_mixed()), "--no-validate")
    assert code == 1 and arrays is None
    assert err == ("pat-pack: <stdin>: record 0: tokens[1].code.rvq: expected 3 codes "
                   "(one code length per npz archive), got 6\n")


def test_npz_refuses_a_code_length_that_changes_between_frames():
    frames = _base()
    for frame in frames[3:]:
        for token in frame["tokens"]:
            token["code"]["rvq"] = token["code"]["rvq"][:4]
    code, _, err = _npz(_cbor(copy.deepcopy(frames)), "--no-validate")
    assert code == 1
    assert err == ("pat-pack: <stdin>: record 3: tokens[0].code.rvq: expected 5 codes "
                   "(one code length per npz archive), got 4\n")


def test_summary_table_says_which_codes_were_not_pooled():
    import io as _io

    from pattools.cli.tables import print_summary_table

    (summary,) = _jsonl(run_ok(cat, ["--summary", "--no-validate", "--format", "jsonl"], _cbor(_mixed())))
    out = _io.BytesIO()
    print_summary_table(summary, out)
    text = " ".join(out.getvalue().decode().split())  # the caption wraps at the table's width
    assert f"not pooled: {FRAMES} codes of length 3, {FRAMES} codes of length 6" in text
