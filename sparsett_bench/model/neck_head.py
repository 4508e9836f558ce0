"""Everything after the backbone: feature adjusters, target focus network and double head.

``template(f_z)`` runs once per sequence (adjuster + encoder), and ``template_cache(memory)``
turns the memory into the decoder's cross-attention keys and values, which a tracker keeps;
``track(f_x, kv=...)`` (or ``track(f_x, memory)``) runs per frame. Names match the official
state dict.
"""

from __future__ import annotations

import torch
from torch import nn

from sparsett_bench.model.focus import FocusNetwork
from sparsett_bench.model.head import DoubleHead


class Adjuster(nn.Module):
    """1x1 conv (with bias) + BatchNorm (eps 1e-3), no activation."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 1)
        self.bn = nn.BatchNorm2d(cout, eps=1e-3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(x))


class NeckHead(nn.Module):
    def __init__(
        self, backbone_channels: int = 384, d_model: int = 256, head: dict | None = None, **focus
    ) -> None:
        super().__init__()
        self.feat_adjuster_z = Adjuster(backbone_channels, d_model)
        self.feat_adjuster_x = Adjuster(backbone_channels, d_model)
        self.neck = FocusNetwork(d_model=d_model, **focus)
        self.head = DoubleHead(in_channels=2 * d_model, **(head or {}))

    def template(self, f_z: torch.Tensor) -> torch.Tensor:
        """Backbone features of the template -> encoder memory ``(Sz*Sz, B, C)``."""
        return self.neck.encoder(self.feat_adjuster_z(f_z))

    def template_cache(self, memory: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """The decoder's cross-attention keys and values of ``memory``: what a tracker keeps."""
        return self.neck.decoder.memory_kv(memory)

    def track(
        self,
        f_x: torch.Tensor,
        memory: torch.Tensor | None = None,
        kv: list[tuple[torch.Tensor, torch.Tensor]] | None = None,
    ) -> dict[str, torch.Tensor]:
        adjusted = self.feat_adjuster_x(f_x)
        decoded = self.neck.decoder(adjusted, memory, kv)
        out = self.head(torch.cat([decoded, adjusted], dim=1))
        return out | {"x_adjusted": adjusted, "dec_out": decoded}
