"""The dataset registry, ``datasets.toml``: roots, splits and attribute names per dataset.

The file is looked up in this order: ``$SPARSETT_DATASETS_TOML``; ``datasets.toml`` in the
current directory; the source checkout this package runs from; the copy installed under
``<prefix>/share/sparsett-bench``. A dataset's root is ``--root`` if given, else
``$SPARSETT_<NAME>_ROOT``, else the registry's ``root``.
"""

from __future__ import annotations

import os
import sys
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from sparsett_bench.errors import InputFileError, SparsettError

ALIASES = {
    "otb": "otb2015",
    "otb100": "otb2015",
    "otb2015": "otb2015",
    "uav": "uav123",
    "uav123": "uav123",
    "lasot": "lasot",
    "got10k": "got10k",
    "got-10k": "got10k",
    "trackingnet": "trackingnet",
    "tnet": "trackingnet",
    "synthetic": "synthetic",
}


@dataclass(frozen=True)
class Attribute:
    short: str
    long: str


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    title: str
    root: Path
    splits: tuple[str, ...]
    attributes: tuple[Attribute, ...]
    access: str = ""


def canonical_name(name: str) -> str:
    """``otb``/``OTB100``/``otb2015`` -> ``otb2015``; unknown names raise `SparsettError`."""
    key = name.strip().lower().replace("_", "")
    if key not in ALIASES:
        known = ", ".join(sorted(set(ALIASES.values())))
        raise SparsettError(f"unknown dataset {name!r}; known: {known}")
    return ALIASES[key]


def registry_path() -> Path:
    candidates = [
        os.environ.get("SPARSETT_DATASETS_TOML"),
        Path.cwd() / "datasets.toml",
        Path(__file__).resolve().parents[2] / "datasets.toml",
        Path(sys.prefix) / "share" / "sparsett-bench" / "datasets.toml",
    ]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise SparsettError("datasets.toml not found (set SPARSETT_DATASETS_TOML to its path)")


@cache
def _load(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InputFileError(path, f"invalid TOML: {exc}") from None


def dataset_info(name: str) -> DatasetInfo:
    key = canonical_name(name)
    path = registry_path()
    table = _load(path).get(key)
    if table is None:
        raise InputFileError(path, f"no [{key}] table")
    env_root = os.environ.get(f"SPARSETT_{key.upper()}_ROOT")
    return DatasetInfo(
        name=key,
        title=table.get("title", key),
        root=Path(env_root or table.get("root", f"data/{key}")),
        splits=tuple(table.get("splits", ("test",))),
        attributes=tuple(Attribute(short, long) for short, long in table.get("attributes", [])),
        access=table.get("access", ""),
    )


def registry_table(*keys: str) -> dict:
    """A raw table of the registry, e.g. ``registry_table("lasot", "download")``."""
    path = registry_path()
    table = _load(path)
    for key in keys:
        table = table.get(key) if isinstance(table, dict) else None
        if table is None:
            raise SparsettError(f"{path}: no [{'.'.join(keys)}] table")
    return table
