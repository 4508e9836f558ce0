"""Dense targets against the official ``DenseboxTarget`` goldens
(../shared/golden/sparsett_official/targets.npz + .json; README §3, §4: cls/box exact, ctr 1e-6)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sparsett_bench.training.targets import anchor_points, dense_targets, score_offset_for
from tests.conftest import GOLDEN

BOXES = range(10)


@pytest.fixture(scope="module")
def golden() -> dict:
    path = GOLDEN / "targets.npz"
    if not path.is_file():
        pytest.skip(f"golden reference not available: {path}")
    return dict(np.load(path))


@pytest.fixture(scope="module")
def cases() -> list[dict]:
    path = GOLDEN / "targets.json"
    if not path.is_file():
        pytest.skip(f"golden reference not available: {path}")
    return json.loads(path.read_text(encoding="utf-8"))["boxes"]


@pytest.mark.parametrize("i", BOXES)
def test_each_box_equals_the_official_target(golden, cases, i: int) -> None:
    cls, boxes, ctr = dense_targets(golden["bbox_x_xyxy"][i], bool(golden["is_negative_pair"][i]))
    assert (cls.dtype, boxes.dtype, ctr.dtype) == (np.float32,) * 3
    assert (cls.shape, boxes.shape, ctr.shape) == ((361, 1), (361, 4), (361, 1))
    np.testing.assert_array_equal(cls, golden["cls_gt"][i], err_msg=cases[i]["note"])
    np.testing.assert_array_equal(boxes, golden["box_gt"][i], err_msg=cases[i]["note"])
    np.testing.assert_allclose(ctr, golden["ctr_gt"][i], atol=1e-6, rtol=0)
    counts = [int((cls == label).sum()) for label in (1, 0, -1)]
    assert counts == [cases[i]["n_pos"], cases[i]["n_neg"], cases[i]["n_ignore"]]


def test_negative_pair_labels_only_the_inside_as_negative(golden) -> None:
    (i,) = np.flatnonzero(golden["is_negative_pair"])
    box = golden["bbox_x_xyxy"][i]
    as_positive, _, _ = dense_targets(box, False)
    cls, boxes, _ = dense_targets(box, True)
    np.testing.assert_array_equal(cls, golden["cls_gt"][i])
    # relabelling: inside 1 -> 0, outside 0 -> -1 (ignored); no positive remains
    np.testing.assert_array_equal(cls, np.where(as_positive == 1, 0, -1))
    assert (cls == 0).sum() == 35 and (cls == -1).sum() == 326
    # the box target is untouched by the relabelling (the IoU loss sees no positive anyway)
    np.testing.assert_array_equal(boxes, golden["box_gt"][i])


def test_a_batch_in_one_call_equals_the_goldens(golden) -> None:
    cls, boxes, ctr = dense_targets(golden["bbox_x_xyxy"], golden["is_negative_pair"])
    np.testing.assert_array_equal(cls, golden["cls_gt"])
    np.testing.assert_array_equal(boxes, golden["box_gt"])
    np.testing.assert_allclose(ctr, golden["ctr_gt"], atol=1e-6, rtol=0)


def test_edge_points_are_negative_and_the_test_runs_in_float32() -> None:
    cls, _, _ = dense_targets([32.0, 48.0, 160.0, 176.0], False)
    grid = cls.reshape(19, 19)
    assert grid[3, 2] == 0 and grid[4, 3] == 1  # (32, 48) on the corner, (48, 64) inside
    # 16 + 1e-9 is 16.0 in float32, as in the official code: the point x = 16 is on the edge
    cls, _, _ = dense_targets([16.0 - 1e-9, 16.0, 64.0, 64.0], False)
    assert cls.reshape(19, 19)[2, 1] == 0


def test_the_offset_is_derived_from_the_patch_as_the_official_target_does() -> None:
    assert score_offset_for(289, 19, 16) == 0
    assert score_offset_for(303, 17, 8) == 87  # the SiamFC++ AlexNet geometry
    points = anchor_points()
    assert points.shape == (361, 2)
    np.testing.assert_array_equal(points[19 * 2 + 5], [80, 32])  # row 2, column 5
    np.testing.assert_array_equal(
        anchor_points(303, 17, 8)[0], anchor_points(303, 17, 8, score_offset=87)[0]
    )
    with pytest.raises(ValueError, match="outside"):
        anchor_points(289, 19, 16, score_offset=8)
