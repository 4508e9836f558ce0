"""Trackers by name: a SparseTT model configuration (``sparsett-swin-t``, ``sparsett-tiny``)
with its weights, one of OpenCV's trackers (``opencv-csrt``, ...), or any Python class that
implements `Tracker`, named ``python:package.module:ClassName`` (built with no arguments, in
each worker process).

A tracker is described by a `TrackerSpec`, a small picklable record, so that worker processes
can each build their own copy (`build_tracker`)."""

from __future__ import annotations

from dataclasses import MISSING, asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING

from sparsett_bench.errors import SparsettError
from sparsett_bench.tracking.base import Tracker
from sparsett_bench.tracking.postprocess import TrackerParams

if TYPE_CHECKING:
    from sparsett_bench.model.sparsett import SparseTT

OPENCV_PREFIX = "opencv-"
PYTHON_PREFIX = "python:"


@dataclass(frozen=True)
class TrackerSpec:
    """Everything needed to rebuild a tracker in another process.

    ``name`` is what the results folder is called; ``kind`` is a model configuration or an
    OpenCV tracker; ``checkpoint_sha256`` identifies the weights (a retrained file at the same
    path is another configuration); ``params`` are SparseTT's test-time hyperparameters
    (``None`` for OpenCV); ``precision``, ``fold_bn``, ``fused_kernels`` and ``cuda_graphs`` go
    to the model's `Predictor`; ``runtime`` is ``torch`` or ``onnxruntime`` (the search branch
    on ONNX Runtime's CPU provider).
    """

    name: str
    kind: str
    checkpoint: str | None = None
    checkpoint_sha256: str | None = None
    params: dict | None = None
    precision: str = "fp32"
    fold_bn: bool = False
    fused_kernels: bool = False
    cuda_graphs: bool = False
    runtime: str = "torch"

    def describe(self) -> dict:
        return asdict(self)

    @classmethod
    def defaults(cls) -> dict:
        """Every field's default: a record written before a field existed had that value."""
        return {f.name: f.default for f in fields(cls) if f.default is not MISSING}


def is_opencv(kind: str) -> bool:
    return kind.startswith(OPENCV_PREFIX)


def is_python(kind: str) -> bool:
    return kind.startswith(PYTHON_PREFIX)


def python_tracker(kind: str) -> Tracker:
    """Import ``python:module:Class`` and build it with no arguments."""
    import importlib

    module, _, attribute = kind[len(PYTHON_PREFIX) :].partition(":")
    try:
        factory = getattr(importlib.import_module(module), attribute)
    except (ImportError, AttributeError, ValueError) as exc:
        raise SparsettError(f"{kind}: cannot import the tracker ({exc})") from None
    if not callable(factory):
        raise SparsettError(f"{kind}: {attribute} is not a class or a function")
    try:
        tracker = factory()
    except Exception as exc:  # the plugin's own error: named, without our traceback
        raise SparsettError(f"{kind}: building it raised {type(exc).__name__}: {exc}") from None
    if not isinstance(tracker, Tracker):
        raise SparsettError(f"{kind}: not a tracker (needs name, init(image, box), update(image))")
    check_results_name(tracker.name, f"{kind}: its name")
    return tracker


def check_results_name(name: object, what: str) -> None:
    """Refuse a tracker name that cannot be one folder beside the others under ``--results``
    (``report`` skips hidden folders and ``reports``, where its own tables go)."""
    if not isinstance(name, str) or not name.strip():
        raise SparsettError(f"{what} {name!r}: expected a non-empty string")
    if "/" in name or "\\" in name or name.startswith(".") or name == "reports":
        raise SparsettError(
            f"{what} {name!r}: a tracker's results are one folder under --results, so no '/', "
            "'\\', leading '.' or the name 'reports'"
        )


def tracker_params(model: str, dataset: str, overrides: dict[str, float] | None = None) -> dict:
    """The model config's ``[tracker.<dataset>]`` table (else ``[tracker.default]``), with
    ``overrides`` (``test_lr``, ``window_influence``, ``penalty_k``) applied."""
    from sparsett_bench.model.config import load_config

    tables = load_config(model).get("tracker", {})
    table = tables.get(dataset, tables.get("default"))
    if table is None:
        raise SparsettError(
            f"model {model!r} has no [tracker.{dataset}] or [tracker.default] hyperparameters"
        )
    params = dict(table) | {k: v for k, v in (overrides or {}).items() if v is not None}
    TrackerParams(**params)  # unknown or missing keys fail here, naming them
    return params


def build_tracker(spec: TrackerSpec, device: str = "cpu", threads: int | None = None) -> Tracker:
    """A fresh tracker for ``spec`` on ``device`` (model weights loaded, eval mode);
    ``threads`` is for a runtime that takes its thread count when it is built."""
    if is_opencv(spec.kind):
        from sparsett_bench.tracking.opencv_baselines import create_opencv_tracker

        tracker = create_opencv_tracker(spec.kind)
        tracker.name = spec.name
        return tracker
    if is_python(spec.kind):
        return python_tracker(spec.kind)
    from sparsett_bench.model.config import load_config
    from sparsett_bench.tracking.sparsett_tracker import SparseTTTracker

    geometry = load_config(spec.kind).get("input", {})
    return SparseTTTracker(
        _loaded_model(spec),
        TrackerParams(**(spec.params or {})),
        name=spec.name,
        z_size=geometry.get("template_size", 127),
        x_size=geometry.get("search_size", 289),
        score_size=load_config(spec.kind)["neck"]["x_size"],
        context_amount=geometry.get("context_amount", 0.5),
        device=device,
        precision=spec.precision,  # type: ignore[arg-type]
        fold_bn=spec.fold_bn,
        fused_kernels=spec.fused_kernels,
        cuda_graphs=spec.cuda_graphs,
        runtime=spec.runtime,  # type: ignore[arg-type]
        threads=threads,
    )


def check_tracker(spec: TrackerSpec) -> None:
    """Fail as `build_tracker` would on a wrong name, an unimportable class, or missing or
    mismatched weights, without a device: `run` calls this before it writes anything, so a
    refused tracker leaves no results folder behind. A SparseTT model is built and loaded on
    the CPU and dropped (its device options were checked apart)."""
    if is_opencv(spec.kind) or is_python(spec.kind):
        build_tracker(spec)
    else:
        _loaded_model(spec)


def _loaded_model(spec: TrackerSpec) -> SparseTT:
    from sparsett_bench.model.config import build_model
    from sparsett_bench.model.weights import load_weights

    if spec.checkpoint is None:
        raise SparsettError(
            f"{spec.kind}: no weights; give --checkpoint (a sparsett-bench checkpoint, or an "
            "official one: sparsett-bench download --model sparsett-fulldata)"
        )
    model = build_model(spec.kind)
    load_weights(model, Path(spec.checkpoint))
    return model
