"""Evaluation-server submissions (GOT-10k test, TrackingNet test), validated before packing.

GOT-10k: ``<seq>/<seq>_001.txt`` (``_002``, ``_003`` for repeated runs), comma-separated
``x,y,w,h`` for every frame including frame 1, and ``<seq>/<seq>_time.txt``; the zip holds the
sequence folders at its root. TrackingNet: flat ``<seq>.txt`` files at the zip root (a
sub-folder makes the server fail). Numbers are written as shortest round-trip reprs, so a
submission read back and re-packed is byte-identical.

Validation lists every problem at once (missing sequences, no boxes, runs of different or
wrong lengths, not 4 columns, non-finite values, negative sizes, per-frame times that do not
match the boxes) and nothing is written when there is one. The folder is built under a
temporary name and renamed into place (replacing any previous ``out_dir`` whole), and the zip
is written atomically, so an interrupted pack never leaves a submission that looks complete.
``out_dir`` may not be the results folder being packed or one that contains it, since the swap
would delete it.

Times are one value per line (pytracking's packer); a GOT-10k ``_time.txt`` with one column
per run is read by `load_tracker_results` as its first column only, so it is re-packed as one.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from sparsett_bench.atomic import atomic_folder, default_mode
from sparsett_bench.box_files import format_rows
from sparsett_bench.errors import SparsettError
from sparsett_bench.evaluation.results_io import RUN_RECORD, TIME_SUFFIX, TrackerResults


class SubmissionError(SparsettError):
    """Results that the evaluation server would reject or score wrongly."""


def validate(
    results: TrackerResults, sequence_names: list[str], frame_counts: dict[str, int] | None = None
) -> None:
    """Raise `SubmissionError` listing every problem; see the module docstring."""
    problems = []
    for name in sequence_names:
        found = results.sequences.get(name)
        if found is None:
            problems.append(f"{name}: missing")
            continue
        lengths = {len(run) for run in found.runs}
        expected = (frame_counts or {}).get(name)
        if not found.runs or lengths == {0}:
            problems.append(f"{name}: no boxes")
        elif len(lengths) > 1:
            problems.append(f"{name}: runs of different lengths {sorted(lengths)}")
        elif expected is not None and lengths != {expected}:
            problems.append(f"{name}: {lengths.pop()} boxes for {expected} frames")
        if found.times is not None and found.runs:
            times = np.asarray(found.times, dtype=np.float64)
            if times.shape != (len(found.runs[0]),):
                problems.append(f"{name}: {times.size} times for {len(found.runs[0])} boxes")
            elif not np.isfinite(times).all():
                problems.append(f"{name}: non-finite time")
        for index, run in enumerate(found.runs, start=1):
            run = np.asarray(run, dtype=np.float64)
            if run.ndim != 2 or run.shape[1] != 4:
                problems.append(f"{name} run {index}: expected 4 columns")
            elif not np.isfinite(run).all():
                row = int(np.flatnonzero(~np.isfinite(run).all(axis=1))[0]) + 1
                problems.append(f"{name} run {index}: non-finite value in frame {row}")
            elif (run[:, 2:] < 0).any():
                row = int(np.flatnonzero((run[:, 2:] < 0).any(axis=1))[0]) + 1
                problems.append(f"{name} run {index}: negative width or height in frame {row}")
    if problems:
        shown = "\n  ".join(problems[:30])
        more = f"\n  ... and {len(problems) - 30} more" if len(problems) > 30 else ""
        raise SubmissionError(f"submission of {results.tracker} is not valid:\n  {shown}{more}")


def write_got10k_submission(
    results: TrackerResults,
    out_dir: Path,
    sequence_names: list[str],
    frame_counts: dict[str, int] | None = None,
    zip_path: Path | None = None,
) -> Path:
    """Validate, then write the GOT-10k folder (and zip); returns ``out_dir``.

    Runs become ``_001``, ``_002``, ... in the order of ``results.sequences[seq].runs``; only
    ``sequence_names`` are written (other sequences in ``results`` are left out).
    """
    validate(results, sequence_names, frame_counts)
    _check_out_dir(results, out_dir)
    files = {}
    for name in sequence_names:
        found = results.sequences[name]
        for index, run in enumerate(found.runs, start=1):
            files[f"{name}/{name}_{index:03d}.txt"] = format_rows(run)
        if found.times is not None:
            files[f"{name}/{name}{TIME_SUFFIX}"] = format_rows(found.times)
    return _publish(files, out_dir, zip_path)


def write_trackingnet_submission(
    results: TrackerResults,
    out_dir: Path,
    sequence_names: list[str],
    frame_counts: dict[str, int] | None = None,
    zip_path: Path | None = None,
) -> Path:
    """Validate, then write the flat TrackingNet folder (and zip); returns ``out_dir``.

    One run per sequence; times are not part of a TrackingNet submission and are left out.
    """
    validate(results, sequence_names, frame_counts)
    _check_out_dir(results, out_dir)
    many = [n for n in sequence_names if len(results.sequences[n].runs) > 1]
    if many:
        raise SubmissionError(f"TrackingNet takes one run per sequence: {', '.join(many[:5])}")
    files = {f"{name}.txt": format_rows(results.sequences[name].boxes) for name in sequence_names}
    return _publish(files, out_dir, zip_path)


def check_submission_folder(out_dir: Path) -> None:
    """Refuse an ``out_dir`` that holds a tracker's results (its ``run.json``): writing the
    submission replaces the folder (``run --tracker X_submission`` would be lost)."""
    if (Path(out_dir) / RUN_RECORD).is_file():
        raise SubmissionError(
            f"{out_dir}: holds a tracker's results ({RUN_RECORD}), which the submission folder "
            "would replace; move them, or name this tracker otherwise"
        )


def _check_out_dir(results: TrackerResults, out_dir: Path) -> None:
    """Refuse an ``out_dir`` whose replacement would delete the results being packed, or
    another tracker's."""
    check_submission_folder(out_dir)
    source = Path(results.location)
    if not source.exists():
        return
    source, target = source.resolve(), Path(out_dir).resolve()
    if source == target or target in source.parents:
        raise SubmissionError(
            f"{out_dir}: the submission folder would replace the results it is made from "
            f"({results.location}); choose another folder"
        )


def _publish(files: dict[str, bytes], out_dir: Path, zip_path: Path | None) -> Path:
    out_dir = Path(out_dir)
    with atomic_folder(out_dir) as staging:
        for relative, data in files.items():
            path = staging / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    if zip_path is not None:
        _zip(files, Path(zip_path))
    return out_dir


def _zip(files: dict[str, bytes], zip_path: Path) -> None:
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=zip_path.parent, prefix=f".{zip_path.name}.", suffix=".tmp")
    os.fchmod(fd, default_mode())
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for relative in sorted(files):
                archive.writestr(relative, files[relative])
        os.replace(tmp, zip_path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
