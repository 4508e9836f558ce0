"""Protocols: the exact rules by which each benchmark's published numbers are computed.

One `Protocol` per benchmark reproduces its official numbers (the ``official`` toolkit); the
``pytracking``, ``pysot`` and ``got10k`` presets reproduce what those toolkits print for the
same results, so users can see why toolkits disagree. Each preset lists its rules in
``rules`` (printed by ``report --explain`` and stored in every report) with a source.

Sources, as reviewed in the project's evaluation notes: OTB and UAV MATLAB toolkits
(``calcSeqErrRobust.m``), HengLan/LaSOT_Evaluation_Toolkit (``calc_seq_err_robust.m``,
``eval_tracker.m``), visionml/pytracking (``extract_results.py``), StrangerZhang/pysot-toolkit
(``statistics.py``), got-10k/toolkit (``experiments/*.py``, ``utils/metrics.py``),
SilvioGiancola/TrackingNet-devkit (``metrics.py``, the server's code).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sparsett_bench.datasets.registry import canonical_name
from sparsett_bench.errors import SparsettError

IOU_21 = np.linspace(0.0, 1.0, 21)  # equals np.arange(0, 1.05, 0.05) bit for bit
IOU_101 = np.linspace(0.0, 1.0, 101)
PIXELS_51 = np.arange(0, 51, dtype=np.float64)
NORM_51 = np.arange(0, 51) / 100.0  # MATLAB (0:50)/100, pysot, pytracking
NORM_51_GOT10K = np.linspace(0.0, 0.5, 51)  # differs from NORM_51 at 3 indices
PIXELS_21_TRACKINGNET = np.linspace(0.0, 50.0, 21)
NORM_21_TRACKINGNET = np.linspace(0.0, 0.5, 21)

TOOLKITS = ("official", "pytracking", "pysot", "got10k")


@dataclass(frozen=True)
class Protocol:
    """Every rule that changes a number; defaults are the OTB MATLAB toolkit's."""

    dataset: str
    toolkit: str
    rules: tuple[str, ...]
    first_frame_gt: bool = True
    fallback: str = "matlab"  # invalid prediction -> previous box: "matlab" | "pytracking" | "none"
    gt_valid: str = "all_positive"  # GT rows scored: "all_positive" | "wh_positive" | "any"
    center_valid: str = "gt"  # "gt": same rows as gt_valid; "center_positive": pysot's rule
    invalid_center: float = -1.0  # centre error of an invalid GT row: -1 success, inf failure
    invalid_norm_center: float = -1.0
    absent: str = "ignore"  # benchmark's absent flags: "ignore" | "fail" | "drop"
    drop_nan_gt: bool = False
    exclude_first: bool = False
    exclude_cover_zero: bool = False
    clip_to_image: bool = False
    iou_eps: float = 0.0
    round_coords: bool = False
    iou_inclusive: bool = False
    norm_scale: str = "gt_wh"  # "gt_wh" | "gt_wh_eps" (pysot) | "max1" (got10k)
    iou_thresholds: np.ndarray = field(default_factory=lambda: IOU_21)
    precision_thresholds: np.ndarray = field(default_factory=lambda: PIXELS_51)
    norm_thresholds: np.ndarray = field(default_factory=lambda: NORM_51)
    summary: str = "otb"  # "otb" | "trapezoid" | "got10k" | "got10k-lasot"
    pooled: bool = False
    curve_dtype: str = "float64"  # pytracking stores its curves as float32
    missing_sequence_as_zeros: bool = False  # TrackingNet server: absent file -> 0,0,0,0 rows
    file_boxes: bool = False  # score absent frames against the file's placeholder rows

    @property
    def key(self) -> str:
        return f"{self.dataset}/{self.toolkit}"

    @property
    def source(self) -> str:
        """The code these rules were read from (``report --explain`` prints it)."""
        return SOURCES.get(self.key) or SOURCES[f"*/{self.toolkit}"]

    def score_names(self) -> tuple[str, ...]:
        if self.summary == "got10k":
            return ("ao", "sr50", "sr75")
        return ("auc", "precision", "norm_precision")


# Where each protocol's rules come from: the benchmark's own toolkit for "official", else the
# toolkit named, at the files the evaluation notes reviewed.
SOURCES = {
    "otb2015/official": "the OTB MATLAB toolkit (calcSeqErrRobust.m, plotDrawSave.m); the "
    "invalid ground-truth rule as visionml/pytracking's pytracking/analysis/extract_results.py",
    "uav123/official": "the UAV123 MATLAB toolkit, of the OTB one's lineage (calcSeqErrRobust.m, "
    "plotDrawSave.m)",
    "lasot/official": "HengLan/LaSOT_Evaluation_Toolkit (utils/calc_seq_err_robust.m, "
    "utils/eval_tracker.m, utils/plot_draw_save.m)",
    "got10k/official": "got-10k/toolkit's ExperimentGOT10k (got10k/experiments/got10k.py, "
    "got10k/utils/metrics.py), the public reference of the closed-source server",
    "trackingnet/official": "SilvioGiancola/TrackingNet-devkit (metrics.py), the evaluation "
    "server's code",
    "synthetic/official": "this project's benchmark, under the OTB MATLAB rules with "
    "HengLan/LaSOT_Evaluation_Toolkit's absent frames",
    "*/pytracking": "visionml/pytracking (pytracking/analysis/extract_results.py, plot_results.py)",
    "*/pysot": "StrangerZhang/pysot-toolkit (pysot/utils/statistics.py, "
    "pysot/evaluation/ope_benchmark.py)",
    "*/got10k": "got-10k/toolkit (got10k/experiments/*.py, got10k/utils/metrics.py)",
}

