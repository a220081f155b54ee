"""Records of the agent: NUPCA_STATE, NUPCA_OBS and NUPCA_TRACE, and the configuration file.

Arrays travel as typed arrays (``pattools.nupca.typed_arrays``); the expert library's part
of a state is ``pattools.nupca.library_codec``. Variances travel as precisions (0 = infinite
variance), so no infinity appears in any record. Bytes are encoded and decoded by
``pattools.io``; this module only builds and checks the maps.

A state read back is checked as thoroughly as a kernel needs (index ranges, pointer
arrays, shapes), because the kernels do not bounds-check: a damaged state is a one-line
data error, never a crash.
"""

from __future__ import annotations

import math

import numpy as np

from pattools.errors import DataError, expected_found
from pattools.nupca.completion import Cue
from pattools.nupca.blocks import build_blocks
from pattools.nupca.config import NupcaConfig, config_from_dict
from pattools.nupca.library_codec import library_from_record, library_to_record
from pattools.nupca.observation import Control, Observation
from pattools.nupca.record_checks import check_index, field, require
from pattools.nupca.state import NupcaState, RestMemory, covariance_offsets
from pattools.nupca.step import StepTrace
from pattools.nupca.typed_arrays import decode_array, encode_array

FORMATS = ("cbor", "jsonl")
STATE_VERSION = 2  # 2: persistence-initialised experts, RLS learning, per-dim observation memory


# ------------------------------------------------------------------------- configuration




# ------------------------------------------------------------------------- state


def state_to_record(state: NupcaState, fmt: str) -> dict:
    """The NUPCA_STATE record of a state (typed arrays in the given framing)."""
    a = lambda array: encode_array(array, fmt)  # noqa: E731
    memory = state.rest
    return {
        "kind": "NUPCA_STATE",
        "version": STATE_VERSION,
        "config": state.config.to_dict(),
        "t": int(state.t),
        "buffer": {"x_last": a(state.x_last), "x_prior": a(state.x_prior),
                   "observed_dims": a(state.observed_dims)},
        "seen": {"value": a(state.seen_value), "step": a(state.seen_step), "velocity": a(state.velocity),
                 "scale": a(state.change_scale)},
        "cache": {"yhat": a(state.yhat), "precision": a(state.yhat_prec)} if state.has_cache else None,
        "fovea": {"residual": a(state.fovea_residual), "age": a(state.fovea_age),
                  "blocks": a(state.fovea_blocks)},
        "active": a(state.active),
        "library": library_to_record(state.library, fmt),
        "rest": {
            "persist": a(memory.persist), "visits": a(memory.visits), "last_update": a(memory.last_update),
            "res_mean": a(memory.res_mean), "res_cov": a(memory.res_cov), "res_n": a(memory.res_n),
            "tr_tau": a(memory.tr_tau), "tr_prev": a(memory.tr_prev), "tr_next": a(memory.tr_next),
            "tr_obs": a(memory.tr_obs), "tr_count": a(memory.tr_count),
            "queue": {"kind": a(memory.q_kind), "a": a(memory.q_a), "b": a(memory.q_b),
                      "block": a(memory.q_block), "priority": a(memory.q_priority)},
        },
    }


def check_state_version(record: dict) -> None:
    """Refuse a state another version of nupca-step wrote, in one line naming its version."""
    version = record.get("version")
    if version != STATE_VERSION:
        raise DataError(f"NUPCA_STATE version {version!r} is not supported (this nupca-step reads version "
                        f"{STATE_VERSION}; states of version 1 predate persistence-initialised, RLS-trained "
                        f"experts): make a new state with --init or --from-pat", path="version")


def state_from_record(record: dict) -> NupcaState:
    """A state from a (schema-valid) NUPCA_STATE record, fully checked."""
    check_state_version(record)
    config = config_from_dict(field(record, "config", ""), path="config")
    dim = config.D
    # The buffer's real length must match the declared D before anything is sized by D.
    decode_array(field(field(record, "buffer", ""), "x_last", "buffer"), "buffer.x_last", dtype="float64",
                 shape=(dim,))
    partition = build_blocks(config)
    count = partition.count

    def arr(section: str, key: str, dtype: str, **kw) -> np.ndarray:
        holder = record if not section else field(record, section, "")
        path = f"{section}.{key}" if section else key
        return decode_array(field(holder, key, section), path, dtype=dtype, **kw)

    t = field(record, "t", "")
    if isinstance(t, bool) or not isinstance(t, int) or t < 0:
        raise DataError(expected_found("non-negative integer", t), path="t")
    has_cache, yhat, prec = _cache_from_record(field(record, "cache", ""), dim)
    checked = _checked_indices(arr, t, dim, count)
    library = library_from_record(field(record, "library", ""), config, partition)
    rest = _rest_from_record(field(record, "rest", ""), config, partition, dim, count, config.transition_log_max)
    state = NupcaState(
        config=config,
        t=t,
        x_last=arr("buffer", "x_last", "float64", shape=(dim,)),
        x_prior=arr("buffer", "x_prior", "float64", shape=(dim,)),
        observed_dims=checked["observed_dims"],
        has_cache=has_cache,
        yhat=yhat,
        yhat_prec=prec,
        seen_value=arr("seen", "value", "float64", shape=(dim,)),
        seen_step=checked["seen_step"],
        velocity=arr("seen", "velocity", "float64", shape=(dim,)),
        change_scale=checked["change_scale"],
        fovea_residual=arr("fovea", "residual", "float64", shape=(count,)),
        fovea_age=arr("fovea", "age", "float64", shape=(count,)),
        fovea_blocks=checked["fovea_blocks"],
        active=decode_array(field(record, "active", ""), "active", dtype="int64", ndim=1),
        library=library,
        rest=rest,
    )
    state._derived["partition"] = partition
    return state


