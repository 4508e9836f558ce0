"""Models are built by name from models/*.toml."""

from __future__ import annotations

from pathlib import Path

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


def test_another_timm_backbone_by_name_in_a_config(tmp_path, monkeypatch) -> None:
    """A config naming a timm CNN (ResNet-18 cut at stride 16, 256 channels) builds a SparseTT
    that tracks with the same 8x8 template and 19x19 search maps."""
    swin = (Path(__file__).resolve().parents[2] / "models" / "sparsett-tiny.toml").read_text()
    config = swin.split("[backbone]")[0] + '[backbone]\nname = "resnet18"\nstage = 3\n\n'
    config += "[neck]" + swin.split("[neck]", 1)[1]
    (tmp_path / "sparsett-r18.toml").write_text(config)
    monkeypatch.setenv("SPARSETT_MODELS_DIR", str(tmp_path))
    from sparsett_bench.model.config import build_model

    model = build_model("sparsett-r18").eval()
    assert model.backbone.channels == 256
    with torch.inference_mode():
        memory = model.template(torch.zeros(1, 3, 127, 127))
        out = model.track(torch.zeros(1, 3, 289, 289), memory)
    assert memory.shape == (64, 1, 64) and out["score"].shape == (1, 361, 1)
    from sparsett_bench.errors import SparsettError

    with pytest.raises(SparsettError, match="loads Swin weights"):
        model.load_imagenet_backbone(tmp_path / "none.pth")


@pytest.mark.parametrize(
    ("options", "message"),
    [({}, "give the feature level"), ({"stage": 4}, "stride 32")],
)
def test_a_timm_backbone_at_the_wrong_level_is_a_clear_error(options, message) -> None:
    from sparsett_bench.errors import SparsettError
    from sparsett_bench.model.backbone import build_backbone

    with pytest.raises(SparsettError, match=message):
        build_backbone("resnet18", **options)


def test_unknown_model_is_a_clear_error() -> None:
    from sparsett_bench.errors import SparsettError
    from sparsett_bench.model.config import load_config

    with pytest.raises(SparsettError, match=r"unknown model 'nope'; available: .*sparsett-tiny"):
        load_config("nope")
    with pytest.raises(SparsettError, match=r"available: sparsett-swin-t, sparsett-tiny$"):
        load_config("nope")  # the training recipes beside the models are not listed
    with pytest.raises(SparsettError, match=r"is a training recipe \(train --recipe got10k\)"):
        load_config("train-got10k")


@pytest.mark.parametrize("layout", ["timm", "microsoft"])
def test_imagenet_swin_weights_load_into_the_backbone(tmp_path, layout: str) -> None:
    """A full Swin's weights, saved as timm or as Microsoft's release (PatchMerging at the end
    of the previous stage, ``head.weight``), end up in the cut backbone (merging weights in
    its unfold channel order), which then computes timm's own stage-3 features."""
    import re

    import timm

    from sparsett_bench.model.config import build_model
    from sparsett_bench.model.convert import unfold_order

    torch.manual_seed(0)
    full = timm.create_model(
        "swin_tiny_patch4_window7_224",
        pretrained=False,
        embed_dim=32,
        depths=(1, 1, 1, 1),
        num_heads=(1, 2, 4, 8),
    ).eval()
    state = full.state_dict()
    if layout == "microsoft":
        state = {
            re.sub(
                r"layers\.(\d+)\.downsample", lambda m: f"layers.{int(m[1]) - 1}.downsample", k
            ).replace("head.fc.", "head."): v
            for k, v in state.items()
        }
    torch.save({"model": state}, tmp_path / "swin.pth")
    model = build_model("sparsett-tiny").eval()
    model.load_imagenet_backbone(tmp_path / "swin.pth")
    reference = full.state_dict()
    for key, value in model.backbone.net.state_dict().items():
        if not key.endswith("relative_position_index"):
            expected = reference[key.replace("layers_", "layers.", 1)]
            if ".downsample." in key:
                expected = expected[..., unfold_order(expected.shape[-1] // 4)]
            assert torch.equal(value, expected), key
    image = torch.randn(1, 3, 224, 224)  # 56/28/14 tokens: no window padding, timm == mmdet
    with torch.no_grad():
        ours = model.backbone.net(image)[-1]
        theirs = full.layers[2](full.layers[1](full.layers[0](full.patch_embed(image))))
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-5)
