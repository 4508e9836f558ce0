"""Evaluation-server submissions: validated, written atomically, and re-packing a real one
reproduces its files byte for byte."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from sparsett_bench.datasets import trackingnet
from sparsett_bench.errors import SparsettError
from sparsett_bench.evaluation.results_io import (
    SequenceResult,
    TrackerResults,
    load_tracker_results,
)
from sparsett_bench.evaluation.submission import (
    SubmissionError,
    validate,
    write_got10k_submission,
    write_trackingnet_submission,
)
from tests.conftest import shared_path

GOT10K_TEST = [f"GOT-10k_Test_{i:06d}" for i in range(1, 181)]


@pytest.fixture(autouse=True)
def private_parse_cache(tmp_path_factory, monkeypatch) -> None:
    monkeypatch.setenv("SPARSETT_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


def toy(rows: int, runs: int = 1, times: bool = False) -> SequenceResult:
    boxes = np.array([[1.5, 2.0, 30.0, 40.0]] * rows).reshape(rows, 4)
    entry = SequenceResult([boxes.copy() for _ in range(runs)], ["memory"] * runs)
    if times:
        entry.times = np.full(rows, 0.25)
    return entry


def in_memory(**sequences: SequenceResult) -> TrackerResults:
    return TrackerResults("t", "memory", "flat", dict(sequences))


def files_under(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


# --- GOT-10k ----------------------------------------------------------------------------------


def test_ocean_online_got10k_submission_repacks_byte_for_byte(tmp_path: Path) -> None:
    source = shared_path("raw_results", "got10k_test", "Ocean-online")
    results = load_tracker_results(source, GOT10K_TEST, "Ocean-online")
    assert results.layout == "got10k" and len(results.sequences) == 180
    out = write_got10k_submission(
        results, tmp_path / "sub", GOT10K_TEST, zip_path=tmp_path / "sub.zip"
    )
    assert out == tmp_path / "sub"
    originals = files_under(source)
    assert len(originals) == 360  # 180 x (_001.txt + _time.txt)
    assert files_under(out) == originals  # every file, byte for byte
    with zipfile.ZipFile(tmp_path / "sub.zip") as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        assert sorted(names) == sorted(originals)  # sequence folders at the zip root
        assert all(name.count("/") == 1 and name.startswith("GOT-10k_Test_") for name in names)
        assert {name: archive.read(name) for name in names} == originals
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sub", "sub.zip"]  # no temp left
    reread = load_tracker_results(tmp_path / "sub.zip", GOT10K_TEST)
    for name in GOT10K_TEST:
        assert reread.sequences[name].boxes.tobytes() == results.sequences[name].boxes.tobytes()


def test_got10k_repeated_runs_and_times(tmp_path: Path) -> None:
    entry = toy(3, runs=3)
    entry.runs[1][:, 0] = [0.1, 0.2, 1 / 3]
    entry.times = np.array([0.5, 0.01, 0.02])
    out = write_got10k_submission(in_memory(a=entry, b=toy(2)), tmp_path / "sub", ["a", "b"])
    assert files_under(out) == {
        "a/a_001.txt": b"1.5,2.0,30.0,40.0\n" * 3,
        "a/a_002.txt": b"0.1,2.0,30.0,40.0\n0.2,2.0,30.0,40.0\n0.3333333333333333,2.0,30.0,40.0\n",
        "a/a_003.txt": b"1.5,2.0,30.0,40.0\n" * 3,
        "a/a_time.txt": b"0.5\n0.01\n0.02\n",
        "b/b_001.txt": b"1.5,2.0,30.0,40.0\n" * 2,  # no times known: no _time.txt
    }


def test_only_the_listed_sequences_are_packed(tmp_path: Path) -> None:
    out = write_got10k_submission(in_memory(a=toy(2), extra=toy(2)), tmp_path / "s", ["a"])
    assert sorted(files_under(out)) == ["a/a_001.txt"]


def test_validation_lists_every_problem_and_writes_nothing(tmp_path: Path) -> None:
    nan = toy(5)
    nan.runs[0][2, 0] = np.nan
    negative = toy(5)
    negative.runs[0][3, 2] = -1
    uneven = toy(5, runs=2)
    uneven.runs[1] = uneven.runs[1][:4]
    wide = SequenceResult([np.zeros((5, 5))], ["memory"])
    late = toy(5, times=True)
    late.times = late.times[:3]
    infinite = toy(5)
    infinite.runs[0][4, 1] = np.inf
    results = in_memory(a=toy(4), b=nan, c=negative, e=uneven, f=wide, g=toy(0), h=late, i=infinite)
    names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"]
    with pytest.raises(SubmissionError) as error:
        write_got10k_submission(
            results, tmp_path / "sub", names, {n: 5 for n in names}, tmp_path / "sub.zip"
        )
    assert str(error.value).splitlines() == [
        "submission of t is not valid:",
        "  a: 4 boxes for 5 frames",
        "  b run 1: non-finite value in frame 3",
        "  c run 1: negative width or height in frame 4",
        "  d: missing",
        "  e: runs of different lengths [4, 5]",
        "  f run 1: expected 4 columns",
        "  g: no boxes",
        "  h: 3 times for 5 boxes",
        "  i run 1: non-finite value in frame 5",
    ]
    assert isinstance(error.value, SparsettError)  # the CLI reports it without a traceback
    assert list(tmp_path.iterdir()) == []


def test_zero_sizes_are_valid_and_frame_counts_are_optional() -> None:
    zero = toy(2)
    zero.runs[0][:, 2:] = 0  # a lost target reported as an empty box is a valid answer
    validate(in_memory(a=zero), ["a"])
    validate(in_memory(a=toy(7)), ["a"], {"b": 3})  # counts only for the sequences listed


def test_many_problems_are_summarised(tmp_path: Path) -> None:
    names = [f"s{i:02d}" for i in range(40)]
    with pytest.raises(SubmissionError) as error:
        validate(in_memory(), names)
    lines = str(error.value).splitlines()
    assert len(lines) == 32 and lines[30] == "  s29: missing"
    assert lines[31] == "  ... and 10 more"


def test_a_failed_write_leaves_the_previous_submission_untouched(
    tmp_path: Path, monkeypatch
) -> None:
    first = write_got10k_submission(in_memory(a=toy(2), b=toy(2)), tmp_path / "sub", ["a", "b"])
    before = files_under(first)
    calls = []
    real_write = Path.write_bytes

    def failing_write(self: Path, data: bytes) -> int:
        calls.append(self.name)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real_write(self, data)

    monkeypatch.setattr(Path, "write_bytes", failing_write)
    bigger = in_memory(a=toy(3, times=True), b=toy(3, times=True))
    with pytest.raises(OSError, match="No space left"):
        write_got10k_submission(bigger, tmp_path / "sub", ["a", "b"])
    monkeypatch.undo()
    assert len(calls) == 2
    assert files_under(tmp_path / "sub") == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sub"]  # staging folder removed


def test_a_failed_zip_leaves_no_zip_and_no_temporary_file(tmp_path: Path, monkeypatch) -> None:
    def failing_writestr(self, *args, **kwargs) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(zipfile.ZipFile, "writestr", failing_writestr)
    with pytest.raises(OSError, match="No space left"):
        write_got10k_submission(
            in_memory(a=toy(2)), tmp_path / "sub", ["a"], None, tmp_path / "s.zip"
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sub"]


def test_the_results_being_packed_are_never_replaced(tmp_path: Path) -> None:
    source = tmp_path / "results" / "GOT-10k" / "mine"
    for name in ("a", "b"):
        (source / name).mkdir(parents=True)
        (source / name / f"{name}_001.txt").write_text("1,2,3,4\n")
    results = load_tracker_results(source, ["a", "b"])
    for target in (source, source.parent, tmp_path):
        with pytest.raises(SubmissionError, match="would replace the results it is made from"):
            write_got10k_submission(results, target, ["a", "b"])
    assert sorted(files_under(source)) == ["a/a_001.txt", "b/b_001.txt"]
    packed = write_got10k_submission(results, tmp_path / "packed", ["a", "b"])
    assert files_under(packed) == {
        "a/a_001.txt": b"1.0,2.0,3.0,4.0\n",
        "b/b_001.txt": b"1.0,2.0,3.0,4.0\n",
    }


# --- TrackingNet ------------------------------------------------------------------------------


def test_trackingnet_validation_against_the_devkit_gt(tmp_path: Path) -> None:
    gt = trackingnet.load(shared_path("trackingnet_devkit", "dummy_GT.zip"))
    names = [s.name for s in gt]
    counts = {s.name: len(s.boxes) for s in gt}
    assert len(names) == 9
    results = load_tracker_results(shared_path("trackingnet_devkit", "dummy_subm.zip"), names)
    assert len(results.sequences) == 8
    with pytest.raises(SubmissionError) as error:
        write_trackingnet_submission(results, tmp_path / "tn", names, counts, tmp_path / "tn.zip")
    assert str(error.value).splitlines()[1:] == [
        "  a8v0k4Bz_QA_0: 432 boxes for 480 frames",
        "  a9jgDU5THOU_0: missing",
    ]
    assert list(tmp_path.iterdir()) == []
    # Without the frame counts only the missing sequence is caught.
    with pytest.raises(SubmissionError, match="a9jgDU5THOU_0: missing"):
        write_trackingnet_submission(results, tmp_path / "tn", names)


def test_trackingnet_repack_is_flat_and_reads_back_the_same(tmp_path: Path) -> None:
    gt = trackingnet.load(shared_path("trackingnet_devkit", "dummy_GT.zip"))
    counts = {s.name: len(s.boxes) for s in gt}
    source = shared_path("trackingnet_devkit", "dummy_subm.zip")
    results = load_tracker_results(source, list(counts))
    complete = sorted(n for n in results.sequences if len(results.sequences[n].boxes) == counts[n])
    assert len(complete) == 7
    out = write_trackingnet_submission(
        results, tmp_path / "tn", complete, counts, tmp_path / "tn.zip"
    )
    assert sorted(files_under(out)) == [f"{n}.txt" for n in complete]
    with zipfile.ZipFile(tmp_path / "tn.zip") as archive:
        assert sorted(archive.namelist()) == [f"{n}.txt" for n in complete]  # no sub-folder
        assert archive.read("a1qoB1eERn0_0.txt").startswith(b"150.0,111.0,43.0,79.0\n")
    with zipfile.ZipFile(source) as original:
        for name in complete:
            values = np.loadtxt(original.open(f"{name}.txt"), delimiter=",", ndmin=2)
            reread = load_tracker_results(tmp_path / "tn.zip", complete).sequences[name]
            assert reread.boxes.tobytes() == values.tobytes(), name


def test_trackingnet_takes_one_run_and_no_times(tmp_path: Path) -> None:
    with pytest.raises(SubmissionError, match="TrackingNet takes one run per sequence: a"):
        write_trackingnet_submission(in_memory(a=toy(2, runs=2)), tmp_path / "tn", ["a"])
    out = write_trackingnet_submission(in_memory(a=toy(2, times=True)), tmp_path / "tn", ["a"])
    assert files_under(out) == {"a.txt": b"1.5,2.0,30.0,40.0\n" * 2}
