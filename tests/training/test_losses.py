"""The four loss terms against the official loss modules' goldens
(../shared/golden/sparsett_official/losses.npz; README §3, §4: losses rtol 1e-5)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sparsett_bench.errors import SparsettError
from sparsett_bench.training.losses import (
    TINY,
    LossConfig,
    box_iou,
    focal_loss,
    iou_loss,
    training_losses,
)
from sparsett_bench.training.targets import dense_targets
from tests.conftest import GOLDEN

RECIPE = {"fc_cls": 1.4, "fc_reg": 0.6, "conv_cls": 0.5, "conv_reg": 2.0,
          "focal_alpha": 0.75, "focal_gamma": 2.0}  # fmt: skip
# our name -> the golden's name
NAMES = {"fc_cls": "cls_fc", "fc_reg": "reg_fc", "conv_cls": "cls_conv", "conv_reg": "reg_conv",
         "total": "total", "fc_iou": "iou_fc", "conv_iou": "iou_conv"}  # fmt: skip
OUTPUT_KEYS = ("cls_fc", "bbox_fc", "cls_conv", "bbox_conv")


def _load(name: str) -> dict:
    path = GOLDEN / f"{name}.npz"
    if not path.is_file():
        pytest.skip(f"golden reference not available: {path}")
    return dict(np.load(path))


@pytest.fixture(scope="module")
def golden() -> dict:
    return _load("losses")


def _ours(golden: dict, rows: slice = slice(None), prefix: str = "") -> dict[str, float]:
    outputs = {k: torch.from_numpy(golden[f"{prefix}{k}"][rows]) for k in OUTPUT_KEYS}
    cls_gt = torch.from_numpy(golden[f"{prefix}cls_gt"][rows])
    box_gt = torch.from_numpy(golden[f"{prefix}box_gt"][rows])
    return {k: float(v) for k, v in training_losses(outputs, cls_gt, box_gt, RECIPE).items()}


def _assert_terms(ours: dict[str, float], golden: dict, key: str, index=()) -> None:
    for term, name in NAMES.items():
        expected = golden[key.format(name)][index]
        np.testing.assert_allclose(ours[term], expected, rtol=1e-5, atol=0, err_msg=term)


def test_the_golden_labels_are_the_target_goldens(golden) -> None:
    targets = _load("targets")
    np.testing.assert_array_equal(golden["cls_gt"], targets["cls_gt"])
    np.testing.assert_array_equal(golden["box_gt"], targets["box_gt"])
    assert golden["batch_num_positive"] == (golden["cls_gt"] == 1).sum() == 370


def test_batch_losses_equal_the_official_ones(golden) -> None:
    _assert_terms(_ours(golden), golden, "batch_{}")


@pytest.mark.parametrize("i", range(10))
def test_per_sample_losses_equal_the_official_ones(golden, i: int) -> None:
    """B = 1 each: sample 2 (no positive) is normalised by 1, sample 8 is the negative pair
    (ignored cells), sample 0 holds the SafeLog case."""
    _assert_terms(_ours(golden, slice(i, i + 1)), golden, "per_sample_{}", i)


def test_safelog_caps_a_missed_box_at_minus_log_tiny(golden) -> None:
    """Sample 0 has a positive cell whose conv box has IoU 0: it costs -log(float32 tiny)."""
    cls_gt = torch.from_numpy(golden["cls_gt"][:1])
    box_gt = torch.from_numpy(golden["box_gt"][:1])
    boxes = torch.from_numpy(golden["bbox_conv"][:1]).requires_grad_()
    iou = box_iou(boxes.detach(), box_gt)[cls_gt.squeeze(-1) == 1]
    assert int((iou == 0).sum()) == 1  # exactly one positive cell misses
    per_cell = iou_loss(boxes, box_gt, cls_gt, normaliser=1.0)  # the plain sum over positives
    positives, total = int((cls_gt == 1).sum()), per_cell.item()
    assert total > -np.log(TINY) == pytest.approx(87.3365447)
    np.testing.assert_allclose(total * 2.0 / positives, golden["per_sample_reg_conv"][0], rtol=1e-5)
    per_cell.backward()
    assert torch.isfinite(boxes.grad).all()
    miss = torch.tensor([[[0.0, 0.0, 9.0, 9.0]]])
    far = torch.tensor([[[50.0, 50.0, 60.0, 60.0]]], requires_grad=True)
    loss = iou_loss(far, miss, torch.ones(1, 1, 1))
    assert loss.item() == pytest.approx(-np.log(TINY))
    loss.backward()
    assert (far.grad == 0).all()  # below the floor the clamp passes no gradient


def test_defaults_are_the_official_recipe_and_unknown_keys_are_refused(golden) -> None:
    outputs = {k: torch.from_numpy(golden[k]) for k in OUTPUT_KEYS}
    cls_gt, box_gt = torch.from_numpy(golden["cls_gt"]), torch.from_numpy(golden["box_gt"])
    default = training_losses(outputs, cls_gt, box_gt)
    assert LossConfig().as_dict() == RECIPE
    np.testing.assert_allclose(float(default["total"]), golden["batch_total"], rtol=1e-5)
    halved = training_losses(outputs, cls_gt, box_gt, {"conv_reg": 1.0})
    assert float(halved["conv_reg"]) == pytest.approx(float(default["conv_reg"]) / 2)
    with pytest.raises(SparsettError, match="fc_clss"):
        training_losses(outputs, cls_gt, box_gt, {"fc_clss": 1.4})


def test_parts_with_the_step_normaliser_add_up_to_the_batch(golden) -> None:
    """What the trainer does when it splits a step into BatchNorm batches."""
    normaliser = float(golden["batch_num_positive"])
    sums = dict.fromkeys(NAMES, 0.0)
    for rows in (slice(0, 3), slice(3, 10)):
        outputs = {k: torch.from_numpy(golden[k][rows]) for k in OUTPUT_KEYS}
        terms = training_losses(
            outputs, torch.from_numpy(golden["cls_gt"][rows]),
            torch.from_numpy(golden["box_gt"][rows]), RECIPE, normaliser,
        )  # fmt: skip
        for name in sums:
            sums[name] += float(terms[name])
    _assert_terms(sums, golden, "batch_{}")


def test_gradients_match_finite_differences_and_skip_ignored_cells() -> None:
    generator = torch.Generator().manual_seed(0)
    cls_gt = torch.tensor([1.0, 0.0, -1.0, 1.0, 0.0, -1.0]).reshape(2, 3, 1)
    logits = torch.randn(2, 3, 1, generator=generator, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: focal_loss(x, cls_gt), (logits,))
    focal_loss(logits, cls_gt).backward()
    assert (logits.grad[cls_gt == -1] == 0).all() and (logits.grad[cls_gt != -1] != 0).all()
    box_gt = torch.tensor([10.0, 10.0, 50.0, 60.0], dtype=torch.float64).expand(2, 3, 4)
    noise = torch.rand(2, 3, 4, generator=generator, dtype=torch.float64) * 8
    boxes = (box_gt + noise - 4).requires_grad_()
    assert torch.autograd.gradcheck(lambda b: iou_loss(b, box_gt, cls_gt), (boxes,))
    iou_loss(boxes, box_gt, cls_gt).backward()
    assert (boxes.grad[(cls_gt != 1).squeeze(-1)] == 0).all()


def test_the_official_models_outputs_and_losses(golden, official_checkpoint) -> None:
    """The official model through our converter, eval mode, on the golden crops: its outputs
    equal the goldens (§4: logits atol 1e-4, boxes 2e-3 px), our target for frame 10's box
    equals the golden one, and the losses equal ``model_loss_*`` both on the stored official
    outputs and on our own forward."""
    from sparsett_bench.model.config import build_model

    forward = _load("model_forward")
    net = build_model("sparsett-swin-t")
    net.load_official(official_checkpoint)
    net.eval()
    with torch.inference_mode():
        memory = net.template(torch.from_numpy(forward["z_input"]))
        out = net.track(torch.from_numpy(forward["x_input"]), memory)
    for key, atol in (("cls_fc", 1e-4), ("cls_conv", 1e-4), ("bbox_fc", 2e-3), ("bbox_conv", 2e-3)):
        np.testing.assert_allclose(out[key].numpy(), golden[f"model_{key}"], atol=atol, rtol=0)

    cls, boxes, _ = dense_targets(golden["model_bbox_x_xyxy"], False)
    np.testing.assert_array_equal(cls[None], golden["model_cls_gt"])
    np.testing.assert_array_equal(boxes[None], golden["model_box_gt"])

    _assert_terms(_ours(golden, prefix="model_"), golden, "model_loss_{}")
    cls_gt, box_gt = torch.from_numpy(cls[None]), torch.from_numpy(boxes[None])
    ours = {k: float(v) for k, v in training_losses(out, cls_gt, box_gt, RECIPE).items()}
    _assert_terms(ours, golden, "model_loss_{}")
