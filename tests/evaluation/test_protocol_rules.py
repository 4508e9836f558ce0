"""Every protocol rule on hand-computed cases (the arithmetic is in the comments).

Toy sequences follow ../shared/reference/evaluation_conventions.md §6.2, whose numbers were
obtained by running the real toolkits (got10k, pysot) and ports of the others.
"""

from __future__ import annotations

import numpy as np
import pytest

from sparsett_bench import boxes as bx
from sparsett_bench.datasets.sequence import Sequence
from sparsett_bench.errors import ResultsMismatchError
from sparsett_bench.evaluation.evaluate import evaluate
from sparsett_bench.evaluation.protocols import get_protocol
from sparsett_bench.evaluation.results_io import SequenceResult, TrackerResults

BOX = [10.0, 10.0, 20.0, 20.0]


def sequence(name: str, gt, absent=None, **kwargs) -> Sequence:
    gt = np.asarray(gt, dtype=float)
    absent = np.isnan(gt).any(axis=1) if absent is None else np.asarray(absent, bool)
    return Sequence(name, gt, absent, **kwargs)


def score(
    dataset: str, toolkit: str, sequences: list[Sequence], predictions: dict, strict: bool = True
) -> dict[str, float]:
    runs = {
        name: SequenceResult(
            [
                np.asarray(p, float)
                for p in (runs if isinstance(runs, list) and np.ndim(runs[0]) == 2 else [runs])
            ],
            ["memory"],
        )
        for name, runs in predictions.items()
    }
    results = TrackerResults("t", "memory", "flat", runs)
    return evaluate(sequences, results, get_protocol(dataset, toolkit), strict=strict).scores()


def percent(scores: dict[str, float], *keys: str) -> tuple[float, ...]:
    return tuple(round(100 * scores[k], 4) for k in keys)


# --- primitives -----------------------------------------------------------------------------


def test_iou_centre_and_normalized_error_by_hand() -> None:
    # [0,0,10,10] vs [5,0,10,10]: intersection 5*10 = 50, union 200 - 50 = 150.
    assert bx.iou(np.array([[0, 0, 10, 10]]), np.array([[5, 0, 10, 10]]))[0] == pytest.approx(1 / 3)
    # centres xy + (wh - 1) / 2: (4.5, 4.5) and (9.5, 4.5) -> 5 px; normalized by gt w: 0.5.
    assert bx.centers(np.array([[0, 0, 10, 10]])).tolist() == [[4.5, 4.5]]
    assert bx.center_error(np.array([[0, 0, 10, 10]]), np.array([[5, 0, 10, 10]]))[0] == 5.0
    assert (
        bx.normalized_center_error(np.array([[0, 0, 10, 10]]), np.array([[5, 0, 10, 10]]))[0] == 0.5
    )


def test_got10k_image_bound_shifts_instead_of_cropping() -> None:
    a, b = np.array([[-5.0, -5, 20, 20]]), np.array([[10.0, 10, 20, 20]])
    # Unbounded: 5*5 / (800 - 25) = 0.0323. Bounded by (64, 48): a becomes [0, 0, 20, 20]
    # (shifted, width kept), 10*10 / (800 - 100) = 0.1429.
    assert bx.iou(a, b)[0] == pytest.approx(25 / 775)
    clipped = bx.clip_shift_to_image(a, 64, 48)
    assert clipped.tolist() == [[0, 0, 20, 20]]
    assert bx.iou(clipped, bx.clip_shift_to_image(b, 64, 48))[0] == pytest.approx(100 / 700)
    assert a.tolist() == [[-5, -5, 20, 20]]  # unlike got10k, the input is not modified


def test_trackingnet_rounds_half_to_even() -> None:
    assert bx.round_half_even(np.array([[0.5, 1.5, 2.5, -0.5]])).tolist() == [[0, 2, 2, -0]]


# --- thresholds -----------------------------------------------------------------------------


