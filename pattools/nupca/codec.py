"""Records of the agent: NUPCA_STATE, NUPCA_OBS and NUPCA_TRACE, and the configuration file.

Typed arrays travel as ``{dtype, shape, data}`` maps (schemas/NUPCA_STATE.schema.json):
``data`` is a little-endian byte string in CBOR and a flat list of numbers in JSON lines;
readers accept either form in either framing. Float arrays are finite: variances travel
as precisions (0 = infinite variance), so no infinity appears in any record. Bytes are
encoded and decoded by ``pattools.io``; this module only builds and checks the maps.

A state read back is checked as thoroughly as a kernel needs (index ranges, pointer
arrays, shapes), because the kernels do not bounds-check: a damaged state is a one-line
data error, never a crash.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from pattools.errors import DataError, expected_found
from pattools.io import decode_document
from pattools.nupca.completion import Cue
from pattools.nupca.config import NupcaConfig, config_from_dict
from pattools.nupca.experts import ExpertLibrary
from pattools.nupca.state import NupcaState, RestMemory, covariance_offsets
from pattools.nupca.observation import Control, Observation
from pattools.nupca.step import StepTrace
from pattools.nupca.blocks import build_blocks

DTYPES = {"float64": np.float64, "int64": np.int64, "uint8": np.uint8}
_NAMES = {np.dtype(np.float64): "float64", np.dtype(np.int64): "int64", np.dtype(np.uint8): "uint8"}
FORMATS = ("cbor", "jsonl")
STATE_VERSION = 2  # 2: persistence-initialised experts, RLS learning, per-dim observation memory


# ------------------------------------------------------------------------- typed arrays


def encode_array(array: np.ndarray, fmt: str) -> dict:
    """``{dtype, shape, data}``: bytes for CBOR, a flat list for JSON lines."""
    array = np.ascontiguousarray(array)
    name = _NAMES.get(array.dtype)
    if name is None:
        raise ValueError(f"unsupported dtype {array.dtype}")
    if name == "float64" and array.size and not np.all(np.isfinite(array)):
        raise ValueError("non-finite value in a float array record")
    if fmt == "cbor":
        data: object = array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
    else:
        data = array.ravel().tolist()
    return {"dtype": name, "shape": list(array.shape), "data": data}


def decode_array(value: object, path: str, *, dtype: str | None = None, ndim: int | None = None,
                 shape: tuple[int, ...] | None = None) -> np.ndarray:
    """A numpy array from a typed-array map or a plain list (checked: dtype, shape, finite)."""
    if isinstance(value, list):
        array = _from_list(value, dtype or "float64", path)
    elif isinstance(value, dict):
        array = _from_map(value, path)
    else:
        raise DataError(expected_found("typed array or array", value), path=path)
    if dtype is not None and _NAMES[array.dtype] != dtype:
        if dtype == "float64" and array.dtype == np.int64:
            array = array.astype(np.float64)
        else:
            raise DataError(f"expected dtype {dtype}, got {_NAMES[array.dtype]}", path=path)
    if ndim is not None and array.ndim != ndim:
        raise DataError(f"expected {ndim}-dimensional array, got shape {list(array.shape)}", path=path)
    if shape is not None and tuple(array.shape) != tuple(shape):
        raise DataError(f"expected shape {list(shape)}, got {list(array.shape)}", path=path)
    if array.dtype == np.float64 and array.size and not np.all(np.isfinite(array)):
        bad = int(np.flatnonzero(~np.isfinite(array.ravel()))[0])
        raise DataError(f"expected a finite number, got {array.ravel()[bad]!r}", path=f"{path}[{bad}]")
    return array


def _from_list(value: list, dtype: str, path: str) -> np.ndarray:
    for i, item in enumerate(value):
        if isinstance(item, bool) or not isinstance(item, (int, float)):
            raise DataError(expected_found("number", item), path=f"{path}[{i}]")
        if dtype != "float64" and not isinstance(item, int):
            raise DataError(expected_found("integer", item), path=f"{path}[{i}]")
    try:
        return np.array(value, dtype=DTYPES[dtype]).reshape(len(value))
    except OverflowError:
        raise DataError("integer out of range", path=path) from None


def _from_map(value: dict, path: str) -> np.ndarray:
    extra = sorted(set(value) - {"dtype", "shape", "data"})
    if extra:
        raise DataError("expected no such field, got an unknown field", path=f"{path}.{extra[0]}")
    name = value.get("dtype")
    if name not in DTYPES:
        raise DataError(expected_found("one of float64, int64, uint8", name), path=f"{path}.dtype")
    shape = value.get("shape")
    if not isinstance(shape, list) or not 1 <= len(shape) <= 2 or not all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape
    ):
        raise DataError(expected_found("array of 1 or 2 non-negative integers", shape), path=f"{path}.shape")
    count = math.prod(shape)
    data = value.get("data")
    if isinstance(data, (bytes, bytearray)):
        itemsize = np.dtype(DTYPES[name]).itemsize
        if len(data) != count * itemsize:
            raise DataError(f"expected {count * itemsize} bytes for shape {shape}, got {len(data)}",
                            path=f"{path}.data")
        array = np.frombuffer(bytes(data), dtype=np.dtype(DTYPES[name]).newbyteorder("<")).astype(DTYPES[name])
    elif isinstance(data, list):
        if len(data) != count:
            raise DataError(f"expected {count} values for shape {shape}, got {len(data)}", path=f"{path}.data")
        array = _from_list(data, name, f"{path}.data")
    else:
        raise DataError(expected_found("byte string or array", data), path=f"{path}.data")
    return array.reshape(shape)


# ------------------------------------------------------------------------- configuration


def load_config_file(path: str, **overrides: object) -> NupcaConfig:
    """A configuration from a JSON file (an object of config keys), ``overrides`` on top."""
    document = load_config_document(path)
    for key, value in overrides.items():
        if key in document and document[key] != value:
            raise DataError(f"{key} = {document[key]!r} in the file conflicts with {value!r}",
                            input=path, path=key)
        document[key] = value
    try:
        return config_from_dict(document)
    except DataError as err:
        raise err.located(input=path) from None


def load_config_document(path: str) -> dict:
    """The raw JSON object of a configuration file (keys checked when it is applied)."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise DataError("no such file or directory", input=path) from None
    except IsADirectoryError:
        raise DataError("is a directory", input=path) from None
    except PermissionError:
        raise DataError("permission denied", input=path) from None
    document = decode_document(data, path)
    if not isinstance(document, dict):
        raise DataError(expected_found("object", document), input=path)
    return document


