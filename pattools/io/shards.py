"""Shard directories: file naming, manifest, checksum files, sidecars, writing one shard.

Layout (compatible with the original exporter, docs in README "Shard directories"):
``manifest.json`` describes the whole export; per seed and segment
``pat_<seed>-<segment:04d>.cbor`` holds one PAT_SHARD record, with a JSON sidecar
``pat_<seed>-<segment:04d>.json`` in the original's shape and a checksum file
``pat_<seed>-<segment:04d>.sha256`` holding ``<hex>  <shard file>`` (``sha256sum -c``
verifies it; its first 64 characters are what the original writes there, the bare hex).

Reading a directory is pattools.io.shard_reader; refusing to mix two exports in one
directory is pattools.io.shard_target.
"""

from __future__ import annotations

import hashlib
import math
import re
from pathlib import Path
from typing import TYPE_CHECKING

from pattools import schema
from pattools.errors import DataError
from pattools.io import jsonl
from pattools.io.atomic import write_atomic

if TYPE_CHECKING:
    from pattools.tokens.frame import TokenFrame

SHARD_PATTERN = re.compile(r"pat_(\d+)-(\d+)\.cbor")
# checksum files of pattools before the original's naming was adopted
OLD_CHECKSUM_PATTERN = re.compile(r"pat_(\d+)-(\d+)\.cbor\.sha256")
MANIFEST_NAME = "manifest.json"
# what the original exporter runs with and does not record in its manifest
EXPORT_DEFAULTS = {"dt": 0.03, "stepsPerFrame": 1}
# manifest fields that describe a run, not the export's data (ignored when comparing)
MANIFEST_OPERATIONAL = ("provenance", "createdAt", "commit")
_HEX = re.compile(r"[0-9a-f]{64}")


def shard_stem(seed: int, segment: int) -> str:
    return f"pat_{seed}-{segment:04d}"


def segment_count(frames: int, shard_size: int) -> int:
    return math.ceil(frames / shard_size)


def segment_frames(segment: int, frames: int, shard_size: int) -> range:
    """The frame numbers of one segment."""
    return range(segment * shard_size, min((segment + 1) * shard_size, frames))


def described_stems(manifest: dict) -> list[tuple[int, int, str]]:
    """(seed, segment, stem) of every shard a manifest describes, in reading order
    (increasing seed, then segment)."""
    count = segment_count(manifest["frames"], manifest.get("shardSize", manifest["frames"] or 1))
    return [(seed, segment, shard_stem(seed, segment))
            for seed in sorted(manifest["seeds"]) for segment in range(count)]


def read_manifest(directory: Path, *, validate: bool = True) -> dict:
    path = directory / MANIFEST_NAME
    name = str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DataError("expected a shard directory with manifest.json, got none", input=str(directory)) from None
    except OSError as err:
        raise DataError(f"cannot read ({err.strerror})", input=name) from None
    manifest = jsonl.decode_document(data, name)
    if validate:
        schema.validate(manifest, kind="PAT_MANIFEST", input=name)
    elif not isinstance(manifest, dict):
        raise DataError("expected a JSON object", input=name)
    return manifest


def original_sim(W: int, H: int, scale: int, dt: float, steps_per_frame: int) -> dict:
    """The sim block of an export by the original exporter (its preset, no noise, torus)."""
    return {
        "preset": "andres-net-export", "W": W, "H": H, "dt": float(dt), "stepsPerFrame": steps_per_frame,
        "scale": scale, "wrap": True, "noiseAmp": 0.0, "noiseSeed": 0, "params": {},
    }


def same_data(a: object, b: object) -> bool:
    """Equal values of equal types throughout, map key order aside (1 and 1.0 differ: they
    encode differently; so do 0.0 and -0.0)."""
    if type(a) is not type(b):
        return False
    if type(a) is dict:
        return a.keys() == b.keys() and all(same_data(a[key], b[key]) for key in a)
    if type(a) is list:
        return len(a) == len(b) and all(map(same_data, a, b))
    if type(a) is float and a == 0.0 == b:
        return math.copysign(1.0, a) == math.copysign(1.0, b)
    return a == b


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def checksum_text(digest: str, shard_name: str) -> bytes:
    """A checksum file's content: ``sha256sum`` format, one line."""
    return f"{digest}  {shard_name}\n".encode()


def parse_checksum(text: bytes, shard_name: str, name: str) -> str:
    """The hex digest in a checksum file: ``<hex>  <file>`` (ours, sha256sum) or the bare
    ``<hex>`` the original writes; a file name there must be the shard's."""
    fields = text.decode("ascii", errors="replace").split()
    if not fields or not _HEX.fullmatch(fields[0].lower()) or len(fields) > 2:
        raise DataError("expected '<64 hex digits>  <shard file>' or the bare digest, got "
                        f"{text[:80]!r}", input=name)
    if len(fields) == 2 and fields[1].lstrip("*") != shard_name:
        raise DataError(f"expected the checksum of {shard_name}, got one for {fields[1]!r}", input=name)
    return fields[0].lower()


def sidecar(shard: dict, frames: list[dict], digest: str) -> dict:
    """The JSON sidecar: the original's fields (shard, seed, segment, count,
    frames [{seed, frame, tokenCount}], provenance) plus ours (kind, version, sim, sha256)."""
    document = {key: value for key, value in shard.items() if key not in ("items", "provenance")}
    document["frames"] = frames
    document["provenance"] = shard["provenance"]
    document["sha256"] = digest
    return document


def write_shard(directory: Path, shard: dict, items: list[tuple[dict, TokenFrame]]) -> None:
    """Write one PAT_SHARD (``shard`` without its items, then ``items`` as (item without
    tokens, token columns) pairs), its sidecar and its checksum, each atomically.

    The checksum file is written last, so a shard whose checksum verifies is complete.
    """
    from pattools.io.token_cbor import encode_array, encode_frame_record, encode_map_with

    encoded = encode_map_with(shard, {"items": encode_array([encode_frame_record(item, tokens)
                                                             for item, tokens in items])})
    frames = [{"seed": item["seed"], "frame": item["frame"], "tokenCount": len(tokens)} for item, tokens in items]
    stem = shard_stem(shard["seed"], shard["segment"])
    digest = sha256_hex(encoded)
    write_atomic(directory / f"{stem}.cbor", encoded)
    write_atomic(directory / f"{stem}.json", jsonl.encode_pretty(sidecar(shard, frames, digest)))
    write_atomic(directory / f"{stem}.sha256", checksum_text(digest, f"{stem}.cbor"))


def shard_verifies(directory: Path, stem: str) -> bool:
    """True when the shard, its sidecar and its checksum file exist and the checksum
    matches the shard's bytes (what --resume trusts)."""
    try:
        data = (directory / f"{stem}.cbor").read_bytes()
        recorded = parse_checksum((directory / f"{stem}.sha256").read_bytes(), f"{stem}.cbor", stem)
        (directory / f"{stem}.json").stat()
    except (OSError, DataError):
        return False
    return sha256_hex(data) == recorded


def write_manifest(directory: Path, manifest: dict) -> None:
    write_atomic(directory / MANIFEST_NAME, jsonl.encode_pretty(manifest))

