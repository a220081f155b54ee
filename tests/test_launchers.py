"""bin/ launchers without the dependencies installed: one line saying what to run, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.helpers import BIN


@pytest.mark.parametrize("argv", [["pat-cat", "--help"], ["pat-export", "--frames", "1"]])
def test_launcher_without_dependencies_says_what_to_run(tmp_path, argv):
    python = tmp_path / "python-without-site-packages"
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" -S "$@"\n')  # -S: no site-packages at all
    python.chmod(0o755)
    env = dict(os.environ, PATTOOLS_PYTHON=str(python))
    result = subprocess.run([str(BIN / argv[0]), *argv[1:]], capture_output=True, env=env, timeout=60)
    message = result.stderr.decode()
    assert result.returncode == 1
    assert result.stdout == b""
    assert "Traceback" not in message and len(message.strip().splitlines()) == 1, message
    assert message.startswith(f"{argv[0]}: this Python") and "make demo" in message and "PATTOOLS_PYTHON" in message
