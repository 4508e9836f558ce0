"""Run a tracker over a benchmark split: resumable, atomic, parallel, and timed.

Layout: ``<results>/<tracker>/<seq>.txt`` (one ``x,y,w,h`` row per frame) and
``<seq>_time.txt`` (seconds per frame), plus ``run.json`` (the tracker's configuration, the
machine, and the speed over every finished sequence).

- Resume: a sequence is done when its box file exists with one row per frame. The time file
  is written first and the box file last, each atomically (`write_sequence_result`), so a run
  killed at any moment leaves only complete sequences behind, and a restart tracks the others.
  A sequence with a frame that cannot be read fails alone (`Outcome.error`); the rest run on.
- Parallel: ``workers`` processes take sequences from a queue; each builds its own tracker on
  its device (listed devices are dealt round-robin). Each process uses ``threads`` intra-op
  threads whatever the number of workers, so results do not depend on ``workers``.
- Sharding: under ``torchrun`` (``RANK``/``WORLD_SIZE`` set) each rank takes every
  ``WORLD_SIZE``-th sequence of the split; resuming makes re-running a shard safe.
- Speed: per-frame time covers ``init``/``update`` only (image decoding excluded; it runs one
  frame ahead in a thread). ``run.json`` records frames / total time and the got10k toolkit's
  mean of per-frame 1 / t.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sparsett_bench.atomic import write_text_atomic
from sparsett_bench.box_files import parse_box_text
from sparsett_bench.errors import InputFileError, SparsettError
from sparsett_bench.evaluation.evaluate import speed_summary
from sparsett_bench.evaluation.results_io import RUN_RECORD, TIME_SUFFIX, write_sequence_result
from sparsett_bench.machine import cpu_model, gpu_names
from sparsett_bench.tracking.base import Tracker
from sparsett_bench.tracking.factory import TrackerSpec, build_tracker


@dataclass(frozen=True)
class Job:
    """One sequence to track: picklable, so that worker processes can receive it."""

    name: str
    frames: tuple[str, ...]
    init_box: tuple[float, float, float, float]


@dataclass(frozen=True)
class Outcome:
    """A tracked job, or one whose frames could not be read (``error``; nothing written)."""

    name: str
    frames: int
    seconds: float
    error: str | None = None


def jobs_for(sequences: Iterable) -> list[Job]:
    """`Job`s from loaded `Sequence`s (their first box must be known; one image per
    annotated frame, or any number when only the first frame is annotated)."""
    jobs = []
    for sequence in sequences:
        box = np.asarray(sequence.boxes[0], dtype=np.float64)
        if not np.all(np.isfinite(box)):
            raise SparsettError(f"{sequence.name}: the first frame has no box to start from")
        frames = tuple(str(p) for p in sequence.frame_paths)
        # Server-scored test splits annotate the first frame only; the images say how many.
        if len(frames) != len(sequence) and not (len(sequence) == 1 and frames):
            raise SparsettError(
                f"{sequence.name}: {len(frames)} images for {len(sequence)} annotated frames"
            )
        jobs.append(Job(sequence.name, frames, tuple(float(v) for v in box)))
    return jobs


def shard(jobs: list[Job], rank: int, world_size: int) -> list[Job]:
    """This rank's share: every ``world_size``-th job, starting at ``rank``."""
    return jobs[rank::world_size]


def torchrun_rank() -> tuple[int, int]:
    """``(RANK, WORLD_SIZE)`` from the environment torchrun sets; ``(0, 1)`` otherwise."""
    return int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))


def is_done(tracker_dir: Path, job: Job) -> bool:
    """The box file parses to one row of four numbers per frame, and its time file (when
    there is one) to one time per frame; a file cut short or damaged is tracked again."""
    result = _readable_result(tracker_dir, job.name)
    return result is not None and result[0] == len(job.frames)


def _readable_result(folder: Path, sequence: str) -> tuple[int, np.ndarray | None] | None:
    """The box file's row count and the time file's times (None without one), or None when
    either does not parse or they differ in length."""
    box_path, time_path = folder / f"{sequence}.txt", folder / f"{sequence}{TIME_SUFFIX}"
    try:
        rows = len(parse_box_text(box_path.read_bytes(), box_path))
        if not time_path.is_file():
            return rows, None
        times = parse_box_text(time_path.read_bytes(), time_path, columns=1).reshape(-1)
    except (OSError, SparsettError):
        return None
    return (rows, times) if len(times) == rows else None