def test_ground_truth_as_result() -> None:
    seq = [sequence("a", [BOX] * 5)]
    # '>' on 21 points: IoU 1 never passes the threshold 1.0 -> 20/21.
    assert score("otb2015", "official", seq, {"a": [BOX] * 5})["auc"] == pytest.approx(20 / 21)
    # TrackingNet: '>=' -> every threshold passes, and the trapezoid area of 1 is 1.
    tn = score("trackingnet", "official", seq, {"a": [BOX] * 5})
    assert percent(tn, "auc", "precision", "norm_precision") == (100.0, 100.0, 100.0)


def test_iou_exactly_one_half_strict_and_inclusive() -> None:
    seq = [sequence("a", [[1, 1, 10, 10]] * 2)]
    pred = {"a": [[1, 1, 10, 10], [1, 1, 10, 20]]}  # frame 2: 100 / (100 + 200 - 100) = 0.5
    otb = score("otb2015", "official", seq, pred)
    # frame 1 passes 20 thresholds, frame 2 passes 0..0.45 (10) but not 0.5 with '>'.
    assert otb["auc"] == pytest.approx(30 / 42)
    assert otb["op50"] == 0.5
    tn = score("trackingnet", "official", seq, pred)
    # '>=': frame 2 passes 0..0.5 (11 of 21); curve = 1 for j <= 10, 0.5 above. Trapezoid:
    # 0.05 * (11 * 1 + 10 * 0.5 - (1 + 0.5) / 2) = 0.7625.
    assert tn["auc"] == pytest.approx(0.7625)


def test_precision_counts_exactly_twenty_pixels() -> None:
    seq = [sequence("a", [[1, 1, 10, 10]] * 3)]
    pred = {"a": [[1, 1, 10, 10], [21, 1, 10, 10], [22, 1, 10, 10]]}
    # distances 0, 20 (counts with <=), 21 (fails): 2/3.
    assert score("otb2015", "official", seq, pred)["precision"] == pytest.approx(2 / 3)


# --- the §6.2 toy sequence ------------------------------------------------------------------

TOY_GT = [
    [10, 10, 20, 20],
    [10, 10, 20, 20],
    [13, 10, 20, 20],
    [0, 0, 0, 0],
    [40, 40, 20, 20],
    [10, 10, 20, 20],
]
TOY_PRED = [[10, 10, 20, 20]] * 5 + [[10, 10, 0, 20]]
TOY_ABSENT = [False, False, False, True, False, False]


@pytest.mark.parametrize(
    ("toolkit", "expected"),
    [
        # f1, f2: IoU 1 (20 thresholds each); f3: 340 / 460 = 0.739 (15); f4 absent (0);
        # f5: no overlap (0); f6: zero width -> previous box, IoU 1 (20). 75 / 126.
        # Precision: f1, f2, f3 (3 px), f6 -> 4/6; normalized: f3 3/20 = 0.15 -> 4/6.
        ("official", (59.5238, 66.6667, 66.6667)),
        ("pytracking", (59.5238, 66.6667, 66.6667)),
        # No replacement: f6 IoU 0 -> 55 / 126. Its centre (9.5, 19.5) is 10 px from the
        # ground truth's: a precision success, but 0.5 normalized: a failure.
        ("pysot", (43.6508, 66.6667, 50.0)),
        # Absence ignored; f4 scored against 0,0,0,0 (IoU 0, far centres), no replacement.
        ("got10k", (43.6508, 66.6667, 45.4248)),  # Pnorm: the mean of the curve
    ],
)
def test_lasot_style_toy(toolkit: str, expected: tuple[float, ...]) -> None:
    seq = [sequence("toy", TOY_GT, TOY_ABSENT)]
    result = score("lasot", toolkit, seq, {"toy": TOY_PRED})
    assert percent(result, "auc", "precision", "norm_precision") == expected


@pytest.mark.parametrize(
    ("toolkit", "expected"),
    [
        # f4 NaN: failure in S (IoU -1), success in P and Pnorm (distance -1): 5/6.
        ("official", (59.5238, 83.3333, 83.3333)),
        ("pytracking", (59.5238, 83.3333, 83.3333)),
        ("pysot", (43.6508, 83.3333, 66.6667)),
        # NaN frame dropped: 55 / (5 * 21); P 4/5; Pnorm 3/5.
        ("got10k", (52.3810, 80.0, 60.0)),
    ],
)
def test_uav_style_toy(toolkit: str, expected: tuple[float, ...]) -> None:
    gt = [row if i != 3 else [np.nan] * 4 for i, row in enumerate(TOY_GT)]
    result = score("uav123", toolkit, [sequence("toy", gt)], {"toy": TOY_PRED})
    assert percent(result, "auc", "precision", "norm_precision") == expected


