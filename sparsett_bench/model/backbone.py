"""Swin-T from timm, cut after stage 3 (stride 16, 384 channels), behaving as mmdet's Swin that
the official SparseTT uses; any other timm model by name (`build_backbone`).

Differences from timm's block, reproduced here: the token grid is padded to a multiple of the
window *before* the cyclic shift (timm shifts first, then pads), the shift is undone on the
padded grid before cropping, and padded tokens are not masked (only the shift mask applies).
PatchMerging concatenates each 2x2 cell in mmdet's ``nn.Unfold`` channel order (``4c + 2dy +
dx``, not timm's ``(2dx + dy)C + c``), so official weights load unpermuted and every sum runs in
the official order: with one thread the features are bit-identical to the official ones.
Input images are zero-padded bottom/right to a multiple of 4 (127 -> 8x8, 289 -> 19x19 maps).
The stage output goes through ``norm2`` (LayerNorm 384), as the official backbone's.
"""

from __future__ import annotations

import functools
import re
import types
from collections.abc import Callable

import torch
from torch import nn

from sparsett_bench.errors import SparsettError

SWIN_V1 = re.compile(r"swin_(tiny|small|base|large)_patch4_window\d+_\d+")
SPARSETT_STRIDE = 16


WindowAttend = Callable[[torch.Tensor, int, int], torch.Tensor]


def shifted_window_attention(
    block: nn.Module, x: torch.Tensor, attend: WindowAttend
) -> torch.Tensor:
    """mmdet ``ShiftWindowMSA`` order for a timm ``SwinTransformerBlock``: pad ``x`` ``(B, H, W,
    C)`` to whole windows, shift, partition, ``attend(windows, padded_h, padded_w)`` on the
    ``(B * windows, N, C)`` tokens, then reverse each step."""
    from timm.models.swin_transformer import window_partition, window_reverse

    _, height, width, channels = x.shape
    wh, ww = block.window_size
    x = nn.functional.pad(x, (0, 0, 0, (ww - width % ww) % ww, 0, (wh - height % wh) % wh))
    padded_h, padded_w = x.shape[1], x.shape[2]
    shift = tuple(block.shift_size)
    if any(shift):
        x = torch.roll(x, shifts=(-shift[0], -shift[1]), dims=(1, 2))
    windows = window_partition(x, block.window_size).view(-1, block.window_area, channels)
    out = attend(windows, padded_h, padded_w).view(-1, wh, ww, channels)
    out = window_reverse(out, block.window_size, padded_h, padded_w)
    if any(shift):
        out = torch.roll(out, shifts=shift, dims=(1, 2))
    return out[:, :height, :width, :].contiguous()


def shift_mask(block: nn.Module, padded_h: int, padded_w: int, like: torch.Tensor) -> torch.Tensor:
    """timm's ``(windows, N, N)`` shift mask (0 or -100) of a shifted block on the padded grid,
    with ``like``'s device and dtype."""
    return block.get_attn_mask(like.new_empty(1, padded_h, padded_w, 1))


def _pad_then_shift_attention(self, x: torch.Tensor) -> torch.Tensor:
    """timm's window attention in mmdet's order (`shifted_window_attention`); the shift mask
    is made on the padded grid."""

    def attend(windows: torch.Tensor, padded_h: int, padded_w: int) -> torch.Tensor:
        mask = shift_mask(self, padded_h, padded_w, windows) if any(self.shift_size) else None
        return self.attn(windows, mask=mask)

    return shifted_window_attention(self, x, attend)


def _unfold_order_merging(self, x: torch.Tensor) -> torch.Tensor:
    """mmdet ``PatchMerging`` for a timm one: ``(B, H, W, C)`` -> ``(B, H/2, W/2, 2C)``."""
    height, width = x.shape[1:3]
    x = nn.functional.pad(x, (0, 0, 0, width % 2, 0, height % 2))
    # channel 4c + 2dy + dx, nn.Unfold's order; stacking the four strided cells last copies
    # far faster than permuting a (..., 2, 2) reshape (measured 13x in PyTorch, 2.7x in ONNX
    # Runtime at stage 1), with the same values
    cells = [x[:, dy::2, dx::2] for dy in (0, 1) for dx in (0, 1)]
    return self.reduction(self.norm(torch.stack(cells, dim=-1).flatten(3)))


class SwinBackbone(nn.Module):
    """timm Swin features at ``stage`` (NCHW), followed by ``norm2``."""

    def __init__(
        self,
        name: str = "swin_tiny_patch4_window7_224",
        stage: int = 2,
        drop_path_rate: float = 0.2,
        **timm_kwargs,
    ) -> None:
        super().__init__()
        import timm
        from timm.layers import PatchEmbed
        from timm.models.swin_transformer import PatchMerging, SwinTransformerBlock

        self.timm_name = name
        self.timm_kwargs = {
            k: tuple(v) if isinstance(v, list) else v for k, v in timm_kwargs.items()
        }
        self.net = timm.create_model(
            name,
            pretrained=False,
            features_only=True,
            out_indices=(stage,),
            strict_img_size=False,
            drop_path_rate=drop_path_rate,
            embed_layer=functools.partial(PatchEmbed, dynamic_img_pad=True),
            **timm_kwargs,
        )
        for module in self.net.modules():
            if isinstance(module, SwinTransformerBlock):
                module._attn = types.MethodType(_pad_then_shift_attention, module)
            elif isinstance(module, PatchMerging):
                module.forward = types.MethodType(_unfold_order_merging, module)
        channels = self.net.feature_info.channels()[-1]
        self.norm2 = nn.LayerNorm(channels)

    @property
    def channels(self) -> int:
        return self.norm2.normalized_shape[0]

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        features = self.net(image)[-1]  # (B, H, W, C)
        return self.norm2(features).permute(0, 3, 1, 2)


class TimmBackbone(nn.Module):
    """Any timm model with ``features_only`` support, cut at feature level ``stage`` (NCHW out,
    no extra norm). Its stride there must be 16, the stride of SparseTT's maps (for a ResNet,
    stage 3: 127 -> 8x8 and 289 -> 19x19)."""

    def __init__(
        self, name: str, stage: int | None = None, drop_path_rate: float = 0.0, **timm_kwargs
    ):
        super().__init__()
        import timm

        if stage is None:
            raise SparsettError(f"[backbone] {name}: give the feature level, e.g. stage = 3")
        self.timm_name = name
        try:
            self.net = timm.create_model(
                name, pretrained=False, features_only=True, out_indices=(stage,),
                **({"drop_path_rate": drop_path_rate} if drop_path_rate else {}), **timm_kwargs,
            )  # fmt: skip
        except (RuntimeError, ValueError, IndexError, TypeError) as exc:
            raise SparsettError(f"[backbone] {name} at stage {stage}: {exc}") from None
        stride = int(self.net.feature_info.reduction()[-1])
        if stride != SPARSETT_STRIDE:
            raise SparsettError(
                f"[backbone] {name} at stage {stage} has stride {stride}; SparseTT's 8x8 and "
                f"19x19 maps need stride {SPARSETT_STRIDE} (another stage)"
            )
        self.channels = int(self.net.feature_info.channels()[-1])

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.net(image)[-1]


def build_backbone(name: str = "swin_tiny_patch4_window7_224", **options) -> nn.Module:
    """`SwinBackbone` for timm's Swin (v1) models (the official computation), else
    `TimmBackbone` (Swin V2 and S3 included: the official patches fit only v1's blocks)."""
    if SWIN_V1.match(name):
        return SwinBackbone(name, **options)
    return TimmBackbone(name, **options)
