"""3-d convolution and 3-d transposed convolution (PyTorch semantics), in numpy, differentiable twice.

The kernels work on any number of spatial axes; ``conv3d`` and ``conv_transpose3d`` use them with three.
A convolution ``y = corr(x, W)`` is bilinear, and its two adjoints are the other two kernels:

* ``corr(x, W)``: the windows of the zero-padded input (``sliding_window_view``) contracted with the
  weight by one ``tensordot`` per group (a GEMM on the copied windows, as im2col);
* ``corr_input_grad(g, W)``: ``W^T g`` per kernel offset, added back into the padded input grid with one
  strided slice per offset (col2im), then cropped: this is also the transposed convolution;
* ``corr_weight_grad(x, g)``: ``g`` contracted with the windows of ``x`` over the batch and output axes.

Each of the three Functions below differentiates into the other two, so ``create_graph=True`` works
(gradients of gradients, e.g. a gradient penalty) without a second definition of any of them.

Shape:
    ``x``: ``(N, C, *S)``; ``W``: ``(O, C / groups, *K)``; ``y``: ``(N, O, *out)`` with
    ``out = floor((S + lo + hi - d (K - 1) - 1) / s) + 1`` for the pads ``(lo, hi)`` of each axis.
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..function import Function
from .array_or_tensor import _is_tensor
from .conv import int_tuple, normalize_conv_args

__all__ = ["ConvNd", "ConvTransposeNd", "ConvNdWeight", "conv3d", "conv_transpose3d", "corr", "corr_input_grad",
           "corr_weight_grad"]


def _windows(xp, ksize, stride, dilation, out_size):
    """The view ``(N, C, *out, *K)`` of the windows of the padded array ``xp``."""
    d = len(ksize)
    extent = tuple(dl * (k - 1) + 1 for k, dl in zip(ksize, dilation))
    view = sliding_window_view(xp, extent, axis=tuple(range(2, 2 + d)))
    index = (slice(None), slice(None)) + tuple(slice(0, (o - 1) * s + 1, s) for o, s in zip(out_size, stride)) \
        + tuple(slice(None, None, dl) for dl in dilation)
    return view[index]


def _pad(x, pads):
    if any(lo or hi for lo, hi in pads):
        return np.pad(x, ((0, 0), (0, 0)) + tuple(pads))
    return x


def corr_output_size(spatial, ksize, stride, pads, dilation):
    """Output sizes of a convolution (PyTorch's floor formula) for the pads ``((lo, hi), ...)``."""
    return tuple((s + lo + hi - dl * (k - 1) - 1) // st + 1
                 for s, k, st, (lo, hi), dl in zip(spatial, ksize, stride, pads, dilation))


def corr(x, w, stride, pads, dilation, groups, out_size=None):
    """Cross-correlation ``(N, C, *S) x (O, C/groups, *K) -> (N, O, *out)``; ``out_size`` may crop it."""
    d = x.ndim - 2
    ksize = w.shape[2:]
    if out_size is None:
        out_size = corr_output_size(x.shape[2:], ksize, stride, pads, dilation)
    win = _windows(_pad(x, pads), ksize, stride, dilation, out_size)
    k_axes = [1] + list(range(2 + d, 2 + 2 * d))
    w_axes = [1] + list(range(2, 2 + d))
    cg, og = w.shape[1], w.shape[0] // groups
    parts = [np.tensordot(w[g * og:(g + 1) * og], win[:, g * cg:(g + 1) * cg], axes=(w_axes, k_axes))
             for g in range(groups)]  # each (og, N, *out)
    y = parts[0] if groups == 1 else np.concatenate(parts, axis=0)
    return np.ascontiguousarray(np.moveaxis(y, 0, 1))


def corr_input_grad(g, w, spatial, stride, pads, dilation, groups):
    """The adjoint of :func:`corr` in ``x``: ``(N, O, *out) -> (N, C, *spatial)`` (col2im by offsets)."""
    ksize, out_size = w.shape[2:], g.shape[2:]
    cg, og = w.shape[1], w.shape[0] // groups
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(spatial, pads))
    gxp = np.zeros((g.shape[0], cg * groups) + padded, np.result_type(g, w))
    for grp in range(groups):
        # (cg, *K, N, *out): every kernel offset's share of the padded input grid
        cols = np.tensordot(w[grp * og:(grp + 1) * og], g[:, grp * og:(grp + 1) * og], axes=([0], [1]))
        target = gxp[:, grp * cg:(grp + 1) * cg]
        for offset in np.ndindex(*ksize):
            where = (slice(None), slice(None)) + tuple(
                slice(k * dl, k * dl + (o - 1) * s + 1, s) for k, dl, o, s in zip(offset, dilation, out_size, stride))
            target[where] += np.swapaxes(cols[(slice(None),) + offset], 0, 1)
    crop = (slice(None), slice(None)) + tuple(slice(lo, lo + s) for s, (lo, _) in zip(spatial, pads))
    return np.ascontiguousarray(gxp[crop])


