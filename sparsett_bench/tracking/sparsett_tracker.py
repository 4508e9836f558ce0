"""The SparseTT tracker: the official SiamFC++-style pipeline around a `SparseTT` model.

``init`` crops the 127 template around the given box (context 0.5, first-frame mean colour as
padding), runs the template branch once and keeps its result; every ``update`` crops the 289
search region around the previous state, runs the search branch, and post-processes the fused
19x19 score map (`postprocess`). Frame 1's output is the given box itself, as in the official
testers. The last update's intermediate values are kept in ``last`` for diagnostics.

The network runs through a `Predictor` (device, precision, CUDA graphs), or with
``runtime="onnxruntime"`` through an `OnnxPredictor` (CPU, fp32; the score moves by up to
1e-4). The defaults, PyTorch in fp32 without BatchNorm folding, reproduce the official tracker
bit for bit with one CPU thread; ``fold_bn=True`` moves the score by about 3e-6 and saves
1-10% of the time on a CPU, and ``fused_kernels=True`` with it (`Predictor`) moves it by float32
rounding again and saves more (benchmarks/results/model_latency.txt).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
import torch

from sparsett_bench.errors import SparsettError
from sparsett_bench.model.inference import Precision, Predictor, check_predictor_options
from sparsett_bench.model.onnx_predictor import OnnxPredictor
from sparsett_bench.tracking import crop, postprocess
from sparsett_bench.tracking.postprocess import TrackerParams

Runtime = Literal["torch", "onnxruntime"]


def check_inference_options(
    runtime: str,
    precision: str,
    fold_bn: bool,
    cuda_graphs: bool,
    *,
    on_cuda: bool,
    fused_kernels: bool = False,
) -> None:
    """Refuse options the tracker cannot run together; `run` calls this before it writes its
    configuration (a refused run.json would otherwise hold the results folder's name)."""
    if runtime not in get_args(Runtime):
        raise SparsettError(f"unknown runtime {runtime!r} (torch or onnxruntime)")
    if runtime == "onnxruntime":
        if on_cuda or precision != "fp32" or cuda_graphs or fold_bn or fused_kernels:
            raise SparsettError(
                "--runtime onnxruntime runs the exported fp32 graph on the CPU "
                "(no --device cuda, --precision, --cuda-graphs, --fold-bn or --fused-kernels)"
            )
    else:
        check_predictor_options(precision, cuda_graphs, on_cuda=on_cuda)


@dataclass
class SearchRecord:
    """One update's intermediate values (what the official goldens record per frame)."""

    prior_pos: np.ndarray
    prior_sz: np.ndarray
    scale_x: float
    search_side: int
    patch: np.ndarray
    score: np.ndarray
    box_xyxy: np.ndarray
    step: postprocess.Step


class SparseTTTracker:
    """Implements `sparsett_bench.tracking.base.Tracker` for a loaded, eval-mode model."""

    def __init__(
        self,
        model: torch.nn.Module,
        params: TrackerParams,
        *,
        name: str = "sparsett",
        z_size: int = 127,
        x_size: int = 289,
        score_size: int = 19,
        context_amount: float = 0.5,
        device: str | torch.device = "cpu",
        precision: Precision = "fp32",
        fold_bn: bool = False,
        fused_kernels: bool = False,
        cuda_graphs: bool = False,
        runtime: Runtime = "torch",
        threads: int | None = None,
    ) -> None:
        self.name = name
        on_cuda = torch.device(device).type == "cuda"
        check_inference_options(
            runtime, precision, fold_bn, cuda_graphs, on_cuda=on_cuda, fused_kernels=fused_kernels
        )
        self.predictor: Predictor | OnnxPredictor
        if runtime == "onnxruntime":
            self.predictor = OnnxPredictor(model, threads=threads)
        else:
            self.predictor = Predictor(
                model, device=device, precision=precision, fold_bn=fold_bn,
                fused_kernels=fused_kernels, cuda_graphs=cuda_graphs,
            )  # fmt: skip
        self.params = params
        self.z_size, self.x_size, self.context_amount = z_size, x_size, context_amount
        self.window = postprocess.cosine_window(score_size)
        self.last: SearchRecord | None = None
        self._started = False

    def init(self, image: np.ndarray, box: np.ndarray) -> None:
        x, y, w, h = np.asarray(box, dtype=np.float32)[:4]
        # xywh -> cxywh in float32, as the official tracker stores its first state.
        self.pos = np.array([x + (w - 1) / 2, y + (h - 1) / 2], dtype=np.float32)
        self.sz = np.array([w, h], dtype=np.float32)
        self.image_wh = (int(image.shape[1]), int(image.shape[0]))
        self.border = crop.border_colour(image)
        scale = crop.crop_scale(self.sz, self.context_amount, self.z_size)
        side = crop.crop_side(scale, self.z_size)
        patch = crop.crop_patch(image, self.pos, side, self.z_size, self.border)
        self.predictor.set_template(self._tensor(patch))
        self.last = None
        self._started = True

    def set_state(self, pos: np.ndarray, sz: np.ndarray) -> None:
        """Replace the prior centre and size (as the official ``update(image, state)``)."""
        self.pos, self.sz = np.asarray(pos), np.asarray(sz)

    def update(self, image: np.ndarray) -> np.ndarray:
        if not self._started:
            raise RuntimeError("SparseTTTracker.update before init")
        scale_x = crop.crop_scale(self.sz, self.context_amount, self.z_size)
        side = crop.crop_side(scale_x, self.x_size)
        patch = crop.crop_patch(image, self.pos, side, self.x_size, self.border)
        out = self.predictor.search(self._tensor(patch))
        score = out["score"][0, :, 0].cpu().numpy()
        box_xyxy = out["bbox_conv"][0].cpu().numpy()
        box_cxywh = postprocess.xyxy_to_cxywh(box_xyxy)
        best, pscore, penalty = postprocess.penalised_scores(
            score, box_cxywh, self.sz, scale_x, self.window, self.params
        )
        pos, sz, lr = postprocess.next_state(
            best, score, box_cxywh, penalty, self.pos, self.sz, scale_x, self.x_size, self.params
        )
        self.last = SearchRecord(
            self.pos, self.sz, scale_x, side, patch, score, box_xyxy,
            postprocess.Step(best, pscore, penalty, lr, pos, sz),
        )  # fmt: skip
        self.pos, self.sz = postprocess.restrict(pos, sz, self.image_wh, self.params)
        return postprocess.cxywh_to_xywh(self.pos, self.sz)

    def _tensor(self, patch: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(crop.normalise(patch))
