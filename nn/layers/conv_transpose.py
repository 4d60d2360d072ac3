"""Transposed convolution layers: ConvTranspose1d and ConvTranspose2d (PyTorch's arguments, shapes, init).

The arithmetic is ``autodiff.ops.conv_transpose`` (a GEMM and col2im), reached through ``nn.functional``.
"""
import math

import numpy as np

from .. import functional as F
from .. import init
from ..module import Module, Parameter

__all__ = ["ConvTranspose1d", "ConvTranspose2d"]


class _ConvTransposeNd(Module):
    _dims = 2

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        if padding_mode != "zeros":
            raise ValueError(f'{name}: only "zeros" padding_mode is supported (as PyTorch), got {padding_mode!r}')
        if device not in (None, "cpu"):
            raise ValueError(f"{name}: only the cpu device exists here, got device={device!r}")
        if in_channels < 1 or out_channels < 1:
            raise ValueError(f"{name}: in_channels and out_channels must be positive, got "
                             f"({in_channels}, {out_channels})")
        if not isinstance(groups, (int, np.integer)) or groups < 1:
            raise ValueError(f"{name}: groups must be a positive int, got {groups!r}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: groups={groups} must divide in_channels={in_channels} and "
                             f"out_channels={out_channels}")
        d = self._dims
        if isinstance(padding, str):
            raise ValueError(f"{name}: padding must be an int or a tuple of {d} ints (no 'same' or 'valid' for a "
                             f"transposed convolution, as PyTorch), got {padding!r}")
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = F.int_tuple(kernel_size, d, "kernel_size", name)
        self.stride = F.int_tuple(stride, d, "stride", name)
        self.padding = F.int_tuple(padding, d, "padding", name)
        self.output_padding = F.int_tuple(output_padding, d, "output_padding", name)
        self.dilation = F.int_tuple(dilation, d, "dilation", name)
        if min(self.kernel_size + self.stride + self.dilation) < 1 or min(self.padding + self.output_padding) < 0:
            raise ValueError(f"{name}: kernel_size, stride and dilation must be positive, padding and "
                             f"output_padding non-negative")
        if any(op >= max(s, dl) for op, s, dl in zip(self.output_padding, self.stride, self.dilation)):
            raise ValueError(f"{name}: output_padding {self.output_padding} must be smaller than either stride "
                             f"{self.stride} or dilation {self.dilation}")
        self.groups = int(groups)
        self.padding_mode = padding_mode
        dtype = np.dtype(dtype or np.float32)
        self.weight = Parameter(np.empty((self.in_channels, self.out_channels // self.groups) + self.kernel_size,
                                         dtype))
        if bias:
            self.bias = Parameter(np.empty(self.out_channels, dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """PyTorch's default: kaiming_uniform_(a=sqrt(5)) for the weight, U(-1/sqrt(fan_in), 1/sqrt(fan_in))
        for the bias, ``fan_in = out_channels / groups * prod(kernel_size)`` (the weight's dim 1)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * int(np.prod(self.kernel_size))
            bound = 1.0 / math.sqrt(fan_in)
            init.uniform_(self.bias, -bound, bound)

    def _output_padding(self, input, output_size):
        """The output_padding that gives ``output_size`` (PyTorch's rule), or the layer's own."""
        if output_size is None:
            return self.output_padding
        d = self._dims
        size = [int(s) for s in output_size]
        if len(size) == d + 2 or (len(size) == d + 1 and len(input.shape) == d + 1):
            size = size[-d:]
        if len(size) != d:
            raise ValueError(f"{type(self).__name__}: output_size must have {d} or {d + 2} elements, got "
                             f"{tuple(output_size)}")
        spatial = tuple(input.shape)[-d:]
        pads = []
        for a in range(d):
            smallest = (spatial[a] - 1) * self.stride[a] - 2 * self.padding[a] + \
                self.dilation[a] * (self.kernel_size[a] - 1) + 1
            largest = smallest + self.stride[a] - 1
            if not smallest <= size[a] <= largest:
                raise ValueError(f"{type(self).__name__}: requested an output size of {tuple(size)}, but valid "
                                 f"sizes range from {smallest} to {largest} on axis {a} (for an input of "
                                 f"{tuple(input.shape)})")
            pads.append(size[a] - smallest)
        return tuple(pads)

    def forward(self, input, output_size=None):
        op = self._output_padding(input, output_size)
        fn = F.conv_transpose2d if self._dims == 2 else F.conv_transpose1d
        return fn(input, self.weight, self.bias, self.stride, self.padding, op, self.groups, self.dilation)

    def extra_repr(self):
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * self._dims:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * self._dims:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self._dims:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


class ConvTranspose2d(_ConvTransposeNd):
    """2-d transposed convolution over ``(N, C, H, W)``, as ``torch.nn.ConvTranspose2d``.

    Args:
        in_channels, out_channels: channel counts (both divisible by ``groups``).
        kernel_size, stride, padding, dilation: int or ``(h, w)``.
        output_padding: extra rows/columns on one side of the output (smaller than stride or dilation).
        groups: independent channel blocks.
        bias: learn a per-output-channel bias.
        padding_mode: only ``"zeros"``, as PyTorch.
        dtype: parameter dtype (float32 by default).

    Attributes:
        weight: ``(in_channels, out_channels / groups, kh, kw)``; bias: ``(out_channels,)``.

    Shape:
        ``(N, C_in, H, W) -> (N, C_out, oh, ow)``, ``oh = (H - 1) sh - 2 ph + dh (kh - 1) + oph + 1``;
        ``forward(input, output_size)`` picks the output_padding that gives ``output_size``.
    """
    _dims = 2


class ConvTranspose1d(_ConvTransposeNd):
    """1-d transposed convolution over ``(N, C, L)``, as ``torch.nn.ConvTranspose1d`` (arguments as
    :class:`ConvTranspose2d`, ints).

    Attributes:
        weight: ``(in_channels, out_channels / groups, k)``; bias: ``(out_channels,)``.

    Shape:
        ``(N, C_in, L) -> (N, C_out, oL)``, ``oL = (L - 1) s - 2 p + d (k - 1) + op + 1``.
    """
    _dims = 1
