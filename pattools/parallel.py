"""Run independent per-seed tasks serially, in spawned processes, or on a Dask cluster.

Results come back in task order whatever the route, so outputs are byte-identical.
Processes are spawned, not forked: numba's threading layer is not fork-safe.
"""

from __future__ import annotations

import multiprocessing
from contextlib import contextmanager
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from pattools import interrupts, notices
from pattools.errors import UsageError


def run_ordered(function: Callable[..., Any], argument_lists: Sequence[tuple], *, jobs: int = 1,
                scheduler: str | None = None) -> Iterator[Any]:
    """Yield ``function(*args)`` for each args tuple, in order."""
    if scheduler:
        yield from _run_dask(function, argument_lists, scheduler)
    elif jobs > 1 and len(argument_lists) > 1:
        context = multiprocessing.get_context("spawn")
        with _notice_marker() as marker, ProcessPoolExecutor(
                max_workers=min(jobs, len(argument_lists)), mp_context=context, initializer=_worker_setup,
                initargs=(*notices.settings(), marker)) as pool:
            with interrupts.blocked_while_spawning():  # workers start with the signals held
                futures = [pool.submit(function, *args) for args in argument_lists]
            try:
                for future in futures:
                    yield future.result()
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
    else:
        for args in argument_lists:
            yield function(*args)


@contextmanager
def _notice_marker() -> Iterator[str]:
    """A path the first worker that compiles kernels creates, so one line tells the user."""
    import os
    import tempfile

    path = os.path.join(tempfile.gettempdir(), f".pattools-compiling-{os.getpid()}-{id(object())}")
    interrupts.add_temporary(path)
    try:
        yield path
    finally:
        interrupts.discard_temporary(path)
        try:
            os.unlink(path)
        except OSError:
            pass


def _worker_setup(name: str | None = None, quiet: bool = True, marker: str | None = None) -> None:
    """Each worker process runs one seed on one core: the parallelism is across processes.
    On SIGINT/SIGTERM a worker removes its temporary files and leaves without a word (the
    parent, which gets the signal too or passes it on, reports it)."""
    import os

    os.environ["NUMBA_NUM_THREADS"] = "1"
    interrupts.install_worker()  # and delivers a signal held since the worker started
    if name is not None:
        notices.configure(name, quiet=quiet, marker=marker)


def _run_dask(function: Callable[..., Any], argument_lists: Sequence[tuple], address: str) -> Iterator[Any]:
    try:
        from distributed import Client
    except ImportError:
        raise UsageError("--scheduler needs the dask extra: pip install 'pattools[dask]'") from None
    try:
        client = Client(address, timeout="20s")
    except OSError as exc:
        raise UsageError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    try:
        futures = [client.submit(function, *args, pure=False) for args in argument_lists]
        for future in futures:
            yield future.result()
    finally:
        client.close()
