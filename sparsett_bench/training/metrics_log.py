"""The per-step training log: ``metrics.jsonl`` (one JSON object per step), ``metrics.csv``
(the same records as a table, one column per key of the first record), and TensorBoard
scalars under ``tensorboard/`` when the ``tensorboard`` package is installed.

A resumed run continues the log of the interrupted one: lines of steps after the checkpoint's
step are dropped from both files, and TensorBoard is opened with ``purge_step`` so its event
files drop them too; the resumed run then writes those steps again.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from types import TracebackType

from sparsett_bench.atomic import write_text_atomic

SCALARS_SKIPPED = ("step", "epoch")


class MetricsLog:
    """Appends step records to the run folder's logs (open it on rank 0 only)."""

    def __init__(self, folder: Path, resume_step: int, tensorboard: bool = True) -> None:
        self.jsonl = folder / "metrics.jsonl"
        self.csv = folder / "metrics.csv"
        kept = _records_up_to(self.jsonl, resume_step)
        write_text_atomic(self.jsonl, "".join(json.dumps(r) + "\n" for r in kept))
        self.columns: list[str] | None = list(kept[0]) if kept else None
        write_text_atomic(self.csv, _csv_text(kept, self.columns) if kept else "")
        self.writer = _summary_writer(folder / "tensorboard", resume_step) if tensorboard else None

    def write(self, record: dict) -> None:
        with self.jsonl.open("a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")
        header = self.columns is None
        if header:
            self.columns = list(record)
        with self.csv.open("a", encoding="utf-8", newline="") as out:
            out.write(_csv_text([record], self.columns, header))
        if self.writer is not None:
            for key, value in record.items():
                if key not in SCALARS_SKIPPED and isinstance(value, int | float):
                    self.writer.add_scalar(f"train/{key}", value, record["step"])

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()

    def __enter__(self) -> MetricsLog:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _records_up_to(path: Path, step: int) -> list[dict]:
    if not path.is_file():
        return []
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [r for r in records if r["step"] <= step]


def _csv_text(records: list[dict], columns: list[str], header: bool = True) -> str:
    """Rows of ``records`` in ``columns`` (a key missing from a record is an empty cell; keys
    beyond the first record's are left out)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, extrasaction="ignore", lineterminator="\n")
    if header:
        writer.writeheader()
    writer.writerows(records)
    return buffer.getvalue()


def _summary_writer(folder: Path, resume_step: int):
    """A TensorBoard ``SummaryWriter``, or None when tensorboard is not installed."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        return None
    # TensorBoard drops an earlier run's events from purge_step on: a fresh run (step 0)
    # replaces all of them, as it replaces the JSONL and CSV logs
    return SummaryWriter(str(folder), purge_step=resume_step + 1)
