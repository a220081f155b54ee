"""PAT frames as agent observations (docs/agent.md, I/O: ``--from-pat``).

One block per patch (token order), and per token a fixed feature vector as the block's
dims, angles as cos/sin pairs:

    0 cos(phi_gf)   1 sin(phi_gf)   2 cos(2·theta)   3 sin(2·theta)
    4 gradPhi       5 kappa         6 rho            7 energy
    8 entropyRate   9 arousal      10 valence       11 attnMean
   12 attnVar      13 vortex

(theta is an axial orientation, period π, hence 2·theta.) The whole frame is offered as
``x_partial``; the fovea decides which blocks are committed. A stream without a state
gets one from its first frame: D = patches × 14, B = patches, fovea budget
⌈patches/4⌉ blocks unless the configuration sets it.
"""

from __future__ import annotations

import math

import numpy as np

from pattools.errors import DataError
from pattools.nupca.completion import Cue
from pattools.nupca.config import NupcaConfig, config_from_dict
from pattools.nupca.observation import Observation
from pattools.tokens.frame import GEOM_FIELDS, STATS_FIELDS, TokenFrame

PAT_FEATURES: tuple[str, ...] = (
    "cos_phi_gf", "sin_phi_gf", "cos_2theta", "sin_2theta", "gradPhi", "kappa", "rho", "energy",
    "entropyRate", "arousal", "valence", "attnMean", "attnVar", "vortex",
)
FEATURES_PER_TOKEN = len(PAT_FEATURES)
_GEOM = {name: i for i, name in enumerate(GEOM_FIELDS)}
_STATS = {name: i for i, name in enumerate(STATS_FIELDS)}


def frame_features(frame: TokenFrame) -> np.ndarray:
    """float64[T·14]: the feature vector of every token, tokens in order."""
    geom, stats = frame.geom, frame.stats
    phi = geom[:, _GEOM["phi_gf"]]
    theta = geom[:, _GEOM["theta"]]
    columns = [
        np.cos(phi), np.sin(phi), np.cos(2.0 * theta), np.sin(2.0 * theta),
        geom[:, _GEOM["gradPhi"]], geom[:, _GEOM["kappa"]],
        stats[:, _STATS["rho"]], stats[:, _STATS["energy"]], stats[:, _STATS["entropyRate"]],
        stats[:, _STATS["arousal"]], stats[:, _STATS["valence"]], stats[:, _STATS["attnMean"]],
        stats[:, _STATS["attnVar"]], frame.topo[:, 0].astype(np.float64),
    ]
    return np.stack(columns, axis=1).reshape(-1)


def observation_from_frame(envelope: dict, tokens: TokenFrame | None, patches: int | None = None) -> Observation:
    """The observation of one PAT_FRAME: its envelope and its (checked) token columns;
    ``patches`` checks the count."""
    if tokens is None or not len(tokens):
        raise DataError("expected a non-empty token list", path="tokens")
    if patches is not None and len(tokens) != patches:
        raise DataError(f"expected {patches} tokens (the state's B), got {len(tokens)}", path="tokens")
    values = frame_features(tokens)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.shape[0]:
        token, feature = divmod(int(bad[0]), FEATURES_PER_TOKEN)
        raise DataError(f"expected finite features, got {values[bad[0]]!r} for {PAT_FEATURES[feature]}",
                        path=f"tokens[{token}]")
    dims = np.arange(values.shape[0], dtype=np.int64)
    return Observation(cue=Cue(dims, values), t=envelope.get("frame"))


def pat_config(patches: int, overrides: dict | None = None) -> NupcaConfig:
    """The configuration for frames of ``patches`` tokens; ``overrides`` are config keys."""
    values = {"D": patches * FEATURES_PER_TOKEN, "B": patches,
              "fovea_blocks_per_step": float(math.ceil(patches / 4))}
    for key, value in (overrides or {}).items():
        if key in ("D", "B") and value != values[key]:
            raise DataError(f"expected {key} = {values[key]} for {patches} patches, got {value}",
                            path=f"config.{key}")
        values[key] = value
    return config_from_dict(values)


def check_geometry(config: NupcaConfig, patches: int) -> None:
    """A given state must match the frames: D = patches × 14 and B = patches."""
    want_d = patches * FEATURES_PER_TOKEN
    if config.D != want_d or config.B != patches:
        raise DataError(f"state has D = {config.D}, B = {config.B}; frames of {patches} patches need "
                        f"D = {want_d}, B = {patches}", path="tokens")
