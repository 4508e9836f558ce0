"""Crops and post-processing against the official tracker's goldens, bit for bit."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from sparsett_bench.tracking import crop, postprocess
from tests.conftest import GOLDEN, shared_path


def _golden(name: str) -> tuple[dict, dict]:
    path = GOLDEN / f"{name}.npz"
    if not path.is_file():
        pytest.skip(f"golden reference not available: {path}")
    return dict(np.load(path)), json.loads((GOLDEN / f"{name}.json").read_text())


def test_crops_are_byte_identical_to_the_official_ones() -> None:
    arrays, meta = _golden("crops")
    frame = cv2.imread(str(shared_path("sequences", "otb", "Couple", "img", "0001.jpg")))
    border = crop.border_colour(frame)
    assert border == tuple(arrays["border_value_bgr_int"])  # int() truncation, not rounding
    for case in meta["cases"]:
        i, out_size = case["case"], case["out_size"]
        pos, sz = arrays[f"case{i}_target_pos_cxcy"], arrays[f"case{i}_target_sz_wh"]
        scale = crop.crop_scale(sz, 0.5, 127)
        side = crop.crop_side(scale, out_size)
        assert (scale, side) == (case["scale"], case["side"]), case["note"]
        np.testing.assert_array_equal(
            crop.warp_matrix(pos, side, out_size), arrays[f"case{i}_warp_matrix"]
        )
        patch = crop.crop_patch(frame, pos, side, out_size, border)
        np.testing.assert_array_equal(patch, arrays[f"case{i}_crop_bgr_u8"], err_msg=case["note"])


def test_normalisation_is_bit_exact_with_the_official_inputs() -> None:
    arrays, _ = _golden("model_forward")
    for branch in ("z", "x"):
        normalised = crop.normalise(arrays[f"{branch}_crop_bgr_u8"])
        np.testing.assert_array_equal(normalised, arrays[f"{branch}_input"])


def test_post_processing_cases_are_bit_identical() -> None:
    arrays, meta = _golden("postproc_cases")
    for case in meta["cases"]:
        i = case["case"]

        def golden(name: str, i: int = i) -> np.ndarray:
            return arrays[f"case{i}_{name}"]

        params = postprocess.TrackerParams(
            case["test_lr"], case["window_influence"], case["penalty_k"]
        )
        boxes = postprocess.xyxy_to_cxywh(golden("box_xyxy_in_crop"))
        np.testing.assert_array_equal(boxes, golden("box_cxywh_in_crop"))
        np.testing.assert_array_equal(postprocess.cosine_window(19), golden("window"))
        best, pscore, penalty = postprocess.penalised_scores(
            golden("score"), boxes, golden("target_sz_wh"), golden("scale_x"),
            golden("window"), params,
        )  # fmt: skip
        assert best == golden("best_id")
        np.testing.assert_array_equal(penalty, golden("penalty"))
        np.testing.assert_array_equal(pscore, golden("pscore"))
        pos, sz, lr = postprocess.next_state(
            best, golden("score"), boxes, penalty, golden("target_pos_cxcy"),
            golden("target_sz_wh"), golden("scale_x"), case["x_size"], params,
        )  # fmt: skip
        assert lr == case["lr"]
        np.testing.assert_array_equal(pos, golden("new_pos_unclipped"))
        np.testing.assert_array_equal(sz, golden("new_sz_unclipped"))
        height, width = golden("im_hw")
        pos, sz = postprocess.restrict(pos, sz, (int(width), int(height)), params)
        np.testing.assert_array_equal(pos, golden("new_pos"), err_msg=case["note"])
        np.testing.assert_array_equal(sz, golden("new_sz"), err_msg=case["note"])
        np.testing.assert_array_equal(
            postprocess.cxywh_to_xywh(pos, sz), golden("out_xywh_f32").astype(np.float64)
        )
