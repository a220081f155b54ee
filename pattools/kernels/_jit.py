"""One numba configuration for every kernel: cached, never fastmath (bit-exactness)."""

from __future__ import annotations

import os

# OpenMP's idle threads spin by default; in pipelines (export | replay) and with --jobs the
# machine is oversubscribed and spinning makes 2 threads several times slower than 1.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def _full_width_vectors() -> None:
    """Let LLVM use 512-bit vectors on AVX-512 CPUs, where its tuning prefers 256-bit ones.

    The row loops of the lattice and token kernels are long and regular: measured at
    96x96 on one thread, the step takes 91 instead of 126 us and the token pass 240
    instead of 269 us. The width changes speed only: with no fastmath LLVM neither
    reorders nor contracts floating-point operations, so each element gets the same bits.
    numba reads the features when it is imported; a NUMBA_CPU_NAME or NUMBA_CPU_FEATURES
    the user set wins."""
    if "NUMBA_CPU_FEATURES" in os.environ or "NUMBA_CPU_NAME" in os.environ:
        return
    import llvmlite.binding

    features = llvmlite.binding.get_host_cpu_features().flatten()
    if "+avx512f" in features.split(","):
        os.environ["NUMBA_CPU_FEATURES"] = features + ",-prefer-256-bit"


_full_width_vectors()

import numba  # noqa: E402

from pattools.kernels.compile_events import compile_started  # noqa: E402

JIT_OPTIONS = {"cache": True, "fastmath": False, "nogil": True, "error_model": "numpy"}


def kernel(*args, **kwargs):
    """``numba.njit`` with the project's options; use as ``@kernel`` or ``@kernel(parallel=True)``."""
    options = dict(JIT_OPTIONS)
    options.update(kwargs)
    if args and callable(args[0]) and len(args) == 1 and not kwargs:
        return numba.njit(**options)(args[0])
    return numba.njit(*args, **options)


prange = numba.prange


def thread_count() -> int:
    """numba's thread count for this thread (kernels read numba through this module only,
    so that the configuration above is in place before numba is imported)."""
    return numba.get_num_threads()


# Below this many cells a frame's parallel regions are too short to pay for waking the
# sleeping worker threads (measured: 96x96 export 0.70 ms/frame on one thread, 0.93 on two;
# 192x192 2.5 vs 1.8 ms).
SERIAL_BELOW_CELLS = 160 * 160


def use_threads_for(cells: int) -> int:
    """Set this thread's numba thread count for a grid of ``cells``; returns the count."""
    count = 1 if cells < SERIAL_BELOW_CELLS else numba.config.NUMBA_NUM_THREADS
    numba.set_num_threads(count)
    return count


class _CompileListener(numba.core.event.Listener):
    """Passes numba's start of a real compilation on to ``compile_events``' callbacks."""

    def on_start(self, event) -> None:
        compile_started()

    def on_end(self, event) -> None:
        return None


numba.core.event.register("numba:compile", _CompileListener())
