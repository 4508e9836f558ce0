"""OTB2015 (OTB100): the 100 targets with the MATLAB toolkit's frame ranges and names.

Two layouts are read: the real dataset (``<Folder>/groundtruth_rect[.k].txt`` and ``img/``),
and the benchmark toolkit's annotation folder (``<seq>.txt`` in any spelling, such as
``Human4.2.txt`` or ``jogging-1.txt``, plus ``att/<seq>.txt`` with 11 flags). Frame ranges
follow ``configSeqs.m``: David 300-770, Tiger1 6-354 (``initOmit`` 5, so 349 frames),
BlurCar1/3/4 from 247/3/18, Board 5-digit names; Jogging and Skating2 have two targets
(``groundtruth_rect.1/.2.txt``), Human4 the second only.
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

SPECS = {row["name"]: row for row in spec_rows("otb2015.csv")}
NAMES = sorted(SPECS, key=str.lower)


def is_full_layout(root: Path) -> bool:
    return (root / "Basketball" / "groundtruth_rect.txt").is_file() or any(
        (root / spec["folder"] / spec["gt_file"]).is_file() for spec in SPECS.values()
    )


def load(root: str | Path, split: str = "test", names: list[str] | None = None) -> list[Sequence]:
    """The 100 sequences, or only ``names`` (any spelling); ``split`` is always ``test``."""
    root = Path(root)
    if split != "test":
        raise SparsettError(f"OTB2015 has only a test split, not {split!r}")
    if not root.is_dir():
        raise InputFileError(root, "OTB2015 root not found")
    wanted = select(NAMES, names)
    short = [a.short for a in dataset_info("otb2015").attributes]
    if is_full_layout(root):
        missing = [
            n for n in wanted if not (root / SPECS[n]["folder"] / SPECS[n]["gt_file"]).is_file()
        ]
        if missing and names is None:
            raise InputFileError(
                root,
                f"OTB2015 root holds {len(wanted) - len(missing)} of 100 sequences (missing: "
                f"{', '.join(missing[:5])}{', ...' if len(missing) > 5 else ''}); "
                f"{PARTIAL_ROOT_HINT}",
            )
        boxes = {name: _full_boxes(root, SPECS[name]) for name in wanted}
    else:
        files = files_by_sequence(root, wanted)
        missing = [name for name in wanted if name not in files]
        if missing:
            raise InputFileError(
                root,
                f"not an OTB2015 root: no ground truth for {len(missing)} of {len(wanted)} "
                f"sequences (first: {', '.join(missing[:5])})",
            )
        boxes = {name: read_box_file(files[name]) for name in wanted}
    att_files = attribute_files(root / "att", wanted)  # once the root is known to be OTB's
    sequences = []
    for name in wanted:
        attributes: tuple[str, ...] = ()
        if name in att_files:
            flags = read_attribute_flags(att_files[name], len(short))
            attributes = tuple(s for s, f in zip(short, flags, strict=True) if f)
        elif (root / SPECS[name]["folder"] / "attrs.txt").is_file():
            attributes = _attrs_txt(root / SPECS[name]["folder"] / "attrs.txt", short)
        gt = boxes[name]
        sequences.append(
            Sequence(
                name=name,
                boxes=gt,
                absent=np.zeros(len(gt), dtype=bool),
                attributes=attributes,
                frame_paths_fn=_frames_fn(root, SPECS[name], len(gt)),
                omitted_frames=int(SPECS[name]["init_omit"]),
            )
        )
    return sequences


def _attrs_txt(path: Path, short: list[str]) -> tuple[str, ...]:
    """The dataset's own ``attrs.txt``: abbreviations such as ``SV, DEF, FM, OPR, BC``."""
    found = {part.strip().upper() for part in path.read_text(errors="replace").split(",")}
    unknown = found - set(short) - {""}
    if unknown:
        raise InputFileError(path, f"unknown attributes {sorted(unknown)}; expected {short}")
    return tuple(a for a in short if a in found)


def _full_boxes(root: Path, spec: dict[str, str]) -> np.ndarray:
    path = root / spec["folder"] / spec["gt_file"]
    gt = read_box_file(path)
    expected = int(spec["end"]) - int(spec["start"]) + 1
    if len(gt) != expected:
        raise InputFileError(
            path,
            f"expected {expected} boxes (frames {spec['start']}-{spec['end']}), found {len(gt)}",
        )
    return gt[int(spec["init_omit"]) :]


def _frames_fn(root: Path, spec: dict[str, str], count: int):
    first = int(spec["start"]) + int(spec["init_omit"])
    digits, ext = int(spec["digits"]), spec["ext"]

    def frames() -> list[Path]:
        folder = root / spec["folder"] / "img"
        return [folder / f"{index:0{digits}d}.{ext}" for index in range(first, first + count)]

    return frames
