"""Sparse multi-head self-attention (SMSA): each query keeps only its K largest logits.

As the official ``MultiHeadAttentionTopK``: packed q, k, v projection with bias, logits
``(q / sqrt(d_head)) k^T``, the top K per row, a softmax over those K only, zeros elsewhere,
dropout on the weights in training (no renormalisation), then the output projection. One
``topk`` and one ``scatter`` over the whole (batch x heads) tensor: no Python loop over rows,
and both export to ONNX.

``sorted_top_k`` (default True, as the official) keeps the K logits in descending order, the
order the official softmax sums them in. False selects the same K unsorted, which ONNX Runtime
does faster (6.4 against 7.8 ms per layer of sparsett-swin-t here); the weights then differ
in the last bit only. The ONNX export and `Predictor`'s fused kernels use it
(`select_top_k_unsorted`).
"""

from __future__ import annotations

import math

import torch
from torch import nn


class TopKMultiheadAttention(nn.Module):
    """Drop-in for ``nn.MultiheadAttention`` (sequence-first) with top-K sparse weights."""

    def __init__(self, embed_dim: int, num_heads: int, top_k: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.embed_dim, self.num_heads, self.top_k = embed_dim, num_heads, top_k
        self.head_dim = embed_dim // num_heads
        self.dropout = dropout
        self.sorted_top_k = True
        self.in_proj_weight = nn.Parameter(torch.empty(3 * embed_dim, embed_dim))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * embed_dim))
        self.out_proj = nn.Linear(embed_dim, embed_dim)
        nn.init.xavier_uniform_(self.in_proj_weight)
        nn.init.zeros_(self.out_proj.bias)

    def forward(
        self,
        query: torch.Tensor,
        key: torch.Tensor,
        value: torch.Tensor,
        need_weights: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``(L, B, C)`` tensors in; ``(L, B, C)`` out, and the head-averaged weights."""
        length, batch, channels = query.shape
        w_q, w_k, w_v = self.in_proj_weight.chunk(3)
        b_q, b_k, b_v = self.in_proj_bias.chunk(3)
        q = nn.functional.linear(query, w_q, b_q)
        k = nn.functional.linear(key, w_k, b_k)
        v = nn.functional.linear(value, w_v, b_v)

        def heads(t: torch.Tensor) -> torch.Tensor:  # (L, B, C) -> (B * H, L, d)
            return t.reshape(t.shape[0], batch * self.num_heads, self.head_dim).transpose(0, 1)

        q, k, v = heads(q) / math.sqrt(self.head_dim), heads(k), heads(v)
        logits = torch.bmm(q, k.transpose(1, 2))
        kept, index = logits.topk(self.top_k, dim=-1, sorted=self.sorted_top_k)
        probabilities = kept.softmax(dim=-1)  # float32 under CUDA autocast, whatever the logits
        weights = torch.zeros_like(logits, dtype=probabilities.dtype)
        weights.scatter_(-1, index, probabilities)
        if self.training and self.dropout > 0:
            weights = nn.functional.dropout(weights, self.dropout)
        out = torch.bmm(weights, v).transpose(0, 1).reshape(length, batch, channels)
        out = self.out_proj(out)
        averaged = None
        if need_weights:
            averaged = weights.view(batch, self.num_heads, length, -1).mean(dim=1)
        return out, averaged


def select_top_k_unsorted(model: nn.Module) -> None:
    """Set ``sorted_top_k = False`` on every top-K attention of ``model`` (module docstring)."""
    for module in model.modules():
        if isinstance(module, TopKMultiheadAttention):
            module.sorted_top_k = False
