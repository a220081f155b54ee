"""The --out directory of pat-export: one export per directory, never two mixed.

An export is defined by its manifest's fields (seeds, grid, frames, scale, shard size, sim
with params and noise, codebook, metrics); provenance, createdAt and commit describe a
run, and --jobs, --part, --scheduler, -q/-v do not appear at all. A directory that holds
an export is written again only
- with ``--resume`` and the same defining fields (shards whose checksum verifies are kept),
- by another ``--part`` of the same export (parts may run concurrently), or
- with ``--force``, which removes every shard file the new manifest does not describe;
  the described ones are rewritten (atomically, each) by the run, or by the other parts.
Everything is decided before any work is done.
"""

from __future__ import annotations

import os
from pathlib import Path

from pattools.errors import DataError, UsageError
from pattools.io.shards import (MANIFEST_NAME, MANIFEST_OPERATIONAL, OLD_CHECKSUM_PATTERN, SHARD_PATTERN,
                                described_stems, read_manifest, same_data, write_manifest)

_SHARD_FILE_SUFFIXES = (".cbor", ".json", ".sha256", ".cbor.sha256")


def prepare_export_directory(out: str, manifest: dict, *, resume: bool, force: bool, part: bool) -> None:
    """Check (and with --force clear) ``out`` for the export ``manifest``, then write the manifest."""
    directory = _usable_directory(out)
    names = os.listdir(directory)
    if _holds_export(names):
        if force:
            _remove_undescribed(directory, names, manifest)
        else:
            _check_same_export(directory, out, manifest, resume=resume, part=part)
    write_manifest(directory, manifest)


def _usable_directory(out: str) -> Path:
    """``out`` created if needed, and writable (an error naming it otherwise, before any work)."""
    directory = Path(out)
    if directory.exists() and not directory.is_dir():
        raise DataError("expected a directory for --out, got a file", input=out)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DataError(f"cannot create the --out directory ({err.strerror})", input=out) from None
    if not os.access(directory, os.W_OK | os.X_OK):
        raise DataError("cannot write into the --out directory (permission denied)", input=out)
    return directory


def _holds_export(names: list[str]) -> bool:
    return any(name == MANIFEST_NAME or SHARD_PATTERN.fullmatch(name) or OLD_CHECKSUM_PATTERN.fullmatch(name)
               for name in names)


def _check_same_export(directory: Path, out: str, manifest: dict, *, resume: bool, part: bool) -> None:
    try:
        old = read_manifest(directory)
    except DataError as err:
        raise UsageError(f"{out} holds shards but no readable manifest.json ({err.message}); "
                         "--force replaces them") from None
    if "sim" in old and "metrics" not in old:
        raise UsageError(f"{out} holds an export by an earlier pattools version (checksum files "
                         "pat_*.cbor.sha256); re-export it with --force")
    difference = defining_difference(old, manifest)
    if difference is None:
        if resume or part:
            return
        raise UsageError(f"{out} holds this export already; --resume completes it (keeping shards whose "
                         "checksum verifies), --force rewrites it")
    if resume:
        raise UsageError(f"--resume: the export in {out} was made with other flags ({difference}); "
                         "--force replaces it")
    raise UsageError(f"{out} holds another export ({difference}); --force replaces it, or choose another --out")


def defining_difference(old: dict, new: dict, path: str = "") -> str | None:
    """``sim.dt: the export has 0.03, these flags give 0.04`` for the first defining field
    that differs (new's key order), or None when the exports are the same."""
    keys = [key for key in new if not (not path and key in MANIFEST_OPERATIONAL)]
    keys += [key for key in old if key not in new and not (not path and key in MANIFEST_OPERATIONAL)]
    for key in keys:
        name = f"{path}.{key}" if path else key
        if key not in old or key not in new:
            return f"{name}: the export has {_shown(old, key)}, these flags give {_shown(new, key)}"
        if isinstance(old[key], dict) and isinstance(new[key], dict):
            inner = defining_difference(old[key], new[key], name)
            if inner is not None:
                return inner
        elif not same_data(old[key], new[key]):
            return f"{name}: the export has {_shown(old, key)}, these flags give {_shown(new, key)}"
    return None


def _shown(document: dict, key: str) -> str:
    if key not in document:
        return "none"
    value = document[key]
    if isinstance(value, list) and len(value) > 6:
        return f"{len(value)} values"
    return repr(value).replace("True", "true").replace("False", "false")


def _remove_undescribed(directory: Path, names: list[str], manifest: dict) -> None:
    """--force: remove the old manifest's shard files that the new manifest does not describe."""
    keep = {stem for _seed, _segment, stem in described_stems(manifest)}
    for name in names:
        stem = _shard_stem_of(name)
        if stem is not None and stem not in keep:
            try:
                (directory / name).unlink()
            except FileNotFoundError:
                pass  # another --part removed it
            except OSError as err:
                raise DataError(f"cannot remove a shard file of the old export ({err.strerror})",
                                input=str(directory / name)) from None


def _shard_stem_of(name: str) -> str | None:
    for suffix in _SHARD_FILE_SUFFIXES[::-1]:
        if name.endswith(suffix) and SHARD_PATTERN.fullmatch(name[: -len(suffix)] + ".cbor"):
            return name[: -len(suffix)]
    return None
