"""The exported search branch runs in onnxruntime with PyTorch's outputs (within 1e-4)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnxruntime")


def test_export_command_on_the_tiny_model(tmp_path: Path) -> None:
    import torch
    from typer.testing import CliRunner

    from sparsett_bench.cli import app
    from sparsett_bench.model.config import build_model

    torch.manual_seed(0)  # random weights can put top-K near-ties anywhere; fix them
    checkpoint = tmp_path / "tiny.pth"
    build_model("sparsett-tiny").save(checkpoint, "sparsett-tiny")
    out = tmp_path / "tiny.onnx"
    result = CliRunner().invoke(
        app,
        ["export", "--model", "sparsett-tiny", "--checkpoint", str(checkpoint), "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 100_000
    difference = float(result.output.rsplit("max |difference|", 1)[1].split()[0])
    assert difference <= 1e-4


def test_export_takes_its_model_and_weights_as_run_does(tmp_path: Path) -> None:
    """No options: sparsett-tiny with its shipped weights; a checkpoint alone: its own model."""
    from typer.testing import CliRunner

    from sparsett_bench.cli import app
    from sparsett_bench.model.weights import shipped_checkpoint

    shipped = shipped_checkpoint("sparsett-tiny")
    assert shipped is not None
    for name, options in (("default", []), ("given", ["--checkpoint", str(shipped)])):
        out = tmp_path / f"{name}.onnx"
        result = CliRunner().invoke(app, ["export", *options, "--out", str(out)])
        assert result.exit_code == 0, result.output
    assert (tmp_path / "default.onnx").read_bytes() == (tmp_path / "given.onnx").read_bytes()
    (tmp_path / "folder").mkdir()  # an existing folder takes <model>.onnx
    result = CliRunner().invoke(app, ["export", "--out", str(tmp_path / "folder")])
    assert result.exit_code == 0, result.output
    written = tmp_path / "folder" / "sparsett-tiny.onnx"
    assert written.read_bytes() == (tmp_path / "default.onnx").read_bytes()
    result = CliRunner().invoke(app, ["export", "--out", f"{tmp_path / 'onnx_out'}/"])
    assert result.exit_code == 2  # a folder that is not there: not a file named onnx_out
    assert "give a file name ending in .onnx, or a folder that exists" in " ".join(
        result.output.split()
    )
    assert not (tmp_path / "onnx_out").exists()


def test_export_leaves_the_model_in_eval_mode(tmp_path: Path) -> None:
    """The exporter restores its wrapper's mode after tracing: a model left in training mode
    would run dropout in every template computed after an export."""
    from sparsett_bench.model.config import build_model
    from sparsett_bench.model.export import export_search_branch

    model = build_model("sparsett-tiny").eval()
    export_search_branch(model, tmp_path / "tiny.onnx")
    assert not [name for name, module in model.named_modules() if module.training]


def test_onnx_predictor_matches_the_official_forward(official_checkpoint, golden) -> None:
    """`run --runtime onnxruntime`: template in PyTorch, search branch in onnxruntime, on the
    golden inputs with the official-format checkpoint, within the golden README's model
    tolerances (fused score 5e-5, boxes 2e-3 px; measured here: 2.7e-6 and 1.8e-4)."""
    import torch

    from sparsett_bench.model.onnx_predictor import OnnxPredictor
    from sparsett_bench.model.sparsett import SparseTT

    net = SparseTT().eval()
    net.load_official(official_checkpoint)
    predictor = OnnxPredictor(net, threads=2)
    predictor.set_template(torch.from_numpy(golden["z_input"]))
    out = predictor.search(torch.from_numpy(golden["x_input"]))
    score = np.abs(out["score"].numpy() - golden["x_score_fused"]).max()
    boxes = np.abs(out["bbox_conv"].numpy() - golden["x_bbox_track_xyxy"]).max()
    assert score <= 5e-5 and boxes <= 2e-3, (score, boxes)


def test_a_model_that_fails_the_check_takes_no_name(tmp_path: Path, monkeypatch) -> None:
    from typer.testing import CliRunner

    from sparsett_bench.cli import app
    from sparsett_bench.model import export

    out = tmp_path / "tiny.onnx"
    out.write_bytes(b"an earlier, checked export")
    monkeypatch.setattr(export, "check_onnx", lambda net, path: 3.4e-2)
    result = CliRunner().invoke(app, ["export", "--out", str(out)])
    assert result.exit_code == 2
    assert "onnxruntime differs from PyTorch by 3.40e-02 (more than 1e-4); nothing written" in (
        " ".join(result.output.split())
    )
    assert out.read_bytes() == b"an earlier, checked export"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.onnx"]
