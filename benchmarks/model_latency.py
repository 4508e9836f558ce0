"""Per-frame latency of the SparseTT search branch on this machine, as ratios from one run.

CPU (``--device cpu``, the default), paths interleaved over the same frames:
* eager-uncached: a straightforward eager forward of both branches per frame (template too),
  the in-run baseline the issue asks for;
* cached: the template memory computed once, only the search branch per frame, under
  ``torch.inference_mode``;
* folded-cached: `Predictor` in fp32: BatchNorm folded into the convs, the decoder's
  cross-attention keys and values cached with the template (what the tracker needs per frame);
* fused-kernels: the same with ``fused_kernels=True`` (fused window attention, oneDNN products
  with weights laid out once and fused activations: ``run --fold-bn --fused-kernels``);
* bf16-folded: the same under bf16 autocast (slow on CPUs without native bf16 instructions);
* onnxruntime: `OnnxPredictor`, the exported search branch as `run --runtime onnxruntime`
  runs it (when onnxruntime is installed).
Anchor from the issue: the official implementation, unmodified, 0.45 s per tracked frame on
this 2-core machine (2 threads).

Weights: seeded random ones, or with ``--official-checkpoint`` official-format ones (a released
checkpoint, or the one ../shared/golden/sparsett_official/make_official_checkpoint.py writes).
The plain paths' speed depends on them on an Intel CPU: after timm's (and mmdet's) -100 shift
mask, softmax leaves float32 denormals in the shifted blocks' window weights (9-30% of them with
random weights, 5-19% with the official-format ones), and the products that multiply them run
slower there. On a 2-core Xeon eager-uncached took 290 ms a frame with random weights and 223
ms with the official-format ones; the fused-kernels path, whose flash attention never
multiplies the weights out, took 131-135 ms with either.

Each row prints the path's median frame time and, against each baseline, the median (and the
range) of the per-frame ratios: every path runs on a frame before the next frame does, so a
ratio compares runs a fraction of a second apart, and a slow spell of the shared machine,
which moved the medians of one path by up to 30% between runs here, mostly cancels.

CUDA (``--device cuda``), batch 1, each path a `Predictor` (PyTorch's default TF32 settings);
a frame is: copy the CPU crop to the GPU, search, copy score and boxes back (the tracker's
per-frame work), reported as ms and frames per second, ratios against fp32-unfolded.

Run: python benchmarks/model_latency.py [--threads 2] [--device cuda]
     [--official-checkpoint sparsett_official_det.pth [--official-repo SparseTT/]]
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import os
import platform
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.recording import record
from sparsett_bench.machine import cpu_model
from sparsett_bench.model.config import build_model
from sparsett_bench.model.inference import Predictor
from sparsett_bench.model.onnx_predictor import OnnxPredictor

OFFICIAL_SECONDS = 0.45
# Pause before each timed CPU call: ONNX Runtime's threads spin for work after a run returns,
# and on 2 cores a PyTorch frame started at once ran 20% slower here (412 against 336 ms). CUDA
# frames run back to back, as a tracker runs them (the pause would add 5.6 minutes of sleep to
# the default 2 x 8 paths x 210 frames, and let the GPU idle down its clocks before each frame).
SETTLE_SECONDS = 0.1
Run = Callable[[torch.Tensor], object]


def cpu_paths(model: torch.nn.Module, z: torch.Tensor) -> dict[str, Run]:
    with torch.inference_mode():
        memory = model.template(z)

    def eager_uncached(x: torch.Tensor) -> object:
        with torch.no_grad():
            return model.track(x, model.template(z))

    def cached(x: torch.Tensor) -> object:
        with torch.inference_mode():
            return model.track(x, memory)

    paths: dict[str, Run] = {"eager-uncached": eager_uncached, "cached": cached}
    for label, options in (
        ("folded-cached", {}),
        ("fused-kernels", {"fused_kernels": True}),
        ("bf16-folded", {"precision": "bf16"}),
    ):
        predictor = Predictor(model, **options)
        predictor.set_template(z)
        paths[label] = predictor.search
    if importlib.util.find_spec("onnxruntime") is None:
        return paths
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        onnx = OnnxPredictor(model)
    onnx.set_template(z)
    paths["onnxruntime"] = onnx.search
    return paths


def cuda_paths(model: torch.nn.Module, z: torch.Tensor) -> dict[str, Run]:
    paths: dict[str, Run] = {}
    for label, options in (
        ("fp32-unfolded", {"fold_bn": False}),
        ("fp32", {}),
        ("fp32-fused", {"fused_kernels": True}),
        ("bf16", {"precision": "bf16"}),
        ("fp16", {"precision": "fp16"}),
        ("fp32-graphs", {"cuda_graphs": True}),
        ("bf16-graphs", {"precision": "bf16", "cuda_graphs": True}),
        ("bf16-fused-graphs", {"precision": "bf16", "fused_kernels": True, "cuda_graphs": True}),
    ):
        predictor = Predictor(model, device="cuda", **options)
        predictor.set_template(z)

        def frame(x: torch.Tensor, predictor: Predictor = predictor) -> object:
            return {k: v.cpu() for k, v in predictor.search(x).items()}  # .cpu() synchronises

        paths[label] = frame
    return paths


def measure(
    name: str,
    device: str,
    frames: int,
    warmup: int,
    official: tuple[Path | None, Path] | None = None,
    extra_paths: dict[str, Run] | None = None,
) -> tuple[dict[str, list[float]], list[str]]:
    """Seconds per frame of each path (the first ``warmup`` frames dropped), every path run on
    a frame before the next frame, and notes. With ``official`` (repository or None,
    checkpoint) the model holds that checkpoint's weights, and with a repository the official
    model's per-frame call is the first path, holding them too. ``extra_paths`` (work that is
    not the model, timed in the same turns) come last."""
    torch.manual_seed(0)
    model = build_model(name).eval()
    z = torch.randn(1, 3, 127, 127)
    xs = [torch.randn(1, 3, 289, 289) for _ in range(frames)]
    paths: dict[str, Run] = {}
    notes = []
    if official is not None:
        from benchmarks.official_sparsett import build_official, official_paths

        repo, checkpoint = official
        model.load_official(checkpoint)
        notes.append(f"  weights: {checkpoint.name} (official format)")
        if repo is not None:
            paths["official"], official_score = official_paths(build_official(repo, checkpoint), z)
            predictor = Predictor(model)
            predictor.set_template(z)
            gap = (predictor.search(xs[0])["score"] - official_score(xs[0])).abs().max()
            notes.append(f"  same weights: max |fused score, folded - official| {float(gap):.1e}")
    paths |= cuda_paths(model, z) if device == "cuda" else cpu_paths(model, z)
    paths |= extra_paths or {}
    timings: dict[str, list[float]] = {label: [] for label in paths}
    settle = SETTLE_SECONDS if device == "cpu" else 0.0
    for x in [xs[0]] * warmup + xs:
        for label, run in paths.items():
            time.sleep(settle)
            start = time.perf_counter()
            run(x)
            timings[label].append(time.perf_counter() - start)
    return {label: values[warmup:] for label, values in timings.items()}, notes


def paired_ratio(baseline: list[float], path: list[float]) -> tuple[float, float, float]:
    """Median, lowest and highest of the per-frame ratios ``baseline / path``: each ratio
    compares two runs a fraction of a second apart, so a slow spell of a shared machine
    slows both and leaves the ratio."""
    ratios = sorted(b / p for b, p in zip(baseline, path, strict=True))
    return statistics.median(ratios), ratios[0], ratios[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--frames", type=int, default=None, help="default: 20 CPU, 200 CUDA")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--official-repo", type=Path, default=None,
        help="a checkout of fzh0917/SparseTT (needs mmcv 1.x and mmdet 2.x): its per-frame call "
        "becomes the in-run anchor for sparsett-swin-t",
    )  # fmt: skip
    parser.add_argument(
        "--official-checkpoint", type=Path, default=None,
        help="official-format weights for sparsett-swin-t (and the official model, with "
        "--official-repo) in place of seeded random ones",
    )  # fmt: skip
    args = parser.parse_args()
    if args.official_repo is not None and args.official_checkpoint is None:
        parser.error("--official-repo needs --official-checkpoint")
    if args.official_repo is not None and args.device == "cuda":
        parser.error("--official-repo times the official model on the CPU only (its anchor)")
    cuda = args.device == "cuda"
    if cuda and not torch.cuda.is_available():
        parser.error("--device cuda: CUDA is not available")
    frames = args.frames or (200 if cuda else 20)
    torch.set_num_threads(args.threads)
    hardware = (
        f"{torch.cuda.get_device_name()}, CUDA {torch.version.cuda}"
        if cuda
        else f"{cpu_model()}, {os.cpu_count()} CPUs, {args.threads} threads"
    )
    lines = [
        f"model_latency, {datetime.date.today()}, {platform.node()}: {hardware}, "
        f"torch {torch.__version__}, numpy {np.__version__}; median of {frames} frames; "
        "xR [low-high]: median [range] of the per-frame ratios against a baseline"
    ]
    for name in ("sparsett-tiny", "sparsett-swin-t"):
        official = None
        if name == "sparsett-swin-t" and args.official_checkpoint is not None:
            official = (args.official_repo, args.official_checkpoint)
        result, notes = measure(name, args.device, frames, 10 if cuda else 1, official)
        baselines = [p for p in ("official", "eager-uncached", "fp32-unfolded") if p in result]
        for path, seconds in result.items():
            median = statistics.median(seconds)
            line = f"  {name:16s} {path:15s} {median * 1000:8.1f} ms  "
            if cuda:
                line += f"{1 / median:7.1f} FPS  "
            for baseline in baselines:
                ratio, low, high = paired_ratio(result[baseline], seconds)
                line += f"x{ratio:4.2f} [{low:4.2f}-{high:4.2f}] vs {baseline}  "
            if name == "sparsett-swin-t" and not cuda and "official" not in result:
                line += f"x{OFFICIAL_SECONDS / median:4.2f} vs official 0.45 s"
            lines.append(line.rstrip())
        lines += notes
    print("\n".join(lines))
    record(lines, args.out)


if __name__ == "__main__":
    main()