class FrameReadError(InputFileError):
    """A frame that cannot be read: it fails its sequence alone (not a tracker's own error)."""


def read_image(path: str) -> np.ndarray:
    """The frame as OpenCV decodes it (BGR); a missing file is named before OpenCV is asked,
    which would print its own warning ahead of ours."""
    import cv2

    if not os.path.isfile(path):
        raise FrameReadError(path, "missing")
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None:
        raise FrameReadError(path, "not a readable image")
    return image


def track(tracker: Tracker, job: Job) -> tuple[np.ndarray, np.ndarray]:
    """Boxes ``(N, 4)`` (frame 1's is the given box) and per-frame seconds ``(N,)``."""
    boxes = np.empty((len(job.frames), 4))
    times = np.empty(len(job.frames))
    with ThreadPoolExecutor(max_workers=1) as reader:
        upcoming = reader.submit(read_image, job.frames[0])
        for index in range(len(job.frames)):
            image = upcoming.result()
            if index + 1 < len(job.frames):
                upcoming = reader.submit(read_image, job.frames[index + 1])
            start = time.perf_counter()
            try:
                if index == 0:
                    tracker.init(image, np.array(job.init_box))
                    box = np.array(job.init_box)
                else:
                    box = tracker.update(image)
            except SparsettError:
                raise
            except Exception as exc:  # a tracker's own bug: where, without our traceback
                call = "init()" if index == 0 else "update()"
                raise SparsettError(
                    f"{tracker.name}: {job.name} frame {index + 1}: {call} raised "
                    f"{type(exc).__name__}: {exc}{_origin(exc)}"
                ) from None
            times[index] = time.perf_counter() - start
            boxes[index] = _checked_box(box, tracker, job, index)
    return boxes, times


