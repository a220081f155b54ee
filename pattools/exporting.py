"""pat-export's work: one seed → a lattice run → PAT_FRAME records or shard files.

One export task is one seed and tasks share nothing (docs/design.md §5), so the same
``export_seed_*`` functions run serially, in spawned processes (--jobs) or on Dask
workers (--scheduler), and every route produces the same bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pattools import __version__
from pattools.io import RecordWriter, record_with_tokens
from pattools.tokens.frame import TokenFrame

ProgressHook = Callable[[int], None]


@dataclass(frozen=True)
class ExportConfig:
    """Everything that determines an export's bytes (no seeds: those are the tasks)."""

    W: int = 96
    H: int = 96
    frames: int = 32
    scale: int = 32
    dt: float = 0.03
    steps_per_frame: int = 1
    noise_amp: float = 0.0
    noise_seed: int = 0
    wrap: bool = True
    params: dict = field(default_factory=dict)  # overrides of the preset, as given (name → value)
    metrics: bool = False
    kernel: str = "fast"
    shard_size: int = 16

    def lattice_params(self):
        from pattools.lattice.params import LatticeParams

        return LatticeParams.preset().with_overrides(self.params)

    def sim_block(self) -> dict:
        from pattools.lattice.params import PRESET_NAME

        return {
            "preset": PRESET_NAME,
            "W": self.W,
            "H": self.H,
            "dt": float(self.dt),
            "stepsPerFrame": self.steps_per_frame,
            "scale": self.scale,
            "wrap": self.wrap,
            "noiseAmp": float(self.noise_amp),
            "noiseSeed": self.noise_seed,
            "params": self.lattice_params().overrides(),
        }


def frame_columns(config: ExportConfig, seed: int, *, skip: Callable[[int], bool] | None = None,
                  progress: ProgressHook | None = None) -> Iterator[tuple[int, dict | None, TokenFrame | None]]:
    """(frame, envelope, tokens) for every frame of one seed: the PAT_FRAME record without
    its tokens, and the tokens as columns; both None where ``skip(frame)``.

    Skipped frames are still simulated (the lattice must reach later frames) but not tokenized.
    """
    from pattools.lattice.driver import use_threads_for_grid
    from pattools.lattice.init import create_state
    from pattools.simulation.frames import LatticeFrames

    params = config.lattice_params()
    state = create_state(config.W, config.H, seed, params, wrap=config.wrap, noise_seed=config.noise_seed)
    use_threads_for_grid(config.W, config.H)
    run = LatticeFrames(state, params, config.dt, noise_amp=config.noise_amp, kernel=config.kernel,
                        scale=config.scale)
    sim = config.sim_block()
    for frame in range(config.frames):
        for _ in range(config.steps_per_frame):
            run.step()
        if progress is not None:
            progress(1)
        if skip is not None and skip(frame):
            yield frame, None, None
            continue
        t = (frame + 1) * config.steps_per_frame * config.dt
        built = run.frame(t)
        envelope = {"kind": "PAT_FRAME", "version": 1, "seed": seed, "frame": frame, "sim": sim}
        if config.metrics:
            values = built.metrics.to_dict()
            values["patchDefects"] = built.patch_defects.tolist()
            envelope["metrics"] = values
        yield frame, envelope, built.tokens


def frame_records(config: ExportConfig, seed: int, *, skip: Callable[[int], bool] | None = None,
                  progress: ProgressHook | None = None) -> Iterator[tuple[int, dict | None]]:
    """(frame, PAT_FRAME record) for every frame of one seed; record is None where ``skip(frame)``."""
    for frame, envelope, tokens in frame_columns(config, seed, skip=skip, progress=progress):
        yield frame, None if envelope is None else record_with_tokens(envelope, tokens.to_tokens())


