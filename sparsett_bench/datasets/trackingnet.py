"""TrackingNet: ``TEST`` and ``TRAIN_0`` .. ``TRAIN_11`` chunks of ``anno/<seq>.txt`` and
``frames/<seq>/<k>.jpg`` (k from 0, no zero padding, so sorted numerically).

The test annotations hold the first box only. For local scoring (a train chunk, or the devkit's
golden pair) a folder or a zip of ``<seq>.txt`` files is read as well.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from sparsett_bench.box_files import parse_box_text, read_box_file
from sparsett_bench.datasets._files import numbered_frames
from sparsett_bench.datasets.sequence import Sequence
from sparsett_bench.errors import InputFileError, SparsettError

TRAIN_CHUNKS = tuple(f"TRAIN_{k}" for k in range(12))


def chunks_for(split: str) -> tuple[str, ...]:
    if split == "test":
        return ("TEST",)
    if split == "train":
        return TRAIN_CHUNKS
    if split.upper() in TRAIN_CHUNKS:
        return (split.upper(),)
    raise SparsettError(f"TrackingNet splits are test, train and TRAIN_0..TRAIN_11, not {split!r}")


def load(root: str | Path, split: str = "test") -> list[Sequence]:
    root = Path(root)
    if root.is_file() and zipfile.is_zipfile(root):
        return _from_zip(root)
    if not root.is_dir():
        raise InputFileError(root, "TrackingNet root not found")
    chunks = [root / c for c in chunks_for(split) if (root / c / "anno").is_dir()]
    if not chunks:
        files = sorted(root.glob("*.txt"))
        if not files:
            raise InputFileError(root, f"no TrackingNet {split} annotations (<chunk>/anno/*.txt)")
        return [_sequence(p, None) for p in files]
    return [
        _sequence(p, c / "frames" / p.stem)
        for c in chunks
        for p in sorted((c / "anno").glob("*.txt"))
    ]


def _sequence(path: Path, frames_dir: Path | None) -> Sequence:
    gt = read_box_file(path)

    def frames() -> list[Path]:
        if frames_dir is None:
            raise FileNotFoundError(f"{path.stem}: no frames folder")
        return numbered_frames(frames_dir)

    return Sequence(name=path.stem, boxes=gt, absent=np.zeros(len(gt), bool), frame_paths_fn=frames)


def _from_zip(path: Path) -> list[Sequence]:
    sequences = []
    with zipfile.ZipFile(path) as archive:
        for member in sorted(archive.namelist()):
            if member.endswith(".txt") and not member.endswith("/"):
                gt = parse_box_text(archive.read(member), f"{path}:{member}")
                name = Path(member).stem
                sequences.append(Sequence(name=name, boxes=gt, absent=np.zeros(len(gt), bool)))
    if not sequences:
        raise InputFileError(path, "zip holds no <seq>.txt files")
    return sequences
