"""Annotations and tracker results as `report` needs them, remembered between runs.

A small tree (an annotation folder, a results folder or zip) is fingerprinted by every file's
path, size, mtime and ctime; while that fingerprint holds, the parsed content is read back from
one ``.npz`` file instead of hundreds of text files (`parse_cache.cached_tree`). Full dataset
roots with their images are too large to fingerprint and are loaded the normal way. Sequences
read back here carry no frame paths: they serve evaluation only.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from sparsett_bench.datasets.loaders import load_sequences
from sparsett_bench.datasets.registry import dataset_info
from sparsett_bench.datasets.sequence import Sequence
from sparsett_bench.evaluation.results_io import (
    SequenceResult,
    TrackerResults,
    load_tracker_results,
)
from sparsett_bench.parse_cache import cached_tree


def annotations(
    dataset: str, root: Path | None, split: str, names: list[str] | None = None
) -> list[Sequence]:
    """The split's sequences (only ``names``, when given), through the folder snapshot cache."""
    root = Path(root) if root is not None else dataset_info(dataset).root
    return cached_tree(
        "annotations",
        root,
        f"{dataset}:{split}" + (":" + ",".join(names) if names else ""),
        lambda: load_sequences(dataset, root, split, names),
        _encode_sequences,
        _decode_sequences,
    )


def tracker_results(location: Path, expected: list[str], tracker: str) -> TrackerResults:
    params = json.dumps([tracker, expected])
    return cached_tree(
        "results",
        location,
        params,
        lambda: load_tracker_results(location, expected, tracker),
        _encode_results,
        _decode_results,
    )


def _encode_sequences(sequences: list[Sequence]) -> dict[str, np.ndarray | str]:
    return {
        "meta": json.dumps([_sequence_meta(s) for s in sequences]),
        "lengths": np.array([len(s) for s in sequences], dtype=np.int64),
        "boxes": np.concatenate([s.file_boxes for s in sequences]),
        "absent": np.concatenate([s.absent for s in sequences]),
        "cover": np.concatenate(
            [s.cover if s.cover is not None else np.zeros(len(s)) for s in sequences]
        ),
    }


def _sequence_meta(s: Sequence) -> list:
    return [
        s.name, list(s.attributes), s.image_size, s.description, s.cover is not None,
        s.omitted_frames,
    ]  # fmt: skip


def _decode_sequences(arrays: dict) -> list[Sequence]:
    meta = json.loads(arrays["meta"])
    bounds = np.concatenate([[0], np.cumsum(arrays["lengths"])])
    out = []
    for (name, attributes, size, description, has_cover, omitted), a, b in zip(
        meta, bounds[:-1], bounds[1:], strict=True
    ):
        out.append(
            Sequence(
                name=name,
                boxes=arrays["boxes"][a:b],
                absent=arrays["absent"][a:b],
                attributes=tuple(attributes),
                image_size=tuple(size) if size else None,
                cover=arrays["cover"][a:b] if has_cover else None,
                description=description,
                omitted_frames=omitted,
            )
        )
    return out


def _encode_results(results: TrackerResults) -> dict[str, np.ndarray | str]:
    names = list(results.sequences)
    runs = [r for name in names for r in results.sequences[name].runs]
    times = [results.sequences[n].times for n in names]
    return {
        "meta": json.dumps(
            {
                "tracker": results.tracker,
                "location": results.location,
                "layout": results.layout,
                "unmatched": results.unmatched,
                "duplicates": results.duplicates,
                "sequences": [
                    [
                        n,
                        len(results.sequences[n].runs),
                        results.sequences[n].sources,
                        results.sequences[n].times is not None,
                    ]
                    for n in names
                ],
            }
        ),
        "run_lengths": np.array([len(r) for r in runs], dtype=np.int64),
        "boxes": np.concatenate(runs) if runs else np.zeros((0, 4)),
        "time_lengths": np.array([0 if t is None else len(t) for t in times], dtype=np.int64),
        "times": np.concatenate([t for t in times if t is not None] or [np.zeros(0)]),
    }


def _decode_results(arrays: dict) -> TrackerResults:
    meta = json.loads(arrays["meta"])
    out = TrackerResults(
        meta["tracker"], meta["location"], meta["layout"], unmatched=meta["unmatched"],
        duplicates=meta["duplicates"],
    )  # fmt: skip
    run_bounds = np.concatenate([[0], np.cumsum(arrays["run_lengths"])])
    time_bounds = np.concatenate([[0], np.cumsum(arrays["time_lengths"])])
    run = 0
    for index, (name, count, sources, has_times) in enumerate(meta["sequences"]):
        boxes = [
            arrays["boxes"][run_bounds[run + k] : run_bounds[run + k + 1]] for k in range(count)
        ]
        run += count
        times = arrays["times"][time_bounds[index] : time_bounds[index + 1]] if has_times else None
        out.sequences[name] = SequenceResult(boxes, sources, times)
    return out
