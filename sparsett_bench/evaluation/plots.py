"""Plots like the papers': success, precision and normalized-precision curves, and the
attribute breakdown, as PNG and PDF.

Each legend entry is ``Tracker [score]`` (AUC, precision at 20 px, normalized precision at
0.20, or AO for GOT-10k), sorted by that score. matplotlib is imported inside the functions
with the Agg backend, so importing this module costs nothing and no display is needed.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from sparsett_bench.evaluation.evaluate import Evaluation

if TYPE_CHECKING:
    from matplotlib.figure import Figure

_STYLES = ("-", "--", "-.", ":")


def _figure(width: float = 5.0, height: float = 4.0) -> Figure:
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _style(index: int) -> dict[str, object]:
    """Up to 10 colours x 4 line styles: 40 trackers before a style repeats."""
    style, color = list(itertools.product(_STYLES, [f"C{i}" for i in range(10)]))[index % 40]
    return {"color": color, "linestyle": style, "linewidth": 2.0 if index == 0 else 1.4}


def curve_figures(
    evaluations: list[Evaluation], title: str, sequence_mask: np.ndarray | None = None
) -> dict[str, Figure]:
    """The figures, keyed by file stem (``success``, ``precision``, ``norm_precision``)."""
    if not evaluations:
        return {}
    protocol = evaluations[0].protocol
    data = [(e.tracker, e.curves(sequence_mask), e.scores(sequence_mask)) for e in evaluations]
    if protocol.summary == "got10k":
        panels = [
            (
                "success",
                protocol.iou_thresholds,
                "ao",
                "Overlap threshold",
                "Success rate",
                "Success plot (AO)",
            )
        ]
    else:
        auc = "Success" if protocol.summary == "trapezoid" else "AUC"
        panels = [
            (
                "success",
                protocol.iou_thresholds,
                "auc",
                "Overlap threshold",
                "Success rate",
                f"Success plot ({auc})",
            ),
            (
                "precision",
                protocol.precision_thresholds,
                "precision",
                "Location error threshold (px)",
                "Precision",
                "Precision plot",
            ),
            (
                "norm_precision",
                protocol.norm_thresholds,
                "norm_precision",
                "Normalized location error threshold",
                "Normalized precision",
                "Normalized precision plot",
            ),
        ]
    figures = {}
    for curve, x, score, xlabel, ylabel, heading in panels:
        figure = _figure()
        axes = figure.add_subplot()
        ranked = sorted(data, key=lambda item: -item[2][score])
        for index, (name, curves, scores) in enumerate(ranked):
            axes.plot(
                x, curves[curve], label=f"{name} [{100 * scores[score]:.1f}]", **_style(index)
            )
        axes.set(
            xlabel=xlabel,
            ylabel=ylabel,
            ylim=(0, 1.0),
            xlim=(x[0], x[-1]),
            title=f"{heading} - {title}",
        )
        axes.grid(True, alpha=0.3)
        axes.legend(loc="lower left" if curve == "success" else "lower right", fontsize=7)
        figures[curve] = figure
    return figures


def attribute_figure(
    evaluations: list[Evaluation],
    attributes: list[tuple[str, str]],
    sequence_attributes: dict[str, tuple[str, ...]],
    title: str,
) -> Figure | None:
    """Grouped bars: success AUC (AO for GOT-10k) of every tracker per attribute."""
    if not evaluations:
        return None
    names = evaluations[0].sequences
    present = []
    for short, long in attributes:
        mask = np.array([short in sequence_attributes.get(n, ()) for n in names])
        if mask.any():
            present.append((short, long, mask))
    if not present:
        return None
    score = evaluations[0].protocol.score_names()[0]
    figure = _figure(7.0, 1.2 + 0.45 * len(present) * max(1, len(evaluations)) ** 0.5)
    axes = figure.add_subplot()
    height = 0.8 / len(evaluations)
    positions = np.arange(len(present))
    for index, evaluation in enumerate(evaluations):
        values = [100 * evaluation.scores(mask)[score] for _, _, mask in present]
        axes.barh(
            positions + index * height,
            values,
            height=height,
            label=evaluation.tracker,
            color=f"C{index % 10}",
        )
    axes.set_yticks(
        positions + height * (len(evaluations) - 1) / 2,
        [f"{short} ({int(mask.sum())})" for short, _, mask in present],
    )
    axes.invert_yaxis()
    axes.set(xlabel=f"{score.upper()} (%)", xlim=(0, 100), title=f"Attributes - {title}")
    axes.grid(True, axis="x", alpha=0.3)
    axes.legend(fontsize=7, loc="lower right")
    return figure


def _save(figure: Figure, out_dir: Path, stem: str) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / f"{stem}.png", out_dir / f"{stem}.pdf"]
    figure.savefig(paths[0], dpi=150)
    figure.savefig(paths[1])
    return paths


def plot_curves(
    evaluations: list[Evaluation],
    out_dir: Path,
    title: str,
    sequence_mask: np.ndarray | None = None,
    stem_prefix: str = "",
) -> list[Path]:
    written = []
    for stem, figure in curve_figures(evaluations, title, sequence_mask).items():
        written += _save(figure, out_dir, f"{stem_prefix}{stem}")
    return written


def plot_attributes(
    evaluations: list[Evaluation],
    attributes: list[tuple[str, str]],
    sequence_attributes: dict[str, tuple[str, ...]],
    out_dir: Path,
    title: str,
    stem_prefix: str = "",
) -> list[Path]:
    figure = attribute_figure(evaluations, attributes, sequence_attributes, title)
    return [] if figure is None else _save(figure, out_dir, f"{stem_prefix}attributes")