def corr_weight_grad(x, g, ksize, stride, pads, dilation, groups):
    """The adjoint of :func:`corr` in ``W``: ``(N, C, *S), (N, O, *out) -> (O, C/groups, *K)``."""
    d = x.ndim - 2
    win = _windows(_pad(x, pads), ksize, stride, dilation, g.shape[2:])
    cg, og = x.shape[1] // groups, g.shape[1] // groups
    # the windows as columns (C K, N out) and g as rows (O, N out): one GEMM per group
    cols_order = (1,) + tuple(range(2 + d, 2 + 2 * d)) + (0,) + tuple(range(2, 2 + d))
    rows = np.moveaxis(g, 1, 0).reshape(g.shape[1], -1)
    parts = []
    for grp in range(groups):
        cols = np.ascontiguousarray(win[:, grp * cg:(grp + 1) * cg].transpose(cols_order)).reshape(
            cg * int(np.prod(ksize)), -1)
        # (cols @ rows^T)^T: this order lets BLAS run the long inner axis fast (the other one is ~30x slower)
        parts.append((cols @ rows[grp * og:(grp + 1) * og].T).T.reshape((og, cg) + tuple(ksize)))
    return parts[0] if groups == 1 else np.concatenate(parts, axis=0)


def _bias_grad(g):
    return g.sum(axis=(0,) + tuple(range(2, g.ndim)))


def _add_bias(y, bias):
    if bias is not None:
        y += bias.astype(y.dtype, copy=False).reshape((1, -1) + (1,) * (y.ndim - 2))
    return y


def _conv(x, w, geometry, out_size):
    """Forward convolution on arrays or (under create_graph) on Tensors, through the one op."""
    if _is_tensor(x) or _is_tensor(w):
        return ConvNd.apply(x, w, None, geometry, out_size)
    return corr(x, w, *geometry, out_size=out_size)


def _conv_t(g, w, geometry, spatial):
    if _is_tensor(g) or _is_tensor(w):
        return ConvTransposeNd.apply(g, w, None, geometry, spatial)
    return corr_input_grad(g, w, spatial, *geometry)


def _conv_w(x, g, geometry, ksize):
    if _is_tensor(x) or _is_tensor(g):
        return ConvNdWeight.apply(x, g, geometry, ksize)
    return corr_weight_grad(x, g, ksize, *geometry)


class ConvNd(Function):
    """y = corr(x, W) + b: dx = corr_input_grad(g, W), dW = corr_weight_grad(x, g), db = sum(g)."""

    name = "conv3d"

    @staticmethod
    def forward(ctx, x, weight, bias, geometry, out_size=None):
        w = weight.astype(x.dtype, copy=False)
        y = _add_bias(corr(x, w, *geometry, out_size=out_size), bias)
        ctx.save_for_backward(x, weight)
        ctx.geometry = geometry
        return y

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        gx = _conv_t(g, w, ctx.geometry, tuple(x.shape[2:])) if need_x else None
        gw = _conv_w(x, g, ctx.geometry, tuple(w.shape[2:])) if need_w else None
        return gx, gw, (_bias_grad(g) if need_b else None), None, None


