"""Dense SiamFC++ training targets on the score map, equal to the official ``DenseboxTarget``
(``make_densebox_target`` v2.1, then the negative-pair relabelling).

Cell ``t = i * S + j`` (row ``i``, column ``j``) looks at the search-patch point
``(offset + stride * j, offset + stride * i)``. The official target recomputes the offset from the
patch size, ``(x_size - 1 - (S - 1) * stride) // 2``, whatever the YAML says; that is 0 for the
289/19/16 geometry, and it is the default here too.

- A cell is positive (1) when its point lies strictly inside the box: all four of ``p.x - x0``,
  ``p.y - y0``, ``x1 - p.x``, ``y1 - p.y`` are ``> 0`` in float32 (the official code casts the box
  to float32 first), so a point exactly on an edge is negative (0). No radius limit.
- A positive cell carries the float32 box and its centerness
  ``sqrt(|min(l, r) min(t, b) / (max(l, r) max(t, b) + 1e-5)|)``; other cells carry zeros.
  No loss uses the centerness.
- Negative pair: inside cells become negatives (0) and every other cell is ignored (-1).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

POSITIVE, NEGATIVE, IGNORE = 1, 0, -1
CENTERNESS_EPS = np.float32(1e-5)


def score_offset_for(x_size: int, score_size: int, stride: int) -> int:
    """The official ``DenseboxTarget`` offset: the score grid centred on the patch."""
    return (x_size - 1 - (score_size - 1) * stride) // 2


def anchor_points(
    x_size: int = 289, score_size: int = 19, stride: int = 16, score_offset: int | None = None
) -> npt.NDArray[np.float32]:
    """``(S * S, 2)`` float32 ``(x, y)`` of every cell's point, row-major.

    Raises ``ValueError`` when a point falls outside the ``x_size`` patch (the official code
    indexes a per-pixel table there and would fail or wrap around)."""
    offset = score_offset_for(x_size, score_size, stride) if score_offset is None else score_offset
    steps = offset + stride * np.arange(score_size)
    if steps.min() < 0 or steps.max() >= x_size:
        raise ValueError(
            f"score points {steps.min()}..{steps.max()} lie outside the {x_size}-px patch "
            f"(score_size {score_size}, stride {stride}, offset {offset})"
        )
    ys, xs = np.meshgrid(steps, steps, indexing="ij")
    return np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float32)


def dense_targets(
    box_xyxy: npt.ArrayLike,
    negative: bool | npt.ArrayLike = False,
    x_size: int = 289,
    score_size: int = 19,
    stride: int = 16,
    score_offset: int | None = None,
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """``(cls (..., N, 1), box (..., N, 4), centerness (..., N, 1))`` float32, ``N = S * S``.

    ``box_xyxy`` is ``(4,)`` or a batch ``(..., 4)`` in patch pixels; ``negative`` is one flag or
    one per box. ``score_offset=None`` derives it from ``x_size`` as the official code does.
    """
    box = np.asarray(box_xyxy, dtype=np.float32)
    if box.shape[-1:] != (4,):
        raise ValueError(f"boxes must be (..., 4) xyxy, got shape {box.shape}")
    points = anchor_points(x_size, score_size, stride, score_offset)  # (N, 2)
    box = box[..., None, :]  # (..., 1, 4)
    left, top = points[:, 0] - box[..., 0], points[:, 1] - box[..., 1]
    right, bottom = box[..., 2] - points[:, 0], box[..., 3] - points[:, 1]
    inside = (left > 0) & (top > 0) & (right > 0) & (bottom > 0)  # (..., N)

    ratio = (np.minimum(left, right) * np.minimum(top, bottom)) / (
        np.maximum(left, right) * np.maximum(top, bottom) + CENTERNESS_EPS
    )
    centerness = np.where(inside, np.sqrt(np.abs(ratio)), np.float32(0))
    boxes = np.where(inside[..., None], box, np.float32(0))

    negative = np.asarray(negative, dtype=bool)[..., None]  # broadcasts over the cells
    positive_label = np.where(negative, NEGATIVE, POSITIVE)
    outside_label = np.where(negative, IGNORE, NEGATIVE)
    cls = np.where(inside, positive_label, outside_label)
    return (
        cls[..., None].astype(np.float32),
        boxes.astype(np.float32),
        centerness[..., None].astype(np.float32),
    )
