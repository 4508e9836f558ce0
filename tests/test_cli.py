"""The command line: report end to end on real results, the regression gate, error handling."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from sparsett_bench.cli import app
from tests.conftest import shared_path

runner = CliRunner()


def report_args(results: Path, out: Path, *extra: str) -> list[str]:
    annotations = shared_path("annotations", "otb100")
    return [
        "report",
        "--dataset",
        "otb2015",
        "--root",
        str(annotations),
        "--results",
        str(results),
        "--out",
        str(out),
        "--no-plots",
        *extra,
    ]


def test_help_lists_the_four_stages() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("download", "train", "run", "report"):
        assert command in result.output


def test_every_option_help_is_printed_whole() -> None:
    """Rich reads ``[word...]`` in help text as markup and drops it: ``[default: datasets.toml]``
    once printed as "Dataset root ." Each option's help must appear as written."""
    import typer.main

    checked = 0
    for name, command in typer.main.get_command(app).commands.items():  # type: ignore[attr-defined]
        result = runner.invoke(app, [name, "--help"], terminal_width=2000, env={"COLUMNS": "2000"})
        assert result.exit_code == 0, result.output
        printed = " ".join(result.output.split())
        for param in command.params:
            help_text = getattr(param, "help", None)
            if help_text:
                written = " ".join(help_text.replace("\\[", "[").split())
                assert written in printed, f"{name} {param.name}: {written!r}"
                checked += 1
    assert checked > 30


def test_report_from_the_command_line_writes_every_format(tmp_path: Path) -> None:
    results = shared_path("raw_results", "otb100")
    json_path = tmp_path / "all.json"
    env = {**os.environ, "COLUMNS": "200"}
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "sparsett_bench",
            *report_args(results, tmp_path / "rep", "--json", str(json_path)),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "69.58" in completed.stdout and "90.97" in completed.stdout  # SiamBAN
    assert "65.78" in completed.stdout and "88.01" in completed.stdout  # DaSiamRPN
    written = sorted(p.name for p in (tmp_path / "rep").iterdir())
    assert written == [
        "otb2015_test_official.csv",
        "otb2015_test_official.json",
        "otb2015_test_official.md",
        "otb2015_test_official.tex",
        "otb2015_test_official_attributes.csv",
    ]
    document = json.loads(json_path.read_text())
    assert round(document["trackers"]["SiamBAN"]["overall"]["auc"], 3) == 0.696
    assert document["attributes"]["OV"]["sequences"] == 14
    assert len(document["trackers"]["DaSiamRPN"]["sequences"]) == 100
    markdown = (tmp_path / "rep" / "otb2015_test_official.md").read_text()
    assert "| SiamBAN | **69.58** | **90.97** |" in markdown


