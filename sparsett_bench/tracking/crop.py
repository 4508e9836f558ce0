"""SiamFC++ crops exactly as the official SparseTT tracker makes them (byte for byte).

The official code works in a fixed mix of float32 and float64 (NumPy-1 promotion), and the
crop is one ``cv2.warpAffine`` with an inverse map; every rounding step is reproduced here:

- crop size in float64: ``s_z = sqrt((w + c(w+h)) (h + c(w+h)))``, ``scale = z_size / s_z``, and
  the side ``round(out_size / scale)`` (Python's half-to-even ``round``), so the template side
  is ``round(127 / (127 / s_z))``, which is not always ``round(s_z)``;
- crop corners in float32: ``cx -+ (side - 1) / 2`` (the official ``cxywh2xyxy`` casts);
- the inverse map ``[[(x1 - x0) / (out - 1), 0, x0], [0, (y1 - y0) / (out - 1), y0]]`` in
  float64, bilinear, constant border;
- the border colour is the first frame's per-channel mean truncated by ``int()``.

OpenCV 5's warpAffine differs from 4.x by 1-2 grey levels, hence ``opencv < 5``.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

# BGR uint8 -> RGB float32, normalised with the ImageNet statistics on the 0-255 scale.
_MEAN_RGB = np.array([123.675, 116.28, 103.53], dtype=np.float32)
_STD_RGB = np.array([58.395, 57.12, 57.375], dtype=np.float32)


def border_colour(first_frame: np.ndarray) -> tuple[int, int, int]:
    """The padding colour for a whole sequence: ``int()`` of the first frame's mean (BGR)."""
    mean = np.mean(first_frame, axis=(0, 1))
    return tuple(int(c) for c in mean)  # type: ignore[return-value]


def crop_scale(target_sz: np.ndarray, context_amount: float, z_size: int) -> float:
    """``z_size / s_z``: template pixels per frame pixel for a target of size ``target_sz``."""
    w, h = float(target_sz[0]), float(target_sz[1])
    context = context_amount * (w + h)
    return z_size / math.sqrt((w + context) * (h + context))


def crop_side(scale: float, out_size: int) -> int:
    """The crop's side in frame pixels: ``round(out_size / scale)``, half to even."""
    return round(out_size / scale)


def warp_matrix(center: np.ndarray, side: float, out_size: int) -> np.ndarray:
    """The inverse affine map from patch to frame pixels, with the official rounding."""
    cx, cy = np.asarray(center, dtype=np.float32)[:2]
    half = np.float32((side - 1) / 2)
    x0, y0, x1, y1 = cx - half, cy - half, cx + half, cy + half  # float32, as cxywh2xyxy
    return np.array(
        [
            [np.float64(x1 - x0) / (out_size - 1), 0.0, np.float64(x0)],
            [0.0, np.float64(y1 - y0) / (out_size - 1), np.float64(y0)],
        ]
    )


def crop_patch(
    image: np.ndarray, center: np.ndarray, side: float, out_size: int, border: tuple[int, ...]
) -> np.ndarray:
    """The ``out_size`` square patch of side ``side`` frame pixels centred on ``center``."""
    return cv2.warpAffine(
        image,
        warp_matrix(center, side, out_size),
        (out_size, out_size),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=border,
    )


def normalise(patch: np.ndarray) -> np.ndarray:
    """BGR ``uint8`` HWC -> normalised RGB float32 ``(1, 3, H, W)``, bit-exact with mmcv's."""
    rgb = patch[:, :, ::-1].astype(np.float32)
    return np.ascontiguousarray(((rgb - _MEAN_RGB) / _STD_RGB).transpose(2, 0, 1)[None])
