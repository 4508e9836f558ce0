"""Parity of the adjusters, target focus network and double head with the official SparseTT.

The official-format checkpoint is regenerated, as ../shared/golden/sparsett_official/README.md
prescribes, by its own deterministic script; the golden backbone features go in and every
saved tensor after them must come out within the README's tolerances (its §4 table).
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def model(official_checkpoint):
    from sparsett_bench.model.neck_head import NeckHead

    state = torch.load(official_checkpoint, weights_only=True)["model_state_dict"]
    net = NeckHead(dropout=0.0).eval()
    missing, unexpected = net.load_state_dict(
        {k: v for k, v in state.items() if not k.startswith("basemodel.")}, strict=False
    )
    assert missing == [] and unexpected == []
    return net


def assert_close(ours, reference, atol: float) -> None:
    ours = ours.detach().numpy().reshape(reference.shape)
    np.testing.assert_allclose(ours, reference, atol=atol, rtol=1e-4)


def test_template_branch_memory(model, golden) -> None:
    with torch.inference_mode():
        memory = model.template(torch.from_numpy(golden["z_backbone"]))
        table = model.neck.encoder.spatial_position_encoding(torch.zeros(1, 256, 8, 8))
    np.testing.assert_array_equal(table.numpy(), golden["z_pos_table"])
    assert_close(memory, golden["z_enc_memory"], 1e-4)


def test_search_branch_outputs(model, golden) -> None:
    with torch.inference_mode():
        memory = model.template(torch.from_numpy(golden["z_backbone"]))
        out = model.track(torch.from_numpy(golden["x_backbone"]), memory)
    assert_close(out["x_adjusted"], golden["x_adjusted"], 1e-4)
    assert_close(out["dec_out"], golden["x_dec_out"], 1e-4)
    for ours, theirs in (
        ("fc_cls_map", "x_fc_branch_cls_map"),
        ("fc_reg_map", "x_fc_branch_reg_map"),
        ("conv_cls_map", "x_conv_branch_cls_map"),
        ("conv_reg_map", "x_conv_branch_reg_map"),
        ("cls_fc", "x_cls_fc_logits"),
        ("cls_conv", "x_cls_conv_logits"),
    ):
        assert_close(out[ours], golden[theirs], 1e-4)
    assert_close(out["score"], golden["x_score_fused"], 5e-5)
    for ours, theirs in (
        ("fc_ltrb", "x_fc_ltrb"),
        ("conv_ltrb", "x_conv_ltrb"),
        ("bbox_fc", "x_bbox_fc_xyxy"),
        ("bbox_conv", "x_bbox_conv_xyxy"),
    ):
        assert_close(out[ours], golden[theirs], 2e-3)
    assert int(out["score"].argmax()) == 245  # the README's clear maximum


def test_sparse_attention_keeps_the_official_keys(model, golden) -> None:
    """Layer 0 of the decoder: same weights, and the same 32 keys per head and query."""
    tokens = torch.from_numpy(golden["x_pos_added"]).flatten(2).permute(2, 0, 1)
    attention = model.neck.decoder.decoder_layers[0].slf_attn
    with torch.inference_mode():
        _, weights = attention(tokens, tokens, tokens, need_weights=True)
    np.testing.assert_allclose(weights.numpy(), golden["x_dec_layer0_selfattn_w"], atol=1e-6)
    nonzero = (weights[0] > 0).sum(dim=-1)
    assert int(nonzero.max()) <= 8 * 32  # at most K keys per head


def test_sparse_attention_takes_the_float32_softmax_of_cuda_autocast(
    model, golden, monkeypatch
) -> None:
    """CUDA autocast runs softmax in float32 on bf16 logits, where CPU autocast keeps bf16:
    emulated here, the sparse weights take its dtype (scattering them into bf16 zeros raised a
    dtype error on every bf16 or fp16 CUDA path) and still hold the official ones."""
    softmax = torch.Tensor.softmax
    monkeypatch.setattr(torch.Tensor, "softmax", lambda self, dim: softmax(self.float(), dim))
    tokens = torch.from_numpy(golden["x_pos_added"]).flatten(2).permute(2, 0, 1)
    attention = model.neck.decoder.decoder_layers[0].slf_attn
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
        out, weights = attention(tokens, tokens, tokens, need_weights=True)
    assert weights.dtype == torch.float32 and out.dtype == torch.bfloat16
    np.testing.assert_allclose(weights.numpy(), golden["x_dec_layer0_selfattn_w"], atol=1e-2)


def test_parameter_count_equals_the_official_non_backbone_part() -> None:
    from sparsett_bench.model.neck_head import NeckHead

    net = NeckHead()
    # adjusters 198,144 + encoder 2,632,192 + decoder 3,162,368 + head 12,818,456
    assert sum(p.numel() for p in net.parameters()) == 18_811_160
