"""Double-head predictor: an fc branch (1x1 convs) and a conv branch (one residual block, then
bottlenecks), each with a classification and an ``l, t, r, b`` regression output, as the
official ``DoubleConvFCBBoxHead``.

Every output is a bias-free 1x1 conv followed by BatchNorm; regression is decoded as
``exp(s * reg + b) * stride`` around the anchor points ``(stride * j, stride * i)`` (offset 0).
At test time the score is ``p_fc + p_conv * (1 - p_fc)`` and the boxes come from the conv branch.
"""

from __future__ import annotations

import torch
from torch import nn


class ConvBN(nn.Module):
    """Conv (no bias) + BatchNorm, optionally ReLU (mmcv ``ConvModule`` key layout)."""

    def __init__(self, cin: int, cout: int, kernel: int = 1, relu: bool = False) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, padding=kernel // 2, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.relu = relu

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.bn(self.conv(x))
        return torch.relu(x) if self.relu else x


class BasicResBlock(nn.Module):
    """``relu(conv1x1_bn(conv3x3_bn_relu(x)) + conv1x1_bn(x))`` (from Double-Head R-CNN)."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv1 = ConvBN(cin, cin, 3, relu=True)
        self.conv2 = ConvBN(cin, cout)
        self.conv_identity = ConvBN(cin, cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.conv2(self.conv1(x)) + self.conv_identity(x))


class Bottleneck(nn.Module):
    """ResNet bottleneck without downsampling (mmdet key layout ``conv1, bn1 ... bn3``)."""

    def __init__(self, channels: int, mid: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, mid, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(mid)
        self.conv2 = nn.Conv2d(mid, mid, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        self.conv3 = nn.Conv2d(mid, channels, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.bn1(self.conv1(x)))
        y = torch.relu(self.bn2(self.conv2(y)))
        return torch.relu(self.bn3(self.conv3(y)) + x)


class DoubleHead(nn.Module):
    def __init__(
        self,
        in_channels: int = 512,
        hidden: int = 1024,
        bottleneck_mid: int = 256,
        bottlenecks: int = 7,
        score_size: int = 19,
        stride: int = 16,
    ) -> None:
        super().__init__()
        self.stride = stride
        self.fc_branch = nn.Sequential(
            nn.Conv2d(in_channels, hidden, 1), nn.ReLU(), nn.Conv2d(hidden, hidden, 1), nn.ReLU()
        )
        self.fc_branch_cls = ConvBN(hidden, 1)
        self.fc_branch_reg = ConvBN(hidden, 4)
        self.conv_branch = nn.Sequential(
            BasicResBlock(in_channels, hidden),
            *(Bottleneck(hidden, bottleneck_mid) for _ in range(bottlenecks)),
        )
        self.conv_branch_cls = ConvBN(hidden, 1)
        self.conv_branch_reg = ConvBN(hidden, 4)
        for name in ("si_fc", "bi_fc", "si_conv", "bi_conv"):
            init = 1.0 if name.startswith("si") else 0.0
            self.register_parameter(name, nn.Parameter(torch.tensor(init)))
        rows, cols = torch.meshgrid(
            torch.arange(score_size), torch.arange(score_size), indexing="ij"
        )
        centres = torch.stack([cols, rows], dim=-1).reshape(1, -1, 2).float() * stride
        self.register_buffer("fm_ctr", centres)

    def _decode(
        self, cls: torch.Tensor, reg: torch.Tensor, scale: torch.Tensor, bias: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Logits ``(B, N, 1)``, ``ltrb`` map ``(B, 4, H, W)`` and ``xyxy`` boxes ``(B, N, 4)``."""
        ltrb = torch.exp(scale * reg + bias) * self.stride
        offsets = ltrb.flatten(2).transpose(1, 2)
        boxes = torch.cat([self.fm_ctr - offsets[..., :2], self.fm_ctr + offsets[..., 2:]], dim=-1)
        return cls.flatten(2).transpose(1, 2), ltrb, boxes

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        fc = self.fc_branch(x)
        conv = self.conv_branch(x)
        out = {}
        for branch, features, scale, bias in (
            ("fc", fc, self.si_fc, self.bi_fc),
            ("conv", conv, self.si_conv, self.bi_conv),
        ):
            cls = getattr(self, f"{branch}_branch_cls")(features)
            reg = getattr(self, f"{branch}_branch_reg")(features)
            logits, ltrb, boxes = self._decode(cls, reg, scale, bias)
            out |= {
                f"{branch}_cls_map": cls,
                f"{branch}_reg_map": reg,
                f"cls_{branch}": logits,
                f"{branch}_ltrb": ltrb,
                f"bbox_{branch}": boxes,
            }
        p_fc, p_conv = torch.sigmoid(out["cls_fc"]), torch.sigmoid(out["cls_conv"])
        out["score"] = p_fc + p_conv * (1 - p_fc)
        return out
