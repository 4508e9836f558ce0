"""``Predictor(fused_kernels=True)``: fused Swin window attention and oneDNN products with
weights laid out once, against the goldens of the official implementation and the plain path;
a batch of crops against each crop alone (the kept shift masks repeat per image); refusals; on
CUDA (``-m gpu``) the fused window attention against the goldens, eager and graphed."""

from __future__ import annotations

import pytest
import torch

from sparsett_bench.errors import SparsettError
from sparsett_bench.model.fold import fold_batchnorm
from sparsett_bench.model.inference import Predictor
from sparsett_bench.model.onednn import PackedConv2d, PackedLinear, onednn_available, use_onednn
from tests.model.test_inference import (
    BOX_ATOL,
    HALF_BOX_ATOL,
    HALF_SCORE_ATOL,
    SCORE_ATOL,
    assert_outputs_close,
    eager,
    golden_outputs,
    inputs,
    needs_cuda,
    tiny,
)

# sparsett-swin-t's products outside nn.MultiheadAttention: 10 Swin blocks x (qkv, proj, fc1,
# fc2) and 2 patch-merging reductions; 2 adjusters; decoder 2 x (out_proj, w_1, w_2) and encoder
# 2 x (w_1, w_2); the head's fc branch 2 + 2 outputs, residual block 3, 7 bottlenecks x 3, 2
# outputs
SWIN_T_PACKED = 10 * 4 + 2 + 2 + 2 * 3 + 2 * 2 + 2 + 2 + 3 + 7 * 3 + 2
SWIN_T_BLOCKS = 2 + 2 + 6
needs_onednn = pytest.mark.skipif(not onednn_available(), reason="PyTorch built without oneDNN")


def packed(model: torch.nn.Module) -> int:
    return sum(isinstance(m, PackedLinear | PackedConv2d) for m in model.modules())


@needs_onednn
def test_fused_kernels_match_the_goldens_and_the_plain_model(swin_t, golden) -> None:
    z, x = torch.from_numpy(golden["z_input"]), torch.from_numpy(golden["x_input"])
    predictor = Predictor(swin_t, fused_kernels=True)
    assert packed(predictor.model) == SWIN_T_PACKED and packed(swin_t) == 0
    predictor.set_template(z)
    fused = predictor.search(x)
    assert_outputs_close(fused, golden_outputs(golden), SCORE_ATOL, BOX_ATOL)
    assert_outputs_close(fused, eager(swin_t, z, x), SCORE_ATOL, BOX_ATOL)
    biases = [b for m in predictor.model.modules() for b in getattr(m, "fused_bias", {}).values()]
    assert len(biases) == 2 * SWIN_T_BLOCKS  # one grid size per block for each branch
    # stage 1's shifted block on the 289 crop: 73x73 tokens padded to 77x77, 11x11 windows
    assert (121, 3, 49, 49) in [tuple(b.shape) for b in biases]


def test_a_batch_of_crops_matches_each_crop_alone(swin_t, golden) -> None:
    """Two different crops in one batch: every shifted block repeats its per-window masks for
    the second image, so the backbone's features of each must equal those of the crop alone.
    Downstream, the flipped crop has a near tie at some row's K-th logit: the batch's products
    round differently on some CPUs (an AVX-512 EPYC) and flip it, which moved the score by
    1e-3 and the crop's boxes by 0.1 px, within the goldens' bounds for a top-K flip (score
    5e-3, boxes 0.3 px); the unflipped crop stays within 3e-6."""
    z, x = torch.from_numpy(golden["z_input"]), torch.from_numpy(golden["x_input"])
    crops = torch.cat([x, x.flip(-1)])
    predictor = Predictor(swin_t, fold_bn=False, fused_kernels=True)  # no oneDNN products
    assert packed(predictor.model) == 0
    with torch.inference_mode():
        features = predictor.model.backbone(crops)
        for index in range(2):
            alone = predictor.model.backbone(crops[index : index + 1])
            torch.testing.assert_close(features[index : index + 1], alone, atol=1e-5, rtol=0)
    predictor.set_template(torch.cat([z, z]))
    both = predictor.search(crops)
    predictor.set_template(z)
    for index, (score_atol, box_atol) in enumerate(((SCORE_ATOL, BOX_ATOL), (5e-3, 0.3))):
        alone = predictor.search(crops[index : index + 1])
        assert_outputs_close({k: v[index : index + 1] for k, v in both.items()}, alone,
                             score_atol, box_atol)  # fmt: skip
    flipped_alone = predictor.search(crops[1:])
    assert not torch.allclose(flipped_alone["score"], both["score"][:1], atol=1e-2)


def test_fused_kernels_on_the_tiny_model_in_fp32_and_bf16() -> None:
    model = tiny()
    z, x = inputs()
    reference = eager(model, z, x)
    for precision, score_atol, box_atol in (
        ("fp32", SCORE_ATOL, BOX_ATOL),
        ("bf16", HALF_SCORE_ATOL, HALF_BOX_ATOL),
    ):
        predictor = Predictor(model, precision=precision, fused_kernels=True)
        # oneDNN's packed products are float32 only: bf16 keeps autocast's products
        expected = 0 if precision == "bf16" or not onednn_available() else packed_tiny(model)
        assert packed(predictor.model) == expected
        predictor.set_template(z)
        assert_outputs_close(predictor.search(x), reference, score_atol, box_atol)


def packed_tiny(model: torch.nn.Module) -> int:
    """Every nn.Linear and stride-1 Conv2d of the model outside nn.MultiheadAttention."""
    inside_mha = {
        id(m)
        for mha in model.modules()
        if isinstance(mha, torch.nn.MultiheadAttention)
        for m in mha.modules()
    }
    return sum(
        isinstance(m, torch.nn.Linear) or (isinstance(m, torch.nn.Conv2d) and m.stride == (1, 1))
        for m in model.modules()
        if id(m) not in inside_mha
    )


@needs_onednn
def test_onednn_needs_batchnorm_folded() -> None:
    with pytest.raises(SparsettError, match="BatchNorm folded"):
        use_onednn(tiny())
    assert use_onednn(fold_batchnorm(tiny())) == packed_tiny(tiny())


@needs_cuda
@pytest.mark.parametrize("cuda_graphs", [False, True])
def test_fused_kernels_on_cuda_match_the_goldens(swin_t, golden, monkeypatch, cuda_graphs) -> None:
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", False)
    monkeypatch.setattr(torch.backends.cuda.matmul, "allow_tf32", False)
    z, x = torch.from_numpy(golden["z_input"]), torch.from_numpy(golden["x_input"])
    predictor = Predictor(swin_t, device="cuda", fused_kernels=True, cuda_graphs=cuda_graphs)
    assert packed(predictor.model) == 0  # oneDNN is the CPU's
    predictor.set_template(z)
    for _ in range(2):  # with graphs: the capturing call, then a pure replay
        out = predictor.search(x)
        assert out["score"].device.type == "cuda"
        assert_outputs_close(out, golden_outputs(golden), SCORE_ATOL, BOX_ATOL)
