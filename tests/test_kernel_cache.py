"""The compiled-kernel cache is keyed by every kernel source: numba checks a cached kernel
against its own file only, so a kernel whose callee in another file changed would
otherwise load the callee's old machine code."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from pattools.kernels._jit import cache_directory_name

KERNELS = Path(__file__).resolve().parent.parent / "pattools" / "kernels"


def copy_sources(to: Path) -> Path:
    to.mkdir()
    for source in KERNELS.glob("*.py"):
        shutil.copy(source, to / source.name)
    return to


def test_name_follows_every_source(tmp_path):
    first = copy_sources(tmp_path / "a")
    name = cache_directory_name(first)
    assert name == cache_directory_name(copy_sources(tmp_path / "b")) == cache_directory_name(KERNELS)
    callee = first / "patches.py"  # a callee of frame_reduce, which lives in tokens.py
    callee.write_text(callee.read_text() + "\n# changed\n")
    assert cache_directory_name(first) != name
    (first / "patches.py").unlink()
    assert cache_directory_name(first) != name


def run_python(code: str, env: dict) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, env=env, check=True,
                          text=True).stdout.strip()


def test_commands_use_the_directory_of_these_sources_unless_the_user_chose_one(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    code = "import os, pattools.kernels._jit; print(os.environ['NUMBA_CACHE_DIR'])"
    chosen = Path(run_python(code, env))
    assert chosen.name == cache_directory_name(KERNELS) and chosen.is_dir()
    env["NUMBA_CACHE_DIR"] = str(tmp_path / "mine")
    assert run_python(code, env) == str(tmp_path / "mine")


def test_a_new_state_removes_the_older_directories(tmp_path, monkeypatch):
    from pattools.kernels import _jit

    root = tmp_path / "cache"
    (root / "numba-0000000000000000").mkdir(parents=True)
    (root / "old.kernel-1.py311.nbi").write_bytes(b"")
    (root / "keep.cpython-311.pyc").write_bytes(b"")
    _jit._remove_older(root, "numba-1111111111111111")
    assert sorted(p.name for p in root.iterdir()) == ["keep.cpython-311.pyc"]
