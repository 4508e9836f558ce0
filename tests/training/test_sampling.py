"""Pair sampling and crop augmentation: the official rules, checked on real and synthetic data."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from sparsett_bench.datasets.sequence import Sequence
from sparsett_bench.training.augment import CropConfig, context_side, crop_pair
from sparsett_bench.training.data import StepBatches
from sparsett_bench.training.sampler import PairSampler, Source, acceptable
from tests.conftest import shared_path

COUPLE_GT = np.array([51.0, 47.0, 25.0, 62.0])  # frame 1 of the real Couple sequence


@pytest.fixture(scope="module")
def couple_frame() -> np.ndarray:
    return cv2.imread(str(shared_path("sequences", "otb", "Couple", "img", "0001.jpg")))


def test_without_jitter_the_target_sits_at_the_patch_centre(couple_frame) -> None:
    still = CropConfig(max_scale=0.0, max_shift=0.0)
    pair = crop_pair(
        couple_frame, COUPLE_GT, couple_frame, COUPLE_GT, np.random.default_rng(0), still
    )
    scale = 127 / context_side(25, 62, 0.5)  # 127 / 85.0103: the official template scale
    w, h = 25 * scale, 62 * scale
    np.testing.assert_allclose(pair.template_box, [63 - (w - 1) / 2, 63 - (h - 1) / 2,
                                                   63 + (w - 1) / 2, 63 + (h - 1) / 2])  # fmt: skip
    np.testing.assert_allclose(pair.search_box, [144 - (w - 1) / 2, 144 - (h - 1) / 2,
                                                 144 + (w - 1) / 2, 144 + (h - 1) / 2])  # fmt: skip
    assert pair.template.shape == (127, 127, 3) and pair.search.shape == (289, 289, 3)
    # the search patch covers 289/127 times the template's context square, the same centre
    assert pair.search[144, 144].tolist() == pair.template[63, 63].tolist()


def test_search_jitter_stays_in_the_official_ranges(couple_frame) -> None:
    base = 127 / context_side(25, 62, 0.5)
    centres, scales = [], []
    for seed in range(400):
        pair = crop_pair(
            couple_frame, COUPLE_GT, couple_frame, COUPLE_GT, np.random.default_rng(seed)
        )
        box = pair.search_box
        assert pair.augmented and np.all((box >= 0) & (box <= 288))
        width = box[2] - box[0] + 1
        scales.append(width / (25 * base))  # 1 / scale_rand
        centres.append(((box[0] + box[2]) / 2 - 144, (box[1] + box[3]) / 2 - 144))
        np.testing.assert_allclose(pair.template_box[[0, 2]].mean(), 63)  # template: no jitter
    scales, centres = np.array(scales), np.abs(np.array(centres))
    assert 1 / 1.3 <= scales.min() < 0.8 and 1.25 < scales.max() <= 1.3
    # a shift of U(-0.4, 0.4) x side / 2 frame pixels is 0.4 x 289 / 2 = 57.8 patch pixels
    assert centres.max() <= 57.8 + 1e-9 and centres.max() > 50


def test_a_target_too_big_for_any_jitter_is_cropped_without_augmentation() -> None:
    image = np.zeros((100, 100, 3), np.uint8)
    # a 1x80 sliver: its search box spans ~all of the 289 patch, no jitter keeps it inside
    pair = crop_pair(image, [10, 10, 80, 1], image, [10, 10, 80, 1], np.random.default_rng(3))
    assert not pair.augmented


def _track(name: str, frames: int, boxes: np.ndarray | None = None) -> Sequence:
    if boxes is None:
        boxes = np.tile([10.0, 10.0, 30.0, 30.0], (frames, 1))
    return Sequence(name, boxes, np.zeros(frames, bool), image_size=(100, 100))


def test_positive_pairs_follow_the_official_frame_gap_rule() -> None:
    source = Source("toy", [_track("long", 500)], 1.0, max_diff=100)
    sampler = PairSampler([source], negative_ratio=0.0, seed=5)
    gaps = []
    for index in range(3000):
        pair = sampler.pair(sampler.rng(0, index))
        (seq_t, i), (seq_s, j) = pair.template, pair.search
        assert seq_t is seq_s and not pair.negative
        gaps.append(j - i)
    gaps = np.array(gaps)
    # up to 100 frames before the template, or anywhere after it (no +100 cap)
    assert gaps.min() >= -100 and gaps.min() < -90 and gaps.max() > 300


def test_negative_pairs_are_a_third_and_draws_are_reproducible() -> None:
    sources = [Source("a", [_track(f"a{i}", 20) for i in range(5)], 0.7),
               Source("b", [_track(f"b{i}", 20) for i in range(5)], 0.3)]  # fmt: skip
    sampler = PairSampler(sources, negative_ratio=0.33, seed=11)
    pairs = [sampler.pair(sampler.rng(2, k)) for k in range(3000)]
    negatives = sum(p.negative for p in pairs)
    assert abs(negatives / 3000 - 0.33) < 4 * math.sqrt(0.33 * 0.67 / 3000)
    from_a = sum(p.template[0].name.startswith("a") for p in pairs if not p.negative)
    assert abs(from_a / (3000 - negatives) - 0.7) < 0.05  # datasets drawn by ratio
    again = sampler.pair(sampler.rng(2, 1234))
    assert (again.template[0].name, again.template[1]) == (
        pairs[1234].template[0].name, pairs[1234].template[1]
    )  # fmt: skip


def test_the_filter_rejects_absent_tiny_huge_and_thin_boxes() -> None:
    assert acceptable(np.array([0, 0, 30, 30.0]), (100, 100))
    assert not acceptable(np.array([0, 0, np.nan, np.nan]), (100, 100))  # absent
    assert not acceptable(np.array([0, 0, 3, 3.0]), (100, 100))  # 0.09% of the image
    assert not acceptable(np.array([0, 0, 80, 80.0]), (100, 100))  # 64%
    assert not acceptable(np.array([0, 0, 50, 4.0]), (100, 100))  # aspect 12.5
    boxes = np.tile([10.0, 10.0, 30.0, 30.0], (10, 1))
    boxes[::2] = np.nan  # every other frame absent: never drawn
    sampler = PairSampler([Source("gappy", [_track("g", 10, boxes)], 1.0)], 0.33, seed=1)
    for k in range(300):
        pair = sampler.pair(sampler.rng(0, k))
        assert pair.template[1] % 2 == 1 and pair.search[1] % 2 == 1


def test_synthetic_training_pairs_are_valid_crops(tmp_path) -> None:
    from sparsett_bench.datasets.loaders import load_sequences
    from sparsett_bench.training.data import read_frame

    names = ["synthetic-train-0000", "synthetic-train-0001", "synthetic-train-0002"]
    sequences = load_sequences("synthetic", tmp_path, "train", names)
    sampler = PairSampler([Source("synthetic", sequences, 1.0)], 0.33, seed=2)
    for k in range(6):
        rng = sampler.rng(0, k)
        pair = sampler.pair(rng)
        (ts, ti), (ss, si) = pair.template, pair.search
        crop = crop_pair(read_frame(ts, ti), ts.boxes[ti], read_frame(ss, si), ss.boxes[si], rng)
        assert np.all((crop.search_box >= 0) & (crop.search_box <= 288))


def test_ranks_split_each_step_into_contiguous_shares() -> None:
    whole = list(StepBatches(3, 8))
    halves = [list(StepBatches(3, 8, rank, 2)) for rank in (0, 1)]
    assert whole[1] == list(range(8, 16))
    for step in range(3):
        assert halves[0][step] + halves[1][step] == whole[step]
    assert list(StepBatches(3, 8, first_step=2)) == whole[2:]  # resumed mid-epoch
