"""Transposed convolution (1-d and 2-d, PyTorch semantics): the adjoint of a convolution, on im2col kernels.

With the weight ``W`` of shape ``(C_in, C_out/groups, kh, kw)`` read as a convolution weight from
``C_out`` to ``C_in`` channels, ``conv_transpose(x, W)`` is that convolution's input gradient:

    forward:  ``cols = W2^T @ x_rows`` (a GEMM per group), ``y = col2im(cols) + b``
    backward: ``g_cols = im2col(g)``, ``dx = W2 @ g_cols``, ``dW = x_rows @ g_cols^T``, ``db = sum of g``

where ``x_rows`` is ``x`` as ``(C_in, N H W)`` and ``W2`` is ``W`` as ``(C_in, C_out/groups kh kw)``. The
output size is ``(H - 1) s - 2 p + d (k - 1) + output_padding + 1``. The op is ``once_differentiable``.
"""
import numpy as np

from ..errors import DTypeError, ShapeError
from ..function import Function
from ..kernels.gemm import blas_matmul, matmul
from ..kernels.im2col import col2im, im2col, nchw_to_rows
from .conv import int_tuple

__all__ = ["ConvTranspose", "conv_transpose1d", "conv_transpose2d", "conv_transpose_output_size"]


def conv_transpose_output_size(size, kernel, stride, padding, dilation, output_padding):
    """Output length of a transposed convolution along one axis (PyTorch's formula)."""
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


