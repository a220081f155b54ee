"""Ctrl-C and SIGTERM for every command: exit 130 / 143, one line, no traceback, no partial file.

Why not Python's default: its SIGINT handler raises KeyboardInterrupt at the next
bytecode the main thread runs, and that may be Python code a compiled numba kernel calls
back into (the boxing of its return value unpickles constants through
``numba.core.serialize._numba_unpickle``). The kernel's C wrapper then returns a result
with the exception still set: ``SystemError: CPUDispatcher(...) returned a result with an
exception set`` and a traceback, and now and then a crash when the interpreter tears down
while numba's worker threads are woken. No exception raised at an arbitrary moment can be
caught cleanly everywhere, so none is raised.

What happens instead (``install``, called by the launcher's first module and by the
command entry wrapper every command shares):
- the handler runs in the main thread between bytecodes and never raises;
- inside a critical section (a record being written to stdout, a temporary file being
  created and registered) it only notes the signal, and the section's end acts on it, so
  stdout ends at a complete record;
- otherwise it removes the temporary files of unfinished atomic writes, restores the
  terminal (progress bar), stops worker processes (they clean up their own temporary
  files the same way), flushes the complete records already buffered for stdout, writes
  one line and leaves with ``os._exit``: no interpreter teardown, no thread woken late;
- a write blocked on a pipe nobody reads is waited for at most DEFER_SECONDS (or until
  a second signal), the clean-up at most CLEANUP_SECONDS;
- after the run, the signals are ignored while the interpreter shuts down (``finishing``);
- ``--jobs`` workers start with the signals blocked and handle them the same way, silently.
Finished files are always whole (atomic rename), so an interrupted ``--out`` export
continues with ``--resume``.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}
WORDS = {signal.SIGINT: "interrupted", signal.SIGTERM: "terminated"}
# The longest a signal waits for a critical section (a write to a pipe nobody reads).
DEFER_SECONDS = 2.0
# Worker processes get this long to clean up (a loaded machine may not run them at once),
# then SIGKILL; the whole clean-up is bounded by CLEANUP_SECONDS, then the process leaves.
CHILD_GRACE_SECONDS = 5.0
CLEANUP_SECONDS = 8.0
_SIGNALS = {signal.SIGINT, signal.SIGTERM}


class _State:
    name: str | None = None  # the command; None: not installed (library use, tests in-process)
    worker: bool = False  # a worker process: leave silently, the parent reports
    depth: int = 0  # nesting of critical sections
    pending: int | None = None  # a signal noted inside a critical section
    leaving: bool = False
    temporaries: set[str] = set()
    cleanups: dict[int, Callable[[], None]] = {}
    flush: Callable[[], None] | None = None


def install(name: str, flush: Callable[[], None] | None = None) -> None:
    """Handle SIGINT and SIGTERM for the command ``name`` for the rest of the process.

    ``flush`` writes out the complete records buffered for stdout. A SIGINT that is ignored
    when the process starts (a background job of a non-interactive shell) stays ignored.
    """
    _State.name = name
    _State.flush = flush
    _set_handlers()


def install_worker() -> None:
    """The same handling in a worker process (``--jobs``): clean up and exit without a word.

    Workers start with SIGINT and SIGTERM blocked (``blocked_while_spawning``), so a Ctrl-C
    while one is still importing waits for this handler instead of printing a traceback."""
    _State.name = "worker"
    _State.worker = True
    _set_handlers()
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)


@contextmanager
def blocked_while_spawning() -> Iterator[None]:
    """Hold SIGINT and SIGTERM in this thread while it starts worker processes: they
    inherit the mask and unblock once their handler is installed (``install_worker``).
    This process gets a signal held meanwhile as soon as the block ends."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def installed() -> bool:
    return _State.name is not None


def finishing() -> None:
    """The command is done: ignore SIGINT and SIGTERM while the interpreter shuts down.

    Python resets handled signals to their default action during its teardown, and
    numba's threads are stopped then; a signal in that window would otherwise kill the
    process with no exit code of ours (-2, -15). The run is complete: its exit code stands.
    """
    if _State.name is None:
        return
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _set_handlers() -> None:
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        signal.signal(signal.SIGINT, _handle)
    signal.signal(signal.SIGTERM, _handle)


