"""BatchNorm folding and the per-frame `Predictor`: folded outputs against the unfolded model
and the official goldens, bf16 against fp32, and on CUDA (``-m gpu``) fp32 against the goldens,
CUDA graph replay against eager and a new template without re-capture."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sparsett_bench.errors import SparsettError
from sparsett_bench.model.config import build_model
from sparsett_bench.model.fold import fold_batchnorm
from sparsett_bench.model.inference import Predictor, emulated_bf16_note
from tests.conftest import needs_gpus

SCORE_ATOL, BOX_ATOL = 5e-5, 2e-3  # the goldens' tolerances (fused score, boxes in pixels)
# bf16/fp16 against fp32: bf16 keeps 8 significant bits (relative step 2**-8 = 3.9e-3). On the
# seeded tiny model, over five seeds, the fused score moved by at most 4.8e-3 and the boxes by at
# most 0.55 px (coordinates up to ~320 px, where one bf16 step is 1.25 px); the bounds leave about
# 4x margin. (The official-format swin-t checkpoint moves further: 2.8e-2 and 2.0 px.)
HALF_SCORE_ATOL, HALF_BOX_ATOL = 2e-2, 2.0


needs_cuda = needs_gpus(1)


def tiny() -> torch.nn.Module:
    """The seeded sparsett-tiny in eval mode, BatchNorm statistics and affine parameters set
    away from their init (mean 0, var 1, gamma 1, beta 0), where folding would be trivial."""
    torch.manual_seed(0)
    net = build_model("sparsett-tiny").eval()
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                n = module.num_features
                module.running_mean.copy_(0.5 * torch.randn(n, generator=generator))
                module.running_var.copy_(0.5 + torch.rand(n, generator=generator))
                module.weight.copy_(0.5 + torch.rand(n, generator=generator))
                module.bias.copy_(0.2 * torch.randn(n, generator=generator))
    return net


def inputs(templates: int = 1) -> list[torch.Tensor]:
    """``templates`` template crops then one search crop, batch 1, seeded."""
    generator = torch.Generator().manual_seed(2)
    sides = [127] * templates + [289]
    return [torch.randn(1, 3, side, side, generator=generator) for side in sides]


def batchnorms(model: torch.nn.Module) -> int:
    return sum(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())


def eager(model: torch.nn.Module, z: torch.Tensor, x: torch.Tensor) -> dict[str, torch.Tensor]:
    with torch.inference_mode():
        return model.track(x, kv=model.template_cache(model.template(z)))


def golden_outputs(golden: dict) -> dict[str, torch.Tensor]:
    """The goldens' fused score and tracking boxes, shaped as `Predictor.search` returns them."""
    return {
        "score": torch.from_numpy(golden["x_score_fused"]).reshape(1, 361, 1),
        "bbox_conv": torch.from_numpy(golden["x_bbox_track_xyxy"]).reshape(1, 361, 4),
    }


def assert_outputs_close(ours: dict, reference: dict, score_atol: float, box_atol: float) -> None:
    for name, atol in (("score", score_atol), ("bbox_conv", box_atol)):
        np.testing.assert_allclose(
            ours[name].float().cpu().numpy(), reference[name].numpy(), atol=atol, rtol=0
        )


def test_folded_swin_t_matches_the_unfolded_model_and_the_goldens(swin_t, golden) -> None:
    z, x = torch.from_numpy(golden["z_input"]), torch.from_numpy(golden["x_input"])
    keys = list(swin_t.state_dict())
    predictor = Predictor(swin_t)  # fp32, CPU, BatchNorm folded
    predictor.set_template(z)
    folded = predictor.search(x)
    assert batchnorms(predictor.model) == 0
    assert batchnorms(swin_t) == 30 and list(swin_t.state_dict()) == keys  # caller's untouched
    assert folded["score"].shape == (1, 361, 1) and folded["bbox_conv"].shape == (1, 361, 4)
    assert_outputs_close(folded, eager(swin_t, z, x), SCORE_ATOL, BOX_ATOL)
    assert_outputs_close(folded, golden_outputs(golden), SCORE_ATOL, BOX_ATOL)


def test_folding_works_on_a_copy_or_in_place() -> None:
    model = tiny()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    z, x = inputs()
    folded = fold_batchnorm(model)
    assert batchnorms(folded) == 0 and batchnorms(model) == 12
    assert model.state_dict().keys() == state.keys()
    assert all(torch.equal(v, state[k]) for k, v in model.state_dict().items())
    # float64 folding leaves float32 rounding only (measured 1.8e-7 score, 3e-5 px)
    assert_outputs_close(eager(folded, z, x), eager(model, z, x), 1e-6, 5e-4)
    assert fold_batchnorm(model, inplace=True) is model and batchnorms(model) == 0


def test_folding_refuses_a_model_in_training_mode() -> None:
    torch.manual_seed(0)
    model = build_model("sparsett-tiny")
    with pytest.raises(SparsettError, match="eval-mode model"):
        fold_batchnorm(model)
    model.eval().neck_head.head.train()
    with pytest.raises(SparsettError, match=r"training mode: neck_head\.head"):
        fold_batchnorm(model)


