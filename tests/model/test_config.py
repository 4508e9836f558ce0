"""Models are built by name from models/*.toml."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")


def test_both_configs_build_and_run() -> None:
    from sparsett_bench.model.config import available, build_model, load_config

    assert {"sparsett-swin-t", "sparsett-tiny"} <= set(available())
    full = build_model("sparsett-swin-t")
    assert sum(p.numel() for p in full.parameters()) == 30_963_170  # the official used count
    tiny = build_model("sparsett-tiny").eval()
    assert sum(p.numel() for p in tiny.parameters()) < 1_000_000
    with torch.inference_mode():
        memory = tiny.template(torch.zeros(1, 3, 127, 127))
        out = tiny.track(torch.zeros(1, 3, 289, 289), memory)
    assert memory.shape == (64, 1, 64)  # 8 x 8 template tokens, d_model 64
    assert out["score"].shape == (1, 361, 1) and out["bbox_conv"].shape == (1, 361, 4)
    assert load_config("sparsett-swin-t")["tracker"]["otb2015"]["window_influence"] == 0.2549


def test_unknown_model_is_a_clear_error() -> None:
    from sparsett_bench.errors import SparsettError
    from sparsett_bench.model.config import load_config

    with pytest.raises(SparsettError, match=r"unknown model 'nope'; available: .*sparsett-tiny"):
        load_config("nope")
