"""Building a report: score every tracker's results on one benchmark and lay out the numbers.

`build_report` reads the annotations once, reads each tracker's results (any layout), and
evaluates them under one protocol. The table helpers turn the `Report` into rows that the CLI
renders with rich and `writers` writes as Markdown, CSV, LaTeX and JSON. Scores are fractions
internally and percentages in every table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sparsett_bench.datasets.loaders import DEFAULT_SPLIT
from sparsett_bench.datasets.registry import Attribute, canonical_name, dataset_info
from sparsett_bench.datasets.sequence import Sequence
from sparsett_bench.errors import InputFileError, SparsettError
from sparsett_bench.evaluation import snapshots
from sparsett_bench.evaluation.evaluate import Evaluation, evaluate
from sparsett_bench.evaluation.protocols import Protocol, get_protocol

METRIC_LABELS = {
    "auc": "AUC",
    "precision": "P@20",
    "norm_precision": "Pnorm@0.2",
    "op50": "OP50",
    "op75": "OP75",
    "ao": "AO",
    "sr50": "SR0.50",
    "sr75": "SR0.75",
}
TRACKINGNET_LABELS = {"auc": "Success", "precision": "Precision", "norm_precision": "Norm. Prec."}
REPORT_FOLDER = "reports"


@dataclass
class Report:
    dataset: str
    split: str
    protocol: Protocol
    sequences: list[Sequence]
    attributes: tuple[Attribute, ...]
    evaluations: list[Evaluation] = field(default_factory=list)

    @property
    def primary_metric(self) -> str:
        return self.protocol.score_names()[0]

    def metric_names(self) -> list[str]:
        names = list(self.protocol.score_names())
        if self.protocol.summary == "otb":
            names += ["op50", "op75"]
        return names

    def label(self, metric: str) -> str:
        if self.protocol.summary == "trapezoid":
            return TRACKINGNET_LABELS.get(metric, METRIC_LABELS[metric])
        return METRIC_LABELS[metric]

    def ranked(self) -> list[Evaluation]:
        return sorted(self.evaluations, key=lambda e: -e.scores()[self.primary_metric])

    def attribute_masks(self) -> dict[Attribute, np.ndarray]:
        """Sequences having each attribute; attributes no sequence has are left out."""
        out = {}
        for attribute in self.attributes:
            mask = np.array([attribute.short in s.attributes for s in self.sequences])
            if mask.any():
                out[attribute] = mask
        return out


def discover_trackers(results_dir: Path) -> list[str]:
    """Tracker names under a results folder: sub-folders and ``<tracker>.zip`` files, each
    once (a folder beside its own zip, as `run` leaves a submission, is read from the
    folder: `tracker_location`)."""
    _refuse_a_trackers_own_zip(results_dir)
    if not results_dir.is_dir():
        raise InputFileError(results_dir, "results folder not found")
    names = []
    for entry in sorted(results_dir.iterdir()):
        if entry.name.startswith(".") or entry.name == REPORT_FOLDER:
            continue
        if entry.is_dir() or entry.suffix.lower() == ".zip":
            name = entry.stem if entry.is_file() else entry.name
            if name not in names:
                names.append(name)
    return names


def _refuse_a_trackers_own_zip(results_dir: Path) -> None:
    """A file for ``--results``: a tracker's zip, or one of a tracker's result files."""
    if not results_dir.is_file():
        return
    if results_dir.suffix.lower() == ".zip":
        folder, tracker = results_dir.parent, results_dir.stem
    else:
        folder, tracker = results_dir.parent.parent, results_dir.parent.name
    raise InputFileError(
        results_dir,
        "--results takes the folder that holds each tracker's folder or zip: give "
        f"{folder}, with --trackers {tracker}",
    )


def tracker_location(results_dir: Path, tracker: str) -> Path:
    _refuse_a_trackers_own_zip(results_dir)
    for candidate in (results_dir / tracker, results_dir / f"{tracker}.zip"):
        if candidate.exists():
            return candidate
    lowered = {p.name.lower(): p for p in results_dir.iterdir()} if results_dir.is_dir() else {}
    for key in (tracker.lower(), f"{tracker.lower()}.zip"):
        if key in lowered:
            return lowered[key]
    available = ", ".join(discover_trackers(results_dir)) if results_dir.is_dir() else "none"
    raise InputFileError(results_dir, f"no results for tracker {tracker!r} (found: {available})")


def build_report(
    dataset: str,
    results_dir: Path,
    trackers: list[str] | None = None,
    root: Path | None = None,
    split: str | None = None,
    toolkit: str | None = None,
    strict: bool = True,
    names: list[str] | None = None,
) -> Report:
    """Evaluate ``trackers`` (default: every tracker found) under ``dataset``'s protocol, on
    the sequences ``names`` (any spelling) or on the whole split."""
    key = canonical_name(dataset)
    split = split or DEFAULT_SPLIT.get(key, "test")
    protocol = get_protocol(key, toolkit)
    sequences = snapshots.annotations(key, root, split, names)
    if not any(len(s) > 1 for s in sequences):
        raise SparsettError(
            f"{dataset} {split}: the annotations hold only the first box (the test ground truth "
            "is withheld); this split is scored by the benchmark's evaluation server"
        )
    names = trackers or discover_trackers(results_dir)
    if not names:
        holds_results = results_dir.is_dir() and any(results_dir.glob("*.txt"))
        raise InputFileError(
            results_dir, "no tracker results found" + (
                " (it holds result files itself: give the folder above it, which holds one "
                "folder per tracker)" if holds_results else ""
            ),
        )  # fmt: skip
    report = Report(key, split, protocol, sequences, dataset_info(key).attributes)
    expected = [s.name for s in sequences]
    for name in names:
        location = tracker_location(results_dir, name)
        name = location.stem if location.is_file() else location.name  # as spelt on disk
        results = snapshots.tracker_results(location, expected, name)
        report.evaluations.append(evaluate(sequences, results, protocol, strict=strict))
    return report


def percent(value: float) -> float:
    return 100.0 * value


def overall_rows(report: Report) -> list[dict[str, object]]:
    """One row per tracker, best first: metric values in percent, FPS where times exist."""
    rows = []
    for evaluation in report.ranked():
        row: dict[str, object] = {"tracker": evaluation.tracker}
        scores = evaluation.scores()
        for metric in report.metric_names():
            row[metric] = percent(scores[metric])
        speed = evaluation.speed()
        row["fps"] = speed["fps"] if speed else math.nan
        row["fps_mean_per_frame"] = speed["fps_mean_per_frame"] if speed else math.nan
        rows.append(row)
    return rows


def attribute_rows(report: Report) -> list[dict[str, object]]:
    """Per attribute and tracker: success AUC and precision (percent) over its sequences."""
    rows = []
    for attribute, mask in report.attribute_masks().items():
        for evaluation in report.ranked():
            scores = evaluation.scores(mask)
            rows.append(
                {
                    "attribute": attribute.short,
                    "name": attribute.long,
                    "sequences": int(mask.sum()),
                    "tracker": evaluation.tracker,
                    "auc": percent(scores.get("auc", scores.get("ao", math.nan))),
                    "precision": percent(scores.get("precision", math.nan)),
                }
            )
    return rows


def report_json(report: Report) -> dict[str, object]:
    """Every number of the report, machine-readable (fractions, not percentages)."""
    masks = report.attribute_masks()
    trackers = {}
    for evaluation in report.ranked():
        curves = evaluation.curves()
        trackers[evaluation.tracker] = {
            "overall": evaluation.scores(),
            "speed": evaluation.speed(),
            "curves": {name: values.tolist() for name, values in curves.items()},
            "sequences": evaluation.sequence_scores(),
            "attributes": {a.short: evaluation.scores(m) for a, m in masks.items()},
            "issues": evaluation.issues,
        }
    p = report.protocol
    return {
        "dataset": report.dataset,
        "split": report.split,
        "protocol": {
            "key": p.key,
            "rules": list(p.rules),
            "thresholds": {
                "iou": p.iou_thresholds.tolist(),
                "precision": p.precision_thresholds.tolist(),
                "norm_precision": p.norm_thresholds.tolist(),
            },
        },
        "sequences": len(report.sequences),
        "frames": int(sum(len(s) for s in report.sequences)),
        "attributes": {
            a.short: {"name": a.long, "sequences": int(m.sum())} for a, m in masks.items()
        },
        "trackers": trackers,
    }
