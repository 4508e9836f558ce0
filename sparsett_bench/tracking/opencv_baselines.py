"""OpenCV's trackers (opencv-contrib, OpenCV < 5) as `Tracker`s, named ``opencv-csrt``,
``opencv-kcf``, ``opencv-mil``, ``opencv-medianflow``, ``opencv-tld``, ``opencv-boosting`` and
``opencv-mosse``.

CSRT, KCF and MIL come from the main namespace (``cv2.TrackerCSRT_create``), which takes and
returns integer rectangles; the others exist only in ``cv2.legacy``.

Rounding: every tracker is started from the same integer box, made by rounding the first box's
corners (``x1 = round(x)``, ``x2 = round(x + w)``, half to even like OpenCV's ``cvRound``),
keeping at least one pixel, and clipping it to the image. Rounding corners rather than ``x`` and
``w`` separately keeps the box on the pixels it covers, so its width can differ by one from
``round(w)`` (x 204.5, w 17.4 gives 204 to 222, width 18). OpenCV's ``cv2.legacy`` MIL wrapper
rounds a floating-point box exactly this way; its legacy CSRT and KCF wrappers round ``x, y, w, h``
one by one instead.

Lost targets: when OpenCV's ``update`` reports failure (or returns an empty or non-finite box),
the previous box is returned again, so a result file never has gaps. The toolkits have no notion
of a failed update (got10k's and pysot's trackers return a box for every frame and their result
files need one per frame); repeating the last box is the rule under which published UAV123
scores of TLD, whose raw results hold empty boxes, are reproduced.

Reproducibility: MIL draws random numbers from the C library's ``rand()`` (its Haar features)
and from OpenCV's ``theRNG()`` (its sampler), TLD from ``rand()``. Both generators are reseeded
at every `OpenCVTracker.init`, which makes all seven trackers give identical boxes from run to
run and process to process (measured; unseeded, MIL's boxes differed by up to 4 px and TLD's by
up to 70 px within 30 frames of Couple, with one OpenCV thread as with two). The cost is a side
effect on process-wide state: ``rand()``'s sequence and the calling thread's ``cv2.theRNG()``
restart at every ``init``. OpenCV's thread settings are left alone.
"""

from __future__ import annotations

import ctypes
import functools
import os
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
SEED = 1  # glibc treats srand(0) as srand(1); 1 names the same sequence everywhere


@functools.cache
def _c_library() -> Any:
    """The C runtime whose ``rand()`` OpenCV calls, or None where it cannot be found (then MIL
    and TLD may vary between runs). Measured on Linux; on Windows the UCRT is a best guess."""
    for name in ("ucrtbase", "msvcrt") if os.name == "nt" else (None,):
        try:
            return ctypes.CDLL(name)
        except OSError:
            continue
    return None


def seed_random_generators() -> None:
    """Restart C's ``rand()`` and this thread's ``cv2.theRNG()`` at `SEED`, as every `init` does
    before building its OpenCV tracker."""
    cv2.setRNGSeed(SEED)
    library = _c_library()
    if library is not None:
        library.srand(SEED)


def integer_box(box: np.ndarray, image_shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """``box`` (x, y, w, h) as the integer rectangle handed to OpenCV: corners rounded half to
    even, at least one pixel wide and high, clipped to the image. Raises `SparsettError` for a
    non-finite or empty box and for one that lies outside the image."""
    x, y, w, h = (float(v) for v in np.asarray(box, dtype=np.float64)[:4])
    height, width = image_shape[:2]
    if np.all(np.isfinite((x, y, w, h))) and w > 0 and h > 0:
        x1, y1 = int(np.rint(x)), int(np.rint(y))
        x2, y2 = max(int(np.rint(x + w)), x1 + 1), max(int(np.rint(y + h)), y1 + 1)
        x1, y1, x2, y2 = max(x1, 0), max(y1, 0), min(x2, width), min(y2, height)
        if x2 > x1 and y2 > y1:
            return x1, y1, x2 - x1, y2 - y1
    raise SparsettError(f"box {[x, y, w, h]} covers no pixel of a {width}x{height} image")


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
        self._tracker = None  # a failed init leaves nothing of the previous sequence
        rect = integer_box(box, image.shape)
        seed_random_generators()
        tracker = self._factory()
        if tracker.init(image, rect) is False:  # the main API returns None, legacy a bool
            raise SparsettError(f"{self.name}: OpenCV refused to start on box {rect}")
        self._tracker = tracker
        self._box = np.asarray(box, dtype=np.float64)[:4].copy()  # frame 1's box in the results

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
