"""OpenCV's trackers (opencv-contrib) as `Tracker`s: CSRT, KCF, MIL, MedianFlow, TLD,
Boosting and MOSSE, under the names ``opencv-csrt``, ``opencv-kcf``, ...

They are built through ``cv2.legacy``, whose interface takes and returns floating-point boxes
(the main-namespace CSRT/KCF/MIL take integer rectangles and would round the ground truth),
so the same box reaches every tracker. When OpenCV's ``update`` reports a failure the previous
box is reported again, the usual convention of benchmark runners (the result file needs a box
for every frame). OpenCV's global random generator is reseeded at every ``init``; even so MIL
and TLD give different boxes from run to run (measured on Couple: up to 4 px and 43 px within
40 frames, one thread), so only the other five are reproducible.
"""

from __future__ import annotations

import cv2
import numpy as np

from sparsett_bench.errors import SparsettError

_FACTORIES = {
    "opencv-csrt": "TrackerCSRT_create",
    "opencv-kcf": "TrackerKCF_create",
    "opencv-mil": "TrackerMIL_create",
    "opencv-medianflow": "TrackerMedianFlow_create",
    "opencv-tld": "TrackerTLD_create",
    "opencv-boosting": "TrackerBoosting_create",
    "opencv-mosse": "TrackerMOSSE_create",
}
NAMES = tuple(_FACTORIES)


class OpenCVTracker:
    """One OpenCV tracker; `init` builds a fresh OpenCV object, so an instance is reusable."""

    def __init__(self, name: str) -> None:
        if name not in _FACTORIES:
            raise SparsettError(f"unknown OpenCV tracker {name!r}; known: {', '.join(NAMES)}")
        legacy = getattr(cv2, "legacy", None)
        if legacy is None or not hasattr(legacy, _FACTORIES[name]):
            raise SparsettError(
                f"{name}: this OpenCV ({cv2.__version__}) has no cv2.legacy.{_FACTORIES[name]}; "
                "install opencv-contrib-python-headless<5"
            )
        self.name = name
        self._factory = getattr(legacy, _FACTORIES[name])
        self._tracker = None
        self._box = np.zeros(4)

    def init(self, image: np.ndarray, box: np.ndarray) -> None:
        cv2.setRNGSeed(0)
        self._tracker = self._factory()
        self._box = np.asarray(box, dtype=np.float64)[:4].copy()
        if self._tracker.init(image, tuple(float(v) for v in self._box)) is False:
            raise SparsettError(f"{self.name}: OpenCV refused to start on box {self._box}")

    def update(self, image: np.ndarray) -> np.ndarray:
        if self._tracker is None:
            raise SparsettError(f"{self.name}: update before init")
        found, box = self._tracker.update(image)
        box = np.asarray(box, dtype=np.float64)
        if found and np.all(np.isfinite(box)) and box[2] > 0 and box[3] > 0:
            self._box = box
        return self._box.copy()


def create_opencv_tracker(name: str) -> OpenCVTracker:
    return OpenCVTracker(name)
