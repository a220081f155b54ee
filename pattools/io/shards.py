"""Shard directories: manifest, file naming, sim block from a manifest, shard writing.

Layout (compatible with the original exporter): ``manifest.json``; per seed and segment
``pat_<seed>-<segment:04d>.cbor`` holding one PAT_SHARD record, a JSON sidecar
``pat_<seed>-<segment:04d>.json`` and a ``.sha256`` file with the shard's checksum.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from pattools import schema
from pattools.errors import DataError
from pattools.io import cbor, jsonl
from pattools.io.atomic import write_atomic

SHARD_PATTERN = re.compile(r"pat_(\d+)-(\d+)\.cbor")
MANIFEST_NAME = "manifest.json"
EXPORT_DEFAULTS = {"dt": 0.03, "stepsPerFrame": 1}


def shard_stem(seed: int, segment: int) -> str:
    return f"pat_{seed}-{segment:04d}"


def read_manifest(directory: Path, *, validate: bool = True) -> dict:
    path = directory / MANIFEST_NAME
    name = str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DataError("expected a shard directory with manifest.json, got none", input=str(directory)) from None
    manifest = jsonl.decode_document(data, name)
    if validate:
        schema.validate(manifest, kind="PAT_MANIFEST", input=name)
    elif not isinstance(manifest, dict):
        raise DataError("expected a JSON object", input=name)
    return manifest


def sim_from_manifest(manifest: dict) -> dict:
    """The manifest's sim block, or one built from an original exporter's manifest fields."""
    if "sim" in manifest:
        return manifest["sim"]
    return {
        "preset": "andres-net-export",
        "W": manifest["W"],
        "H": manifest["H"],
        "dt": manifest.get("dt", EXPORT_DEFAULTS["dt"]),
        "stepsPerFrame": manifest.get("stepsPerFrame", EXPORT_DEFAULTS["stepsPerFrame"]),
        "scale": manifest["scale"],
        "wrap": True,
        "noiseAmp": 0.0,
        "noiseSeed": 0,
        "params": {},
    }


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_shard(directory: Path, shard: dict, *, encoded: bytes | None = None) -> bytes:
    """Write one PAT_SHARD with its sidecar and checksum, each atomically; returns the shard bytes.

    The checksum file is written last, so a shard whose .sha256 verifies is complete.
    ``encoded``: the shard's canonical CBOR when the caller has it already (pat-export
    writes the items' tokens from columns); ``shard["items"]`` then gives only each frame.
    """
    stem = shard_stem(shard["seed"], shard["segment"])
    data = cbor.encode(shard) if encoded is None else encoded
    digest = sha256_hex(data)
    sidecar = {key: value for key, value in shard.items() if key != "items"}
    sidecar["frames"] = [item["frame"] for item in shard["items"]]
    sidecar["sha256"] = digest
    write_atomic(directory / f"{stem}.cbor", data)
    write_atomic(directory / f"{stem}.json", jsonl.encode_pretty(sidecar))
    write_atomic(directory / f"{stem}.cbor.sha256", f"{digest}  {stem}.cbor\n".encode())
    return data


def shard_is_complete(directory: Path, seed: int, segment: int) -> bool:
    """True when the shard exists and its .sha256 matches its bytes (for --resume)."""
    stem = shard_stem(seed, segment)
    try:
        data = (directory / f"{stem}.cbor").read_bytes()
        recorded = (directory / f"{stem}.cbor.sha256").read_text().split()[0]
        (directory / f"{stem}.json").stat()
    except (FileNotFoundError, IndexError):
        return False
    return sha256_hex(data) == recorded


def write_manifest(directory: Path, manifest: dict) -> None:
    write_atomic(directory / MANIFEST_NAME, jsonl.encode_pretty(manifest))