# --- replacement of invalid predictions ----------------------------------------------------


def test_invalid_predictions_chain_back_to_the_last_valid_box() -> None:
    seq = [sequence("a", [BOX] * 4)]
    pred = {"a": [BOX, BOX, [10, 10, 0, 20], [np.nan] * 4]}
    # frames 3 and 4 both take frame 2's box: IoU 1 everywhere -> 20/21.
    assert score("otb2015", "official", seq, pred)["auc"] == pytest.approx(20 / 21)
    # pytracking replaces zero sizes only: frame 4 (NaN) fails -> (3 * 20) / (4 * 21).
    assert score("otb2015", "pytracking", seq, pred)["auc"] == pytest.approx(60 / 84)
    # pysot replaces nothing: frames 3 and 4 fail.
    assert score("otb2015", "pysot", seq, pred)["auc"] == pytest.approx(40 / 84)


def test_no_replacement_where_the_ground_truth_is_nan() -> None:
    seq = [sequence("a", [BOX, BOX, [np.nan] * 4, BOX])]
    pred = {"a": [BOX, BOX, [0, 0, 0, 0], [0, 0, 0, 0]]}
    # f3: GT NaN, box kept (IoU -1, distance -1: fail S, pass P). f4 copies f3's 0,0,0,0:
    # IoU 0 and centre (-0.5, -0.5) far away: fails both. S: 40 / 84; P: 3/4.
    result = score("uav123", "official", seq, pred)
    assert result["auc"] == pytest.approx(40 / 84)
    assert result["precision"] == pytest.approx(3 / 4)


def test_first_frame_is_the_ground_truth_except_in_pysot() -> None:
    seq = [sequence("a", [BOX] * 2)]
    pred = {"a": [[100, 100, 20, 20], BOX]}
    assert score("otb2015", "official", seq, pred)["auc"] == pytest.approx(20 / 21)
    assert score("otb2015", "pysot", seq, pred)["auc"] == pytest.approx(20 / 42)


def test_otb_ground_truth_with_a_non_positive_value() -> None:
    # Biker-like: the ground truth sticks out at the top (y = -3).
    seq = [sequence("a", [BOX, [10, -3, 20, 20]])]
    pred = {"a": [BOX, [10, -3, 20, 20]]}
    official = score("otb2015", "official", seq, pred)
    assert official["auc"] == pytest.approx(20 / 42)  # IoU -1 on frame 2
    assert official["precision"] == 0.5  # pytracking's rule: distance inf
    pysot = score("otb2015", "pysot", seq, pred)
    assert pysot["precision"] == 1.0  # centre y = -3 + 9.5 > 0: scored normally (0 px)


# --- GOT-10k --------------------------------------------------------------------------------


def test_got10k_pools_frames_excludes_first_and_invisible() -> None:
    a = sequence("a", [BOX] * 5, cover=np.array([8, 8, 0, 8, 8]), image_size=(100, 100))
    b = sequence("b", [BOX] * 2, cover=np.array([8, 8]), image_size=(100, 100))
    far = [70, 70, 20, 20]
    pred = {"a": [far, BOX, far, far, BOX], "b": [BOX, far]}
    # Scored: a f2 (1), f4 (0), f5 (1); b f2 (0). Pooled AO = 2/4; the mean of per-sequence
    # AOs would be (2/3 + 0) / 2. Frame 1 (far) and a's cover-0 frame 3 are not scored.
    result = score("got10k", "official", [a, b], pred)
    assert result["ao"] == pytest.approx(0.5)
    assert result["sr50"] == 0.5 and result["sr75"] == 0.5