def test_bf16_on_the_cpu_stays_close_to_fp32() -> None:
    model = tiny()
    z, x = inputs()
    out = {}
    for precision in ("fp32", "bf16"):
        predictor = Predictor(model, precision=precision)
        predictor.set_template(z)
        out[precision] = predictor.search(x)
    assert all(t.dtype == torch.float32 for t in out["bf16"].values())
    assert_outputs_close(out["bf16"], out["fp32"], HALF_SCORE_ATOL, HALF_BOX_ATOL)
    assert not torch.equal(out["bf16"]["score"], out["fp32"]["score"])  # autocast did run


def test_bf16_is_flagged_as_emulated_only_where_oneDNN_has_no_bf16(monkeypatch) -> None:
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: False)
    assert "--precision bf16 is emulated" in emulated_bf16_note()
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: True)
    assert emulated_bf16_note() is None


def test_predictor_errors() -> None:
    model = tiny()
    with pytest.raises(SparsettError, match="fp16 needs a CUDA device"):
        Predictor(model, precision="fp16")
    with pytest.raises(SparsettError, match="unknown precision"):
        Predictor(model, precision="fp64")
    with pytest.raises(SparsettError, match="unknown device"):
        Predictor(model, device="gpu0")
    with pytest.raises(SparsettError, match="before set_template"):
        Predictor(model).search(inputs()[-1])
    if not torch.cuda.is_available():
        with pytest.raises(SparsettError, match="CUDA is not available"):
            Predictor(model, device="cuda")
        with pytest.raises(SparsettError, match="CUDA graphs need a CUDA device"):
            Predictor(model, cuda_graphs=True)


@pytest.fixture
def no_tf32(monkeypatch):
    """Convolutions and matmuls in true float32 (PyTorch lets cuDNN use TF32 by default)."""
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", False)
    monkeypatch.setattr(torch.backends.cuda.matmul, "allow_tf32", False)


@needs_cuda
def test_fp32_on_cuda_matches_the_goldens(swin_t, golden, no_tf32) -> None:
    z, x = torch.from_numpy(golden["z_input"]), torch.from_numpy(golden["x_input"])
    predictor = Predictor(swin_t, device="cuda")
    predictor.set_template(z)
    out = predictor.search(x)
    assert out["score"].device.type == "cuda" and out["score"].dtype == torch.float32
    assert_outputs_close(out, eager(swin_t, z, x), SCORE_ATOL, BOX_ATOL)


@needs_cuda
@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_half_precisions_on_cuda_stay_close_to_fp32(precision, no_tf32) -> None:
    model = tiny()
    z, x = inputs()
    predictor = Predictor(model, device="cuda", precision=precision)
    predictor.set_template(z)
    assert_outputs_close(predictor.search(x), eager(model, z, x), HALF_SCORE_ATOL, HALF_BOX_ATOL)


@needs_cuda
@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_cuda_graph_replay_equals_eager_and_takes_a_new_template(precision, no_tf32) -> None:
    # replay runs the kernels eager runs; bf16 gets room for another cuBLAS algorithm choice
    # under capture, still far below what a template change makes (6.6e-3 score, 0.7 px)
    score_atol, box_atol = (SCORE_ATOL, BOX_ATOL) if precision == "fp32" else (1e-3, 0.1)
    model = tiny()
    z1, z2, x = inputs(templates=2)
    graphed = Predictor(model, device="cuda", precision=precision, cuda_graphs=True)
    plain = Predictor(model, device="cuda", precision=precision)
    for z in (z1, z2):
        graphed.set_template(z)
        plain.set_template(z)
        for _ in range(2):  # the capturing call, then a pure replay
            replayed = graphed.search(x)
            assert_outputs_close(replayed, plain.search(x), score_atol, box_atol)
        assert graphed.captures == 1
    graphed.set_template(z1)
    assert (graphed.search(x)["bbox_conv"] - replayed["bbox_conv"]).abs().max() > 0.3
    pair_z, pair_x = torch.cat([z1, z2]), torch.cat([x, x])  # another shape: a new capture
    graphed.set_template(pair_z)
    plain.set_template(pair_z)
    assert_outputs_close(graphed.search(pair_x), plain.search(pair_x), score_atol, box_atol)
    assert graphed.captures == 2


@needs_gpus(2)
def test_graphs_on_two_gpus_of_one_process_replay_each_on_its_own(no_tf32) -> None:
    model = tiny()
    z, x = inputs()
    for device in ("cuda:0", "cuda:1"):  # the second captures after the first, on its own GPU
        graphed = Predictor(model, device=device, cuda_graphs=True)
        graphed.set_template(z)
        out = graphed.search(x)
        assert out["score"].device == torch.device(device)
        assert_outputs_close(out, eager(model, z, x), SCORE_ATOL, BOX_ATOL)
