"""The expert library's part of a NUPCA_STATE record (``library``): flat per-node arrays,
offset arrays into the concatenated masks, weights and RLS matrices, the activation logs
(flattened with their own offsets) and the DAG's edges.

Read back, every offset, index, count and shape is checked in the order below (the first
failure is the one reported), because the kernels index these arrays unchecked.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from pattools.errors import DataError, expected_found
from pattools.nupca.config import NupcaConfig
from pattools.nupca.experts import ExpertLibrary
from pattools.nupca.record_checks import check_index, check_ptr, field, require
from pattools.nupca.typed_arrays import decode_array, encode_array

_PER_NODE = (("diag", "uint8"), ("pi", "float64"), ("cost", "float64"), ("anchor", "uint8"), ("footprint", "int64"),
             ("created", "int64"), ("last_active", "int64"), ("n_updates", "int64"), ("score_prev", "float64"),
             ("score_valid", "uint8"))

Reader = Callable[..., np.ndarray]


def library_to_record(lib: ExpertLibrary, fmt: str) -> dict:
    """The ``library`` map of a NUPCA_STATE record (typed arrays in the given framing)."""
    a = lambda array: encode_array(array, fmt)  # noqa: E731
    act_ptr = np.zeros(lib.size + 1, dtype=np.int64)
    logs = [lib.activation_log(r) for r in range(lib.size)]
    np.cumsum([log[0].shape[0] for log in logs], out=act_ptr[1:])
    act_t = np.concatenate([log[0] for log in logs]) if logs else np.zeros(0, dtype=np.int64)
    act_a = np.concatenate([log[1] for log in logs]) if logs else np.zeros(0)
    return {
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
    }


def library_from_record(value: dict, config: NupcaConfig, partition) -> ExpertLibrary:
    """The expert library of a ``library`` map, fully checked."""

    def arr(key: str, dtype: str, **kw) -> np.ndarray:
        return decode_array(field(value, key, "library"), f"library.{key}", dtype=dtype, **kw)

    ids, next_id = _ids(value, arr)
    nodes = ids.shape[0]
    per_node = {key: arr(key, dtype, shape=(nodes,)) for key, dtype in _PER_NODE}
    check_index(per_node["footprint"], partition.count, "library.footprint", low=-1)
    require(bool(np.all(per_node["cost"] > 0.0)), "expected costs > 0", "library.cost")
    masks = _masks(arr, ids, per_node["diag"].astype(bool), config.D)
    outputs = masks["out_idx"].shape[0]
    bias = arr("bias", "float64", shape=(outputs,))
    var = arr("var", "float64", shape=(outputs,))
    require(bool(np.all(var > 0.0)), "expected variances > 0", "library.var")
    vel = arr("vel", "float64", shape=(outputs,))
    vel_p = arr("vel_p", "float64", shape=(outputs,))
    require(bool(np.all(vel_p >= 0.0)), "expected values >= 0", "library.vel_p")
    rls = _rls(arr, nodes, per_node["diag"].astype(bool), np.diff(masks["in_ptr"]), config)
    act_t, act_a, act_count = _activation_logs(arr, nodes, config.activation_log_max)
    edges = _edges(arr, ids)
    return ExpertLibrary(
        ids=ids, **masks, diag=per_node["diag"], bias=bias, var=var, vel=vel, vel_p=vel_p, **rls,
        pi=per_node["pi"], cost=per_node["cost"],
        anchor=per_node["anchor"], footprint=per_node["footprint"], created=per_node["created"],
        last_active=per_node["last_active"], n_updates=per_node["n_updates"],
        score_prev=per_node["score_prev"], score_valid=per_node["score_valid"], act_t=act_t, act_a=act_a,
        act_count=act_count, edges=np.unique(edges, axis=0) if edges.shape[0] else edges, next_node_id=next_id,
    )


def _ids(value: dict, arr: Reader) -> tuple[np.ndarray, int]:
    """Node ids (strictly increasing, below next_node_id) and next_node_id."""
    ids = arr("ids", "int64", ndim=1)
    next_id = field(value, "next_node_id", "library")
    if isinstance(next_id, bool) or not isinstance(next_id, int) or next_id < 0:
        raise DataError(expected_found("non-negative integer", next_id), path="library.next_node_id")
    require(bool(np.all(np.diff(ids) > 0)), "expected strictly increasing node ids", "library.ids")
    if ids.shape[0]:
        require(int(ids[0]) >= 0 and int(ids[-1]) < next_id,
                f"expected ids in [0, next_node_id {next_id})", "library.ids")
    return ids, next_id


def _masks(arr: Reader, ids: np.ndarray, diag: np.ndarray, dim: int) -> dict[str, np.ndarray]:
    """Output and input dims per node and the weights' offsets and values, consistent."""
    nodes = ids.shape[0]
    out_idx = arr("out_idx", "int64", ndim=1)
    in_idx = arr("in_idx", "int64", ndim=1)
    out_ptr = arr("out_ptr", "int64", ndim=1)
    in_ptr = arr("in_ptr", "int64", ndim=1)
    w_ptr = arr("w_ptr", "int64", ndim=1)
    w = arr("w", "float64", ndim=1)
    check_ptr(out_ptr, nodes, out_idx.shape[0], "library.out_ptr")
    check_ptr(in_ptr, nodes, in_idx.shape[0], "library.in_ptr")
    check_ptr(w_ptr, nodes, w.shape[0], "library.w_ptr")
    check_index(out_idx, dim, "library.out_idx")
    check_index(in_idx, dim, "library.in_idx")
    n_out, n_in, n_w = np.diff(out_ptr), np.diff(in_ptr), np.diff(w_ptr)
    expected_w = np.where(diag, n_out, n_out * n_in)
    require(bool(np.all(n_w == expected_w)), "expected |out|×|in| weights per node (|out| when diagonal)",
            "library.w_ptr")
    for r in np.flatnonzero(diag):
        same = np.array_equal(out_idx[out_ptr[r]:out_ptr[r + 1]], in_idx[in_ptr[r]:in_ptr[r + 1]])
        require(same, "expected a diagonal node's input dims to equal its output dims", "library.in_idx")
    for r in range(nodes):
        for name, idx, ptr in (("out_idx", out_idx, out_ptr), ("in_idx", in_idx, in_ptr)):
            part = idx[ptr[r]:ptr[r + 1]]
            if part.shape[0] > 1 and not bool(np.all(np.diff(part) > 0)):
                raise DataError(f"expected ascending distinct dims for node {int(ids[r])}", path=f"library.{name}")
    return {"out_ptr": out_ptr, "out_idx": out_idx, "in_ptr": in_ptr, "in_idx": in_idx, "w_ptr": w_ptr, "w": w}


