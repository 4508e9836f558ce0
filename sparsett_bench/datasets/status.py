"""Is a dataset on disk, and is it complete? The check behind ``sparsett-bench datasets``.

"Complete" means: every split in the registry loads (all annotation files present and
well-formed) with every sequence the benchmark has (LaSOT train and TrackingNet load the
sequences on disk, so their lists and chunk sizes are checked here) and, for splits with
images, the first and last frame of every sequence exist.
Checking every frame of LaSOT (3.5 M files) would take minutes; first and last catch the
usual failure, a truncated archive extraction.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sparsett_bench.datasets import lasot, trackingnet
from sparsett_bench.datasets.loaders import load_sequences
from sparsett_bench.datasets.registry import dataset_info
from sparsett_bench.errors import SparsettError


@dataclass(frozen=True)
class SplitStatus:
    split: str
    sequences: int
    frames: int
    problem: str | None  # None when complete


@dataclass(frozen=True)
class DatasetStatus:
    name: str
    title: str
    root: Path
    present: bool
    splits: tuple[SplitStatus, ...]
    access: str = ""

    @property
    def complete(self) -> bool:
        return self.present and all(s.problem is None for s in self.splits)


def dataset_status(name: str, root: Path | None = None, check_frames: bool = True) -> DatasetStatus:
    info = dataset_info(name)
    root = root or info.root
    if info.name == "synthetic":  # generated on demand: always available, nothing to check
        from sparsett_bench.datasets.synthetic import SPLITS

        splits = tuple(SplitStatus(s, n, n * frames, None) for s, (_, n, frames) in SPLITS.items())
        return DatasetStatus(info.name, info.title, root, True, splits, info.access)
    if not root.exists():
        return DatasetStatus(info.name, info.title, root, False, (), info.access)
    return DatasetStatus(
        info.name,
        info.title,
        root,
        True,
        tuple(_split_status(info.name, root, s, check_frames) for s in info.splits),
        info.access,
    )


def _split_status(name: str, root: Path, split: str, check_frames: bool) -> SplitStatus:
    try:
        sequences = load_sequences(name, root, split)
    except SparsettError as exc:
        return SplitStatus(split, 0, 0, str(exc))
    frames = sum(len(s) for s in sequences)
    shortfall = _shortfall(name, root, split)
    if shortfall is not None:
        return SplitStatus(split, len(sequences), frames, shortfall)
    for sequence in sequences:
        if len(sequence) == 0:
            return SplitStatus(split, len(sequences), frames, f"{sequence.name}: no ground truth")
    if check_frames:
        for sequence in sequences:
            try:
                paths = sequence.frame_paths
            except FileNotFoundError:
                return SplitStatus(split, len(sequences), frames, f"{sequence.name}: no images")
            if not paths:
                return SplitStatus(split, len(sequences), frames, f"{sequence.name}: no frames")
            if len(paths) < len(sequence):  # a folder listing: frames lost in extraction
                problem = f"{sequence.name}: {len(paths)} frames for {len(sequence)} boxes"
                return SplitStatus(split, len(sequences), frames, problem)
            for path in (paths[0], paths[-1]):
                if not path.is_file():
                    return SplitStatus(split, len(sequences), frames, f"missing frame {path}")
    return SplitStatus(split, len(sequences), frames, None)


def _shortfall(name: str, root: Path, split: str) -> str | None:
    """The sequences a split that loads from what is on disk lacks, or None."""
    if name == "trackingnet":
        return trackingnet.chunk_shortfall(root, split)
    if name == "lasot" and split == "train":
        missing = lasot.missing_train(root)
        if missing:
            return (
                f"{len(missing)} of the {len(lasot.TRAIN_NAMES)} training sequences "
                f"not on disk (first: {', '.join(missing[:5])})"
            )
    return None
