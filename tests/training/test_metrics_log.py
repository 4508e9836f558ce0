"""The training log: JSONL and CSV hold the same records, a resumed run drops the steps after
its checkpoint from both (and from TensorBoard's event files), TensorBoard gets every scalar."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from sparsett_bench.training.metrics_log import MetricsLog


def record(step: int) -> dict:
    return {"step": step, "epoch": step // 3, "lr": 1e-3, "total": 10.0 / step, "fc_iou": 0.1}


def write_steps(folder: Path, steps: range, resume_step: int = 0, tensorboard=False) -> None:
    with MetricsLog(folder, resume_step, tensorboard=tensorboard) as log:
        for step in steps:
            log.write(record(step))


def test_jsonl_and_csv_hold_the_same_records(tmp_path: Path) -> None:
    write_steps(tmp_path, range(1, 5))
    lines = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert lines == [record(s) for s in range(1, 5)]
    with (tmp_path / "metrics.csv").open() as table:
        rows = list(csv.DictReader(table))
    assert list(rows[0]) == ["step", "epoch", "lr", "total", "fc_iou"]
    assert [float(r["total"]) for r in rows] == [10.0, 5.0, 10.0 / 3, 2.5]


def test_a_resumed_log_drops_the_steps_after_the_checkpoint(tmp_path: Path) -> None:
    write_steps(tmp_path, range(1, 7))  # killed after step 6, last checkpoint at step 4
    write_steps(tmp_path, range(5, 8), resume_step=4)
    steps = [json.loads(x)["step"] for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4, 5, 6, 7]
    rows = (tmp_path / "metrics.csv").read_text().splitlines()
    assert rows[0] == "step,epoch,lr,total,fc_iou"
    assert [int(r.split(",")[0]) for r in rows[1:]] == [1, 2, 3, 4, 5, 6, 7]


def test_a_fresh_run_in_an_old_folder_starts_a_new_log(tmp_path: Path) -> None:
    write_steps(tmp_path, range(1, 4))
    write_steps(tmp_path, range(1, 3))
    assert len((tmp_path / "metrics.jsonl").read_text().splitlines()) == 2
    assert len((tmp_path / "metrics.csv").read_text().splitlines()) == 3


def test_tensorboard_gets_every_scalar_and_a_resume_purges_later_steps(tmp_path: Path) -> None:
    pytest.importorskip("tensorboard", reason="tensorboard is not installed")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    write_steps(tmp_path, range(1, 7), tensorboard=True)
    write_steps(tmp_path, range(5, 8), resume_step=4, tensorboard=True)
    events = EventAccumulator(str(tmp_path / "tensorboard"))
    events.Reload()
    assert sorted(events.Tags()["scalars"]) == ["train/fc_iou", "train/lr", "train/total"]
    total = events.Scalars("train/total")
    assert [e.step for e in total] == [1, 2, 3, 4, 5, 6, 7]
    assert [e.value for e in total] == pytest.approx([10.0 / s for s in range(1, 8)])


def test_a_fresh_run_in_an_old_folder_replaces_its_tensorboard_events(tmp_path: Path) -> None:
    pytest.importorskip("tensorboard", reason="tensorboard is not installed")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    write_steps(tmp_path, range(1, 7), tensorboard=True)
    write_steps(tmp_path, range(1, 4), tensorboard=True)
    events = EventAccumulator(str(tmp_path / "tensorboard"))
    events.Reload()
    assert [e.step for e in events.Scalars("train/total")] == [1, 2, 3]
