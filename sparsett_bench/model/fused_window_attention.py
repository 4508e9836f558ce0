"""Inference-only Swin window attention: the function of the backbone's blocks (mmdet's order:
pad, shift, partition, attend, reverse) up to float32 rounding, in fewer passes over memory.

Per block and padded grid size, the relative-position bias (a gather from the block's table)
and, for shifted blocks, the shift mask are summed once and kept; each frame then runs
``scaled_dot_product_attention`` on the windows with that sum as its additive mask. PyTorch's
fused kernel for it (flash attention on the CPU) never writes the ``(windows, heads, 49, 49)``
logits and weights to memory, where the plain path runs a batched product, a bias add, a mask
add, a softmax and a second product, and never multiplies out the float32 denormals that
softmax leaves after the -100 shift mask (slow in MKL's products on Intel CPUs). On a 2-core
Xeon (AVX-512) a sparsett-swin-t frame with official-format weights went from 160 to 136 ms
with it (and the top-K selected unsorted); the fused score moved by 1.2e-7 (seeded random
weights).

The kept sums are snapshots of the tables: `fuse_window_attention` is for frozen weights, as
`Predictor`'s own copy of the model is, never for a model that trains on.
"""

from __future__ import annotations

import types

import torch
from torch import nn

from sparsett_bench.model.backbone import shift_mask, shifted_window_attention

BiasKey = tuple[int, int, torch.device, torch.dtype]


def fuse_window_attention(model: nn.Module) -> int:
    """Switch every Swin block of ``model`` (as `SwinBackbone` builds them) to the fused path,
    in place; returns how many blocks were switched."""
    from timm.models.swin_transformer import SwinTransformerBlock

    blocks = [m for m in model.modules() if isinstance(m, SwinTransformerBlock)]
    for block in blocks:
        block._attn = types.MethodType(_fused_attention, block)
        block.fused_bias = {}
    return len(blocks)


def _fused_attention(self, x: torch.Tensor) -> torch.Tensor:
    """The block's window attention as one fused call with its kept bias (module docstring)."""
    batch = x.shape[0]
    attn = self.attn

    def attend(windows: torch.Tensor, padded_h: int, padded_w: int) -> torch.Tensor:
        count, tokens, channels = windows.shape
        qkv = attn.qkv(windows).reshape(count, tokens, 3, attn.num_heads, -1)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # (B * windows, heads, N, d) each
        bias = _window_bias(self, padded_h, padded_w, q)
        if batch > 1 and bias.shape[0] > 1:  # one shift mask per window of each image
            bias = bias.expand(batch, *bias.shape).flatten(0, 1)
        out = nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=bias)
        return attn.proj(out.transpose(1, 2).reshape(count, tokens, channels))

    return shifted_window_attention(self, x, attend)


def _window_bias(block: nn.Module, padded_h: int, padded_w: int, q: torch.Tensor) -> torch.Tensor:
    """The block's additive attention mask for one image of a ``padded_h x padded_w`` grid:
    ``(windows, heads, N, N)`` with the shift mask, ``(1, heads, N, N)`` without, in ``q``'s
    device and dtype; made once per grid size, device and dtype (summed in float32)."""
    key: BiasKey = (padded_h, padded_w, q.device, q.dtype)
    if key not in block.fused_bias:
        with torch.no_grad():
            bias = block.attn._get_rel_pos_bias().float()  # (1, heads, N, N)
            if any(block.shift_size):
                bias = bias + shift_mask(block, padded_h, padded_w, bias).unsqueeze(1)
        block.fused_bias[key] = bias.to(dtype=q.dtype).contiguous()
    return block.fused_bias[key]
