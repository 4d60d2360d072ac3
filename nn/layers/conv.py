"""Convolution layers: Conv1d and Conv2d (PyTorch's arguments, shapes, defaults and initialisation).

The arithmetic is ``autodiff.ops.conv`` (im2col + one GEMM on Numba kernels), reached through
``nn.functional``; a layer holds the parameters, normalises its arguments once and names itself in
error messages.
"""
import math

import numpy as np

from .. import functional as F
from .. import init
from ..module import Module, Parameter

__all__ = ["Conv1d", "Conv2d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


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
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {_PADDING_MODES}, got {padding_mode!r}")
        self.in_channels = int(in_channels)
        self.out_channels = int(out_channels)
        self.kernel_size = F.int_tuple(kernel_size, self._dims, "kernel_size", name)
        if min(self.kernel_size) < 1:
            raise ValueError(f"{name}: kernel_size {self.kernel_size} must be positive")
        self.stride, pads, self.dilation = F.normalize_conv_args(name, self._dims, self.kernel_size, stride,
                                                               padding, dilation)
        self.padding = padding if isinstance(padding, str) else tuple(p for p, _ in pads)
        self._pads = pads  # ((before, after), ...) per spatial axis, what a non-zeros mode pads by
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
        name = type(self).__name__
        padding = self.padding
        if self.padding_mode != "zeros" and len(getattr(input, "shape", ())) in (self._dims + 1, self._dims + 2):
            # as PyTorch: pad the input itself with the mode, then convolve without padding
            shape = tuple(input.shape)
            pw = ((0, 0),) * (len(shape) - self._dims) + self._pads
            F.check_pad_mode(name, shape, pw, self.padding_mode)  # names the layer, axis, pads and shape
            if any(lo or hi for lo, hi in self._pads):
                input = F.pad_mode(input, pw, self.padding_mode, name=name)
            padding = 0
        return F.conv_nd(input, self.weight, self.bias, self.stride, padding, self.dilation, self.groups,
                         dims=self._dims, name=name)

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
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv2d(_ConvNd):
    """2-d convolution (cross-correlation) over ``(N, C, H, W)``, as ``torch.nn.Conv2d``.

    Args:
        in_channels, out_channels: channel counts (both divisible by ``groups``).
        kernel_size, stride, dilation: int or ``(h, w)``.
        padding: int, ``(h, w)``, ``"valid"`` or ``"same"`` (asymmetric when the total is odd, as PyTorch).
        groups: split channels into independent blocks (``groups == in_channels``: depthwise).
        bias: learn a per-output-channel bias.
        padding_mode: ``"zeros"`` (default), ``"reflect"``, ``"replicate"`` or ``"circular"``. As PyTorch, a
            non-zeros mode pads the input itself (``autodiff.ops.padmode``) and convolves with padding 0;
            reflect needs each pad < the input's size on that axis, circular each pad <= it.
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
