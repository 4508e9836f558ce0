"""Published scores of real trackers, reproduced from their raw results under the official
protocols (../shared/data/README.md lists the sources and the published numbers)."""

from __future__ import annotations

import pytest

from sparsett_bench.datasets.loaders import load_sequences
from sparsett_bench.evaluation.evaluate import evaluate
from sparsett_bench.evaluation.protocols import get_protocol
from sparsett_bench.evaluation.results_io import load_tracker_results
from tests.conftest import shared_path


def scores(dataset: str, annotations: str, results: str, strict: bool = True) -> dict[str, float]:
    sequences = load_sequences(dataset, shared_path("annotations", annotations))
    found = load_tracker_results(shared_path("raw_results", results), [s.name for s in sequences])
    assert len(found.sequences) == len(sequences)
    return evaluate(sequences, found, get_protocol(dataset), strict=strict).scores()


@pytest.mark.parametrize(
    ("tracker", "auc", "precision"), [("SiamBAN", 0.696, 0.910), ("DaSiamRPN", 0.658, 0.880)]
)
def test_otb2015(tracker: str, auc: float, precision: float) -> None:
    s = scores("otb2015", "otb100", f"otb100/{tracker}")
    assert round(s["auc"], 3) == auc
    assert round(s["precision"], 3) == precision


def test_lasot_atom() -> None:
    s = scores("lasot", "lasot_test", "lasot/ATOM")
    assert (round(s["auc"], 3), round(s["precision"], 3), round(s["norm_precision"], 3)) == (
        0.514,
        0.505,
        0.577,
    )


@pytest.mark.parametrize(
    ("tracker", "auc", "precision"), [("SRDCF", 0.464, 0.676), ("TLD", 0.283, 0.439)]
)
def test_uav123(tracker: str, auc: float, precision: float) -> None:
    s = scores("uav123", "uav123", f"uav123/{tracker}")
    assert round(s["auc"], 3) == auc
    assert round(s["precision"], 3) == precision


def test_uav123_tld_needs_the_previous_box_rule() -> None:
    """Without replacing TLD's NaN/zero-size boxes by the previous one, the published score is
    not reached (pysot's rule): this is the rule that matters on this tracker."""
    sequences = load_sequences("uav123", shared_path("annotations", "uav123"))
    found = load_tracker_results(
        shared_path("raw_results", "uav123/TLD"), [s.name for s in sequences]
    )
    pysot = evaluate(sequences, found, get_protocol("uav123", "pysot")).scores()
    assert round(pysot["auc"], 3) != 0.283


def test_trackingnet_devkit_golden_pair() -> None:
    sequences = load_sequences("trackingnet", shared_path("trackingnet_devkit", "dummy_GT.zip"))
    found = load_tracker_results(
        shared_path("trackingnet_devkit", "dummy_subm.zip"), [s.name for s in sequences]
    )
    s = evaluate(sequences, found, get_protocol("trackingnet"), strict=False).scores()
    assert 100 * s["auc"] == pytest.approx(88.0796296, abs=5e-8)
    assert 100 * s["precision"] == pytest.approx(87.8024691, abs=5e-8)
    assert 100 * s["norm_precision"] == pytest.approx(87.8024691, abs=5e-8)


def test_trackingnet_devkit_pair_is_incomplete_under_strict() -> None:
    from sparsett_bench.errors import ResultsMismatchError

    sequences = load_sequences("trackingnet", shared_path("trackingnet_devkit", "dummy_GT.zip"))
    found = load_tracker_results(
        shared_path("trackingnet_devkit", "dummy_subm.zip"), [s.name for s in sequences]
    )
    with pytest.raises(ResultsMismatchError, match="a9jgDU5THOU_0"):
        evaluate(sequences, found, get_protocol("trackingnet"), strict=True)


DOC_ROWS = {
    "OTB2015 SiamBAN": ("otb2015", "otb100", "otb100/SiamBAN"),
    "OTB2015 DaSiamRPN": ("otb2015", "otb100", "otb100/DaSiamRPN"),
    "LaSOT ATOM": ("lasot", "lasot_test", "lasot/ATOM"),
    "UAV123 SRDCF": ("uav123", "uav123", "uav123/SRDCF"),
    "UAV123 TLD": ("uav123", "uav123", "uav123/TLD"),
}


def test_the_cross_toolkit_table_in_docs_is_what_the_tool_measures() -> None:
    """Every number of the table in docs/protocols.md, recomputed."""
    from pathlib import Path

    doc = Path(__file__).resolve().parents[2] / "docs" / "protocols.md"
    rows = [line for line in doc.read_text().splitlines() if line.startswith("| ")]
    checked = 0
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        label = next((k for k in DOC_ROWS if cells[0].startswith(k)), None)
        if label is None:
            continue
        dataset, annotations, results = DOC_ROWS[label]
        sequences = load_sequences(dataset, shared_path("annotations", annotations))
        found = load_tracker_results(
            shared_path("raw_results", results), [s.name for s in sequences]
        )
        for toolkit, cell in zip(
            ("official", "pytracking", "pysot", "got10k"), cells[1:5], strict=True
        ):
            s = evaluate(sequences, found, get_protocol(dataset, toolkit)).scores()
            keys = ("auc", "precision", "norm_precision")[: cell.count("/") + 1]
            assert cell == " / ".join(f"{s[k]:.4f}" for k in keys), (label, toolkit)
            checked += 1
    assert checked == 20
