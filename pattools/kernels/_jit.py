"""One numba configuration for every kernel: cached, never fastmath (bit-exactness)."""

from __future__ import annotations

import os
from pathlib import Path

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


def _cache_per_kernel_sources() -> None:
    """Keep compiled kernels in a cache directory named by a digest of every kernel source.

    numba checks a cached kernel against its own file only, so a kernel whose callee in
    another file changed (an upgrade, a checkout) would load the callee's old machine code
    (numba's documented limitation). One directory per state of ``pattools/kernels``
    recompiles every kernel once when any of them changes; older directories are removed
    then. A NUMBA_CACHE_DIR the user set wins.
    """
    if "NUMBA_CACHE_DIR" in os.environ:
        return
    here = Path(__file__).resolve().parent
    name = cache_directory_name(here)
    for root in (here / "__pycache__", _user_cache_root()):
        directory = root / name
        try:
            if not directory.is_dir():
                directory.mkdir(parents=True, exist_ok=True)
                _remove_older(root, name)
        except OSError:
            continue
        if os.access(directory, os.W_OK):
            os.environ["NUMBA_CACHE_DIR"] = str(directory)
            return


def cache_directory_name(kernel_dir: Path) -> str:
    """``numba-`` and a digest of the names and bytes of every ``*.py`` in ``kernel_dir``
    (about 0.3 MB read, under a millisecond)."""
    import hashlib

    digest = hashlib.sha256()
    for source in sorted(kernel_dir.glob("*.py")):
        digest.update(source.name.encode() + b"\0" + source.read_bytes() + b"\0")
    return "numba-" + digest.hexdigest()[:16]


def _user_cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "pattools"


def _remove_older(root: Path, keep: str) -> None:
    """Other kernel-source states' cache directories, and numba's own files from before
    the directories (best effort)."""
    import shutil

    for other in root.glob("numba-*"):
        if other.name != keep:
            shutil.rmtree(other, ignore_errors=True)
    for pattern in ("*.nbi", "*.nbc"):
        for stale in root.glob(pattern):
            stale.unlink(missing_ok=True)


_full_width_vectors()
_cache_per_kernel_sources()

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
