"""OpenCV's trackers through the `Tracker` interface, on real OTB frames (Couple, Crossing).

Thresholds were measured with opencv-contrib-python-headless 4.14.0.94 (see each test)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from sparsett_bench.box_files import read_box_file
from sparsett_bench.boxes import iou
from sparsett_bench.errors import SparsettError
from sparsett_bench.tracking.base import Tracker
from sparsett_bench.tracking.opencv_baselines import (
    NAMES,
    OpenCVTracker,
    create_opencv_tracker,
    integer_box,
    seed_random_generators,
)
from tests.conftest import shared_path

ROOT = Path(__file__).resolve().parents[2]
Sequence = tuple[list[np.ndarray], np.ndarray]


def _load(name: str, count: int) -> Sequence:
    folder = shared_path("sequences", "otb", name)
    gt = read_box_file(folder / "groundtruth_rect.txt")[:count]
    frames = [cv2.imread(str(folder / "img" / f"{i:04d}.jpg")) for i in range(1, count + 1)]
    return frames, gt


@pytest.fixture(scope="module")
def couple() -> Sequence:
    return _load("Couple", 30)


@pytest.fixture(scope="module")
def crossing() -> Sequence:
    return _load("Crossing", 30)


def _track(tracker: Tracker, frames: list[np.ndarray], box: np.ndarray) -> np.ndarray:
    """The boxes of frames 2.. (the first frame's box is the given one)."""
    tracker.init(frames[0], box)
    return np.array([tracker.update(frame) for frame in frames[1:]])


def test_csrt_follows_the_couple(couple: Sequence) -> None:
    """Measured over frames 2-30: mean IoU 0.823, worst frame 0.707, while the first box held
    still scores 0.152 (the pair walks off it). 0.75 / 0.6 leave room for a pixel of change in
    OpenCV, and fail as soon as CSRT drifts off the pair for a few frames."""
    frames, gt = couple
    tracker = create_opencv_tracker("opencv-csrt")
    assert isinstance(tracker, Tracker)
    boxes = _track(tracker, frames, gt[0])
    assert boxes.dtype == np.float64 and boxes.shape == (29, 4) and np.isfinite(boxes).all()
    overlaps = iou(boxes, gt[1:])
    assert overlaps.mean() > 0.75 and overlaps.min() > 0.6
    assert iou(np.repeat(gt[:1], 29, axis=0), gt[1:]).mean() < 0.2


def test_kcf_follows_until_it_reports_failure_then_holds_its_last_box(crossing: Sequence) -> None:
    """OpenCV's KCF (default parameters, detection threshold 0.5) tracks the Crossing pedestrian
    for 10 frames (mean IoU 0.728, worst 0.627; the still first box: 0.367) and from frame 12 on
    reports failure on every frame. The wrapper then repeats frame 11's box."""
    frames, gt = crossing
    boxes = _track(OpenCVTracker("opencv-kcf"), frames, gt[0])
    overlaps = iou(boxes[:10], gt[1:11])
    assert overlaps.mean() > 0.65 and overlaps.min() > 0.55
    raw = cv2.TrackerKCF_create()
    raw.init(frames[0], integer_box(gt[0], frames[0].shape))
    found = [raw.update(frame)[0] for frame in frames[1:]]
    assert all(found[:10]) and not any(found[10:])
    np.testing.assert_array_equal(boxes[10:], np.repeat(boxes[9:10], 19, axis=0))


@pytest.mark.parametrize("name", NAMES)
def test_reproducible_and_init_forgets_the_previous_sequence(
    couple: Sequence, crossing: Sequence, name: str
) -> None:
    frames, gt = couple[0][:12], couple[1]
    fresh = _track(OpenCVTracker(name), frames, gt[0])
    reused = OpenCVTracker(name)
    _track(reused, crossing[0][:4], crossing[1][0])
    np.testing.assert_array_equal(_track(reused, frames, gt[0]), fresh)
    np.testing.assert_array_equal(_track(reused, frames, gt[0]), fresh)


def test_mil_gives_the_same_boxes_in_a_new_process(couple: Sequence) -> None:
    """MIL draws from C's rand() and OpenCV's RNG; unseeded it moved by up to 4 px between runs."""
    frames, gt = couple
    here = _track(OpenCVTracker("opencv-mil"), frames[:8], gt[0])
    script = (
        "import json, cv2\n"
        "from sparsett_bench.tracking.opencv_baselines import OpenCVTracker\n"
        f"paths = {[str(shared_path('sequences', 'otb', 'Couple', 'img', f'{i:04d}.jpg')) for i in range(1, 9)]}\n"  # noqa: E501
        "frames = [cv2.imread(p) for p in paths]\n"
        "t = OpenCVTracker('opencv-mil')\n"
        f"t.init(frames[0], {gt[0].tolist()})\n"
        "print(json.dumps([t.update(f).tolist() for f in frames[1:]]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    np.testing.assert_array_equal(np.array(json.loads(done.stdout)), here)


@pytest.mark.parametrize("name", ["opencv-csrt", "opencv-medianflow", "opencv-tld", "opencv-mosse"])
def test_a_failed_update_repeats_the_last_box(couple: Sequence, name: str) -> None:
    """These four report failure on a uniform gray frame (measured), here after 5 real frames."""
    frames, gt = couple
    tracker = OpenCVTracker(name)
    last = _track(tracker, frames[:6], gt[0])[-1]
    held = tracker.update(np.full_like(frames[0], 128))
    assert held.dtype == np.float64 and held.shape == (4,)
    np.testing.assert_array_equal(held, last)


def test_empty_or_non_finite_boxes_count_as_failures(monkeypatch: pytest.MonkeyPatch) -> None:
    """An OpenCV tracker claiming success with a useless box: the last good box is kept."""
    answers = [(True, (10, 12, 5, 6)), (True, (np.nan, 1, 2, 3)), (True, (3, 3, 0, 4)),
               (False, (1, 1, 1, 1)), (True, (11, 12, 5, 6))]  # fmt: skip

    class Scripted:
        def init(self, image: np.ndarray, box: tuple[int, ...]) -> None:
            assert box == (1, 2, 3, 4)

        def update(self, image: np.ndarray) -> tuple[bool, tuple[float, ...]]:
            return answers.pop(0)

    monkeypatch.setattr(cv2, "TrackerKCF_create", Scripted)
    tracker = OpenCVTracker("opencv-kcf")
    image = np.zeros((20, 20, 3), np.uint8)
    tracker.init(image, np.array([1.0, 2.0, 3.0, 4.0]))
    boxes = np.array([tracker.update(image) for _ in range(5)])
    np.testing.assert_array_equal(boxes, [[10, 12, 5, 6]] * 4 + [[11, 12, 5, 6]])


def test_integer_box_rounds_corners_half_to_even_and_clips() -> None:
    shape = (50, 100, 3)
    assert integer_box(np.array([10.5, 20.4, 30.2, 40.6]), (100, 100)) == (10, 20, 31, 41)
    assert integer_box(np.array([12.5, 0.0, 2.0, 1.0]), shape) == (12, 0, 2, 1)  # 14.5 -> 14
    assert integer_box(np.array([11.5, 0.0, 1.0, 1.0]), shape) == (12, 0, 1, 1)  # never empty
    assert integer_box(np.array([10.0, 10.0, 0.2, 5.0]), shape) == (10, 10, 1, 5)
    assert integer_box(np.array([-5.2, -3.0, 20.0, 10.0]), shape) == (0, 0, 15, 7)
    assert integer_box(np.array([90.0, 40.0, 30.0, 30.0]), shape) == (90, 40, 10, 10)
    for bad in ([200.0, 10.0, 5.0, 5.0], [10.0, 10.0, 0.0, 5.0], [np.nan, 1.0, 2.0, 3.0]):
        with pytest.raises(SparsettError, match="covers no pixel"):
            integer_box(np.array(bad), shape)


def test_the_rounding_is_the_one_opencvs_legacy_mil_applies(crossing: Sequence) -> None:
    """cv2.legacy's MIL takes a float box and rounds its corners itself: the same boxes follow."""
    frames, gt = crossing[0][:6], crossing[1]
    # x 204.5 -> 204 (half to even), x2 221.9 -> 222: width 18, where round(w) would give 17
    box = gt[0] + np.array([-0.5, 0.4, 0.4, 0.6])
    assert integer_box(box, frames[0].shape) == (204, 151, 18, 51)
    ours = _track(OpenCVTracker("opencv-mil"), frames, box)
    seed_random_generators()  # as OpenCVTracker.init does
    raw = cv2.legacy.TrackerMIL_create()
    raw.init(frames[0], tuple(float(v) for v in box))
    np.testing.assert_array_equal(ours, [raw.update(frame)[1] for frame in frames[1:]])


def test_unknown_names_list_the_known_ones() -> None:
    with pytest.raises(SparsettError, match="known: " + ", ".join(NAMES)):
        create_opencv_tracker("opencv-nope")
    assert set(NAMES) >= {"opencv-csrt", "opencv-kcf", "opencv-mil", "opencv-medianflow",
                          "opencv-tld", "opencv-boosting"}  # fmt: skip


def test_an_opencv_without_contrib_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(cv2, "legacy")
    with pytest.raises(SparsettError, match=r"cv2\.legacy\.TrackerTLD_create.*opencv-contrib"):
        OpenCVTracker("opencv-tld")
    monkeypatch.delattr(cv2, "TrackerCSRT_create")
    with pytest.raises(SparsettError, match=r"opencv-csrt needs cv2\.TrackerCSRT_create"):
        OpenCVTracker("opencv-csrt")


def test_a_failure_on_the_second_frame_repeats_the_given_box(couple: Sequence) -> None:
    tracker = OpenCVTracker("opencv-mosse")
    tracker.init(couple[0][0], np.array([50.6, 47.2, 25.0, 62.0]))
    held = tracker.update(np.full_like(couple[0][0], 128))
    np.testing.assert_array_equal(held, [50.6, 47.2, 25.0, 62.0])


def test_update_before_init_is_an_error() -> None:
    with pytest.raises(SparsettError, match="before init"):
        OpenCVTracker("opencv-mosse").update(np.zeros((8, 8, 3), np.uint8))
