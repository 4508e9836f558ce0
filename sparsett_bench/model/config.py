"""Model configurations by name: ``models/<name>.toml`` (``--model sparsett-swin-t``).

The files are looked up in ``$SPARSETT_MODELS_DIR``, ``./models``, the source checkout and
``<prefix>/share/sparsett-bench/models``; every hyperparameter of the model and of the
tracker's post-processing lives in the file.
"""

from __future__ import annotations

import os
import sys
import tomllib
from pathlib import Path

from sparsett_bench.errors import InputFileError, SparsettError


def model_dirs() -> list[Path]:
    candidates = [
        os.environ.get("SPARSETT_MODELS_DIR"),
        Path.cwd() / "models",
        Path(__file__).resolve().parents[2] / "models",
        Path(sys.prefix) / "share" / "sparsett-bench" / "models",
    ]
    return [Path(c) for c in candidates if c and Path(c).is_dir()]


RECIPE_PREFIX = "train-"  # models/train-*.toml are training recipes, not model configurations


def available() -> list[str]:
    return sorted(
        {p.stem for d in model_dirs() for p in d.glob("*.toml")}
        - {p.stem for d in model_dirs() for p in d.glob(f"{RECIPE_PREFIX}*.toml")}
    )


def load_config(name: str) -> dict:
    if name.startswith(RECIPE_PREFIX):
        raise SparsettError(
            f"{name!r} is a training recipe (train --recipe {name[len(RECIPE_PREFIX) :]}), not a "
            f"model; models: {', '.join(available())}"
        )
    for folder in model_dirs():
        path = folder / f"{name}.toml"
        if path.is_file():
            try:
                return tomllib.loads(path.read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError as exc:
                raise InputFileError(path, f"invalid TOML: {exc}") from None
    raise SparsettError(f"unknown model {name!r}; available: {', '.join(available()) or 'none'}")


def build_model(name: str):
    """A `SparseTT` with the named configuration (random weights)."""
    from sparsett_bench.model.sparsett import SparseTT

    config = load_config(name)
    backbone = dict(config["backbone"])
    neck = dict(config["neck"])
    return SparseTT(backbone=backbone, head=dict(config["head"]), **neck)
