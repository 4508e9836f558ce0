"""`Sequence`: one tracked target in one video, as every loader returns it.

Ground truth is float64 ``x, y, w, h`` in the file's own pixel convention (1-based for the
MATLAB-era benchmarks, as their toolkits score them), NaN where the target is absent.
``absent`` is the benchmark's own notion of "target not visible": NaN rows for UAV123,
``full_occlusion | out_of_view`` (or the toolkit's ``absent`` file) for LaSOT, ``absence.label``
(else ``cover == 0``) for GOT-10k. ``file_boxes`` keeps the rows as the file has them (LaSOT
writes ``0,0,0,0`` or a stale box for absent frames), for the toolkits that score those.
Frames are resolved lazily so that evaluation works on annotation-only folders without images.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass
class Sequence:
    """One target track; see the module docstring for the conventions."""

    name: str
    boxes: np.ndarray
    absent: np.ndarray
    attributes: tuple[str, ...] = ()
    frame_paths_fn: Callable[[], list[Path]] | None = field(default=None, repr=False)
    image_size: tuple[int, int] | None = None
    cover: np.ndarray | None = field(default=None, repr=False)
    description: str | None = None
    file_boxes: np.ndarray | None = field(default=None, repr=False)
    # Video frames before the first scored one that a result may still cover: OTB's Tiger1 is
    # scored from frame 6 (initOmit 5), toolkits without initOmit write rows for frames 1-354.
    omitted_frames: int = 0
    _frames: list[Path] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        boxes = np.asarray(self.boxes, dtype=np.float64).reshape(-1, 4)
        self.absent = np.asarray(self.absent, dtype=bool).reshape(-1)
        if self.absent.shape[0] != boxes.shape[0]:
            raise ValueError(
                f"{self.name}: {boxes.shape[0]} boxes but {self.absent.shape[0]} absent flags"
            )
        if self.file_boxes is None:
            self.file_boxes = boxes
        self.boxes = boxes.copy() if self.absent.any() else boxes
        self.boxes[self.absent] = np.nan

    def __len__(self) -> int:
        return self.boxes.shape[0]

    @property
    def frame_paths(self) -> list[Path]:
        """Image paths, one per ground-truth row (resolved on first use)."""
        if self._frames is None:
            if self.frame_paths_fn is None:
                raise FileNotFoundError(f"{self.name}: no images (annotation-only dataset)")
            self._frames = self.frame_paths_fn()
        return self._frames

    def frame_size(self) -> tuple[int, int]:
        """``(width, height)`` from the metadata, or from the first image when there is none."""
        if self.image_size is None:
            import cv2

            image = cv2.imread(str(self.frame_paths[0]), cv2.IMREAD_UNCHANGED)
            if image is None:
                raise FileNotFoundError(f"{self.frame_paths[0]}: not a readable image")
            self.image_size = (int(image.shape[1]), int(image.shape[0]))
        return self.image_size