def test_report_does_not_import_torch(tmp_path: Path) -> None:
    results = shared_path("raw_results", "otb100")
    code = (
        "import sys\nfrom sparsett_bench.cli import app\n"
        f"try:\n    app({report_args(results, tmp_path)!r})\nexcept SystemExit:\n    pass\n"
        "assert 'torch' not in sys.modules, 'report imported torch'\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr


def degraded_copy(source: Path, target: Path, shift: float) -> Path:
    """Every box of every tracker moved right by ``shift`` pixels (frame 1 is reset anyway)."""
    for tracker in source.iterdir():
        for path in tracker.glob("*.txt"):
            boxes = np.loadtxt(path.read_text().replace(",", " ").splitlines(), ndmin=2)
            boxes[:, 0] += shift
            out = target / tracker.name / path.name
            out.parent.mkdir(parents=True, exist_ok=True)
            np.savetxt(out, boxes, delimiter=",", fmt="%.4f")
    return target


def test_regression_gate_fails_on_degraded_results_and_passes_on_real(tmp_path: Path) -> None:
    results = shared_path("raw_results", "otb100")
    baseline = tmp_path / "baseline.json"
    saved = runner.invoke(
        app, report_args(results, tmp_path / "a", "--save-baseline", str(baseline), "-q")
    )
    assert saved.exit_code == 0, saved.output
    stored = json.loads(baseline.read_text())
    assert round(stored["trackers"]["SiamBAN"]["auc"], 3) == 0.696

    same = runner.invoke(app, report_args(results, tmp_path / "b", "--check", str(baseline)))
    assert same.exit_code == 0, same.output
    assert "no regression" in same.output

    worse = degraded_copy(results, tmp_path / "worse", shift=8.0)
    failed = runner.invoke(app, report_args(worse, tmp_path / "c", "--check", str(baseline)))
    assert failed.exit_code == 1
    assert "SiamBAN auc" in failed.output and "DaSiamRPN precision" in failed.output

    tolerant = runner.invoke(
        app, report_args(worse, tmp_path / "d", "--check", str(baseline), "--tolerance", "100")
    )
    assert tolerant.exit_code == 0, tolerant.output

    before = baseline.read_bytes()  # the gate passed once the worse scores replaced it
    same_file = ["--check", str(baseline), "--save-baseline", str(tmp_path / "." / baseline.name)]
    refused = runner.invoke(app, report_args(worse, tmp_path / "e", *same_file))
    assert refused.exit_code == 2 and "would replace the baseline that --check reads" in " ".join(
        refused.output.split()
    )
    assert baseline.read_bytes() == before


def test_missing_sequence_is_an_error_naming_it_unless_lenient(tmp_path: Path) -> None:
    source = shared_path("raw_results", "otb100", "SiamBAN")
    partial = tmp_path / "results" / "SiamBAN"
    shutil.copytree(source, partial)
    (partial / "Tiger1.txt").unlink()
    strict = runner.invoke(app, report_args(tmp_path / "results", tmp_path / "a"))
    assert strict.exit_code == 2
    assert "Tiger1: no result" in strict.output
    assert "Traceback" not in strict.output
    lenient = runner.invoke(app, report_args(tmp_path / "results", tmp_path / "b", "--lenient"))
    assert lenient.exit_code == 0, lenient.output
    assert "Tiger1" in lenient.output  # listed as a warning


def test_malformed_result_file_names_file_and_line(tmp_path: Path) -> None:
    source = shared_path("raw_results", "otb100", "SiamBAN")
    broken = tmp_path / "results" / "SiamBAN"
    shutil.copytree(source, broken)
    lines = (broken / "Couple.txt").read_text().splitlines()
    lines[6] = "12,34,oops,56"
    (broken / "Couple.txt").write_text("\n".join(lines) + "\n")
    result = runner.invoke(app, report_args(tmp_path / "results", tmp_path / "out"))
    assert result.exit_code == 2
    assert "Couple.txt:7: not a number: 'oops'" in result.output


def test_a_folder_given_for_a_file_is_an_error_naming_it(tmp_path: Path) -> None:
    results = shared_path("raw_results", "otb100")
    folder = tmp_path / "folder"
    folder.mkdir()
    written = "a folder, where a file is to be written"
    for option, reason in (("--check", "a folder, where a baseline file was expected"),
                           ("--json", written), ("--save-baseline", written)):  # fmt: skip
        result = runner.invoke(app, report_args(results, tmp_path / "out", option, str(folder)))
        assert result.exit_code == 2, (option, result.output)
        assert f"error: {folder}: {reason}" in " ".join(result.output.split())
    assert not any(folder.iterdir())


def test_download_takes_one_thing_and_says_synthetic_needs_none() -> None:
    both = runner.invoke(app, ["download", "lasot", "--model", "sparsett-got10k", "--dry-run"])
    assert both.exit_code == 2 and "name one thing to fetch" in both.output
    synthetic = runner.invoke(app, ["download", "synthetic", "--dry-run"])
    assert synthetic.exit_code == 2 and "nothing to download" in synthetic.output
    split = runner.invoke(app, ["download", "otb2015", "--split", "train", "--dry-run"])
    assert split.exit_code == 2
    assert "otb2015 has no split 'train' (its splits: test)" in split.output


def test_options_that_would_be_ignored_are_errors_with_a_hint(tmp_path: Path) -> None:
    siamban = shared_path("raw_results", "otb100") / "SiamBAN"
    result = runner.invoke(app, report_args(siamban, tmp_path / "out"))
    assert result.exit_code == 2 and "give the folder above it" in result.output
    archive = tmp_path / "SiamBAN.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(siamban / "Couple.txt", "SiamBAN/Couple.txt")
    result = runner.invoke(app, report_args(archive, tmp_path / "out"))
    assert result.exit_code == 2
    assert f"give {tmp_path}, with --trackers SiamBAN" in " ".join(result.output.split())
    result = runner.invoke(app, report_args(siamban / "Couple.txt", tmp_path / "out"))
    assert result.exit_code == 2  # one of its result files: the folder above the tracker's
    assert f"give {siamban.parent}, with --trackers SiamBAN" in " ".join(result.output.split())
    result = runner.invoke(app, ["datasets", "--root", str(tmp_path)])
    assert result.exit_code == 2 and "give --dataset too" in result.output


def test_trackers_named_in_another_case_are_gated_under_their_own_names(tmp_path: Path) -> None:
    results = shared_path("raw_results", "otb100")
    baseline = tmp_path / "baseline.json"
    saved = runner.invoke(app, report_args(results, tmp_path / "a", "-q", "--save-baseline",
                                           str(baseline)))  # fmt: skip
    assert saved.exit_code == 0, saved.output
    lowercase = ["--trackers", "siamban,dasiamrpn", "--check", str(baseline)]
    checked = runner.invoke(app, report_args(results, tmp_path / "b", *lowercase))
    assert checked.exit_code == 0, checked.output
    assert "no regression" in checked.output and "SiamBAN" in checked.output


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ({"tolerance_points": "half", "trackers": {"SiamBAN": {"auc": 0.69}}},
         "tolerance_points 'half': expected a number >= 0"),
        ({"trackers": {"SiamBAN": {"auc": None}}}, "trackers.SiamBAN.auc None: expected a number"),
        ({"trackers": {"SiamBAN": [0.69]}}, "trackers.SiamBAN: expected a table of metric: value"),
        ({"trackers": {"SiamBAN": {"AUC": 0.69}}}, "trackers.SiamBAN.AUC: not a score of "
         "protocol otb2015/official (its scores: auc, precision, norm_precision, op50, op75)"),
    ],
)  # fmt: skip
def test_a_malformed_baseline_is_an_error_naming_the_entry(tmp_path, document, reason) -> None:
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps(document))
    results = shared_path("raw_results", "otb100")
    result = runner.invoke(app, report_args(results, tmp_path / "out", "-q", "--check",
                                            str(baseline)))  # fmt: skip
    assert result.exit_code == 2, result.output
    assert f"{baseline}: {reason}" in " ".join(result.output.split())


