"""Dense targets and the four loss terms against the official implementation's goldens
(../shared/golden/sparsett_official: targets.npz, losses.npz; README §3-§4 tolerances)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sparsett_bench.training.losses import training_losses
from sparsett_bench.training.targets import dense_targets
from tests.conftest import GOLDEN

WEIGHTS = {"fc_cls": 1.4, "fc_reg": 0.6, "conv_cls": 0.5, "conv_reg": 2.0,
           "focal_alpha": 0.75, "focal_gamma": 2.0}  # fmt: skip
NAMES = {"fc_cls": "cls_fc", "fc_reg": "reg_fc", "conv_cls": "cls_conv", "conv_reg": "reg_conv"}


def _golden(name: str) -> dict:
    path = GOLDEN / f"{name}.npz"
    if not path.is_file():
        pytest.skip(f"golden reference not available: {path}")
    return dict(np.load(path))


def test_targets_equal_the_official_ones() -> None:
    golden = _golden("targets")
    for i, box in enumerate(golden["bbox_x_xyxy"]):
        cls, boxes, centerness = dense_targets(box, bool(golden["is_negative_pair"][i]))
        np.testing.assert_array_equal(cls, golden["cls_gt"][i], err_msg=f"box {i}")
        np.testing.assert_array_equal(boxes, golden["box_gt"][i], err_msg=f"box {i}")
        np.testing.assert_allclose(centerness, golden["ctr_gt"][i], atol=1e-6, rtol=0)
    assert golden["is_negative_pair"][8] and (golden["cls_gt"][8] == -1).any()


def _losses(golden: dict, prefix: str, rows=slice(None)) -> dict[str, float]:
    outputs = {k: torch.from_numpy(golden[f"{prefix}{k}"][rows])
               for k in ("cls_fc", "bbox_fc", "cls_conv", "bbox_conv")}  # fmt: skip
    cls_gt = torch.from_numpy(golden[f"{'model_' if prefix else ''}cls_gt"][rows])
    box_gt = torch.from_numpy(golden[f"{'model_' if prefix else ''}box_gt"][rows])
    return {k: float(v) for k, v in training_losses(outputs, cls_gt, box_gt, WEIGHTS).items()}


def test_batch_losses_equal_the_official_ones() -> None:
    golden = _golden("losses")
    ours = _losses(golden, "")
    for term, name in NAMES.items():
        np.testing.assert_allclose(ours[term], golden[f"batch_{name}"], rtol=1e-5, err_msg=term)
    np.testing.assert_allclose(ours["total"], golden["batch_total"], rtol=1e-5)


def test_per_sample_losses_include_the_safelog_case() -> None:
    golden = _golden("losses")
    for i in range(golden["cls_fc"].shape[0]):
        ours = _losses(golden, "", slice(i, i + 1))
        for term, name in NAMES.items():
            np.testing.assert_allclose(
                ours[term], golden[f"per_sample_{name}"][i], rtol=1e-5, err_msg=f"{term} {i}"
            )
    # sample 0 has a positive cell whose conv box misses the target: -log(float32 tiny) = 87.34
    assert golden["per_sample_reg_conv"][0] > 2.0 * 87.33 / max(1, (golden["cls_gt"][0] == 1).sum())


def test_the_models_own_outputs_and_losses(official_checkpoint) -> None:
    """The official model (through our converter) in eval mode, phase train, on the golden
    crops: its outputs and the losses on frame 10's target equal the goldens."""
    from sparsett_bench.model.config import build_model

    golden, forward = _golden("losses"), _golden("model_forward")
    net = build_model("sparsett-swin-t")
    net.load_official(official_checkpoint)
    net.eval()
    with torch.inference_mode():
        out = net.track(torch.from_numpy(forward["x_input"]),
                        net.template(torch.from_numpy(forward["z_input"])))  # fmt: skip
    for key in ("cls_fc", "cls_conv"):
        np.testing.assert_allclose(out[key].numpy(), golden[f"model_{key}"], atol=1e-4, rtol=0)
    for key in ("bbox_fc", "bbox_conv"):
        np.testing.assert_allclose(out[key].numpy(), golden[f"model_{key}"], atol=2e-3, rtol=0)
    cls, boxes, _ = dense_targets(golden["model_bbox_x_xyxy"].reshape(-1), False)
    np.testing.assert_array_equal(cls, golden["model_cls_gt"].reshape(cls.shape))
    np.testing.assert_array_equal(boxes, golden["model_box_gt"].reshape(boxes.shape))
    ours = training_losses(out, torch.from_numpy(cls[None]), torch.from_numpy(boxes[None]), WEIGHTS)
    for term, name in NAMES.items():
        np.testing.assert_allclose(float(ours[term]), golden[f"model_loss_{name}"], rtol=1e-5)
