"""Regression gate for CI: record scores once, then fail when a later report falls below them.

A baseline file is JSON: the dataset, the protocol key, a tolerance in percentage points, and
per tracker the protocol's scores as fractions. `check_baseline` compares a new report with it
and lists every metric that fell by more than the tolerance (a missing tracker fails too).
Improvements never fail; refresh the baseline with ``--save-baseline`` to lock them in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from sparsett_bench.atomic import write_text_atomic
from sparsett_bench.errors import InputFileError
from sparsett_bench.evaluation.report import Report

DEFAULT_TOLERANCE = 0.5  # percentage points


@dataclass(frozen=True)
class Regression:
    tracker: str
    metric: str
    baseline: float  # percent
    current: float | None  # percent; None when the tracker is missing

    def describe(self) -> str:
        if self.current is None:
            return f"{self.tracker}: no results (baseline {self.metric} {self.baseline:.2f})"
        drop = self.baseline - self.current
        digits = 2 if drop >= 0.005 else 6  # a drop under --tolerance 0 must not read -0.00
        return (
            f"{self.tracker} {self.metric}: {self.current:.{digits}f} < baseline "
            f"{self.baseline:.{digits}f} (-{drop:.{digits}f} points)"
        )


def save_baseline(report: Report, path: Path, tolerance: float = DEFAULT_TOLERANCE) -> None:
    document = {
        "dataset": report.dataset,
        "split": report.split,
        "protocol": report.protocol.key,
        "sequences": [s.name for s in report.sequences],
        "tolerance_points": tolerance,
        "trackers": {
            e.tracker: {m: e.scores()[m] for m in report.protocol.score_names()}
            for e in report.ranked()
        },
    }
    write_text_atomic(path, json.dumps(document, indent=2) + "\n")


def load_baseline(path: Path) -> dict:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputFileError(path, "baseline file not found") from None
    except IsADirectoryError:
        raise InputFileError(path, "a folder, where a baseline file was expected") from None
    except json.JSONDecodeError as exc:
        raise InputFileError(path, f"invalid JSON: {exc.msg}", exc.lineno) from None
    if not isinstance(document, dict) or not isinstance(document.get("trackers"), dict):
        raise InputFileError(path, 'expected a JSON object with a "trackers" table')
    tolerance = document.get("tolerance_points", DEFAULT_TOLERANCE)
    if not _is_number(tolerance) or tolerance < 0:
        raise InputFileError(path, f"tolerance_points {tolerance!r}: expected a number >= 0")
    for tracker, scores in document["trackers"].items():
        if not isinstance(scores, dict) or not scores:
            raise InputFileError(path, f"trackers.{tracker}: expected a table of metric: value")
        for metric, value in scores.items():
            if not _is_number(value):
                raise InputFileError(
                    path, f"trackers.{tracker}.{metric} {value!r}: expected a number"
                )
    return document


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_baseline(report: Report, path: Path, tolerance: float | None = None) -> list[Regression]:
    """Every metric of every baselined tracker that fell by more than the tolerance."""
    document = load_baseline(path)
    if document.get("protocol") not in (None, report.protocol.key):
        raise InputFileError(
            path,
            f"baseline was recorded under protocol {document['protocol']},"
            f" this report uses {report.protocol.key}",
        )
    recorded = document.get("sequences")
    if recorded is not None and recorded != [s.name for s in report.sequences]:
        raise InputFileError(
            path,
            f"baseline was recorded on {len(recorded)} sequences, this report scores "
            f"{len(report.sequences)} others (use the same --sequences)",
        )
    limit = (
        tolerance
        if tolerance is not None
        else float(document.get("tolerance_points", DEFAULT_TOLERANCE))
    )
    current = {e.tracker: e.scores() for e in report.evaluations}
    known = report.metric_names()
    for tracker, scores in document["trackers"].items():
        unknown = [metric for metric in scores if metric not in known]
        if unknown:
            raise InputFileError(
                path,
                f"trackers.{tracker}.{unknown[0]}: not a score of protocol "
                f"{report.protocol.key} (its scores: {', '.join(known)})",
            )
    regressions = []
    for tracker, scores in document["trackers"].items():
        if tracker not in current:
            metric, value = next(iter(scores.items()))
            regressions.append(Regression(tracker, metric, 100.0 * float(value), None))
            continue
        for metric, value in scores.items():
            base = 100.0 * float(value)
            now = 100.0 * current[tracker][metric]
            if not now >= base - limit:
                regressions.append(Regression(tracker, metric, base, now))
    return regressions