def test_a_baseline_may_gate_op50_and_op75(tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps({"trackers": {"SiamBAN": {"op50": 0.89, "op75": 0.54}}}))
    results = shared_path("raw_results", "otb100")
    result = runner.invoke(app, report_args(results, tmp_path / "out", "-q", "--check",
                                            str(baseline)))  # fmt: skip
    assert result.exit_code == 1, result.output  # OP50 89.23 holds; OP75 52.94 is 1.06 below
    said = " ".join(result.output.split())
    assert "SiamBAN op75: 52.94 < baseline 54.00 (-1.06 points)" in said and "op50:" not in said


def test_a_drop_below_a_hundredth_of_a_point_is_not_printed_as_zero() -> None:
    from sparsett_bench.evaluation.baseline import Regression

    assert Regression("SiamBAN", "auc", 86.71234, 86.71).describe() == (
        "SiamBAN auc: 86.710000 < baseline 86.712340 (-0.002340 points)"
    )
    assert Regression("SiamBAN", "auc", 86.7, 85.2).describe() == (
        "SiamBAN auc: 85.20 < baseline 86.70 (-1.50 points)"
    )


def test_explain_prints_the_rules_under_quiet_too(tmp_path: Path) -> None:
    results = shared_path("raw_results", "otb100")
    result = runner.invoke(app, report_args(results, tmp_path, "--explain", "--quiet"))
    assert result.exit_code == 0
    assert "Protocol otb2015/official" in result.output
    assert "source: the OTB MATLAB toolkit (calcSeqErrRobust.m" in result.output  # as promised
    assert "frame 1 := ground truth" in result.output
    assert "SiamBAN" not in result.output  # no table