# ------------------------------------------------------------------------- state


def state_to_record(state: NupcaState, fmt: str) -> dict:
    """The NUPCA_STATE record of a state (typed arrays in the given framing)."""
    a = lambda array: encode_array(array, fmt)  # noqa: E731
    lib = state.library
    act_ptr = np.zeros(lib.size + 1, dtype=np.int64)
    logs = [lib.activation_log(r) for r in range(lib.size)]
    np.cumsum([log[0].shape[0] for log in logs], out=act_ptr[1:])
    act_t = np.concatenate([log[0] for log in logs]) if logs else np.zeros(0, dtype=np.int64)
    act_a = np.concatenate([log[1] for log in logs]) if logs else np.zeros(0)
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
        "library": {
            "next_node_id": int(lib.next_node_id),
            "ids": a(lib.ids), "out_ptr": a(lib.out_ptr), "out_idx": a(lib.out_idx),
            "in_ptr": a(lib.in_ptr), "in_idx": a(lib.in_idx), "w_ptr": a(lib.w_ptr), "w": a(lib.w),
            "diag": a(lib.diag), "bias": a(lib.bias), "var": a(lib.var), "vel": a(lib.vel),
            "vel_p": a(lib.vel_p), "p_ptr": a(lib.p_ptr), "p": a(lib.p), "p0": a(lib.p0), "n_obs": a(lib.n_obs),
            "pi": a(lib.pi),
            "cost": a(lib.cost), "anchor": a(lib.anchor), "footprint": a(lib.footprint),
            "created": a(lib.created), "last_active": a(lib.last_active), "n_updates": a(lib.n_updates),
            "score_prev": a(lib.score_prev), "score_valid": a(lib.score_valid),
            "act_ptr": a(act_ptr), "act_t": a(act_t), "act_a": a(act_a), "edges": a(lib.edges),
        },
        "rest": {
            "persist": a(memory.persist), "visits": a(memory.visits), "last_update": a(memory.last_update),
            "res_mean": a(memory.res_mean), "res_cov": a(memory.res_cov), "res_n": a(memory.res_n),
            "tr_tau": a(memory.tr_tau), "tr_prev": a(memory.tr_prev), "tr_next": a(memory.tr_next),
            "tr_obs": a(memory.tr_obs), "tr_count": a(memory.tr_count),
            "queue": {"kind": a(memory.q_kind), "a": a(memory.q_a), "b": a(memory.q_b),
                      "block": a(memory.q_block), "priority": a(memory.q_priority)},
        },
    }