def _rls(arr: Reader, nodes: int, diag: np.ndarray, n_in: np.ndarray, config: NupcaConfig) -> dict[str, np.ndarray]:
    """The RLS matrices ((|in| + bias)² values per full node), their first scale and sample counts."""
    p_ptr = arr("p_ptr", "int64", ndim=1)
    p = arr("p", "float64", ndim=1)
    check_ptr(p_ptr, nodes, p.shape[0], "library.p_ptr")
    side = n_in + (1 if config.learn_bias else 0)
    require(bool(np.all(np.diff(p_ptr) == np.where(diag, 0, side * side))),
            "expected (|in| + bias)² RLS values per full node (none when diagonal)", "library.p_ptr")
    p0 = arr("p0", "float64", shape=(nodes,))
    require(bool(np.all(p0 >= 0.0)), "expected values >= 0", "library.p0")
    n_obs = arr("n_obs", "int64", shape=(nodes,))
    return {"p_ptr": p_ptr, "p": p, "p0": p0, "n_obs": n_obs}


def _activation_logs(arr: Reader, nodes: int, cap: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each node's activation log (its last ``cap`` entries, steps increasing) as ring rows."""
    act_ptr = arr("act_ptr", "int64", ndim=1)
    act_t_flat = arr("act_t", "int64", ndim=1)
    act_a_flat = arr("act_a", "float64", shape=(act_t_flat.shape[0],))
    check_ptr(act_ptr, nodes, act_t_flat.shape[0], "library.act_ptr")
    act_t = np.zeros((nodes, cap), dtype=np.int64)
    act_a = np.zeros((nodes, cap))
    act_count = np.zeros(nodes, dtype=np.int64)
    for r in range(nodes):
        times = act_t_flat[act_ptr[r]:act_ptr[r + 1]][-cap:]
        values = act_a_flat[act_ptr[r]:act_ptr[r + 1]][-cap:]
        if times.shape[0] > 1:
            require(bool(np.all(np.diff(times) > 0)), "expected increasing steps in each log", "library.act_t")
        act_t[r, : times.shape[0]] = times
        act_a[r, : times.shape[0]] = values
        act_count[r] = times.shape[0]
    return act_t, act_a, act_count


def _edges(arr: Reader, ids: np.ndarray) -> np.ndarray:
    """The DAG's (parent, child) pairs, between existing nodes."""
    edges = arr("edges", "int64", ndim=2)
    require(edges.shape[1] == 2 if edges.shape[0] else edges.shape in ((0, 2), (0, 0)),
            "expected an E×2 array", "library.edges")
    edges = edges.reshape(-1, 2)
    if edges.shape[0]:
        known = np.isin(edges, ids)
        require(bool(np.all(known)), "expected edges between existing nodes (a deleted node is listed)",
                "library.edges")
    return edges
