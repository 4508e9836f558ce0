"""The embedded synthetic benchmark: deterministic, disjoint splits, honest attribute labels."""

from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from sparsett_bench.datasets import synthetic
from sparsett_bench.datasets.loaders import load_sequences

TEST = [synthetic.generate("test", i) for i in range(synthetic.SPLITS["test"][1])]


def digest(generated: synthetic.Generated, frames=(0, 37, 99)) -> str:
    scene = generated.scene()
    h = hashlib.sha256(generated.boxes.tobytes())
    for frame in frames:
        h.update(scene.render(frame)[0].tobytes())
    return h.hexdigest()


def test_same_seed_same_bytes_and_different_sequences_differ() -> None:
    assert digest(synthetic.generate("test", 3)) == digest(synthetic.generate("test", 3))
    assert digest(synthetic.generate("test", 3)) != digest(synthetic.generate("test", 4))
    assert digest(synthetic.generate("test", 3)) != digest(synthetic.generate("train", 3))


def test_splits_are_disjoint() -> None:
    test = {synthetic.generate("test", i).boxes[:5].tobytes() for i in range(10)}
    train = {synthetic.generate("train", i).boxes[:5].tobytes() for i in range(40)}
    assert not test & train


def test_every_attribute_occurs_in_the_test_split() -> None:
    present = {a for g in TEST for a in g.attributes}
    expected = {"OCC", "FOC", "OV", "SV", "ARC", "FM", "DEF", "IV", "BC", "LR"}
    assert present == expected


@pytest.mark.parametrize("generated", TEST, ids=lambda g: g.name)
def test_labels_match_what_the_sequence_shows(generated: synthetic.Generated) -> None:
    boxes, absent = generated.boxes, generated.absent
    assert np.array_equal(absent, np.isnan(boxes).any(axis=1))
    assert not absent[0]
    shown = boxes[~absent]
    inside = synthetic._inside_fraction(np.nan_to_num(boxes))
    area = shown[:, 2] * shown[:, 3]
    attributes = set(generated.attributes)
    # absent frames are explained by full occlusion or out-of-view, and only by them
    assert bool(absent.any()) == bool(attributes & {"FOC", "OV"})
    if "OV" in attributes:
        positions = generated.track.centers[absent]
        assert (
            (positions[:, 0] < 0)
            | (positions[:, 0] >= synthetic.WIDTH)
            | (positions[:, 1] < 0)
            | (positions[:, 1] >= synthetic.HEIGHT)
        ).any()
    if "FOC" in attributes:
        assert np.isfinite(generated.track.occluder_x).all()
    assert ("SV" in attributes) == (area.max() > 2 * area.min())
    assert ("LR" in attributes) == (area.min() < 1000)
    if "IV" not in attributes:
        assert np.ptp(generated.track.gain) <= 0.35
    if not attributes & {"OCC", "FOC"}:
        assert not np.isfinite(generated.track.occluder_x).any() or inside.min() >= 0


def test_box_is_where_the_target_is_drawn() -> None:
    """Paint the target in a colour nothing else has; its pixels' extent is the box."""
    generated = next(g for g in TEST if not set(g.attributes) & {"OCC", "FOC", "OV", "IV"})
    scene = generated.scene()
    scene.texture[:] = (255, 0, 255)
    scene.track.distractor_centers = np.zeros((0, generated.recipe.frames, 2))
    for frame in (0, 50, 120):
        image = scene.render(frame)[0].astype(int)
        magenta = (image[..., 0] == 255) & (image[..., 1] == 0) & (image[..., 2] == 255)
        ys, xs = np.nonzero(magenta)
        drawn = [xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1]
        assert drawn == generated.boxes[frame].tolist()


def test_write_load_round_trip_and_interrupted_writes(tmp_path: Path) -> None:
    sequences = load_sequences("synthetic", tmp_path, "test")
    assert len(sequences) == synthetic.SPLITS["test"][1]
    first = sequences[0]
    assert not (tmp_path / "test" / first.name).exists()  # nothing rendered until asked
    paths = first.frame_paths
    assert len(paths) == len(first) and all(p.is_file() for p in paths)
    image = cv2.imread(str(paths[10]))
    assert np.array_equal(image, synthetic.generate("test", 0).scene().render(10)[0])
    stored = np.loadtxt(tmp_path / "test" / first.name / "groundtruth.txt", delimiter=",")
    assert np.array_equal(stored, first.boxes, equal_nan=True)
    # a half-written sequence (no ground truth) is regenerated, not taken as done
    broken = tmp_path / "test" / sequences[1].name
    (broken / "img").mkdir(parents=True)
    (broken / "img" / "000001.png").write_bytes(b"partial")
    assert cv2.imread(str(sequences[1].frame_paths[0])) is not None
    assert not any(p.name.startswith(".") for p in (tmp_path / "test").iterdir())
