"""Reading shard directories and shard files: the manifest is the truth (README "Shard directories").

A directory yields exactly the frames its manifest describes, or a DataError naming the
shard and the problem: a described shard missing (an interrupted export, --parts not all
run), a shard the manifest does not describe (left from an earlier export), a checksum
that does not verify, a shard whose seed, segment, frames, sim, codebook or metrics
disagree with the manifest. The whole listing is checked before the first frame is
yielded; each shard's checksum and contents before any of its frames.

Data the original exporter wrote reads as it is: its shards carry no ``sim`` (the
manifest's grid and scale give it, with the exporter's dt and steps per frame unless
``--assume`` says otherwise), and its ``hdr.t`` is a wall-clock stamp, replaced here by
the simulation time ``(frame + 1) · stepsPerFrame · dt``. Its tokens pass through the
columnar form once, so numbers it wrote as integers (``A: 1``) become floats and keys
come in the canonical order.

Cost of checksums: one SHA-256 pass over bytes read anyway (README "Shard directories"
gives the measured figure; ``--no-verify`` skips it).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pattools.errors import DataError
from pattools.io.shard_reading import ShardReading
from pattools.io.shards import (EXPORT_DEFAULTS, MANIFEST_NAME, OLD_CHECKSUM_PATTERN, SHARD_PATTERN,
                                described_stems, original_sim, parse_checksum, read_manifest,
                                same_data, segment_frames, sha256_hex)

ASSUMABLE = ("W", "H", "dt", "stepsPerFrame")


def parse_assume(text: str) -> dict:
    """``W=64,H=48,dt=0.02,stepsPerFrame=2`` (any subset) → a dict; ValueError when malformed."""
    values: dict = {}
    for part in text.split(","):
        key, sep, value = part.strip().partition("=")
        key = key.strip()
        if not sep or key not in ASSUMABLE:
            raise ValueError(f"expected NAME=VALUE with NAME one of {', '.join(ASSUMABLE)}, got {part.strip()!r}")
        try:
            number = float(value) if key == "dt" else int(value)
        except ValueError:
            raise ValueError(f"expected a number for {key}, got {value.strip()!r}") from None
        if not (0 < number < float("inf")) or (key in ("W", "H") and number < 4):
            raise ValueError(f"expected {key} {'>= 4' if key in ('W', 'H') else '> 0'}, got {value.strip()}")
        values[key] = number
    return values


def manifest_sim(manifest: dict, name: str, reading: ShardReading) -> dict:
    """The manifest's sim block; for the original's manifest (none) one built from its grid
    and scale with dt and steps per frame from --assume or the exporter's defaults."""
    if "sim" in manifest:
        sim = manifest["sim"]
        for key in ("W", "H", "scale"):
            if isinstance(sim, dict) and sim.get(key) != manifest.get(key):
                raise DataError(f"expected sim.{key} equal to {key} {manifest.get(key)!r}, got {sim.get(key)!r}",
                                input=name, path=f"sim.{key}")
        return sim
    dt, steps = _timing(reading, f"{name}: no sim (the original exporter's defaults)", name)
    return original_sim(manifest["W"], manifest["H"], manifest["scale"], dt, steps)


def _timing(reading: ShardReading, what: str, key: str) -> tuple[float, int]:
    """dt and steps per frame from --assume, else the original exporter's, said once."""
    dt = reading.assume.get("dt")
    steps = reading.assume.get("stepsPerFrame")
    if dt is None or steps is None:
        dt = EXPORT_DEFAULTS["dt"] if dt is None else dt
        steps = EXPORT_DEFAULTS["stepsPerFrame"] if steps is None else steps
        reading.say_once(key, f"{what}: assuming dt={dt:g}, stepsPerFrame={steps}; "
                              "--assume dt=...,stepsPerFrame=... states others")
    return dt, steps


def lone_shard_sim(shard: dict, path: Path | None, name: str, index: int, reading: ShardReading) -> dict:
    """The sim of an original shard read on its own: from a manifest.json beside it, else
    from --assume W=..,H=.. (its grid cannot be told from patchIds: edge patches can be partial)."""
    beside = None if path is None else path.parent / MANIFEST_NAME
    if beside is not None and beside.is_file():
        manifest = read_manifest(path.parent)
        return manifest_sim(manifest, str(beside), reading)
    if "W" in reading.assume and "H" in reading.assume:
        scale = _first_scale(shard)
        if scale is None:
            raise DataError("expected tokens with hdr.scale to tell the shard's scale, got none",
                            input=name, record=index, path="items")
        dt, steps = _timing(reading, f"{name}: a shard of the original exporter", "lone")
        return original_sim(reading.assume["W"], reading.assume["H"], scale, dt, steps)
    raise DataError("expected a sim block or the grid: a shard written by the original program does not record "
                    "its grid; put its manifest.json beside it or give --assume W=...,H=...",
                    input=name, record=index, path="sim")


