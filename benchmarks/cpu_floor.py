"""How far the sparsett-swin-t search branch can go on this CPU in float32: its matrix work
against what this machine's matrix kernels deliver, measured in one run.

Prints, for ``--threads`` threads:
* the floating-point work of one frame's search branch (matrix products and convolutions,
  counted by ``torch.utils.flop_counter``), which no float32 runtime can skip;
* the in-run baseline of the issue (``eager-uncached``) and ONNX Runtime, the fastest float32
  path, timed as model_latency.py times them, with the per-frame ratio;
* ONNX Runtime's own profile of the same frames: the share of its kernel time in the matrix
  operators (Gemm, Conv, MatMul, FusedMatMul) and the largest other operators;
* the same profile on one thread, for the operators ONNX Runtime runs serially: their time
  does not drop with more threads, so on 2 cores the second one idles through them;
* PyTorch's profile of the fused-kernels path (`Predictor(fused_kernels=True)`, timed in the
  same turns), split the same way: oneDNN's products and convolutions, the remaining ``addmm``
  and ``bmm``, and the fused window attention (its two products with the softmax between them)
  against the rest;
* from these, for each of the two paths, the ratio it would reach if every other kernel took
  no time, and the time the other kernels may take for the 2x target;
* three of the model's own products in oneDNN, with their operands in the caches and after
  a pass over 256 MB of other memory: in a frame each product's weights and input were last
  touched a layer or a frame before, so its products run nearer the second rate;
* the best float32 GEMM rates PyTorch (MKL) and ONNX Runtime (MLAS, constant right operand
  as the model's weights are) reach here, each on its fastest of a few shapes, timed in the
  same turns as the frames, and the ratio a path would reach if the frame's matrix work ran
  at the higher of them and nothing else took any time: the ceiling of a float32 path on
  this CPU built from these libraries' products.
Profiling runs after the timed loop, so its shares, not its milliseconds, are combined with
the timed frame.

Weights: seeded random ones, or with ``--official-checkpoint`` official-format ones. On an
Intel CPU give the latter: random weights leave float32 denormals in the shifted Swin blocks'
attention weights, which slow the baseline's products there (see model_latency.py).

Run: python benchmarks/cpu_floor.py [--threads 2] [--frames 20] [--out FILE]
     [--official-checkpoint sparsett_official_det.pth]
"""

from __future__ import annotations

import argparse
import collections
import datetime
import json
import math
import os
import platform
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.model_latency import SETTLE_SECONDS, Run, measure, paired_ratio
from benchmarks.recording import record
from sparsett_bench.machine import cpu_model
from sparsett_bench.model.config import build_model
from sparsett_bench.model.inference import Predictor
from sparsett_bench.model.onednn import PackedLinear
from sparsett_bench.model.onnx_predictor import OnnxPredictor

MATRIX_OPERATORS = {"Gemm", "Conv", "MatMul", "FusedMatMul"}
# The fused-kernels path's matrix work in PyTorch's profile (self times).
MATRIX_OPS = {
    "mkldnn::_linear_pointwise",
    "mkldnn::_convolution_pointwise",
    "aten::mkldnn_convolution",
    "aten::addmm",
    "aten::mm",
    "aten::bmm",
    "aten::_scaled_dot_product_flash_attention_for_cpu",
}
# The model's own products compared with their operands in the caches and after eviction:
# stage 3's MLP, the decoder's FFN, a head bottleneck's 1x1 conv.
MODEL_PRODUCTS = ((361, 384, 1536), (361, 256, 2048), (361, 1024, 256))
EVICTION_BYTES = 256 * 2**20
# An operator whose time on --threads threads is at least this share of its time on one runs
# serially (a parallel one measured here drops to 0.55-0.8 of it on two threads).
SERIAL_SHARE = 0.9
SERIAL_LISTED_SECONDS = 0.5e-3  # the serial operators listed: those over this on one thread
# Float32 products (M, K, N) for the machine's best GEMM rate: large ones, past the sizes where
# packing and threading overheads matter (MKL's fastest), and two of the model's own (stage 3's
# MLP, stage 2's q, k, v), whose operands stay in the caches (MLAS's fastest here).
PRODUCTS = (
    (4096, 1024, 1024),
    (2048, 2048, 2048),
    (1024, 4096, 1024),
    (361, 384, 1536),
    (1764, 192, 576),
)


