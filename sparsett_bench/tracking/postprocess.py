"""SiamFC++ post-processing of the 19x19 score map, as the official SparseTT tracker does it.

The official tracker ran under NumPy 1, whose promotion rules decide where it rounds to
float32; NumPy 2 promotes differently, so every cast is written out here and the results are
bit-identical to the official ones (the golden post-processing cases check this). In short:
boxes, penalties and the output box are float32; the penalised score, the learning rate and
the tracker state are float64; the state starts as float32 after ``init``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sparsett_bench.errors import SparsettError


@dataclass(frozen=True)
class TrackerParams:
    """Test-time hyperparameters (the official test YAMLs; per benchmark in the model config)."""

    test_lr: float
    window_influence: float
    penalty_k: float
    min_w: float = 10.0
    min_h: float = 10.0

    def __post_init__(self) -> None:
        """Refuse a value the post-processing cannot mean (NaN, a negative penalty, a rate or
        window weight outside 0-1), naming it: a NaN also never equals itself, so a run made
        with it could not be resumed."""
        for name, low, high in (
            ("test_lr", 0.0, 1.0), ("window_influence", 0.0, 1.0),
            ("penalty_k", 0.0, math.inf), ("min_w", 0.0, math.inf), ("min_h", 0.0, math.inf),
        ):  # fmt: skip
            value = getattr(self, name)
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if not (number and low <= value <= high):  # NaN fails both comparisons
                span = f"from {low:g} to {high:g}" if high < math.inf else f"of at least {low:g}"
                raise SparsettError(f"tracker hyperparameter {name} = {value!r}: expected {span}")


@dataclass
class Step:
    """What one update decided, for tests and diagnostics."""

    best_id: int
    pscore: np.ndarray
    penalty: np.ndarray
    lr: float
    pos_unclipped: np.ndarray
    sz_unclipped: np.ndarray


def cosine_window(size: int) -> np.ndarray:
    """``outer(hanning, hanning)`` flattened; its border values are 0."""
    return np.outer(np.hanning(size), np.hanning(size)).reshape(-1)


def xyxy_to_cxywh(boxes: np.ndarray) -> np.ndarray:
    """float32 ``cx, cy, w, h`` with the +1 pixel convention (``w = x1 - x0 + 1``)."""
    b = np.asarray(boxes, dtype=np.float32)
    return np.stack(
        [
            (b[:, 0] + b[:, 2]) / np.float32(2),
            (b[:, 1] + b[:, 3]) / np.float32(2),
            b[:, 2] - b[:, 0] + np.float32(1),
            b[:, 3] - b[:, 1] + np.float32(1),
        ],
        axis=1,
    )


def _change(r: np.ndarray) -> np.ndarray:
    return np.maximum(r, np.float32(1) / r)


def penalised_scores(
    score: np.ndarray,
    box_cxywh: np.ndarray,
    target_sz: np.ndarray,
    scale_x: float,
    window: np.ndarray,
    params: TrackerParams,
) -> tuple[int, np.ndarray, np.ndarray]:
    """``(best_id, pscore, penalty)``: scale/ratio penalty, then the cosine window."""
    score = np.asarray(score, dtype=np.float32)
    w, h = box_cxywh[:, 2], box_cxywh[:, 3]
    # target_sz * scale_x keeps target_sz's dtype (float32 right after init, float64 later).
    in_crop = np.asarray(target_sz) * np.asarray(scale_x, dtype=np.asarray(target_sz).dtype)
    tw, th = in_crop[0], in_crop[1]
    pad_t = np.float64(tw + th) * 0.5  # NumPy-1 scalar rules: a Python float makes it float64
    target_size = np.sqrt((tw + pad_t) * (th + pad_t))
    pad = (w + h) * np.float32(0.5)
    box_size = np.sqrt((w + pad) * (h + pad))
    s_c = _change(box_size / np.float32(target_size))
    r_c = _change(np.float32(tw / th) / (w / h))
    penalty = np.exp(-(r_c * s_c - np.float32(1)) * np.float32(params.penalty_k))
    pscore = (penalty * score) * np.float32(1 - params.window_influence)
    pscore = pscore.astype(np.float64) + window * params.window_influence
    return int(np.argmax(pscore)), pscore, penalty


def next_state(
    best_id: int,
    score: np.ndarray,
    box_cxywh: np.ndarray,
    penalty: np.ndarray,
    target_pos: np.ndarray,
    target_sz: np.ndarray,
    scale_x: float,
    x_size: int,
    params: TrackerParams,
) -> tuple[np.ndarray, np.ndarray, float]:
    """The unclipped new centre and size (float64) and the size learning rate.

    The centre jumps to the prediction (no smoothing); the size moves by ``lr = penalty x
    score x test_lr``."""
    pred = box_cxywh[best_id] / np.float32(scale_x)
    lr = np.float64(penalty[best_id] * np.float32(score[best_id])) * params.test_lr
    offset = (x_size // 2) / scale_x
    # scalar + scalar keeps float32 when the state is float32 (right after init).
    x = np.float64(pred[0] + target_pos[0]) - offset
    y = np.float64(pred[1] + target_pos[1]) - offset
    w = np.float64(target_sz[0]) * (1 - lr) + np.float64(pred[2]) * lr
    h = np.float64(target_sz[1]) * (1 - lr) + np.float64(pred[3]) * lr
    return np.array([x, y]), np.array([w, h]), float(lr)


def restrict(
    pos: np.ndarray, sz: np.ndarray, image_wh: tuple[int, int], params: TrackerParams
) -> tuple[np.ndarray, np.ndarray]:
    """Centre clipped to ``[0, W] x [0, H]``, size to ``[min_w, W] x [min_h, H]``."""
    width, height = image_wh
    pos = np.array([max(0, min(width, pos[0])), max(0, min(height, pos[1]))], dtype=np.float64)
    sz = np.array(
        [max(params.min_w, min(width, sz[0])), max(params.min_h, min(height, sz[1]))],
        dtype=np.float64,
    )
    return pos, sz


def cxywh_to_xywh(pos: np.ndarray, sz: np.ndarray) -> np.ndarray:
    """The reported box: computed in float32 as the official ``cxywh2xywh``, returned float64."""
    cx, cy = np.asarray(pos, dtype=np.float32)
    w, h = np.asarray(sz, dtype=np.float32)
    half = np.float32(2)
    box = [cx - (w - np.float32(1)) / half, cy - (h - np.float32(1)) / half, w, h]
    return np.array(box, dtype=np.float32).astype(np.float64)
