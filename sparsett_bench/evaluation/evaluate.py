"""Scoring one tracker's results on one benchmark under one `Protocol`.

Results are aligned to the ground truth first (name matching happened when they were read):
a missing sequence or missing trailing frames are failures, extra trailing frames are cut (as
the LaSOT toolkit cuts monkey-17), a run that covers the frames a benchmark omits at the start
(OTB's Tiger1 from frame 1, 354 rows for its 349 frames) loses those leading rows, and
``strict=True`` turns each of these into an error instead. Then every frame of every sequence
and run is scored in one vectorised pass.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from sparsett_bench import boxes as bx
from sparsett_bench.datasets.sequence import Sequence
from sparsett_bench.errors import ResultsMismatchError
from sparsett_bench.evaluation import metrics
from sparsett_bench.evaluation.protocols import Protocol
from sparsett_bench.evaluation.results_io import TrackerResults

CURVES = ("success", "precision", "norm_precision")


@dataclass
class Evaluation:
    """Per-run counts from which every score (overall, per sequence, per attribute) follows.

    A "run" is one repetition of one sequence; OTB-style protocols average the runs of a
    sequence and then the sequences, pooled protocols (GOT-10k) sum frames over everything.
    """

    tracker: str
    protocol: Protocol
    sequences: list[str]
    run_sequence: np.ndarray  # (R,) sequence index of each run
    frames: np.ndarray  # (R,) denominator of each run
    success: np.ndarray  # (R, T) counts
    precision: np.ndarray  # (R, P) counts
    norm_precision: np.ndarray  # (R, N) counts
    iou_sum: np.ndarray  # (R,) sum of IoUs over scored frames (failures count 0)
    times: dict[str, np.ndarray] = field(default_factory=dict)
    issues: list[str] = field(default_factory=list)

    def _sequence_sums(self, values: np.ndarray) -> np.ndarray:
        out = np.zeros((len(self.sequences), *values.shape[1:]), dtype=np.float64)
        np.add.at(out, self.run_sequence, values)
        return out

    def sequence_curves(self) -> dict[str, np.ndarray]:
        """``(S, T)`` curves per sequence: the mean over its runs of each run's fractions
        (pooled protocols: its frames pooled over runs)."""
        dtype = np.float32 if self.protocol.curve_dtype == "float32" else np.float64
        if self.protocol.pooled:
            frames = np.maximum(self._sequence_sums(self.frames), 1)[:, None]
            return {n: self._sequence_sums(getattr(self, n)) / frames for n in CURVES}
        runs_per_sequence = np.bincount(self.run_sequence, minlength=len(self.sequences))
        frames = np.maximum(self.frames, 1)[:, None]
        out = {}
        for name in CURVES:
            per_run = (getattr(self, name) / frames).astype(dtype)
            out[name] = (self._sequence_sums(per_run) / runs_per_sequence[:, None]).astype(dtype)
        return out

    def curves(self, sequence_mask: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Mean curves over the selected sequences (all by default), as fractions."""
        keep = np.ones(len(self.sequences), bool) if sequence_mask is None else sequence_mask
        if self.protocol.pooled:
            runs = keep[self.run_sequence]
            total = max(int(self.frames[runs].sum()), 1)
            return {n: getattr(self, n)[runs].sum(axis=0) / total for n in CURVES}
        dtype = np.float32 if self.protocol.curve_dtype == "float32" else np.float64
        per_sequence = self.sequence_curves()
        return {
            n: per_sequence[n][keep].mean(axis=0, dtype=dtype).astype(np.float64) for n in CURVES
        }

    def scores(self, sequence_mask: np.ndarray | None = None) -> dict[str, float]:
        """The protocol's headline numbers, as fractions (AUC 0.696, not 69.6)."""
        keep = np.ones(len(self.sequences), bool) if sequence_mask is None else sequence_mask
        runs = keep[self.run_sequence]
        ao = self.iou_sum[runs].sum() / max(int(self.frames[runs].sum()), 1)
        summary = summarize(self.protocol, self.curves(keep), np.asarray(ao))
        return {name: float(value) for name, value in summary.items()}

    def sequence_scores(self) -> dict[str, dict[str, float]]:
        """Scores of each sequence alone (all sequences summarised in one vectorised pass)."""
        ao = self._sequence_sums(self.iou_sum) / np.maximum(self._sequence_sums(self.frames), 1)
        summary = summarize(self.protocol, self.sequence_curves(), ao)
        return {
            name: {metric: float(values[i]) for metric, values in summary.items()}
            for i, name in enumerate(self.sequences)
        }

    def speed(self) -> dict[str, float] | None:
        return speed_summary(self.times.values())