def test_unknown_dataset_and_missing_results_are_clear_errors(tmp_path: Path) -> None:
    result = runner.invoke(app, ["report", "--dataset", "vot2099"])
    assert result.exit_code == 2 and "unknown dataset 'vot2099'" in result.output
    result = runner.invoke(app, report_args(tmp_path / "nowhere", tmp_path / "out"))
    assert result.exit_code == 2 and "results folder not found" in result.output
    # a path in brackets is text, not Rich markup, in the message
    (tmp_path / "[latest]").mkdir()
    result = runner.invoke(app, report_args(tmp_path / "[latest]", tmp_path / "out"))
    assert result.exit_code == 2
    assert f"{tmp_path / '[latest]'}: no tracker results found" in " ".join(result.output.split())


def test_datasets_command_reports_presence_and_completeness(tmp_path: Path) -> None:
    from sparsett_bench.datasets.status import dataset_status

    root = shared_path("annotations", "lasot_test")
    status = dataset_status("lasot", root)
    assert status.present and not status.complete
    test_split = status.splits[0]
    assert (test_split.split, test_split.sequences, test_split.frames) == ("test", 280, 685360)
    assert test_split.problem == "airplane-1: no images"
    assert not dataset_status("uav123", tmp_path / "nothing").present
    result = runner.invoke(app, ["datasets", "--dataset", "lasot", "--root", str(root)])
    assert result.exit_code == 0 and "airplane-1: no images" in result.output


def test_report_on_the_synthetic_benchmark(tmp_path: Path, monkeypatch) -> None:
    """Ground truth as the result: visible frames pass 20 of 21 thresholds, absent ones none."""
    from sparsett_bench.datasets.loaders import load_sequences
    from sparsett_bench.evaluation.results_io import write_sequence_result

    monkeypatch.chdir(tmp_path)
    sequences = load_sequences("synthetic", tmp_path / "data", "test")
    for seq in sequences:
        boxes = np.where(np.isnan(seq.boxes), seq.boxes[0], seq.boxes)
        write_sequence_result(tmp_path / "results" / "synthetic" / "oracle", seq.name, boxes)
    expected = np.mean([20 * (~s.absent).sum() / (21 * len(s)) for s in sequences])
    result = runner.invoke(
        app,
        ["report", "--dataset", "synthetic", "--root", "data", "--no-plots", "--json", "out.json"],
    )
    assert result.exit_code == 0, result.output
    auc = json.loads((tmp_path / "out.json").read_text())["trackers"]["oracle"]["overall"]["auc"]
    assert auc == pytest.approx(expected, abs=1e-12)
    assert not (tmp_path / "data" / "test").exists()  # scoring renders no frames


@pytest.mark.parametrize("names", [",", " ", ", ,"])
def test_a_list_option_without_names_is_an_error(tmp_path: Path, names: str) -> None:
    results = shared_path("raw_results", "otb100")
    report = runner.invoke(app, report_args(results, tmp_path, "--sequences", names))
    assert report.exit_code == 2 and f"--sequences {names!r}: no names" in report.output
    run = runner.invoke(app, ["run", "--dataset", "synthetic", "--results", str(tmp_path),
                              "--sequences", names])  # fmt: skip
    assert run.exit_code == 2 and f"--sequences {names!r}: no names" in run.output
    assert not any(tmp_path.iterdir())