def search_flops(model: torch.nn.Module, z: torch.Tensor, x: torch.Tensor) -> int:
    with torch.inference_mode():
        memory = model.template(z)
        counter = FlopCounterMode(display=False)
        with counter:
            model.track(x, memory)
    return counter.get_total_flops()


def onnxruntime_kernels(
    model: torch.nn.Module, z: torch.Tensor, xs: list[torch.Tensor], thread_counts: list[int]
) -> dict[int, dict[str, float]]:
    """Seconds per frame spent in each ONNX operator type (ONNX Runtime's own profiler), for
    each number of threads; the sessions take turns frame by frame, `SETTLE_SECONDS` apart, so
    a slow spell of the shared machine reaches all of them."""
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        predictors = {
            threads: OnnxPredictor(
                model, threads=threads, profile_prefix=Path(tmp) / f"profile-{threads}"
            )
            for threads in thread_counts
        }
        for predictor in predictors.values():
            predictor.set_template(z)
        for x in [xs[0], *xs]:  # the first a warm-up, profiled too
            for predictor in predictors.values():
                time.sleep(SETTLE_SECONDS)
                predictor.search(x)
        profiles = {
            threads: json.loads(Path(predictor.session.end_profiling()).read_text())
            for threads, predictor in predictors.items()
        }
    frames = len(xs) + 1
    kernels = {}
    for threads, events in profiles.items():
        per_operator: dict[str, float] = collections.Counter()
        for event in events:
            if event.get("cat") == "Node" and event["name"].endswith("_kernel_time"):
                per_operator[event["args"]["op_name"]] += event["dur"] * 1e-6 / frames
        kernels[threads] = dict(per_operator)
    return kernels


def fused_kernels_ops(
    model: torch.nn.Module, z: torch.Tensor, xs: list[torch.Tensor]
) -> dict[str, float]:
    """Seconds per frame of each PyTorch operator (self time, PyTorch's profiler) in the
    fused-kernels path, frames `SETTLE_SECONDS` apart as in the timed loop."""
    from torch.profiler import ProfilerActivity, profile

    predictor = Predictor(model, fused_kernels=True)
    predictor.set_template(z)
    predictor.search(xs[0])  # warm-up, not profiled
    with profile(activities=[ProfilerActivity.CPU]) as profiled:
        for x in xs:
            time.sleep(SETTLE_SECONDS)
            predictor.search(x)
    return {
        event.key: event.self_cpu_time_total * 1e-6 / len(xs) for event in profiled.key_averages()
    }


def split_profile(
    kernels: dict[str, float], matrix: set[str]
) -> tuple[float, list[tuple[float, str]]]:
    """The matrix kernels' share of the profiled time, and the other kernels, longest first."""
    share = sum(s for n, s in kernels.items() if n in matrix) / sum(kernels.values())
    rest = sorted(((s, n) for n, s in kernels.items() if n not in matrix), reverse=True)
    return share, rest


def rest_at_zero(baseline: float, frame: float, ratio: float, matrix_share: float) -> list[str]:
    """A path's ratio with every kernel but its matrix kernels at zero, and the time those
    others may take for x2.00 (seconds per frame; ``ratio`` against ``baseline``)."""
    allowed = max(baseline / 2 - matrix_share * frame, 0)
    return [
        f"  with every other kernel at zero: x{ratio / matrix_share:4.2f} vs eager-uncached",
        f"  for x2.00 the other kernels get {allowed * 1000:.1f} ms "
        f"(they take {(1 - matrix_share) * frame * 1000:.1f} ms of the frame)",
    ]


def mkl_product(m: int, k: int, n: int) -> Run:
    a, b = torch.randn(m, k), torch.randn(k, n)
    return lambda _: torch.mm(a, b)


