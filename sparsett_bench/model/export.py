"""ONNX export of the per-frame search branch: ``(search image, memory) -> (score, boxes)``.

The template branch runs once per sequence in PyTorch (or is exported separately); what runs
every frame -- backbone on the search crop, adjuster, decoder with top-K attention, head -- is
one ONNX graph (legacy TorchScript exporter, opset 17: ``TopK`` and ``ScatterElements`` carry
the sparse attention). `check_onnx` runs it with onnxruntime against PyTorch.
"""

from __future__ import annotations

import copy
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from sparsett_bench.errors import SparsettError
from sparsett_bench.model.attention import select_top_k_unsorted


class SearchBranch(nn.Module):
    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor, memory: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.model.track(x, memory)
        return out["score"], out["bbox_conv"]


def example_inputs(
    model: nn.Module, search_size: int = 289, template_size: int = 127
) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    z = torch.randn(1, 3, template_size, template_size, generator=generator)
    x = torch.randn(1, 3, search_size, search_size, generator=generator)
    with torch.inference_mode():
        memory = model.template(z)
    return x, memory.clone()


def export_search_branch(model: nn.Module, path: str | Path, opset: int = 17) -> Path:
    """Write the ONNX graph (model in eval mode) of a copy whose top-K attention selects
    unsorted (`TopKMultiheadAttention.sorted_top_k`: faster in ONNX Runtime, the same keys
    kept); returns the path."""
    model = copy.deepcopy(model.eval())
    select_top_k_unsorted(model)
    x, memory = example_inputs(model)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad(), warnings.catch_warnings():
        # the legacy exporter is deprecated in favour of torch.export, and traces shape checks
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        torch.onnx.export(
            SearchBranch(model),
            (x, memory),
            str(path),
            dynamo=False,
            opset_version=opset,
            input_names=["search", "memory"],
            output_names=["score", "boxes"],
        )
    return path


def check_onnx(model: nn.Module, path: str | Path) -> float:
    """Largest absolute difference between onnxruntime and PyTorch on a random frame."""
    try:
        import onnxruntime
    except ImportError:
        raise SparsettError("onnxruntime is not installed (pip install onnxruntime)") from None
    x, memory = example_inputs(model.eval())
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    score, boxes = session.run(None, {"search": x.numpy(), "memory": memory.numpy()})
    with torch.inference_mode():
        reference = SearchBranch(model)(x, memory)
    return max(
        float(np.abs(score - reference[0].numpy()).max()),
        float(np.abs(boxes - reference[1].numpy()).max()),
    )