_OTB_MATLAB = (
    "frame 1 := ground truth",
    "a prediction that is NaN or has w <= 0 or h <= 0 is replaced by the previous one "
    "(frames 2.., where the annotation file's row is not NaN: LaSOT's absent frames too)",
    "IoU continuous; S(t) = #(IoU > t) / L on t = 0:0.05:1; AUC = mean of the 21 points",
    "precision = #(centre error <= 20 px) / L, centre = xy + (wh - 1) / 2",
    "per sequence, then the mean over sequences",
)


def _official(dataset: str) -> Protocol:
    if dataset == "otb2015":
        return Protocol(
            dataset,
            "official",
            (
                *_OTB_MATLAB,
                "a ground-truth row with any value <= 0 (10 frames: Biker, Board, Crowds, "
                "Twinnings) fails in S (IoU -1) and in precision (distance inf), as pytracking; "
                "the MATLAB toolkit counts them as precision successes, which gives DaSiamRPN "
                "0.881 instead of its published 0.880",
                "normalized precision: invalid ground truth counts as a success (distance -1)",
                "L = full length (OTB has no absent frames)",
            ),
            invalid_center=np.inf,
        )
    if dataset == "uav123":
        return Protocol(
            dataset,
            "official",
            (
                *_OTB_MATLAB,
                "NaN ground truth (target absent) stays in L: a failure in S, a success in "
                "precision and normalized precision (IoU -1, distance -1), as the UAV toolkit",
            ),
        )
    if dataset == "synthetic":
        return Protocol(
            dataset,
            "official",
            (
                *_OTB_MATLAB,
                "the LaSOT rules: absent frames (NaN ground truth: fully occluded or out of view) "
                "stay in L and fail in all three curves; normalized precision at 0.20",
                "ground truth is valid where w, h > 0: boxes partly outside the image (negative "
                "x or y) are scored normally",
            ),
            absent="fail",
            gt_valid="wh_positive",
        )
    if dataset == "lasot":
        return Protocol(
            dataset,
            "official",
            (
                *_OTB_MATLAB,
                "absent frames (full occlusion or out of view) stay in L = full length and fail "
                "in all three curves",
                "normalized precision = #(||dc / gt_wh|| <= 0.20) / L on (0:50)/100",
                "visible ground truth with a value <= 0 (3 frames): IoU -1, distance -1",
            ),
            absent="fail",
        )
    if dataset == "got10k":
        return Protocol(
            dataset,
            "official",
            (
                "frame 1 excluded; frames with cover == 0 excluded",
                "boxes clipped to the image (W, H) from meta_info.ini by the got10k rule: "
                "x = clip(x, 0, W), w = clip(w, 0, W - x)",
                "IoU with machine epsilon in the union, clipped to [0, 1]",
                "IoUs pooled over all frames of all sequences and all runs",
                "AO = mean IoU; SR0.50 / SR0.75 = fraction of IoU > 0.5 / 0.75",
            ),
            first_frame_gt=False,
            fallback="none",
            gt_valid="any",
            exclude_first=True,
            exclude_cover_zero=True,
            clip_to_image=True,
            iou_eps=float(np.finfo(float).eps),
            iou_thresholds=IOU_101,
            summary="got10k",
            pooled=True,
            file_boxes=True,
        )
    if dataset == "trackingnet":
        return Protocol(
            dataset,
            "official",
            (
                "all coordinates rounded to integers (numpy round half to even)",
                "frame 1 := ground truth; missing frames are failures (NaN); a missing sequence "
                "is scored as 0,0,0,0 boxes (IoU 0 still passes the threshold 0)",
                "S(t) = #(IoU >= t) / L on linspace(0, 1, 21)",
                "P on linspace(0, 50, 21) px and P_norm on linspace(0, 0.5, 21), with <=",
                "per sequence, then the mean over sequences",
                "Success, Precision and Normalized precision are trapezoid areas x 100 over "
                "x = linspace(0, 1, 21): areas, not values at 20 px or 0.2",
            ),
            fallback="none",
            gt_valid="any",
            round_coords=True,
            iou_inclusive=True,
            precision_thresholds=PIXELS_21_TRACKINGNET,
            norm_thresholds=NORM_21_TRACKINGNET,
            summary="trapezoid",
            invalid_center=np.inf,
            invalid_norm_center=np.inf,
            missing_sequence_as_zeros=True,
        )
    raise SparsettError(f"no official protocol for {dataset}")