def mlas_product(m: int, k: int, n: int, threads: int) -> Run:
    """ONNX Runtime's MatMul of an ``(m, k)`` input by a constant ``(k, n)`` initializer, which
    it packs once as it packs the model's weights."""
    import numpy as np
    import onnxruntime
    from onnx import TensorProto, helper, numpy_helper

    weights = numpy_helper.from_array(np.random.randn(k, n).astype(np.float32), "b")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["a", "b"], ["c"])],
        "product",
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, [m, k])],
        [helper.make_tensor_value_info("c", TensorProto.FLOAT, [m, n])],
        initializer=[weights],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    session = onnxruntime.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    a = np.random.randn(m, k).astype(np.float32)
    return lambda _: session.run(None, {"a": a})


def cold_and_warm_rates(m: int, k: int, n: int, repeats: int = 10) -> tuple[float, float]:
    """FLOP/s of a model shape's `PackedLinear` (the fused-kernels path's product),
    best of ``repeats``: with its operands in the caches (run again at once), and after a pass
    over `EVICTION_BYTES` of other memory, as in a frame, where each product's weights and input
    were last touched a layer or a frame before."""
    x, linear = torch.randn(m, k), PackedLinear(torch.nn.Linear(k, n))
    elsewhere = torch.ones(EVICTION_BYTES // 4)

    def product() -> float:
        start = time.perf_counter()
        linear(x)
        return time.perf_counter() - start

    product()
    warm = min(product() for _ in range(repeats))
    cold = []
    for _ in range(repeats):
        elsewhere.add_(1.0)
        cold.append(product())
    return 2 * m * k * n / min(cold), 2 * m * k * n / warm


def fastest_product(build: Callable[[int, int, int], Run]) -> tuple[tuple[int, int, int], Run]:
    """Of `PRODUCTS`, the shape a library runs at the highest rate here (best of 5),
    with its product."""
    rates = []
    for m, k, n in PRODUCTS:
        product = build(m, k, n)
        product(None)
        seconds = []
        for _ in range(5):
            time.sleep(SETTLE_SECONDS)
            start = time.perf_counter()
            product(None)
            seconds.append(time.perf_counter() - start)
        rates.append((2 * m * k * n / min(seconds), (m, k, n), product))
    _, shape, product = max(rates, key=lambda rate: rate[0])
    return shape, product


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--frames", type=int, default=20)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--official-checkpoint", type=Path, default=None,
        help="official-format weights in place of seeded random ones (see the docstring)",
    )  # fmt: skip
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = build_model("sparsett-swin-t").eval()
    if args.official_checkpoint is not None:
        model.load_official(args.official_checkpoint)
    z = torch.randn(1, 3, 127, 127)
    xs = [torch.randn(1, 3, 289, 289) for _ in range(args.frames)]

    flops = search_flops(model, z, xs[0])
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        parser.error("onnxruntime is not installed (pip install 'sparsett-bench[export]')")
    products = {
        "MKL": fastest_product(mkl_product),
        "MLAS": fastest_product(lambda m, k, n: mlas_product(m, k, n, args.threads)),
    }
    timings, notes = measure(
        "sparsett-swin-t",
        "cpu",
        args.frames,
        1,
        None if args.official_checkpoint is None else (None, args.official_checkpoint),
        extra_paths={library: product for library, (_, product) in products.items()},
    )
    profiles = onnxruntime_kernels(model, z, xs, [args.threads, 1])
    kernels, one_thread = profiles[args.threads], profiles[1]
    fused_share, fused_rest = split_profile(fused_kernels_ops(model, z, xs), MATRIX_OPS)
    cache_rates = {shape: cold_and_warm_rates(*shape) for shape in MODEL_PRODUCTS}
    # Per turn: the frame's matrix work at the faster library's rate of that turn.
    rates = {
        library: [2 * math.prod(shape) / seconds for seconds in timings[library]]
        for library, (shape, _) in products.items()
    }
    at_best_rate = [flops / max(turn) for turn in zip(*rates.values(), strict=True)]
    ceiling, ceiling_low, ceiling_high = paired_ratio(timings["eager-uncached"], at_best_rate)

    baseline = statistics.median(timings["eager-uncached"])
    ort_frame = statistics.median(timings["onnxruntime"])
    ort_ratio, low, high = paired_ratio(timings["eager-uncached"], timings["onnxruntime"])
    matrix_share, rest = split_profile(kernels, MATRIX_OPERATORS)
    matrix_seconds = matrix_share * sum(kernels.values())
    fused_frame = statistics.median(timings["fused-kernels"])
    fused_ratio, fused_low, fused_high = paired_ratio(
        timings["eager-uncached"], timings["fused-kernels"]
    )
    serial = sorted(
        (
            (s, n)
            for n, s in kernels.items()
            if one_thread.get(n, 0) > SERIAL_LISTED_SECONDS and s >= SERIAL_SHARE * one_thread[n]
        ),
        reverse=True,
    )

    lines = [
        f"cpu_floor, {datetime.date.today()}, {platform.node()}: {cpu_model()}, "
        f"{os.cpu_count()} CPUs, {args.threads} threads, torch {torch.__version__}; "
        f"median of {args.frames} frames",
        f"  search branch of sparsett-swin-t: {flops / 1e9:.2f} GFLOP per frame "
        "(matrix products and convolutions)",
        f"  eager-uncached (the in-run baseline)  {baseline * 1000:6.1f} ms; the 2x target "
        f"{baseline / 2 * 1000:.1f} ms",
        f"  onnxruntime                           {ort_frame * 1000:6.1f} ms; x{ort_ratio:4.2f} "
        f"[{low:4.2f}-{high:4.2f}] per frame vs eager-uncached",
        f"  onnxruntime profiled: matrix kernels {matrix_share:.0%} of its kernel time "
        f"({flops / matrix_seconds / 1e9:.0f} GFLOP/s), other kernels "
        + ", ".join(f"{n} {s * 1000:.1f}" for s, n in rest[:6])
        + " ms",
        f"  run serially (on {args.threads} threads at least {SERIAL_SHARE:.0%} of their time on "
        f"one), those over {SERIAL_LISTED_SECONDS * 1000:.1f} ms: "
        f"{sum(s for s, _ in serial) * 1000:.1f} ms, "
        + ", ".join(f"{n} {s * 1000:.1f}" for s, n in serial)
        + " ms",
        *rest_at_zero(baseline, ort_frame, ort_ratio, matrix_share),
        f"  fused-kernels                         {fused_frame * 1000:6.1f} ms; "
        f"x{fused_ratio:4.2f} [{fused_low:4.2f}-{fused_high:4.2f}] per frame vs eager-uncached",
        f"  fused-kernels profiled: matrix kernels (oneDNN products, addmm, bmm, flash attention) "
        f"{fused_share:.0%} of its operator time "
        f"({flops / (fused_share * fused_frame) / 1e9:.0f} GFLOP/s in the timed frame), "
        "other operators "
        + ", ".join(f"{n.split('::')[-1]} {s * 1000:.1f}" for s, n in fused_rest[:6])
        + " ms",
        *rest_at_zero(baseline, fused_frame, fused_ratio, fused_share),
        "  the model's products in oneDNN, after evicting the caches against in cache: "
        + ", ".join(
            f"{'x'.join(map(str, shape))} {cold / 1e9:.0f} against {warm / 1e9:.0f}"
            for shape, (cold, warm) in cache_rates.items()
        )
        + " GFLOP/s",
        "  best fp32 GEMM here, timed in the same turns: "
        + ", ".join(
            f"{statistics.median(rates[library]) / 1e9:.0f} GFLOP/s ({library}, "
            f"{'x'.join(map(str, shape))})"
            for library, (shape, _) in products.items()
        )
        + f"; the frame's matrix work at the faster {statistics.median(at_best_rate) * 1000:.1f}"
        " ms",
        f"  ceiling of a float32 path (that matrix work alone, nothing else): "
        f"x{ceiling:4.2f} [{ceiling_low:4.2f}-{ceiling_high:4.2f}] per frame vs eager-uncached",
    ]
    lines += notes
    print("\n".join(lines))
    record(lines, args.out)


if __name__ == "__main__":
    main()
