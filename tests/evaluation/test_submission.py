"""Evaluation-server submissions: validated, and re-packing a real one reproduces its files."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from sparsett_bench.datasets.loaders import load_sequences
from sparsett_bench.evaluation.results_io import (
    SequenceResult,
    TrackerResults,
    load_tracker_results,
)
from sparsett_bench.evaluation.submission import (
    SubmissionError,
    write_got10k_submission,
    write_trackingnet_submission,
)
from tests.conftest import shared_path

GOT10K_TEST = [f"GOT-10k_Test_{i:06d}" for i in range(1, 181)]


def test_ocean_online_got10k_submission_repacks_byte_for_byte(tmp_path: Path) -> None:
    source = shared_path("raw_results", "got10k_test", "Ocean-online")
    results = load_tracker_results(source, GOT10K_TEST, "Ocean-online")
    assert results.layout == "got10k" and len(results.sequences) == 180
    out = write_got10k_submission(
        results, tmp_path / "sub", GOT10K_TEST, zip_path=tmp_path / "sub.zip"
    )
    originals = sorted(p.relative_to(source).as_posix() for p in source.rglob("*.txt"))
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.txt"))
    assert written == originals and len(written) == 360
    for relative in originals:
        assert (out / relative).read_bytes() == (source / relative).read_bytes(), relative
    with zipfile.ZipFile(tmp_path / "sub.zip") as archive:
        assert sorted(archive.namelist()) == originals
        first = "GOT-10k_Test_000001/GOT-10k_Test_000001_001.txt"
        assert archive.read(first) == (source / first).read_bytes()


def toy(name: str, rows: int, runs: int = 1) -> SequenceResult:
    boxes = np.array([[1.5, 2.0, 30.0, 40.0]] * rows)
    return SequenceResult([boxes.copy() for _ in range(runs)], ["memory"] * runs)


def test_validation_lists_every_problem_and_writes_nothing(tmp_path: Path) -> None:
    bad = toy("b", 5)
    bad.runs[0][2, 0] = np.nan
    negative = toy("c", 5)
    negative.runs[0][3, 2] = -1
    results = TrackerResults("t", "memory", "flat", {"a": toy("a", 4), "b": bad, "c": negative})
    with pytest.raises(SubmissionError) as error:
        write_got10k_submission(
            results, tmp_path / "sub", ["a", "b", "c", "d"], frame_counts={"a": 5, "b": 5, "c": 5}
        )
    message = str(error.value)
    assert "a: 4 boxes for 5 frames" in message
    assert "b run 1: non-finite value in frame 3" in message
    assert "c run 1: negative width or height in frame 4" in message
    assert "d: missing" in message
    assert not (tmp_path / "sub").exists()
    assert list(tmp_path.iterdir()) == []


def test_got10k_repeated_runs_and_times(tmp_path: Path) -> None:
    entry = toy("a", 3, runs=3)
    entry.times = np.array([0.5, 0.01, 0.02])
    results = TrackerResults("t", "memory", "flat", {"a": entry})
    out = write_got10k_submission(results, tmp_path / "sub", ["a"])
    assert sorted(p.name for p in (out / "a").iterdir()) == [
        "a_001.txt",
        "a_002.txt",
        "a_003.txt",
        "a_time.txt",
    ]
    assert (out / "a" / "a_002.txt").read_text() == "1.5,2.0,30.0,40.0\n" * 3
    assert (out / "a" / "a_time.txt").read_text() == "0.5\n0.01\n0.02\n"


def test_trackingnet_submission_is_flat_and_validated_against_the_devkit_gt(tmp_path: Path) -> None:
    gt = load_sequences("trackingnet", shared_path("trackingnet_devkit", "dummy_GT.zip"))
    names = [s.name for s in gt]
    counts = {s.name: len(s) for s in gt}
    results = load_tracker_results(shared_path("trackingnet_devkit", "dummy_subm.zip"), names)
    with pytest.raises(SubmissionError) as error:
        write_trackingnet_submission(results, tmp_path / "tn", names, counts)
    assert "a9jgDU5THOU_0: missing" in str(error.value)
    assert "a8v0k4Bz_QA_0: 432 boxes for 480 frames" in str(error.value)
    complete = [
        n for n in names if n in results.sequences and len(results.sequences[n].boxes) == counts[n]
    ]
    write_trackingnet_submission(results, tmp_path / "tn", complete, counts, tmp_path / "tn.zip")
    with zipfile.ZipFile(tmp_path / "tn.zip") as archive:
        assert sorted(archive.namelist()) == sorted(f"{n}.txt" for n in complete)
    reread = load_tracker_results(tmp_path / "tn.zip", complete)
    for name in complete:
        assert np.array_equal(reread.sequences[name].boxes, results.sequences[name].boxes)
