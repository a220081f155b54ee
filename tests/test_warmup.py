"""The warm-up compiles through the commands' own code paths and refuses unknown groups."""

from __future__ import annotations

import subprocess
import sys

from tests.helpers import ROOT, command_env


def test_warmup_groups_run_and_unknown_group_is_usage_error():
    ok = subprocess.run([sys.executable, "-m", "pattools.warmup", "tokens", "replay"], capture_output=True,
                        env=command_env(), cwd=ROOT, timeout=600)
    assert ok.returncode == 0, ok.stderr.decode()
    bad = subprocess.run([sys.executable, "-m", "pattools.warmup", "nope"], capture_output=True,
                         env=command_env(), cwd=ROOT, timeout=60)
    assert bad.returncode == 2 and b"unknown group 'nope'" in bad.stderr
