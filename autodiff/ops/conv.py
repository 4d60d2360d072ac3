"""Convolution (1-d and 2-d, PyTorch semantics) as im2col + one GEMM, with its backward.

Forward: ``cols = im2col(x)`` (``(C kh kw, N oh ow)``), ``rows = W2 @ cols`` (``W2 = weight`` as
``(O, C/groups kh kw)``; one GEMM, or one stacked GEMM over the groups), then one pass reorders ``rows``
to ``(N, O, oh, ow)`` and adds the bias. Backward: ``dW = g_rows @ cols^T`` (a GEMM on the saved columns),
``dx = col2im(W2^T @ g_rows)`` (a GEMM, then a scatter-add), ``db = sum of g`` (taken in the reorder pass).
The kernels are Numba (``autodiff.kernels.im2col``); the op is ``once_differentiable``.
"""
import numpy as np

from ..errors import DTypeError
from ..function import Function
from ..kernels.gemm import blas_matmul, matmul
from ..kernels.im2col import col2im, conv_output_size, im2col, nchw_to_rows, rows_to_nchw
from ..kernels.memory import retain_freed_memory

__all__ = ["Conv", "conv1d", "conv2d", "conv_nd", "int_tuple", "normalize_conv_args", "check_conv_shapes"]

# Convolution steps free and allocate the same multi-megabyte buffers every step; without this glibc maps
# and unmaps them each time (~4,500 page faults, ~13 ms of system time per LeNet step; see kernels.memory).
retain_freed_memory()


def int_tuple(value, dims, what, name):
    """An int or a sequence of ``dims`` ints as a ``dims``-tuple; errors name ``name`` and ``what``.

    Example: ``int_tuple(3, 2, "kernel_size", "Conv2d")`` is ``(3, 3)``.
    """
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (int(value),) * dims
    try:
        out = tuple(int(v) for v in value)
    except TypeError:
        raise TypeError(f"{name}: {what} must be an int or a tuple of {dims} ints, got {value!r}") from None
    if len(out) != dims:
        raise ValueError(f"{name}: {what} must be an int or a tuple of {dims} ints, got {value!r}")
    return out