def _cache_from_record(cache: dict | None, dim: int) -> tuple[bool, np.ndarray, np.ndarray]:
    """(has a cache, ŷ, its precisions); zeros when the state has no prediction yet."""
    if cache is None:
        return False, np.zeros(dim), np.zeros(dim)
    yhat = decode_array(field(cache, "yhat", "cache"), "cache.yhat", dtype="float64", shape=(dim,))
    prec = decode_array(field(cache, "precision", "cache"), "cache.precision", dtype="float64", shape=(dim,))
    require(bool(np.all(prec >= 0.0)), "expected precisions >= 0", "cache.precision")
    return True, yhat, prec


def _checked_indices(arr, t: int, dim: int, count: int) -> dict[str, np.ndarray]:
    """The state's arrays whose values the kernels use as indices or step counts, in range."""
    observed = arr("buffer", "observed_dims", "int64", ndim=1)
    check_index(observed, dim, "buffer.observed_dims")
    fovea_blocks = arr("fovea", "blocks", "int64", ndim=1)
    check_index(fovea_blocks, count, "fovea.blocks")
    seen_step = arr("seen", "step", "int64", shape=(dim,))
    require(bool(np.all((seen_step >= -1) & (seen_step < t))), f"expected steps in [-1, t = {t})",
            "seen.step")
    change_scale = arr("seen", "scale", "float64", shape=(dim,))
    require(bool(np.all(change_scale >= 0.0)), "expected scales >= 0", "seen.scale")
    return {"observed_dims": observed, "fovea_blocks": fovea_blocks, "seen_step": seen_step,
            "change_scale": change_scale}


def _rest_from_record(value: dict, config: NupcaConfig, partition, dim: int, count: int, cap: int) -> RestMemory:
    def arr(key: str, dtype: str, section: dict | None = None, prefix: str = "rest", **kw) -> np.ndarray:
        holder = value if section is None else section
        return decode_array(field(holder, key, prefix), f"{prefix}.{key}", dtype=dtype, **kw)

    cov_len = int(covariance_offsets(partition)[-1])
    queue = field(value, "queue", "rest")
    q_kind = arr("kind", "int64", queue, "rest.queue", ndim=1)
    q_len = q_kind.shape[0]
    check_index(q_kind, 4, "rest.queue.kind")
    q_block = arr("block", "int64", queue, "rest.queue", shape=(q_len,))
    check_index(q_block, count, "rest.queue.block", low=-1)
    memory = RestMemory(
        persist=arr("persist", "float64", shape=(count,)),
        visits=arr("visits", "int64", shape=(count,)),
        last_update=arr("last_update", "int64", shape=(count,)),
        res_mean=arr("res_mean", "float64", shape=(dim,)),
        res_cov=arr("res_cov", "float64", shape=(cov_len,)),
        res_n=arr("res_n", "int64", shape=(count,)),
        tr_tau=arr("tr_tau", "int64", shape=(cap, count)),
        tr_prev=arr("tr_prev", "float64", shape=(cap, dim)),
        tr_next=arr("tr_next", "float64", shape=(cap, dim)),
        tr_obs=arr("tr_obs", "uint8", shape=(cap, dim)),
        tr_count=arr("tr_count", "int64", shape=(count,)),
        q_kind=q_kind,
        q_a=arr("a", "int64", queue, "rest.queue", shape=(q_len,)),
        q_b=arr("b", "int64", queue, "rest.queue", shape=(q_len,)),
        q_block=q_block,
        q_priority=arr("priority", "float64", queue, "rest.queue", shape=(q_len,)),
    )
    require(bool(np.all(memory.tr_count >= 0)), "expected counts >= 0", "rest.tr_count")
    return memory


# ------------------------------------------------------------------------- observations