def _first_scale(shard: dict) -> int | None:
    try:
        scale = shard["items"][0]["tokens"][0]["hdr"]["scale"]
    except (KeyError, IndexError, TypeError):
        return None
    return scale if type(scale) is int else None


def expand_items(shard: dict, name: str, index: int, sim: dict) -> Iterator[tuple[str, dict, object]]:
    """(input name, PAT_FRAME record, token columns or None) per item of a schema-valid shard.

    A shard without its own sim (the original's) has its tokens normalised through the
    columnar form with hdr.t set to the simulation time."""
    items = shard.get("items")
    if not isinstance(items, list):
        raise DataError("expected an array of frames", input=name, record=index, path="items")
    original = "sim" not in shard
    for position, item in enumerate(items):
        if not isinstance(item, dict) or "frame" not in item or "tokens" not in item:
            raise DataError("expected a map with seed, frame and tokens", input=name, record=index,
                            path=f"items[{position}]")
        frame = {"kind": "PAT_FRAME", "version": 1, "seed": item.get("seed", shard.get("seed")),
                 "frame": item["frame"], "sim": sim, "tokens": item["tokens"]}
        if "metrics" in item:
            frame["metrics"] = item["metrics"]
        columns = None
        if original:
            columns = _sim_time_columns(item, sim, name, index, position)
            frame["tokens"] = columns.to_tokens()
        yield f"{name}: items[{position}]", frame, columns


def _sim_time_columns(item: dict, sim: dict, name: str, index: int, position: int):
    from pattools.tokens.frame import TokenFrame

    try:
        columns = TokenFrame.from_tokens(item["tokens"])
    except DataError as err:
        err.path = f"items[{position}].{err.path}" if err.path else f"items[{position}].tokens"
        raise err.located(input=name, record=index) from None
    except (KeyError, TypeError, ValueError, AttributeError):
        raise DataError("expected PAT tokens (read it with --validate for the exact field)", input=name,
                        record=index, path=f"items[{position}].tokens") from None
    if not isinstance(item["frame"], int):
        raise DataError("expected an integer", input=name, record=index, path=f"items[{position}].frame")
    columns.t[:] = (item["frame"] + 1) * sim["stepsPerFrame"] * sim["dt"]
    return columns


# ---------------------------------------------------------------------- directories


@dataclass(frozen=True)
class ShardEntry:
    seed: int
    segment: int
    stem: str