class ConvTransposeNd(Function):
    """y = corr_input_grad(x, W) + b (``spatial`` is y's size): dx = corr(g, W), dW = corr_weight_grad(g, x)."""

    name = "conv_transpose3d"

    @staticmethod
    def forward(ctx, x, weight, bias, geometry, spatial):
        w = weight.astype(x.dtype, copy=False)
        y = _add_bias(corr_input_grad(x, w, spatial, *geometry), bias)
        ctx.save_for_backward(x, weight)
        ctx.geometry = geometry
        return y

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        gx = _conv(g, w, ctx.geometry, tuple(x.shape[2:])) if need_x else None
        gw = _conv_w(g, x, ctx.geometry, tuple(w.shape[2:])) if need_w else None
        return gx, gw, (_bias_grad(g) if need_b else None), None, None


class ConvNdWeight(Function):
    """dW = corr_weight_grad(x, g): its adjoints are corr_input_grad(g, .) in x and corr(x, .) in g."""

    name = "conv3d_weight"

    @staticmethod
    def forward(ctx, x, g, geometry, ksize):
        ctx.save_for_backward(x, g)
        ctx.geometry = geometry
        return corr_weight_grad(x, g, ksize, *geometry)

    @staticmethod
    def backward(ctx, gw):
        x, g = ctx.saved_tensors
        need_x, need_g = ctx.needs_input_grad[:2]
        gx = _conv_t(g, gw, ctx.geometry, tuple(x.shape[2:])) if need_x else None
        gg = _conv(x, gw, ctx.geometry, tuple(g.shape[2:])) if need_g else None
        return gx, gg, None, None


def _shape_of(t):
    return tuple(np.shape(getattr(t, "data", t)))


def _check_float(name, input):
    dtype = getattr(input, "dtype", None)
    if dtype is not None and np.dtype(dtype) not in (np.float32, np.float64):
        raise TypeError(f"{name}: expected a float32 or float64 input, got dtype {dtype} "
                        f"(input {_shape_of(input)})")


