"""UAV123: 123 tracks cut from 91 image folders by the frame ranges of ``configSeqs.m``.

Layouts: the real dataset (``anno/UAV123/<seq>.txt``, ``anno/UAV123/att/``,
``data_seq/UAV123/<folder>/%06d.jpg``) or an annotation folder (``<seq>.txt``, ``att/``). A
``NaN`` row means the target is absent (fully occluded or out of view). Ranges may share
boundary frames (car1_1 ends at 751 where car1_2 starts) or skip frames (bird1).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sparsett_bench.box_files import read_box_file
from sparsett_bench.datasets._files import (
    PARTIAL_ROOT_HINT,
    attribute_files,
    files_by_sequence,
    read_attribute_flags,
    select,
    spec_rows,
)
from sparsett_bench.datasets.registry import dataset_info
from sparsett_bench.datasets.sequence import Sequence
from sparsett_bench.errors import InputFileError, SparsettError

SPECS = {row["name"]: row for row in spec_rows("uav123.csv")}
NAMES = sorted(SPECS)


def load(root: str | Path, split: str = "test", names: list[str] | None = None) -> list[Sequence]:
    """The 123 tracks, or only ``names`` (any spelling), which a partial root may serve."""
    root = Path(root)
    if split != "test":
        raise SparsettError(f"UAV123 has only a test split, not {split!r}")
    if not (root / "anno").is_dir() and (root / "UAV123" / "anno").is_dir():
        root = root / "UAV123"  # the archive's own top-level folder
    anno = root / "anno" / "UAV123"
    anno = anno if anno.is_dir() else root
    if not anno.is_dir():
        raise InputFileError(root, "UAV123 root not found")
    wanted = select(NAMES, names)
    files = files_by_sequence(anno, wanted)
    missing = [name for name in wanted if name not in files]
    if missing:
        raise InputFileError(
            anno,
            f"no ground truth for {len(missing)} of {len(wanted)} UAV123 tracks "
            f"(first: {', '.join(missing[:5])})" + ("" if names else f"; {PARTIAL_ROOT_HINT}"),
        )
    att_files = attribute_files(anno / "att", wanted)
    short = [a.short for a in dataset_info("uav123").attributes]
    sequences = []
    for name in wanted:
        spec = SPECS[name]
        gt = read_box_file(files[name])
        expected = int(spec["end"]) - int(spec["start"]) + 1
        if len(gt) != expected:
            raise InputFileError(
                files[name],
                f"expected {expected} boxes (frames "
                f"{spec['start']}-{spec['end']}), found {len(gt)}",
            )
        attributes: tuple[str, ...] = ()
        if name in att_files:
            flags = read_attribute_flags(att_files[name], len(short))
            attributes = tuple(s for s, f in zip(short, flags, strict=True) if f)
        sequences.append(
            Sequence(
                name=name,
                boxes=gt,
                absent=np.isnan(gt).any(axis=1),
                attributes=attributes,
                frame_paths_fn=_frames_fn(root, spec),
            )
        )
    return sequences


def _frames_fn(root: Path, spec: dict[str, str]):
    def frames() -> list[Path]:
        folder = root / "data_seq" / "UAV123" / spec["folder"]
        return [folder / f"{i:06d}.jpg" for i in range(int(spec["start"]), int(spec["end"]) + 1)]

    return frames
