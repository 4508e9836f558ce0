"""The SparseTT tracker on the real Couple sequence against the official tracker's goldens.

The goldens come from the unmodified official tracker with a deterministic generated checkpoint
(../shared/golden/sparsett_official/README.md §3-§4); the tolerances are the README's, which
allow for top-K near-ties that flip under float32 noise in the official code itself.
"""

from __future__ import annotations

import hashlib
import json

import cv2
import numpy as np
import pytest
import torch

from sparsett_bench.model.config import build_model
from sparsett_bench.tracking.postprocess import TrackerParams
from sparsett_bench.tracking.sparsett_tracker import SparseTTTracker
from tests.conftest import GOLDEN, on_reference_kernels, shared_path

FRAMES = 30
SCORE_ATOL, FLIPPED_SCORE_ATOL, FLIPPED_CELLS = 5e-3, 2e-2, 3  # see _match_from_recorded_priors


@pytest.fixture(scope="module")
def frames() -> list[np.ndarray]:
    folder = shared_path("sequences", "otb", "Couple", "img")
    return [cv2.imread(str(folder / f"{i:04d}.jpg")) for i in range(1, FRAMES + 1)]


@pytest.fixture(scope="module")
def model(official_checkpoint) -> torch.nn.Module:
    torch.set_num_threads(2)
    net = build_model("sparsett-swin-t")
    net.load_official(official_checkpoint)
    return net.eval()


def _golden(tag: str) -> tuple[dict, dict]:
    path = GOLDEN / f"tracker_couple30_{tag}.npz"
    if not path.is_file():
        pytest.skip(f"golden reference not available: {path}")
    meta = json.loads((GOLDEN / f"tracker_couple30_{tag}.json").read_text())
    return dict(np.load(path)), meta


def _tracker(model, meta: dict, **options) -> SparseTTTracker:
    hp = meta["hyper_params"]
    params = TrackerParams(hp["test_lr"], hp["window_influence"], hp["penalty_k"])
    return SparseTTTracker(model, params, **options)


def test_frames_decode_to_the_official_pixels(frames) -> None:
    golden, _ = _golden("got10k")
    assert [hashlib.md5(f.tobytes()).hexdigest() for f in frames] == list(golden["frame_md5"])


@pytest.mark.parametrize("tag", ["got10k", "otb2015"])
@pytest.mark.parametrize("mode", ["closed", "gtprior"])
def test_every_frame_from_the_recorded_prior(frames, model, tag: str, mode: str) -> None:
    """Teacher-forced: each update starts from the official tracker's own prior state."""
    golden, meta = _golden(tag)
    _match_from_recorded_priors(_tracker(model, meta), frames, golden, meta, mode)


@pytest.mark.parametrize(
    "options",
    [{"runtime": "onnxruntime", "threads": 2}, {"fold_bn": True, "fused_kernels": True}],
    ids=["onnxruntime", "fused-kernels"],
)
def test_fast_paths_from_the_recorded_prior(frames, model, options: dict) -> None:
    """The search branch on ONNX Runtime (``run --runtime onnxruntime``) and with fused kernels
    (``run --fold-bn --fused-kernels``) keeps the same tolerances against the official
    tracker."""
    if options.get("runtime") == "onnxruntime":
        pytest.importorskip("onnxruntime", reason="onnxruntime is not installed")
    golden, meta = _golden("got10k")
    _match_from_recorded_priors(_tracker(model, meta, **options), frames, golden, meta, "gtprior")


def _match_from_recorded_priors(tracker, frames, golden: dict, meta: dict, mode: str) -> None:
    """The golden README's teacher-forced checks (section 4). A top-K row flipped at a near tie
    moves logits by up to about 2e-2 (README): so on at most 2 frames, at most
    ``FLIPPED_CELLS`` score cells may pass 5e-3, up to 2e-2 (measured on an Intel Xeon: ONNX
    Runtime and the fused kernels both moved one cell of one frame by 5.3e-3, from gtprior)."""
    tracker.init(frames[0], np.array(meta["gt_frame1_xywh"]))
    np.testing.assert_array_equal(tracker.pos, golden[f"{mode}_state_pos_cxcy"][0])
    best_id_differs, score_flips = [], []
    for k in range(FRAMES - 1):
        if k > 0:  # frame 2 starts from the init state itself
            prior_pos = golden[f"{mode}_prior_pos_cxcy"][k]
            prior_sz = golden[f"{mode}_prior_sz_wh"][k]
            if mode == "gtprior":  # the official update(state=xywh) stores float32
                prior_pos, prior_sz = prior_pos.astype(np.float32), prior_sz.astype(np.float32)
            tracker.set_state(prior_pos, prior_sz)
        box = tracker.update(frames[k + 1])
        record = tracker.last
        assert record.search_side == golden[f"{mode}_search_side"][k]
        assert hashlib.md5(record.patch.tobytes()).hexdigest() == golden[f"{mode}_x_crop_md5"][k]
        if record.step.best_id != golden[f"{mode}_best_id"][k]:
            best_id_differs.append(k)
            assert golden[f"{mode}_pscore_top2_gap"][k] < 1e-4
        score_gap = np.abs(record.score - golden[f"{mode}_score_fused"][k])
        assert score_gap.max() <= FLIPPED_SCORE_ATOL, (k, score_gap.max())
        if (score_gap > SCORE_ATOL).any():
            score_flips.append(k)
            assert (score_gap > SCORE_ATOL).sum() <= FLIPPED_CELLS, (k, score_gap.max())
        np.testing.assert_allclose(record.box_xyxy, golden[f"{mode}_box_xyxy_in_crop"][k], atol=0.3)
        np.testing.assert_allclose(box, golden[f"{mode}_pred_xywh"][k + 1], atol=0.05)
    assert len(best_id_differs) <= 2 and len(score_flips) <= 2, (best_id_differs, score_flips)


@pytest.mark.parametrize("tag", ["got10k", "otb2015"])
def test_closed_loop_is_bit_identical_with_one_thread(request, tag: str) -> None:
    """The goldens ran with one thread; so run, the whole 30-frame closed loop is identical.

    This needs every float32 sum in the official order (mmdet's patch-merging channel order,
    PyTorch's unfused attention, the goldens' CPU kernels): a single flipped top-K near-tie
    would make the chaotic random-weight trajectories diverge within a few frames (README §4)."""
    golden, meta = _golden(tag)
    if not on_reference_kernels(request):
        return
    frames, model = request.getfixturevalue("frames"), request.getfixturevalue("model")
    tracker = _tracker(model, meta)
    gt = np.array(meta["gt_frame1_xywh"])
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        tracker.init(frames[0], gt)
        boxes = [gt] + [tracker.update(frame) for frame in frames[1:]]
    finally:
        torch.set_num_threads(threads)
    np.testing.assert_array_equal(np.array(boxes), golden["closed_pred_xywh"])
