"""The exported search branch runs in onnxruntime with PyTorch's outputs (within 1e-4)."""

from __future__ import annotations

from pathlib import Path

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
