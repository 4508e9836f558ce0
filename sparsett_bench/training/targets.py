"""Dense SiamFC++ targets on the score map, as the official ``make_densebox_target`` and
``DenseboxTarget`` make them (float32 throughout, as the official torch code).

Cell ``t = i * S + j`` looks at the search-patch point ``(offset + stride j, offset + stride i)``;
it is positive when that point lies strictly inside the box (all four offsets ``> 0``; a point
exactly on an edge is negative), and then carries the box (``x0, y0, x1, y1``) and its
centerness ``sqrt(min(l, r) min(t, b) / (max(l, r) max(t, b) + 1e-5))``; other cells carry
zeros. For a negative pair, inside cells become negatives (0) and all others are ignored (-1).
"""

from __future__ import annotations

import numpy as np

IGNORE = -1


def dense_targets(
    box_xyxy: np.ndarray,
    negative: bool,
    x_size: int = 289,
    score_size: int = 19,
    stride: int = 16,
    offset: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(cls (N, 1), box (N, 4), centerness (N, 1))`` float32 for ``N = score_size ** 2``."""
    del x_size  # the points are on the patch for every offset the recipes use
    box = np.asarray(box_xyxy, dtype=np.float32)
    cells = np.arange(score_size)
    ys, xs = np.meshgrid(cells, cells, indexing="ij")
    px = (offset + stride * xs).reshape(-1).astype(np.float32)
    py = (offset + stride * ys).reshape(-1).astype(np.float32)
    left, top = px - box[0], py - box[1]
    right, bottom = box[2] - px, box[3] - py
    inside = (left > 0) & (top > 0) & (right > 0) & (bottom > 0)
    ratio = (np.minimum(left, right) * np.minimum(top, bottom)) / (
        np.maximum(left, right) * np.maximum(top, bottom) + np.float32(1e-5)
    )
    centerness = np.where(inside, np.sqrt(np.abs(ratio)), np.float32(0)).astype(np.float32)
    cls = inside.astype(np.float32)
    if negative:
        cls = np.where(inside, np.float32(0), np.float32(IGNORE))
    boxes = np.where(inside[:, None], box[None, :], np.float32(0)).astype(np.float32)
    return cls[:, None], boxes, centerness[:, None]
