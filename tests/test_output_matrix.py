"""Every command's output bytes, pinned: a matrix of real pipelines whose outputs are hashed.

Why: restructuring the core (one frame path, one codec, one apply) must not change a single
output byte. Each case is a bash pipeline run in a fresh directory with the commands on
PATH; its stdout and the files it names are hashed (SHA-256) and compared with
``tests/data/output_matrix.json``. Regenerate (only for an intended output change, and say
so in the commit) with ``PATTOOLS_REGENERATE=1 pytest tests/test_output_matrix.py``.

Pictures depend on the plotting library's version, so the render cases carry the version
their hashes were made with and are compared only under that version.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest

from tests.helpers import DATA, shell

MATRIX = DATA / "output_matrix.json"
REGENERATE = os.environ.get("PATTOOLS_REGENERATE") == "1"

# Inputs every case may use, made once in the case directory.
SETUP = """
pat-export --seeds 3:5 --W 48 --H 48 --scale 16 --frames 6 > base.cbor
pat-baseline --prompt "increase coherence on rim, flip chirality" --frames 2:5 base.cbor > edit.cbor
pat-baseline --prompt "reduce entropy in the center" --editor random --random-seed 5 base.cbor > random-edit.cbor
"""

# name -> (pipeline, files it writes besides stdout)
CASES: dict[str, tuple[str, tuple[str, ...]]] = {
    "export-cbor": ("pat-export --seeds 1:3 --W 40 --H 40 --scale 8 --frames 3 --metrics", ()),
    "export-jsonl": ("pat-export --seeds 9 --W 64 --H 64 --scale 32 --frames 4 --steps-per-frame 2 "
                     "--noise-amp 0.05 --noise-seed 3 --param Kbase=1.1 --format jsonl", ()),
    "export-reference-kernel": ("pat-export --seeds 2 --W 32 --H 32 --scale 16 --frames 2 --kernel reference", ()),
    "export-out": ("pat-export --seeds 1:4 --W 32 --H 32 --scale 16 --frames 5 --shard-size 2 --metrics "
                   "--out shards -q && ls shards",
                   ("shards/manifest.json", "shards/pat_1-0000.cbor", "shards/pat_1-0000.json",
                    "shards/pat_1-0000.sha256", "shards/pat_3-0002.cbor", "shards/pat_3-0002.sha256")),
    "export-default-grid": ("pat-export --seeds 1234 --frames 2", ()),
    "cat-jsonl": ("pat-cat --format jsonl base.cbor", ()),
    "cat-jsonl-to-cbor": ("pat-cat --format jsonl base.cbor | pat-cat --format cbor", ()),
    "cat-select": ("pat-cat --seeds 4 --frames 1:4 base.cbor", ()),
    "cat-count": ("pat-cat --count base.cbor", ()),
    "cat-summary": ("pat-cat --summary --format jsonl base.cbor", ()),
    "cat-original": (f"pat-cat --format jsonl {DATA / 'original_shards'} 2>/dev/null", ()),
    "baseline-heuristic": ("cat edit.cbor", ()),
    "baseline-jsonl": ("pat-baseline --prompt 'increase energy on rim, raise curvature in the center' "
                       "--format jsonl base.cbor", ()),
    "baseline-random": ("cat random-edit.cbor", ()),
    "baseline-null": ("pat-baseline --prompt 'decrease arousal' --editor null base.cbor", ()),
    "apply": ("pat-apply --edit edit.cbor base.cbor", ()),
    "apply-jsonl": ("pat-cat --format jsonl base.cbor | pat-apply --edit random-edit.cbor --format jsonl", ()),
    "apply-clip": ("pat-apply --edit edit.cbor --clip base.cbor", ()),
    "replay-delta": ("pat-apply --edit edit.cbor base.cbor | pat-replay", ()),
    "replay-delta-edit": ("pat-replay --edit edit.cbor base.cbor", ()),
    "replay-delta-metrics": ("pat-replay --edit random-edit.cbor --metrics --format jsonl base.cbor", ()),
    "replay-tokens": ("pat-apply --edit edit.cbor base.cbor | pat-replay --decoder tokens", ()),
    "replay-tokens-edit": ("pat-replay --decoder tokens --edit edit.cbor base.cbor", ()),
    "replay-live": ("pat-apply --edit edit.cbor base.cbor | pat-replay --decoder live", ()),
    "replay-live-edit": ("pat-replay --decoder live --edit random-edit.cbor --frames 1:5 base.cbor", ()),
    "replay-zero": ("pat-replay base.cbor", ()),
    "replay-fields": ("pat-replay --edit edit.cbor --fields fields base.cbor > /dev/null && ls fields", ()),
    "score": ("pat-replay base.cbor > b.cbor && pat-replay --edit edit.cbor base.cbor > e.cbor && "
              "pat-score --base b.cbor --edited e.cbor --edit edit.cbor --format jsonl", ()),
    "score-original": ("pat-score --original base.cbor --edit edit.cbor --format jsonl", ()),
    "pack": ("pat-pack --prompt 'increase coherence on rim' --context 2 --horizon 1 --targets baseline "
             "--split val=0.5 base.cbor", ()),
    "pack-jsonl-edits": ("pat-pack --targets edit.cbor --context 2 --horizon 2 --format jsonl base.cbor", ()),
    "pack-npz": ("pat-pack --prompt 'reduce entropy' --targets baseline --context 2 --horizon 1 "
                 "--split val=0.5 --format npz --out pack.npz base.cbor", ("pack.npz",)),
    "nupca-synthetic": ("nupca-step --synthetic rotations,32,8,40,3 > obs.cbor && nupca-step --init 32,8 > s0.cbor "
                        "&& nupca-step --state s0.cbor --state-out s1.cbor --rest-every 10 --trace full obs.cbor",
                        ("s1.cbor",)),
    "nupca-ar1-jsonl": ("nupca-step --synthetic ar1,16,4,30,2 | nupca-step --init 16,4 > s.cbor; "
                        "nupca-step --synthetic ar1,16,4,30,2 | nupca-step --state s.cbor --format jsonl", ("s.cbor",)),
    "nupca-from-pat": ("nupca-step --from-pat --state-out agent.cbor --format jsonl base.cbor", ("agent.cbor",)),
    "diff-same": ("pat-diff base.cbor base.cbor", ()),
    "diff-different": ("pat-apply --edit edit.cbor base.cbor > a.cbor; pat-diff --format jsonl base.cbor a.cbor; "
                       "echo exit $?", ()),
    "render": ("pat-render --out pics --frames 5 --kinds phase,energy,tokens base.cbor -q && ls pics",
               ("pics/3-5-phase.png", "pics/3-5-energy.png", "pics/4-5-tokens.png")),
    "render-effects": ("pat-replay base.cbor > b.cbor && pat-replay --edit edit.cbor base.cbor > e.cbor && "
                       "pat-render --base b.cbor --edited e.cbor --edit edit.cbor --out fx -q && ls fx", ("@fx",)),
    "api": ("\"$PATTOOLS_PYTHON\" - <<'EOF'\n"
            "import hashlib, pattools\n"
            "frames = pattools.export_frames(seeds=7, W=32, H=32, frames=4, scale=16)\n"
            "edits = pattools.baseline_edits(frames, 'increase coherence on rim')\n"
            "edited = pattools.apply_edits(frames, edits)\n"
            "replayed = pattools.replay_frames(frames, edit=edits)\n"
            "scores = pattools.score_edits(frames, edit=edits)\n"
            "for name, records in [('frames', frames), ('edits', edits), ('edited', edited),\n"
            "                      ('replayed', replayed), ('scores', scores)]:\n"
            "    print(name, len(records), hashlib.sha256(pattools.dumps(records)).hexdigest())\n"
            "print('jsonl', hashlib.sha256(pattools.dumps(edited, format='jsonl')).hexdigest())\n"
            "print('loads', pattools.loads(pattools.dumps(frames)) == frames)\n"
            "EOF", ()),
}

RENDER_CASES = ("render", "render-effects")


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _outputs(case_dir: Path, stdout: bytes, files: tuple[str, ...]) -> dict[str, str]:
    hashes = {"stdout": _digest(stdout)}
    for name in files:
        if name.startswith("@"):  # every file of a directory
            for path in sorted((case_dir / name[1:]).rglob("*")):
                if path.is_file():
                    hashes[str(path.relative_to(case_dir))] = _digest(path.read_bytes())
        else:
            hashes[name] = _digest((case_dir / name).read_bytes())
    return hashes


def _plot_version() -> str:
    import matplotlib

    return matplotlib.__version__


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("matrix-inputs")
    result = shell(SETUP, cwd=directory)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return directory


@pytest.fixture(scope="module")
def recorded() -> dict:
    if REGENERATE and not MATRIX.exists():
        return {}
    return json.loads(MATRIX.read_text())


@pytest.mark.parametrize("name", sorted(CASES))
def test_outputs_unchanged(name: str, inputs: Path, recorded: dict, tmp_path: Path) -> None:
    pipeline, files = CASES[name]
    for item in inputs.iterdir():
        shutil.copy(item, tmp_path / item.name)
    result = shell(pipeline, cwd=tmp_path)
    assert result.returncode == 0, f"{pipeline}\n{result.stderr.decode(errors='replace')}"
    hashes = _outputs(tmp_path, result.stdout, files)
    if name in RENDER_CASES:
        hashes["matplotlib"] = _plot_version()
    if REGENERATE:
        recorded[name] = hashes
        MATRIX.write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n")
        return
    assert name in recorded, f"no recorded hashes for {name}: regenerate"
    expected = recorded[name]
    if name in RENDER_CASES and expected.get("matplotlib") != hashes["matplotlib"]:
        pytest.skip(f"pictures recorded with matplotlib {expected.get('matplotlib')}, "
                    f"this is {hashes['matplotlib']}")
    assert hashes == expected, f"output of `{pipeline}` changed"


def test_matrix_covers_every_command() -> None:
    from pattools.cli.commands import COMMANDS

    pipelines = " ".join(pipeline for pipeline, _ in CASES.values())
    for command in COMMANDS:
        assert f"{command.name} " in pipelines, f"{command.name} has no case in the output matrix"
    assert "pattools." in pipelines  # the Python API