def test_got10k_sr50_is_strict() -> None:
    seq = [sequence("a", [[0, 0, 10, 10]] * 2, cover=np.array([8, 8]), image_size=(50, 50))]
    result = score("got10k", "official", seq, {"a": [[0, 0, 10, 10], [0, 0, 10, 20]]})
    assert result["ao"] == pytest.approx(0.5, abs=1e-12) and result["sr50"] == 0.0


# --- TrackingNet and missing results --------------------------------------------------------


def test_trackingnet_missing_sequence_counts_as_zero_boxes() -> None:
    seqs = [sequence("a", [BOX] * 3), sequence("b", [BOX] * 3)]
    # b missing: 0,0,0,0 rows, frame 1 reset to GT. Frames 2-3: IoU 0, which passes t = 0
    # with '>='. Mean curve: 1 at t = 0, (1 + 1/3) / 2 elsewhere.
    # Trapezoid: 0.05 * (1 + 20 * 2/3 - (1 + 2/3) / 2) = 0.675.
    result = score("trackingnet", "official", seqs, {"a": [BOX] * 3}, strict=False)
    assert result["auc"] == pytest.approx(0.675)
    with pytest.raises(ResultsMismatchError, match="b: no result"):
        score("trackingnet", "official", seqs, {"a": [BOX] * 3}, strict=True)


def test_missing_trailing_frames_fail_and_extra_frames_are_cut() -> None:
    seqs = [sequence("a", [BOX] * 3)]
    short = score("otb2015", "official", seqs, {"a": [BOX] * 2}, strict=False)
    assert short["auc"] == pytest.approx(40 / 63)  # frame 3 fails every threshold
    assert short["precision"] == pytest.approx(2 / 3)
    long = score("otb2015", "official", seqs, {"a": [BOX] * 3 + [[0, 0, 1, 1]]}, strict=False)
    assert long["auc"] == pytest.approx(20 / 21)
    with pytest.raises(ResultsMismatchError, match=r"a: 2 boxes for 3 frames"):
        score("otb2015", "official", seqs, {"a": [BOX] * 2}, strict=True)
    with pytest.raises(ResultsMismatchError, match=r"a: 4 boxes for 3 frames \(extra frames cut"):
        score("otb2015", "official", seqs, {"a": [BOX] * 3 + [BOX]}, strict=True)


def test_runs_are_averaged_within_a_sequence_first() -> None:
    seqs = [sequence("a", [BOX] * 2), sequence("b", [BOX] * 2), sequence("c", [BOX] * 4)]
    far = [70, 70, 20, 20]
    pred = {"a": [[BOX, BOX], [BOX, far]], "b": [[BOX, BOX]] * 2, "c": [[BOX] * 4] * 2}
    # a: runs 20/21 and 20/42 -> 60/84; b and c: 20/21 each. Mean: (60 + 80 + 80)/84/3.
    # (Pooling the frames of every run would weight c's twice: 0.8929.)
    assert score("otb2015", "official", seqs, pred)["auc"] == pytest.approx(220 / 252)


def test_a_missing_run_is_an_error_or_a_run_of_failures() -> None:
    """An interrupted --repeats set: b has 1 of the 2 runs a has."""
    seqs = [sequence("a", [BOX] * 2), sequence("b", [BOX] * 2)]
    pred = {"a": [[BOX, BOX], [BOX, BOX]], "b": [[BOX, BOX]]}
    with pytest.raises(ResultsMismatchError, match="b: 1 of the 2 runs the other sequences"):
        score("otb2015", "official", seqs, pred)
    # b's missing run fails on every frame, frame 1 too (nothing was initialised there):
    # a 20/21; b (20/21 + 0) / 2. Mean: (80/84 + 40/84) / 2 = 60/84.
    assert score("otb2015", "official", seqs, pred, strict=False)["auc"] == pytest.approx(60 / 84)


def test_a_missing_sequence_fails_on_every_frame() -> None:
    seqs = [sequence("a", [BOX] * 2), sequence("b", [BOX] * 2)]
    lenient = score("otb2015", "official", seqs, {"a": [BOX, BOX]}, strict=False)
    assert lenient["auc"] == pytest.approx((20 / 21 + 0) / 2)  # b's frame 1 is not set to GT


