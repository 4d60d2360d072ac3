"""3-d convolution layers: Conv3d and ConvTranspose3d (PyTorch's arguments, shapes, defaults and init).

The arithmetic is ``autodiff.ops.conv3d`` (sliding windows and GEMMs in numpy, differentiable twice),
reached through ``nn.functional``; argument checks, parameters and initialisation are the 1-d/2-d layers'.
"""
from .. import functional as F
from .conv import _ConvNd
from .conv_transpose import _ConvTransposeNd

__all__ = ["Conv3d", "ConvTranspose3d"]


def _check_device(name, device):
    if device not in (None, "cpu"):
        raise ValueError(f"{name}: only the cpu device exists here, got device={device!r}")


class Conv3d(_ConvNd):
    """3-d convolution (cross-correlation) over ``(N, C, D, H, W)``, as ``torch.nn.Conv3d``.

    Args:
        in_channels, out_channels: channel counts (both divisible by ``groups``).
        kernel_size, stride, dilation: int or ``(d, h, w)``.
        padding: int, ``(d, h, w)``, ``"valid"`` or ``"same"`` (asymmetric when the total is odd, as PyTorch).
        groups: split channels into independent blocks.
        bias: learn a per-output-channel bias.
        padding_mode: ``"zeros"`` (default), ``"reflect"``, ``"replicate"`` or ``"circular"``: a non-zeros
            mode pads the input itself and convolves with padding 0, as PyTorch.
        device: only ``None`` or ``"cpu"``.
        dtype: parameter dtype (float32 by default).

    Attributes:
        weight: ``(out_channels, in_channels / groups, kd, kh, kw)``; bias: ``(out_channels,)``; both
            U(-1/sqrt(fan_in), 1/sqrt(fan_in)), ``fan_in = in_channels / groups * kd * kh * kw``.

    Shape:
        ``(N, C_in, D, H, W) -> (N, C_out, od, oh, ow)``, ``od = floor((D + 2 pd - dd (kd - 1) - 1) / sd) + 1``;
        unbatched ``(C_in, D, H, W)`` works too.
    """
    _dims = 3

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        _check_device(type(self).__name__, device)
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, dtype)

    def forward(self, input):
        name = type(self).__name__
        padding = self.padding
        if self.padding_mode != "zeros" and len(getattr(input, "shape", ())) in (4, 5):
            shape = tuple(input.shape)
            pw = ((0, 0),) * (len(shape) - 3) + self._pads
            F.check_pad_mode(name, shape, pw, self.padding_mode)
            if any(lo or hi for lo, hi in self._pads):
                input = F.pad_mode(input, pw, self.padding_mode, name=name)
            padding = 0
        return F.conv3d(input, self.weight, self.bias, self.stride, padding, self.dilation, self.groups, name=name)


class ConvTranspose3d(_ConvTransposeNd):
    """3-d transposed convolution over ``(N, C, D, H, W)``, as ``torch.nn.ConvTranspose3d``.

    Args:
        in_channels, out_channels: channel counts (both divisible by ``groups``).
        kernel_size, stride, padding, dilation: int or ``(d, h, w)``.
        output_padding: extra size after the last output element of each axis (smaller than the stride or
            the dilation).
        groups: independent channel blocks.
        bias: learn a per-output-channel bias.
        padding_mode: only ``"zeros"``, as PyTorch.
        device: only ``None`` or ``"cpu"``.
        dtype: parameter dtype (float32 by default).

    Attributes:
        weight: ``(in_channels, out_channels / groups, kd, kh, kw)``; bias: ``(out_channels,)``; both
            U(-1/sqrt(fan_in), 1/sqrt(fan_in)), ``fan_in = out_channels / groups * kd * kh * kw``.

    Shape:
        ``(N, C_in, D, H, W) -> (N, C_out, od, oh, ow)``, ``od = (D - 1) sd - 2 pd + dd (kd - 1) + opd + 1``;
        ``forward(input, output_size)`` picks the output_padding that gives ``output_size``.
    """
    _dims = 3

    def forward(self, input, output_size=None):
        op = self._output_padding(input, output_size)
        return F.conv_transpose3d(input, self.weight, self.bias, self.stride, self.padding, op, self.groups,
                                  self.dilation, name=type(self).__name__)
