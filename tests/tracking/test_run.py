"""`sparsett-bench run` end to end on the real OTB sequences: results, resume after SIGKILL,
workers, configuration guard, and the report read back from the command line."""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from sparsett_bench.errors import SparsettError
from tests.conftest import shared_path

SHORT = ["Couple", "Crossing", "Football1"]  # 140 + 120 + 74 frames
FRAMES = {"Couple": 140, "Crossing": 120, "Football1": 74, "Basketball": 725}


def cli(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    completed = subprocess.run(
        [sys.executable, "-m", "sparsett_bench", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )
    if check:
        assert completed.returncode == 0, completed.stderr + completed.stdout
    return completed


@pytest.fixture(scope="module")
def otb_root() -> Path:
    return shared_path("sequences", "otb")


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory) -> Path:
    import torch

    from sparsett_bench.model.config import build_model

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("weights") / "tiny.pth"
    build_model("sparsett-tiny").save(path, "sparsett-tiny")
    return path


def run_args(root: Path, results: Path, checkpoint: Path, names: list[str], *extra: str):
    return (
        "run", "--dataset", "otb2015", "--root", str(root), "--results", str(results),
        "--model", "sparsett-tiny", "--checkpoint", str(checkpoint),
        "--sequences", ",".join(names), *extra,
    )  # fmt: skip


@pytest.fixture(scope="module")
def reference(tmp_path_factory, otb_root, tiny_checkpoint) -> Path:
    """An uninterrupted one-worker run of the three short sequences."""
    results = tmp_path_factory.mktemp("reference")
    cli(*run_args(otb_root, results, tiny_checkpoint, SHORT, "--workers", "1", "--no-report"))
    return results / "sparsett-tiny"


def test_a_run_writes_one_box_and_one_time_per_frame(reference: Path) -> None:
    import json

    for name in SHORT:
        boxes = np.loadtxt(reference / f"{name}.txt", delimiter=",")
        times = np.loadtxt(reference / f"{name}_time.txt")
        assert boxes.shape == (FRAMES[name], 4) and times.shape == (FRAMES[name],)
        assert np.all(times > 0) and np.all(np.isfinite(boxes))
    gt = np.loadtxt(shared_path("sequences", "otb", "Couple", "groundtruth_rect.txt"), ndmin=2)
    first = np.loadtxt(reference / "Couple.txt", delimiter=",")[0]
    np.testing.assert_array_equal(first, gt[0])  # frame 1 is the given box
    record = json.loads((reference / "run.json").read_text())
    assert record["speed"]["frames"] == sum(FRAMES[n] for n in SHORT)
    assert record["tracker"]["params"]["window_influence"] == 0.2549  # OTB2015's own values
    assert record["threads"] == 1 and record["device"] == "cpu"


def test_two_workers_give_byte_identical_results(tmp_path, reference, otb_root, tiny_checkpoint):
    cli(*run_args(otb_root, tmp_path, tiny_checkpoint, SHORT, "--workers", "2", "--no-report"))
    for name in SHORT:
        assert (tmp_path / "sparsett-tiny" / f"{name}.txt").read_bytes() == (
            reference / f"{name}.txt"
        ).read_bytes()


def test_sigkill_at_random_moments_then_resume(tmp_path, reference, otb_root, tiny_checkpoint):
    """Killed during start-up, then twice at random moments after a sequence finished, the
    run ends with exactly the uninterrupted results, and a finished sequence is never tracked
    again (its file keeps its inode and modification time)."""
    folder = tmp_path / "sparsett-tiny"
    args = [sys.executable, "-m", "sparsett_bench"]
    args += run_args(otb_root, tmp_path, tiny_checkpoint, SHORT, "--workers", "1", "--no-report")
    chance = random.Random(7)
    finished: dict[str, tuple[int, int]] = {}

    def done() -> list[str]:
        return [n for n in SHORT if (folder / f"{n}.txt").exists()]

    for attempt in range(3):
        before = len(done())
        process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if attempt == 0:
            time.sleep(chance.uniform(0.2, 2.0))  # while importing and loading
        else:  # somewhere in the next sequence, or while its files are being written
            deadline = time.monotonic() + 120
            while len(done()) == before and time.monotonic() < deadline:
                time.sleep(0.02)
            time.sleep(chance.uniform(0.0, 1.5))
        process.send_signal(signal.SIGKILL)
        process.wait()
        for name in done():
            path = folder / f"{name}.txt"
            assert path.read_bytes() == (reference / f"{name}.txt").read_bytes(), name
            stat = path.stat()
            if name in finished:
                assert finished[name] == (stat.st_ino, stat.st_mtime_ns), name
            finished[name] = (stat.st_ino, stat.st_mtime_ns)
    assert finished  # the later kills each came after a sequence finished
    cli(*args[3:])
    for name in SHORT:
        path = folder / f"{name}.txt"
        assert path.read_bytes() == (reference / f"{name}.txt").read_bytes()
        if name in finished:
            assert finished[name] == (path.stat().st_ino, path.stat().st_mtime_ns), name


def test_ctrl_c_says_how_to_go_on(tmp_path, otb_root, tiny_checkpoint) -> None:
    args = run_args(otb_root, tmp_path, tiny_checkpoint, SHORT, "--workers", "1", "--no-report")
    process = subprocess.Popen(
        [sys.executable, "-m", "sparsett_bench", *args], stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 120
    while not (tmp_path / "sparsett-tiny" / "Couple.txt").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130  # it ended without a word
    assert "interrupted: the finished sequences are kept; the same command goes on" in stderr


def test_another_configuration_never_mixes_into_a_results_folder(
    reference, otb_root, tiny_checkpoint
) -> None:
    changed = cli(
        *run_args(otb_root, reference.parent, tiny_checkpoint, SHORT),
        "--penalty-k", "0.1", check=False,
    )  # fmt: skip
    assert changed.returncode == 2
    assert "another configuration" in changed.stderr and "params" in changed.stderr


def test_missing_weights_are_a_clear_error(tmp_path, otb_root) -> None:
    completed = cli(
        "run", "--dataset", "otb2015", "--root", str(otb_root), "--results", str(tmp_path),
        "--model", "sparsett-swin-t", "--sequences", "Couple", check=False,
    )  # fmt: skip
    assert completed.returncode == 2 and "no weights" in completed.stderr
    assert not any(tmp_path.iterdir())  # no run.json left to trip the next report


def test_a_tracker_that_cannot_be_built_or_frames_that_cannot_be_read_write_nothing(
    tmp_path, otb_root
) -> None:
    from sparsett_bench.errors import InputFileError
    from sparsett_bench.tracking.benchmark_run import run_benchmark
    from sparsett_bench.tracking.factory import TrackerSpec

    with pytest.raises(SparsettError, match="unknown OpenCV tracker 'opencv-nope'"):
        run_benchmark("otb2015", TrackerSpec("opencv-nope", "opencv-nope"), root=otb_root,
                      results=tmp_path / "a", names=["Couple"])  # fmt: skip
    annotations_only = tmp_path / "otb"
    (annotations_only / "Couple").mkdir(parents=True)
    (annotations_only / "Couple" / "groundtruth_rect.txt").write_bytes(
        (otb_root / "Couple" / "groundtruth_rect.txt").read_bytes()
    )
    with pytest.raises(InputFileError, match=r"0001\.jpg: missing$"):
        run_benchmark("otb2015", TrackerSpec("opencv-kcf", "opencv-kcf"), root=annotations_only,
                      results=tmp_path / "b", names=["Couple"])  # fmt: skip
    (annotations_only / "Couple" / "img").mkdir()
    (annotations_only / "Couple" / "img" / "0001.jpg").write_bytes(b"<html>not found</html>")
    with pytest.raises(InputFileError, match=r"0001\.jpg: not a readable image$"):
        run_benchmark("otb2015", TrackerSpec("opencv-kcf", "opencv-kcf"), root=annotations_only,
                      results=tmp_path / "b", names=["Couple"])  # fmt: skip
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def _got10k_test_split(root: Path, frames: int = 6) -> list[str]:
    """A GOT-10k-layout test split: first box only, frames showing a moving bright square."""
    import cv2

    names = ["GOT-10k_Test_000001", "GOT-10k_Test_000002"]
    (root / "test").mkdir(parents=True)
    (root / "test" / "list.txt").write_text("\n".join(names) + "\n")
    for offset, name in enumerate(names):
        folder = root / "test" / name
        folder.mkdir()
        (folder / "groundtruth.txt").write_text(f"{20 + offset},30,24,16\n")
        for index in range(frames):
            image = np.full((120, 160, 3), 40, np.uint8)
            x = 20 + offset + 3 * index
            image[30:46, x : x + 24] = 220
            cv2.imwrite(str(folder / f"{index + 1:08d}.jpg"), image)
    return names


def test_got10k_test_split_ends_in_a_validated_submission(tmp_path, tiny_checkpoint) -> None:
    import zipfile

    names = _got10k_test_split(tmp_path / "GOT-10k")
    results = tmp_path / "results"
    completed = cli(
        "run", "--dataset", "got10k", "--split", "test", "--root", str(tmp_path / "GOT-10k"),
        "--results", str(results), "--model", "sparsett-tiny",
        "--checkpoint", str(tiny_checkpoint), "--tracker", "tiny",
    )  # fmt: skip
    assert "submission written" in completed.stdout
    submission = results / "tiny_submission"
    for name in names:
        boxes = np.loadtxt(submission / name / f"{name}_001.txt", delimiter=",")
        assert boxes.shape == (6, 4)
        assert (submission / name / f"{name}_001.txt").read_bytes() == (
            results / "tiny" / f"{name}.txt"
        ).read_bytes()
        times = np.loadtxt(submission / name / f"{name}_time.txt")
        assert times.shape == (6,) and np.all(times > 0)
    with zipfile.ZipFile(submission.with_suffix(".zip")) as archive:
        assert sorted(archive.namelist()) == sorted(
            f"{n}/{n}_{suffix}" for n in names for suffix in ("001.txt", "time.txt")
        )


def test_repeated_runs_become_the_got10k_repetitions(tmp_path, tiny_checkpoint) -> None:
    """``--repeats 2``: run_001/ and run_002/ in the tracker's folder, ``<seq>_001.txt`` and
    ``<seq>_002.txt`` in the submission; a folder is never resumed with another count."""
    import json
    import zipfile

    names = _got10k_test_split(tmp_path / "GOT-10k")
    results = tmp_path / "results"
    command = (
        "run", "--dataset", "got10k", "--split", "test", "--root", str(tmp_path / "GOT-10k"),
        "--results", str(results), "--model", "sparsett-tiny",
        "--checkpoint", str(tiny_checkpoint), "--tracker", "tiny",
    )  # fmt: skip
    assert "submission written" in cli(*command, "--repeats", "2").stdout
    submission = results / "tiny_submission"
    for name in names:
        for run in ("001", "002"):
            packed = (submission / name / f"{name}_{run}.txt").read_bytes()
            assert packed == (results / "tiny" / f"run_{run}" / f"{name}.txt").read_bytes()
        assert np.loadtxt(submission / name / f"{name}_time.txt").shape == (6,)
    with zipfile.ZipFile(submission.with_suffix(".zip")) as archive:
        assert len(archive.namelist()) == 3 * len(names)
    record = json.loads((results / "tiny" / "run.json").read_text())
    # speed over the first run's frames, as report times repeated runs
    assert record["repeats"] == 2 and record["speed"]["frames"] == 6 * len(names)
    again = cli(*command, check=False)
    assert again.returncode == 2 and "2 run(s) per sequence, not 1" in again.stderr


def test_run_sparsett_and_csrt_then_report_from_the_command_line(
    tmp_path, otb_root, tiny_checkpoint
):
    """The whole job on the four real OTB sequences: two trackers run, one report compares them."""
    import json

    names = ",".join(FRAMES)
    base = ["--dataset", "otb2015", "--root", str(otb_root), "--results", str(tmp_path),
            "--sequences", names]  # fmt: skip
    tiny = cli("run", *base, "--model", "sparsett-tiny", "--checkpoint", str(tiny_checkpoint),
               "--workers", "2")  # fmt: skip
    assert "4 sequences tracked" in tiny.stdout and "sparsett-tiny" in tiny.stdout
    csrt = cli("run", *base, "--tracker", "opencv-csrt")
    assert "4 sequences tracked" in csrt.stdout
    for tracker in ("sparsett-tiny", "opencv-csrt"):
        for name, count in FRAMES.items():
            assert np.loadtxt(tmp_path / tracker / f"{name}.txt", delimiter=",").shape == (count, 4)
    report = cli("report", "--dataset", "otb2015", "--root", str(otb_root), "--results",
                 str(tmp_path), "--sequences", names, "--compare", "sparsett-tiny,opencv-csrt",
                 "--json", str(tmp_path / "report.json"), "--no-plots",
                 "--out", str(tmp_path / "tables"))  # fmt: skip
    assert "sparsett-tiny" in report.stdout and "opencv-csrt" in report.stdout
    scores = json.loads((tmp_path / "report.json").read_text())
    trackers = scores["trackers"]
    assert set(trackers) == {"sparsett-tiny", "opencv-csrt"}
    # CSRT really tracks these targets; untrained random weights do not
    assert trackers["opencv-csrt"]["overall"]["auc"] > trackers["sparsett-tiny"]["overall"]["auc"]
    assert trackers["opencv-csrt"]["speed"]["fps"] > 0


def test_onnxruntime_runtime_tracks_as_pytorch(tmp_path, reference, otb_root, tiny_checkpoint):
    """``--runtime onnxruntime`` tracks Football1 within a hundredth of a pixel of the PyTorch
    run; it is a configuration of its own, so the PyTorch runtime refuses its folder."""
    pytest.importorskip("onnxruntime", reason="onnxruntime is not installed")
    cli(*run_args(otb_root, tmp_path, tiny_checkpoint, ["Football1"], "--runtime",
                  "onnxruntime", "--workers", "1", "--no-report"))  # fmt: skip
    ours = np.loadtxt(tmp_path / "sparsett-tiny" / "Football1.txt", delimiter=",")
    np.testing.assert_allclose(
        ours, np.loadtxt(reference / "Football1.txt", delimiter=","), atol=1e-2
    )
    guarded = cli(*run_args(otb_root, tmp_path, tiny_checkpoint, ["Football1"]), check=False)
    assert guarded.returncode != 0 and "runtime" in guarded.stderr


def test_fused_kernels_track_as_the_plain_path(tmp_path, reference, otb_root, tiny_checkpoint):
    """``--fold-bn --fused-kernels`` tracks Football1 within a hundredth of a pixel of the
    default run and records both options in run.json."""
    import json

    cli(*run_args(otb_root, tmp_path, tiny_checkpoint, ["Football1"], "--fold-bn",
                  "--fused-kernels", "--workers", "1", "--no-report"))  # fmt: skip
    ours = np.loadtxt(tmp_path / "sparsett-tiny" / "Football1.txt", delimiter=",")
    np.testing.assert_allclose(
        ours, np.loadtxt(reference / "Football1.txt", delimiter=","), atol=1e-2
    )
    spec = json.loads((tmp_path / "sparsett-tiny" / "run.json").read_text())["tracker"]
    assert spec["fold_bn"] is True and spec["fused_kernels"] is True


@pytest.mark.parametrize(
    "options",
    [
        ("--runtime", "onnx"),
        ("--runtime", "onnxruntime", "--fold-bn"),
        ("--runtime", "onnxruntime", "--fused-kernels"),
        ("--precision", "fp16"),
    ],
)
def test_options_that_cannot_run_are_refused_before_anything_is_written(
    tmp_path, otb_root, tiny_checkpoint, options
) -> None:
    refused = cli(*run_args(otb_root, tmp_path, tiny_checkpoint, ["Football1"], *options),
                  check=False)  # fmt: skip
    assert refused.returncode != 0 and options[1] in refused.stderr
    assert not (tmp_path / "sparsett-tiny").exists()


def test_results_of_unknown_origin_are_never_counted_as_done(tmp_path, otb_root) -> None:
    foreign = tmp_path / "opencv-kcf" / "Couple.txt"
    foreign.parent.mkdir()
    foreign.write_text("1,2,3,4\n" * FRAMES["Couple"])  # another tool's, with no run.json
    refused = cli(
        "run", "--dataset", "otb2015", "--root", str(otb_root), "--results", str(tmp_path),
        "--sequences", "Couple,Crossing", "--tracker", "opencv-kcf", check=False,
    )  # fmt: skip
    assert refused.returncode == 2 and "holds results but no run.json" in refused.stderr
    assert [p.name for p in foreign.parent.iterdir()] == ["Couple.txt"]


def test_damaged_results_are_tracked_again_and_run_json_times_as_report(tmp_path, otb_root):
    import json

    from sparsett_bench.evaluation.report import build_report

    args = ("run", "--dataset", "otb2015", "--root", str(otb_root), "--results", str(tmp_path),
            "--sequences", "Couple,Crossing", "--tracker", "opencv-kcf", "--no-report")  # fmt: skip
    cli(*args)
    folder = tmp_path / "opencv-kcf"
    first = {name: (folder / name).read_bytes() for name in ("Couple.txt", "Crossing.txt")}
    rep = build_report("otb2015", tmp_path, ["opencv-kcf"], otb_root, names=["Couple", "Crossing"])
    speed = rep.evaluations[0].speed()
    recorded = json.loads((folder / "run.json").read_text())["speed"]
    assert recorded["fps"] == pytest.approx(speed["fps"])
    assert recorded["fps_mean_per_frame"] == pytest.approx(speed["fps_mean_per_frame"])
    assert recorded["frames"] == FRAMES["Couple"] + FRAMES["Crossing"]
    (folder / "Couple.txt").write_bytes(first["Couple.txt"][:-25])  # same row count, cut
    with (folder / "Crossing_time.txt").open("a") as handle:
        handle.write("abc\n")
    rerun = cli(*args)
    assert "2 sequences tracked, 0 already done" in rerun.stdout
    assert {name: (folder / name).read_bytes() for name in first} == first


def test_sparsett_options_with_another_tracker_are_refused(tmp_path, otb_root) -> None:
    refused = cli(
        "run", "--dataset", "otb2015", "--root", str(otb_root), "--results", str(tmp_path),
        "--sequences", "Couple", "--tracker", "opencv-kcf", "--fold-bn", "--test-lr", "0.5",
        check=False,
    )  # fmt: skip
    assert refused.returncode == 2
    assert "--fold-bn, --test-lr: SparseTT options, which --tracker opencv-kcf" in refused.stderr
    assert not any(tmp_path.iterdir())


def test_tracker_hyperparameters_out_of_their_range_are_refused(tmp_path, otb_root) -> None:
    from sparsett_bench.model.config import load_config
    from sparsett_bench.tracking.factory import tracker_params

    for model in ("sparsett-swin-t", "sparsett-tiny"):  # every shipped table, the official ones
        for dataset in load_config(model)["tracker"]:
            tracker_params(model, dataset)
    for override, message in (
        ({"test_lr": float("nan")}, "test_lr = nan: expected from 0 to 1"),
        ({"window_influence": 2.0}, "window_influence = 2.0: expected from 0 to 1"),
        ({"penalty_k": -0.1}, "penalty_k = -0.1: expected of at least 0"),
    ):
        with pytest.raises(SparsettError, match=re.escape(message)):
            tracker_params("sparsett-tiny", "otb2015", override)
    refused = cli(
        "run", "--dataset", "otb2015", "--root", str(otb_root), "--results", str(tmp_path),
        "--sequences", "Couple", "--test-lr", "nan", check=False,
    )  # fmt: skip
    assert refused.returncode == 2 and "test_lr = nan" in refused.stderr  # a NaN, once written,
    assert not any(tmp_path.iterdir())  # never equalled itself: the run could not be resumed


def test_repeats_are_refused_for_the_trackingnet_server_before_tracking(tmp_path) -> None:
    from sparsett_bench.tracking.benchmark_run import run_benchmark
    from sparsett_bench.tracking.factory import TrackerSpec

    with pytest.raises(SparsettError, match="one run per sequence"):
        run_benchmark("trackingnet", TrackerSpec("opencv-kcf", "opencv-kcf"), split="test",
                      results=tmp_path, repeats=2)  # fmt: skip
    assert not any(tmp_path.iterdir())


def test_a_record_from_before_a_field_existed_has_its_default(tmp_path) -> None:
    """run.json files written before ``runtime`` existed hold the torch runtime's results."""
    import json

    from sparsett_bench.tracking.factory import TrackerSpec
    from sparsett_bench.tracking.runner import check_configuration

    spec = TrackerSpec("sparsett-tiny", "sparsett-tiny", checkpoint="w.pth")
    old = {k: v for k, v in spec.describe().items() if k != "runtime"}
    (tmp_path / "run.json").write_text(json.dumps({"tracker": old}))
    check_configuration(tmp_path, spec)
    with pytest.raises(SparsettError, match="runtime"):
        check_configuration(tmp_path, TrackerSpec(**spec.describe() | {"runtime": "onnxruntime"}))


def test_a_model_is_not_resumed_under_other_threads_or_cpu_kernels(tmp_path) -> None:
    import json

    from sparsett_bench.tracking.factory import TrackerSpec
    from sparsett_bench.tracking.runner import check_configuration

    spec = TrackerSpec("sparsett-tiny", "sparsett-tiny", checkpoint="w.pth")
    record = {"tracker": spec.describe(), "threads": 1, "device": "cuda:1",
              "environment": {"cpu_kernels": "AVX512"}}  # fmt: skip
    (tmp_path / "run.json").write_text(json.dumps(record))
    same = {"threads": 1, "device_type": "cuda", "cpu_kernels": "AVX512"}
    check_configuration(tmp_path, spec, execution=same)  # another GPU of the same kind: fine
    with pytest.raises(SparsettError, match=r"tracked otherwise \(cpu_kernels AVX512 -> AVX2, "
                                            r"threads 1 -> 2\)"):  # fmt: skip
        check_configuration(tmp_path, spec, execution=same | {"threads": 2, "cpu_kernels": "AVX2"})


@pytest.mark.parametrize("workers", [1, 2])
def test_a_sequence_with_a_missing_frame_fails_alone(tmp_path, otb_root, workers) -> None:
    from sparsett_bench.tracking.benchmark_run import run_benchmark
    from sparsett_bench.tracking.factory import TrackerSpec

    root = tmp_path / "otb"
    root.mkdir()
    (root / "Crossing").symlink_to(otb_root / "Crossing")
    images = root / "Football1" / "img"
    images.mkdir(parents=True)
    (root / "Football1" / "groundtruth_rect.txt").symlink_to(
        otb_root / "Football1" / "groundtruth_rect.txt"
    )
    for frame in sorted((otb_root / "Football1" / "img").glob("*.jpg")):
        if frame.name != "0040.jpg":
            (images / frame.name).symlink_to(frame)
    kcf = TrackerSpec("opencv-kcf", "opencv-kcf")
    arguments = dict(root=root, results=tmp_path / "results", names=["Football1", "Crossing"],
                     workers=workers)  # fmt: skip
    with pytest.raises(
        SparsettError,
        match=r"1 sequence\(s\) not tracked, their frames unreadable \(the other results are "
        r"written\):\n  Football1: \S+/Football1/img/0040\.jpg: missing",
    ):
        run_benchmark("otb2015", kcf, **arguments)
    tracked = tmp_path / "results" / "opencv-kcf"
    assert len((tracked / "Crossing.txt").read_text().splitlines()) == FRAMES["Crossing"]
    assert not (tracked / "Football1.txt").exists()
    alone = arguments | {"results": tmp_path / "alone", "names": ["Football1"]}
    with pytest.raises(SparsettError, match=r"1 sequence\(s\) not tracked"):
        run_benchmark("otb2015", kcf, **alone)
    assert not (tmp_path / "alone" / "opencv-kcf").exists()  # no lone run.json for report
    (images / "0040.jpg").symlink_to(otb_root / "Football1" / "img" / "0040.jpg")
    summary = run_benchmark("otb2015", kcf, **arguments)
    assert summary.skipped == ["Crossing"] and summary.complete
    assert len((tracked / "Football1.txt").read_text().splitlines()) == FRAMES["Football1"]


def test_a_submission_never_replaces_another_trackers_results(tmp_path) -> None:
    from sparsett_bench.tracking.benchmark_run import run_benchmark
    from sparsett_bench.tracking.factory import TrackerSpec

    _got10k_test_split(tmp_path / "GOT-10k")
    arguments = dict(split="test", root=tmp_path / "GOT-10k", results=tmp_path / "results")
    run_benchmark("got10k", TrackerSpec("kcf_submission", "opencv-kcf"), **arguments)
    kept = sorted(p.name for p in (tmp_path / "results" / "kcf_submission").iterdir())
    with pytest.raises(SparsettError, match=r"kcf_submission: holds a tracker's results"):
        run_benchmark("got10k", TrackerSpec("kcf", "opencv-kcf"), **arguments)
    assert sorted(p.name for p in (tmp_path / "results" / "kcf_submission").iterdir()) == kept
    assert "run.json" in kept and not (tmp_path / "results" / "kcf").exists()


PLUGINS = """
import os
import signal

import numpy as np


class Base:
    name = "base"

    def init(self, image, box):
        self.box = np.asarray(box, float)

    def update(self, image):
        return self.box


class RaisesAtFrame3(Base):
    name = "raises"

    def init(self, image, box):
        super().init(image, box)
        self.frame = 1

    def update(self, image):
        self.frame += 1
        if self.frame == 3:
            raise RuntimeError("boom")
        return self.box


class ThreeValues(Base):
    name = "three"

    def update(self, image):
        return self.box[:3]


class ForgotToReturn(Base):
    name = "none"

    def update(self, image):
        self.box = self.box


class Killed(Base):
    name = "killed"

    def update(self, image):
        os.kill(os.getpid(), signal.SIGKILL)


class Escapes(Base):
    name = "../escaped"


class OwnFileError(Base):
    name = "ownfile"

    def update(self, image):
        from sparsett_bench.errors import InputFileError

        raise InputFileError("/models/its-own.bin", "the plugin's own file is damaged")


class Slow(Base):
    name = "slow"

    def update(self, image):
        import time

        time.sleep(0.05)
        if getattr(self, "frames", 0) == 3 and image.shape[1] == 320:  # Couple's frames only
            raise RuntimeError("stop")
        self.frames = getattr(self, "frames", 0) + 1
        return self.box


class BrokenConstructor(Base):
    def __init__(self):
        raise ValueError("no model file")
"""


@pytest.fixture
def plugins(tmp_path, monkeypatch) -> Path:
    (tmp_path / "plugins_under_test.py").write_text(PLUGINS)
    monkeypatch.syspath_prepend(str(tmp_path))  # spawned workers inherit sys.path
    return tmp_path


@pytest.mark.parametrize(
    ("plugin", "error"),
    [
        ("RaisesAtFrame3", r"raises: Couple frame 3: update\(\) raised RuntimeError: boom "
                           r"\(at plugins_under_test\.py:\d+\)"),
        ("ThreeValues", r"three: Couple frame 2: update\(\) returned array\(\[.*\]\), expected "
                        r"a box x, y, w, h"),
        ("ForgotToReturn", r"none: Couple frame 2: update\(\) returned None, expected a box"),
        ("Escapes", r"python:plugins_under_test:Escapes: its name '\.\./escaped': a tracker's "
                    r"results are one folder"),
        ("BrokenConstructor", r"python:plugins_under_test:BrokenConstructor: building it raised "
                              r"ValueError: no model file"),
        ("OwnFileError", r"^/models/its-own\.bin: the plugin's own file is damaged$"),
    ],
)  # fmt: skip
def test_a_plugins_fault_is_an_error_naming_it_and_leaves_nothing(
    plugins, otb_root, plugin, error
) -> None:
    from sparsett_bench.tracking.benchmark_run import run_benchmark
    from sparsett_bench.tracking.factory import TrackerSpec, python_tracker

    kind = f"python:plugins_under_test:{plugin}"
    with pytest.raises(SparsettError, match=error):
        spec = TrackerSpec(python_tracker(kind).name, kind)
        run_benchmark("otb2015", spec, root=otb_root, results=plugins / "results",
                      names=["Couple"])  # fmt: skip
    assert not (plugins / "results").exists() or not any((plugins / "results").iterdir())


def test_a_worker_that_dies_ends_the_run_with_an_error(plugins, otb_root) -> None:
    from sparsett_bench.tracking.benchmark_run import run_benchmark
    from sparsett_bench.tracking.factory import TrackerSpec

    spec = TrackerSpec("killed", "python:plugins_under_test:Killed")
    with pytest.raises(SparsettError, match=r"a worker process died while tracking one of: "):
        run_benchmark("otb2015", spec, root=otb_root, results=plugins / "results",
                      names=["Couple", "Crossing"], workers=2)  # fmt: skip


def test_a_record_of_another_split_or_a_damaged_one_is_refused(tmp_path) -> None:
    import json

    from sparsett_bench.errors import InputFileError
    from sparsett_bench.tracking.factory import TrackerSpec
    from sparsett_bench.tracking.runner import check_configuration

    spec = TrackerSpec("kcf", "opencv-kcf")
    record = tmp_path / "run.json"
    record.write_text(json.dumps({"tracker": spec.describe(), "dataset": "synthetic",
                                  "split": "test"}))  # fmt: skip
    check_configuration(tmp_path, spec, benchmark=("synthetic", "test"))
    check_configuration(tmp_path, spec, benchmark=("synthetic", "TEST"))  # one split, any case
    with pytest.raises(SparsettError, match=r"holds results of synthetic test, not synthetic "
                                            r"train; give this run its own --results"):  # fmt: skip
        check_configuration(tmp_path, spec, benchmark=("synthetic", "train"))
    for damaged in ("[]", '{"tracker": 5}'):
        record.write_text(damaged)
        with pytest.raises(InputFileError, match=r"run.json: not a run record"):
            check_configuration(tmp_path, spec)


def test_the_same_weights_moved_elsewhere_resume(tmp_path) -> None:
    import json

    from sparsett_bench.tracking.factory import TrackerSpec
    from sparsett_bench.tracking.runner import check_configuration

    spec = TrackerSpec("t", "sparsett-tiny", checkpoint="/old/w.pth", checkpoint_sha256="ab12")
    (tmp_path / "run.json").write_text(json.dumps({"tracker": spec.describe()}))
    moved = TrackerSpec(**spec.describe() | {"checkpoint": "/new/w.pth"})
    check_configuration(tmp_path, moved)
    other = TrackerSpec(**moved.describe() | {"checkpoint_sha256": "cd34"})
    with pytest.raises(SparsettError, match=r"differs in: checkpoint, checkpoint_sha256"):
        check_configuration(tmp_path, other)


def test_an_error_in_one_worker_stops_the_others_at_once(plugins, otb_root) -> None:
    """Couple fails at its frame 5; Basketball (725 frames at 50 ms, 36 s) is not waited for."""
    from sparsett_bench.tracking.benchmark_run import run_benchmark
    from sparsett_bench.tracking.factory import TrackerSpec

    spec = TrackerSpec("slow", "python:plugins_under_test:Slow")
    started = time.perf_counter()
    with pytest.raises(SparsettError, match=r"slow: Couple frame 5: update\(\) raised Runtime"):
        run_benchmark("otb2015", spec, root=otb_root, results=plugins / "results",
                      names=["Basketball", "Couple"], workers=2)  # fmt: skip
    assert time.perf_counter() - started < 20


def test_each_split_has_its_own_default_results_folder() -> None:
    from sparsett_bench.evaluation.results_io import default_results_folder

    assert default_results_folder("got10k", "val") == Path("results/got10k")  # its own split
    assert default_results_folder("got10k", "test") == Path("results/got10k-test")
    assert default_results_folder("otb2015", None) == Path("results/otb2015")
    assert default_results_folder("trackingnet", "TRAIN_3") == Path("results/trackingnet-train_3")


def test_torchrun_ranks_take_one_gpu_each(monkeypatch) -> None:
    import torch

    from sparsett_bench.tracking.benchmark_run import process_devices

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 4)
    assert process_devices("cuda") == ["cuda:0"]  # one process: its workers share the GPU
    assert process_devices("cuda:0,2") == ["cuda:0", "cuda:2"]
    monkeypatch.setenv("WORLD_SIZE", "8")  # two nodes of four
    for local_rank, plain, listed in (("1", "cuda:1", "cuda:2"), ("3", "cuda:3", "cuda:2")):
        monkeypatch.setenv("RANK", str(4 + int(local_rank)))
        monkeypatch.setenv("LOCAL_RANK", local_rank)
        assert process_devices("cuda") == [plain]  # all ranks took cuda:0 before
        assert process_devices("cuda:0,2") == [listed]
        assert process_devices("cpu") == ["cpu"]


def test_run_json_names_the_gpus_of_the_run(monkeypatch) -> None:
    import torch

    from sparsett_bench.tracking import runner

    names = {0: "NVIDIA A100", 1: "NVIDIA H100", 2: "NVIDIA H100"}
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: names[device.index])
    assert runner._environment("4.x", ["cuda:2", "cuda:1"])["gpu"] == "NVIDIA H100"
    assert runner._environment("4.x", ["cuda:1", "cuda:0"])["gpu"] == "NVIDIA H100, NVIDIA A100"
    assert "gpu" not in runner._environment("4.x", ["cpu"])
