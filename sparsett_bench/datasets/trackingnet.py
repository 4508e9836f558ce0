"""TrackingNet: ``TEST`` and ``TRAIN_0`` .. ``TRAIN_11`` chunks of ``anno/<seq>.txt`` and
``frames/<seq>/<k>.jpg`` (k from 0, no zero padding, so sorted numerically).

The test annotations hold the first box only. For local scoring (a train chunk, or the devkit's
golden pair) a folder or a zip of ``<seq>.txt`` files is read as well.
"""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path, PurePosixPath

import numpy as np

from sparsett_bench.box_files import parse_box_text, read_box_file
from sparsett_bench.datasets._files import numbered_frames
from sparsett_bench.datasets.sequence import Sequence
from sparsett_bench.errors import InputFileError, SparsettError

TRAIN_CHUNKS = tuple(f"TRAIN_{k}" for k in range(12))
# Sequences per chunk, at least: TEST holds 511, each TRAIN chunk 2,511 or 2,512 (the sizes of
# the PyPI ``TrackingNet`` package's chunk lists).
CHUNK_MINIMUM = {"TEST": 511, **{chunk: 2511 for chunk in TRAIN_CHUNKS}}


def chunks_for(split: str) -> tuple[str, ...]:
    if split == "test":
        return ("TEST",)
    if split == "train":
        return TRAIN_CHUNKS
    if split.upper() in TRAIN_CHUNKS:
        return (split.upper(),)
    raise SparsettError(f"TrackingNet splits are test, train and TRAIN_0..TRAIN_11, not {split!r}")


def load(root: str | Path, split: str = "test") -> list[Sequence]:
    """``split``'s sequences from the chunk folders; a zip or a folder of ``<seq>.txt`` (the
    devkit's ground truth, for local scoring) is one set of test annotations, with no train."""
    root = Path(root)
    chunks = chunks_for(split)
    if not root.exists():
        raise InputFileError(root, "TrackingNet root not found")
    if root.is_dir() and any((root / c / "anno").is_dir() for c in (*TRAIN_CHUNKS, "TEST")):
        found = [root / c for c in chunks if (root / c / "anno").is_dir()]
        if not found:
            raise InputFileError(root, f"no TrackingNet {split} chunk here ({chunks[0]}/anno)")
        return [
            _sequence(p, c / "frames" / p.stem)
            for c in found
            for p in sorted((c / "anno").glob("*.txt"))
        ]
    if chunks != ("TEST",):
        raise InputFileError(
            root, f"no TrackingNet {split} chunks here (<root>/TRAIN_k/anno/*.txt); a zip or a "
            "folder of <seq>.txt is read as test annotations"
        )  # fmt: skip
    if root.is_file():
        if not zipfile.is_zipfile(root):
            raise InputFileError(root, "expected a TrackingNet root, or a zip of <seq>.txt")
        return _from_zip(root)
    files = sorted(root.glob("*.txt"))
    if not files:
        raise InputFileError(root, "no TrackingNet test annotations (TEST/anno/*.txt)")
    return [_sequence(p, None) for p in files]


def chunk_shortfall(root: str | Path, split: str) -> str | None:
    """What the chunk folders of ``split`` under ``root`` lack, or None. ``load`` reads the
    chunks there are (training on a few chunks is common), so only this says which are not."""
    root = Path(root)
    if not root.is_dir() or not any((root / c / "anno").is_dir() for c in chunks_for(split)):
        return None  # a folder of annotations for local scoring, not the dataset's layout
    absent = [c for c in chunks_for(split) if not (root / c / "anno").is_dir()]
    if absent:
        return f"{len(absent)} chunk(s) not on disk: {', '.join(absent)} (<chunk>/anno)"
    for chunk in chunks_for(split):
        found = sum(1 for _ in (root / chunk / "anno").glob("*.txt"))
        if found < CHUNK_MINIMUM[chunk]:
            return f"{chunk}: {found} annotation files, it has {CHUNK_MINIMUM[chunk]} or more"
    return None


def _sequence(path: Path, frames_dir: Path | None) -> Sequence:
    gt = read_box_file(path)

    def frames() -> list[Path]:
        if frames_dir is None:
            raise FileNotFoundError(f"{path.stem}: no frames folder")
        return numbered_frames(frames_dir)

    return Sequence(name=path.stem, boxes=gt, absent=np.zeros(len(gt), bool), frame_paths_fn=frames)


def _from_zip(path: Path) -> list[Sequence]:
    sequences = []
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise InputFileError(path, f"a damaged zip ({exc})") from None
    with archive:
        for member in sorted(archive.namelist()):
            if not member.endswith(".txt") or "__MACOSX/" in member:  # macOS resource forks
                continue
            name = PurePosixPath(member).stem
            if name.startswith("._"):
                continue
            try:
                data = archive.read(member)
            except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
                raise InputFileError(f"{path}:{member}", f"damaged zip member ({exc})") from None
            gt = parse_box_text(data, f"{path}:{member}")
            sequences.append(Sequence(name=name, boxes=gt, absent=np.zeros(len(gt), bool)))
    if not sequences:
        raise InputFileError(path, "zip holds no <seq>.txt files")
    return sequences
