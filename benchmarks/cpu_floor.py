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
* from these, the ratio the path would reach if every other kernel took no time, and the
  time the other kernels may take for the 2x target;
* the best float32 GEMM rate PyTorch (MKL) reaches here on large products, and the time the
  frame's matrix work would take at that rate.
Profiling runs after the timed loop, so its shares, not its milliseconds, are combined with
the timed frame.

Run: python benchmarks/cpu_floor.py [--threads 2] [--frames 20] [--out FILE]
"""

from __future__ import annotations

import argparse
import collections
import datetime
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.model_latency import SETTLE_SECONDS, measure, paired_ratio
from benchmarks.recording import record
from sparsett_bench.machine import cpu_model
from sparsett_bench.model.config import build_model
from sparsett_bench.model.onnx_predictor import OnnxPredictor

MATRIX_OPERATORS = {"Gemm", "Conv", "MatMul", "FusedMatMul"}
# An operator whose time on --threads threads is at least this share of its time on one runs
# serially (a parallel one measured here drops to 0.55-0.8 of it on two threads).
SERIAL_SHARE = 0.9
SERIAL_LISTED_SECONDS = 0.5e-3  # the serial operators listed: those over this on one thread
# Large float32 products (M, K, N) for the machine's best GEMM rate: the shapes MKL runs
# fastest, well past the sizes where packing and threading overheads matter.
LARGE_PRODUCTS = ((4096, 1024, 1024), (2048, 2048, 2048), (1024, 4096, 1024))


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


def best_gemm_rate() -> tuple[float, tuple[int, int, int]]:
    """The highest float32 GEMM rate (FLOP/s) over `LARGE_PRODUCTS`, and its shape."""
    rates = []
    for m, k, n in LARGE_PRODUCTS:
        a, b = torch.randn(m, k), torch.randn(k, n)
        torch.mm(a, b)
        seconds = []
        for _ in range(5):
            start = time.perf_counter()
            torch.mm(a, b)
            seconds.append(time.perf_counter() - start)
        rates.append((2 * m * k * n / min(seconds), (m, k, n)))
    return max(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--frames", type=int, default=20)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = build_model("sparsett-swin-t").eval()
    z = torch.randn(1, 3, 127, 127)
    xs = [torch.randn(1, 3, 289, 289) for _ in range(args.frames)]

    flops = search_flops(model, z, xs[0])
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        parser.error("onnxruntime is not installed (pip install 'sparsett-bench[export]')")
    timings, _ = measure("sparsett-swin-t", "cpu", args.frames, 1)
    profiles = onnxruntime_kernels(model, z, xs, [args.threads, 1])
    kernels, one_thread = profiles[args.threads], profiles[1]
    rate, shape = best_gemm_rate()

    baseline = statistics.median(timings["eager-uncached"])
    ort_frame = statistics.median(timings["onnxruntime"])
    ort_ratio, low, high = paired_ratio(timings["eager-uncached"], timings["onnxruntime"])
    profiled = sum(kernels.values())
    matrix_share = sum(s for n, s in kernels.items() if n in MATRIX_OPERATORS) / profiled
    rest = sorted(((s, n) for n, s in kernels.items() if n not in MATRIX_OPERATORS), reverse=True)
    allowed_rest = baseline / 2 - matrix_share * ort_frame
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
        f"({flops / (matrix_share * profiled) / 1e9:.0f} GFLOP/s), other kernels "
        + ", ".join(f"{n} {s * 1000:.1f}" for s, n in rest[:6])
        + " ms",
        f"  run serially (on {args.threads} threads at least {SERIAL_SHARE:.0%} of their time on "
        f"one), those over {SERIAL_LISTED_SECONDS * 1000:.1f} ms: "
        f"{sum(s for s, _ in serial) * 1000:.1f} ms, "
        + ", ".join(f"{n} {s * 1000:.1f}" for s, n in serial)
        + " ms",
        f"  with every other kernel at zero: x{ort_ratio / matrix_share:4.2f} vs eager-uncached",
        f"  for x2.00 the other kernels get {max(allowed_rest, 0) * 1000:.1f} ms "
        f"(they take {(1 - matrix_share) * ort_frame * 1000:.1f} ms of the frame)",
        f"  best fp32 GEMM here: {rate / 1e9:.0f} GFLOP/s (MKL, {'x'.join(map(str, shape))}); "
        f"the frame's matrix work at that rate {flops / rate * 1000:.1f} ms",
    ]
    print("\n".join(lines))
    record(lines, args.out)


if __name__ == "__main__":
    main()
