"""Pooling layers: MaxPool3d, AvgPool3d, AdaptiveAvgPool3d, AdaptiveMaxPool1d/2d/3d, MaxUnpool1d/2d/3d and
LPPool1d/2d/3d (PyTorch's arguments and defaults).

The arithmetic is ``autodiff.ops.pool3d`` and ``autodiff.ops.unpool``, reached through ``nn.functional``;
each layer stores its arguments and names itself in error messages.
"""
from .. import functional as F
from ..module import Module
from .pool import _AdaptiveAvgPoolNd, _AvgPoolNd, _MaxPoolNd

__all__ = ["MaxPool3d", "AvgPool3d", "AdaptiveAvgPool3d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d",
           "AdaptiveMaxPool3d", "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d", "LPPool1d", "LPPool2d", "LPPool3d"]


class MaxPool3d(_MaxPoolNd):
    """Max over ``kernel_size`` windows of ``(N, C, D, H, W)``, as ``torch.nn.MaxPool3d``; padding acts as ``-inf``.

    Args:
        kernel_size: int or ``(kd, kh, kw)``; stride: default ``kernel_size``.
        padding: at most half the kernel; dilation: spacing inside a window.
        return_indices: also return the winners' flat indices in their ``(D, H, W)`` planes.
        ceil_mode: round the output size up (the last window must start inside the input or left padding).

    Shape:
        ``(N, C, D, H, W) -> (N, C, od, oh, ow)``, ``od = floor((D + 2p - d(k-1) - 1)/s) + 1``.
    """
    _dims = 3

    def forward(self, input):
        return F.max_pool3d(input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                            self.return_indices, name=type(self).__name__)


class AvgPool3d(_AvgPoolNd):
    """Mean over ``kernel_size`` windows of ``(N, C, D, H, W)``, as ``torch.nn.AvgPool3d``.

    Args:
        kernel_size, stride (default ``kernel_size``), padding: int or ``(d, h, w)``.
        ceil_mode: round the output size up.
        count_include_pad: divide by the full window including zero padding (PyTorch's default True).
        divisor_override: divide by this instead.

    Shape:
        ``(N, C, D, H, W) -> (N, C, od, oh, ow)``, ``od = floor((D + 2p - k)/s) + 1``.
    """
    _dims = 3

    def forward(self, input):
        return F.avg_pool3d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override, name=type(self).__name__)


class AdaptiveAvgPool3d(_AdaptiveAvgPoolNd):
    """Average pooling onto a fixed grid, as ``torch.nn.AdaptiveAvgPool3d``.

    Args:
        output_size: int or ``(od, oh, ow)``; ``None`` keeps that input size.

    Shape:
        ``(N, C, D, H, W) -> (N, C, od, oh, ow)``.
    """
    _dims = 3

    def forward(self, input):
        return F.adaptive_avg_pool3d(input, self.output_size, name=type(self).__name__)


class _AdaptiveMaxPoolNd(Module):
    _fn = None

    def __init__(self, output_size, return_indices=False):
        super().__init__()
        self.output_size = output_size
        self.return_indices = bool(return_indices)

    def forward(self, input):
        return type(self)._fn(input, self.output_size, self.return_indices, name=type(self).__name__)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    """Max pooling onto a fixed grid, as ``torch.nn.AdaptiveMaxPool3d``.

    Args:
        output_size: int or ``(od, oh, ow)``; ``None`` keeps that input size.
        return_indices: also return the winners' flat indices (for :class:`MaxUnpool3d`).

    Shape:
        ``(N, C, D, H, W) -> (N, C, od, oh, ow)``.
    """
    _fn = staticmethod(F.adaptive_max_pool3d)


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """Max pooling onto a fixed ``(oh, ow)`` grid, as ``torch.nn.AdaptiveMaxPool2d``.

    Shape:
        ``(N, C, H, W) -> (N, C, oh, ow)``.
    """
    _fn = staticmethod(F.adaptive_max_pool2d)


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """Max pooling onto a fixed length, as ``torch.nn.AdaptiveMaxPool1d``.

    Shape:
        ``(N, C, L) -> (N, C, output_size)``.
    """
    _fn = staticmethod(F.adaptive_max_pool1d)


class _MaxUnpoolNd(Module):
    _dims = 2

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding

    def forward(self, input, indices, output_size=None):
        return F.max_unpool_nd(input, indices, self.kernel_size, self.stride, self.padding, output_size,
                               dims=self._dims, name=type(self).__name__)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool3d(_MaxUnpoolNd):
    """Partial inverse of :class:`MaxPool3d`, as ``torch.nn.MaxUnpool3d``: values back at their indices,
    zeros elsewhere.

    Args:
        kernel_size, stride (default ``kernel_size``), padding: the pooling's arguments.

    Shape:
        ``forward(input, indices, output_size=None)``: ``(N, C, d, h, w) -> (N, C, D, H, W)``,
        ``D = (d - 1) s - 2 p + k`` unless ``output_size`` asks for one of the sizes within ``stride`` of it.
    """
    _dims = 3


class MaxUnpool2d(_MaxUnpoolNd):
    """Partial inverse of ``MaxPool2d``, as ``torch.nn.MaxUnpool2d`` (arguments as :class:`MaxUnpool3d`).

    Shape:
        ``(N, C, h, w) -> (N, C, H, W)``.
    """
    _dims = 2


class MaxUnpool1d(_MaxUnpoolNd):
    """Partial inverse of ``MaxPool1d``, as ``torch.nn.MaxUnpool1d``.

    Shape:
        ``(N, C, l) -> (N, C, L)``.
    """
    _dims = 1


class _LPPoolNd(Module):
    _fn = None

    def __init__(self, norm_type, kernel_size, stride=None, ceil_mode=False):
        super().__init__()
        self.norm_type = norm_type
        self.kernel_size = kernel_size
        self.stride = stride
        self.ceil_mode = bool(ceil_mode)

    def forward(self, input):
        return type(self)._fn(input, float(self.norm_type), self.kernel_size, self.stride, self.ceil_mode,
                              name=type(self).__name__)

    def extra_repr(self):
        return f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride}, " \
               f"ceil_mode={self.ceil_mode}"


class LPPool3d(_LPPoolNd):
    """Power-average pooling ``(sum over window x^p)^(1/p)``, as ``torch.nn.LPPool3d``.

    Args:
        norm_type: ``p`` (``inf`` gives max pooling of ``|x|``).
        kernel_size: int or ``(kd, kh, kw)``; stride: default ``kernel_size``; ceil_mode: round up.

    Shape:
        ``(N, C, D, H, W) -> (N, C, od, oh, ow)``, ``od = floor((D - k)/s) + 1``.
    """
    _fn = staticmethod(F.lp_pool3d)


class LPPool2d(_LPPoolNd):
    """Power-average pooling over ``(N, C, H, W)``, as ``torch.nn.LPPool2d``.

    Shape:
        ``(N, C, H, W) -> (N, C, oh, ow)``.
    """
    _fn = staticmethod(F.lp_pool2d)


class LPPool1d(_LPPoolNd):
    """Power-average pooling over ``(N, C, L)``, as ``torch.nn.LPPool1d``.

    Shape:
        ``(N, C, L) -> (N, C, oL)``.
    """
    _fn = staticmethod(F.lp_pool1d)
