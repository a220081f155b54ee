"""Block partition of the state vector (docs/agent.md §2, contiguous mode).

The D dims are cut into B contiguous blocks, the remainder ``D mod B`` going one dim each
to the first blocks. The last ``periph_blocks`` block ids are the peripheral blocks, so
the peripheral dims are the final dims of x. A block's observation cost is its size
(a peripheral block costs ``max(1, periph_bins²)``); budgets use the normalised cost
``cost / mean(cost)`` (decision 5). Blocks are contiguous, so a block is just the range
``[start[b], start[b+1])``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class BlockPartition:
    start: np.ndarray  # int64[B+1]: block b covers dims [start[b], start[b+1])
    block_of_dim: np.ndarray  # int64[D]
    cost: np.ndarray  # float64[B], raw observation cost c_b
    norm_cost: np.ndarray  # float64[B], c_b / mean(c)
    peripheral: np.ndarray  # uint8[B], 1 for the tail peripheral blocks
    periph_dims: int  # the last periph_dims dims of x are peripheral

    @property
    def count(self) -> int:
        return int(self.start.shape[0] - 1)

    @property
    def sizes(self) -> np.ndarray:
        return np.diff(self.start)

    def dims(self, block: int) -> np.ndarray:
        return np.arange(self.start[block], self.start[block + 1], dtype=np.int64)

    def dims_of(self, blocks: np.ndarray) -> np.ndarray:
        """Sorted union of the dims of the given blocks (O_req for a fovea set)."""
        blocks = np.unique(np.asarray(blocks, dtype=np.int64))
        if blocks.size == 0:
            return np.zeros(0, dtype=np.int64)
        return np.concatenate([self.dims(int(b)) for b in blocks])


def build_blocks(config) -> BlockPartition:
    """The contiguous partition for ``config.D``, ``config.B``, ``config.periph_blocks``."""
    dim, count = int(config.D), int(config.B)
    q, r = divmod(dim, count)
    sizes = np.full(count, q, dtype=np.int64)
    sizes[:r] += 1
    start = np.zeros(count + 1, dtype=np.int64)
    np.cumsum(sizes, out=start[1:])
    block_of_dim = np.repeat(np.arange(count, dtype=np.int64), sizes)
    periph = min(max(int(config.periph_blocks), 0), count)
    peripheral = np.zeros(count, dtype=np.uint8)
    if periph:
        peripheral[count - periph :] = 1
    cost = sizes.astype(np.float64)
    if periph:
        cost[count - periph :] = float(max(1, int(config.periph_bins) ** 2))
    cost = np.maximum(cost, 1e-6)
    norm_cost = cost / cost.mean()
    return BlockPartition(
        start=start,
        block_of_dim=block_of_dim,
        cost=cost,
        norm_cost=norm_cost,
        peripheral=peripheral,
        periph_dims=periph * q,
    )
