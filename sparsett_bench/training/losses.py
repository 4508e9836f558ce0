"""The official SparseTT training loss: a sigmoid focal loss and a -log IoU loss per head,
weighted and summed (``FocalLossFC``, ``IOULossFC``, ``FocalLossConv``, ``IOULossConv``).

Labels (``cls_gt``, ``(B, N, 1)``): 1 positive, 0 negative, -1 ignored (negative pairs).

- Focal (``cls_fc``, ``cls_conv`` logits): ``alpha_t (1 - p_t)^gamma BCE`` with alpha on positives
  and ``1 - alpha`` on negatives, summed over every cell not labelled -1.
- IoU (``bbox_fc``, ``bbox_conv``, ``x0, y0, x1, y1``): summed over positive cells only, areas and
  intersection in the +1 pixel convention, ``-log(max(IoU, float32 tiny))`` (the official SafeLog:
  a box that misses costs 87.34, not infinity). Not GIoU.
- Both sums are divided by the normaliser: by default ``max(1, positive cells in the batch)``, as
  the official loss on the gathered batch. A trainer that splits a step into several forwards
  passes the positives of the whole step, so that the parts add up to the official loss.
- Masks multiply (as in the official code), so a NaN at an ignored cell still propagates.
- ``total = 1.4 fc_cls + 0.6 fc_reg + 0.5 conv_cls + 2.0 conv_reg`` by default. The returned
  terms are already weighted, as the official loss modules return them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields

import numpy as np
import torch
from torch.nn import functional

from sparsett_bench.errors import SparsettError

TINY = float(np.finfo(np.float32).tiny)  # SafeLog's floor: -log(TINY) = 87.336...

# term name -> (model output key, loss kind); the names are the recipe's ``[loss]`` keys
TERMS: dict[str, tuple[str, str]] = {
    "fc_cls": ("cls_fc", "focal"),
    "fc_reg": ("bbox_fc", "iou"),
    "conv_cls": ("cls_conv", "focal"),
    "conv_reg": ("bbox_conv", "iou"),
}
# mean IoU over positive cells per regression head (detached; the official loss's ``extra``)
IOU_METRICS = {"fc_iou": "bbox_fc", "conv_iou": "bbox_conv"}

Normaliser = float | torch.Tensor | None


@dataclass(frozen=True)
class LossConfig:
    """Term weights and focal parameters; the defaults are the official training YAMLs'."""

    fc_cls: float = 1.4
    fc_reg: float = 0.6
    conv_cls: float = 0.5
    conv_reg: float = 2.0
    focal_alpha: float = 0.75
    focal_gamma: float = 2.0

    @classmethod
    def from_mapping(cls, values: Mapping[str, float] | LossConfig | None) -> LossConfig:
        """From a recipe's ``[loss]`` table; missing keys keep the official value, unknown keys
        raise `SparsettError` (a misspelt weight would otherwise be silently ignored)."""
        if values is None:
            return cls()
        if isinstance(values, LossConfig):
            return values
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise SparsettError(f"unknown [loss] settings {unknown}; known: {sorted(known)}")
        return cls(**{k: float(v) for k, v in values.items()})

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def _compute_dtype(x: torch.Tensor) -> torch.Tensor:
    """At least float32 (AMP outputs are upcast; float64 stays float64 for gradcheck)."""
    return x.to(torch.promote_types(x.dtype, torch.float32))


def _normaliser(cls_gt: torch.Tensor, normaliser: Normaliser, like: torch.Tensor) -> torch.Tensor:
    if normaliser is None:
        return torch.clamp((cls_gt == 1).sum().to(like.dtype), min=1.0)
    return torch.as_tensor(normaliser, dtype=like.dtype, device=like.device)


def focal_loss(
    logits: torch.Tensor,
    cls_gt: torch.Tensor,
    alpha: float = 0.75,
    gamma: float = 2.0,
    normaliser: Normaliser = None,
) -> torch.Tensor:
    """Unweighted sigmoid focal loss of ``(B, N, 1)`` logits: the sum over cells not labelled
    -1, divided by the normaliser (default ``max(1, #positives)``)."""
    logits = _compute_dtype(logits)
    target = (cls_gt == 1).to(logits.dtype)
    valid = (cls_gt != -1).to(logits.dtype)
    p = torch.sigmoid(logits)
    bce = functional.binary_cross_entropy_with_logits(logits, target, reduction="none")
    p_t = p * target + (1 - p) * (1 - target)
    alpha_t = alpha * target + (1 - alpha) * (1 - target)
    loss = alpha_t * (bce * (1 - p_t) ** gamma)
    return (loss.sum(dim=-1) * valid.squeeze(-1)).sum() / _normaliser(cls_gt, normaliser, logits)


