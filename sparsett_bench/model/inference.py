"""Per-frame inference around a loaded SparseTT: device, precision, BN folding, fused kernels,
CUDA graphs.

`Predictor` works on its own copy of the model (eval mode, moved to its device, BatchNorm
folded unless ``fold_bn=False``), so the caller's model is never moved or changed.
``fused_kernels=True`` runs Swin's window attention as one fused call per block
(`fuse_window_attention`, on any device and precision), selects the decoder's top-K logits
unsorted (`select_top_k_unsorted`) and, on the CPU in fp32 with BatchNorm folded, runs every
product through oneDNN with its weight laid out once and its activation or residual sum fused
(`use_onednn`, where this PyTorch has oneDNN). The outputs then differ by float32 rounding only:
with the official weights the fused score came out 3.4e-6 from the goldens.
``set_template(z)`` runs the template branch once and keeps the encoder memory and the decoder's
cross-attention keys and values; ``search(x)`` runs the search branch against them.

Precision: ``fp32``; ``bf16`` under ``torch.autocast`` on the CPU or CUDA; ``fp16`` under
autocast on CUDA only. The weights stay float32 and autocast keeps its float32 operations
(softmax, layer norm, ``exp``) in float32; outputs are always returned as float32. ``fp32`` on
CUDA follows PyTorch's global TF32 switches, which this class does not touch: cuDNN convolutions
use TF32 by default (``torch.backends.cudnn.allow_tf32``), matmuls do not.

With ``cuda_graphs=True`` the search forward is captured once into a ``torch.cuda.CUDAGraph``
(after warm-up runs on a side stream) that reads a static input buffer and the template's keys
and values from static buffers: ``search`` copies the frame in and replays, and a new template of
the same shape is copied into the key/value buffers, so the graph is reused across sequences.
A frame or template of another shape triggers a new capture (``captures`` counts them).
"""

from __future__ import annotations

import contextlib
import copy
from typing import Literal, get_args

import torch

from sparsett_bench.errors import SparsettError
from sparsett_bench.model.attention import select_top_k_unsorted
from sparsett_bench.model.fold import fold_batchnorm
from sparsett_bench.model.fused_window_attention import fuse_window_attention
from sparsett_bench.model.onednn import onednn_available, use_onednn
from sparsett_bench.model.sparsett import SparseTT

Precision = Literal["fp32", "bf16", "fp16"]
DTYPES: dict[str, torch.dtype] = {"bf16": torch.bfloat16, "fp16": torch.float16}
OUTPUTS = ("score", "bbox_conv")
WARMUP_RUNS = 3

KeysValues = list[tuple[torch.Tensor, torch.Tensor]]


def resolve_device(device: str | torch.device) -> torch.device:
    """A CPU or CUDA device that exists here (``cuda`` becomes ``cuda:<current>``)."""
    try:
        resolved = torch.device(device)
    except RuntimeError:
        raise SparsettError(f"unknown device {device!r} (use cpu or cuda[:N])") from None
    if resolved.type == "cpu":
        return resolved
    if resolved.type != "cuda":
        raise SparsettError(f"unsupported device {device!r} (use cpu or cuda[:N])")
    if not torch.cuda.is_available():
        raise SparsettError(
            f"device {device!r} requested but CUDA is not available "
            f"(torch {torch.__version__}, built for CUDA {torch.version.cuda or 'none'})"
        )
    index = torch.cuda.current_device() if resolved.index is None else resolved.index
    if index >= torch.cuda.device_count():
        raise SparsettError(
            f"device {device!r} requested but only {torch.cuda.device_count()} CUDA device(s)"
        )
    return torch.device("cuda", index)


def check_predictor_options(precision: str, cuda_graphs: bool, *, on_cuda: bool) -> None:
    """Refuse what a `Predictor` cannot run (before anything is built or written)."""
    if precision not in get_args(Precision):
        raise SparsettError(
            f"unknown precision {precision!r} (use {', '.join(get_args(Precision))})"
        )
    if precision == "fp16" and not on_cuda:
        raise SparsettError("fp16 needs a CUDA device; on the CPU use bf16 or fp32")
    if cuda_graphs and not on_cuda:
        raise SparsettError("CUDA graphs need a CUDA device")


def emulated_bf16_note() -> str | None:
    """What to tell a user who asks for bf16 on this CPU, when it has no bf16 arithmetic
    (AVX-512 BF16 or AMX, as oneDNN reports it): autocast's bf16 kernels are then emulated and
    far slower than fp32. None where bf16 is native, or where this build of PyTorch cannot
    tell (no oneDNN)."""
    try:
        if torch.ops.mkldnn._is_mkldnn_bf16_supported():
            return None
    except (AttributeError, RuntimeError):  # a build without oneDNN
        return None
    return (
        "this CPU has no bf16 arithmetic (AVX-512 BF16 or AMX), so --precision bf16 is emulated "
        "and slower than fp32: on a 2-core AVX2 EPYC a sparsett-swin-t frame took 5.4 s in bf16 "
        "against 0.31 s in fp32"
    )


