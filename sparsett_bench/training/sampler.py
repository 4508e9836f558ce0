"""Training pairs drawn as the official ``TrackPairSampler`` draws them, by index.

Per pair: with probability ``negative_ratio`` (0.33) a *negative* pair of two independently
drawn frames (each from a dataset drawn by ratio, a sequence drawn uniformly, a frame drawn
uniformly); otherwise a *positive* pair from one sequence: template frame ``i ~ U[0, L)`` and
search frame ``j ~ U[max(0, i - max_diff), L - 1]`` (the official rule: up to ``max_diff``
frames before the template, or anywhere after it). A one-frame sequence (a still image of
COCO or DET) gives the same frame twice. A pair is drawn again unless both boxes cover more
than 0.1 % and less than 60 % of their image and have an aspect ratio below 10 (which also
rejects frames where the target is absent).

Unlike the official sampler, whose random stream belongs to each DataLoader worker, pair ``k``
of epoch ``e`` comes from its own generator seeded with ``(seed, e, k)``: the same pairs
whatever the number of workers or processes, and a resumed run draws exactly the pairs the
interrupted one would have.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sparsett_bench.datasets.sequence import Sequence
from sparsett_bench.errors import SparsettError

MAX_DRAWS = 100


@dataclass(frozen=True)
class Source:
    """One training dataset and its sampling weight (normalised over all sources)."""

    name: str
    sequences: list[Sequence]
    ratio: float
    max_diff: int = 100


@dataclass(frozen=True)
class Pair:
    template: tuple[Sequence, int]
    search: tuple[Sequence, int]
    negative: bool


def acceptable(box: np.ndarray, image_wh: tuple[int, int]) -> bool:
    """The official ``TrackPairFilter``: 0.001 < area ratio < 0.6 and aspect ratio < 10."""
    w, h = float(box[2]), float(box[3])
    if not (np.isfinite(w) and np.isfinite(h)) or w <= 0 or h <= 0:
        return False
    ratio = w * h / (image_wh[0] * image_wh[1])
    return 0.001 < ratio < 0.6 and max(w / h, h / w) < 10


class PairSampler:
    def __init__(self, sources: list[Source], negative_ratio: float = 0.33, seed: int = 0):
        sources = [s for s in sources if s.ratio > 0 and s.sequences]
        if not sources:
            raise SparsettError("no training sequences: every source is empty")
        weights = np.array([s.ratio for s in sources], dtype=np.float64)
        self.sources = sources
        self.probabilities = weights / weights.sum()
        self.negative_ratio = negative_ratio
        self.seed = seed

    def rng(self, epoch: int, index: int) -> np.random.Generator:
        """The generator of pair ``index`` in ``epoch`` (also used for its augmentation)."""
        return np.random.default_rng([self.seed, epoch, index])

    def pair(self, rng: np.random.Generator) -> Pair:
        negative = bool(rng.random() < self.negative_ratio)
        for _ in range(MAX_DRAWS):
            if negative:
                template = self._frame(rng, self._source(rng))
                search = self._frame(rng, self._source(rng))
            else:
                source = self._source(rng)
                sequence = source.sequences[rng.integers(len(source.sequences))]
                first = int(rng.integers(len(sequence)))
                low = max(0, first - source.max_diff)
                second = int(rng.integers(low, len(sequence)))
                template, search = (sequence, first), (sequence, second)
            if all(acceptable(seq.boxes[i], seq.frame_size()) for seq, i in (template, search)):
                return Pair(template, search, negative)
        raise SparsettError(
            f"no acceptable pair in {MAX_DRAWS} draws: the boxes are absent, too small, too "
            "large or too thin for the filter (0.1%-60% of the image, aspect below 10)"
        )

    def _source(self, rng: np.random.Generator) -> Source:
        return self.sources[int(rng.choice(len(self.sources), p=self.probabilities))]

    @staticmethod
    def _frame(rng: np.random.Generator, source: Source) -> tuple[Sequence, int]:
        sequence = source.sequences[rng.integers(len(source.sequences))]
        return sequence, int(rng.integers(len(sequence)))
