"""Training throughput (pairs per second) of the official recipe's steps, measured in one run.

Times whole optimiser steps (data loading excluded: the batch is made once and reused, so the
figure is the model's forward + backward + AdamW step) at the recipe's batch and BatchNorm
split, per model and precision. On a CPU: sparsett-tiny at batch 32 (BatchNorm batches of
16) in fp32 and bf16. With ``--device cuda``: sparsett-swin-t at batch 32 in fp32 and bf16 as
well (the official recipe: 12 M pairs in 60 h on four RTX 2080 Ti, about 55 pairs/s).

Run: python benchmarks/training_speed.py [--device cuda] [--steps 5] [--out FILE]
"""

from __future__ import annotations

import argparse
import datetime
import platform
import sys
import time
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.recording import record
from sparsett_bench.machine import cpu_model, gpu_names
from sparsett_bench.model.config import build_model
from sparsett_bench.training.losses import training_losses
from sparsett_bench.training.targets import dense_targets
from sparsett_bench.training.trainer import PairForward


def batch(size: int, device: torch.device) -> dict[str, torch.Tensor]:
    rng = np.random.default_rng(0)
    boxes = np.stack([[100, 110, 180, 170]] * size).astype(np.float32) + rng.uniform(-20, 20, 4)
    cls, box, _ = dense_targets(boxes, False)
    return {
        "z": torch.randn(size, 3, 127, 127, device=device),
        "x": torch.randn(size, 3, 289, 289, device=device),
        "cls_gt": torch.from_numpy(cls).to(device),
        "box_gt": torch.from_numpy(box).to(device),
    }


def pairs_per_second(model_name: str, precision: str, device: torch.device, size: int,
                     bn_batch: int, steps: int) -> float:  # fmt: skip
    torch.manual_seed(0)
    forward = PairForward(build_model(model_name)).to(device).train()
    optimizer = torch.optim.AdamW(forward.parameters(), lr=1e-4, weight_decay=1e-4)
    data = batch(size, device)
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
    autocast = torch.autocast(device.type, dtype=dtype) if dtype else nullcontext()
    scaler = torch.amp.GradScaler(device.type, enabled=precision == "fp16")
    times = []
    for step in range(steps + 1):  # the first step warms up
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        for first in range(0, size, bn_batch):
            part = {k: v[first : first + bn_batch] for k, v in data.items()}
            with autocast:
                out = forward(part["z"], part["x"])
            loss = training_losses(out, part["cls_gt"], part["box_gt"], None, 1.0)["total"]
            scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        if device.type == "cuda":
            torch.cuda.synchronize()
        if step:
            times.append(time.perf_counter() - start)
    return size / float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if device.type == "cuda":  # its synchronize() calls then wait for this GPU, not GPU 0
        torch.cuda.set_device(device)
    hardware = gpu_names([args.device]) or cpu_model()
    lines = [
        f"training_speed, {datetime.date.today()}, {platform.node() or 'vm'}: {hardware}, "
        f"{args.threads} threads, torch {torch.__version__}; median of {args.steps} steps"
    ]
    runs = [("sparsett-tiny", p) for p in ("fp32", "bf16")]
    if device.type == "cuda":
        runs += [("sparsett-swin-t", p) for p in ("fp32", "bf16")]
    for model_name, precision in runs:
        rate = pairs_per_second(model_name, precision, device, 32, 16, args.steps)
        line = f"  {model_name:16s} {precision:5s} batch 32 (BN 16): {rate:8.1f} pairs/s"
        print(line, flush=True)
        lines.append(line)
    record(lines, args.out)


if __name__ == "__main__":
    main()
