"""Per-frame latency of the SparseTT search branch on this machine, as ratios from one run.

Three paths per model, interleaved over the same frames:
* eager-uncached: a straightforward eager forward of both branches per frame (template too),
  the in-run baseline the issue asks for;
* cached: the template memory computed once, only the search branch per frame (what the
  tracker runs), under ``torch.inference_mode``;
* onnxruntime: the exported search branch (when onnxruntime is installed).
Anchor from the issue: the official implementation, unmodified, 0.45 s per tracked frame on
this 2-core machine (2 threads). Run: python benchmarks/model_latency.py [--threads 2]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sparsett_bench.model.config import build_model
from sparsett_bench.model.export import export_search_branch

OFFICIAL_SECONDS = 0.45


def measure(name: str, frames: int) -> dict[str, float]:
    model = build_model(name).eval()
    z = torch.randn(1, 3, 127, 127)
    xs = [torch.randn(1, 3, 289, 289) for _ in range(frames)]
    with torch.inference_mode():
        memory = model.template(z)
    timings: dict[str, list[float]] = {"eager-uncached": [], "cached": [], "onnxruntime": []}
    session = None
    try:
        import onnxruntime

        with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            path = export_search_branch(model, Path(tmp) / "search.onnx")
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = torch.get_num_threads()
            session = onnxruntime.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"]
            )
    except ImportError:
        timings.pop("onnxruntime")
    for x in [xs[0], *xs]:  # the first frame warms up and is dropped
        start = time.perf_counter()
        with torch.no_grad():
            model.track(x, model.template(z))
        timings["eager-uncached"].append(time.perf_counter() - start)
        start = time.perf_counter()
        with torch.inference_mode():
            model.track(x, memory)
        timings["cached"].append(time.perf_counter() - start)
        if session is not None:
            start = time.perf_counter()
            session.run(None, {"search": x.numpy(), "memory": memory.numpy()})
            timings["onnxruntime"].append(time.perf_counter() - start)
    return {k: statistics.median(v[1:]) for k, v in timings.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--frames", type=int, default=10)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    lines = [
        f"model_latency, {datetime.date.today()}, {platform.node()}: {os.cpu_count()} CPUs, "
        f"{args.threads} threads, torch {torch.__version__}, numpy {np.__version__}; "
        f"median of {args.frames} frames"
    ]
    for name in ("sparsett-tiny", "sparsett-swin-t"):
        result = measure(name, args.frames)
        base = result["eager-uncached"]
        for path, seconds in result.items():
            lines.append(
                f"  {name:16s} {path:15s} {seconds * 1000:8.1f} ms  "
                f"x{base / seconds:4.2f} vs eager-uncached"
                + (
                    f"  x{OFFICIAL_SECONDS / seconds:4.2f} vs official 0.45 s"
                    if name == "sparsett-swin-t"
                    else ""
                )
            )
    print("\n".join(lines))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
