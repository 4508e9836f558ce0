"""Training recipes by name: ``models/train-<name>.toml`` (``got10k``, ``fulldata``,
``synthetic``), every hyperparameter of the official recipe in the file, any of them
overridable (``--set schedule.batch_size=8``)."""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Callable
from pathlib import Path

from sparsett_bench.errors import InputFileError, SparsettError
from sparsett_bench.training.sampler import Source

# Training-only sources and where they are looked for when a recipe gives no root.
EXTRA_ROOTS = {
    "vid": Path("data/ILSVRC2015"),
    "det": Path("data/ILSVRC2015"),
    "coco": Path("data/coco"),
}


def load_recipe(name: str) -> dict:
    """The recipe ``name`` (``got10k`` or ``train-got10k``) or a TOML file path."""
    from sparsett_bench.model.config import RECIPE_PREFIX, model_dirs

    path = Path(name)
    if not path.is_file():
        stem = name if name.startswith(RECIPE_PREFIX) else f"{RECIPE_PREFIX}{name}"
        found = [d / f"{stem}.toml" for d in model_dirs() if (d / f"{stem}.toml").is_file()]
        if not found:
            recipes = {p.stem for d in model_dirs() for p in d.glob(f"{RECIPE_PREFIX}*.toml")}
            known = sorted(stem[len(RECIPE_PREFIX) :] for stem in recipes)
            raise SparsettError(f"unknown recipe {name!r}; known: {', '.join(known)}")
        path = found[0]
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InputFileError(path, f"invalid TOML: {exc}") from None


def with_overrides(recipe: dict, assignments: list[str]) -> dict:
    """Apply ``section.key=value`` strings (values parsed as TOML: ``8``, ``1e-4``, ``[...]``)."""
    recipe = copy.deepcopy(recipe)
    for assignment in assignments:
        key, sep, raw = assignment.partition("=")
        parts = key.strip().split(".")
        if not sep or len(parts) != 2 or parts[0] not in recipe or parts[1] not in recipe[parts[0]]:
            raise SparsettError(
                f"--set {assignment!r}: expected section.key=value with an existing key "
                f"(sections: {', '.join(k for k, v in recipe.items() if isinstance(v, dict))})"
            )
        try:
            value = tomllib.loads(f"v = {raw.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw.strip()
        recipe[parts[0]][parts[1]] = value
    return recipe


# a recipe's top-level keys; [loss] may be left out (the official weights)
RECIPE_KEYS = frozenset(
    {"name", "description", "schedule", "optimizer", "sampling", "sources", "loss"}
)


def check_recipe(recipe: dict) -> None:
    """Refuse a recipe value the trainer cannot run with (from the file or from ``--set``),
    naming the key and what it must be, before anything is built or written."""
    checks: list[tuple[str, str, str, Callable[[object], bool]]] = [
        *[("schedule", key, "a positive integer", _positive_int)
          for key in ("epochs", "batch_size", "pairs_per_epoch", "bn_batch")],
        ("schedule", "seed", "an integer >= 0", lambda v: _positive_int(v) or v == 0),
        ("optimizer", "lr", "a number above 0", lambda v: _number(v) and v > 0),
        *[("optimizer", key, "a number >= 0", lambda v: _number(v) and v >= 0)
          for key in ("weight_decay", "backbone_lr_multiplier", "grad_clip")],
        ("optimizer", "lr_stages", "a list of [last epoch, lr] pairs", _lr_stages),
        ("sampling", "negative_ratio", "a fraction from 0 to 1",
         lambda v: _number(v) and 0 <= v <= 1),
        *[("loss", key, "a number >= 0", lambda v: _number(v) and v >= 0)
          for key in recipe.get("loss", {})],
    ]  # fmt: skip
    unknown = sorted(set(recipe) - RECIPE_KEYS)
    if unknown:  # a misspelt section would otherwise be silently ignored
        raise SparsettError(f"recipe: unknown {unknown}; known: {sorted(RECIPE_KEYS)}")
    for section, key, expected, valid in checks:
        if key not in recipe.get(section, {}):
            raise SparsettError(f"recipe: no {section}.{key}")
        if not valid(recipe[section][key]):
            raise SparsettError(
                f"recipe value {section}.{key} = {recipe[section][key]!r}: expected {expected}"
            )
    if recipe["schedule"]["pairs_per_epoch"] < recipe["schedule"]["batch_size"]:
        raise SparsettError(
            f"recipe value schedule.pairs_per_epoch = {recipe['schedule']['pairs_per_epoch']}: "
            f"less than one batch of schedule.batch_size = {recipe['schedule']['batch_size']}"
        )


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _lr_stages(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(
        isinstance(stage, list) and len(stage) == 2 and _positive_int(stage[0])
        and _number(stage[1]) for stage in value
    )  # fmt: skip


def load_sources(recipe: dict, roots: dict[str, Path] | None = None) -> list[Source]:
    """The recipe's ``[[sources]]``, loaded (``roots`` overrides a dataset's root; an entry's
    ``sequences`` list keeps only those sequences, ``max_sequences`` only the first N)."""
    from sparsett_bench.datasets import training_sources
    from sparsett_bench.datasets.loaders import load_sequences

    unused = set(roots or {}) - {entry["dataset"] for entry in recipe.get("sources", [])}
    if unused:
        raise SparsettError(
            f"--root {', '.join(sorted(unused))}: not a source of this recipe (its sources: "
            f"{', '.join(entry['dataset'] for entry in recipe.get('sources', []))})"
        )
    sources = []
    for entry in recipe.get("sources", []):
        dataset = entry["dataset"]
        root = (roots or {}).get(dataset) or entry.get("root")
        if dataset in ("vid", "det", "coco"):
            root = Path(root or EXTRA_ROOTS[dataset])
            if dataset == "vid":
                sequences = training_sources.load_vid(root)
            elif dataset == "det":
                sequences = training_sources.load_det(root)
            else:
                sequences = training_sources.load_coco(root, entry.get("split", "train2017"))
        else:
            names = entry.get("sequences")  # optional subset (any spelling)
            sequences = load_sequences(dataset, root, entry.get("split", "train"), names)
        if "max_sequences" in entry:  # the first N, in the dataset's order
            sequences = sequences[: int(entry["max_sequences"])]
        sources.append(
            Source(dataset, sequences, float(entry["ratio"]), int(entry.get("max_diff", 100)))
        )
    return sources
