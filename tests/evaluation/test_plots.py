"""Plots: the papers' curves with scores in the legend, and the attribute breakdown."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sparsett_bench.datasets.sequence import Sequence
from sparsett_bench.evaluation import plots
from sparsett_bench.evaluation.evaluate import Evaluation, evaluate
from sparsett_bench.evaluation.protocols import get_protocol
from sparsett_bench.evaluation.results_io import SequenceResult, TrackerResults


def sequences() -> list[Sequence]:
    gt = np.array([[10.0 + i, 20.0, 40.0, 30.0] for i in range(10)])
    return [
        Sequence("a", gt, np.zeros(10, bool), attributes=("IV", "SV")),
        Sequence("b", gt + 5, np.zeros(10, bool), attributes=("SV",)),
    ]


def tracker(name: str, shift: float, seqs: list[Sequence], dataset: str = "otb2015") -> Evaluation:
    runs = {s.name: SequenceResult([s.boxes + np.array([shift, 0, 0, 0])], [name]) for s in seqs}
    return evaluate(seqs, TrackerResults(name, "memory", "flat", runs), get_protocol(dataset))


def legend(figure) -> list[str]:
    return [t.get_text() for t in figure.axes[0].get_legend().get_texts()]


def test_legend_carries_scores_sorted_best_first() -> None:
    seqs = sequences()
    evaluations = [tracker("far", 25.0, seqs), tracker("exact", 0.0, seqs)]
    figures = plots.curve_figures(evaluations, "toy")
    assert set(figures) == {"success", "precision", "norm_precision"}
    # Exact boxes pass 20 of the 21 thresholds with '>' (not 1.0): AUC 20/21 = 95.2.
    # Shifted by 25 px, frame 1 is reset to the ground truth (20 of 21 thresholds); in "a"
    # (40x30) the other 9 frames have IoU 15*30 / (2*1200 - 450) = 0.231 (passes 0..0.20: 5),
    # in "b" (45x35) 20*35 / (2*1575 - 700) = 0.286 (passes 0..0.25: 6).
    # AUC = mean((20 + 9*5) / 210, (20 + 9*6) / 210) = 139/420 = 33.1; P@20 = 1/10.
    assert legend(figures["success"]) == ["exact [95.2]", "far [33.1]"]
    assert legend(figures["precision"]) == ["exact [100.0]", "far [10.0]"]


def test_files_are_png_and_pdf(tmp_path: Path) -> None:
    seqs = sequences()
    written = plots.plot_curves([tracker("exact", 0.0, seqs)], tmp_path, "toy", stem_prefix="x_")
    assert sorted(p.name for p in written) == sorted(
        f"x_{stem}.{ext}"
        for stem in ("success", "precision", "norm_precision")
        for ext in ("png", "pdf")
    )
    for path in written:
        magic = path.read_bytes()[:4]
        assert magic == (b"\x89PNG" if path.suffix == ".png" else b"%PDF")


def test_many_trackers_get_distinct_styles() -> None:
    seqs = sequences()
    evaluations = [tracker(f"t{i}", float(i), seqs) for i in range(15)]
    figure = plots.curve_figures(evaluations, "toy")["success"]
    lines = figure.axes[0].get_lines()
    assert len(lines) == 15
    assert len({(line.get_color(), line.get_linestyle()) for line in lines}) == 15


def test_got10k_has_only_the_success_plot_with_ao() -> None:
    gt = np.array([[10.0, 20.0, 40.0, 30.0]] * 5)
    seqs = [Sequence("g", gt, np.zeros(5, bool), image_size=(100, 100), cover=np.full(5, 8))]
    figures = plots.curve_figures([tracker("exact", 0.0, seqs, "got10k")], "toy")
    assert list(figures) == ["success"]
    assert legend(figures["success"]) == ["exact [100.0]"]  # AO with eps: 1 - 2e-19 rounds


def test_attribute_figure_has_one_group_per_present_attribute() -> None:
    seqs = sequences()
    evaluations = [tracker("exact", 0.0, seqs), tracker("far", 25.0, seqs)]
    figure = plots.attribute_figure(
        evaluations,
        [("IV", "Illumination"), ("OV", "Out of view"), ("SV", "Scale")],
        {s.name: s.attributes for s in seqs},
        "toy",
    )
    labels = [t.get_text() for t in figure.axes[0].get_yticklabels()]
    assert labels == ["IV (1)", "SV (2)"]  # OV: no sequence has it
    bars = figure.axes[0].patches
    assert len(bars) == 4
    assert round(bars[0].get_width(), 1) == 95.2  # exact tracker, IV
