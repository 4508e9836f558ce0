"""Target focus network: post-LN transformer; decoder self-attention keeps the K largest logits
per row (SMSA), encoder self-attention and decoder cross-attention are dense.

Learned row/column position embeddings are added once to the input maps (DETR style,
``pos[c, y, x] = col[x][c]`` for the first half of the channels, ``row[y]`` for the second);
every LayerNorm uses eps 1e-6, as the official neck.
"""

from __future__ import annotations

import torch
from torch import nn

from sparsett_bench.model.attention import TopKMultiheadAttention

EPS = 1e-6


class SpatialPositionEncoding(nn.Module):
    def __init__(self, channels: int, size: int) -> None:
        super().__init__()
        self.row_embed = nn.Embedding(size, channels // 2)
        self.col_embed = nn.Embedding(size, channels // 2)
        nn.init.uniform_(self.row_embed.weight)
        nn.init.uniform_(self.col_embed.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The ``(1, C, S, S)`` table for a ``(B, C, S, S)`` map."""
        height, width = x.shape[-2:]
        col = self.col_embed.weight[:width]  # (W, C/2)
        row = self.row_embed.weight[:height]  # (H, C/2)
        table = torch.cat(
            [col.unsqueeze(0).expand(height, -1, -1), row.unsqueeze(1).expand(-1, width, -1)],
            dim=-1,
        )
        return table.permute(2, 0, 1).unsqueeze(0)


class FeedForward(nn.Module):
    """``LN(x + Drop(W2 ReLU(W1 x)))``."""

    def __init__(self, d_model: int, d_hidden: int, dropout: float) -> None:
        super().__init__()
        self.w_1 = nn.Linear(d_model, d_hidden)
        self.w_2 = nn.Linear(d_hidden, d_model)
        self.layer_norm = nn.LayerNorm(d_model, eps=EPS)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer_norm(x + self.dropout(self.w_2(torch.relu(self.w_1(x)))))


class EncoderLayer(nn.Module):
    def __init__(self, d_model: int, heads: int, d_hidden: int, dropout: float) -> None:
        super().__init__()
        self.slf_attn = nn.MultiheadAttention(d_model, heads, dropout=dropout)
        self.norm = nn.LayerNorm(d_model, eps=EPS)
        self.pos_ffn = FeedForward(d_model, d_hidden, dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # need_weights=True takes PyTorch's bmm + softmax path, as the official call does; the
        # fused kernel taken without weights rounds differently (1.6e-6 on the memory).
        x = self.norm(x + self.slf_attn(x, x, x, need_weights=True)[0])
        return self.pos_ffn(x)


class DecoderLayer(nn.Module):
    def __init__(self, d_model: int, heads: int, d_hidden: int, dropout: float, top_k: int) -> None:
        super().__init__()
        self.heads = heads
        self.slf_attn = TopKMultiheadAttention(d_model, heads, top_k, dropout=dropout)
        self.norm1 = nn.LayerNorm(d_model, eps=EPS)
        self.enc_attn = nn.MultiheadAttention(d_model, heads, dropout=dropout)
        self.norm2 = nn.LayerNorm(d_model, eps=EPS)
        self.pos_ffn = FeedForward(d_model, d_hidden, dropout)

    def memory_kv(self, memory: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The cross-attention keys and values of the memory, ``(B*H, Lz, d)`` each: constant
        over a sequence, so the tracker computes them once with the template."""
        _, w_k, w_v = self.enc_attn.in_proj_weight.chunk(3)
        _, b_k, b_v = self.enc_attn.in_proj_bias.chunk(3)
        return (
            _split_heads(nn.functional.linear(memory, w_k, b_k), self.heads),
            _split_heads(nn.functional.linear(memory, w_v, b_v), self.heads),
        )

    def cross_attention(
        self, y: torch.Tensor, kv: tuple[torch.Tensor, torch.Tensor]
    ) -> torch.Tensor:
        """``nn.MultiheadAttention(y, memory, memory)`` from precomputed keys and values."""
        length, batch, channels = y.shape
        w_q = self.enc_attn.in_proj_weight[:channels]
        b_q = self.enc_attn.in_proj_bias[:channels]
        q = _split_heads(nn.functional.linear(y, w_q, b_q), self.heads)
        q = q * (q.shape[-1] ** -0.5)
        weights = torch.softmax(torch.bmm(q, kv[0].transpose(1, 2)), dim=-1)
        weights = nn.functional.dropout(weights, self.enc_attn.dropout, self.training)
        out = torch.bmm(weights, kv[1]).transpose(0, 1).reshape(length, batch, channels)
        return self.enc_attn.out_proj(out)

    def forward(
        self,
        y: torch.Tensor,
        memory: torch.Tensor | None = None,
        kv: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> torch.Tensor:
        y = self.norm1(y + self.slf_attn(y, y, y)[0])
        y = self.norm2(
            y + self.cross_attention(y, kv if kv is not None else self.memory_kv(memory))
        )
        return self.pos_ffn(y)


def _split_heads(t: torch.Tensor, heads: int) -> torch.Tensor:
    """``(L, B, C)`` -> ``(B * heads, L, C / heads)``."""
    length, batch, channels = t.shape
    return t.reshape(length, batch * heads, channels // heads).transpose(0, 1)


class Encoder(nn.Module):
    """Template tokens ``(B, C, Sz, Sz)`` -> memory ``(Sz*Sz, B, C)``."""

    def __init__(
        self, d_model: int, heads: int, d_hidden: int, layers: int, dropout: float, size: int
    ) -> None:
        super().__init__()
        self.spatial_position_encoding = SpatialPositionEncoding(d_model, size)
        self.encoder_layers = nn.ModuleList(
            EncoderLayer(d_model, heads, d_hidden, dropout) for _ in range(layers)
        )

    def forward(self, f_z: torch.Tensor) -> torch.Tensor:
        x = (f_z + self.spatial_position_encoding(f_z)).flatten(2).permute(2, 0, 1)
        for layer in self.encoder_layers:
            x = layer(x)
        return x


class Decoder(nn.Module):
    """Search tokens ``(B, C, Sx, Sx)`` and memory -> decoded map ``(B, C, Sx, Sx)``."""

    def __init__(
        self,
        d_model: int,
        heads: int,
        d_hidden: int,
        layers: int,
        dropout: float,
        size: int,
        top_k: int,
    ) -> None:
        super().__init__()
        self.spatial_position_encoding = SpatialPositionEncoding(d_model, size)
        self.decoder_layers = nn.ModuleList(
            DecoderLayer(d_model, heads, d_hidden, dropout, top_k) for _ in range(layers)
        )

    def memory_kv(self, memory: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        return [layer.memory_kv(memory) for layer in self.decoder_layers]

    def forward(
        self,
        f_x: torch.Tensor,
        memory: torch.Tensor | None = None,
        kv: list[tuple[torch.Tensor, torch.Tensor]] | None = None,
    ) -> torch.Tensor:
        """Give the encoder ``memory``, or its per-layer keys and values (`memory_kv`)."""
        batch, channels, height, width = f_x.shape
        y = (f_x + self.spatial_position_encoding(f_x)).flatten(2).permute(2, 0, 1)
        kv = kv if kv is not None else self.memory_kv(memory)
        for layer, layer_kv in zip(self.decoder_layers, kv, strict=True):
            y = layer(y, kv=layer_kv)
        return y.permute(1, 2, 0).reshape(batch, channels, height, width)


class FocusNetwork(nn.Module):
    """The official ``neck``: an encoder for the template and a decoder for the search region."""

    def __init__(
        self,
        d_model: int = 256,
        heads: int = 8,
        d_hidden: int = 2048,
        encoder_layers: int = 2,
        decoder_layers: int = 2,
        dropout: float = 0.1,
        z_size: int = 8,
        x_size: int = 19,
        top_k: int = 32,
    ) -> None:
        super().__init__()
        self.encoder = Encoder(d_model, heads, d_hidden, encoder_layers, dropout, z_size)
        self.decoder = Decoder(d_model, heads, d_hidden, decoder_layers, dropout, x_size, top_k)
