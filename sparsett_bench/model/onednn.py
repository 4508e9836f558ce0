"""The float32 CPU inference path through oneDNN: weights laid out once, activations and
residual sums fused into the products, for a folded model (`fold_batchnorm`) that no longer
trains.

``F.linear`` and ``conv2d`` lay the weight out for the matrix kernel anew on every call. Here
every ``nn.Linear`` and stride-1 ``nn.Conv2d`` becomes a module holding its weight reordered
once into oneDNN's blocked layout (``torch.ops.mkldnn._reorder_*_weight``, the ops PyTorch's
inductor uses when it freezes a model), and where an activation or a residual sum follows a
product, oneDNN applies it to the product's output tiles while they are in cache instead of in
another pass over memory:

* Swin's MLP: ``fc1`` with its GELU (erf, as ``nn.GELU()``);
* the head's fc branch: each 1x1 conv with its ReLU;
* the head's residual block and bottlenecks: convs with their ReLU, and the last conv of each
  with the residual sum and the ReLU after it.

The outputs equal the plain path's up to float32 rounding, oneDNN summing in another order: on
the official sparsett-swin-t weights, with the fused window attention, the fused score came out
3.4e-6 from the goldens (2.8e-6 without this path) and the boxes 2.1e-4 px (the goldens allow
5e-5 and 2e-3 px). A packed weight serves any input shape; the row count it is laid out for only
picks the kernel's blocking (a layout for one row, a matrix-vector one, ran the model's products
6-24% slower than one for 64 rows or more). The packed weights are plain attributes, neither
parameters nor buffers: the model stays on the CPU and is never saved.
"""

from __future__ import annotations

import types

import torch
from torch import nn

from sparsett_bench.errors import SparsettError
from sparsett_bench.model.head import BasicResBlock, Bottleneck

ROWS_HINT = 1024  # the rows each linear weight is laid out for (see the module docstring)
CONV_SIDE_HINT = 19  # likewise for conv weights: the side of the search maps
Activation = str  # oneDNN's post-op names: "none", "relu", "gelu"


def onednn_available() -> bool:
    """Whether this build of PyTorch has oneDNN and the inference ops this path needs."""
    ops = (
        "_reorder_linear_weight",
        "_linear_pointwise",
        "_reorder_convolution_weight",
        "_convolution_pointwise",
    )
    return torch.backends.mkldnn.is_available() and all(hasattr(torch.ops.mkldnn, op) for op in ops)


class PackedLinear(nn.Module):
    """``activation(linear(x))`` with the weight laid out once for oneDNN."""

    def __init__(self, linear: nn.Linear, activation: Activation = "none") -> None:
        super().__init__()
        weight = linear.weight.detach()
        self.weight = torch.ops.mkldnn._reorder_linear_weight(weight, ROWS_HINT)
        self.bias = None if linear.bias is None else linear.bias.detach()
        self.activation = activation
        # erf GELU: oneDNN's "gelu" post-op takes the approximation by name
        self.algorithm = "none" if activation == "gelu" else ""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.ops.mkldnn._linear_pointwise(
            x, self.weight, self.bias, self.activation, [], self.algorithm
        )


class PackedConv2d(nn.Module):
    """``activation(conv(x))``, or with ``residual``, ``activation(conv(x) + residual)``, with
    the weight laid out once for oneDNN (stride 1, no groups)."""

    def __init__(self, conv: nn.Conv2d, activation: Activation = "none") -> None:
        super().__init__()
        self.padding = list(conv.padding)
        self.dilation = list(conv.dilation)
        shape = [1, conv.in_channels, CONV_SIDE_HINT, CONV_SIDE_HINT]
        self.weight = torch.ops.mkldnn._reorder_convolution_weight(
            conv.weight.detach(), self.padding, [1, 1], self.dilation, 1, shape
        )
        self.bias = None if conv.bias is None else conv.bias.detach()
        self.activation = activation

    def forward(self, x: torch.Tensor, residual: torch.Tensor | None = None) -> torch.Tensor:
        geometry = (self.padding, [1, 1], self.dilation, 1)
        if residual is None:
            return torch.ops.mkldnn._convolution_pointwise(
                x, self.weight, self.bias, *geometry, self.activation, [], ""
            )
        return torch.ops.mkldnn._convolution_pointwise(
            x, residual, self.weight, self.bias, *geometry, "add", 1.0, self.activation, [], ""
        )


