"""The official SparseTT losses: sigmoid focal loss and -log IoU, per head, weighted and summed.

- Focal (``cls_fc``, ``cls_conv`` logits): torchvision/fvcore ``sigmoid_focal_loss`` with
  alpha 0.75 on positives (0.25 on negatives) and gamma 2, on every cell not labelled -1.
- IoU (``bbox_fc``, ``bbox_conv``, ``x0, y0, x1, y1``): on positive cells only, areas and
  intersection with the +1 pixel convention, ``-log(max(IoU, float32 tiny))`` (the official
  SafeLog: a box with IoU 0 costs 87.34, not infinity).
- Both are sums divided by ``normaliser``: by default ``max(1, positives in the batch)``, as the
  official loss on the gathered batch; the trainer passes the positives of the whole step.
- ``total = 1.4 focal_fc + 0.6 iou_fc + 0.5 focal_conv + 2.0 iou_conv`` (the recipe's weights).
"""

from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional

TINY = float(np.finfo(np.float32).tiny)
TERMS = {"fc_cls": ("cls_fc", "focal"), "fc_reg": ("bbox_fc", "iou"),
         "conv_cls": ("cls_conv", "focal"), "conv_reg": ("bbox_conv", "iou")}  # fmt: skip


def _normaliser(cls_gt: torch.Tensor, normaliser: float | None) -> torch.Tensor:
    if normaliser is not None:
        return torch.tensor(float(normaliser), dtype=torch.float32, device=cls_gt.device)
    return torch.clamp((cls_gt > 0).sum().to(torch.float32), min=1.0)


def focal_loss(
    logits: torch.Tensor,
    cls_gt: torch.Tensor,
    alpha: float = 0.75,
    gamma: float = 2.0,
    normaliser: float | None = None,
) -> torch.Tensor:
    """Sum over non-ignored cells of the sigmoid focal loss, divided by the normaliser."""
    logits = logits.float()
    target = (cls_gt == 1).to(logits.dtype)
    valid = (cls_gt != -1).to(logits.dtype)
    p = torch.sigmoid(logits)
    ce = functional.binary_cross_entropy_with_logits(logits, target, reduction="none")
    p_t = p * target + (1 - p) * (1 - target)
    loss = ce * ((1 - p_t) ** gamma)
    loss = (alpha * target + (1 - alpha) * (1 - target)) * loss
    return (loss.sum(dim=2) * valid.squeeze(2)).sum() / _normaliser(cls_gt, normaliser)


def iou_loss(
    boxes: torch.Tensor, box_gt: torch.Tensor, cls_gt: torch.Tensor, normaliser: float | None = None
) -> torch.Tensor:
    """``-log IoU`` over positive cells, divided by the normaliser."""
    pred, gt = boxes.float(), box_gt.float()
    mask = (cls_gt == 1).squeeze(2).to(pred.dtype)
    area_gt = torch.abs(gt[..., 2] - gt[..., 0] + 1) * torch.abs(gt[..., 3] - gt[..., 1] + 1)
    area_pred = torch.abs(pred[..., 2] - pred[..., 0] + 1) * torch.abs(
        pred[..., 3] - pred[..., 1] + 1
    )
    iw = torch.minimum(pred[..., 2], gt[..., 2]) - torch.maximum(pred[..., 0], gt[..., 0]) + 1
    ih = torch.minimum(pred[..., 3], gt[..., 3]) - torch.maximum(pred[..., 1], gt[..., 1]) + 1
    inter = torch.clamp(iw, min=0) * torch.clamp(ih, min=0)
    iou = torch.clamp(inter / (area_gt + area_pred - inter), min=0)
    loss = -torch.log(torch.clamp(iou, min=TINY))
    return (loss * mask).sum() / _normaliser(cls_gt, normaliser)


def training_losses(
    outputs: dict[str, torch.Tensor],
    cls_gt: torch.Tensor,
    box_gt: torch.Tensor,
    weights: dict[str, float],
    normaliser: float | None = None,
) -> dict[str, torch.Tensor]:
    """The four weighted terms (``fc_cls``, ``fc_reg``, ``conv_cls``, ``conv_reg``) and
    ``total``; ``weights`` holds those four and ``focal_alpha``/``focal_gamma``."""
    terms = {}
    for name, (key, kind) in TERMS.items():
        if kind == "focal":
            value = focal_loss(
                outputs[key], cls_gt, weights.get("focal_alpha", 0.75),
                weights.get("focal_gamma", 2.0), normaliser,
            )  # fmt: skip
        else:
            value = iou_loss(outputs[key], box_gt, cls_gt, normaliser)
        terms[name] = value * weights[name]
    terms["total"] = sum(terms.values())
    return terms
