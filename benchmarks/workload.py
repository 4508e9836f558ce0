"""Total time to track a LaSOT-sized workload: 280 synthetic sequences of 2,448 frames each
(685,440 frames, as LaSOT's test split has 685,360), rendered in memory (no disk: 480x360
frames of the embedded synthetic benchmark's generator, made one frame ahead in a thread and
not timed), tracked by ``--workers`` processes dealt round-robin over the listed devices,
exactly as ``sparsett-bench run`` builds its trackers.

Prints the wall time of the whole workload, the aggregate frames per second (frames / wall
time) and each process's tracking FPS (frames / time inside init + update). The sequences are
``generate("test", 1000 + i, frames)``: the generator's test stream beyond the 24 benchmark
sequences, so they are never benchmark sequences. SparseTT models use seeded random weights
unless ``--checkpoint`` is given (speed does not depend on the values, apart from the crop size
the predicted boxes lead to).

Run on a GPU machine: python benchmarks/workload.py --device cuda --workers 4 --out FILE
Quick check anywhere: python benchmarks/workload.py --model sparsett-tiny --sequences 2 --frames 20
"""

from __future__ import annotations

import argparse
import datetime
import multiprocessing
import platform
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.recording import record
from sparsett_bench.datasets import synthetic
from sparsett_bench.machine import cpu_model, gpu_names
from sparsett_bench.tracking import runner
from sparsett_bench.tracking.benchmark_run import parse_devices
from sparsett_bench.tracking.factory import TrackerSpec, build_tracker, tracker_params

FIRST_INDEX = 1000


def spec_for(model: str, checkpoint: str | None, folder: Path, args) -> TrackerSpec:
    if checkpoint is None:
        import torch

        from sparsett_bench.model.config import build_model

        torch.manual_seed(0)
        checkpoint = str(folder / f"{model}.pth")
        build_model(model).save(checkpoint, model)
    return TrackerSpec(
        model, model, checkpoint=checkpoint, params=tracker_params(model, "lasot"),
        precision=args.precision, fold_bn=args.fold_bn, cuda_graphs=args.cuda_graphs,
    )  # fmt: skip


def track_share(share: list[int], frames: int, spec: TrackerSpec, device: str, threads: int):
    """Track this process's sequences; returns (frames tracked, seconds inside the tracker)."""
    tracker = build_tracker(spec, device)
    runner.set_threads(threads)
    tracked, seconds = 0, 0.0
    for index in share:
        generated = synthetic.generate("test", FIRST_INDEX + index, frames)
        scene = generated.scene()
        first = np.asarray(generated.boxes[0], dtype=np.float64)
        with ThreadPoolExecutor(max_workers=1) as renderer:
            upcoming = renderer.submit(scene.render, 0)
            for frame in range(frames):
                image = upcoming.result()[0]
                if frame + 1 < frames:
                    upcoming = renderer.submit(scene.render, frame + 1)
                start = time.perf_counter()
                if frame == 0:
                    tracker.init(image, first)
                else:
                    tracker.update(image)
                seconds += time.perf_counter() - start
        tracked += frames
    return tracked, seconds


def _worker(arguments):
    return track_share(*arguments)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="sparsett-swin-t")
    parser.add_argument("--checkpoint", default=None)
    parser.add_argument("--sequences", type=int, default=280)
    parser.add_argument("--frames", type=int, default=2448)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, or cuda:0,1 (round-robin)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1, help="PyTorch threads per process")
    parser.add_argument("--precision", choices=("fp32", "bf16", "fp16"), default="fp32")
    parser.add_argument("--fold-bn", action="store_true")
    parser.add_argument("--cuda-graphs", action="store_true")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    for option in ("sequences", "frames", "workers", "threads"):
        if getattr(args, option) < 1:
            parser.error(f"--{option} must be at least 1")
    devices = parse_devices(args.device)
    shares = [list(range(w, args.sequences, args.workers)) for w in range(args.workers)]
    with tempfile.TemporaryDirectory() as tmp:
        spec = spec_for(args.model, args.checkpoint, Path(tmp), args)
        jobs = [
            (share, args.frames, spec, devices[w % len(devices)], args.threads)
            for w, share in enumerate(shares) if share
        ]  # fmt: skip
        started = time.perf_counter()
        if len(jobs) == 1:
            outcomes = [_worker(jobs[0])]
        else:
            with multiprocessing.get_context("spawn").Pool(len(jobs)) as pool:
                outcomes = pool.map(_worker, jobs)
        wall = time.perf_counter() - started
    frames = sum(f for f, _ in outcomes)
    lines = [
        f"workload, {datetime.date.today()}, {platform.node() or 'vm'}: {hardware(devices)}; "
        f"{args.model} {args.precision}{' fold-bn' if args.fold_bn else ''}"
        f"{' cuda-graphs' if args.cuda_graphs else ''}, {len(jobs)} processes x "
        f"{args.threads} threads on {','.join(devices)}",
        f"  {args.sequences} sequences x {args.frames} frames = {frames} frames: wall "
        f"{wall:.1f} s ({wall / 60:.1f} min), {frames / wall:.1f} frames/s overall",
    ]
    for number, (tracked, seconds) in enumerate(outcomes):
        lines.append(f"  process {number}: {tracked} frames, {tracked / seconds:.1f} FPS tracking")
    print("\n".join(lines))
    record(lines, args.out)


def hardware(devices: list[str]) -> str:
    gpus = gpu_names(devices)
    return f"{gpus}, CPU {cpu_model()}" if gpus else cpu_model()


if __name__ == "__main__":
    main()