def _field(record: dict, key: str, path: str) -> object:
    if not isinstance(record, dict):
        raise DataError(expected_found("object", record), path=path)
    if key not in record:
        raise DataError("expected a value, got nothing (required field missing)", path=f"{path}.{key}" if path else key)
    return record[key]


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
    config = config_from_dict(_field(record, "config", ""), path="config")
    dim = config.D
    # The buffer's real length must match the declared D before anything is sized by D.
    decode_array(_field(_field(record, "buffer", ""), "x_last", "buffer"), "buffer.x_last", dtype="float64",
                 shape=(dim,))
    partition = build_blocks(config)
    count = partition.count
    cap = config.transition_log_max

    def arr(section: str, key: str, dtype: str, **kw) -> np.ndarray:
        holder = record if not section else _field(record, section, "")
        path = f"{section}.{key}" if section else key
        return decode_array(_field(holder, key, section), path, dtype=dtype, **kw)

    t = _field(record, "t", "")
    if isinstance(t, bool) or not isinstance(t, int) or t < 0:
        raise DataError(expected_found("non-negative integer", t), path="t")
    cache = _field(record, "cache", "")
    has_cache = cache is not None
    if has_cache:
        yhat = decode_array(_field(cache, "yhat", "cache"), "cache.yhat", dtype="float64", shape=(dim,))
        prec = decode_array(_field(cache, "precision", "cache"), "cache.precision", dtype="float64", shape=(dim,))
        _require(bool(np.all(prec >= 0.0)), "expected precisions >= 0", "cache.precision")
    else:
        yhat, prec = np.zeros(dim), np.zeros(dim)
    observed = arr("buffer", "observed_dims", "int64", ndim=1)
    _check_index(observed, dim, "buffer.observed_dims")
    fovea_blocks = arr("fovea", "blocks", "int64", ndim=1)
    _check_index(fovea_blocks, count, "fovea.blocks")
    seen_step = arr("seen", "step", "int64", shape=(dim,))
    _require(bool(np.all((seen_step >= -1) & (seen_step < t))), f"expected steps in [-1, t = {t})",
             "seen.step")
    change_scale = arr("seen", "scale", "float64", shape=(dim,))
    _require(bool(np.all(change_scale >= 0.0)), "expected scales >= 0", "seen.scale")

    library = _library_from_record(_field(record, "library", ""), config, partition)
    rest = _rest_from_record(_field(record, "rest", ""), config, partition, dim, count, cap)
    state = NupcaState(
        config=config,
        t=t,
        x_last=arr("buffer", "x_last", "float64", shape=(dim,)),
        x_prior=arr("buffer", "x_prior", "float64", shape=(dim,)),
        observed_dims=observed,
        has_cache=has_cache,
        yhat=yhat,
        yhat_prec=prec,
        seen_value=arr("seen", "value", "float64", shape=(dim,)),
        seen_step=seen_step,
        velocity=arr("seen", "velocity", "float64", shape=(dim,)),
        change_scale=change_scale,
        fovea_residual=arr("fovea", "residual", "float64", shape=(count,)),
        fovea_age=arr("fovea", "age", "float64", shape=(count,)),
        fovea_blocks=fovea_blocks,
        active=decode_array(_field(record, "active", ""), "active", dtype="int64", ndim=1),
        library=library,
        rest=rest,
    )
    state._derived["partition"] = partition
    return state


def _require(condition: bool, message: str, path: str) -> None:
    if not condition:
        raise DataError(message, path=path)


def _check_index(values: np.ndarray, bound: int, path: str, low: int = 0) -> None:
    if values.size and (int(values.min()) < low or int(values.max()) >= bound):
        bad = values[(values < low) | (values >= bound)].ravel()[0]
        raise DataError(f"expected an index in [{low}, {bound}), got {int(bad)}", path=path)