def _checked_box(value: object, tracker: Tracker, job: Job, index: int) -> np.ndarray:
    """``update``'s box as four floats (NaN or a zero size are kept: the protocols score
    them); anything else is an error naming the frame."""
    try:
        box = np.asarray(value, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        box = np.empty(0)
    if box.shape != (4,):
        raise SparsettError(
            f"{tracker.name}: {job.name} frame {index + 1}: update() returned {value!r:.80}, "
            "expected a box x, y, w, h"
        )
    return box


def _origin(exc: Exception) -> str:
    """`` (at file.py:LINE)``: the innermost frame of ``exc``'s traceback."""
    frames = traceback.extract_tb(exc.__traceback__)
    return f" (at {Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else ""


def _run_job(tracker: Tracker, job: Job, tracker_dir: Path) -> Outcome:
    """Track ``job`` and write its result; a frame that cannot be read fails this job only,
    so that one damaged sequence does not stop a run over hundreds."""
    try:
        boxes, times = track(tracker, job)
    except FrameReadError as exc:
        return Outcome(job.name, 0, 0.0, error=str(exc))
    write_sequence_result(tracker_dir, job.name, boxes, times)
    return Outcome(job.name, len(job.frames), float(times.sum()))


def set_threads(threads: int) -> None:
    """OpenCV's threads, and PyTorch's when a tracker imported it (OpenCV trackers do not)."""
    import cv2

    cv2.setNumThreads(threads)
    if "torch" in sys.modules:
        import torch

        torch.set_num_threads(threads)


def _die_with_parent() -> None:
    """On Linux, a worker is killed when the parent dies (even by SIGKILL), so no orphan keeps
    tracking beside a restarted run."""
    if sys.platform.startswith("linux"):
        import contextlib
        import ctypes
        import signal

        with contextlib.suppress(OSError):
            ctypes.CDLL("libc.so.6").prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


_worker_tracker: Tracker | None = None
_worker_error: str | None = None


def _worker_init(spec: TrackerSpec, devices: list[str], threads: int) -> None:
    """Build this process's tracker. A failure is kept and raised by the first job, with its
    message (an initializer that raises only breaks the pool)."""
    global _worker_tracker, _worker_error
    _die_with_parent()
    identity = multiprocessing.current_process()._identity  # 1, 2, ... per pool process
    device = devices[(identity[0] - 1) % len(devices)] if identity else devices[0]
    try:
        _worker_tracker = build_tracker(spec, device, threads)
    except SparsettError as exc:
        _worker_error = str(exc)
    except Exception as exc:  # raised by the first job, not a broken pool's riddle
        _worker_error = f"{spec.name}: building the tracker raised {type(exc).__name__}: {exc}"
    set_threads(threads)


def _worker_job(work: tuple[Path, Job]) -> Outcome:
    if _worker_error is not None:
        raise SparsettError(_worker_error)
    assert _worker_tracker is not None
    folder, job = work
    try:
        return _run_job(_worker_tracker, job, folder)
    except SparsettError as exc:  # re-raised in the parent: keep it simply picklable
        raise SparsettError(str(exc)) from None


def run_jobs(
    spec: TrackerSpec,
    work: list[tuple[Path, Job]],
    *,
    workers: int = 1,
    devices: list[str] | None = None,
    threads: int = 1,
    on_done: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Track each job of ``work`` (all of them: filter finished ones first) and write its
    result into the folder paired with it (a run's folder, or one of its repeats')."""
    devices = devices or ["cpu"]
    for folder in {folder for folder, _ in work}:
        folder.mkdir(parents=True, exist_ok=True)
    outcomes = []
    if workers <= 1 or len(work) <= 1:
        tracker = build_tracker(spec, devices[0], threads)
        set_threads(threads)
        for folder, job in work:
            outcomes.append(_run_job(tracker, job, folder))
            if on_done:
                on_done(outcomes[-1])
        return outcomes
    pool = ProcessPoolExecutor(
        min(workers, len(work)),
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_worker_init,
        initargs=(spec, devices, threads),
    )
    pending = {pool.submit(_worker_job, item): item[1].name for item in work}
    finished_normally = False
    try:
        for future in as_completed(pending):
            try:
                outcome = future.result()
            except BrokenProcessPool:  # killed (out of memory?), crashed, or exited
                finished = {o.name for o in outcomes}
                unfinished = sorted(set(pending.values()) - finished)
                raise SparsettError(
                    f"a worker process died while tracking one of: {', '.join(unfinished[:8])}"
                    f"{', ...' if len(unfinished) > 8 else ''} (killed, out of memory, crashed "
                    "or exited; run again to resume, with --workers 1 to see that sequence)"
                ) from None
            outcomes.append(outcome)
            if on_done:
                on_done(outcome)
        finished_normally = True
    finally:
        if not finished_normally:  # an error or Ctrl-C: stop the sequences still running
            for process in list(getattr(pool, "_processes", {}).values()):
                process.terminate()
        pool.shutdown(wait=finished_normally, cancel_futures=True)
    return outcomes


def check_configuration(
    tracker_dir: Path,
    spec: TrackerSpec,
    repeats: int = 1,
    execution: dict[str, object] | None = None,
    benchmark: tuple[str, str] | None = None,
) -> None:
    """Refuse to mix results of two configurations (or numbers of runs, or benchmarks and
    splits: ``benchmark``) under one name, or this run's with results of unknown origin.
    ``execution`` (``threads``, ``device_type``, ``cpu_kernels``) is compared too where given
    (the type only: under torchrun each rank records its own GPU): a SparseTT model's float32
    sums, and so its boxes, can change with each. The same weights moved elsewhere (the same
    ``checkpoint_sha256``) are the same configuration."""
    record = tracker_dir / RUN_RECORD
    if not record.is_file():
        if tracker_dir.is_dir() and any(tracker_dir.rglob("*.txt")):  # run writes it first
            raise SparsettError(
                f"{tracker_dir} holds results but no {RUN_RECORD}: they are not from a "
                "`sparsett-bench run` of this configuration; choose another --tracker name or "
                "move them"
            )
        return
    try:
        stored = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputFileError(record, f"unreadable run record: {exc}") from None
    if not isinstance(stored, dict) or not isinstance(stored.get("tracker", {}), dict):
        raise InputFileError(
            record, 'not a run record (a JSON object with a "tracker" table, as run writes it)'
        )
    if benchmark is not None and stored.get("dataset") is not None:
        was = (stored.get("dataset"), stored.get("split"))
        if [str(v).lower() for v in was] != [v.lower() for v in benchmark]:  # TRAIN_3, train_3
            raise SparsettError(
                f"{tracker_dir} holds results of {' '.join(map(str, was))}, not "
                f"{' '.join(benchmark)}; give this run its own --results folder"
            )
    if stored.get("repeats", 1) != repeats:
        raise SparsettError(
            f"{tracker_dir} holds {stored.get('repeats', 1)} run(s) per sequence, not "
            f"{repeats}; choose another --tracker name or remove the folder"
        )
    previous = stored.get("tracker")
    current = spec.describe()
    if previous is not None:
        previous = TrackerSpec.defaults() | previous
        if previous.get("checkpoint_sha256") and (
            previous["checkpoint_sha256"] == current.get("checkpoint_sha256")
        ):
            previous["checkpoint"] = current["checkpoint"]  # the same bytes, moved
    if previous is not None and previous != current:
        changed = sorted(
            k for k in set(previous) | set(current) if previous.get(k) != current.get(k)
        )
        raise SparsettError(
            f"{tracker_dir} holds results of another configuration (differs in: "
            f"{', '.join(changed)}); choose another --tracker name or remove the folder"
        )
    recorded = {
        "threads": stored.get("threads"),
        "device_type": str(stored.get("device", "")).split(":")[0] or None,
        "cpu_kernels": stored.get("environment", {}).get("cpu_kernels"),
    }
    changed = sorted(
        f"{key} {recorded[key]} -> {value}"
        for key, value in (execution or {}).items()
        if recorded.get(key) is not None and recorded[key] != value
    )
    if changed:
        raise SparsettError(
            f"{tracker_dir} holds results tracked otherwise ({', '.join(changed)}), which can "
            "move a model's boxes; resume as they were tracked, or choose another --tracker name"
        )


def remove_if_no_results(tracker_dir: Path) -> None:
    """Remove ``run.json`` and the empty folders of a first run that ended before any
    sequence was finished, so that the folder does not stand for a tracker with no results."""
    if any(tracker_dir.rglob("*.txt")):
        return
    (tracker_dir / RUN_RECORD).unlink(missing_ok=True)
    for folder in sorted((p for p in tracker_dir.rglob("*") if p.is_dir()), reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()
    if tracker_dir.is_dir() and not any(tracker_dir.iterdir()):
        tracker_dir.rmdir()


def write_run_record(
    tracker_dir: Path,
    spec: TrackerSpec,
    dataset: str,
    split: str,
    device: str,
    threads: int,
    repeats: int = 1,
) -> dict:
    """``run.json``: configuration, environment, and speed over every finished, timed sequence
    (computed as `report` computes it)."""
    import cv2

    times = _finished_times(tracker_dir)
    speed: dict = {}
    if summary := speed_summary(times.values()):
        speed = {
            "frames": int(sum(t.size for t in times.values())),
            "tracking_seconds": float(sum(t.sum() for t in times.values())),
            "fps": summary["fps"],
            "fps_mean_per_frame": summary["fps_mean_per_frame"],
        }
    record = {
        "tracker": spec.describe(),
        "dataset": dataset,
        "split": split,
        "device": device,
        "threads": threads,
        "repeats": repeats,
        "precision": spec.precision,
        "speed": speed,
        "environment": _environment(cv2.__version__, device.split(",")),
    }
    write_text_atomic(tracker_dir / RUN_RECORD, json.dumps(record, indent=1) + "\n")
    return record


def _finished_times(tracker_dir: Path) -> dict[str, np.ndarray]:
    """Per finished sequence (a box file beside a time file of one time per box), its frame
    times in the first run (``run_001/`` of repeated runs), the times `report` reads."""
    first_run = tracker_dir / "run_001"
    folder = first_run if first_run.is_dir() else tracker_dir
    times: dict[str, np.ndarray] = {}
    for time_path in sorted(folder.glob(f"*{TIME_SUFFIX}")):
        sequence = time_path.name[: -len(TIME_SUFFIX)]
        result = _readable_result(folder, sequence)
        if result is not None and result[1] is not None:  # else tracked again, timed then
            times[sequence] = result[1]
    return times


def _environment(cv2_version: str, devices: list[str]) -> dict:
    """Versions and hardware; ``gpu`` names the GPUs the run's ``devices`` are, for a CUDA
    run (each once, in their order)."""
    from sparsett_bench import __version__

    environment = {
        "sparsett_bench": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "opencv": cv2_version,
        "machine": platform.machine(),
        "processor": cpu_model() or platform.processor(),
        "cpus": os.cpu_count(),
    }
    if "torch" in sys.modules:
        import torch

        environment["torch"] = torch.__version__
        environment["cpu_kernels"] = torch.backends.cpu.get_cpu_capability()
        if gpus := gpu_names(devices):
            environment["gpu"] = gpus
    return environment
