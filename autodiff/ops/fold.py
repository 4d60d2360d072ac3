"""Sliding-window blocks: ``unfold`` (im2col as PyTorch's ``F.unfold``) and its adjoint ``fold`` (col2im).

Both run on the im2col/col2im kernels (``autodiff.kernels.im2col``). Each is the other's backward, so
under ``create_graph`` the backward records the other op and derivatives of any order work.

Layout: PyTorch's ``(N, C kh kw, L)`` blocks, block row ``(c kh + i) kw + j`` and column
``l = y ow + x``; the kernels' ``cols`` is ``(C kh kw, N L)``, so the two differ by one transpose.
"""
import numpy as np

from ..errors import ShapeError
from ..function import Function
from ..kernels.im2col import col2im, conv_output_size, im2col
from .conv import int_tuple

__all__ = ["Unfold", "Fold", "unfold", "fold"]


def _is_array(x):
    return isinstance(x, np.ndarray)


def _unfold_array(x, geometry):
    kernel, dilation, padding, stride, out_size = geometry
    n, c = x.shape[:2]
    cols = im2col(np.ascontiguousarray(x), kernel, stride, padding, dilation, out_size=out_size)
    return cols.reshape(c * kernel[0] * kernel[1], n, -1).transpose(1, 0, 2)


def _fold_array(blocks, x_shape, geometry):
    kernel, dilation, padding, stride, out_size = geometry
    cols = np.ascontiguousarray(blocks.transpose(1, 0, 2)).reshape(blocks.shape[1], -1)
    return col2im(cols, x_shape, kernel, stride, padding, dilation, out_size=out_size)


class Unfold(Function):
    """Blocks of every sliding window: (N, C, H, W) -> (N, C kh kw, L); backward is ``Fold``."""

    name = "unfold"

    @staticmethod
    def forward(ctx, x, geometry=None):
        ctx.geometry, ctx.x_shape = geometry, x.shape
        return _unfold_array(x, geometry)

    @staticmethod
    def backward(ctx, g):
        if _is_array(g):
            return _fold_array(g, ctx.x_shape, ctx.geometry)
        return Fold.apply(g, x_shape=ctx.x_shape, geometry=ctx.geometry)


class Fold(Function):
    """Sum of the blocks into the image they came from: (N, C kh kw, L) -> (N, C, H, W); backward is ``Unfold``."""

    name = "fold"

    @staticmethod
    def forward(ctx, blocks, x_shape=None, geometry=None):
        ctx.geometry = geometry
        return _fold_array(blocks, x_shape, geometry)

    @staticmethod
    def backward(ctx, g):
        if _is_array(g):
            return _unfold_array(g, ctx.geometry)
        return Unfold.apply(g, geometry=ctx.geometry)


def _geometry(name, spatial, kernel_size, dilation, padding, stride):
    kernel = int_tuple(kernel_size, 2, "kernel_size", name)
    dilation = int_tuple(dilation, 2, "dilation", name)
    padding = int_tuple(padding, 2, "padding", name)
    stride = int_tuple(stride, 2, "stride", name)
    if min(kernel + dilation + stride) < 1 or min(padding) < 0:
        raise ShapeError(f"{name}: kernel_size {kernel}, dilation {dilation} and stride {stride} must be positive "
                         f"and padding {padding} non-negative")
    out = tuple(conv_output_size(spatial[a], kernel[a], stride[a], padding[a], dilation[a]) for a in range(2))
    return (kernel, dilation, padding, stride, out)


def _float_input(name, x):
    dtype = np.dtype(getattr(x, "dtype", np.asarray(x).dtype))
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"{name}: expected a float32 or float64 input, got dtype {dtype}")


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Extract sliding local blocks, as ``torch.nn.functional.unfold``.

    Args:
        input: ``(N, C, H, W)`` or unbatched ``(C, H, W)``.
        kernel_size, dilation, padding, stride: int or ``(h, w)``.

    Shape:
        ``(N, C, H, W) -> (N, C kh kw, L)``, ``L = oh ow`` with ``oh = (H + 2 ph - dh (kh - 1) - 1) // sh + 1``.
    """
    shape = tuple(input.shape)
    if len(shape) not in (3, 4):
        raise ShapeError(f"unfold: expected a 3-d (C, H, W) or 4-d (N, C, H, W) input, got shape {shape}")
    _float_input("unfold", input)
    unbatched = len(shape) == 3
    if unbatched:
        input = input.reshape((1,) + shape)
    geometry = _geometry("unfold", shape[-2:], kernel_size, dilation, padding, stride)
    if min(geometry[4]) < 1:
        raise ShapeError(f"unfold: kernel_size {geometry[0]} (dilation {geometry[1]}) is larger than the padded "
                         f"input {tuple(s + 2 * p for s, p in zip(shape[-2:], geometry[2]))} (input {shape})")
    out = Unfold.apply(input, geometry=geometry)
    return out.reshape(tuple(out.shape[1:])) if unbatched else out


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Combine sliding local blocks into an image, summing overlaps, as ``torch.nn.functional.fold``.

    Args:
        input: ``(N, C kh kw, L)`` or unbatched ``(C kh kw, L)``.
        output_size: ``(H, W)`` of the image (int or pair).

    Shape:
        ``(N, C kh kw, L) -> (N, C, H, W)``; ``L`` must equal the number of blocks ``unfold`` makes of ``(H, W)``.
    """
    shape = tuple(input.shape)
    if len(shape) not in (2, 3):
        raise ShapeError(f"fold: expected a 2-d (C*kh*kw, L) or 3-d (N, C*kh*kw, L) input, got shape {shape}")
    _float_input("fold", input)
    unbatched = len(shape) == 2
    if unbatched:
        input = input.reshape((1,) + shape)
        shape = (1,) + shape
    size = int_tuple(output_size, 2, "output_size", "fold")
    geometry = _geometry("fold", size, kernel_size, dilation, padding, stride)
    kernel, out = geometry[0], geometry[4]
    k = kernel[0] * kernel[1]
    if shape[1] % k:
        raise ShapeError(f"fold: expected size of input's dimension 1 to be divisible by the product of kernel_size "
                         f"{kernel} = {k}, but got input of shape {tuple(input.shape)}")
    if min(out) < 1 or shape[2] != out[0] * out[1]:
        raise ShapeError(f"fold: given output_size={size}, kernel_size={kernel}, dilation={geometry[1]}, "
                         f"padding={geometry[2]}, stride={geometry[3]}, expected {max(out[0], 0) * max(out[1], 0)} "
                         f"blocks in input's dimension 2, but got input of shape {tuple(input.shape)}")
    out_t = Fold.apply(input, x_shape=(shape[0], shape[1] // k) + size, geometry=geometry)
    return out_t.reshape(tuple(out_t.shape[1:])) if unbatched else out_t
