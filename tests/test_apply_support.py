"""Synthetic PAT frames and edits for the apply/pack tests and bench/bench_apply.py (no tests here)."""

from __future__ import annotations

import math

import numpy as np

from pattools.tokens.codebook import lfq_codes, lfq_features
from pattools.tokens.frame import TokenFrame, patch_id
from tests.helpers import sim_block


def random_frame(rng: np.random.Generator, W: int = 96, H: int = 96, scale: int = 32, *,
                 frame: int = 0, sim: dict | None = None, code: bool = True) -> TokenFrame:
    """Tokens of a W×H grid at ``scale`` with random in-range values (patch order as pat-export)."""
    sim = sim or sim_block(W, H, scale)
    pids = [patch_id(x0, y0, scale) for y0 in range(0, H, scale) for x0 in range(0, W, scale)]
    n = len(pids)
    tokens = TokenFrame.empty(n)
    tokens.patch_ids = pids
    tokens.t[:] = (frame + 1) * sim["stepsPerFrame"] * sim["dt"]
    tokens.scale[:] = scale
    tokens.geom[:, 0] = rng.random(n)
    tokens.geom[:, 1] = rng.uniform(-math.pi, math.pi, n)
    tokens.geom[:, 2] = rng.uniform(-math.pi / 2, math.pi / 2, n)
    tokens.geom[:, 3] = rng.random(n) * 2
    tokens.geom[:, 4] = rng.random(n) * 3
    tokens.stats[:] = rng.random((n, 7))
    tokens.stats[:, 3:5] = rng.random(2)  # arousal, valence: one per frame
    tokens.topo[:, 0] = rng.integers(-1, 2, n)
    tokens.topo[:, 1] = tokens.topo[:, 0]
    if code:
        tokens.rvq = lfq_codes(lfq_features(tokens.geom, tokens.stats))
    else:
        tokens.rvq = None
    return tokens


def frame_record(tokens: TokenFrame, *, seed: int = 1234, frame: int = 0, sim: dict | None = None) -> dict:
    return {"kind": "PAT_FRAME", "version": 1, "seed": seed, "frame": frame,
            "sim": sim or sim_block(), "tokens": tokens.to_tokens()}


def sequence(rng: np.random.Generator, frames: int, *, seed: int = 1234, W: int = 96, H: int = 96,
             scale: int = 32) -> list[dict]:
    sim = sim_block(W, H, scale)
    return [frame_record(random_frame(rng, W, H, scale, frame=f, sim=sim), seed=seed, frame=f, sim=sim)
            for f in range(frames)]


def edit_record(targets: list[dict], *, seed: int = 1234, sim: dict | None = None,
                ident: str = "test-edit", prompt: str | None = "increase coherence") -> dict:
    sim = sim or sim_block()
    record = {"kind": "PAT_EDIT", "version": 1, "id": ident, "seed": seed, "sim": sim,
              "targets": targets,
              "repro": {"dt": sim["dt"], "stepsPerFrame": sim["stepsPerFrame"], "scale": sim["scale"],
                        "noiseSeed": sim["noiseSeed"]}}
    if prompt is not None:
        record["prompt"] = prompt
    return record
