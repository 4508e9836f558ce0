"""The training set as a map-style dataset: item ``k`` of epoch ``e`` is one cropped pair with
its dense targets, a pure function of ``(seed, e, k)`` (see `sampler`), so any number of
DataLoader workers, processes or restarts sees the same pairs."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from sparsett_bench.tracking.crop import normalise
from sparsett_bench.training.augment import CropConfig, crop_pair
from sparsett_bench.training.sampler import PairSampler


def read_frame(sequence, index: int) -> np.ndarray:
    from sparsett_bench.tracking.runner import read_image

    return read_image(str(sequence.frame_paths[index]))


class PairDataset(Dataset):
    """``dataset[k]`` -> ``{"z", "x", "cls_gt", "box_gt", "negative"}`` for the current epoch."""

    def __init__(
        self,
        sampler: PairSampler,
        pairs_per_epoch: int,
        crop: CropConfig | None = None,
        score_size: int = 19,
        stride: int = 16,
    ) -> None:
        self.sampler = sampler
        self.pairs_per_epoch = pairs_per_epoch
        self.crop = crop or CropConfig()
        self.score_size, self.stride = score_size, stride
        self.epoch = 0

    def __len__(self) -> int:
        return self.pairs_per_epoch

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        from sparsett_bench.training.targets import dense_targets

        rng = self.sampler.rng(self.epoch, index)
        pair = self.sampler.pair(rng)
        (t_seq, t_idx), (s_seq, s_idx) = pair.template, pair.search
        cropped = crop_pair(
            read_frame(t_seq, t_idx), t_seq.boxes[t_idx],
            read_frame(s_seq, s_idx), s_seq.boxes[s_idx], rng, self.crop,
        )  # fmt: skip
        cls_gt, box_gt, _ = dense_targets(
            cropped.search_box, pair.negative, self.crop.x_size, self.score_size, self.stride
        )
        return {
            "z": torch.from_numpy(normalise(cropped.template)[0]),
            "x": torch.from_numpy(normalise(cropped.search)[0]),
            "cls_gt": torch.as_tensor(cls_gt),
            "box_gt": torch.as_tensor(box_gt),
            "negative": torch.tensor(pair.negative),
        }


class StepBatches(Sampler[list[int]]):
    """Index batches of one epoch for one rank, from ``first_step`` on: step ``s`` takes pairs
    ``[s B, (s + 1) B)`` of the epoch and rank ``r`` of ``W`` its ``r``-th contiguous share."""

    def __init__(
        self, steps: int, batch_size: int, rank: int = 0, world_size: int = 1, first_step: int = 0
    ) -> None:
        self.steps, self.batch_size = steps, batch_size
        self.rank, self.world_size, self.first_step = rank, world_size, first_step
        self.share = batch_size // world_size

    def __len__(self) -> int:
        return self.steps - self.first_step

    def __iter__(self):
        for step in range(self.first_step, self.steps):
            start = step * self.batch_size + self.rank * self.share
            yield list(range(start, start + self.share))
