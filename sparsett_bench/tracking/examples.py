"""Small trackers that show the `Tracker` interface (and give a floor to compare against).

Run one over a benchmark like any other tracker: ``sparsett-bench run --dataset otb2015
--tracker python:sparsett_bench.tracking.examples:StillTracker``.
"""

from __future__ import annotations

import numpy as np


class StillTracker:
    """Reports the first box in every frame: the score of not tracking at all."""

    name = "still"

    def init(self, image: np.ndarray, box: np.ndarray) -> None:
        self.box = np.asarray(box, dtype=np.float64).copy()

    def update(self, image: np.ndarray) -> np.ndarray:
        return self.box.copy()