def _check_common(name, x_shape, w_shape, layout_w, groups):
    """Dimensions and groups; returns whether the input is unbatched."""
    if len(w_shape) != 5:
        raise ValueError(f"{name}: weight must be 5-d {layout_w}, got shape {w_shape}")
    if len(x_shape) not in (4, 5):
        raise ValueError(f"{name}: expected a 5-d input (N, C, D, H, W) or an unbatched 4-d one (C, D, H, W), "
                         f"got shape {x_shape}")
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{name}: groups must be a positive int, got {groups!r}")
    return len(x_shape) == 4


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *, name="conv3d"):
    """3-d convolution (cross-correlation), as ``torch.nn.functional.conv3d``.

    Args:
        input: ``(N, C, D, H, W)`` or unbatched ``(C, D, H, W)`` float Tensor.
        weight: ``(O, C/groups, kd, kh, kw)``.
        bias: ``(O,)`` or None.
        stride, dilation: int or ``(d, h, w)``.
        padding: int, ``(d, h, w)``, ``"valid"`` or ``"same"`` (zeros; "same" pads the extra one after).
        groups: input and output channels split into this many independent blocks.
        name: op or layer named in error messages.

    Returns:
        The ``(N, O, od, oh, ow)`` Tensor (unbatched in, unbatched out); differentiable twice.

    Shape:
        ``od = floor((D + 2 pd - dd (kd - 1) - 1) / sd) + 1``, likewise ``oh`` and ``ow``.
    """
    w_shape, x_shape = _shape_of(weight), _shape_of(input)
    unbatched = _check_common(name, x_shape, w_shape, "(out_channels, in_channels/groups, kd, kh, kw)", groups)
    _check_float(name, input)
    stride, pads, dilation = normalize_conv_args(name, 3, w_shape[2:], stride, padding, dilation)
    shown = f"input {x_shape}" + (" read as unbatched (C, D, H, W)" if unbatched else "")
    if unbatched:
        x_shape = (1,) + x_shape
    out_ch, cg = w_shape[:2]
    if out_ch % groups:
        raise ValueError(f"{name}: groups={groups} does not divide out_channels={out_ch} (weight {w_shape})")
    if x_shape[1] != cg * groups:
        raise ValueError(f"{name}: expected input with {cg * groups} channels (weight {w_shape}, groups={groups}), "
                         f"got {x_shape[1]} channels ({shown})")
    if bias is not None and _shape_of(bias) != (out_ch,):
        raise ValueError(f"{name}: bias must have shape {(out_ch,)}, got {_shape_of(bias)}")
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(x_shape[2:], pads))
    if any(p < dl * (k - 1) + 1 for p, k, dl in zip(padded, w_shape[2:], dilation)):
        raise ValueError(f"{name}: kernel size {tuple(w_shape[2:])} (dilation {dilation}) is larger than the "
                         f"padded input {padded} ({shown})")
    if unbatched:
        input = input.reshape(x_shape)
    y = ConvNd.apply(input, weight, bias, (stride, pads, dilation, int(groups)), None)
    return y.reshape(tuple(y.shape[1:])) if unbatched else y


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1, *,
                     name="conv_transpose3d"):
    """3-d transposed convolution, as ``torch.nn.functional.conv_transpose3d`` (the adjoint of conv3d).

    Args:
        input: ``(N, C_in, D, H, W)`` or unbatched ``(C_in, D, H, W)`` float Tensor.
        weight: ``(C_in, C_out/groups, kd, kh, kw)``.
        bias: ``(C_out,)`` or None.
        stride, padding, dilation: int or ``(d, h, w)``.
        output_padding: extra size added after the last output element on each axis (smaller than the
            stride or the dilation of that axis).
        groups: blocks of channels convolved independently.
        name: op or layer named in error messages.

    Returns:
        The ``(N, C_out, od, oh, ow)`` Tensor; differentiable twice.

    Shape:
        ``od = (D - 1) sd - 2 pd + dd (kd - 1) + opd + 1``, likewise ``oh`` and ``ow``.
    """
    w_shape, x_shape = _shape_of(weight), _shape_of(input)
    unbatched = _check_common(name, x_shape, w_shape, "(in_channels, out_channels/groups, kd, kh, kw)", groups)
    _check_float(name, input)
    if isinstance(padding, str):
        raise ValueError(f"{name}: padding must be an int or a tuple of 3 ints (no 'same' or 'valid' for a "
                         f"transposed convolution, as PyTorch), got {padding!r}")
    stride = int_tuple(stride, 3, "stride", name)
    padding = int_tuple(padding, 3, "padding", name)
    dilation = int_tuple(dilation, 3, "dilation", name)
    output_padding = int_tuple(output_padding, 3, "output_padding", name)
    if min(stride + dilation) < 1 or min(padding + output_padding) < 0:
        raise ValueError(f"{name}: stride {stride} and dilation {dilation} must be positive, padding {padding} and "
                         f"output_padding {output_padding} non-negative")
    if any(op >= max(s, dl) for op, s, dl in zip(output_padding, stride, dilation)):
        raise ValueError(f"{name}: output_padding {output_padding} must be smaller than either stride {stride} "
                         f"or dilation {dilation}")
    if unbatched:
        x_shape = (1,) + x_shape
    c_in = w_shape[0]
    if c_in % groups:
        raise ValueError(f"{name}: groups={groups} does not divide the weight's {c_in} input channels "
                         f"(weight {w_shape})")
    if x_shape[1] != c_in:
        raise ValueError(f"{name}: expected input with {c_in} channels (weight {w_shape}), got {x_shape[1]} "
                         f"channels (input {_shape_of(input)})")
    c_out = w_shape[1] * groups
    if bias is not None and _shape_of(bias) != (c_out,):
        raise ValueError(f"{name}: bias must have shape {(c_out,)}, got {_shape_of(bias)}")
    out = tuple((s - 1) * st - 2 * p + dl * (k - 1) + op + 1
                for s, st, p, dl, k, op in zip(x_shape[2:], stride, padding, dilation, w_shape[2:], output_padding))
    if min(out) < 1:
        raise ValueError(f"{name}: output size {out} is not positive (input {_shape_of(input)}, weight {w_shape}, "
                         f"stride {stride}, padding {padding}, dilation {dilation})")
    if unbatched:
        input = input.reshape(x_shape)
    geometry = (stride, tuple((p, p) for p in padding), dilation, int(groups))
    y = ConvTransposeNd.apply(input, weight, bias, geometry, out)
    return y.reshape(tuple(y.shape[1:])) if unbatched else y
