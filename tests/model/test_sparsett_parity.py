"""The whole SparseTT, loaded from an official-format checkpoint, against the official goldens
(tolerances from ../shared/golden/sparsett_official/README.md §4)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import on_reference_kernels

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def model(official_checkpoint):
    from sparsett_bench.model.sparsett import SparseTT

    net = SparseTT(dropout=0.0).eval()
    net.load_official(official_checkpoint)
    return net


def assert_close(ours, reference, atol: float) -> None:
    np.testing.assert_allclose(
        ours.detach().numpy().reshape(reference.shape), reference, atol=atol, rtol=1e-4
    )


def test_backbone_features(model, golden) -> None:
    with torch.inference_mode():
        for side in ("z", "x"):
            assert_close(
                model.backbone(torch.from_numpy(golden[f"{side}_input"])),
                golden[f"{side}_backbone"],
                1e-4,
            )


def test_from_images_to_score_and_boxes(model, golden) -> None:
    with torch.inference_mode():
        memory = model.template(torch.from_numpy(golden["z_input"]))
        out = model.track(torch.from_numpy(golden["x_input"]), memory)
    assert_close(memory, golden["z_enc_memory"], 1e-4)
    assert_close(out["dec_out"], golden["x_dec_out"], 1e-4)
    assert_close(out["cls_fc"], golden["x_cls_fc_logits"], 1e-4)
    assert_close(out["cls_conv"], golden["x_cls_conv_logits"], 1e-4)
    assert_close(out["score"], golden["x_score_fused"], 5e-5)
    assert_close(out["bbox_conv"], golden["x_bbox_track_xyxy"], 2e-3)


def test_one_thread_is_bit_identical_to_the_official_forward(request) -> None:
    """The goldens ran with one thread; with one thread (and their CPU kernels) every float32
    sum runs in the same order as the official code, so the features, memory, score and boxes
    are equal."""
    golden = request.getfixturevalue("golden")
    if not on_reference_kernels(request):
        return
    model = request.getfixturevalue("model")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.inference_mode():
            features = model.backbone(torch.from_numpy(golden["x_input"]))
            memory = model.template(torch.from_numpy(golden["z_input"]))
            out = model.track(torch.from_numpy(golden["x_input"]), memory)
    finally:
        torch.set_num_threads(threads)
    for ours, name in (
        (features, "x_backbone"),
        (memory, "z_enc_memory"),
        (out["dec_out"], "x_dec_out"),
        (out["score"], "x_score_fused"),
        (out["bbox_conv"], "x_bbox_track_xyxy"),
    ):
        np.testing.assert_array_equal(ours.numpy().reshape(golden[name].shape), golden[name])


def test_used_parameters_equal_the_official_count() -> None:
    from sparsett_bench.model.sparsett import SparseTT

    # the official state dict holds 46,329,746; stage 4 and its merging never affect the output
    assert sum(p.numel() for p in SparseTT().parameters()) == 30_963_170


def test_a_mismatched_checkpoint_lists_the_keys(official_checkpoint, tmp_path) -> None:
    from sparsett_bench.errors import InputFileError
    from sparsett_bench.model.sparsett import SparseTT

    state = torch.load(official_checkpoint, weights_only=True)["model_state_dict"]
    del state["head.bi_conv"]
    state["head.extra"] = torch.zeros(1)
    state["feat_adjuster_x.conv.bias"] = torch.zeros(3)
    broken = tmp_path / "broken.pth"
    torch.save({"model_state_dict": state}, broken)
    with pytest.raises(InputFileError) as error:
        SparseTT().load_official(broken)
    message = str(error.value)
    assert "missing (1): neck_head.head.bi_conv" in message
    assert "unexpected (1): neck_head.head.extra" in message
    assert "neck_head.feat_adjuster_x.conv.bias: (3,) != (256,)" in message
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(InputFileError, match=r"junk\.pth: not a PyTorch checkpoint"):
        SparseTT().load_official(tmp_path / "junk.pth")


def test_converted_once_then_saved_in_the_project_format(model, golden, tmp_path) -> None:
    from sparsett_bench.errors import InputFileError
    from sparsett_bench.model.sparsett import SparseTT

    path = tmp_path / "sparsett-swin-t.pth"
    model.save(path, "sparsett-swin-t")
    again = SparseTT(dropout=0.0).eval()
    assert again.load(path) == "sparsett-swin-t"
    with torch.inference_mode():
        memory = again.template(torch.from_numpy(golden["z_input"]))
        out = again.track(torch.from_numpy(golden["x_input"]), memory)
    assert_close(out["score"], golden["x_score_fused"], 5e-5)
    torch.save({"model_state_dict": {}}, tmp_path / "official.pth")
    with pytest.raises(InputFileError, match="not a sparsett-bench/1 checkpoint"):
        again.load(tmp_path / "official.pth")


def test_cached_cross_attention_keys_and_values(model, golden) -> None:
    """The tracker's per-sequence cache gives the same outputs as passing the memory."""
    with torch.inference_mode():
        memory = model.template(torch.from_numpy(golden["z_input"]))
        kv = model.template_cache(memory)
        x = torch.from_numpy(golden["x_input"])
        cached, direct = model.track(x, kv=kv), model.track(x, memory)
    assert len(kv) == 2 and kv[0][0].shape == (8, 64, 32)  # (B * heads, template tokens, d)
    assert torch.equal(cached["score"], direct["score"])
    assert_close(cached["score"], golden["x_score_fused"], 5e-5)