def speed_summary(times: Iterable[np.ndarray]) -> dict[str, float] | None:
    """FPS two ways over per-sequence frame times: frames / total time (pytracking) and the
    mean over sequences of each one's mean 1 / t (the got10k toolkit). Frames with no
    positive, finite time are left out; None when none is left."""
    timed = [t[np.isfinite(t) & (t > 0)] for t in times]
    timed = [t for t in timed if t.size]
    if not timed:
        return None
    frames = sum(t.size for t in timed)
    return {
        "fps": float(frames / sum(t.sum() for t in timed)),
        "fps_mean_per_frame": float(np.mean([np.mean(1.0 / t) for t in timed])),
        "sequences_timed": float(len(timed)),
    }


def summarize(p: Protocol, curves: dict[str, np.ndarray], ao: np.ndarray) -> dict[str, np.ndarray]:
    """Headline numbers from curves (last axis = thresholds); works row-wise on ``(S, T)``."""
    success = curves["success"]
    if p.summary == "got10k":
        return {
            "ao": ao,
            "sr50": success[..., _index(p.iou_thresholds, 0.5)],
            "sr75": success[..., _index(p.iou_thresholds, 0.75)],
        }
    if p.summary == "trapezoid":
        x = np.linspace(0.0, 1.0, len(p.iou_thresholds))
        return {
            name: metrics.trapezoid_area(curves[n], x)
            for name, n in (
                ("auc", "success"),
                ("precision", "precision"),
                ("norm_precision", "norm_precision"),
            )
        }
    norm = curves["norm_precision"]
    return {
        "auc": success.mean(axis=-1),
        "precision": curves["precision"][..., _index(p.precision_thresholds, 20.0)],
        "norm_precision": (
            norm.mean(axis=-1)
            if p.summary == "got10k-lasot"
            else norm[..., _index(p.norm_thresholds, 0.2)]
        ),
        "op50": success[..., _index(p.iou_thresholds, 0.5)],
        "op75": success[..., _index(p.iou_thresholds, 0.75)],
    }


def _index(grid: np.ndarray, value: float) -> int:
    index = int(np.argmin(np.abs(grid - value)))
    if not np.isclose(grid[index], value):
        raise ValueError(f"{value} is not on the threshold grid")
    return index


