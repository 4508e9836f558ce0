"""Eval-mode BatchNorm folding: every ``BatchNorm2d`` that directly follows a ``Conv2d`` is
merged into that conv's weight and bias and replaced by ``nn.Identity``.

The pairs are found by module type, not by tracing: the feature adjusters (``conv``, ``bn``),
the head's ``ConvBN`` modules (mmcv ``ConvModule``: the residual block's convs and the four
branch outputs) and the bottlenecks (``conv1``/``bn1`` ... ``conv3``/``bn3``). Those are every
BatchNorm the model has: ``feat_adjuster_z``'s on the template path, all the others on the
search path. The folded model computes the same function up to float32 rounding, but its
state dict differs (no ``bn`` keys, conv biases added): it is for inference only, never saved
as a checkpoint.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from sparsett_bench.errors import SparsettError
from sparsett_bench.model.head import Bottleneck, ConvBN
from sparsett_bench.model.neck_head import Adjuster

_PAIRS: dict[type[nn.Module], tuple[tuple[str, str], ...]] = {
    Adjuster: (("conv", "bn"),),
    ConvBN: (("conv", "bn"),),
    Bottleneck: (("conv1", "bn1"), ("conv2", "bn2"), ("conv3", "bn3")),
}


def fold_batchnorm(model: nn.Module, *, inplace: bool = False) -> nn.Module:
    """The model with its conv+BN pairs folded: a deep copy (the argument is left untouched)
    unless ``inplace``, then the argument itself. Refuses a model in training mode, where BN
    normalises with batch statistics and folding would change the function."""
    training = [name or "<root>" for name, module in model.named_modules() if module.training]
    if training:
        raise SparsettError(
            "fold_batchnorm needs an eval-mode model (call model.eval() first); in training "
            f"mode: {', '.join(training[:3])}{' ...' if len(training) > 3 else ''}"
        )
    folded = model if inplace else copy.deepcopy(model)
    pairs = [
        (module, conv_name, bn_name)
        for module in folded.modules()
        for conv_name, bn_name in _PAIRS.get(type(module), ())
        if isinstance(getattr(module, bn_name), nn.BatchNorm2d)  # not folded already
    ]
    if any(getattr(module, bn_name).running_var is None for module, _, bn_name in pairs):
        raise SparsettError("cannot fold a BatchNorm2d without running statistics")
    for module, conv_name, bn_name in pairs:
        _fold_into(getattr(module, conv_name), getattr(module, bn_name))
        setattr(module, bn_name, nn.Identity())
    return folded


@torch.no_grad()
def _fold_into(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> None:
    """``bn(conv(x)) == conv'(x)`` with ``W' = W * s``, ``b' = (b - mean) * s + beta`` and
    ``s = gamma / sqrt(var + eps)``, computed in float64 and rounded once to float32."""
    channels = bn.num_features
    mean, var = bn.running_mean.double(), bn.running_var.double()
    gamma = bn.weight.double() if bn.affine else torch.ones_like(mean)
    beta = bn.bias.double() if bn.affine else torch.zeros_like(mean)
    bias = conv.bias.double() if conv.bias is not None else torch.zeros_like(mean)
    scale = gamma / torch.sqrt(var + bn.eps)
    weight = conv.weight.double() * scale.reshape(channels, 1, 1, 1)
    dtype, requires_grad = conv.weight.dtype, conv.weight.requires_grad
    conv.weight = nn.Parameter(weight.to(dtype), requires_grad)
    conv.bias = nn.Parameter(((bias - mean) * scale + beta).to(dtype), requires_grad)
