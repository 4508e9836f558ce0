"""LaSOT: 1,400 sequences of 70 classes; the test split is the 280 of ``testing_set.txt``.

Layouts: the real dataset (``<class>/<class>-<n>/groundtruth.txt``, ``full_occlusion.txt``,
``out_of_view.txt``, ``nlp.txt``, ``img/%08d.jpg``), where absent = full occlusion OR out of
view; or the official toolkit's ``annos`` folder (``<seq>.txt``, ``absent/<seq>.txt``,
``att/<seq>.txt`` with 14 flags, ``nlp/<seq>.txt``). The train split is the other 1,120: each
class has sequences 1 to 20, four of them in the test list. It loads the training sequences on
disk (a partial download trains on what it has); ``missing_train`` says which are not.
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
    read_flags,
    select,
    spec_lines,
)
from sparsett_bench.datasets.registry import dataset_info
from sparsett_bench.datasets.sequence import Sequence
from sparsett_bench.errors import InputFileError, SparsettError

TEST_NAMES = spec_lines("lasot_test.txt")
SEQUENCES_PER_CLASS = 20
CLASSES = tuple(sorted({n.rsplit("-", 1)[0] for n in TEST_NAMES}))
_TEST_SET = frozenset(TEST_NAMES)
TRAIN_NAMES = tuple(
    name
    for name in (f"{c}-{i}" for c in CLASSES for i in range(1, SEQUENCES_PER_CLASS + 1))
    if name not in _TEST_SET
)


def load(root: str | Path, split: str = "test", names: list[str] | None = None) -> list[Sequence]:
    """The split's sequences, or only ``names`` (any spelling): a root that holds some of the
    test classes, as a download by class leaves it, serves the sequences it holds."""
    root = Path(root)
    if split not in ("test", "train"):
        raise SparsettError(f"LaSOT splits are test and train, not {split!r}")
    if not root.is_dir():
        raise InputFileError(root, "LaSOT root not found")
    full = {p.parent.name: p.parent for p in root.glob("*/*/groundtruth.txt")}
    if split == "train":
        on_disk = sorted(n for n in TRAIN_NAMES if n in full)  # as sorted before: runs resume
        if not on_disk:
            raise InputFileError(
                root, "no LaSOT training sequences (<class>/<seq>/groundtruth.txt)"
            )
        wanted = select(on_disk, names)
    else:
        wanted = select(list(TEST_NAMES), names)
    short = [a.short for a in dataset_info("lasot").attributes]
    if full:
        missing = [n for n in wanted if n not in full]
        if missing:
            raise InputFileError(
                root,
                f"{len(missing)} LaSOT {split} sequences missing (first: {', '.join(missing[:5])})"
                + ("" if names else f"; {PARTIAL_ROOT_HINT}"),
            )
        att_files = attribute_files(root / "att", wanted)
        return [_full_sequence(full[n], short, att_files.get(n)) for n in wanted]
    files = files_by_sequence(root, wanted)
    absent_files = files_by_sequence(root / "absent", wanted)
    missing = [n for n in wanted if n not in files or n not in absent_files]
    if missing:
        raise InputFileError(
            root,
            f"not a LaSOT root: no ground truth or absent flags for "
            f"{len(missing)} {split} sequences (first: {', '.join(missing[:5])})",
        )
    att_files = attribute_files(root / "att", wanted)
    sequences = []
    for name in wanted:
        gt = read_box_file(files[name])
        absent = _checked_flags(absent_files[name], len(gt))
        sequences.append(
            Sequence(
                name=name,
                boxes=gt,
                absent=absent,
                attributes=_attributes(att_files.get(name), short),
                description=_read_text(root / "nlp" / f"{name}.txt"),
            )
        )
    return sequences


def missing_train(root: str | Path) -> list[str]:
    """The official training sequences without a ``groundtruth.txt`` under ``root``."""
    root = Path(root)
    return [
        name
        for name in TRAIN_NAMES
        if not (root / name.rsplit("-", 1)[0] / name / "groundtruth.txt").is_file()
    ]


def _full_sequence(folder: Path, short: list[str], attribute_file: Path | None) -> Sequence:
    gt = read_box_file(folder / "groundtruth.txt")
    absent = _checked_flags(folder / "full_occlusion.txt", len(gt)) | _checked_flags(
        folder / "out_of_view.txt", len(gt)
    )

    def frames() -> list[Path]:
        return [folder / "img" / f"{i:08d}.jpg" for i in range(1, len(gt) + 1)]

    return Sequence(
        name=folder.name,
        boxes=gt,
        absent=absent,
        attributes=_attributes(attribute_file, short),
        frame_paths_fn=frames,
        description=_read_text(folder / "nlp.txt"),
    )


def _checked_flags(path: Path, count: int) -> np.ndarray:
    flags = read_flags(path)
    if flags.size != count:
        raise InputFileError(path, f"expected {count} flags (one per frame), found {flags.size}")
    return flags.astype(bool)


def _attributes(path: Path | None, short: list[str]) -> tuple[str, ...]:
    if path is None:
        return ()
    flags = read_attribute_flags(path, len(short))
    return tuple(s for s, f in zip(short, flags, strict=True) if f)


def _read_text(path: Path) -> str | None:
    return path.read_text(encoding="utf-8", errors="replace").strip() if path.is_file() else None