def box_iou(boxes: torch.Tensor, box_gt: torch.Tensor) -> torch.Tensor:
    """Element-wise IoU of ``(..., 4)`` xyxy boxes, +1 pixel convention, clamped at 0."""
    pred, gt = _compute_dtype(boxes), box_gt.to(_compute_dtype(boxes).dtype)
    area_gt = torch.abs(gt[..., 2] - gt[..., 0] + 1) * torch.abs(gt[..., 3] - gt[..., 1] + 1)
    area_pred = torch.abs(pred[..., 2] - pred[..., 0] + 1) * torch.abs(
        pred[..., 3] - pred[..., 1] + 1
    )
    iw = torch.minimum(pred[..., 2], gt[..., 2]) - torch.maximum(pred[..., 0], gt[..., 0]) + 1
    ih = torch.minimum(pred[..., 3], gt[..., 3]) - torch.maximum(pred[..., 1], gt[..., 1]) + 1
    inter = torch.clamp(iw, min=0) * torch.clamp(ih, min=0)
    return torch.clamp(inter / (area_gt + area_pred - inter), min=0)


def safe_log(x: torch.Tensor) -> torch.Tensor:
    """``log(max(x, float32 tiny))``: the official SafeLog (no gradient below the floor)."""
    return torch.log(torch.clamp(x, min=TINY))


def iou_loss(
    boxes: torch.Tensor,
    box_gt: torch.Tensor,
    cls_gt: torch.Tensor,
    normaliser: Normaliser = None,
) -> torch.Tensor:
    """Unweighted ``-log IoU`` of ``(B, N, 4)`` boxes over positive cells, divided by the
    normaliser (default ``max(1, #positives)``)."""
    iou = box_iou(boxes, box_gt)
    positive = (cls_gt == 1).squeeze(-1).to(iou.dtype)
    return (-safe_log(iou) * positive).sum() / _normaliser(cls_gt, normaliser, iou)


def mean_iou(
    boxes: torch.Tensor, box_gt: torch.Tensor, cls_gt: torch.Tensor, normaliser: Normaliser = None
) -> torch.Tensor:
    """Detached IoU summed over positive cells, divided by the normaliser (the mean IoU)."""
    with torch.no_grad():
        iou = box_iou(boxes, box_gt)
        positive = (cls_gt == 1).squeeze(-1).to(iou.dtype)
        return (iou * positive).sum() / _normaliser(cls_gt, normaliser, iou)


def training_losses(
    outputs: Mapping[str, torch.Tensor],
    cls_gt: torch.Tensor,
    box_gt: torch.Tensor,
    weights: Mapping[str, float] | LossConfig | None = None,
    normaliser: Normaliser = None,
) -> dict[str, torch.Tensor]:
    """The weighted terms ``fc_cls``, ``fc_reg``, ``conv_cls``, ``conv_reg``, their sum
    ``total``, and the detached metrics ``fc_iou``/``conv_iou`` (mean IoU over positives).

    ``outputs`` holds the model's ``cls_fc``, ``cls_conv`` ``(B, N, 1)`` logits and ``bbox_fc``,
    ``bbox_conv`` ``(B, N, 4)`` xyxy boxes; ``weights`` is a recipe's ``[loss]`` table (official
    values where absent). Every value divided by the same ``normaliser``, so values of the parts
    of one step add up to the whole step's.
    """
    config = LossConfig.from_mapping(weights)
    terms: dict[str, torch.Tensor] = {}
    for name, (key, kind) in TERMS.items():
        if kind == "focal":
            value = focal_loss(
                outputs[key], cls_gt, config.focal_alpha, config.focal_gamma, normaliser
            )
        else:
            value = iou_loss(outputs[key], box_gt, cls_gt, normaliser)
        terms[name] = value * getattr(config, name)
    terms["total"] = terms["fc_cls"] + terms["fc_reg"] + terms["conv_cls"] + terms["conv_reg"]
    for name, key in IOU_METRICS.items():
        terms[name] = mean_iou(outputs[key], box_gt, cls_gt, normaliser)
    return terms