def evaluate(
    sequences: list[Sequence], results: TrackerResults, protocol: Protocol, strict: bool = True
) -> Evaluation:
    """Score ``results`` against ``sequences`` under ``protocol``; see the module docstring."""
    issues: list[str] = []
    units: list[tuple[int, Sequence, np.ndarray]] = []  # (sequence index, sequence, boxes)
    unrun: list[bool] = []  # per unit: no result at all (even frame 1 fails, never set to GT)
    times: dict[str, np.ndarray] = {}
    short_times: list[str] = []
    runs_each = max((len(r.runs) for r in results.sequences.values()), default=1)
    for index, seq in enumerate(sequences):
        found = results.sequences.get(seq.name)
        n = len(seq)
        if found is None:
            issues.append(f"{seq.name}: no result (all {n} frames count as failures)")
            rows = n if protocol.missing_sequence_as_zeros else 0
            units += [(index, seq, np.zeros((rows, 4)))] * runs_each
            unrun += [rows == 0] * runs_each
            continue
        if found.times is not None and len(found.times) == len(found.runs[0]):
            times[seq.name] = found.times
        elif found.times is not None:  # cut short: its speed would stand for the whole
            short_times.append(f"{seq.name} ({len(found.times)} for {len(found.runs[0])} boxes)")
        for run_number, run in enumerate(found.runs):
            label = seq.name if len(found.runs) == 1 else f"{seq.name} run {run_number + 1}"
            if seq.omitted_frames and len(run) == n + seq.omitted_frames:
                first = seq.omitted_frames + 1
                issues.append(
                    f"{label}: {len(run)} boxes for {n} frames, a run from frame 1 where the "
                    f"benchmark starts at frame {first} (rows {first}-{len(run)} scored; "
                    f"{found.sources[run_number]})"
                )
                run = run[seq.omitted_frames :]
            elif len(run) != n:
                what = "extra frames cut" if len(run) > n else "missing frames count as failures"
                issues.append(
                    f"{label}: {len(run)} boxes for {n} frames ({what}; "
                    f"{found.sources[run_number]})"
                )
            units.append((index, seq, run))
            unrun.append(False)
        if len(found.runs) < runs_each:  # an interrupted set of repeated runs
            issues.append(
                f"{seq.name}: {len(found.runs)} of the {runs_each} runs the other sequences have "
                "(each missing run counts as failures)"
            )
            units += [(index, seq, np.zeros((0, 4)))] * (runs_each - len(found.runs))
            unrun += [True] * (runs_each - len(found.runs))
    unfound = sum(seq.name not in results.sequences for seq in sequences)
    if unfound and results.unmatched:  # a naming mismatch? (a superset of results is fine)
        listed = ", ".join(results.unmatched[:5]) + (", ..." if len(results.unmatched) > 5 else "")
        issues.insert(  # first: it is the likely cause of the "no result" lines below
            0,
            f"{len(results.unmatched)} result file(s) match no sequence of the benchmark "
            f"({listed}), while {unfound} sequence(s) have none",
        )
    if strict and issues:
        shown = "\n  ".join(issues[:20])
        more = f"\n  ... and {len(issues) - 20} more" if len(issues) > 20 else ""
        advice = (
            "Use --lenient to score them as the official tools do (missing sequences, runs and "
            "frames count as failures, extra frames are cut)."
            if unfound < len(sequences)
            else "No sequence has a result: check --dataset and --split against what was "
            "tracked, and the files' names (--lenient would fail every frame)."
        )
        raise ResultsMismatchError(
            f"results of {results.tracker} ({results.location}) do not match the benchmark:\n  "
            f"{shown}{more}\n{advice}"
        )
    if short_times:  # a warning only: the boxes are scored all the same
        issues.append(
            f"{len(short_times)} time file(s) not one time per box, left out of the speed: "
            + ", ".join(short_times[:5])
            + (", ..." if len(short_times) > 5 else "")
        )
    names = {seq.name for seq in sequences}
    twice = [(used, ignored) for sequence, used, ignored in results.duplicates if sequence in names]
    if twice:  # a warning only: the closest spelling is scored
        listed = ", ".join(f"{used} over {ignored}" for used, ignored in twice[:3])
        issues.append(
            f"{len(twice)} sequence(s) with two result files, the closer spelling scored "
            f"({listed}{', ...' if len(twice) > 3 else ''})"
        )
    run_sequence_arr = np.array([index for index, _, _ in units], dtype=np.intp)
    lengths = np.array([len(seq) for _, seq, _ in units], dtype=np.intp)
    given = np.minimum([len(run) for _, _, run in units], lengths)
    frame_run = np.repeat(np.arange(len(lengths)), lengths)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    position = np.arange(int(lengths.sum())) - np.repeat(starts, lengths)
    first = position == 0
    missing = position >= np.repeat(given, lengths)
    initialised = first & ~np.repeat(unrun, lengths)  # frame 1 of runs that exist
    # Boxes are laid out as (4, F) and viewed as (F, 4): contiguous columns, much faster.
    gt = _columns([(seq.file_boxes if protocol.file_boxes else seq.boxes).T for _, seq, _ in units])
    pred = _columns([_padded(run, len(seq)).T for _, seq, run in units])
    file_gt_nan = None  # the toolkits gate their fallback on the file's rows (LaSOT has no NaN)
    if protocol.fallback != "none" and not protocol.file_boxes:
        file_gt_nan = np.concatenate([np.isnan(seq.file_boxes).any(axis=1) for _, seq, _ in units])
    iou, center, norm_center, keep = frame_errors(
        protocol,
        gt,
        pred,
        first,
        initialised,
        missing,
        np.concatenate([seq.absent for _, seq, _ in units])
        if protocol.absent != "ignore"
        else None,
        (
            np.concatenate([_cover(seq) for _, seq, _ in units])
            if protocol.exclude_cover_zero
            else None
        ),
        (
            np.repeat([seq.image_size or (np.inf, np.inf) for _, seq, _ in units], lengths, axis=0)
            if protocol.clip_to_image
            else None
        ),
        file_gt_nan,
    )
    run_of = frame_run[keep]
    n_runs = len(lengths)
    frames = np.bincount(run_of, minlength=n_runs)
    success = metrics.count_above(
        iou[keep], protocol.iou_thresholds, run_of, n_runs, protocol.iou_inclusive
    )
    precision = metrics.count_below(center[keep], protocol.precision_thresholds, run_of, n_runs)
    norm = metrics.count_below(norm_center[keep], protocol.norm_thresholds, run_of, n_runs)
    iou_scored = np.where(np.isnan(iou[keep]), 0.0, np.clip(iou[keep], 0.0, 1.0))
    iou_sum = np.bincount(run_of, weights=iou_scored, minlength=n_runs)
    return Evaluation(
        results.tracker,
        protocol,
        [seq.name for seq in sequences],
        run_sequence_arr,
        frames,
        success,
        precision,
        norm,
        iou_sum,
        times,
        issues,
    )


