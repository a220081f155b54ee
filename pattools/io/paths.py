"""Paths: output paths checked before any work (docs/design.md §3: failing is loud, early
and clean), and the bytes of the small input files beside the record streams.

A command calls these for every path it will write (``--out``, ``--state-out``, ``--fields``,
...) before it reads a record or runs a kernel. A path that cannot be written is a usage
error (exit 2) with one line naming the flag, the path and why; nothing is left behind.
The check is real: a temporary file is created (and removed) where the output will go,
so a read-only file system, /proc or a missing permission is caught whatever the user id.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from pattools.errors import DataError, UsageError


def read_file_bytes(path: str | Path) -> bytes:
    """A small input file's bytes (a bounds, regions, prompts or config file); a path that
    cannot be read is a DataError naming it, in the words the record readers use."""
    try:
        return Path(path).read_bytes()
    except OSError as err:
        raise DataError(_reason(err), input=str(path)) from None


def check_output_file(path: str, flag: str) -> None:
    """``path`` can be written atomically (its directory exists and takes new files)."""
    target = Path(path)
    if path and target.is_dir():
        raise UsageError(f"{flag} {path}: is a directory (expected a file)")
    if path == "" or target.name in ("", ".", ".."):
        raise UsageError(f"{flag} {path!r}: expected a file name")
    parent = target.parent
    if not parent.exists():
        raise UsageError(f"{flag} {path}: no such directory {str(parent)!r}")
    if not parent.is_dir():
        raise UsageError(f"{flag} {path}: {str(parent)!r} is not a directory")
    _probe(parent, flag, path)


def check_output_directory(path: str, flag: str) -> None:
    """``path`` is a directory that takes new files, or can be made one (it is then created)."""
    target = Path(path)
    if path == "":
        raise UsageError(f"{flag} '': expected a directory name")
    if target.exists() and not target.is_dir():
        raise UsageError(f"{flag} {path}: is a file (expected a directory)")
    if not target.exists():
        ancestor = target.parent
        while not ancestor.exists() and ancestor != ancestor.parent:
            ancestor = ancestor.parent
        if not ancestor.is_dir():
            raise UsageError(f"{flag} {path}: {str(ancestor)!r} is not a directory")
        try:
            target.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise UsageError(f"{flag} {path}: cannot create the directory: {_reason(err)}") from None
    _probe(target, flag, path)


def _probe(directory: Path, flag: str, path: str) -> None:
    try:
        handle, name = tempfile.mkstemp(prefix=".pattools-probe.", suffix=".tmp", dir=directory)
    except OSError as err:
        raise UsageError(f"{flag} {path}: cannot write in {str(directory)!r}: {_reason(err)}") from None
    os.close(handle)
    try:
        os.unlink(name)
    except OSError:
        pass


def _reason(err: OSError) -> str:
    if err.errno == errno.ENOENT:
        return "no such file or directory"
    if err.errno == errno.EISDIR:
        return "is a directory"
    if err.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if err.errno == errno.EROFS:
        return "read-only file system"
    return (err.strerror or str(err)).lower()
