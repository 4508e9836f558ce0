"""Official SparseTT state dicts (mmdet Swin names and channel order) to this project's model.

Backbone keys move from mmdet's layout (``basemodel.net.stages.{s}.blocks.{b}.attn.w_msa.qkv``,
``ffn.layers.0.0`` = fc1, PatchMerging in ``stages.{s}.downsample``) to timm's
(``layers_{s}.blocks.{b}.attn.qkv``, ``mlp.fc1``, merging at the start of the *next* stage).
The backbone merges patches in mmdet's ``nn.Unfold`` channel order (``4c + 2dy + dx``), so
official merging weights load as they are; ImageNet Swin checkpoints (Microsoft's and timm's
``[x(0,0), x(1,0), x(0,1), x(1,1)]`` order, channel ``(2dx + dy)C + c``) are permuted with
`unfold_order`. Keys of the unused stage 4 and its merging are dropped; everything after the
backbone keeps its official name.
"""

from __future__ import annotations

import re

import torch

_BLOCK = re.compile(r"^basemodel\.net\.stages\.(\d+)\.blocks\.(\d+)\.(.+)$")
_MERGE = re.compile(r"^basemodel\.net\.stages\.(\d+)\.downsample\.(norm|reduction)\.(weight|bias)$")
_BLOCK_PARTS = {
    "attn.w_msa.qkv.": "attn.qkv.",
    "attn.w_msa.proj.": "attn.proj.",
    "attn.w_msa.relative_position_bias_table": "attn.relative_position_bias_table",
    "ffn.layers.0.0.": "mlp.fc1.",
    "ffn.layers.1.": "mlp.fc2.",
    "norm1.": "norm1.",
    "norm2.": "norm2.",
}


def unfold_order(channels: int) -> torch.Tensor:
    """For each merged channel in mmdet's unfold order, its index in timm/Microsoft's order:
    ``weight[..., unfold_order(C)]`` turns a timm-layout merging weight into this backbone's."""
    c = torch.arange(channels).view(channels, 1, 1)
    dy = torch.arange(2).view(1, 2, 1)
    dx = torch.arange(2).view(1, 1, 2)
    return ((2 * dx + dy) * channels + c).flatten()


def official_to_project(
    state: dict[str, torch.Tensor], last_stage: int = 2
) -> dict[str, torch.Tensor]:
    """Rename an official state dict's keys for `SparseTT`; unused keys are dropped."""
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        if not key.startswith("basemodel."):
            out[key] = value
            continue
        if key == "basemodel.net.patch_embed.projection.weight":
            out["backbone.net.patch_embed.proj.weight"] = value
        elif key == "basemodel.net.patch_embed.projection.bias":
            out["backbone.net.patch_embed.proj.bias"] = value
        elif key.startswith("basemodel.net.patch_embed.norm."):
            out["backbone.net.patch_embed.norm." + key.rsplit(".", 1)[1]] = value
        elif key.startswith("basemodel.net.norm2."):
            out["backbone.norm2." + key.rsplit(".", 1)[1]] = value
        elif match := _BLOCK.match(key):
            stage, block, rest = int(match[1]), match[2], match[3]
            if stage > last_stage or rest.endswith("relative_position_index"):
                continue
            for official, ours in _BLOCK_PARTS.items():
                if rest.startswith(official):
                    out[
                        f"backbone.net.layers_{stage}.blocks.{block}.{ours}{rest[len(official) :]}"
                    ] = value
                    break
            else:
                raise KeyError(f"unexpected backbone key {key}")
        elif match := _MERGE.match(key):
            stage = int(match[1])
            if stage + 1 > last_stage:
                continue
            out[f"backbone.net.layers_{stage + 1}.downsample.{match[2]}.{match[3]}"] = value
    return out
