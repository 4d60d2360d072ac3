"""Convolution layers: Conv1d and Conv2d (PyTorch's arguments, shapes, defaults and initialisation).

The arithmetic is ``autodiff.ops.conv`` (im2col + one GEMM on Numba kernels); a layer holds the
parameters, normalises its arguments once and names itself in error messages.
"""
import math

import numpy as np

from autodiff.ops.conv import _conv, _tuple, normalize_conv_args

from .. import init
from ..module import Module, Parameter

__all__ = ["Conv1d", "Conv2d"]


class _ConvNd(Module):
    _dims = 2

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", dtype=None):
        super().__init__()
        name = type(self).__name__
        if in_channels < 1 or out_channels < 1:
            raise ValueError(f"{name}: in_channels and out_channels must be positive, got "
                             f"({in_channels}, {out_channels})")
        if not isinstance(groups, (int, np.integer)) or groups < 1:
            raise ValueError(f"{name}: groups must be a positive int, got {groups!r}")
        if in_channels % groups:
            raise ValueError(f"{name}: groups={groups} does not divide in_channels={in_channels}")
        if out_channels % groups:
            raise ValueError(f"{name}: groups={groups} does not divide out_channels={out_channels}")
        if padding_mode != "zeros":
            raise ValueError(f"{name}: padding_mode {padding_mode!r} is not supported (only 'zeros')")
        self.in_channels = int(in_channels)
        self.out_channels = int(out_channels)
        self.kernel_size = _tuple(kernel_size, self._dims, "kernel_size", name)
        if min(self.kernel_size) < 1:
            raise ValueError(f"{name}: kernel_size {self.kernel_size} must be positive")
        self.stride, pads, self.dilation = normalize_conv_args(name, self._dims, self.kernel_size, stride,
                                                               padding, dilation)
        self.padding = padding if isinstance(padding, str) else tuple(p for p, _ in pads)
        self.groups = int(groups)
        self.padding_mode = padding_mode
        dtype = np.dtype(dtype or np.float32)
        self.weight = Parameter(np.empty((self.out_channels, self.in_channels // self.groups) + self.kernel_size,
                                         dtype))
        if bias:
            self.bias = Parameter(np.empty(self.out_channels, dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """PyTorch's default: kaiming_uniform_(a=sqrt(5)) = U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias,
        ``fan_in = in_channels / groups * prod(kernel_size)``."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * int(np.prod(self.kernel_size))
            bound = 1.0 / math.sqrt(fan_in)
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        return _conv(type(self).__name__, self._dims, input, self.weight, self.bias, self.stride, self.padding,
                     self.dilation, self.groups)

    def extra_repr(self):
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * self._dims:
            s += f", padding={self.padding!r}"
        if self.dilation != (1,) * self._dims:
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


class Conv2d(_ConvNd):
    """2-d convolution (cross-correlation) over ``(N, C, H, W)``, as ``torch.nn.Conv2d``.

    Args:
        in_channels, out_channels: channel counts (both divisible by ``groups``).
        kernel_size, stride, dilation: int or ``(h, w)``.
        padding: int, ``(h, w)``, ``"valid"`` or ``"same"`` (zero padding).
        groups: split channels into independent blocks (``groups == in_channels``: depthwise).
        bias: learn a per-output-channel bias.
        padding_mode: only ``"zeros"``.
        dtype: parameter dtype (float32 by default).

    Attributes:
        weight: ``(out_channels, in_channels / groups, kh, kw)``; bias: ``(out_channels,)``;
            both U(-1/sqrt(fan_in), 1/sqrt(fan_in)) as PyTorch.

    Shape:
        ``(N, C_in, H, W) -> (N, C_out, oh, ow)``, ``oh = floor((H + 2 ph - dh (kh - 1) - 1) / sh) + 1``.
    """
    _dims = 2


class Conv1d(_ConvNd):
    """1-d convolution over ``(N, C, L)``, as ``torch.nn.Conv1d`` (arguments as :class:`Conv2d`, ints).

    Attributes:
        weight: ``(out_channels, in_channels / groups, k)``; bias: ``(out_channels,)``.

    Shape:
        ``(N, C_in, L) -> (N, C_out, oL)``, ``oL = floor((L + 2 p - d (k - 1) - 1) / s) + 1``.
    """
    _dims = 1