class Predictor:
    """The search branch of a SparseTT for per-frame inference (see the module docstring).

    ``search`` returns ``score`` ``(B, Sx*Sx, 1)`` (fused probability) and ``bbox_conv``
    ``(B, Sx*Sx, 4)`` (``xyxy`` in search-crop pixels), float32 tensors on the predictor's
    device, owned by the caller (never views of the graph's static buffers).
    """

    def __init__(
        self,
        model: SparseTT,
        *,
        device: str | torch.device = "cpu",
        precision: Precision = "fp32",
        fold_bn: bool = True,
        fused_kernels: bool = False,
        cuda_graphs: bool = False,
    ) -> None:
        self.device = resolve_device(device)
        check_predictor_options(precision, cuda_graphs, on_cuda=self.device.type == "cuda")
        net = copy.deepcopy(model).eval()
        if fold_bn:
            fold_batchnorm(net, inplace=True)
        net = net.requires_grad_(False).to(self.device)
        if fused_kernels:
            fuse_window_attention(net)
            select_top_k_unsorted(net)
            on_cpu_fp32 = self.device.type == "cpu" and precision == "fp32"
            if fold_bn and on_cpu_fp32 and onednn_available():
                use_onednn(net)
        self.model = net
        self.precision = precision
        self.cuda_graphs = cuda_graphs
        self.captures = 0
        self.memory: torch.Tensor | None = None
        self.kv: KeysValues | None = None
        self._graph: torch.cuda.CUDAGraph | None = None
        self._static_x: torch.Tensor | None = None
        self._static_out: dict[str, torch.Tensor] = {}

    def set_template(self, z: torch.Tensor) -> None:
        """Run the template branch on ``z`` ``(B, 3, 127, 127)`` and keep its memory and keys
        and values; with a captured graph they are copied into its static buffers. On CUDA it
        returns once the GPU has finished (a tracker's init time holds the template's work)."""
        with torch.inference_mode(), self._autocast():
            memory = self.model.template(z.to(self.device))
            kv = self.model.template_cache(memory)
            if self._graph is not None and self.kv is not None and _same_layout(kv, self.kv):
                for (key, value), (static_key, static_value) in zip(kv, self.kv, strict=True):
                    static_key.copy_(key)
                    static_value.copy_(value)
            else:
                self.kv = kv
                self._graph = None  # captured against the previous buffers
        self.memory = memory
        if self.device.type == "cuda":  # the tracker times its init: the template's work in it
            torch.cuda.synchronize(self.device)

    def search(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Score and boxes for the search crops ``x`` ``(B, 3, 289, 289)`` (see the class)."""
        if self.kv is None:
            raise SparsettError("Predictor.search before set_template")
        with torch.inference_mode():
            if not self.cuda_graphs:
                out = self._forward(x.to(self.device))
            else:
                if self._static_x is None or self._static_x.shape != x.shape:
                    self._graph = None
                if self._graph is None:
                    self._capture(x)
                self._static_x.copy_(x)
                self._graph.replay()
                out = self._static_out
            return {name: out[name].to(torch.float32, copy=True) for name in OUTPUTS}

    def _forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        with self._autocast():
            return self.model.track(x, kv=self.kv)

    def _autocast(self) -> contextlib.AbstractContextManager:
        """Autocast for bf16/fp16. Its cast cache is off: cached weight casts would be made
        during warm-up and freed when the context exits, while a captured graph still reads
        them; the model uses each weight once per forward, so the cache saves nothing anyway."""
        if self.precision == "fp32":
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=DTYPES[self.precision], cache_enabled=False)

    def _capture(self, x: torch.Tensor) -> None:
        """Warm up on a side stream (lazy initialisations, cuBLAS/cuDNN workspaces), then
        capture the search forward reading ``_static_x`` and ``self.kv``."""
        self._graph = None  # release the previous graph's memory pool before capturing anew
        with torch.cuda.device(self.device):
            self._static_x = x.to(self.device, copy=True)
            side = torch.cuda.Stream(self.device)
            side.wait_stream(torch.cuda.current_stream(self.device))
            with torch.cuda.stream(side):
                for _ in range(WARMUP_RUNS):
                    self._forward(self._static_x)
            torch.cuda.current_stream(self.device).wait_stream(side)
            graph = torch.cuda.CUDAGraph()
            # a capture stream of this device: torch.cuda.graph's default one is made once per
            # process, on the device current at the first capture (a second Predictor on
            # another GPU would capture on the first one's stream)
            with torch.cuda.graph(graph, stream=torch.cuda.Stream(self.device)):
                out = self._forward(self._static_x)
        self._static_out = {name: out[name] for name in OUTPUTS}
        self._graph = graph
        self.captures += 1


def _same_layout(new: KeysValues, static: KeysValues) -> bool:
    """Whether ``new`` can be copied into ``static`` in place (same shapes and dtypes)."""
    return len(new) == len(static) and all(
        a.shape == b.shape and a.dtype == b.dtype
        for pair_new, pair_static in zip(new, static, strict=True)
        for a, b in zip(pair_new, pair_static, strict=True)
    )
