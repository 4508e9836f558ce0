"""The official SparseTT model and tracker (github.com/fzh0917/SparseTT), built from a checkout
the user provides, for in-run speed anchors in `model_latency.py` (its model) and
`tracking_fps.py` (its tracker). Nothing of it is in this project: the checkout is imported from
where it lies, unmodified.

It needs mmcv 1.x and mmdet 2.x beside torch. Tested with the checkout at 791245c, mmcv 1.7.2
built without compiled ops (``MMCV_WITH_OPS=0``, setuptools < 70, ``--no-build-isolation``),
mmdet 2.28.2, yacs, loguru, addict, yapf, terminaltables and pycocotools, in a venv made with
``--system-site-packages`` (so it shares this project's torch). Runtime shims, none of which
touches a number: ``collections.Iterable``/``Mapping`` for Python >= 3.10; ``np.int`` (the
builtin ``int``, which the tracker's box rounding names) for numpy >= 1.24; a stub ``mmcv._ext``
whose functions raise (mmdet imports ``mmcv.ops``; SparseTT uses no compiled op); a dummy file
for ``SwinTransformer.pretrained`` (the backbone's ``init_weights`` always loads one; the
checkpoint then replaces every tensor through the official ``pretrain_model_path``).
"""

from __future__ import annotations

import collections
import collections.abc
import contextlib
import os
import sys
import tempfile
import types
from pathlib import Path
from typing import Any

import numpy as np
import torch

CONFIGS = {
    "got10k": "experiments/sparsett/test/got10k/sparsett_swin_got10k.yaml",
    "otb2015": "experiments/sparsett/test/otb2015/sparsett_swin_otb2015.yaml",
}


def _stub_mmcv_ops() -> None:
    try:
        import mmcv._ext  # noqa: F401
    except ImportError:
        stub = types.ModuleType("mmcv._ext")

        def missing(name: str):
            if name.startswith("__"):
                raise AttributeError(name)

            def refuse(*args, **kwargs):
                raise RuntimeError(f"mmcv._ext.{name}: no compiled ops in this mmcv")

            return refuse

        stub.__getattr__ = missing  # type: ignore[attr-defined]
        stub.__file__ = __file__
        sys.modules["mmcv._ext"] = stub


def _build(repo: Path, checkpoint: Path, benchmark: str) -> tuple[torch.nn.Module, Any]:
    """The official model (eval mode) with ``checkpoint`` and, built on it, the official tracker
    (``SparseTTTracker`` with the test YAML's hyperparameters for ``benchmark``). The official
    import creates an empty ``./dump`` folder: it is made in a temporary working directory."""
    for name in ("Iterable", "Mapping"):
        if not hasattr(collections, name):
            setattr(collections, name, getattr(collections.abc, name))
    if not hasattr(np, "int"):
        np.int = int  # type: ignore[attr-defined]
    _stub_mmcv_ops()
    sys.path.insert(0, str(repo.resolve()))
    previous = Path.cwd()
    with tempfile.TemporaryDirectory() as scratch:
        os.chdir(scratch)
        try:
            from loguru import logger

            logger.remove()
            logger.add(sys.stderr, level="WARNING")
            from videoanalyst.config.config import cfg, specify_task
            from videoanalyst.model import builder
            from videoanalyst.pipeline import builder as pipeline_builder

            cfg.merge_from_file(str(repo / CONFIGS[benchmark]))
            _, task_cfg = specify_task(cfg.test)
            dummy = Path(scratch) / "swin_pretrained.pth"
            torch.save({"model": {"unused": torch.zeros(1)}}, dummy)
            task_cfg.model.task_model.SiamTrack.pretrain_model_path = str(checkpoint)
            task_cfg.model.backbone.SwinTransformer.pretrained = str(dummy)
            with contextlib.redirect_stdout(sys.stderr):
                model = builder.build("track", task_cfg.model).eval()
                tracker = pipeline_builder.build("track", task_cfg.pipeline, model)
        finally:
            os.chdir(previous)
    return model, tracker


def build_official(repo: Path, checkpoint: Path) -> torch.nn.Module:
    """The official tracking model from ``repo`` with ``checkpoint`` (official format), in eval
    mode."""
    return _build(repo, checkpoint, "got10k")[0]


class OfficialTracker:
    """The official tracker (``SparseTTTracker.init``/``update``, unmodified) behind this
    project's `Tracker` protocol, so that `runner.track` times it like every other tracker. It
    reads the same BGR frames as this project's trackers (the official test code reads them
    with OpenCV too)."""

    name = "official"

    def __init__(self, repo: Path, checkpoint: Path, benchmark: str) -> None:
        self._pipeline = _build(repo, checkpoint, benchmark)[1]

    def init(self, image: np.ndarray, box: np.ndarray) -> None:
        self._pipeline.init(image, box)

    def update(self, image: np.ndarray) -> np.ndarray:
        return self._pipeline.update(image)


def official_paths(model: torch.nn.Module, z: torch.Tensor):
    """The official tracker's per-frame call: template features once (``phase="feature"``,
    as ``SparseTTTracker.init``), then ``model(x, *features, phase="track")`` per frame;
    returns (run, fused score of a frame) functions."""
    with torch.no_grad():
        features = model(z, phase="feature")

    def run(x: torch.Tensor):
        with torch.no_grad():
            return model(x, *features, phase="track")

    def score(x: torch.Tensor) -> torch.Tensor:
        return run(x)[0]

    return run, score
