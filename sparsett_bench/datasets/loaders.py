"""One entry point over the per-dataset loaders: ``load_sequences("uav123", root)``."""

from __future__ import annotations

from pathlib import Path

from sparsett_bench.datasets import got10k, lasot, otb2015, synthetic, trackingnet, uav123
from sparsett_bench.datasets._files import select
from sparsett_bench.datasets.registry import canonical_name, dataset_info
from sparsett_bench.datasets.sequence import Sequence

_LOADERS = {
    "otb2015": otb2015.load,
    "uav123": uav123.load,
    "lasot": lasot.load,
    "got10k": got10k.load,
    "trackingnet": trackingnet.load,
    "synthetic": synthetic.load,
}

DEFAULT_SPLIT = {"got10k": "val"}


def load_sequences(
    dataset: str,
    root: str | Path | None = None,
    split: str | None = None,
    names: list[str] | None = None,
) -> list[Sequence]:
    """Sequences of ``dataset``'s ``split`` from ``root`` (default: the registry's root);
    ``names`` keeps only those sequences (any spelling), in the benchmark's order."""
    key = canonical_name(dataset)
    root = Path(root) if root is not None else dataset_info(key).root
    split = split or DEFAULT_SPLIT.get(key, "test")
    if key in ("otb2015", "lasot", "uav123"):  # a partial root serves the sequences it holds
        return _LOADERS[key](root, split, names)
    if key == "synthetic":  # simulating a sequence costs milliseconds: only those asked for
        return synthetic.load(root, split, names)
    sequences = _LOADERS[key](root, split)
    if names is None:
        return sequences
    by_name = {s.name: s for s in sequences}
    return [by_name[n] for n in select(list(by_name), names)]
