"""Expert library: masked linear-Gaussian nodes stored in flat arrays (docs/agent.md §1, §11).

Why: the original keeps one Python object per node with a dense D×D ``W`` and a D×D
diagonal ``Σ`` (8 MB per node at D = 1024, 17 GiB resident at D = 4096; §17.12). A node
only ever reads its input dims and writes its output dims, so here every node stores
``W`` as ``|out|×|in|`` over its masks (decision 8) and ``Σ`` as a vector over its output
dims, all nodes packed back to back in flat arrays (CSR style), rows ordered by node id.
The global anchor is diagonal (a per-dim gain and bias; decision 7), so the whole
library is linear in D.

Learning (decision 3, revised): a new node is persistence on its footprint (W = identity
on the dims it both reads and predicts, b = 0). A full node learns W (and b when
``learn_bias``) by recursive least squares with forgetting, one inverse-covariance matrix
``P`` over its input (``(|in| + bias)²`` values, lazily scaled to the data at the first
update); a diagonal node (the global anchor) keeps gain 1 and learns, per output dim, a
gain ``vel`` on the agent's velocity estimate u_k (``mu_k = x_k + vel_k·u_k``) by scalar
RLS (``vel_p``); full nodes learn such gains too. Both rules are invariant to the data's
scale. Hot loops (prediction, fusion, learning) are kernels over these arrays
(``pattools.kernels.nupca_experts``); structural edits (REST) go through the per-node
``Node`` view and rebuild the arrays, which is rare.

Per node (row r): ``ids[r]``; output dims ``out_idx[out_ptr[r]:out_ptr[r+1]]`` (the
mask's support, sorted); input dims ``in_idx[in_ptr[r]:in_ptr[r+1]]`` (the input mask;
the mask itself when none); weights ``w[w_ptr[r]:w_ptr[r+1]]`` (row-major |out|×|in|, or
|out| gains when ``diag[r]``); ``bias``, ``var`` (Σ's diagonal), ``vel`` and ``vel_p``
aligned with ``out_idx``; the RLS matrices ``p[p_ptr[r]:p_ptr[r+1]]`` (row-major, empty
for diagonal nodes) and their initial scale ``p0`` (0 until the first update);
reliability ``pi``; load cost ``cost``; ``anchor``; footprint block (``-1`` if the mask
spans blocks); created / last-active steps; update count; variance sample count
``n_obs``; last step's salience score (``score_valid`` says whether it exists); the activation log
as a ring of ``(t, a)`` pairs. DAG edges are a sorted ``(parent id, child id)`` list.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pattools.nupca.blocks import BlockPartition
from pattools.nupca.config import NupcaConfig

_I64 = np.int64
_F64 = np.float64


@dataclass
class Node:
    """One node, for structural edits and tests (not for the hot path)."""

    node_id: int
    out: np.ndarray  # int64[n_out], sorted
    inp: np.ndarray  # int64[n_in], sorted
    W: np.ndarray  # float64[n_out, n_in], or float64[n_out] gains when diag
    bias: np.ndarray  # float64[n_out]
    var: np.ndarray  # float64[n_out]
    diag: bool = False
    pi: float = 1.0
    cost: float = 1.0
    anchor: bool = False
    footprint: int = -1
    created: int = 0
    last_active: int = 0
    n_updates: int = 0
    score_prev: float = 0.0
    score_valid: bool = False
    act_t: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=_I64))
    act_a: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=_F64))
    vel: np.ndarray | None = None  # float64[n_out]: velocity gains (diagonal nodes)
    vel_p: np.ndarray | None = None  # float64[n_out]: their scalar RLS P (0 = not started)
    P: np.ndarray | None = None  # float64[m, m]: RLS inverse covariance (full nodes)
    p0: float = 0.0  # P's initial scale (0 = not started)
    n_obs: int = 0

    def __post_init__(self) -> None:
        n_out = self.out.shape[0]
        if self.vel is None:
            self.vel = np.zeros(n_out)
        if self.vel_p is None:
            self.vel_p = np.zeros(n_out)
        if self.P is None:
            self.P = np.zeros((0, 0))

    def predict(self, x: np.ndarray, u: np.ndarray | None = None) -> np.ndarray:
        """mu over the output dims: ``W·x[in] + b + vel ⊙ u[out]`` (``w ⊙ x[out]`` in place
        of ``W·x[in]`` when diagonal; ``u`` is the agent's velocity estimate, 0 if not given)."""
        mu = self.W * x[self.out] + self.bias if self.diag else self.W @ x[self.inp] + self.bias
        if u is not None:
            mu = mu + self.vel * u[self.out]
        return mu


@dataclass
class ExpertLibrary:
    ids: np.ndarray
    out_ptr: np.ndarray
    out_idx: np.ndarray
    in_ptr: np.ndarray
    in_idx: np.ndarray
    w_ptr: np.ndarray
    w: np.ndarray
    diag: np.ndarray
    bias: np.ndarray
    var: np.ndarray
    vel: np.ndarray
    vel_p: np.ndarray
    p_ptr: np.ndarray
    p: np.ndarray
    p0: np.ndarray
    n_obs: np.ndarray
    pi: np.ndarray
    cost: np.ndarray
    anchor: np.ndarray
    footprint: np.ndarray
    created: np.ndarray
    last_active: np.ndarray
    n_updates: np.ndarray
    score_prev: np.ndarray
    score_valid: np.ndarray
    act_t: np.ndarray  # int64[N, cap] ring
    act_a: np.ndarray  # float64[N, cap] ring
    act_count: np.ndarray  # int64[N], entries ever appended
    edges: np.ndarray  # int64[E, 2] (parent id, child id), sorted, unique
    next_node_id: int

    @property
    def size(self) -> int:
        return int(self.ids.shape[0])

    @property
    def log_cap(self) -> int:
        return int(self.act_t.shape[1])

    def rows_of(self, node_ids: np.ndarray) -> np.ndarray:
        """Rows of existing node ids (ids must exist)."""
        return np.searchsorted(self.ids, np.asarray(node_ids, dtype=_I64)).astype(_I64)

    def row_of(self, node_id: int) -> int | None:
        row = int(np.searchsorted(self.ids, node_id))
        if row < self.size and int(self.ids[row]) == node_id:
            return row
        return None

    def out_dims(self, row: int) -> np.ndarray:
        return self.out_idx[self.out_ptr[row] : self.out_ptr[row + 1]]

    def activation_log(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        """The row's (t, a) log, oldest first."""
        count = int(self.act_count[row])
        cap = self.log_cap
        if count <= cap:
            return self.act_t[row, :count].copy(), self.act_a[row, :count].copy()
        head = count % cap
        order = np.concatenate([np.arange(head, cap), np.arange(0, head)])
        return self.act_t[row, order].copy(), self.act_a[row, order].copy()

    def out_degree(self) -> np.ndarray:
        """deg⁺ per row: number of children."""
        if self.edges.shape[0] == 0:
            return np.zeros(self.size, dtype=_I64)
        rows = self.rows_of(self.edges[:, 0])
        return np.bincount(rows, minlength=self.size).astype(_I64)

    def node(self, row: int) -> Node:
        o0, o1 = int(self.out_ptr[row]), int(self.out_ptr[row + 1])
        i0, i1 = int(self.in_ptr[row]), int(self.in_ptr[row + 1])
        w0, w1 = int(self.w_ptr[row]), int(self.w_ptr[row + 1])
        diag = bool(self.diag[row])
        weights = self.w[w0:w1].copy()
        if not diag:
            weights = weights.reshape(o1 - o0, i1 - i0)
        p_lo, p_hi = int(self.p_ptr[row]), int(self.p_ptr[row + 1])
        side = int(round((p_hi - p_lo) ** 0.5))
        act_t, act_a = self.activation_log(row)
        return Node(
            node_id=int(self.ids[row]),
            out=self.out_idx[o0:o1].copy(),
            inp=self.in_idx[i0:i1].copy(),
            W=weights,
            bias=self.bias[o0:o1].copy(),
            var=self.var[o0:o1].copy(),
            vel=self.vel[o0:o1].copy(),
            vel_p=self.vel_p[o0:o1].copy(),
            P=self.p[p_lo:p_hi].reshape(side, side).copy(),
            p0=float(self.p0[row]),
            n_obs=int(self.n_obs[row]),
            diag=diag,
            pi=float(self.pi[row]),
            cost=float(self.cost[row]),
            anchor=bool(self.anchor[row]),
            footprint=int(self.footprint[row]),
            created=int(self.created[row]),
            last_active=int(self.last_active[row]),
            n_updates=int(self.n_updates[row]),
            score_prev=float(self.score_prev[row]),
            score_valid=bool(self.score_valid[row]),
            act_t=act_t,
            act_a=act_a,
        )

    def nodes(self) -> list[Node]:
        return [self.node(r) for r in range(self.size)]

    def parents_of(self, node_id: int) -> np.ndarray:
        return self.edges[self.edges[:, 1] == node_id, 0]

    def children_of(self, node_id: int) -> np.ndarray:
        return self.edges[self.edges[:, 0] == node_id, 1]

    @classmethod
    def from_nodes(
        cls, nodes: list[Node], edges: np.ndarray, next_node_id: int, log_cap: int
    ) -> "ExpertLibrary":
        """Pack nodes (any order; sorted by id here) and edges into flat arrays."""
        nodes = sorted(nodes, key=lambda n: n.node_id)
        out_n = np.array([n.out.shape[0] for n in nodes], dtype=_I64)
        in_n = np.array([n.inp.shape[0] for n in nodes], dtype=_I64)
        w_n = np.array([n.W.size for n in nodes], dtype=_I64)
        p_n = np.array([n.P.size for n in nodes], dtype=_I64)
        act_t, act_a, act_count = _activation_rings(nodes, log_cap)
        edges = np.asarray(edges, dtype=_I64).reshape(-1, 2)
        if edges.shape[0]:
            edges = np.unique(edges, axis=0)
        return cls(
            ids=np.array([n.node_id for n in nodes], dtype=_I64),
            out_ptr=_offsets(out_n),
            out_idx=_concatenated([n.out for n in nodes], _I64),
            in_ptr=_offsets(in_n),
            in_idx=_concatenated([n.inp for n in nodes], _I64),
            w_ptr=_offsets(w_n),
            w=_concatenated([n.W for n in nodes], _F64),
            diag=np.array([n.diag for n in nodes], dtype=np.uint8),
            bias=_concatenated([n.bias for n in nodes], _F64),
            var=_concatenated([n.var for n in nodes], _F64),
            vel=_concatenated([n.vel for n in nodes], _F64),
            vel_p=_concatenated([n.vel_p for n in nodes], _F64),
            p_ptr=_offsets(p_n),
            p=_concatenated([n.P for n in nodes], _F64),
            p0=np.array([n.p0 for n in nodes], dtype=_F64),
            n_obs=np.array([n.n_obs for n in nodes], dtype=_I64),
            pi=np.array([n.pi for n in nodes], dtype=_F64),
            cost=np.array([n.cost for n in nodes], dtype=_F64),
            anchor=np.array([n.anchor for n in nodes], dtype=np.uint8),
            footprint=np.array([n.footprint for n in nodes], dtype=_I64),
            created=np.array([n.created for n in nodes], dtype=_I64),
            last_active=np.array([n.last_active for n in nodes], dtype=_I64),
            n_updates=np.array([n.n_updates for n in nodes], dtype=_I64),
            score_prev=np.array([n.score_prev for n in nodes], dtype=_F64),
            score_valid=np.array([n.score_valid for n in nodes], dtype=np.uint8),
            act_t=act_t,
            act_a=act_a,
            act_count=act_count,
            edges=edges,
            next_node_id=int(next_node_id),
        )


def _offsets(sizes: np.ndarray) -> np.ndarray:
    """Offsets of consecutive runs of the given sizes (one more than there are runs)."""
    p = np.zeros(sizes.shape[0] + 1, dtype=_I64)
    np.cumsum(sizes, out=p[1:])
    return p


def _concatenated(arrays: list[np.ndarray], dtype) -> np.ndarray:
    if not arrays:
        return np.zeros(0, dtype=dtype)
    return np.concatenate([np.asarray(a, dtype=dtype).ravel() for a in arrays])


def _activation_rings(nodes: list[Node], log_cap: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each node's last ``log_cap`` activations as rows of the library's ring buffers."""
    count = len(nodes)
    act_t = np.zeros((count, log_cap), dtype=_I64)
    act_a = np.zeros((count, log_cap), dtype=_F64)
    act_count = np.zeros(count, dtype=_I64)
    for r, n in enumerate(nodes):
        keep = min(log_cap, n.act_t.shape[0])
        if keep:
            act_t[r, :keep] = n.act_t[-keep:]
            act_a[r, :keep] = n.act_a[-keep:]
        act_count[r] = keep
    return act_t, act_a, act_count


def footprint_of(dims: np.ndarray, partition: BlockPartition) -> int:
    """The block holding every dim of a mask, or -1 when the mask spans blocks or is empty."""
    if dims.shape[0] == 0:
        return -1
    blocks = partition.block_of_dim[dims]
    first = int(blocks[0])
    return first if bool(np.all(blocks == first)) else -1


def new_node(
    node_id: int,
    out: np.ndarray,
    inp: np.ndarray,
    config: NupcaConfig,
    partition: BlockPartition,
    *,
    step: int,
    pi: float = 1.0,
    anchor: bool = False,
    diag: bool = False,
) -> Node:
    """A fresh node that predicts persistence: W = identity on the dims it both reads and
    predicts (gain 1 for a diagonal node), b = 0, Σ = 1, cost = base + dim_cost·|out|
    (decision 3, revised)."""
    out = np.asarray(out, dtype=_I64)
    inp = np.asarray(inp, dtype=_I64)
    if diag:
        weights = np.ones(out.shape[0], dtype=_F64)
    else:
        weights = np.zeros((out.shape[0], inp.shape[0]))
        rows = np.flatnonzero(np.isin(out, inp))
        weights[rows, np.searchsorted(inp, out[rows])] = 1.0
    side = 0 if diag else rls_size(int(inp.shape[0]), config)
    return Node(
        node_id=node_id,
        out=out,
        inp=inp,
        W=weights,
        bias=np.zeros(out.shape[0]),
        var=np.ones(out.shape[0]),
        diag=diag,
        P=np.zeros((side, side)),
        pi=pi,
        cost=config.node_cost(int(out.shape[0])),
        anchor=anchor,
        footprint=-1 if anchor and diag else footprint_of(out, partition),
        created=step,
        last_active=step,
    )


def rls_size(n_in: int, config: NupcaConfig) -> int:
    """Side of a full node's RLS matrix: its inputs, plus one for the bias when learned."""
    return n_in + (1 if config.learn_bias else 0)


def init_library(config: NupcaConfig, partition: BlockPartition) -> ExpertLibrary:
    """Node 0: the diagonal global anchor over all D dims; nodes 1..B: one per block.

    With ``transport_span_blocks`` = s > 0, B more nodes follow, one per block, whose
    input mask spans blocks b−s..b+s. ``next_node_id`` starts after the last id (§17.9).
    """
    dim = config.D
    all_dims = np.arange(dim, dtype=_I64)
    nodes = [new_node(0, all_dims, all_dims, config, partition, step=0, anchor=True, diag=True)]
    count = partition.count
    for b in range(count):
        dims = partition.dims(b)
        nodes.append(
            new_node(len(nodes), dims, dims, config, partition, step=0, anchor=config.force_block_anchors)
        )
    span = config.transport_span_blocks
    if span > 0:
        for b in range(count):
            lo, hi = max(0, b - span), min(count - 1, b + span)
            inp = np.arange(partition.start[lo], partition.start[hi + 1], dtype=_I64)
            nodes.append(new_node(len(nodes), partition.dims(b), inp, config, partition, step=0))
    return ExpertLibrary.from_nodes(
        nodes, np.zeros((0, 2), dtype=_I64), len(nodes), config.activation_log_max
    )


def incumbent_index(library: ExpertLibrary, block_count: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-block incumbents (non-anchor nodes whose footprint is the block), CSR by block.

    Rows inside a block are in id order. Derived from footprints, so it can never
    disagree with the library after an edit.
    """
    eligible = np.flatnonzero((library.anchor == 0) & (library.footprint >= 0))
    blocks = library.footprint[eligible]
    order = np.argsort(blocks, kind="stable")
    rows = eligible[order].astype(_I64)
    counts = np.bincount(blocks, minlength=block_count).astype(_I64)
    ptr = np.zeros(block_count + 1, dtype=_I64)
    np.cumsum(counts, out=ptr[1:])
    return ptr, rows