def test_a_run_over_the_omitted_leading_frames_is_realigned_not_cut() -> None:
    """Tiger1 is scored on frames 6-354 (initOmit 5); got10k-style runs hold 354 rows."""
    far = [200.0, 200.0, 20.0, 20.0]
    seqs = [sequence("Tiger1", [BOX] * 4, omitted_frames=2)]
    run = [far, far] + [BOX] * 4  # rows for the two omitted frames, then the scored four
    assert score("otb2015", "official", seqs, {"Tiger1": run}, strict=False)["auc"] == (
        pytest.approx(20 / 21)  # every scored row overlaps fully; cut, rows 2-4 would fail
    )
    with pytest.raises(
        ResultsMismatchError,
        match=r"Tiger1: 6 boxes for 4 frames, a run from frame 1 where the benchmark starts at "
        r"frame 3 \(rows 3-6 scored",
    ):
        score("otb2015", "official", seqs, {"Tiger1": run}, strict=True)
    cut = score("otb2015", "official", seqs, {"Tiger1": [BOX] * 4 + [far]}, strict=False)
    assert cut["auc"] == pytest.approx(20 / 21)  # one extra row at the end is still cut


def test_a_tiger1_run_from_frame_1_scores_as_the_published_349_rows() -> None:
    """SiamBAN's published Tiger1 (349 rows) and the same run with five leading rows, as a
    toolkit without initOmit writes it, score the same."""
    from sparsett_bench.box_files import read_box_file
    from sparsett_bench.datasets.loaders import load_sequences
    from tests.conftest import shared_path

    annotations = shared_path("annotations", "otb100")
    [tiger] = load_sequences("otb2015", annotations, names=["Tiger1"])
    assert (len(tiger), tiger.omitted_frames) == (349, 5)
    published = read_box_file(shared_path("raw_results", "otb100", "SiamBAN", "Tiger1.txt"))
    from_frame_1 = np.concatenate([np.tile(published[:1], (5, 1)), published])
    scored = [score("otb2015", "official", [tiger], {"Tiger1": r}, strict=False)
              for r in (published, from_frame_1)]  # fmt: skip
    assert scored[1] == scored[0]
    assert 0.5 < scored[0]["auc"] < 1


def test_result_files_matching_no_sequence_are_named_when_a_sequence_has_none() -> None:
    seqs = [sequence("a", [BOX] * 2), sequence("b", [BOX] * 2)]
    runs = {"a": SequenceResult([np.asarray([BOX] * 2)], ["memory"])}
    typo = TrackerResults("t", "memory", "flat", runs, unmatched=["b_typo"])
    with pytest.raises(
        ResultsMismatchError,
        match=r"1 result file\(s\) match no sequence of the benchmark \(b_typo\), "
        r"while 1 sequence\(s\) have none",
    ):
        evaluate(seqs, typo, get_protocol("otb2015", "official"))
    everything = TrackerResults("t", "memory", "flat", {**runs, "b": runs["a"]}, unmatched=["c"])
    assert evaluate(seqs, everything, get_protocol("otb2015", "official")).issues == []
    renamed = TrackerResults("t", "memory", "flat", {}, unmatched=["OTB100_a", "OTB100_b"])
    with pytest.raises(ResultsMismatchError) as refused:
        evaluate(seqs, renamed, get_protocol("otb2015", "official"))
    lines = str(refused.value).splitlines()
    assert lines[1].strip().startswith("2 result file(s) match no sequence")  # the cause first
    assert lines[-1].startswith("No sequence has a result: check --dataset and --split")


def test_lasot_carries_the_last_valid_box_through_an_absence() -> None:
    """calc_seq_err_robust.m tests the file's GT row for NaN (LaSOT's have none), so the
    invalid box of absent frame 2 and of visible frame 3 both become frame 1's box."""
    seqs = [sequence("a", [BOX] * 3, absent=[False, True, False])]
    pred = {"a": [BOX, [0, 0, 0, 0], [0, 0, 0, 0]]}
    # Frames 1 and 3 overlap fully (20 of 21 thresholds), absent frame 2 fails: 40/63.
    assert score("lasot", "official", seqs, pred)["auc"] == pytest.approx(40 / 63)
