"""End-to-end tracking speed on the real OTB Basketball sequence (725 frames, 576x432), side
by side for SparseTT and the OpenCV baselines, measured in one run.

Every tracker goes through the same code as ``sparsett-bench run`` (`runner.track`): frames
decoded one ahead in a thread and excluded from the timing, init + update timed per frame.
FPS = frames / total tracking time; "mean 1/t" is the got10k toolkit's per-frame average.
sparsett-tiny uses its shipped weights; sparsett-swin-t seeded random weights, or those of
``--swin-checkpoint`` (no trained weights can be downloaded on this machine; the plain paths'
speed depends on the weights on an Intel CPU, through float32 denormals in the shifted window
attention: see model_latency.py), run these ways: the default PyTorch path
(bit-identical to the official), ``--fold-bn``, ``--fold-bn --fused-kernels`` and
``--runtime onnxruntime``.
``--swin-frames N`` tracks the first N frames only with swin-t on a CPU (about 4 FPS on two
cores: minutes for the whole sequence).

With ``--official-repo PATH`` (and official-format ``--swin-checkpoint``) the unmodified official
tracker (``SparseTTTracker`` with its OTB2015 test hyperparameters, set up as in
benchmarks/README.md) tracks the same frames first: the issue's anchor (0.45 s per tracked frame)
measured in this run. Every sparsett-swin-t row then gets its speed-up over it (time only: with
weights that do not lock onto the target, closed-loop boxes diverge from a top-K near-tie on;
the goldens' README, section 4).

Run: python benchmarks/tracking_fps.py [--threads 2] [--frames 725] [--device cuda]
     [--swin-checkpoint official.pth [--official-repo SparseTT/]]
"""

from __future__ import annotations

import argparse
import datetime
import platform
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.recording import record
from sparsett_bench.datasets.loaders import load_sequences
from sparsett_bench.machine import cpu_model, gpu_names
from sparsett_bench.tracking import runner
from sparsett_bench.tracking.factory import TrackerSpec, build_tracker, tracker_params

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "sequences" / "otb"
OPENCV = ["opencv-csrt", "opencv-kcf", "opencv-mil", "opencv-medianflow", "opencv-tld",
          "opencv-boosting"]  # fmt: skip


def sparsett_specs(folder: Path, swin_checkpoint: Path | None) -> list[TrackerSpec]:
    import torch

    from sparsett_bench.model.config import build_model
    from sparsett_bench.model.weights import shipped_checkpoint

    tiny = TrackerSpec(
        "sparsett-tiny", "sparsett-tiny", checkpoint=str(shipped_checkpoint("sparsett-tiny")),
        params=tracker_params("sparsett-tiny", "otb2015"),
    )  # fmt: skip
    path = swin_checkpoint
    if path is None:
        torch.manual_seed(0)
        path = folder / "sparsett-swin-t.pth"
        build_model("sparsett-swin-t").save(path, "sparsett-swin-t")
    swin = TrackerSpec(
        "sparsett-swin-t", "sparsett-swin-t", checkpoint=str(path),
        params=tracker_params("sparsett-swin-t", "otb2015"),
    )  # fmt: skip
    return [
        tiny,
        swin,
        replace(swin, name="sparsett-swin-t --fold-bn", fold_bn=True),
        replace(
            swin,
            name="sparsett-swin-t --fold-bn --fused-kernels",
            fold_bn=True,
            fused_kernels=True,
        ),
        replace(swin, name="sparsett-swin-t onnxruntime", runtime="onnxruntime"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--frames", type=int, default=725)
    parser.add_argument("--swin-frames", type=int, default=150,
                        help="frames for sparsett-swin-t on CPU")  # fmt: skip
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--swin-checkpoint", type=Path, default=None,
                        help="weights for sparsett-swin-t (either format) in place of seeded "
                        "random ones")  # fmt: skip
    parser.add_argument("--official-repo", type=Path, default=None,
                        help="a checkout of fzh0917/SparseTT: its tracker becomes the in-run "
                        "anchor for sparsett-swin-t")  # fmt: skip
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.official_repo is not None and (args.swin_checkpoint is None or args.device != "cpu"):
        parser.error("--official-repo needs --swin-checkpoint (official format) and the CPU")
    if not SHARED.is_dir():
        sys.exit(f"needs the real OTB sequences in {SHARED}")
    sequence = load_sequences("otb2015", SHARED, names=["Basketball"])[0]
    job = runner.jobs_for([sequence])[0]
    weights = args.swin_checkpoint.name if args.swin_checkpoint else "seeded random"
    lines = [
        f"tracking_fps, {datetime.date.today()}, {platform.node() or 'vm'}: "
        f"{gpu_names([args.device]) or cpu_model()}, {args.threads} threads, device {args.device}",
        f"Basketball ({len(job.frames)} frames, 576x432); FPS = frames / tracking time; "
        f"sparsett-swin-t weights: {weights}",
    ]
    swin_frames = args.frames if args.device != "cpu" else min(args.frames, args.swin_frames)
    official = None
    if args.official_repo is not None:
        from benchmarks.official_sparsett import OfficialTracker

        tracker = OfficialTracker(args.official_repo, args.swin_checkpoint, "otb2015")
        part = runner.Job(job.name, job.frames[:swin_frames], job.init_box)
        runner.set_threads(args.threads)
        official = runner.track(tracker, part)[1]
        lines.append(_line("official tracker (unmodified)", official))
        print(lines[-1], flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        specs = sparsett_specs(Path(tmp), args.swin_checkpoint) + [
            TrackerSpec(name, name) for name in OPENCV
        ]
        for spec in specs:
            if spec.runtime == "onnxruntime" and args.device != "cpu":
                continue
            swin = spec.kind == "sparsett-swin-t"
            part = runner.Job(job.name, job.frames[: swin_frames if swin else args.frames],
                              job.init_box)  # fmt: skip
            tracker = build_tracker(spec, args.device, args.threads)
            runner.set_threads(args.threads)
            _, times = runner.track(tracker, part)
            line = _line(spec.name, times)
            if swin and official is not None:
                line += f"  x{official.sum() / times.sum():4.2f} vs official"
            print(line, flush=True)
            lines.append(line)
    record(lines, args.out)


def _line(name: str, times: np.ndarray) -> str:
    fps = len(times) / times.sum()
    return (f"  {name:42s} {fps:8.1f} FPS  mean 1/t {np.mean(1 / times):8.1f}  "
            f"over {len(times)} frames")  # fmt: skip


if __name__ == "__main__":
    main()
