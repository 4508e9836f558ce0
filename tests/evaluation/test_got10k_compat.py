"""``--protocol got10k`` prints what the got10k toolkit prints: both run on the same results."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sparsett_bench.datasets.loaders import load_sequences
from sparsett_bench.evaluation.evaluate import evaluate
from sparsett_bench.evaluation.protocols import get_protocol
from sparsett_bench.evaluation.results_io import load_tracker_results
from tests import got10k_reference as ref
from tests.conftest import shared_path

pytest.importorskip("got10k.experiments", reason="the got10k package is a dependency")


@pytest.fixture(scope="module")
def otb_work(tmp_path_factory) -> tuple[Path, list]:
    """One OTB root (59,035 placeholder images) shared by the trackers."""
    sequences = load_sequences("otb2015", shared_path("annotations", "otb100"))
    work = tmp_path_factory.mktemp("got10k")
    ref.build_otb_root(work / "otb", {s.name: s.boxes for s in sequences})
    return work, sequences


@pytest.mark.parametrize("tracker", ["SiamBAN", "DaSiamRPN"])
def test_otb_numbers_equal_the_got10k_toolkit(otb_work, tracker: str) -> None:
    work, sequences = otb_work
    results = load_tracker_results(
        shared_path("raw_results", "otb100", tracker), [s.name for s in sequences], tracker
    )
    ref.write_results(
        work / "results", tracker, {name: r.boxes for name, r in results.sequences.items()}
    )
    theirs = ref.got10k_otb_report(work, tracker)

    ours = evaluate(sequences, results, get_protocol("otb2015", "got10k"))
    curves, scores = ours.curves(), ours.scores()
    overall = theirs["overall"]
    assert np.array_equal(curves["success"], np.array(overall["success_curve"]))
    assert np.array_equal(curves["precision"], np.array(overall["precision_curve"]))
    assert scores["auc"] == overall["success_score"]
    assert scores["precision"] == overall["precision_score"]
    assert scores["op50"] == overall["success_rate"]
    per_sequence = ours.sequence_scores()
    assert len(theirs["seq_wise"]) == 100
    for name, values in per_sequence.items():
        assert values["auc"] == theirs["seq_wise"][ref.got10k_name(name)]["success_score"], name
