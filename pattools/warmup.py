"""Compile (or load) the numba kernels ahead of a run, in parallel groups.

numba compiles a kernel the first time a process calls it and caches the machine code
beside the module. A cold first run of the pipeline spends most of its time compiling
the lattice and the token kernels one after the other; ``python -m pattools.warmup``
compiles disjoint groups in separate processes at once (one per core), through the same
public functions the commands call, so the commands then load them from the cache.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

import numpy as np

GROUPS = ("lattice", "tokens", "replay", "io")


def warm_lattice() -> None:
    from pattools.lattice.driver import step
    from pattools.lattice.init import create_state
    from pattools.lattice.params import LatticeParams
    from pattools.simulation.frames import LatticeFrames

    params = LatticeParams.preset()
    state = create_state(16, 16, 1, params)
    step(state, params, 0.03)
    run = LatticeFrames(state, params, 0.03, scale=8)  # pat-export's shared step and token pass
    run.frame(0.03)
    run.step()


def warm_tokens() -> None:
    from pattools.tokens.build import build_frame

    rng = np.random.default_rng(0)
    phases = rng.uniform(0, 2 * np.pi, 256).astype(np.float32)
    energy = rng.uniform(0, 1, 256).astype(np.float32)
    build_frame(phases, energy, 16, 16, 8, 0.03)


def warm_replay() -> None:
    from pattools.replay.decoders import decode_delta, decode_tokens, token_amplitudes
    from pattools.replay.geometry import splat_geometry
    from pattools.tokens.patches import patch_ids

    ids = patch_ids(16, 16, 8)
    geometry = splat_geometry(ids, 16, 16, 8)
    stats = np.full((len(ids), 7), 0.5)
    decode_tokens(token_amplitudes(stats), geometry, 16, 16)
    drive = np.linspace(-1.0, 1.0, len(ids))
    decode_delta(drive, drive, geometry, 16, 16)


def warm_io() -> None:
    """The codec's kernels and every record schema's validator (kept on disk)."""
    from pattools import schema
    from pattools.errors import DataError
    from pattools.io import warm_codec

    for kind in schema.available_kinds():
        schema.conforms({}, kind)  # compiles (or loads) the validator
    schema.conforms({}, "PAT_MANIFEST")
    try:  # the reader's variant for frames whose sim block was validated before
        schema.validate({}, kind="PAT_FRAME", trusted=("sim",))
    except DataError:
        pass
    warm_codec()


WARMERS = {"lattice": warm_lattice, "tokens": warm_tokens, "replay": warm_replay, "io": warm_io}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("groups", nargs="*", metavar="GROUP",
                        help=f"groups to compile in this process ({', '.join(GROUPS)}); "
                             "default: all, in two parallel processes")
    options = parser.parse_args(argv)
    unknown = [group for group in options.groups if group not in GROUPS]
    if unknown:
        parser.error(f"unknown group {unknown[0]!r} (expected {', '.join(GROUPS)})")
    if options.groups:
        for group in options.groups:
            WARMERS[group]()
        return 0
    # The lattice step is the longest compile: give it a process, the rest share the other.
    procs = [subprocess.Popen([sys.executable, "-m", "pattools.warmup", *groups])
             for groups in (["lattice"], ["tokens", "replay", "io"])]
    return max(proc.wait() for proc in procs)


if __name__ == "__main__":
    sys.exit(main())