def normalize_conv_args(name, dims, kernel_size, stride, padding, dilation):
    """int-or-tuple arguments to ``dims``-tuples; ``padding`` may be ``"valid"`` or ``"same"``.

    Returns ``(stride, padding, dilation)`` with padding as ``((before, after), ...)`` per axis.
    """
    stride = int_tuple(stride, dims, "stride", name)
    dilation = int_tuple(dilation, dims, "dilation", name)
    if min(stride) < 1 or min(dilation) < 1:
        raise ValueError(f"{name}: stride {stride} and dilation {dilation} must be positive")
    if isinstance(padding, str):
        if padding == "valid":
            pads = ((0, 0),) * dims
        elif padding == "same":
            if max(stride) != 1:
                raise ValueError(f"{name}: padding='same' needs stride 1, got stride {stride}")
            total = [d * (k - 1) for k, d in zip(kernel_size, dilation)]
            pads = tuple((t // 2, t - t // 2) for t in total)
        else:
            raise ValueError(f"{name}: padding must be an int, a tuple, 'valid' or 'same', got {padding!r}")
    else:
        pad = int_tuple(padding, dims, "padding", name)
        if min(pad) < 0:
            raise ValueError(f"{name}: padding {pad} must be non-negative")
        pads = tuple((p, p) for p in pad)
    return stride, pads, dilation


def _shape_of(t):
    return tuple(np.shape(getattr(t, "data", t)))


def check_conv_shapes(name, dims, x_shape, w_shape, b_shape, stride, pads, dilation, groups, unbatched=False):
    """Raise a ValueError naming ``name`` and the shapes if the convolution is not well defined.

    ``x_shape`` is batched; with ``unbatched=True`` the caller's input had no batch axis, and messages
    show the shape the caller passed (``x_shape[1:]``) and say it was read as unbatched.
    """
    if unbatched:
        layout = "(C, H, W)" if dims == 2 else "(C, L)"
        shown = f"input of shape {tuple(x_shape[1:])}, read as unbatched {layout}"
    else:
        shown = f"input {tuple(x_shape)}"
    if len(w_shape) != dims + 2:
        raise ValueError(f"{name}: weight must be {dims + 2}-d (out_channels, in_channels/groups, "
                         f"{'kh, kw' if dims == 2 else 'k'}), got shape {w_shape}")
    if len(x_shape) != dims + 2:
        layout = "(N, C, H, W)" if dims == 2 else "(N, C, L)"
        raise ValueError(f"{name}: expected a {dims + 2}-d input {layout}, got shape {x_shape}")
    if not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{name}: groups must be a positive int, got {groups!r}")
    out_ch, cg = w_shape[:2]
    if out_ch % groups:
        raise ValueError(f"{name}: groups={groups} does not divide out_channels={out_ch} (weight {w_shape})")
    if x_shape[1] % groups:
        raise ValueError(f"{name}: groups={groups} does not divide the input's {x_shape[1]} channels "
                         f"({shown})")
    if x_shape[1] != cg * groups:
        raise ValueError(f"{name}: expected input with {cg * groups} channels (weight {w_shape}, groups={groups}), "
                         f"got {x_shape[1]} channels ({shown})")
    if b_shape is not None and b_shape != (out_ch,):
        raise ValueError(f"{name}: bias must have shape {(out_ch,)}, got {b_shape}")
    for ax in range(dims):
        size = x_shape[2 + ax]
        k = w_shape[2 + ax]
        padded = size + sum(pads[ax])
        if padded < dilation[ax] * (k - 1) + 1:
            raise ValueError(f"{name}: kernel size {tuple(w_shape[2:])} (dilation {dilation}) is larger than the "
                             f"padded input {tuple(x_shape[2 + a] + sum(pads[a]) for a in range(dims))} "
                             f"({shown})")


class Conv(Function):
    """y = W * x + b (cross-correlation): dW = g_rows cols^T, dx = col2im(W^T g_rows), db = sum(g)."""

    name = "conv"
    once_differentiable = True

    @staticmethod
    def forward(ctx, x, weight, bias, stride=(1, 1), pads=((0, 0), (0, 0)), dilation=(1, 1), groups=1):
        # 1-d convolutions are 2-d ones over a height-1 plane
        x4 = x if x.ndim == 4 else x.reshape(x.shape[0], x.shape[1], 1, x.shape[2])
        w4 = weight if weight.ndim == 4 else weight.reshape(weight.shape[0], weight.shape[1], 1, weight.shape[2])
        if weight.dtype != x.dtype:
            w4 = w4.astype(x.dtype)
        n, _, h, w = x4.shape
        out_ch, cg, kh, kw = w4.shape
        (pt, pb), (pl, pr) = pads
        oh = conv_output_size(h + pt + pb, kh, stride[0], 0, dilation[0])
        ow = conv_output_size(w + pl + pr, kw, stride[1], 0, dilation[1])
        k = cg * kh * kw
        ctx.geometry = (x4.shape, x.shape, weight.shape, (kh, kw), stride, (pt, pl), dilation, groups, (oh, ow))
        if groups == 1 and k * n * oh * ow * x4.itemsize > SAVE_COLS_MAX_BYTES:
            # the input is far smaller than its columns (kh * kw times): keep it, make the columns a block of
            # samples at a time here, and again in backward
            x4 = np.ascontiguousarray(x4)
            rows = _rows_by_blocks(w4.reshape(out_ch, k), x4, ctx.geometry)
            ctx.save_for_backward(w4, x4, None)
        else:
            cols = im2col(x4, (kh, kw), stride, (pt, pl), dilation, out_size=(oh, ow))
            if groups == 1:
                rows = matmul(w4.reshape(out_ch, k), cols)
            else:
                rows = blas_matmul(w4.reshape(groups, out_ch // groups, k),
                                   cols.reshape(groups, k, cols.shape[1])).reshape(out_ch, cols.shape[1])
            ctx.save_for_backward(w4, None, cols)
        y = rows_to_nchw(rows, n, bias, plane=oh * ow)
        return y.reshape((n, out_ch, oh, ow) if x.ndim == 4 else (n, out_ch, ow))

    @staticmethod
    def backward(ctx, g):
        w4, x4, cols = ctx.saved_tensors
        x4_shape, x_shape, w_shape, ksize, stride, pad, dilation, groups, out_size = ctx.geometry
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        out_ch = w4.shape[0]
        g_rows, g_bias = nchw_to_rows(g.reshape(g.shape[0], out_ch, out_size[0] * out_size[1]))
        if cols is None:
            gx, gw = _grads_by_blocks(w4, x4, g_rows, ctx.geometry, need_x, need_w)
            return gx, gw, (g_bias if need_b else None)
        k = cols.shape[0] // groups
        gx = gw = None
        if groups == 1:
            if need_w:
                gw = matmul(g_rows, cols.T).reshape(w_shape)
            if need_x:
                return _input_grad_chunked(w4.reshape(out_ch, k).T, g_rows, ctx.geometry), gw, \
                    (g_bias if need_b else None)
        else:
            g3 = g_rows.reshape(groups, out_ch // groups, g_rows.shape[1])
            if need_w:
                gw = blas_matmul(g3, cols.reshape(groups, k, cols.shape[1]).transpose(0, 2, 1)).reshape(w_shape)
            if need_x:
                g_cols = blas_matmul(w4.reshape(groups, out_ch // groups, k).transpose(0, 2, 1), g3)
                g_cols = g_cols.reshape(groups * k, g_rows.shape[1])
        if need_x:
            gx = col2im(g_cols, x4_shape, ksize, stride, pad, dilation, out_size=out_size).reshape(x_shape)
        return gx, gw, (g_bias if need_b else None)


#: elements of the input-gradient columns made at once; bigger products are split by samples so the
#: transient ``W^T @ g`` block stays ~2 MB instead of the whole ``cols`` size (8 MB in LeNet's conv2)
COL_CHUNK = 1 << 19
#: columns up to this size are saved for backward; larger ones are remade there from the saved input
#: (LeNet: conv2's 8 MB and conv1's 3.7 MB columns become 0.7 MB and 0.2 MB of saved input)
SAVE_COLS_MAX_BYTES = 1 << 20


def _block_size(k, plane):
    """Samples per block so that a block's columns hold about :data:`COL_CHUNK` elements."""
    return max(1, COL_CHUNK // max(1, k * plane))


def _rows_by_blocks(w2, x4, geometry):
    """``W2 @ im2col(x)`` computed a block of samples at a time: ``(O, N * oh * ow)``."""
    _, _, _, ksize, stride, pad, dilation, _, out_size = geometry
    batch = x4.shape[0]
    plane = out_size[0] * out_size[1]
    per_block = _block_size(w2.shape[1], plane)
    if per_block >= batch:
        return matmul(w2, im2col(x4, ksize, stride, pad, dilation, out_size=out_size))
    rows = np.empty((w2.shape[0], batch * plane), x4.dtype)
    for n0 in range(0, batch, per_block):
        n1 = min(batch, n0 + per_block)
        cols = im2col(x4[n0:n1], ksize, stride, pad, dilation, out_size=out_size)
        rows[:, n0 * plane:n1 * plane] = matmul(w2, cols)
    return rows


def _grads_by_blocks(w4, x4, g_rows, geometry, need_x, need_w):
    """``dW = sum_blocks g_rows[:, b] @ im2col(x[b])^T`` and ``dx[b] = col2im(W^T @ g_rows[:, b])`` over
    blocks of samples, so no columns matrix larger than :data:`COL_CHUNK` elements ever exists."""
    x4_shape, x_shape, w_shape, ksize, stride, pad, dilation, _, out_size = geometry
    batch = x4_shape[0]
    plane = out_size[0] * out_size[1]
    out_ch = w4.shape[0]
    w2 = w4.reshape(out_ch, -1)
    per_block = _block_size(w2.shape[1], plane)
    gw = np.zeros(w2.shape, g_rows.dtype) if need_w else None
    gx = np.empty(x4_shape, g_rows.dtype) if need_x else None
    for n0 in range(0, batch, per_block):
        n1 = min(batch, n0 + per_block)
        g_block = g_rows[:, n0 * plane:n1 * plane]
        if need_w:
            cols = im2col(x4[n0:n1], ksize, stride, pad, dilation, out_size=out_size)
            gw += matmul(g_block, cols.T)
            del cols
        if need_x:
            g_cols = matmul(w2.T, g_block)
            gx[n0:n1] = col2im(g_cols, (n1 - n0,) + tuple(x4_shape[1:]), ksize, stride, pad, dilation,
                               out_size=out_size)
    return (gx.reshape(x_shape) if need_x else None), (gw.reshape(w_shape) if need_w else None)


def _input_grad_chunked(w_t, g_rows, geometry):
    """dx = col2im(W^T @ g_rows), computed over blocks of samples."""
    x4_shape, x_shape, _, ksize, stride, pad, dilation, _, out_size = geometry
    batch = x4_shape[0]
    plane = out_size[0] * out_size[1]
    per_block = max(1, COL_CHUNK // max(1, w_t.shape[0] * plane))
    if per_block >= batch:
        gx = col2im(matmul(w_t, g_rows), x4_shape, ksize, stride, pad, dilation, out_size=out_size)
        return gx.reshape(x_shape)
    gx = np.empty(x4_shape, dtype=g_rows.dtype)
    for n0 in range(0, batch, per_block):
        n1 = min(batch, n0 + per_block)
        g_cols = matmul(w_t, g_rows[:, n0 * plane:n1 * plane])
        gx[n0:n1] = col2im(g_cols, (n1 - n0,) + tuple(x4_shape[1:]), ksize, stride, pad, dilation, out_size=out_size)
    return gx.reshape(x_shape)


def conv_nd(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *, dims=2, name="conv2d"):
    """Convolution over ``dims`` spatial axes (1 or 2), batched or unbatched: the entry of
    :func:`conv1d`, :func:`conv2d` and the layers, whose ``name`` appears in every error message.

    Shape:
        ``(N, C, *spatial)`` or ``(C, *spatial)`` -> ``(N, O, *out)`` or ``(O, *out)``.
    """
    w_shape = _shape_of(weight)
    if len(w_shape) != dims + 2:
        raise ValueError(f"{name}: weight must be {dims + 2}-d (out_channels, in_channels/groups, "
                         f"{'kh, kw' if dims == 2 else 'k'}), got shape {w_shape}")
    stride, pads, dilation = normalize_conv_args(name, dims, w_shape[2:], stride, padding, dilation)
    x_shape = _shape_of(input)
    unbatched = len(x_shape) == dims + 1
    if unbatched:
        x_shape = (1,) + x_shape
    check_conv_shapes(name, dims, x_shape, w_shape, None if bias is None else _shape_of(bias),
                      stride, pads, dilation, groups, unbatched=unbatched)
    dtype = getattr(input, "dtype", None)
    if dtype is not None and np.dtype(dtype).kind != "f":
        raise DTypeError(f"{name}: expected a floating-point input, got dtype {dtype} "
                        f"(input {_shape_of(input)})")
    if unbatched:
        input = input.reshape((1,) + tuple(input.shape))
    if dims == 1:
        stride, pads, dilation = (1,) + stride, ((0, 0),) + pads, (1,) + dilation
    y = Conv.apply(input, weight, bias, stride=stride, pads=pads, dilation=dilation, groups=int(groups))
    return y.reshape(tuple(y.shape[1:])) if unbatched else y


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-d convolution (cross-correlation) over ``(N, C, H, W)``, as ``torch.nn.functional.conv2d``.

    Args:
        input: ``(N, C, H, W)`` or unbatched ``(C, H, W)`` float Tensor.
        weight: ``(O, C/groups, kh, kw)``.
        bias: ``(O,)`` or None.
        stride, dilation: int or ``(h, w)``.
        padding: int, ``(h, w)``, ``"valid"`` or ``"same"`` (zeros).
        groups: input and output channels split into this many independent blocks.

    Shape:
        ``(N, C, H, W) -> (N, O, oh, ow)``, ``oh = floor((H + 2 ph - dh (kh - 1) - 1) / sh) + 1``.
    """
    return conv_nd(input, weight, bias, stride, padding, dilation, groups, dims=2, name="conv2d")


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-d convolution over ``(N, C, L)``, as ``torch.nn.functional.conv1d``.

    Shape:
        ``(N, C, L) -> (N, O, oL)``, ``oL = floor((L + 2 p - d (k - 1) - 1) / s) + 1``; weight ``(O, C/groups, k)``.
    """
    return conv_nd(input, weight, bias, stride, padding, dilation, groups, dims=1, name="conv1d")
