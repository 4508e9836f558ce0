"""What the runner needs from a tracker: `init` on the first frame, `update` on each next one.

Images are BGR ``uint8`` arrays of shape ``(H, W, 3)`` exactly as ``cv2.imread`` returns them.
Boxes are ``x, y, w, h`` float64 in the coordinates of the ground truth the tracker is given
(the benchmarks' files are passed through unchanged, as the official testers do).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Tracker(Protocol):
    """A single-object tracker. One instance tracks one sequence at a time; `init` resets it."""

    name: str

    def init(self, image: np.ndarray, box: np.ndarray) -> None:
        """Start tracking the target ``box`` (x, y, w, h) in the first ``image``."""

    def update(self, image: np.ndarray) -> np.ndarray:
        """The target's box (x, y, w, h, float64) in the next ``image``."""