class DirectoryPlan:
    """A shard directory checked against its manifest: what to read, in order, and the
    checks each shard must pass."""

    def __init__(self, path: Path, name: str, reading: ShardReading) -> None:
        self.path = path
        self.name = name
        self.reading = reading
        self.manifest_name = str(Path(name) / MANIFEST_NAME)
        # validated even with --no-validate: it decides what is read
        self.manifest = read_manifest(path)
        self.sim = manifest_sim(self.manifest, self.manifest_name, reading)
        self.shard_size = self.manifest.get("shardSize", self.manifest["frames"] or 1)
        self.entries = [ShardEntry(*entry) for entry in described_stems(self.manifest)]
        self._check_listing()

    def shard_name(self, entry: ShardEntry, suffix: str = ".cbor") -> str:
        return str(Path(self.name) / f"{entry.stem}{suffix}")

    def _check_listing(self) -> None:
        try:
            names = set(os.listdir(self.path))
        except OSError as err:
            raise DataError(f"cannot list ({err.strerror})", input=self.name) from None
        described = {f"{entry.stem}.cbor" for entry in self.entries}
        stale = sorted(n for n in names if SHARD_PATTERN.fullmatch(n) and n not in described)
        if stale:
            more = f" (and {len(stale) - 1} more)" if len(stale) > 1 else ""
            raise DataError(f"a shard manifest.json does not describe{more}: left from an earlier export; "
                            "re-export with pat-export --force", input=str(Path(self.name) / stale[0]))
        missing = [entry for entry in self.entries if f"{entry.stem}.cbor" not in names]
        if missing:
            raise DataError(self._missing_message(missing), input=self.shard_name(missing[0]))
        if not self.reading.verify:
            return
        for entry in self.entries:
            if f"{entry.stem}.sha256" not in names:
                if f"{entry.stem}.cbor.sha256" in names or any(OLD_CHECKSUM_PATTERN.fullmatch(n) for n in names):
                    raise DataError("written by an earlier pattools version (checksum files pat_*.cbor.sha256); "
                                    "re-export it with pat-export --force", input=self.name)
                raise DataError(f"checksum file {entry.stem}.sha256 missing (--no-verify reads without checksums)",
                                input=self.shard_name(entry))

    def _missing_message(self, missing: list[ShardEntry]) -> str:
        seeds = sorted({entry.seed for entry in missing})
        whole = [seed for seed in seeds
                 if sum(entry.seed == seed for entry in missing) == sum(e.seed == seed for e in self.entries)]
        text = f"missing: manifest.json describes it ({len(missing)} of {len(self.entries)} shards missing"
        if whole:
            shown = ", ".join(str(seed) for seed in whole[:5]) + (", ..." if len(whole) > 5 else "")
            text += f"; no shard at all for seed(s) {shown}: an --part not run yet?"
        return text + "); complete it with pat-export --resume and the same flags"

    def load(self, entry: ShardEntry) -> bytes:
        """The shard's bytes, their checksum verified unless --no-verify."""
        name = self.shard_name(entry)
        try:
            data = (self.path / f"{entry.stem}.cbor").read_bytes()
        except FileNotFoundError:
            raise DataError("missing: manifest.json describes it (removed while reading?)", input=name) from None
        except OSError as err:
            raise DataError(f"cannot read ({err.strerror})", input=name) from None
        if self.reading.verify:
            checksum_name = self.shard_name(entry, ".sha256")
            try:
                text = (self.path / f"{entry.stem}.sha256").read_bytes()
            except OSError:
                raise DataError(f"checksum file {entry.stem}.sha256 missing (--no-verify reads without "
                                "checksums)", input=name) from None
            recorded = parse_checksum(text, f"{entry.stem}.cbor", checksum_name)
            actual = sha256_hex(data)
            if actual != recorded:
                raise DataError(f"checksum mismatch: {entry.stem}.sha256 records {recorded[:12]}..., the file "
                                f"hashes to {actual[:12]}... (corrupted or changed after export; "
                                "pat-export --resume rewrites it)", input=name)
        return data

    def check_shard(self, entry: ShardEntry, shard: dict, name: str, index: int) -> None:
        """The shard's own fields against the manifest (before any of its frames is yielded)."""
        if index != 0:
            raise DataError("expected one PAT_SHARD record per shard file, got another", input=name, record=index)
        expected = {"seed": entry.seed, "segment": entry.segment, "count": len(self._frames(entry))}
        for key, value in expected.items():
            if shard.get(key, value) != value:
                raise DataError(f"expected {value} (from its name and manifest.json), got {shard.get(key)!r}",
                                input=name, record=index, path=key)
        if "sim" in shard and not same_data(shard["sim"], self.sim):
            difference = _first_difference(shard["sim"], self.sim)
            raise DataError(f"expected the sim block of manifest.json, got another ({difference})",
                            input=name, record=index, path="sim")
        provenance = shard.get("provenance")
        codebook = provenance.get("codebookSHA") if isinstance(provenance, dict) else None
        if codebook is not None and "codebookSHA" in self.manifest and codebook != self.manifest["codebookSHA"]:
            raise DataError("expected the codebookSHA of manifest.json, got another", input=name, record=index,
                            path="provenance.codebookSHA")
        self._check_items(entry, shard, name, index)

    def _frames(self, entry: ShardEntry) -> range:
        return segment_frames(entry.segment, self.manifest["frames"], self.shard_size)

    def _check_items(self, entry: ShardEntry, shard: dict, name: str, index: int) -> None:
        items = shard.get("items")
        frames = self._frames(entry)
        if not isinstance(items, list) or len(items) != len(frames):
            count = len(items) if isinstance(items, list) else "none"
            raise DataError(f"expected {len(frames)} frames (manifest.json: frames {self.manifest['frames']}, "
                            f"shardSize {self.shard_size}), got {count}", input=name, record=index, path="items")
        metrics = bool(self.manifest.get("metrics", False))
        for position, (item, frame) in enumerate(zip(items, frames)):
            if not isinstance(item, dict):
                continue  # the expansion names it
            if item.get("frame") != frame or item.get("seed", entry.seed) != entry.seed:
                raise DataError(f"expected seed {entry.seed} frame {frame} (from manifest.json), got seed "
                                f"{item.get('seed')!r} frame {item.get('frame')!r}", input=name, record=index,
                                path=f"items[{position}]")
            if ("metrics" in item) != metrics:
                wanted = "a metrics block (manifest.json says metrics true), got none" if metrics else \
                    "no metrics block (manifest.json says metrics false), got one"
                raise DataError(f"expected {wanted}", input=name, record=index, path=f"items[{position}].metrics")


def _first_difference(a: object, b: object, path: str = "sim") -> str:
    """``sim.dt: 0.04 here, 0.03 in manifest.json`` for the first differing field."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b or not same_data(a[key], b[key]):
                if isinstance(a.get(key), dict) and isinstance(b.get(key), dict):
                    return _first_difference(a[key], b[key], f"{path}.{key}")
                return f"{path}.{key}: {a.get(key, 'absent')!r} here, {b.get(key, 'absent')!r} in manifest.json"
    return f"{path}: {a!r} here, {b!r} in manifest.json"