def export_seed_stream(config: ExportConfig, seed: int, fmt: str,
                       progress: ProgressHook | None = None) -> Iterator[bytes]:
    """Encoded PAT_FRAME records of one seed, frame by frame (from the token columns)."""
    encoder = RecordWriter(fmt=fmt)
    for _frame, envelope, tokens in frame_columns(config, seed, progress=progress):
        yield encoder.encode_frame(envelope, tokens)


def export_seed_bytes(config: ExportConfig, seed: int, fmt: str) -> bytes:
    """All encoded frames of one seed (the unit a parallel worker returns)."""
    return b"".join(export_seed_stream(config, seed, fmt))


def segments(config: ExportConfig) -> list[range]:
    return [range(start, min(start + config.shard_size, config.frames))
            for start in range(0, config.frames, config.shard_size)]


def export_seed_to_directory(config: ExportConfig, seed: int, out: str, resume: bool = False,
                             progress: ProgressHook | None = None) -> int:
    """Write one seed's shards (atomically, checksum last); returns the number of shards written.

    ``resume``: keep the shards whose checksum verifies (all others are written)."""
    from pattools.io import shard_stem, shard_verifies, write_shard  # only --out exports load these

    directory = Path(out)
    _remove_stale_temporaries(directory, seed)
    parts = segments(config)
    done = {index for index in range(len(parts)) if resume and shard_verifies(directory, shard_stem(seed, index))}
    if len(done) == len(parts):
        if progress is not None:
            progress(config.frames)
        return 0
    segment_of = {frame: index for index, part in enumerate(parts) for frame in part}
    sim = config.sim_block()
    from pattools.tokens.codebook import CODEBOOK_SHA

    written = 0
    items: list[tuple[dict, TokenFrame]] = []  # each {seed, frame, metrics?} item and its tokens
    for frame, envelope, tokens in frame_columns(config, seed, skip=lambda f: segment_of[f] in done,
                                                 progress=progress):
        if envelope is None:
            continue
        item = {"seed": seed, "frame": frame}
        if "metrics" in envelope:
            item["metrics"] = envelope["metrics"]
        items.append((item, tokens))
        index = segment_of[frame]
        if frame == parts[index][-1]:
            shard = {
                "kind": "PAT_SHARD", "version": 1, "shard": shard_stem(seed, index)[4:],
                "seed": seed, "segment": index, "count": len(items), "sim": sim,
                "provenance": {"codebookSHA": CODEBOOK_SHA},
            }
            write_shard(directory, shard, items)
            written += 1
            items = []
    return written


def _remove_stale_temporaries(directory: Path, seed: int) -> None:
    """Temporary files of this seed's shards left by a killed run (only this task writes them)."""
    from pattools.io import shard_stem

    for leftover in directory.glob(f".{shard_stem(seed, 0)[:-4]}*.tmp"):
        leftover.unlink(missing_ok=True)


def manifest(config: ExportConfig, seeds: list[int], *, provenance: bool = False) -> dict:
    """The manifest of the whole export (identical for every --part)."""
    from pattools.tokens.codebook import CODEBOOK_DESC, CODEBOOK_SHA

    document = {
        "version": 1, "W": config.W, "H": config.H, "frames": config.frames, "scale": config.scale,
        "shardSize": config.shard_size, "seeds": sorted(seeds), "sim": config.sim_block(),
        "metrics": config.metrics, "codebookSHA": CODEBOOK_SHA, "codebookDesc": CODEBOOK_DESC,
    }
    if provenance:
        document["provenance"] = {"tool": f"pattools {__version__}", "commit": _commit_id()}
    return document


def prepare_output(config: ExportConfig, seeds: list[int], out: str, *, resume: bool, force: bool, part: bool,
                   provenance: bool = False) -> None:
    """Refuse to mix two exports in ``out`` (pattools.io.shard_target), then write the manifest."""
    from pattools.io import prepare_export_directory

    prepare_export_directory(out, manifest(config, seeds, provenance=provenance), resume=resume, force=force,
                             part=part)


def _commit_id() -> str | None:
    import subprocess

    try:
        result = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                                cwd=Path(__file__).resolve().parent)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None
