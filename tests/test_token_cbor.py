"""Fast frame encoding (pattools.io.token_cbor): the exact bytes of canonical cbor2, from columns.

Checked against ``cbor.encode`` (cbor2's canonical mode) of the dict form for random token
frames (every float width class, subnormals, ±0, huge values, ints of every head width,
non-ASCII and long patch ids, optional fields uniform or varying, envelopes with metrics,
edit and replay blocks), against the exported golden stream, and the kernel against a
plain-Python twin. The goldens under tests/data/export were written by the plain path
before pat-export and pat-replay switched to this encoder.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import struct
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pattools.io import RecordWriter, cbor, read_records
from pattools.io import token_cbor as tc
from pattools.kernels import token_cbor as _kernel  # noqa: F401 - numba loaded: encode_tokens uses the kernel at once
from pattools.tokens.frame import GEOM_FIELDS, STATS_FIELDS, TOPO_FIELDS, TokenFrame
from tests.helpers import DATA, ROOT, command_env, sim_block
from tests.helpers import run_ok as _run

GOLDEN = DATA / "export"

# ---------------------------------------------------------------------- random frames

SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, 65504.0, -65504.0, 65520.0, 2.0 ** -14, 2.0 ** -24, -(2.0 ** -24),
           2.0 ** -25, 2.0 ** -126, 2.0 ** -149, -(2.0 ** -149), 2.0 ** -150, 5e-324, -5e-324,
           2.2250738585072014e-308, 3.4028234663852886e+38, 3.4028235677973366e+38, 1.7976931348623157e+308,
           -1.7976931348623157e+308, 1e300, 0.1, 0.03, math.pi, 1 / 3, math.inf, -math.inf]


def random_floats(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """A mix of half-exact, single-exact (normal and subnormal), double and special values."""
    with np.errstate(invalid="ignore", over="ignore"):
        return _random_floats(rng, shape)


def _random_floats(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    n = int(np.prod(shape))
    halves = rng.integers(0, 1 << 16, size=n, dtype=np.uint16).view(np.float16).astype(np.float64)
    singles = rng.integers(0, 1 << 32, size=n, dtype=np.uint64).astype(np.uint32).view(np.float32).astype(np.float64)
    single_subnormal = (rng.integers(1, 1 << 23, size=n) * 2.0 ** -149) * rng.choice([-1.0, 1.0], size=n)
    half_subnormal = (rng.integers(1, 1 << 10, size=n) * 2.0 ** -24) * rng.choice([-1.0, 1.0], size=n)
    doubles = rng.integers(0, 1 << 63, size=n, dtype=np.int64).view(np.float64) * rng.choice([-1.0, 1.0], size=n)
    ordinary = rng.uniform(-4.0, 4.0, size=n)
    special = rng.choice(np.array(SPECIAL), size=n)
    sources = np.stack([halves, singles, single_subnormal, half_subnormal, doubles, ordinary, special])
    values = sources[rng.integers(0, len(sources), size=n), np.arange(n)]
    values[np.isnan(values)] = 0.0  # no NaN (random bits include NaN patterns)
    return values.reshape(shape)


def random_ints(rng: np.random.Generator, shape: tuple[int, ...], low: int, high: int, wide: bool) -> np.ndarray:
    values = rng.integers(low, high + 1, size=shape)
    if wide:  # every head width of majors 0 and 1, int64 extremes included
        edges = np.array([0, 23, 24, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 63 - 1,
                          -1, -24, -25, -256, -257, -65536, -65537, -2 ** 32, -2 ** 32 - 1, -2 ** 63], dtype=np.int64)
        mags = rng.integers(-2 ** 63, 2 ** 63 - 1, size=shape, dtype=np.int64, endpoint=True)
        shifts = rng.integers(0, 64, size=shape)
        pick = rng.integers(0, 3, size=shape)
        values = np.where(pick == 0, rng.choice(edges, size=shape), np.where(pick == 1, mags >> shifts, values))
    return values.astype(np.int64)


def patch_ids(W: int, H: int, scale: int, rng: np.random.Generator, odd: bool) -> list[str]:
    ids = [f"{x0},{y0},{scale}" for y0 in range(0, H, scale) for x0 in range(0, W, scale)]
    if odd:  # non-ASCII, empty, 23/24-byte and long ids (every text head width)
        extra = ["", "é,ü,∆", "x" * 23, "y" * 24, "z" * 255, "w" * 256, "🙂" * 70]
        ids = [extra[i % len(extra)] if rng.random() < 0.5 else pid for i, pid in enumerate(ids)]
    return ids


def random_frame(seed: int, W: int, H: int, scale: int, *, recon: str, code_dims: int | None,
                 heads: str, stage: str, wide: bool, odd_ids: bool) -> TokenFrame:
    rng = np.random.default_rng(seed)
    pids = patch_ids(W, H, scale, rng, odd_ids)
    T = len(pids)
    frame = TokenFrame(
        patch_ids=pids,
        t=random_floats(rng, (T,)) if rng.random() < 0.5 else np.full(T, 0.03 * (seed % 7 + 1)),
        scale=random_ints(rng, (T,), scale, scale, wide),
        geom=random_floats(rng, (T, len(GEOM_FIELDS))),
        stats=random_floats(rng, (T, len(STATS_FIELDS))),
        topo=random_ints(rng, (T, len(TOPO_FIELDS)), -1, 1, wide),
        rvq=None if code_dims is None else random_ints(rng, (T, code_dims), 0, 3, wide),
    )
    if recon != "none":
        values = random_floats(rng, (T,))
        if recon == "some" and T:
            values[rng.random(T) < 0.5] = np.nan
        elif recon == "absent":
            values[:] = np.nan
        frame.recon_mse = values
    if heads != "none":
        frame.heads = [[float(v) for v in random_floats(rng, (3,))] if heads == "all" or rng.random() < 0.5
                       else None for _ in range(T)]
    if stage != "none" and code_dims is not None:
        frame.code_stage = [{"k": i} if stage == "all" or rng.random() < 0.5 else None for i in range(T)]
    return frame


def envelope(seed: int, frame: int, W: int, H: int, scale: int, blocks: set[str], tokens: TokenFrame) -> dict:
    record = {"kind": "PAT_FRAME", "version": 1, "seed": seed, "frame": frame, "sim": sim_block(W, H, scale)}
    if "metrics" in blocks:
        record["metrics"] = {"rhoMean": 0.25, "defects": 3, "entropyGrad": 1 / 3, "patchDefects": list(range(len(tokens)))}
    if "edit" in blocks:
        record["edit"] = {"id": "e-1", "applied": [{"patchId": "0,0,8", "stats": {"rho": -0.1}}], "dA": {"heads": []}}
    if "replay" in blocks:
        record["replay"] = {"decoder": "delta", "gains": {"gammaK": 0.5}, "constants": {"kRho": 1.0}, "editId": None}
    return record


def plain_bytes(env: dict, tokens: TokenFrame) -> bytes:
    return cbor.encode(tc.record_with_tokens(env, tokens.to_tokens()))


GRIDS = [(32, 32, 8), (40, 24, 16), (24, 40, 16), (96, 96, 32), (100, 70, 32), (33, 17, 64), (8, 8, 8), (0, 0, 8)]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2 ** 32 - 1), grid=st.sampled_from(GRIDS),
       recon=st.sampled_from(["none", "all", "absent", "some"]), code_dims=st.sampled_from([None, 0, 1, 5, 30]),
       heads=st.sampled_from(["none"] * 4 + ["all", "some"]), stage=st.sampled_from(["none"] * 4 + ["all", "some"]),
       wide=st.booleans(), odd_ids=st.booleans(),
       blocks=st.sets(st.sampled_from(["metrics", "edit", "replay"])))
def test_fast_bytes_equal_canonical_cbor2(seed, grid, recon, code_dims, heads, stage, wide, odd_ids, blocks):
    W, H, scale = grid
    tokens = random_frame(seed, W, H, scale, recon=recon, code_dims=code_dims, heads=heads, stage=stage,
                          wide=wide, odd_ids=odd_ids)
    env = envelope(seed % 1000, seed % 17, W, H, scale, blocks, tokens)
    expected = plain_bytes(env, tokens)
    assert tc.encode_frame_record(env, tokens) == expected
    assert RecordWriter(io.BytesIO()).encode_frame(env, tokens) == expected
    assert tc.encode_tokens(tokens) == cbor.encode(tokens.to_tokens())


def test_uniform_frames_take_the_fast_path(monkeypatch):
    """Frames whose tokens all share one shape never build dicts (varying ones may)."""
    def forbidden(self):
        raise AssertionError("to_tokens called on the fast path")

    frames = [random_frame(s, 40, 24, 16, recon=r, code_dims=d, heads=h, stage="none", wide=True, odd_ids=True)
              for s, r, d, h in [(1, "none", 5, "none"), (2, "all", None, "none"), (3, "absent", 0, "none")]]
    expected = [cbor.encode(f.to_tokens()) for f in frames]
    monkeypatch.setattr(TokenFrame, "to_tokens", forbidden)
    assert [tc.encode_tokens(f) for f in frames] == expected


def test_nan_and_varying_fields_fall_back_with_the_same_bytes():
    tokens = random_frame(5, 32, 32, 8, recon="none", code_dims=5, heads="none", stage="none", wide=False,
                          odd_ids=False)
    tokens.geom[3, 1] = np.nan  # not valid data, but both paths must agree
    assert tc.encode_tokens(tokens) == cbor.encode(tokens.to_tokens())
    varying = random_frame(6, 32, 32, 8, recon="some", code_dims=5, heads="some", stage="some", wide=False,
                           odd_ids=False)
    assert tc.encode_tokens(varying) == cbor.encode(varying.to_tokens())


def test_other_column_dtypes():
    """float32/float16 and narrow int columns give the bytes their .tolist() values give."""
    base = random_frame(7, 40, 24, 16, recon="all", code_dims=5, heads="none", stage="none", wide=False,
                        odd_ids=False)
    with np.errstate(over="ignore"):
        narrow = TokenFrame(base.patch_ids, base.t.astype(np.float32), base.scale.astype(np.int16),
                            base.geom.astype(np.float16), base.stats.astype(np.float32), base.topo.astype(np.int8),
                            base.rvq.astype(np.uint8), base.recon_mse.astype(np.float32))
    assert tc.encode_tokens(narrow) == cbor.encode(narrow.to_tokens())
    boolean = TokenFrame(base.patch_ids, base.t, base.scale, base.geom, base.stats, base.topo.astype(bool))
    assert tc.encode_tokens(boolean) == cbor.encode(boolean.to_tokens())  # bools: the plain path


# ---------------------------------------------------------------------- pieces and twins


def test_canonical_key_order_is_cbor2s():
    keys = ["tokens", "b", "aa", "a", "B", "sim", "seed", "frame", "kind", "version", "metrics", "é", "zz", "replay"]
    order = tc.canonical_keys(keys)
    encoded = cbor.encode({k: 0 for k in keys})
    assert encoded == tc.head(5, len(keys)) + b"".join(cbor.encode(k) + b"\x00" for k in order)


def test_encode_map_with_splices_anywhere():
    record = {"a": 1, "seed": 2, "zzzzzzzz": [1.5, None], "tokenz": {"x": 0.1}, "b": "text"}
    for spliced in (["tokens"], ["a0"], ["items", "q"], ["zzzzzzzzz"], []):
        values = {key: [i, "v", 2.5] for i, key in enumerate(spliced)}
        encoded = {key: cbor.encode(value) for key, value in values.items()}
        assert tc.encode_map_with(record, encoded) == cbor.encode({**record, **values})
    with pytest.raises(ValueError):
        tc.encode_map_with(record, {"a": b"\x00"})


def test_map_template_reuses_the_fixed_entries():
    record = {"kind": "PAT_FRAME", "version": 1, "seed": 7, "sim": {"W": 96, "dt": 0.03}}
    template = tc.MapTemplate(record, ["frame", "tokens"])
    for frame in (0, 23, 24, 70000):
        values = {"frame": frame, "tokens": [{"a": frame}]}
        encoded = {key: cbor.encode(value) for key, value in values.items()}
        assert template.encode(encoded) == tc.encode_map_with(record, encoded) == cbor.encode({**record, **values})
    with pytest.raises(ValueError):
        template.encode({"frame": b"\x00"})
    with pytest.raises(ValueError):
        tc.MapTemplate(record, ["seed"])


def test_head_and_array():
    for value in (0, 23, 24, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 64 - 1):
        assert tc.head(0, value) == cbor.encode(value)
    items = [1, "x", [2.5]]
    assert tc.encode_array([cbor.encode(i) for i in items]) == cbor.encode(items)
    assert tc.encode_array([cbor.encode(i) for i in range(30)]) == cbor.encode(list(range(30)))


def _twin_float(value: float) -> bytes:
    """cbor2's canonical float rule, with struct (the twin of float_widths)."""
    for code, fmt in ((0xF9, ">e"), (0xFA, ">f")):
        try:
            packed = struct.pack(fmt, value)
        except OverflowError:
            continue
        if struct.unpack(fmt, packed)[0] == value:
            return bytes([code]) + packed
    return b"\xfb" + struct.pack(">d", value)