def _grouped(a, groups):
    """(groups * m, k) -> (groups, m, k)."""
    return a.reshape(groups, a.shape[0] // groups, a.shape[1])


class ConvTranspose(Function):
    """y = conv^T(x, W) + b: dx = W2 im2col(g), dW = x_rows im2col(g)^T, db = sum(g)."""

    name = "conv_transpose"
    once_differentiable = True

    @staticmethod
    def forward(ctx, x, weight, bias, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1, out_size=None):
        n, c_in, h, w = x.shape
        w4 = weight if weight.dtype == x.dtype else weight.astype(x.dtype)
        _, cg_out, kh, kw = w4.shape
        c_out = cg_out * groups
        x_rows, _ = nchw_to_rows(x.reshape(n, c_in, h * w))
        k = cg_out * kh * kw
        w2 = w4.reshape(c_in, k)
        if groups == 1:
            cols = matmul(w2.T, x_rows)
        else:
            cols = blas_matmul(_grouped(w2, groups).transpose(0, 2, 1), _grouped(x_rows, groups))
            cols = cols.reshape(groups * k, -1)
        y_shape = (n, c_out) + tuple(out_size)
        y = col2im(cols, y_shape, (kh, kw), stride, padding, dilation, out_size=(h, w))
        if bias is not None:
            y += bias.astype(y.dtype, copy=False).reshape(1, c_out, 1, 1)
        ctx.save_for_backward(w4, x_rows)
        ctx.geometry = (x.shape, weight.shape, (kh, kw), stride, padding, dilation, groups)
        return y

    @staticmethod
    def backward(ctx, g):
        w4, x_rows = ctx.saved_tensors
        x_shape, w_shape, ksize, stride, padding, dilation, groups = ctx.geometry
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        n, c_in, h, w = x_shape
        g_cols = im2col(np.ascontiguousarray(g), ksize, stride, padding, dilation, out_size=(h, w))
        k = g_cols.shape[0] // groups
        gx = gw = gb = None
        w2 = w4.reshape(c_in, -1)
        if groups == 1:
            if need_x:
                gx = matmul(w2, g_cols)
            if need_w:
                gw = matmul(x_rows, g_cols.T).reshape(w_shape)
        else:
            gc = g_cols.reshape(groups, k, -1)
            if need_x:
                gx = blas_matmul(_grouped(w2, groups), gc).reshape(c_in, -1)
            if need_w:
                gw = blas_matmul(_grouped(x_rows, groups), gc.transpose(0, 2, 1)).reshape(w_shape)
        if gx is not None:
            gx = np.ascontiguousarray(gx.reshape(c_in, n, h * w).transpose(1, 0, 2)).reshape(x_shape)
        if need_b:
            gb = g.sum(axis=(0, 2, 3))
        return gx, gw, gb


def _shape_of(t):
    return tuple(np.shape(getattr(t, "data", t)))


def _conv_transpose(name, dims, input, weight, bias, stride, padding, output_padding, groups, dilation,
                    output_size=None):
    w_shape = _shape_of(weight)
    if len(w_shape) != dims + 2:
        raise ShapeError(f"{name}: weight must be {dims + 2}-d (in_channels, out_channels/groups, "
                         f"{'kh, kw' if dims == 2 else 'k'}), got shape {w_shape}")
    x_shape = _shape_of(input)
    if len(x_shape) not in (dims + 1, dims + 2):
        layout = "(N, C, H, W)" if dims == 2 else "(N, C, L)"
        raise ShapeError(f"{name}: expected a {dims + 2}-d input {layout} or an unbatched {dims + 1}-d one, "
                         f"got shape {x_shape}")
    dtype = np.dtype(getattr(input, "dtype", np.float64))
    if dtype not in (np.float32, np.float64):
        raise DTypeError(f"{name}: expected a float32 or float64 input, got dtype {dtype}")
    unbatched = len(x_shape) == dims + 1
    if unbatched:
        x_shape = (1,) + x_shape
    if isinstance(padding, str):
        raise ShapeError(f"{name}: padding must be an int or a tuple of {dims} ints (no 'same' or 'valid' for a "
                         f"transposed convolution, as PyTorch), got {padding!r}")
    stride = int_tuple(stride, dims, "stride", name)
    padding = int_tuple(padding, dims, "padding", name)
    dilation = int_tuple(dilation, dims, "dilation", name)
    output_padding = int_tuple(output_padding, dims, "output_padding", name)
    if min(stride + dilation) < 1 or min(padding + output_padding) < 0:
        raise ShapeError(f"{name}: stride {stride} and dilation {dilation} must be positive, padding {padding} and "
                         f"output_padding {output_padding} non-negative")
    for a in range(dims):
        if output_padding[a] >= max(stride[a], dilation[a]):
            raise ShapeError(f"{name}: output_padding {output_padding} must be smaller than either stride {stride} "
                             f"or dilation {dilation}")
    if not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ShapeError(f"{name}: groups must be a positive int, got {groups!r}")
    c_in = w_shape[0]
    if c_in % groups:
        raise ShapeError(f"{name}: groups={groups} does not divide the weight's {c_in} input channels "
                         f"(weight {w_shape})")
    if x_shape[1] != c_in:
        raise ShapeError(f"{name}: expected input with {c_in} channels (weight {w_shape}), got {x_shape[1]} "
                         f"channels (input {x_shape})")
    c_out = w_shape[1] * groups
    if bias is not None and _shape_of(bias) != (c_out,):
        raise ShapeError(f"{name}: bias must have shape {(c_out,)}, got {_shape_of(bias)}")
    out = tuple(conv_transpose_output_size(x_shape[2 + a], w_shape[2 + a], stride[a], padding[a], dilation[a],
                                           output_padding[a]) for a in range(dims))
    if min(out) < 1:
        raise ShapeError(f"{name}: output size {out} is not positive (input {x_shape}, weight {w_shape}, "
                         f"stride {stride}, padding {padding}, dilation {dilation})")
    if unbatched:
        input = input.reshape(x_shape)
    if dims == 1:
        input = input.reshape(x_shape[:2] + (1, x_shape[2]))
        weight = weight.reshape(w_shape[:2] + (1, w_shape[2]))
        stride, padding, dilation, out = (1,) + stride, (0,) + padding, (1,) + dilation, (1,) + out
    y = ConvTranspose.apply(input, weight, bias, stride=stride, padding=padding, dilation=dilation,
                            groups=int(groups), out_size=out)
    if dims == 1:
        y = y.reshape((x_shape[0], c_out, out[1]))
    return y.reshape(tuple(y.shape[1:])) if unbatched else y


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """2-d transposed convolution ("deconvolution"), as ``torch.nn.functional.conv_transpose2d``.

    Args:
        input: ``(N, C_in, H, W)`` or unbatched ``(C_in, H, W)`` float Tensor.
        weight: ``(C_in, C_out/groups, kh, kw)``.
        bias: ``(C_out,)`` or None.
        stride, padding, dilation: int or ``(h, w)``; ``padding`` removes ``dilation (k - 1) - padding``
            of zero padding from each side of the (stride-dilated) input.
        output_padding: extra size added to one side of the output (smaller than stride or dilation).
        groups: blocks of channels convolved independently.

    Shape:
        ``(N, C_in, H, W) -> (N, C_out, oh, ow)``, ``oh = (H - 1) sh - 2 ph + dh (kh - 1) + oph + 1``.
    """
    return _conv_transpose("conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """1-d transposed convolution, as ``torch.nn.functional.conv_transpose1d``.

    Shape:
        ``(N, C_in, L) -> (N, C_out, oL)``, ``oL = (L - 1) s - 2 p + d (k - 1) + op + 1``; weight
        ``(C_in, C_out/groups, k)``.
    """
    return _conv_transpose("conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)
