"""BatchNorm running statistics of a multi-process step, as one process would leave them.

One process runs a step's BatchNorm batches one after another, so each running mean and
variance takes ``n = W * c`` momentum updates ``r <- (1 - m) r + m s_j`` in the order of the
batches (rank 0's ``c`` first, then rank 1's, ...). Under DistributedDataParallel each rank
updates its own copy from the same start ``r`` with its ``c`` batches only, ending at ``r_k``,
and by default the next forward overwrites every copy with rank 0's. Since each rank's share of
the sequential sum is ``A_k = r_k - (1 - m)^c r``, the single-process result follows from the
gathered ``r_k``: ``(1 - m)^n r + sum_k (1 - m)^(c (W - 1 - k)) A_k``, evaluated in float64 as
the fold ``x <- (1 - m)^c x + A_k``. It equals the one-process statistics up to rounding
(about 1e-7 relative), where rank 0's alone are off by the other ranks' whole contribution.
"""

from __future__ import annotations

import torch
from torch import nn


class SequentialRunningStats:
    """`snapshot` before a step, `combine` after it, on every rank (a collective)."""

    def __init__(self, model: nn.Module, world_size: int) -> None:
        self.modules = [
            m
            for m in model.modules()
            if isinstance(m, nn.modules.batchnorm._BatchNorm)
            and m.track_running_stats
            and m.momentum is not None  # a cumulative average has no momentum to replay
        ]
        self.world_size = world_size
        self._before: torch.Tensor | None = None

    def _flat(self) -> torch.Tensor:
        return torch.cat(
            [t.detach().double().reshape(-1) for m in self.modules
             for t in (m.running_mean, m.running_var)]
        )  # fmt: skip

    def snapshot(self) -> None:
        self._before = self._flat()

    def combine(self, batches_per_rank: int) -> None:
        """Replace every rank's statistics by the sequential ones of the whole step."""
        if not self.modules or self._before is None:
            return
        mine = self._flat()
        gathered = [torch.empty_like(mine) for _ in range(self.world_size)]
        torch.distributed.all_gather(gathered, mine)
        keep = torch.cat(
            [torch.full((2 * m.running_mean.numel(),), (1.0 - m.momentum) ** batches_per_rank,
                        dtype=torch.float64, device=mine.device) for m in self.modules]
        )  # fmt: skip
        combined = self._before.clone()
        for rank_stats in gathered:
            combined = keep * combined + (rank_stats - keep * self._before)
        offset = 0
        for m in self.modules:
            for t in (m.running_mean, m.running_var):
                t.copy_(combined[offset : offset + t.numel()].view_as(t))
                offset += t.numel()
            m.num_batches_tracked.add_((self.world_size - 1) * batches_per_rank)
        self._before = None
