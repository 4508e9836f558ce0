"""The one home of box conventions: ``x, y, w, h`` float64 arrays of shape (N, 4).

Every toolkit's rectangle IoU is the same continuous formula (the MATLAB ``calcRectInt``
pixel-inclusive arithmetic cancels out); the differences between toolkits are in centres
(``xy + (wh - 1) / 2``), rounding and clipping, which live here as named functions.
NaN inputs propagate to NaN outputs, and NaN fails every threshold comparison.
"""

from __future__ import annotations

import numpy as np

Boxes = np.ndarray


def xywh_to_xyxy(boxes: Boxes) -> Boxes:
    """Top-left/size to corners (exclusive right/bottom edge: ``x2 = x + w``)."""
    boxes = np.asarray(boxes, dtype=np.float64)
    return np.concatenate([boxes[..., :2], boxes[..., :2] + boxes[..., 2:]], axis=-1)


def xyxy_to_xywh(boxes: Boxes) -> Boxes:
    """Corners to top-left/size."""
    boxes = np.asarray(boxes, dtype=np.float64)
    return np.concatenate([boxes[..., :2], boxes[..., 2:] - boxes[..., :2]], axis=-1)


def iou(a: Boxes, b: Boxes, eps: float = 0.0) -> np.ndarray:
    """Continuous rectangle IoU of row-aligned boxes, clipped to [0, 1].

    ``eps`` is added to the union (the got10k toolkit adds machine epsilon). Boxes of zero
    area on both sides give NaN (0/0) without it; callers mask invalid boxes first, as every
    protocol does. NaN coordinates give NaN. Works column by column, so ``(N, 4)`` views of
    ``(4, N)`` arrays (as `evaluate` builds them) run on contiguous memory.
    """
    ax, ay, aw, ah = np.moveaxis(np.asarray(a, dtype=np.float64), -1, 0)
    bx_, by, bw, bh = np.moveaxis(np.asarray(b, dtype=np.float64), -1, 0)
    inter_w = np.minimum(ax + aw, bx_ + bw) - np.maximum(ax, bx_)
    inter_h = np.minimum(ay + ah, by + bh) - np.maximum(ay, by)
    inter = np.maximum(inter_w, 0.0) * np.maximum(inter_h, 0.0)
    union = aw * ah + bw * bh - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.clip(inter / (union + eps), 0.0, 1.0)


def centers(boxes: Boxes) -> np.ndarray:
    """OTB/MATLAB centre of a 1-based pixel box: ``xy + (wh - 1) / 2``."""
    boxes = np.asarray(boxes, dtype=np.float64)
    return boxes[..., :2] + (boxes[..., 2:] - 1.0) / 2.0


def center_error(pred: Boxes, gt: Boxes) -> np.ndarray:
    """Euclidean distance between the centres, in pixels (``sqrt(dx**2 + dy**2)``)."""
    d = centers(pred) - centers(gt)
    return np.sqrt(d[..., 0] * d[..., 0] + d[..., 1] * d[..., 1])


def normalized_center_error(pred: Boxes, gt: Boxes) -> np.ndarray:
    """LaSOT normalized distance: the centre offset divided by the ground truth's w and h."""
    gt = np.asarray(gt, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = (centers(pred) - centers(gt)) / gt[..., 2:]
    return np.sqrt(d[..., 0] * d[..., 0] + d[..., 1] * d[..., 1])


def clip_shift_to_image(boxes: Boxes, width: np.ndarray, height: np.ndarray) -> Boxes:
    """The got10k toolkit's ``bound=(W, H)`` rule, reproduced exactly (it is what GOT-10k uses).

    ``x = clip(x, 0, W); w = clip(w, 0, W - x)`` and likewise for y, h: a box sticking out to
    the left or top is shifted inside, keeping its width, not cropped. ``width``/``height``
    broadcast per row (GOT-10k frame sizes are per sequence). Returns a new array.
    """
    out = np.array(boxes, dtype=np.float64, copy=True)
    out[..., 0] = np.clip(out[..., 0], 0, width)
    out[..., 1] = np.clip(out[..., 1], 0, height)
    out[..., 2] = np.clip(out[..., 2], 0, width - out[..., 0])
    out[..., 3] = np.clip(out[..., 3], 0, height - out[..., 1])
    return out


def round_half_even(boxes: Boxes) -> Boxes:
    """``np.round`` (banker's rounding), as the TrackingNet server rounds every coordinate."""
    return np.round(np.asarray(boxes, dtype=np.float64))
