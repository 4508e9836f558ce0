"""`sparsett-bench run`: the whole job behind the command, apart from argument parsing.

Loads the split, skips finished sequences, shards under torchrun, tracks the rest (with rich
progress), records ``run.json``, writes the evaluation-server submission for GOT-10k test and
TrackingNet test, and returns what the CLI prints.

Repeated runs (``repeats > 1``, for trackers that are not deterministic, as the GOT-10k
protocol asks) go to ``<tracker>/run_001/`` ... ``run_<N>/``, the layout `report` reads as
repetitions (OTB-style protocols average each sequence's runs, pooled ones pool them) and the
GOT-10k submission turns into ``<seq>_001.txt`` ... ``<seq>_<N>.txt``. ``run.json`` records the
number, and a folder is never resumed with another.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from sparsett_bench.datasets.loaders import DEFAULT_SPLIT, load_sequences
from sparsett_bench.datasets.registry import canonical_name
from sparsett_bench.errors import SparsettError
from sparsett_bench.evaluation.results_io import RUN_RECORD, default_results_folder
from sparsett_bench.tracking import runner
from sparsett_bench.tracking.factory import TrackerSpec, check_results_name, check_tracker

SERVER_SCORED = {("got10k", "test"), ("trackingnet", "test")}


@dataclass
class RunSummary:
    dataset: str
    split: str
    tracker_dir: Path
    sequences: list[str]
    tracked: list[runner.Outcome] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    complete: bool = False
    submission: Path | None = None
    record: dict = field(default_factory=dict)


def parse_devices(device: str) -> list[str]:
    """``cpu``, ``cuda``, ``cuda:1`` or ``cuda:0,1`` -> the list of torch devices."""
    device = device.strip()
    if device == "cpu":
        return ["cpu"]
    if device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise SparsettError(f"--device {device}: PyTorch sees no CUDA device here")
        if device == "cuda":
            return ["cuda:0"]
        ids = device.split(":", 1)[1].split(",")
        if not all(i.strip().isdigit() for i in ids):
            raise SparsettError(f"--device {device}: expected cuda:N or cuda:N,M,...")
        return [f"cuda:{int(i)}" for i in ids]
    raise SparsettError(f"--device {device}: expected cpu, cuda, cuda:N or cuda:N,M,...")


def process_devices(device: str) -> list[str]:
    """The devices this process deals its workers over: those of ``--device``, or under
    torchrun the one of its local rank, a plain ``cuda`` meaning the local rank's own GPU (as
    ``train`` takes it: ranks do not all land on GPU 0)."""
    devices = parse_devices(device)
    rank, world_size = runner.torchrun_rank()
    if world_size == 1 or devices == ["cpu"]:
        return devices
    local_rank = int(os.environ.get("LOCAL_RANK", rank))
    if device.strip() == "cuda":
        import torch

        return [f"cuda:{local_rank % torch.cuda.device_count()}"]
    return [devices[local_rank % len(devices)]]


def run_benchmark(
    dataset: str,
    spec: TrackerSpec,
    *,
    split: str | None = None,
    root: Path | None = None,
    results: Path | None = None,
    names: list[str] | None = None,
    workers: int = 1,
    threads: int = 1,
    device: str = "cpu",
    repeats: int = 1,
    console: Console | None = None,
) -> RunSummary:
    """Track every unfinished sequence of the split ``repeats`` times (see the module
    docstring); ``workers=0`` means one process per CPU core, or per listed GPU."""
    key = canonical_name(dataset)
    split = split or DEFAULT_SPLIT.get(key, "test")
    check_results_name(spec.name, "tracker name")
    devices = process_devices(device)
    rank, world_size = runner.torchrun_rank()
    if spec.params is not None:  # a SparseTT model: refuse its options before run.json
        from sparsett_bench.tracking.sparsett_tracker import check_inference_options

        check_inference_options(
            spec.runtime, spec.precision, spec.fold_bn, spec.cuda_graphs,
            on_cuda=devices[0].startswith("cuda"), fused_kernels=spec.fused_kernels,
        )  # fmt: skip
    if repeats > 1 and (key, split) == ("trackingnet", "test"):
        raise SparsettError("TrackingNet's server takes one run per sequence: no --repeats")
    sequences = load_sequences(key, root, split, names)
    tracker_dir = (results or default_results_folder(key, split)) / spec.name
    execution = None
    if spec.params is not None:  # a SparseTT model: its sums follow threads, device, kernels
        import torch

        execution = {"threads": threads, "device_type": devices[0].split(":")[0]}
        if devices[0] == "cpu":
            execution["cpu_kernels"] = torch.backends.cpu.get_cpu_capability()
    runner.check_configuration(tracker_dir, spec, repeats, execution, (key, split))
    if (key, split) in SERVER_SCORED:  # before tracking: the upload would replace them
        from sparsett_bench.evaluation.submission import check_submission_folder

        check_submission_folder(submission_folder(tracker_dir))
    folders = run_folders(tracker_dir, repeats)
    jobs = runner.shard(runner.jobs_for(sequences), rank, world_size)
    summary = RunSummary(key, split, tracker_dir, [s.name for s in sequences])
    todo = [(f, [job for job in jobs if not runner.is_done(f, job)]) for f in folders]
    summary.skipped = [
        job.name if repeats == 1 else f"{folder.name}/{job.name}"
        for folder, pending in todo for job in jobs if job not in pending
    ]  # fmt: skip
    if workers == 0:  # one per core (each runs `threads` threads), or one per listed GPU
        workers = max(1, (os.cpu_count() or 1) // threads) if devices[0] == "cpu" else len(devices)
    record = (tracker_dir, spec, key, split, ",".join(devices), threads, repeats)
    first_run = not (tracker_dir / RUN_RECORD).exists()
    if any(pending for _, pending in todo):  # the configuration is on disk before any result
        check_tracker(spec)
        runner.read_image(next(job for _, pending in todo for job in pending).frames[0])
        runner.write_run_record(*record)
        try:
            summary.tracked = _track_with_progress(spec, todo, workers, devices, threads, console)
        except BaseException:
            if first_run:  # a lone run.json would make every later report fail
                runner.remove_if_no_results(tracker_dir)
            raise
    failed = [outcome for outcome in summary.tracked if outcome.error is not None]
    if failed and first_run:  # every sequence unreadable: leave nothing behind either
        runner.remove_if_no_results(tracker_dir)
    if not failed or (tracker_dir / RUN_RECORD).exists():
        summary.record = runner.write_run_record(*record)
    if failed:
        listed = "\n  ".join(f"{o.name}: {o.error}" for o in failed[:20])
        more = f"\n  ... and {len(failed) - 20} more" if len(failed) > 20 else ""
        raise SparsettError(
            f"{len(failed)} sequence(s) not tracked, their frames unreadable (the other results "
            f"are written):\n  {listed}{more}\nMend them and run the same command again: "
            "finished sequences are skipped."
        )
    all_jobs = runner.jobs_for(sequences)
    summary.complete = all(runner.is_done(f, job) for f in folders for job in all_jobs)
    if summary.complete and (key, split) in SERVER_SCORED:
        summary.submission = _submission(key, tracker_dir, all_jobs)
    return summary


def run_folders(tracker_dir: Path, repeats: int) -> list[Path]:
    """Where each run's results go: the tracker's folder, or ``run_001/`` ... for repeats."""
    if repeats < 1:
        raise SparsettError(f"--repeats {repeats}: at least one run")
    if repeats == 1:
        return [tracker_dir]
    return [tracker_dir / f"run_{number:03d}" for number in range(1, repeats + 1)]


def _track_with_progress(
    spec: TrackerSpec,
    todo: list[tuple[Path, list[runner.Job]]],
    workers: int,
    devices: list[str],
    threads: int,
    console: Console | None,
) -> list[runner.Outcome]:
    started = time.perf_counter()
    frames_done = 0
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("sequences  {task.fields[fps]} frames/s"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        total = sum(len(pending) for _, pending in todo)
        task = progress.add_task(escape(spec.name), total=total, fps="-")

        def on_done(outcome: runner.Outcome) -> None:
            nonlocal frames_done
            frames_done += outcome.frames
            wall = time.perf_counter() - started
            progress.update(task, advance=1, fps=f"{frames_done / wall:.1f}")

        work = [(folder, job) for folder, pending in todo for job in pending]
        outcomes = runner.run_jobs(
            spec, work, workers=workers, devices=devices, threads=threads, on_done=on_done
        )
    return outcomes


def submission_folder(tracker_dir: Path) -> Path:
    """Where the evaluation server's upload of a tracker's results is written."""
    return tracker_dir.parent / f"{tracker_dir.name}_submission"


def _submission(key: str, tracker_dir: Path, jobs: list[runner.Job]) -> Path:
    from sparsett_bench.evaluation import submission
    from sparsett_bench.evaluation.results_io import load_tracker_results

    names = [job.name for job in jobs]
    frames = {job.name: len(job.frames) for job in jobs}
    found = load_tracker_results(tracker_dir, names, tracker_dir.name)
    out_dir = submission_folder(tracker_dir)
    write = (
        submission.write_got10k_submission
        if key == "got10k"
        else submission.write_trackingnet_submission
    )
    return write(found, out_dir, names, frames, out_dir.with_suffix(".zip"))