def _pytracking(dataset: str) -> Protocol:
    if dataset not in ("otb2015", "uav123", "lasot"):
        raise SparsettError(f"pytracking does not evaluate {dataset} locally")
    uav = dataset == "uav123"
    return Protocol(
        dataset,
        "pytracking",
        (
            "frame 1 := ground truth",
            "a prediction with w == 0 or h == 0 is replaced by the previous one (pytracking "
            "refuses NaN or negative sizes; here they simply fail)",
            "ground truth valid where x, y, w, h are all > 0 (pytracking since 2022-08)",
            "invalid ground truth: IoU -1; centre error "
            + ("-1 (success)" if uav else "inf (failure)")
            + "; normalized error -1 (success)",
            *(("LaSOT absent frames fail in all three curves",) if dataset == "lasot" else ()),
            "21 thresholds with >, AUC = mean; curves stored as float32, printed %.2f of percent",
        ),
        fallback="pytracking",
        invalid_center=-1.0 if uav else np.inf,
        absent="fail" if dataset == "lasot" else "ignore",
        curve_dtype="float32",
    )


def _pysot(dataset: str) -> Protocol:
    if dataset not in ("otb2015", "uav123", "lasot"):
        raise SparsettError(f"pysot-toolkit does not evaluate {dataset}")
    return Protocol(
        dataset,
        "pysot",
        (
            "the result file's first row is used as it is (no frame 1 := ground truth)",
            "no replacement of invalid predictions",
            "IoU -1 where the ground truth is not all > 0; centre error -1 where the ground-truth "
            "centre is not > 0",
            "normalized centres divided by (gt_wh + 1e-16)",
            *(
                ("LaSOT absent frames removed from the numerator only (failures)",)
                if dataset == "lasot"
                else ()
            ),
            "21 thresholds with >, AUC = mean; printed %.3f",
        ),
        first_frame_gt=False,
        fallback="none",
        center_valid="center_positive",
        norm_scale="gt_wh_eps",
        absent="fail" if dataset == "lasot" else "ignore",
    )


def _got10k_toolkit(dataset: str) -> Protocol:
    if dataset == "got10k":
        return _official(dataset)
    if dataset == "synthetic":
        raise SparsettError("the got10k toolkit has no experiment for the synthetic benchmark")
    rules = [
        "frame 1 := ground truth; no replacement of invalid predictions; no validity rule "
        "(NaN ground truth fails)",
        "IoU with machine epsilon in the union, clipped to [0, 1]",
        "S on linspace(0, 1, 21) with >; success_score = mean(S); precision_score = P[20]",
    ]
    extra: dict = {}
    if dataset == "uav123":
        rules.append(
            "NaN ground-truth frames removed from numerator and denominator "
            "(ExperimentUAV123): about 2 AUC points above the published convention"
        )
        extra["drop_nan_gt"] = True
    if dataset == "lasot":
        rules.append(
            "absent flags ignored; normalized precision reported as the mean of the "
            "curve on linspace(0, 0.5, 51), centre offsets divided by max(1, gt_wh) "
            "(got10k master's ExperimentLaSOT; the PyPI release has none)"
        )
        extra.update(
            file_boxes=True,
            norm_scale="max1",
            norm_thresholds=NORM_51_GOT10K,
            summary="got10k-lasot",
            drop_nan_gt=True,
        )
    if dataset == "trackingnet":
        rules.append("scored as OTB (ExperimentTrackingNet inherits ExperimentOTB)")
    return Protocol(
        dataset,
        "got10k",
        tuple(rules),
        fallback="none",
        gt_valid="any",
        invalid_center=np.nan,
        invalid_norm_center=np.nan,
        iou_eps=float(np.finfo(float).eps),
        **extra,
    )


_BUILDERS = {
    "official": _official,
    "pytracking": _pytracking,
    "pysot": _pysot,
    "got10k": _got10k_toolkit,
}


def get_protocol(dataset: str, toolkit: str | None = None) -> Protocol:
    """The protocol for ``dataset`` under ``toolkit`` (default ``official``)."""
    toolkit = (toolkit or "official").lower()
    if toolkit not in _BUILDERS:
        raise SparsettError(f"unknown protocol {toolkit!r}; choose one of {', '.join(TOOLKITS)}")
    return _BUILDERS[toolkit](canonical_name(dataset))


def rules_markdown() -> str:
    """Every protocol's rules as Markdown: the body of docs/protocols.md's generated part."""
    lines = []
    for dataset in ("otb2015", "uav123", "lasot", "got10k", "trackingnet", "synthetic"):
        for toolkit in TOOLKITS:
            try:
                protocol = get_protocol(dataset, toolkit)
            except SparsettError:
                continue
            if protocol.toolkit != toolkit:
                continue  # the got10k toolkit's GOT-10k rules are the official ones
            lines.append(f"### `{protocol.key}`\n")
            lines.append(f"Source: {protocol.source}.\n")
            lines += [f"- {rule}" for rule in protocol.rules]
            lines.append("")
    return "\n".join(lines)