def _handle(signum: int, _frame: object) -> None:
    if _State.leaving:
        # cleaning up already (bounded by the alarm): a second signal, say the parent
        # passing on the Ctrl-C a worker got from the terminal, must not cut that short
        return
    if _State.depth > 0 and _State.pending is None:
        _State.pending = signum  # a second signal, or the alarm, ends the wait
        _arm_alarm(lambda: leave(signum))
        return
    leave(_State.pending or signum)


def _arm_alarm(then: Callable[[], None], seconds: float = DEFER_SECONDS) -> None:
    try:
        signal.signal(signal.SIGALRM, lambda _s, _f: then())
        signal.setitimer(signal.ITIMER_REAL, seconds)
    except (OSError, ValueError):
        pass


@contextmanager
def critical() -> Iterator[None]:
    """A section a signal must not cut (its end acts on a signal noted meanwhile)."""
    _State.depth += 1
    try:
        yield
    finally:
        _State.depth -= 1
        if _State.depth == 0 and _State.pending is not None:
            leave(_State.pending)


def add_temporary(path: str) -> None:
    """A temporary file to remove if the process is stopped before it is renamed into place."""
    _State.temporaries.add(path)


def discard_temporary(path: str) -> None:
    _State.temporaries.discard(path)


def add_cleanup(callback: Callable[[], None]) -> int:
    """Run ``callback`` (best effort) before leaving on a signal; returns a key for ``remove_cleanup``."""
    key = id(callback)
    _State.cleanups[key] = callback
    return key


def remove_cleanup(key: int) -> None:
    _State.cleanups.pop(key, None)


def leave(signum: int) -> None:
    """Clean up and end the process with the signal's exit code (never returns)."""
    if _State.leaving:  # re-entered from the clean-up itself: go now
        _final_words(signum)
    _State.leaving = True
    _arm_alarm(lambda: _final_words(signum), CLEANUP_SECONDS)
    for path in list(_State.temporaries):
        try:
            os.unlink(path)
        except OSError:
            pass
    for callback in list(_State.cleanups.values()):
        _quietly(callback)
    # Each step is best effort: the signal may have come while the main thread was still
    # importing multiprocessing (a partially initialised module raises on first use).
    _quietly(lambda: _stop_children(signum))
    _quietly(_release_semaphores)
    if _State.flush is not None and not _State.worker:
        _quietly(_State.flush)
    _final_words(signum)


def _final_words(signum: int) -> None:
    """The one line, then the exit code (never returns)."""
    if not _State.worker and _State.name is not None:
        _write_stderr(f"{_State.name}: {WORDS.get(signum, 'stopped by a signal')}\n")
    os._exit(EXIT_CODES.get(signum, 128 + signum))


def _release_semaphores() -> None:
    """Unlink the pool's named semaphores now: the resource tracker would do it after we
    are gone, with a warning about "leaked semaphore objects" on stderr."""
    if "multiprocessing.util" in sys.modules:
        sys.modules["multiprocessing.util"]._run_finalizers(0)


def _quietly(callback: Callable[[], None]) -> None:
    try:
        callback()
    except BaseException:  # noqa: BLE001 - leaving anyway; a broken pipe or a busy lock must not stop it
        pass


def _write_stderr(text: str) -> None:
    """Straight to fd 2: the handler may run while sys.stderr's buffer is in use."""
    try:
        os.write(2, text.encode(errors="replace"))
    except OSError:
        pass


def _stop_children(signum: int) -> None:
    """Pass the signal to worker processes and wait for them (they remove their own temporaries)."""
    if "multiprocessing" not in sys.modules:
        return
    import multiprocessing

    try:
        children = [child.pid for child in multiprocessing.active_children() if child.pid]
    except BaseException:  # noqa: BLE001
        return
    for pid in children:
        try:
            os.kill(pid, signum)
        except OSError:
            pass
    deadline = time.monotonic() + CHILD_GRACE_SECONDS
    waiting = set(children)
    while waiting and time.monotonic() < deadline:
        for pid in list(waiting):
            try:
                done, _status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done:
                waiting.discard(pid)
        if waiting:
            time.sleep(0.01)
    for pid in waiting:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


class GuardedOutput:
    """stdout for a command: each write is a critical section, so a signal never cuts a record."""

    def __init__(self, stream) -> None:
        self.stream = stream

    def write(self, data) -> int:
        with critical():
            return self.stream.write(data)

    def flush(self) -> None:
        with critical():
            self.stream.flush()

    def __getattr__(self, name: str):
        return getattr(self.stream, name)
