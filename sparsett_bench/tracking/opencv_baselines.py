"""OpenCV's trackers (opencv-contrib, OpenCV < 5) as `Tracker`s, named ``opencv-csrt``,
``opencv-kcf``, ``opencv-mil``, ``opencv-medianflow``, ``opencv-tld``, ``opencv-boosting`` and
``opencv-mosse``.

CSRT, KCF and MIL come from the main namespace (``cv2.TrackerCSRT_create``), which takes and
returns integer rectangles; the others exist only in ``cv2.legacy``.

Rounding: every tracker is started from the same integer box, made by rounding the first box's
corners (``x1 = round(x)``, ``x2 = round(x + w)``, half to even like OpenCV's ``cvRound``) and
clipping it to the image. Rounding corners rather than ``x`` and ``w`` separately keeps the box on
the pixels it covers; it is also exactly what OpenCV's own legacy CSRT/KCF/MIL wrappers do to a
floating-point box, so the main and legacy APIs start from the same pixels.

Lost targets: when OpenCV's ``update`` reports failure (or returns an empty or non-finite box),
the previous box is returned again. Benchmark toolkits (got10k, pysot) have no notion of a
failed update: their trackers must return a box on every frame, and got10k's own
``IdentityTracker`` keeps reporting the last known box; the UAV123 evaluation likewise replaces an
empty predicted box by the previous one. A result file therefore never has gaps.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from sparsett_bench.errors import SparsettError

# name -> (namespace, factory): "main" is cv2 itself, "legacy" is cv2.legacy.
_FACTORIES: dict[str, tuple[str, str]] = {
    "opencv-csrt": ("main", "TrackerCSRT_create"),
    "opencv-kcf": ("main", "TrackerKCF_create"),
    "opencv-mil": ("main", "TrackerMIL_create"),
    "opencv-medianflow": ("legacy", "TrackerMedianFlow_create"),
    "opencv-tld": ("legacy", "TrackerTLD_create"),
    "opencv-boosting": ("legacy", "TrackerBoosting_create"),
    "opencv-mosse": ("legacy", "TrackerMOSSE_create"),
}
NAMES: tuple[str, ...] = tuple(_FACTORIES)


def integer_box(box: np.ndarray, image_shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """``box`` (x, y, w, h) as the integer rectangle handed to OpenCV: corners rounded half to
    even, clipped to the image. Raises `SparsettError` when nothing of it lies in the image."""
    x, y, w, h = (float(v) for v in np.asarray(box, dtype=np.float64)[:4])
    height, width = image_shape[:2]
    x1, y1 = max(int(np.rint(x)), 0), max(int(np.rint(y)), 0)
    x2, y2 = min(int(np.rint(x + w)), width), min(int(np.rint(y + h)), height)
    if not all(np.isfinite((x, y, w, h))) or x2 <= x1 or y2 <= y1:
        raise SparsettError(f"box {[x, y, w, h]} covers no pixel of a {width}x{height} image")
    return x1, y1, x2 - x1, y2 - y1


def _factory(name: str) -> Any:
    if name not in _FACTORIES:
        raise SparsettError(f"unknown OpenCV tracker {name!r}; known: {', '.join(NAMES)}")
    namespace, attribute = _FACTORIES[name]
    module = cv2 if namespace == "main" else getattr(cv2, "legacy", None)
    factory = getattr(module, attribute, None)
    if factory is None:
        where = "cv2" if namespace == "main" else "cv2.legacy"
        raise SparsettError(
            f"{name} needs {where}.{attribute}, which this OpenCV ({cv2.__version__}) lacks: "
            "install opencv-contrib-python-headless<5 (and uninstall plain opencv-python*, "
            "which shadows it)"
        )
    return factory


class OpenCVTracker:
    """One of OpenCV's trackers. `init` builds a new OpenCV object, so one instance can track
    any number of sequences; the previous sequence leaves nothing behind."""

    def __init__(self, name: str) -> None:
        self._factory = _factory(name)
        self.name = name
        self._tracker: Any = None
        self._box = np.zeros(4)

    def init(self, image: np.ndarray, box: np.ndarray) -> None:
        """Start on the integer version of ``box`` (see the module's notes on rounding)."""
        rect = integer_box(box, image.shape)
        tracker = self._factory()
        if tracker.init(image, rect) is False:  # the main API returns None, legacy a bool
            raise SparsettError(f"{self.name}: OpenCV refused to start on box {rect}")
        self._tracker = tracker
        self._box = np.array(rect, dtype=np.float64)

    def update(self, image: np.ndarray) -> np.ndarray:
        """OpenCV's box for ``image``, or the previous box when OpenCV reports failure."""
        if self._tracker is None:
            raise SparsettError(f"{self.name}: update before init")
        found, box = self._tracker.update(image)
        box = np.asarray(box, dtype=np.float64).reshape(-1)[:4]
        if found and box.shape == (4,) and np.all(np.isfinite(box)) and np.all(box[2:] > 0):
            self._box = box
        return self._box.copy()


def create_opencv_tracker(name: str) -> OpenCVTracker:
    """The tracker called ``name`` (one of `NAMES`); `SparsettError` listing them otherwise."""
    return OpenCVTracker(name)
