"""One numba configuration for every kernel: cached, never fastmath (bit-exactness)."""

from __future__ import annotations

import os

# OpenMP's idle threads spin by default; in pipelines (export | replay) and with --jobs the
# machine is oversubscribed and spinning makes 2 threads several times slower than 1.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numba  # noqa: E402

JIT_OPTIONS = {"cache": True, "fastmath": False, "nogil": True, "error_model": "numpy"}


def kernel(*args, **kwargs):
    """``numba.njit`` with the project's options; use as ``@kernel`` or ``@kernel(parallel=True)``."""
    options = dict(JIT_OPTIONS)
    options.update(kwargs)
    if args and callable(args[0]) and len(args) == 1 and not kwargs:
        return numba.njit(**options)(args[0])
    return numba.njit(*args, **options)


prange = numba.prange
