"""Official SparseTT state dicts (mmdet Swin names and channel order) to this project's model.

Backbone keys move from mmdet's layout (``basemodel.net.stages.{s}.blocks.{b}.attn.w_msa.qkv``,
``ffn.layers.0.0`` = fc1, PatchMerging in ``stages.{s}.downsample``) to timm's
(``layers_{s}.blocks.{b}.attn.qkv``, ``mlp.fc1``, merging at the start of the *next* stage).
mmdet's PatchMerging concatenates the 2x2 cell with ``nn.Unfold`` (channel ``4c + 2dy + dx``);
timm concatenates ``[x(0,0), x(1,0), x(0,1), x(1,1)]`` (channel ``(2dx + dy)C + c``): the
reduction's input columns and the norm's weights are permuted accordingly. Keys of the unused
stage 4 and its merging are dropped; everything after the backbone keeps its official name.
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


def merge_permutation(channels: int) -> torch.Tensor:
    """``timm_column -> mmdet_column`` for a PatchMerging over ``channels`` input channels."""
    order = torch.empty(4 * channels, dtype=torch.long)
    for dx in (0, 1):
        for dy in (0, 1):
            for c in range(channels):
                order[(2 * dx + dy) * channels + c] = 4 * c + 2 * dy + dx
    return order


def official_to_project(
    state: dict[str, torch.Tensor], last_stage: int = 2
) -> dict[str, torch.Tensor]:
    """Rename (and permute) an official state dict for `SparseTT`; unused keys are dropped."""
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
            channels = value.shape[-1] // 4
            order = merge_permutation(channels)
            target = f"backbone.net.layers_{stage + 1}.downsample.{match[2]}.{match[3]}"
            out[target] = value[..., order]
    return out