def observation_from_record(record: dict, dim: int, *, drop_nonfinite: bool = False) -> tuple[Observation, int]:
    """(Observation, number of dropped non-finite cue values) from a NUPCA_OBS record."""
    partial = field(record, "x_partial", "")
    dims = decode_array(field(partial, "dims", "x_partial"), "x_partial.dims", dtype="int64", ndim=1)
    values_raw = field(partial, "values", "x_partial")
    values = _values_allowing_nonfinite(values_raw, "x_partial.values", drop_nonfinite)
    if values.shape != dims.shape:
        raise DataError(f"expected {dims.shape[0]} values (one per dim), got {values.shape[0]}",
                        path="x_partial.values")
    dropped = 0
    bad = ~np.isfinite(values)
    if bad.any():
        if not drop_nonfinite:
            i = int(np.flatnonzero(bad)[0])
            raise DataError(f"expected a finite number, got {values[i]!r}", path=f"x_partial.values[{i}]")
        dropped = int(bad.sum())
        dims, values = dims[~bad], values[~bad]
    order = np.argsort(dims, kind="stable")
    dims, values = dims[order], values[order]
    if dims.shape[0] > 1:
        repeated = np.flatnonzero(np.diff(dims) == 0)
        if repeated.shape[0]:
            raise DataError(f"expected distinct dims, got {int(dims[repeated[0]])} twice", path="x_partial.dims")
    keep = (dims >= 0) & (dims < dim)
    control = None
    if "control" in record:
        raw = record["control"]
        if not isinstance(raw, dict):
            raise DataError(expected_found("object", raw), path="control")
        known = ("arousal", "need", "threat", "x_C", "rawE", "rawD")
        for key in sorted(raw):
            if key not in known:
                raise DataError("expected no such field, got an unknown field", path=f"control.{key}")
            item = raw[key]
            if isinstance(item, bool) or not isinstance(item, (int, float)) or not math.isfinite(item):
                raise DataError(expected_found("finite number", item), path=f"control.{key}")
        control = Control(**{k: float(raw[k]) for k in sorted(raw)})
    obs = Observation(
        cue=Cue(dims[keep].copy(), values[keep].copy()),
        rest=bool(record.get("rest", False)),
        control=control,
        allow_full_state=bool(record.get("allow_full_state", False)),
        t=record.get("t"),
    )
    if "x_full" in record:
        obs.x_full = decode_array(record["x_full"], "x_full", dtype="float64", shape=(dim,))
    if "periph_full" in record:
        obs.periph_full = decode_array(record["periph_full"], "periph_full", dtype="float64", ndim=1)
    return obs, dropped


def _values_allowing_nonfinite(value: object, path: str, drop_nonfinite: bool) -> np.ndarray:
    """Cue values; non-finite entries survive decoding so the caller can drop or reject them."""
    if isinstance(value, dict) and isinstance(value.get("data"), (bytes, bytearray)):
        name, shape, data = value.get("dtype"), value.get("shape"), value["data"]
        if name == "float64" and isinstance(shape, list) and len(shape) == 1 and len(data) == 8 * shape[0]:
            return np.frombuffer(bytes(data), dtype="<f8").astype(np.float64)
    return decode_array(value, path, dtype="float64", ndim=1)


def observation_to_record(obs: Observation, fmt: str = "jsonl") -> dict:
    """A NUPCA_OBS record (for fixtures and the PAT adapter's JSON output)."""
    record: dict = {"kind": "NUPCA_OBS", "version": 1}
    if obs.t is not None:
        record["t"] = int(obs.t)
    if fmt == "cbor":
        record["x_partial"] = {"dims": encode_array(obs.cue.dims, fmt), "values": encode_array(obs.cue.values, fmt)}
    else:
        record["x_partial"] = {"dims": obs.cue.dims.tolist(), "values": obs.cue.values.tolist()}
    if obs.rest:
        record["rest"] = True
    return record


# ------------------------------------------------------------------------- trace


def trace_to_record(trace: StepTrace, fmt: str) -> dict:
    record = {
        "kind": "NUPCA_TRACE",
        "version": 1,
        "t": int(trace.t),
        "F_t": trace.fovea.tolist(),
        "O_req": int(trace.o_req_size),
        "O_t": trace.observed.tolist(),
        "innovation_mean_abs": float(trace.innovation_mean_abs),
        "prior_obs_mae": None if trace.prior_obs_mae is None else float(trace.prior_obs_mae),
        "persistence_mae": None if trace.persistence_mae is None else float(trace.persistence_mae),
        "A_t": trace.active.tolist(),
        "weights": [float(w) for w in trace.weights.tolist()],
        "load": float(trace.load),
        "L_eff": float(trace.L_eff),
        "learned": trace.learned.tolist(),
        "rest": bool(trace.rest),
        "edits": trace.edits,
        "queue": int(trace.queue_size),
    }
    if trace.full_prior_mae is not None:
        record["full_prior_mae"] = float(trace.full_prior_mae)
    if trace.x_t is not None:
        record["full"] = {
            "x_t": encode_array(trace.x_t, fmt),
            "prior": encode_array(trace.prior, fmt),
            "yhat": encode_array(trace.yhat, fmt),
            "yhat_precision": encode_array(trace.yhat_precision, fmt),
        }
    return record
