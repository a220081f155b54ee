"""Test-session settings: CI runs property tests derandomized, so a red run reproduces."""

from __future__ import annotations

import os

import pattools.kernels._jit  # noqa: F401  (before numba, as in every command: the same kernel configuration)
from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
