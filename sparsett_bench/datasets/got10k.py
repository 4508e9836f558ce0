"""GOT-10k: ``<split>/list.txt`` and ``<split>/<seq>/`` with ``groundtruth.txt``, ``cover.label``,
``absence.label``, ``meta_info.ini`` and 8-digit ``.jpg`` frames.

The test split's ground truth holds the first box only (scores come from the server). The
evaluation uses ``cover`` (0..8 visible-ratio bins; 0 = not visible) and the resolution from
``meta_info.ini``; ``absent`` is ``absence.label`` when present, else ``cover == 0``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np

from sparsett_bench.box_files import read_box_file
from sparsett_bench.datasets._files import numbered_frames, read_flags
from sparsett_bench.datasets.sequence import Sequence
from sparsett_bench.errors import InputFileError, SparsettError

SPLITS = ("train", "val", "test")


def load(root: str | Path, split: str = "val") -> list[Sequence]:
    root = Path(root)
    if split not in SPLITS:
        raise SparsettError(f"GOT-10k splits are {', '.join(SPLITS)}, not {split!r}")
    base = root / split if (root / split / "list.txt").is_file() else root
    list_file = base / "list.txt"
    if not list_file.is_file():
        raise InputFileError(
            root / split / "list.txt",
            f"missing GOT-10k {split} sequence list (nor is there one at {root / 'list.txt'})",
        )
    try:
        text = list_file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        reason = f"not a text list of sequence names ({exc.reason})"
        raise InputFileError(list_file, reason) from None
    names = [n.strip() for n in text.splitlines() if n.strip()]
    return [_sequence(base / name, split) for name in names]


def _sequence(folder: Path, split: str) -> Sequence:
    gt_path = folder / "groundtruth.txt"
    if not gt_path.is_file():
        raise InputFileError(gt_path, "missing ground truth")
    gt = read_box_file(gt_path)
    cover = absent = None
    if split != "test":
        cover = _flags(folder / "cover.label", len(gt))
        absence = folder / "absence.label"
        absent = _flags(absence, len(gt)).astype(bool) if absence.is_file() else cover == 0
    else:
        absent = np.zeros(len(gt), dtype=bool)

    def frames() -> list[Path]:
        return numbered_frames(folder)

    return Sequence(
        name=folder.name,
        boxes=gt,
        absent=absent,
        cover=cover,
        image_size=_resolution(folder / "meta_info.ini"),
        frame_paths_fn=frames,
    )


def _flags(path: Path, count: int) -> np.ndarray:
    flags = read_flags(path)
    if flags.size != count:
        raise InputFileError(path, f"expected {count} values (one per frame), found {flags.size}")
    return flags


def _resolution(path: Path) -> tuple[int, int] | None:
    """``resolution: (W, H)`` from ``meta_info.ini`` (first line is a header)."""
    if not path.is_file():
        return None
    for number, line in enumerate(path.read_text(errors="replace").splitlines(), start=1):
        key, _, value = line.partition(":")
        if key.strip() == "resolution":
            try:
                width, height = ast.literal_eval(value.strip())
                return int(width), int(height)
            except (ValueError, SyntaxError, TypeError):
                raise InputFileError(path, f"bad resolution {value.strip()!r}", number) from None
    return None
