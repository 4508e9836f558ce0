"""SparseTT: Swin-T backbone, feature adjusters, target focus network and double head.

``template(z)`` runs once per sequence and returns the encoder memory the tracker caches;
``track(x, memory)`` is the per-frame search branch. ``load_official`` takes an official
checkpoint (``{"model_state_dict": ...}`` or a raw state dict, loaded with
``weights_only=True``) and reports missing, unexpected and mis-shaped keys by name.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import torch
from torch import nn

from sparsett_bench.errors import InputFileError, SparsettError
from sparsett_bench.model.backbone import SwinBackbone, build_backbone
from sparsett_bench.model.convert import official_to_project, unfold_order
from sparsett_bench.model.neck_head import NeckHead

CHECKPOINT_FORMAT = "sparsett-bench/1"
# What `train` writes to checkpoint.pth: the weights with the optimiser and the recipe.
TRAIN_FORMAT = "sparsett-bench-train/1"


def read_checkpoint(path: str | Path) -> object:
    """``torch.load`` with ``weights_only=True``; unreadable files name themselves, with the
    reason in a line (PyTorch's own message for pickled objects advises ``weights_only=False``,
    which this project never does with a file it did not write)."""
    try:
        with open(path, "rb") as file:
            magic = file.read(2)
        if magic not in (b"PK", b"\x80\x02"):  # torch.save's zip format; its legacy pickle
            raise InputFileError(path, "not a PyTorch checkpoint (neither a zip nor a pickle)")
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise InputFileError(
            path, "holds pickled objects beyond tensors and plain containers, which are not "
            "loaded (weights_only=True): not a checkpoint of weights this project reads"
        ) from None  # fmt: skip
    except OSError as exc:
        raise InputFileError(path, f"cannot be read: {exc.strerror or exc}") from None
    except (RuntimeError, ValueError, EOFError, KeyError) as exc:  # a damaged zip or pickle
        raise InputFileError(path, f"a damaged PyTorch checkpoint ({type(exc).__name__})") from None


def _state_dict(loaded: object, wrapper: str, path: str | Path) -> dict:
    """A raw state dict, or the one stored under ``wrapper``."""
    state = loaded.get(wrapper, loaded) if isinstance(loaded, dict) else None
    if not isinstance(state, dict):
        raise InputFileError(path, f"expected a state dict or {{'{wrapper}': ...}}")
    return state


class SparseTT(nn.Module):
    def __init__(self, backbone: dict | None = None, **neck_head) -> None:
        super().__init__()
        self.backbone = build_backbone(**(backbone or {}))
        self.neck_head = NeckHead(backbone_channels=self.backbone.channels, **neck_head)

    def template(self, z: torch.Tensor) -> torch.Tensor:
        return self.neck_head.template(self.backbone(z))

    def template_cache(self, memory: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        return self.neck_head.template_cache(memory)

    def track(
        self,
        x: torch.Tensor,
        memory: torch.Tensor | None = None,
        kv: list[tuple[torch.Tensor, torch.Tensor]] | None = None,
    ) -> dict[str, torch.Tensor]:
        return self.neck_head.track(self.backbone(x), memory, kv)

    def load_official(self, path: str | Path) -> None:
        """Load an official SparseTT checkpoint (mmdet key layout), strictly."""
        state = _state_dict(read_checkpoint(path), "model_state_dict", path)
        converted = {
            (k if k.startswith("backbone.") else f"neck_head.{k}"): v
            for k, v in official_to_project(state).items()
        }
        self.load_checked(converted, path)

    def load_imagenet_backbone(self, path: str | Path) -> None:
        """ImageNet Swin weights (Microsoft's release or timm's layout) into the backbone, as the
        official training starts; ``norm2`` and everything after the backbone keep their init
        (the official code cannot load ``norm2`` either: the release's final norm is 768 wide)."""
        import timm
        from timm.models.swin_transformer import checkpoint_filter_fn

        if not isinstance(self.backbone, SwinBackbone):
            raise SparsettError(
                f"--imagenet loads Swin weights; this model's backbone is {self.backbone.timm_name}"
            )
        state = _state_dict(read_checkpoint(path), "model", path)
        full = timm.create_model(
            self.backbone.timm_name, pretrained=False, **self.backbone.timm_kwargs
        )
        converted = checkpoint_filter_fn(state, full)
        own = self.backbone.net.state_dict()
        mapped = {}
        for key, value in converted.items():
            ours = key.replace("layers.", "layers_", 1)
            if ours in own and not ours.endswith("relative_position_index"):
                if ".downsample." in ours:  # timm channel order -> the backbone's unfold order
                    value = value[..., unfold_order(value.shape[-1] // 4)]
                mapped[ours] = value
        wanted = {k for k in own if not k.endswith("relative_position_index")}
        missing = sorted(wanted - set(mapped))
        misshaped = sorted(k for k in mapped if mapped[k].shape != own[k].shape)
        if missing or misshaped:
            raise InputFileError(
                path,
                f"not a matching Swin checkpoint: missing {missing[:5]}, "
                f"mis-shaped {misshaped[:5]}",
            )
        self.backbone.net.load_state_dict(mapped, strict=False)

    def save(self, path: str | Path, model_name: str) -> None:
        """The project's own format: ``{"format": ..., "model": name, "state_dict": ...}``,
        written atomically; `load` reads it back with ``weights_only=True``."""
        import io

        from sparsett_bench.atomic import write_bytes_atomic

        buffer = io.BytesIO()
        torch.save(
            {"format": CHECKPOINT_FORMAT, "model": model_name, "state_dict": self.state_dict()},
            buffer,
        )
        write_bytes_atomic(path, buffer.getvalue())

    def load(self, path: str | Path) -> str:
        """Load a checkpoint in the project's format; returns the model name it was saved for."""
        loaded = read_checkpoint(path)
        if not isinstance(loaded, dict) or loaded.get("format") != CHECKPOINT_FORMAT:
            raise InputFileError(
                path,
                f"not a {CHECKPOINT_FORMAT} checkpoint (an official "
                "SparseTT checkpoint loads with load_official)",
            )
        self.load_checked(loaded["state_dict"], path)
        return str(loaded.get("model", ""))

    def load_checked(self, state: dict[str, torch.Tensor], source: str | Path) -> None:
        own = self.state_dict()
        wanted = {k for k in own if not k.endswith("relative_position_index")}
        missing = sorted(wanted - set(state))
        unexpected = sorted(set(state) - set(own))
        misshaped = sorted(
            f"{k}: {tuple(state[k].shape)} != {tuple(own[k].shape)}"
            for k in set(state) & set(own)
            if state[k].shape != own[k].shape
        )
        if missing or unexpected or misshaped:
            lines = [
                f"{label} ({len(keys)}): {', '.join(keys[:8])}{' ...' if len(keys) > 8 else ''}"
                for label, keys in (
                    ("missing", missing),
                    ("unexpected", unexpected),
                    ("mis-shaped", misshaped),
                )
                if keys
            ]
            raise InputFileError(
                source, "checkpoint does not match the model:\n  " + "\n  ".join(lines)
            )
        self.load_state_dict(state, strict=False)
