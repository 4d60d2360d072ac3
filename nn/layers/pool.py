"""Pooling layers: MaxPool1d/2d, AvgPool1d/2d, AdaptiveAvgPool1d/2d (PyTorch's arguments and defaults).

The arithmetic is ``autodiff.ops.pool`` (Numba kernels), reached through ``nn.functional``; each layer
stores its arguments and names itself in error messages.
"""
from .. import functional as F
from ..module import Module

__all__ = ["MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d"]


class _MaxPoolNd(Module):
    _dims = 2

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = bool(return_indices)
        self.ceil_mode = bool(ceil_mode)

    def forward(self, input):
        return F.max_pool_nd(input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                             self.return_indices, dims=self._dims, name=type(self).__name__)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool2d(_MaxPoolNd):
    """Max over ``kernel_size`` windows of ``(N, C, H, W)``; padding acts as ``-inf``.

    Args:
        kernel_size: int or ``(h, w)``.
        stride: default ``kernel_size``.
        padding: at most half the kernel; dilation: spacing inside a window.
        return_indices: also return the winners' flat indices in their ``(H, W)`` planes.
        ceil_mode: round the output size up (the last window may hang over the edge).

    Shape:
        ``(N, C, H, W) -> (N, C, oh, ow)``, ``oh = floor((H + 2p - d(k-1) - 1)/s) + 1``.
    """
    _dims = 2


class MaxPool1d(_MaxPoolNd):
    """Max over windows of ``(N, C, L)`` (arguments as :class:`MaxPool2d`, ints).

    Shape:
        ``(N, C, L) -> (N, C, oL)``.
    """
    _dims = 1


class _AvgPoolNd(Module):
    _dims = 2

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = bool(ceil_mode)
        self.count_include_pad = bool(count_include_pad)
        self.divisor_override = divisor_override

    def forward(self, input):
        return F.avg_pool_nd(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                             self.count_include_pad, self.divisor_override, dims=self._dims,
                             name=type(self).__name__)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(_AvgPoolNd):
    """Mean over ``kernel_size`` windows of ``(N, C, H, W)``.

    Args:
        kernel_size, stride (default ``kernel_size``), padding: int or ``(h, w)``.
        ceil_mode: round the output size up.
        count_include_pad: divide by the full window including zero padding (PyTorch's default True).
        divisor_override: divide by this instead.

    Shape:
        ``(N, C, H, W) -> (N, C, oh, ow)``, ``oh = floor((H + 2p - k)/s) + 1``.
    """
    _dims = 2


class AvgPool1d(_AvgPoolNd):
    """Mean over windows of ``(N, C, L)`` (arguments as :class:`AvgPool2d`, no ``divisor_override``).

    Shape:
        ``(N, C, L) -> (N, C, oL)``.
    """
    _dims = 1

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        super().__init__(kernel_size, stride, padding, ceil_mode, count_include_pad, None)


class _AdaptiveAvgPoolNd(Module):
    _dims = 2

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return F.adaptive_avg_pool_nd(input, self.output_size, dims=self._dims, name=type(self).__name__)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    """Average pooling onto a fixed grid; ``AdaptiveAvgPool2d(1)`` is global average pooling.

    Args:
        output_size: int or ``(oh, ow)``; ``None`` keeps that input size.

    Shape:
        ``(N, C, H, W) -> (N, C, oh, ow)``.
    """
    _dims = 2


class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    """Adaptive average pooling over ``(N, C, L)``.

    Shape:
        ``(N, C, L) -> (N, C, output_size)``.
    """
    _dims = 1