def frame_errors(
    p: Protocol,
    gt: np.ndarray,
    pred: np.ndarray,
    first: np.ndarray,
    initialised: np.ndarray,
    missing: np.ndarray,
    absent: np.ndarray | None,
    cover: np.ndarray | None,
    image_size: np.ndarray | None,
    file_gt_nan: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-frame IoU, centre error, normalized centre error and the scored-frame mask.

    ``first`` marks every run's frame 1, ``initialised`` those of runs that exist: a missing
    sequence or run is not set to the ground truth on frame 1 (every frame of it fails).
    ``absent``, ``cover`` and ``image_size`` are only needed (and only passed) when the
    protocol uses absent flags, cover labels or clipping to the image. ``file_gt_nan`` marks
    the frames whose row in the annotation file is NaN, where ``gt`` also has NaN on absent
    frames: the previous-box fallback skips only those (as MATLAB and pytracking do, so on
    LaSOT, whose files have no NaN, an invalid box on an absent frame is replaced too and the
    last valid box carries through the absence).

    Sentinels follow the MATLAB toolkits: IoU -1 fails every success threshold; a distance
    of -1 passes every precision threshold, +inf passes none; NaN passes nothing.
    """
    if p.round_coords:
        gt, pred = bx.round_half_even(gt), bx.round_half_even(pred)
    gt_cols = gt.T  # column views: row-wise .all()/.any() over 4 values is slow in numpy
    gt_nan = (
        np.isnan(gt_cols[0]) | np.isnan(gt_cols[1]) | np.isnan(gt_cols[2]) | np.isnan(gt_cols[3])
    )
    if p.fallback != "none":
        if p.fallback == "matlab":
            p_cols = pred.T
            finite = np.isfinite(p_cols[0] + p_cols[1] + p_cols[2] + p_cols[3])
            invalid = ~(p_cols[2] > 0) | ~(p_cols[3] > 0) | ~finite
        else:
            invalid = (pred[:, 2] == 0) | (pred[:, 3] == 0)
        replace = invalid & ~(gt_nan if file_gt_nan is None else file_gt_nan) & ~first & ~missing
        source = np.maximum.accumulate(np.where(replace, 0, np.arange(len(pred))))
        pred = pred.T[:, source].T  # a new array, still column-contiguous
    if p.first_frame_gt:  # ``pred`` is this function's own array: edited in place
        pred[initialised] = gt[initialised]
        missing = missing & ~initialised
    if p.gt_valid == "all_positive":
        valid = (gt_cols[0] > 0) & (gt_cols[1] > 0) & (gt_cols[2] > 0) & (gt_cols[3] > 0)
    elif p.gt_valid == "wh_positive":
        valid = (gt_cols[2] > 0) & (gt_cols[3] > 0)
    else:
        valid = np.ones(len(gt), bool)
    n = len(gt)
    iou, center, norm_center = np.empty(n), np.empty(n), np.empty(n)
    for a in range(0, n, _BLOCK):  # blocks that stay in cache: the temporaries are many
        b = min(a + _BLOCK, n)
        size = image_size[a:b] if p.clip_to_image else None
        iou[a:b], center[a:b], norm_center[a:b] = _geometry(p, gt[a:b], pred[a:b], valid[a:b], size)
    iou[missing] = -1.0
    center[missing] = np.inf
    norm_center[missing] = np.inf
    keep = np.ones(len(gt), bool)
    if p.absent == "fail":
        iou[absent] = -1.0
        center[absent] = np.inf
        norm_center[absent] = np.inf
    elif p.absent == "drop":
        keep &= ~absent
    if p.drop_nan_gt:
        keep &= ~gt_nan
    if p.exclude_first:
        keep &= ~first
    if p.exclude_cover_zero:
        keep &= cover > 0
    return iou, center, norm_center, keep


_BLOCK = 16384  # frames per block: keeps the many temporaries in cache


def _geometry(
    p: Protocol, gt: np.ndarray, pred: np.ndarray, valid: np.ndarray, image_size: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """IoU, centre error and normalized centre error of a block of frames, with the
    protocol's invalid-ground-truth sentinels applied."""
    if image_size is not None:
        width, height = image_size[:, 0], image_size[:, 1]
        iou = bx.iou(
            bx.clip_shift_to_image(pred, width, height),
            bx.clip_shift_to_image(gt, width, height),
            p.iou_eps,
        )
    else:
        iou = bx.iou(pred, gt, p.iou_eps)
    iou[~valid] = -1.0
    gx, gy, gw, gh = gt.T
    px, py, pw, ph = pred.T
    gcx, gcy = gx + (gw - 1.0) / 2.0, gy + (gh - 1.0) / 2.0  # centre: xy + (wh - 1) / 2
    pcx, pcy = px + (pw - 1.0) / 2.0, py + (ph - 1.0) / 2.0
    dx, dy = pcx - gcx, pcy - gcy
    center = np.sqrt(dx * dx + dy * dy)  # as the toolkits write it (not np.hypot)
    with np.errstate(divide="ignore", invalid="ignore"):
        if p.norm_scale == "gt_wh":
            nx, ny = dx / gw, dy / gh
        elif p.norm_scale == "gt_wh_eps":  # pysot divides each centre, then subtracts
            sw, sh = gw + 1e-16, gh + 1e-16
            nx, ny = pcx / sw - gcx / sw, pcy / sh - gcy / sh
            norm_valid = (gcx / sw > 0) & (gcy / sh > 0)
        else:
            nx, ny = dx / np.maximum(gw, 1.0), dy / np.maximum(gh, 1.0)
    norm_center = np.sqrt(nx * nx + ny * ny)
    center_valid = (gcx > 0) & (gcy > 0) if p.center_valid == "center_positive" else valid
    center[~center_valid] = p.invalid_center
    norm_center[~(norm_valid if p.norm_scale == "gt_wh_eps" else center_valid)] = (
        p.invalid_norm_center
    )
    return iou, center, norm_center


def _columns(parts: list[np.ndarray]) -> np.ndarray:
    """``(4, n_i)`` parts joined into one C-ordered ``(4, F)`` array, returned as its ``(F, 4)``
    view (numpy's own concatenate may pick Fortran order, which makes columns strided)."""
    out = np.empty((4, sum(p.shape[1] for p in parts)))
    np.concatenate(parts, axis=1, out=out)
    return out.T


def _padded(run: np.ndarray, n: int) -> np.ndarray:
    """``run`` cut or NaN-padded to ``n`` rows (padding rows are flagged missing anyway)."""
    if len(run) == n:
        return run
    out = np.full((n, 4), np.nan)
    out[: min(n, len(run))] = run[:n]
    return out


def _cover(seq: Sequence) -> np.ndarray:
    return seq.cover if seq.cover is not None else np.ones(len(seq))