def _twin_int(value: int) -> bytes:
    return tc.head(0, value) if value >= 0 else tc.head(1, -1 - value)


def _word_bytes(words: np.ndarray, first: int, size: int) -> bytes:
    return words[first:first + (size + 7) // 8].astype("<i8").tobytes()[:size]


def _twin_write(program, pool, floats, ints, text_words, text_index) -> bytes:
    """Plain-Python twin of kernels.token_cbor.write_tokens (struct for the float rule)."""
    from pattools.kernels import token_cbor as k

    out = bytearray()
    for i in range(len(text_index)):
        for op, a, b in program.tolist():
            if op == k.OP_CONST:
                out += _word_bytes(pool, a, b)
            elif op == k.OP_FLOAT:
                out += _twin_float(float(floats[i, a]))
            elif op == k.OP_INT:
                out += _twin_int(int(ints[i, a]))
            else:
                out += _word_bytes(text_words, int(text_index[i, 0]), int(text_index[i, 1]))
    return bytes(out)


def test_twin_float_is_cbor2s_rule():
    rng = np.random.default_rng(3)
    for value in np.concatenate([random_floats(rng, (3000,)), np.array(SPECIAL)]).tolist():
        assert _twin_float(value) == cbor.encode(value), value


def test_half_bits_against_numpy():
    """Every half, and float32 patterns around every exponent a half can have, vs numpy's float16."""
    from pattools.kernels.token_cbor import half_bits

    rng = np.random.default_rng(4)
    halves = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16).view(np.float16)
    patterns = [halves.astype(np.float32).view(np.uint32)]
    n = 40000
    exponents = rng.integers(0, 256, size=n).astype(np.uint32)
    exponents[: n // 2] = rng.integers(127 - 26, 127 + 17, size=n // 2)
    for clear in (0, 8, 13, 20):  # mantissas with their low `clear` bits zero
        mantissa = rng.integers(0, 1 << 23, size=n).astype(np.uint32) >> np.uint32(clear) << np.uint32(clear)
        sign = rng.integers(0, 2, size=n).astype(np.uint32) << np.uint32(31)
        patterns.append(sign | (exponents << np.uint32(23)) | mantissa)
    bits = np.concatenate(patterns)
    values = bits.view(np.float32)
    keep = ~np.isnan(values)
    bits, values = bits[keep], values[keep]
    with np.errstate(over="ignore"):
        as_half = values.astype(np.float16)
    exact = as_half.astype(np.float32) == values
    expected = np.where(exact, as_half.view(np.uint16).astype(np.int64), -1)
    got = np.array([half_bits(b) for b in bits.astype(np.int64).tolist()])
    assert (got == expected).all()
    assert exact.sum() > 70000 and (~exact).sum() > 70000


def test_kernel_against_python_twin():
    from pattools.kernels.token_cbor import SLACK, write_tokens

    for seed, dims, recon in ((1, 5, False), (2, None, True), (3, 30, True)):
        tokens = random_frame(seed, 96, 96, 16, recon="all" if recon else "none", code_dims=dims, heads="none",
                              stage="none", wide=True, odd_ids=True)
        program = tc._program(recon, dims)
        values = tc._float_matrix(tokens, recon)
        ints = tc._int_matrix(tokens, dims)
        words, index = tc._TEXTS.get(tokens.patch_ids)
        size = len(tokens) * (program.const_bytes + 9 * (program.floats + program.ints)) + 8 * len(words) + 3
        out = np.full(size + SLACK, 0xAA, dtype=np.uint8)
        end = write_tokens(program.ops, program.pool, values, values.view(np.int64), ints, words, index, out, 3)
        twin = _twin_write(program.ops, program.pool, values, ints, words, index)
        assert out[3:end].tobytes() == twin and (out[:3] == 0xAA).all()
        assert tc.head(4, len(tokens)) + twin == cbor.encode(tokens.to_tokens())
    assert len(write_tokens.signatures) == 1  # one compiled specialisation


def test_importing_the_encoder_does_not_import_numba():
    code = "import sys, pattools.io.token_cbor, pattools.exporting; assert 'numba' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env=command_env())


# ---------------------------------------------------------------------- real frames and goldens


def _golden() -> dict:
    return json.loads((GOLDEN / "golden.json").read_text())


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_exported_frames_reencode_to_their_bytes():
    raw = (GOLDEN / "frames.cbor").read_bytes()
    out = []
    for record in (r.document() for r in read_records([str(GOLDEN / "frames.cbor")])):
        tokens = TokenFrame.from_tokens(record["tokens"])
        env = {k: v for k, v in record.items() if k != "tokens"}
        out.append(tc.encode_frame_record(env, tokens))
    assert b"".join(out) == raw


def test_pat_export_bytes_unchanged(tmp_path):
    from pattools.cli import export as export_cli

    golden = _golden()
    args = golden["args"]
    assert _run(export_cli, [*args, "--format", "cbor"]) == (GOLDEN / "frames.cbor").read_bytes()
    assert _sha(_run(export_cli, [*args, "--format", "jsonl"])) == golden["export_jsonl"]
    _run(export_cli, [*args, "--out", str(tmp_path / "shards"), "--shard-size", "2"])
    written = {p.name: _sha(p.read_bytes()) for p in sorted((tmp_path / "shards").iterdir())
               if p.suffix in (".cbor", ".json") and p.name != "manifest.json"}
    assert written == golden["shards"]


def test_pat_replay_bytes_unchanged():
    from pattools.cli import replay as replay_cli

    golden = _golden()
    frames = (GOLDEN / "frames.cbor").read_bytes()
    assert _sha(_run(replay_cli, ["--metrics", "--format", "cbor"], frames)) == golden["replay_metrics_cbor"]
    assert _sha(_run(replay_cli, ["--metrics", "--format", "jsonl"], frames)) == golden["replay_metrics_jsonl"]
    assert _sha(_run(replay_cli, ["--verify", "--format", "cbor"], frames)) == golden["replay_metrics_cbor"]
