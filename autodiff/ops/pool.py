"""Max, average and adaptive-average pooling (1-d and 2-d, PyTorch semantics) on Numba kernels.

Max pooling saves the winner's index in forward, and backward routes each gradient to that one input;
average pooling spreads ``g / window_size`` over the window. 1-d pooling is 2-d pooling over a height-1
plane. The ops are ``once_differentiable`` (their backward is a Numba kernel).
"""
import numpy as np

from ..errors import DTypeError
from ..function import Function
from ..kernels import pool as pool_kernels
from .conv import int_tuple

__all__ = ["MaxPool", "AvgPool", "AdaptiveAvgPool", "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d",
           "adaptive_avg_pool1d", "adaptive_avg_pool2d", "max_pool_nd", "avg_pool_nd", "adaptive_avg_pool_nd",
           "normalize_pool_args"]


def normalize_pool_args(name, dims, kernel_size, stride, padding, dilation=1):
    """int-or-tuple pooling arguments to ``dims``-tuples (``stride=None`` means ``kernel_size``)."""
    kernel_size = int_tuple(kernel_size, dims, "kernel_size", name)
    stride = kernel_size if stride is None or stride == () else int_tuple(stride, dims, "stride", name)
    padding = int_tuple(padding, dims, "padding", name)
    dilation = int_tuple(dilation, dims, "dilation", name)
    if min(kernel_size) < 1 or min(stride) < 1 or min(dilation) < 1:
        raise ValueError(f"{name}: kernel_size {kernel_size}, stride {stride} and dilation {dilation} must be positive")
    if min(padding) < 0 or any(p > k // 2 for p, k in zip(padding, kernel_size)):
        raise ValueError(f"{name}: padding {padding} must be non-negative and at most half of kernel_size "
                         f"{kernel_size}")
    return kernel_size, stride, padding, dilation


def _check_input(name, dims, x, kernel_size, stride, padding, dilation, ceil_mode):
    shape = tuple(np.shape(getattr(x, "data", x)))
    if len(shape) not in (dims + 1, dims + 2):
        layout = "(N, C, H, W) or (C, H, W)" if dims == 2 else "(N, C, L) or (C, L)"
        raise ValueError(f"{name}: expected a {layout} input, got shape {shape}")
    dtype = getattr(x, "dtype", None)
    if dtype is not None and np.dtype(dtype).kind != "f":
        raise DTypeError(f"{name}: expected a floating-point input, got dtype {dtype} (input {shape})")
    spatial = shape[-dims:]
    for ax in range(dims):
        out = pool_kernels.pool_output_size(spatial[ax], kernel_size[ax], stride[ax], padding[ax], dilation[ax], ceil_mode)
        if out < 1:
            raise ValueError(f"{name}: kernel_size {kernel_size} (dilation {dilation}) is larger than the padded "
                             f"input {tuple(s + 2 * p for s, p in zip(spatial, padding))} (input {shape})")
    return shape


class MaxPool(Function):
    """y = max over each window; dx[winner] += g (the winner's flat index is saved in forward)."""

    name = "max_pool"
    once_differentiable = True

    @staticmethod
    def forward(ctx, x, kernel_size=(2, 2), stride=(2, 2), padding=(0, 0), dilation=(1, 1), ceil_mode=False,
                shape4=None, out_shape=None, indices_out=None):
        out, idx = pool_kernels.max_pool2d_forward(x.reshape(shape4), kernel_size, stride, padding, dilation, ceil_mode)
        ctx.save_for_backward(idx)
        ctx.shapes = (shape4, x.shape)
        if indices_out is not None:
            indices_out.append(idx.reshape(out_shape).astype(np.int64))  # PyTorch's index dtype
        return out.reshape(out_shape)

    @staticmethod
    def backward(ctx, g):
        (idx,) = ctx.saved_tensors
        shape4, shape = ctx.shapes
        return pool_kernels.max_pool2d_backward(g.reshape(idx.shape), idx, shape4).reshape(shape)


class AvgPool(Function):
    """y = window sum / divisor; dx += g / divisor over each window."""

    name = "avg_pool"
    once_differentiable = True

    @staticmethod
    def forward(ctx, x, kernel_size=(2, 2), stride=(2, 2), padding=(0, 0), ceil_mode=False,
                count_include_pad=True, divisor_override=None, shape4=None, out_shape=None):
        out = pool_kernels.avg_pool2d_forward(x.reshape(shape4), kernel_size, stride, padding, ceil_mode, count_include_pad,
                                   divisor_override)
        ctx.args = (shape4, x.shape, out.shape, kernel_size, stride, padding, count_include_pad, divisor_override)
        return out.reshape(out_shape)

    @staticmethod
    def backward(ctx, g):
        shape4, shape, out4, kernel_size, stride, padding, count_include_pad, divisor = ctx.args
        gx = pool_kernels.avg_pool2d_backward(g.reshape(out4), shape4, kernel_size, stride, padding, count_include_pad, divisor)
        return gx.reshape(shape)


class AdaptiveAvgPool(Function):
    """Cell (a, b) = mean of rows [floor(aH/oh), ceil((a+1)H/oh)) x the same for columns."""

    name = "adaptive_avg_pool"
    once_differentiable = True

    @staticmethod
    def forward(ctx, x, output_size=(1, 1), shape4=None, out_shape=None):
        out = pool_kernels.adaptive_avg_pool2d_forward(x.reshape(shape4), output_size)
        ctx.shapes = (shape4, x.shape, out.shape)
        return out.reshape(out_shape)

    @staticmethod
    def backward(ctx, g):
        shape4, shape, out4 = ctx.shapes
        return pool_kernels.adaptive_avg_pool2d_backward(g.reshape(out4), shape4).reshape(shape)


def _shape4(shape, dims):
    """The ``(N, C, H, W)`` view of a pooling input (batch, and height for 1-d, added as size 1)."""
    if dims == 2:
        return shape if len(shape) == 4 else (1,) + shape
    lead = shape[:-1] if len(shape) == 3 else (1,) + shape[:-1]
    return lead + (1, shape[-1])


def _geometry(name, dims, x, kernel_size, stride, padding, dilation, ceil_mode):
    """Validated ``(shape4, out_shape, kernel, stride, padding, dilation)``, all as 2-d pooling arguments."""
    kernel_size, stride, padding, dilation = normalize_pool_args(name, dims, kernel_size, stride, padding, dilation)
    shape = _check_input(name, dims, x, kernel_size, stride, padding, dilation, ceil_mode)
    out_spatial = tuple(pool_kernels.pool_output_size(shape[-dims + a], kernel_size[a], stride[a], padding[a], dilation[a],
                                           ceil_mode) for a in range(dims))
    out_shape = shape[:-dims] + out_spatial
    if dims == 1:
        kernel_size, stride, padding, dilation = (1,) + kernel_size, (1,) + stride, (0,) + padding, (1,) + dilation
    return _shape4(shape, dims), out_shape, kernel_size, stride, padding, dilation


def max_pool_nd(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False, *,
                dims=2, name="max_pool2d"):
    """Max pooling over ``dims`` spatial axes (1 or 2), batched or unbatched: the entry of
    :func:`max_pool1d`, :func:`max_pool2d` and the layers, whose ``name`` appears in error messages."""
    shape4, out_shape, kernel_size, stride, padding, dilation = _geometry(
        name, dims, x, kernel_size, stride, padding, dilation, ceil_mode)
    sink = [] if return_indices else None
    y = MaxPool.apply(x, kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation,
                      ceil_mode=bool(ceil_mode), shape4=shape4, out_shape=out_shape, indices_out=sink)
    if return_indices:
        from ..tensor import Tensor
        return y, Tensor(sink[0])
    return y


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """2-d max pooling, as ``torch.nn.functional.max_pool2d`` (padding acts as ``-inf``).

    Returns:
        The pooled Tensor; with ``return_indices=True`` also the int64 flat index of each winner in its
        ``(H, W)`` plane (a Tensor without gradient).

    Shape:
        ``(N, C, H, W) -> (N, C, oh, ow)``, ``oh = floor((H + 2p - d(k-1) - 1)/s) + 1`` (ceil with ``ceil_mode``).
    """
    return max_pool_nd(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, dims=2,
                       name="max_pool2d")


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """1-d max pooling, as ``torch.nn.functional.max_pool1d``.

    Shape:
        ``(N, C, L) -> (N, C, oL)``.
    """
    return max_pool_nd(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, dims=1,
                       name="max_pool1d")


def avg_pool_nd(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                divisor_override=None, *, dims=2, name="avg_pool2d"):
    """Average pooling over ``dims`` spatial axes (1 or 2): the entry of :func:`avg_pool1d`,
    :func:`avg_pool2d` and the layers, whose ``name`` appears in error messages."""
    shape4, out_shape, kernel_size, stride, padding, _ = _geometry(
        name, dims, x, kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None and int(divisor_override) < 1:
        raise ValueError(f"{name}: divisor_override must be a positive int, got {divisor_override!r}")
    return AvgPool.apply(x, kernel_size=kernel_size, stride=stride, padding=padding, ceil_mode=bool(ceil_mode),
                         count_include_pad=bool(count_include_pad), divisor_override=divisor_override,
                         shape4=shape4, out_shape=out_shape)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """2-d average pooling, as ``torch.nn.functional.avg_pool2d`` (zero padding counted by default).

    Shape:
        ``(N, C, H, W) -> (N, C, oh, ow)``, ``oh = floor((H + 2p - k)/s) + 1``.
    """
    return avg_pool_nd(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override,
                       dims=2, name="avg_pool2d")


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """1-d average pooling, as ``torch.nn.functional.avg_pool1d``.

    Shape:
        ``(N, C, L) -> (N, C, oL)``.
    """
    return avg_pool_nd(input, kernel_size, stride, padding, ceil_mode, count_include_pad, None, dims=1,
                       name="avg_pool1d")


def adaptive_avg_pool_nd(x, output_size, *, dims=2, name="adaptive_avg_pool2d"):
    """Adaptive average pooling over ``dims`` spatial axes (1 or 2): the entry of the two function forms
    and the layers, whose ``name`` appears in error messages."""
    shape = tuple(np.shape(getattr(x, "data", x)))
    if len(shape) not in (dims + 1, dims + 2):
        layout = "(N, C, H, W) or (C, H, W)" if dims == 2 else "(N, C, L) or (C, L)"
        raise ValueError(f"{name}: expected a {layout} input, got shape {shape}")
    if isinstance(output_size, (int, np.integer)) or output_size is None:
        output_size = (output_size,) * dims
    output_size = tuple(output_size)
    if len(output_size) != dims:
        raise ValueError(f"{name}: output_size must be an int or a tuple of {dims}, got {output_size!r}")
    spatial = shape[-dims:]
    out_spatial = tuple(int(s) if o is None else int(o) for o, s in zip(output_size, spatial))
    if min(out_spatial) < 1 or min(spatial) < 1:
        raise ValueError(f"{name}: output_size {out_spatial} must be positive and the input {shape} non-empty")
    dtype = getattr(x, "dtype", None)
    if dtype is not None and np.dtype(dtype).kind != "f":
        raise DTypeError(f"{name}: expected a floating-point input, got dtype {dtype} (input {shape})")
    size2 = out_spatial if dims == 2 else (1,) + out_spatial
    return AdaptiveAvgPool.apply(x, output_size=size2, shape4=_shape4(shape, dims),
                                 out_shape=shape[:-dims] + out_spatial)


def adaptive_avg_pool2d(input, output_size):
    """Average pooling onto a fixed ``output_size`` grid (int, tuple; None keeps that input size).

    Shape:
        ``(N, C, H, W) -> (N, C, *output_size)``.
    """
    return adaptive_avg_pool_nd(input, output_size, dims=2, name="adaptive_avg_pool2d")


def adaptive_avg_pool1d(input, output_size):
    """1-d adaptive average pooling.

    Shape:
        ``(N, C, L) -> (N, C, output_size)``.
    """
    return adaptive_avg_pool_nd(input, output_size, dims=1, name="adaptive_avg_pool1d")
