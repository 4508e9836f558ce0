"""Training crops of a template/search pair, as the official ``crop_track_pair`` makes them.

The template is cropped around its box with context 0.5 and no jitter; the search crop's side
is scaled by ``U(1/1.3, 1.3)`` and its centre shifted by ``U(-0.4, 0.4) x side / 2`` in each
direction, drawn again (up to 50 times) until the target lies wholly inside the 289 patch, and
not augmented at all after that. Both crops use the template image's mean colour as padding and
the tracker's own crop (`sparsett_bench.tracking.crop`), with a float side (not rounded, unlike
at test time). Boxes are ``x0, y0, x1, y1`` with the +1 pixel convention (``w = x1 - x0 + 1``).
The random draws follow the official order, including the template's (zero-range) ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sparsett_bench.tracking.crop import crop_patch

MAX_RETRY = 50


@dataclass(frozen=True)
class CropConfig:
    z_size: int = 127
    x_size: int = 289
    context_amount: float = 0.5
    max_scale: float = 0.3
    max_shift: float = 0.4
    max_scale_temp: float = 0.0
    max_shift_temp: float = 0.0


@dataclass
class CroppedPair:
    template: np.ndarray  # (z, z, 3) uint8 BGR
    search: np.ndarray  # (x, x, 3) uint8 BGR
    template_box: np.ndarray  # xyxy in template-patch pixels
    search_box: np.ndarray  # xyxy in search-patch pixels
    augmented: bool  # False when 50 draws never kept the target inside the search patch


def xywh_to_cxywh(box: np.ndarray) -> np.ndarray:
    x, y, w, h = np.asarray(box, dtype=np.float64)
    return np.array([x + (w - 1) / 2, y + (h - 1) / 2, w, h])


def cxywh_to_xyxy(box: np.ndarray) -> np.ndarray:
    cx, cy, w, h = box
    return np.array([cx - (w - 1) / 2, cy - (h - 1) / 2, cx + (w - 1) / 2, cy + (h - 1) / 2])


def context_side(w: float, h: float, context_amount: float) -> float:
    """Side of the square around a ``w x h`` target with context (127 px in the template)."""
    pad = context_amount * (w + h)
    return math.sqrt((w + pad) * (h + pad))


def crop_pair(
    template_image: np.ndarray,
    template_xywh: np.ndarray,
    search_image: np.ndarray,
    search_xywh: np.ndarray,
    rng: np.random.Generator,
    config: CropConfig = CropConfig(),
) -> CroppedPair:
    box_t = xywh_to_cxywh(template_xywh)
    box_c = xywh_to_cxywh(search_xywh)
    scale_t0 = config.z_size / context_side(box_t[2], box_t[3], config.context_amount)
    scale_c0 = config.z_size / context_side(box_c[2], box_c[3], config.context_amount)
    for attempt in range(MAX_RETRY + 1):
        augment = attempt < MAX_RETRY
        if augment:
            top = 1 + config.max_scale
            scale_rand = rng.uniform(1 / top, top)
            top_t = 1 + config.max_scale_temp
            scale_rand_t = math.exp(rng.uniform(math.log(1 / top_t), math.log(top_t)))
        else:
            scale_rand = scale_rand_t = 1.0
        scale_c, scale_t = scale_c0 / scale_rand, scale_t0 / scale_rand_t
        side_c, side_t = config.x_size / scale_c, config.z_size / scale_t
        if augment:
            dx = rng.uniform(-config.max_shift, config.max_shift) * side_c / 2
            dy = rng.uniform(-config.max_shift, config.max_shift) * side_c / 2
            dx_t = rng.uniform(-config.max_shift_temp, config.max_shift_temp) * side_t / 2
            dy_t = rng.uniform(-config.max_shift_temp, config.max_shift_temp) * side_t / 2
        else:
            dx = dy = dx_t = dy_t = 0.0
        box_z = cxywh_to_xyxy(
            np.array([(config.z_size - 1) / 2] * 2 + [0.0] * 2)
            + np.array([dx_t, dy_t, box_t[2], box_t[3]]) * scale_t
        )
        box_x = cxywh_to_xyxy(
            np.array([(config.x_size - 1) / 2] * 2 + [0.0] * 2)
            + np.array([dx, dy, box_c[2], box_c[3]]) * scale_c
        )
        if np.all((box_z >= 0) & (box_z <= config.z_size - 1)) and np.all(
            (box_x >= 0) & (box_x <= config.x_size - 1)
        ):
            break
    border = tuple(int(c) for c in np.mean(template_image, axis=(0, 1)))
    template = crop_patch(
        template_image, box_t[:2] - np.array([dx_t, dy_t]), side_t, config.z_size, border
    )
    search = crop_patch(search_image, box_c[:2] - np.array([dx, dy]), side_c, config.x_size, border)
    return CroppedPair(template, search, box_z, box_x, augment)