def _check_ptr(ptr: np.ndarray, nodes: int, total: int, path: str) -> None:
    _require(ptr.shape == (nodes + 1,), f"expected {nodes + 1} offsets, got {ptr.shape[0]}", path)
    _require(int(ptr[0]) == 0 and int(ptr[-1]) == total and bool(np.all(np.diff(ptr) >= 0)),
             f"expected non-decreasing offsets from 0 to {total}", path)


def _library_from_record(value: dict, config: NupcaConfig, partition) -> ExpertLibrary:
    dim = config.D

    def arr(key: str, dtype: str, **kw) -> np.ndarray:
        return decode_array(_field(value, key, "library"), f"library.{key}", dtype=dtype, **kw)

    ids = arr("ids", "int64", ndim=1)
    nodes = ids.shape[0]
    next_id = _field(value, "next_node_id", "library")
    if isinstance(next_id, bool) or not isinstance(next_id, int) or next_id < 0:
        raise DataError(expected_found("non-negative integer", next_id), path="library.next_node_id")
    _require(bool(np.all(np.diff(ids) > 0)), "expected strictly increasing node ids", "library.ids")
    if nodes:
        _require(int(ids[0]) >= 0 and int(ids[-1]) < next_id,
                 f"expected ids in [0, next_node_id {next_id})", "library.ids")
    per_node = {}
    for key, dtype in (("diag", "uint8"), ("pi", "float64"), ("cost", "float64"), ("anchor", "uint8"),
                       ("footprint", "int64"), ("created", "int64"), ("last_active", "int64"),
                       ("n_updates", "int64"), ("score_prev", "float64"), ("score_valid", "uint8")):
        per_node[key] = arr(key, dtype, shape=(nodes,))
    _check_index(per_node["footprint"], partition.count, "library.footprint", low=-1)
    _require(bool(np.all(per_node["cost"] > 0.0)), "expected costs > 0", "library.cost")
    out_idx = arr("out_idx", "int64", ndim=1)
    in_idx = arr("in_idx", "int64", ndim=1)
    out_ptr = arr("out_ptr", "int64", ndim=1)
    in_ptr = arr("in_ptr", "int64", ndim=1)
    w_ptr = arr("w_ptr", "int64", ndim=1)
    w = arr("w", "float64", ndim=1)
    _check_ptr(out_ptr, nodes, out_idx.shape[0], "library.out_ptr")
    _check_ptr(in_ptr, nodes, in_idx.shape[0], "library.in_ptr")
    _check_ptr(w_ptr, nodes, w.shape[0], "library.w_ptr")
    _check_index(out_idx, dim, "library.out_idx")
    _check_index(in_idx, dim, "library.in_idx")
    n_out, n_in, n_w = np.diff(out_ptr), np.diff(in_ptr), np.diff(w_ptr)
    diag = per_node["diag"].astype(bool)
    expected_w = np.where(diag, n_out, n_out * n_in)
    _require(bool(np.all(n_w == expected_w)), "expected |out|×|in| weights per node (|out| when diagonal)",
             "library.w_ptr")
    for r in np.flatnonzero(diag):
        same = np.array_equal(out_idx[out_ptr[r]:out_ptr[r + 1]], in_idx[in_ptr[r]:in_ptr[r + 1]])
        _require(same, "expected a diagonal node's input dims to equal its output dims", "library.in_idx")
    for r in range(nodes):
        for name, idx, ptr in (("out_idx", out_idx, out_ptr), ("in_idx", in_idx, in_ptr)):
            part = idx[ptr[r]:ptr[r + 1]]
            if part.shape[0] > 1 and not bool(np.all(np.diff(part) > 0)):
                raise DataError(f"expected ascending distinct dims for node {int(ids[r])}", path=f"library.{name}")
    bias = arr("bias", "float64", shape=(out_idx.shape[0],))
    var = arr("var", "float64", shape=(out_idx.shape[0],))
    _require(bool(np.all(var > 0.0)), "expected variances > 0", "library.var")
    vel = arr("vel", "float64", shape=(out_idx.shape[0],))
    vel_p = arr("vel_p", "float64", shape=(out_idx.shape[0],))
    _require(bool(np.all(vel_p >= 0.0)), "expected values >= 0", "library.vel_p")
    p_ptr = arr("p_ptr", "int64", ndim=1)
    p = arr("p", "float64", ndim=1)
    _check_ptr(p_ptr, nodes, p.shape[0], "library.p_ptr")
    side = n_in + (1 if config.learn_bias else 0)
    _require(bool(np.all(np.diff(p_ptr) == np.where(diag, 0, side * side))),
             "expected (|in| + bias)² RLS values per full node (none when diagonal)", "library.p_ptr")
    p0 = arr("p0", "float64", shape=(nodes,))
    _require(bool(np.all(p0 >= 0.0)), "expected values >= 0", "library.p0")
    n_obs = arr("n_obs", "int64", shape=(nodes,))
    act_ptr = arr("act_ptr", "int64", ndim=1)
    act_t_flat = arr("act_t", "int64", ndim=1)
    act_a_flat = arr("act_a", "float64", shape=(act_t_flat.shape[0],))
    _check_ptr(act_ptr, nodes, act_t_flat.shape[0], "library.act_ptr")
    cap = config.activation_log_max
    act_t = np.zeros((nodes, cap), dtype=np.int64)
    act_a = np.zeros((nodes, cap))
    act_count = np.zeros(nodes, dtype=np.int64)
    for r in range(nodes):
        times = act_t_flat[act_ptr[r]:act_ptr[r + 1]][-cap:]
        values = act_a_flat[act_ptr[r]:act_ptr[r + 1]][-cap:]
        if times.shape[0] > 1:
            _require(bool(np.all(np.diff(times) > 0)), "expected increasing steps in each log", "library.act_t")
        act_t[r, : times.shape[0]] = times
        act_a[r, : times.shape[0]] = values
        act_count[r] = times.shape[0]
    edges = arr("edges", "int64", ndim=2)
    _require(edges.shape[1] == 2 if edges.shape[0] else edges.shape in ((0, 2), (0, 0)),
             "expected an E×2 array", "library.edges")
    edges = edges.reshape(-1, 2)
    if edges.shape[0]:
        known = np.isin(edges, ids)
        _require(bool(np.all(known)), "expected edges between existing nodes (a deleted node is listed)",
                 "library.edges")
    return ExpertLibrary(
        ids=ids, out_ptr=out_ptr, out_idx=out_idx, in_ptr=in_ptr, in_idx=in_idx, w_ptr=w_ptr, w=w,
        diag=per_node["diag"], bias=bias, var=var, vel=vel, vel_p=vel_p, p_ptr=p_ptr, p=p, p0=p0, n_obs=n_obs,
        pi=per_node["pi"], cost=per_node["cost"],
        anchor=per_node["anchor"], footprint=per_node["footprint"], created=per_node["created"],
        last_active=per_node["last_active"], n_updates=per_node["n_updates"],
        score_prev=per_node["score_prev"], score_valid=per_node["score_valid"], act_t=act_t, act_a=act_a,
        act_count=act_count, edges=np.unique(edges, axis=0) if edges.shape[0] else edges, next_node_id=next_id,
    )