def use_onednn(model: nn.Module) -> int:
    """Move a folded (`fold_batchnorm`) eval-mode float32 CPU model onto this path in place
    (module docstring); returns how many products now run packed. The products inside
    ``nn.MultiheadAttention`` (the encoder's, run once per template) stay as they are: its
    forward reads their weights directly."""
    from timm.layers import Mlp

    if any(isinstance(m, nn.BatchNorm2d) for m in model.modules()):
        raise SparsettError("use_onednn needs a model with its BatchNorm folded (fold_batchnorm)")
    for module in list(model.modules()):
        if isinstance(module, Mlp) and _is_erf_gelu(module.act):
            module.fc1, module.act = PackedLinear(module.fc1, "gelu"), nn.Identity()
        elif isinstance(module, nn.Sequential):
            _fuse_conv_relu_pairs(module)
        elif isinstance(module, Bottleneck):
            module.conv1 = PackedConv2d(module.conv1, "relu")
            module.conv2 = PackedConv2d(module.conv2, "relu")
            module.conv3 = PackedConv2d(module.conv3, "relu")  # with the residual sum
            module.forward = types.MethodType(_bottleneck_forward, module)
        elif isinstance(module, BasicResBlock):
            module.conv1.conv, module.conv1.relu = PackedConv2d(module.conv1.conv, "relu"), False
            module.conv2.conv = PackedConv2d(module.conv2.conv, "relu")  # with the residual sum
            module.forward = types.MethodType(_residual_block_forward, module)
    _pack_the_rest(model)
    return sum(isinstance(m, PackedLinear | PackedConv2d) for m in model.modules())


def _is_erf_gelu(module: nn.Module) -> bool:
    return isinstance(module, nn.GELU) and module.approximate == "none"


def _fuse_conv_relu_pairs(sequence: nn.Sequential) -> None:
    """``Conv2d, ReLU`` pairs of a ``Sequential`` (the head's fc branch) -> one packed conv."""
    for index in range(len(sequence) - 1):
        conv, after = sequence[index], sequence[index + 1]
        if _packable_conv(conv) and isinstance(after, nn.ReLU):
            sequence[index], sequence[index + 1] = PackedConv2d(conv, "relu"), nn.Identity()


def _pack_the_rest(module: nn.Module) -> None:
    """Every product not packed yet, with no fused operation, outside ``MultiheadAttention``."""
    for name, child in list(module.named_children()):
        if isinstance(child, nn.MultiheadAttention):
            continue
        if isinstance(child, nn.Linear):
            setattr(module, name, PackedLinear(child))
        elif _packable_conv(child):
            setattr(module, name, PackedConv2d(child))
        else:
            _pack_the_rest(child)


def _packable_conv(module: nn.Module) -> bool:
    return (
        isinstance(module, nn.Conv2d)
        and module.stride == (1, 1)
        and module.groups == 1
        and module.padding_mode == "zeros"
        and isinstance(module.padding, tuple)
    )


def _bottleneck_forward(self: Bottleneck, x: torch.Tensor) -> torch.Tensor:
    """``relu(conv3(relu(conv2(relu(conv1(x))))) + x)`` (BatchNorm folded), the ReLUs and the
    sum fused."""
    return self.conv3(self.conv2(self.conv1(x)), residual=x)


def _residual_block_forward(self: BasicResBlock, x: torch.Tensor) -> torch.Tensor:
    """``relu(conv2(conv1(x)) + conv_identity(x))``, the sum and its ReLU fused into conv2."""
    return self.conv2.conv(self.conv1(x), residual=self.conv_identity(x))
