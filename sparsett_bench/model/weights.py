"""Loading weights into a `SparseTT`: this project's checkpoints and official ones, by content.

An official checkpoint (``{"model_state_dict": ...}`` in mmdet key layout) is converted on the
fly; `load_weights` tells the two apart from the file itself, so ``--checkpoint`` takes either,
or the name of a checkpoint that ``sparsett-bench download --model NAME`` fetched
(`resolve_checkpoint`).
"""

from __future__ import annotations

from pathlib import Path

from sparsett_bench.errors import InputFileError, SparsettError
from sparsett_bench.model.sparsett import (
    CHECKPOINT_FORMAT,
    TRAIN_FORMAT,
    SparseTT,
    read_checkpoint,
)

DOWNLOADED = Path("models") / "official"  # where `download --model` puts checkpoints


def resolve_checkpoint(value: str | Path) -> Path:
    """An existing file, or a ``[models.NAME]`` entry of datasets.toml already downloaded."""
    path = Path(value)
    if path.is_file():
        return path.resolve()
    from sparsett_bench.datasets.registry import registry_table

    try:
        table = registry_table("models", str(value))
    except SparsettError:
        raise InputFileError(
            path, "checkpoint not found (a file, or a downloaded model name)"
        ) from None
    downloaded = DOWNLOADED / table["file"]
    if not downloaded.is_file():
        raise SparsettError(
            f"checkpoint {value!r} is not downloaded yet: sparsett-bench download --model {value}"
        )
    return downloaded.resolve()


DEFAULT_MODEL = "sparsett-tiny"  # the model shipped with its trained weights


def shipped_checkpoint(model: str) -> Path | None:
    """``models/<model>.pth`` beside the configuration, when the project ships weights for it."""
    from sparsett_bench.model.config import model_dirs

    for folder in model_dirs():
        if (folder / f"{model}.pth").is_file():
            return (folder / f"{model}.pth").resolve()
    return None


def model_for_checkpoint(path: str | Path) -> str:
    """The configuration a checkpoint belongs to: the name a project checkpoint records, or
    ``sparsett-swin-t`` for an official one."""
    if checkpoint_kind(path) == "official":
        return "sparsett-swin-t"
    name = read_checkpoint(path).get("model")
    if not name:
        raise InputFileError(path, "the checkpoint does not record its model; give --model")
    return str(name)


def checkpoint_kind(path: str | Path) -> str:
    """``"project"`` or ``"official"``; anything else is an `InputFileError` naming the file."""
    loaded = read_checkpoint(path)
    if isinstance(loaded, dict) and loaded.get("format") == CHECKPOINT_FORMAT:
        return "project"
    state = loaded.get("model_state_dict", loaded) if isinstance(loaded, dict) else None
    if isinstance(state, dict) and any(str(k).startswith("basemodel.") for k in state):
        return "official"
    if isinstance(loaded, dict) and loaded.get("format") == TRAIN_FORMAT:
        raise InputFileError(
            path, "a training checkpoint, for train --resume; give the run's latest.pth (its "
            "weights) or one of its epoch-NN.pth (the weights after each epoch)"
        )  # fmt: skip
    raise InputFileError(
        path, f"neither a {CHECKPOINT_FORMAT} checkpoint nor an official SparseTT one"
    )


def load_weights(model: SparseTT, path: str | Path) -> str:
    """Load ``path`` (either format, strictly); returns its kind."""
    kind = checkpoint_kind(path)
    if kind == "project":
        model.load(path)
    else:
        model.load_official(path)
    return kind
