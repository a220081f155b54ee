"""pat-render: pictures of lattice fields, token patch maps, edit effects and animations.

Checks that would fail if the feature broke: the phase picture of the golden 24×24
trajectory equals the golden phases colour-mapped here independently (orientation, zoom,
colour map, normalisation); a known asymmetric token field lands where patch ids say;
every kind is a valid, non-trivial picture with the same bytes on a rerun; edits steer the
picture as pat-replay steers the lattice; bad input fails cleanly.
"""

from __future__ import annotations

import io
import json
import math
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import DATA, make_frame, run, shell

pytest.importorskip("matplotlib")
from PIL import Image  # noqa: E402  (matplotlib depends on Pillow)

from pattools.io import cbor  # noqa: E402

GOLDEN = DATA / "goldens" / "baseline_24x24_f6_dt003.json"
# the golden trajectory is seed 4242 on 24×24, dt 0.03, one step per frame (tests/test_lattice_goldens.py)
GOLDEN_EXPORT = ("--seeds", "4242", "--W", "24", "--H", "24", "--frames", "6", "--spf", "1", "--dt", "0.03",
                 "--scale", "8")


def _png(path) -> np.ndarray:
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    image = Image.open(io.BytesIO(data))
    image.verify()
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def _find_block(picture: np.ndarray, block: np.ndarray) -> tuple[int, int] | None:
    """Top-left (row, col) where ``block`` appears exactly in ``picture``, or None."""
    h, w = block.shape[:2]
    H, W = picture.shape[0] - h + 1, picture.shape[1] - w + 1
    if H <= 0 or W <= 0:
        return None
    hit = np.ones((H, W), dtype=bool)
    for dy, dx in ((0, 0), (h - 1, w - 1), (0, w - 1), (h - 1, 0), (h // 2, w // 2), (h // 3, 2 * w // 3)):
        hit &= (picture[dy:dy + H, dx:dx + W] == block[dy, dx]).all(-1)
    for y, x in zip(*np.nonzero(hit)):
        if (picture[y:y + h, x:x + w] == block).all():
            return int(y), int(x)
    return None


def render(*argv: str, stdin: bytes = b"") -> tuple[int, list[str], str]:
    """pat-render in this process (as the console script runs it): (exit code, paths, stderr)."""
    from pattools.cli import render as command
    from pattools.cli.base import Streams, execute

    out, err = io.BytesIO(), io.StringIO()
    code = execute(command.NAME, command.build_parser, command.run, list(argv), Streams(io.BytesIO(stdin), out, err))
    return code, out.getvalue().decode().split(), err.getvalue()


def _colour_table(name: str) -> np.ndarray:
    import matplotlib

    cmap = matplotlib.colormaps[name]
    return (cmap(np.linspace(0.0, 1.0, cmap.N))[:, :3] * 255).astype(np.uint8), cmap.N


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """A small export (two seeds), an edit, the edited frames, base and edited replays."""
    d = tmp_path_factory.mktemp("render")
    script = f"""
    pat-export -q --seeds 3,5 --W 32 --H 32 --frames 4 --spf 2 --scale 8 > {d}/frames.cbor
    pat-baseline --editor heuristic --frames 1: --prompt 'increase coherence on rim, flip chirality in the centre' \
        {d}/frames.cbor > {d}/edit.cbor
    pat-apply --edit {d}/edit.cbor {d}/frames.cbor > {d}/edited-frames.cbor
    pat-replay {d}/frames.cbor > {d}/base.cbor
    pat-replay {d}/edited-frames.cbor > {d}/edited.cbor
    pat-export -q {' '.join(GOLDEN_EXPORT)} > {d}/golden.cbor
    """
    result = shell(script)
    assert result.returncode == 0, result.stderr.decode()
    return d


def test_phase_picture_is_the_golden_phases_colour_mapped(work, tmp_path):
    code, paths, err = render(str(work / "golden.cbor"), "--out", str(tmp_path), "--frames", "0:6", "--kinds", "phase")
    assert code == 0, err
    assert paths == [str(tmp_path / f"4242-{k}-phase.png") for k in range(6)]
    golden = json.loads(GOLDEN.read_text())
    table, n = _colour_table("twilight")
    for k, frame in enumerate(golden["frames"]):
        phases = np.array(frame["phases"], dtype=np.float32).astype(np.float64).reshape(24, 24)  # row y, column x
        index = np.minimum(np.floor(np.mod(phases, 2 * math.pi) / (2 * math.pi) * n).astype(int), n - 1)
        expected = table[index]
        picture = _png(tmp_path / f"4242-{k}-phase.png")
        zoom = 512 // 24  # whole-cell blocks, the longer side about 512 pixels at 100 dpi
        block = expected.repeat(zoom, axis=0).repeat(zoom, axis=1)
        assert _find_block(picture, block) is not None, f"frame {k}: golden phases not found in the picture"
        # not symmetric: the transposed or flipped field is not in the picture
        assert _find_block(picture, block.transpose(1, 0, 2)) is None
        assert _find_block(picture, block[::-1]) is None


def test_token_maps_are_oriented_as_patch_ids_count(tmp_path):
    """A known asymmetric rho field on a 96×64 grid: rho = (px + 3·py) / 14 at patch (px, py)."""
    frame = make_frame(seed=9, W=96, H=64, scale=16)
    nx = 6
    for i, token in enumerate(frame["tokens"]):
        x0, y0, _ = (int(v) for v in token["hdr"]["patchId"].split(","))
        assert i == (y0 // 16) * nx + x0 // 16
        token["stats"]["rho"] = (x0 // 16 + 3 * (y0 // 16)) / 14.0
    src = tmp_path / "frame.cbor"
    src.write_bytes(cbor.encode(frame))
    code, _, err = render(str(src), "--out", str(tmp_path / "pics"), "--kinds", "tokens")
    assert code == 0, err
    table, n = _colour_table("viridis")
    rho = np.array([[(px + 3 * py) / 14.0 for px in range(6)] for py in range(4)])  # row = y (down), column = x
    cells = rho.repeat(16, axis=0).repeat(16, axis=1)  # 64 rows × 96 columns
    expected = table[np.minimum(np.floor(cells * n).astype(int), n - 1)]
    zoom = 256 // 96
    picture = _png(tmp_path / "pics" / "9-0-tokens.png")
    assert _find_block(picture, expected.repeat(zoom, axis=0).repeat(zoom, axis=1)) is not None
    assert _find_block(picture, expected[::-1].repeat(zoom, axis=0).repeat(zoom, axis=1)) is None


@pytest.fixture(scope="module")
def pictures(work, tmp_path_factory):
    """Every kind rendered twice into two directories."""
    out = []
    for name in ("a", "b"):
        d = str(tmp_path_factory.mktemp(f"pics-{name}"))
        paths = []
        for argv in ([f"{work}/frames.cbor", "--out", d, "--frames", "1,3"],
                     ["--base", f"{work}/base.cbor", "--edited", f"{work}/edited.cbor", "--edit", f"{work}/edit.cbor",
                      "--out", d],
                     [f"{work}/frames.cbor", "--out", d, "--animate", "--seeds", "3"],
                     [f"{work}/frames.cbor", "--out", d, "--animate", "apng", "--seeds", "3", "--frames", "0:3"]):
            code, written, err = render(*argv)
            assert code == 0, err
            paths += written
        out.append((Path(d), paths))
    return out


def test_every_kind_is_a_valid_non_trivial_picture(pictures):
    d, paths = pictures[0]
    names = sorted(os.path.basename(p) for p in paths)
    expected = sorted([f"{s}-{f}-{k}.png" for s in (3, 5) for f in (1, 3) for k in ("phase", "energy", "tokens")]
                      + [f"{s}-{k}.png" for s in (3, 5) for k in ("effect", "timeseries")]
                      + ["3-phase.gif", "3-phase.apng"])
    assert names == expected
    assert sorted(os.listdir(d)) == expected  # nothing else (no temporary files)
    for name in names:
        path = d / name
        image = Image.open(path)
        assert image.format == ("GIF" if name.endswith(".gif") else "PNG")
        assert 300 <= image.size[0] <= 2000 and 250 <= image.size[1] <= 1400, (name, image.size)
        rgb = np.asarray(image.convert("RGB")).astype(np.uint32)
        colours = len(np.unique((rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]))
        assert colours >= (6 if "timeseries" in name else 40), (name, colours)
    gif = Image.open(d / "3-phase.gif")
    assert gif.n_frames == 4 and getattr(gif, "is_animated", False)
    assert Image.open(d / "3-phase.apng").n_frames == 3


def test_pictures_have_the_same_bytes_on_a_rerun(pictures):
    (a, paths_a), (b, paths_b) = pictures
    assert [os.path.basename(p) for p in paths_a] == [os.path.basename(p) for p in paths_b]
    for name in os.listdir(a):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_svg_and_pdf_carry_no_dates_or_versions_and_rerun_identically(work, tmp_path):
    import matplotlib

    for fmt in ("svg", "pdf"):
        runs = []
        for k in range(2):
            out = tmp_path / f"{fmt}{k}"
            code, _, err = render(str(work / "frames.cbor"), "--out", str(out), "--seeds", "5",
                                  "--kinds", "phase", "--format", fmt, "--dpi", "72")
            assert code == 0, err
            runs.append((out / f"5-3-phase.{fmt}").read_bytes())
        assert runs[0] == runs[1]
        assert matplotlib.__version__.encode() not in runs[0]
        assert b"CreationDate" not in runs[0] and b"<dc:date>" not in runs[0]


def test_edit_steers_the_picture_as_apply_then_replay(work, tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    script = f"""
    pat-render {work}/frames.cbor --edit {work}/edit.cbor --out {a} --frames 2 --seeds 3
    pat-apply --edit {work}/edit.cbor {work}/frames.cbor | pat-render --out {b} --frames 2 --seeds 3
    """
    result = shell(script)
    assert result.returncode == 0, result.stderr.decode()
    code, _, err = render(f"{work}/frames.cbor", "--out", str(c), "--frames", "2", "--seeds", "3")
    assert code == 0, err
    for kind in ("phase", "energy", "tokens"):
        assert (a / f"3-2-{kind}.png").read_bytes() == (b / f"3-2-{kind}.png").read_bytes(), kind
        assert (a / f"3-2-{kind}.png").read_bytes() != (c / f"3-2-{kind}.png").read_bytes(), kind


def test_a_replay_of_an_edit_is_refused(work, tmp_path):
    result = run("pat-render", str(work / "edited.cbor"), "--out", str(tmp_path / "x"))
    assert result.returncode == 1
    err = result.stderr.decode()
    assert err.count("\n") == 1 and "replay steered by edit" in err and "Traceback" not in err
    assert not list((tmp_path / "x").iterdir())


@pytest.mark.parametrize("args,code,text", [
    (["missing.cbor", "--out", "{d}"], 1, "missing.cbor: no such file"),
    (["{work}/frames.cbor", "--out", "{d}", "--frames", "9"], 1, "no frame to draw"),
    (["{work}/frames.cbor", "--out", "{work}/frames.cbor"], 1, "output directory"),
    (["{work}/frames.cbor", "--out", "{d}", "--frames", "x"], 2, "expected a range"),
    (["--base", "{work}/base.cbor", "--out", "{d}"], 2, "--base and --edited go together"),
    (["{work}/frames.cbor", "--out", "{d}", "--kinds", "phase,bogus"], 2, "expected kinds"),
    (["{work}/frames.cbor", "--out", "{d}", "--animate", "--kinds", "energy"], 2, "--kinds applies to pictures"),
    (["{work}/edit.cbor", "--out", "{d}"], 1, 'expected "PAT_FRAME"'),
])
def test_bad_input_and_usage_fail_cleanly(work, tmp_path, args, code, text):
    d = tmp_path / "out"
    argv = [a.format(work=work, d=d) for a in args]
    result = run("pat-render", *argv, cwd=tmp_path)
    assert result.returncode == code, result.stderr.decode()
    err = result.stderr.decode()
    assert text in err and "Traceback" not in err
    assert result.stdout == b""


def test_empty_stdin_is_a_data_error(tmp_path):
    result = run("pat-render", "--out", str(tmp_path), input=b"")
    assert result.returncode == 1 and b"no frame to draw" in result.stderr


def test_missing_matplotlib_is_one_line_and_exit_2(work, tmp_path):
    fake = tmp_path / "fake" / "matplotlib"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('no matplotlib here')\n")
    env_script = f"PYTHONPATH={tmp_path / 'fake'} pat-render {work}/frames.cbor --out {tmp_path / 'o'}"
    result = shell(env_script)
    assert result.returncode == 2
    assert result.stderr.decode() == ("pat-render: error: matplotlib is not installed; install the plot extra: "
                                      "pip install 'pattools[plot]'\n")


def test_help_and_parser_do_not_import_matplotlib():
    code = ("import sys; from pattools.cli import render; render.build_parser().format_help(); "
            "sys.exit(1 if 'matplotlib' in sys.modules or 'numba' in sys.modules else 0)")
    import subprocess

    assert subprocess.run([sys.executable, "-c", code], cwd=str(DATA.parent.parent)).returncode == 0


def test_a_picture_drawn_later_in_a_run_equals_one_drawn_alone(work, pictures, tmp_path):
    """Figures are reused from frame to frame (static parts drawn once): same bytes as a fresh figure."""
    d, _ = pictures[0]
    code, paths, err = render(str(work / "frames.cbor"), "--out", str(tmp_path), "--frames", "3", "--seeds", "3")
    assert code == 0, err
    for kind in ("phase", "energy", "tokens"):
        assert (tmp_path / f"3-3-{kind}.png").read_bytes() == (d / f"3-3-{kind}.png").read_bytes(), kind


def test_interrupt_exits_130_and_leaves_only_whole_files(work, tmp_path):
    import signal
    import subprocess

    from tests.helpers import BIN, command_env

    out = tmp_path / "pics"
    proc = subprocess.Popen([str(BIN / "pat-render"), str(work / "frames.cbor"), "--out", str(out), "--frames", "0:4"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=command_env())
    first = proc.stdout.readline()  # one picture written: the command is drawing
    assert first.endswith(b".png\n")
    proc.send_signal(signal.SIGINT)
    rest, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err.decode().strip().splitlines() == ["pat-render: interrupted"]
    written = (first + rest).decode().split()
    assert sorted(os.listdir(out)) == sorted(os.path.basename(p) for p in written)  # no temporary files
    for path in written:
        _png(path)


def test_effect_map_is_centred_at_zero_and_placed_by_patch(work, tmp_path):
    """edited = base except rho + 0.1 on patch 8,16 of seed 3 in every frame: the rho map shows that
    patch in the strongest red of RdBu_r and every other patch in its centre colour (0)."""
    from pattools.io import read_records

    records = [r.document() for r in read_records([str(work / "base.cbor")], validate=False)]
    for record in records:
        if record["seed"] == 3:
            for token in record["tokens"]:
                if token["hdr"]["patchId"] == "8,16,8":
                    token["stats"]["rho"] = min(1.0, token["stats"]["rho"] + 0.1)
    edited = tmp_path / "edited.cbor"
    edited.write_bytes(b"".join(cbor.encode(r) for r in records))
    code, paths, err = render("--base", str(work / "base.cbor"), "--edited", str(edited), "--out", str(tmp_path))
    assert code == 0, err
    table, n = _colour_table("RdBu_r")
    cells = np.full((32, 32), n // 2)  # 0 on a symmetric range: the middle of the table
    cells[16:24, 8:16] = n - 1  # the largest effect: the top of the range
    zoom = 256 // 32
    block = table[cells].repeat(zoom, axis=0).repeat(zoom, axis=1)
    assert _find_block(_png(tmp_path / "3-effect.png"), block) is not None


def test_a_bad_token_value_in_a_drawn_frame_is_named(tmp_path):
    frames = [make_frame(seed=4, frame=k, W=32, H=32, scale=16) for k in range(2)]
    frames[1]["tokens"][2]["stats"]["entropyRate"] = "high"
    src = tmp_path / "bad.cbor"
    src.write_bytes(b"".join(cbor.encode(f) for f in frames))
    code, paths, err = render(str(src), "--out", str(tmp_path / "o"))
    assert code == 1 and paths == []
    assert err == f"pat-render: {src}: record 1: tokens[2].stats.entropyRate: expected a number, got string 'high'\n"


def test_drawn_fields_are_the_lattice_pat_replay_ran(work):
    """Tokens built from the fields pat-render draws for the edited frames equal pat-replay's
    output tokens for them (geometry, rho, entropy, energy, topology): the same steered lattice."""
    from pattools.io import read_records
    from pattools.render.lattice import FieldReader, Selection
    from pattools.tokens.build import build_frame
    from pattools.tokens.frame import STATS_FIELDS

    replayed = {(r.value["seed"], r.value["frame"]): r.tokens.frame()
                for r in read_records([str(work / "edited.cbor")])}
    reader = FieldReader(Selection(((0, None),)), edits=[])
    drawn = list(reader.frames(read_records([str(work / "edited-frames.cbor")], validate=False, columns=True)))
    assert [(f.seed, f.frame) for f in drawn] == sorted(replayed)
    same = [STATS_FIELDS.index(n) for n in ("rho", "energy", "entropyRate")]
    for f in drawn:
        built = build_frame(f.phases.ravel(), f.energy.ravel(), f.W, f.H, int(f.sim["scale"]), f.t).tokens
        want = replayed[(f.seed, f.frame)]
        assert np.array_equal(built.geom, want.geom) and np.array_equal(built.topo, want.topo)
        assert np.array_equal(built.stats[:, same], want.stats[:, same])
        assert (f.edit_id is None) == (f.frame == 0)