def _rest_from_record(value: dict, config: NupcaConfig, partition, dim: int, count: int, cap: int) -> RestMemory:
    def arr(key: str, dtype: str, section: dict | None = None, prefix: str = "rest", **kw) -> np.ndarray:
        holder = value if section is None else section
        return decode_array(_field(holder, key, prefix), f"{prefix}.{key}", dtype=dtype, **kw)

    cov_len = int(covariance_offsets(partition)[-1])
    queue = _field(value, "queue", "rest")
    q_kind = arr("kind", "int64", queue, "rest.queue", ndim=1)
    q_len = q_kind.shape[0]
    _check_index(q_kind, 4, "rest.queue.kind")
    q_block = arr("block", "int64", queue, "rest.queue", shape=(q_len,))
    _check_index(q_block, count, "rest.queue.block", low=-1)
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
    _require(bool(np.all(memory.tr_count >= 0)), "expected counts >= 0", "rest.tr_count")
    return memory


# ------------------------------------------------------------------------- observations


def observation_from_record(record: dict, dim: int, *, drop_nonfinite: bool = False) -> tuple[Observation, int]:
    """(Observation, number of dropped non-finite cue values) from a NUPCA_OBS record."""
    partial = _field(record, "x_partial", "")
    dims = decode_array(_field(partial, "dims", "x_partial"), "x_partial.dims", dtype="int64", ndim=1)
    values_raw = _field(partial, "values", "x_partial")
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
