"""Checkpoints by content (project or official format) and by downloaded name."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from sparsett_bench.errors import InputFileError, SparsettError
from sparsett_bench.model.config import build_model
from sparsett_bench.model.weights import checkpoint_kind, load_weights, resolve_checkpoint


def test_both_formats_are_told_apart_by_content(official_checkpoint, tmp_path) -> None:
    project = tmp_path / "tiny.bin"  # the extension says nothing
    build_model("sparsett-tiny").save(project, "sparsett-tiny")
    assert checkpoint_kind(project) == "project"
    assert checkpoint_kind(official_checkpoint) == "official"
    torch.manual_seed(1)
    other = build_model("sparsett-tiny")
    assert load_weights(other, project) == "project"
    saved = torch.load(project, weights_only=True)["state_dict"]
    assert all(torch.equal(v, saved[k]) for k, v in other.state_dict().items())


def test_anything_else_names_the_file(tmp_path) -> None:
    weights = tmp_path / "weights.pth"
    torch.save({"conv.weight": torch.zeros(1)}, weights)
    with pytest.raises(InputFileError, match=r"weights\.pth.*neither"):
        checkpoint_kind(weights)
    (tmp_path / "broken.pth").write_bytes(b"not a zip")
    with pytest.raises(InputFileError, match=r"broken\.pth: not a PyTorch checkpoint \(neither"):
        checkpoint_kind(tmp_path / "broken.pth")
    (tmp_path / "empty.pth").write_bytes(b"")
    with pytest.raises(InputFileError, match=r"empty\.pth: not a PyTorch checkpoint"):
        checkpoint_kind(tmp_path / "empty.pth")
    (tmp_path / "cut.pth").write_bytes(weights.read_bytes()[:200])  # an interrupted copy
    with pytest.raises(InputFileError, match=r"cut\.pth: a damaged PyTorch checkpoint"):
        checkpoint_kind(tmp_path / "cut.pth")
    with pytest.raises(InputFileError, match=r"nowhere\.pth: cannot be read: No such file"):
        checkpoint_kind(tmp_path / "nowhere.pth")
    torch.save({"format": "sparsett-bench-train/1", "model": {}}, tmp_path / "checkpoint.pth")
    with pytest.raises(InputFileError, match="a training checkpoint, for train --resume; give"):
        checkpoint_kind(tmp_path / "checkpoint.pth")


def test_downloaded_names_resolve_under_models_official(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SparsettError, match="download --model sparsett-fulldata"):
        resolve_checkpoint("sparsett-fulldata")
    folder = Path("models") / "official"
    folder.mkdir(parents=True)
    (folder / "sparsett_fulldata_official.pkl").write_bytes(b"x")
    assert resolve_checkpoint("sparsett-fulldata") == (
        tmp_path / folder / "sparsett_fulldata_official.pkl"
    )
    with pytest.raises(InputFileError, match=r"no-such\.pth.*checkpoint not found"):
        resolve_checkpoint("no-such.pth")
