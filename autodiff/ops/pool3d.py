"""3-d max/average pooling, adaptive pooling (3-d average; 1/2/3-d max) and power-average pooling.

Everything here is a composition of existing ops, so all of it is differentiable twice:

* max pooling (plain and adaptive) finds each window's winner with numpy (the first maximum in
  row-major order and the last NaN, as PyTorch; a window that holds only ``-inf`` keeps its first input
  place) and takes the values through ``TakeAlongAxis`` on the flattened planes: the gradient goes to
  the winner only;
* 3-d average pooling is a depthwise convolution with a constant all-ones kernel (``conv3d.ConvNd``),
  divided by each window's divisor (PyTorch's rules for ``count_include_pad``, ``ceil_mode`` and
  ``divisor_override``);
* adaptive average pooling is separable: one constant averaging matrix per axis, applied by ``@``;
* ``lp_pool`` is PyTorch's formula ``(avg_pool(x ** p) * prod(kernel)) ** (1 / p)``.

The returned indices are int64 Tensors holding each winner's flat index into its ``(D, H, W)`` (or
``(H, W)``, ``(L,)``) input plane, which is what ``max_unpool`` reads.
"""
import numpy as np

from ..kernels.pool import pool_output_size
from .conv import int_tuple
from .conv3d import ConvNd
from .pool import avg_pool_nd, max_pool_nd, normalize_pool_args
from .select import TakeAlongAxis

__all__ = ["max_pool3d", "avg_pool3d", "adaptive_avg_pool3d", "adaptive_max_pool1d", "adaptive_max_pool2d",
           "adaptive_max_pool3d", "lp_pool1d", "lp_pool2d", "lp_pool3d"]

_LAYOUTS = {1: "(N, C, L) or (C, L)", 2: "(N, C, H, W) or (C, H, W)", 3: "(N, C, D, H, W) or (C, D, H, W)"}


def _tensor(x):
    from ..tensor import Tensor
    return x if isinstance(x, Tensor) else Tensor(np.asarray(x))


def _check_input(name, dims, x):
    """The input's shape, after checking its rank and dtype."""
    shape = tuple(x.shape)
    if len(shape) not in (dims + 1, dims + 2):
        raise ValueError(f"{name}: expected a {_LAYOUTS[dims]} input, got shape {shape}")
    if np.dtype(x.dtype) not in (np.float32, np.float64):
        raise TypeError(f"{name}: expected a float32 or float64 input, got dtype {x.dtype} (input {shape})")
    return shape


def _take_planes(x, idx, out_spatial):
    """``x`` ``(*lead, *S)`` at the flat plane indices ``idx`` ``(M, prod(out))``: ``(*lead, *out)``."""
    dims = len(out_spatial)
    lead = tuple(x.shape[:-dims])
    rows = int(np.prod(lead, dtype=np.int64))
    plane = int(np.prod(x.shape[-dims:], dtype=np.int64))
    values = TakeAlongAxis.apply(x.reshape((rows, plane)), idx.reshape(rows, int(np.prod(out_spatial))), 1)
    return values.reshape(lead + tuple(out_spatial))


def _pool_geometry(name, dims, x, kernel_size, stride, padding, dilation, ceil_mode):
    shape = _check_input(name, dims, x)
    kernel_size, stride, padding, dilation = normalize_pool_args(name, dims, kernel_size, stride, padding, dilation)
    spatial = shape[-dims:]
    out = tuple(pool_output_size(spatial[a], kernel_size[a], stride[a], padding[a], dilation[a], bool(ceil_mode))
                for a in range(dims))
    if min(out) < 1:
        raise ValueError(f"{name}: kernel_size {kernel_size} (dilation {dilation}) is larger than the padded "
                         f"input {tuple(s + 2 * p for s, p in zip(spatial, padding))} (input {shape})")
    # right padding that fits the last window (ceil_mode lets it hang over the padded input)
    pads = tuple((p, max(p, (o - 1) * s + dl * (k - 1) + 1 - n - p))
                 for n, k, s, p, dl, o in zip(spatial, kernel_size, stride, padding, dilation, out))
    return shape, kernel_size, stride, padding, dilation, out, pads


def max_pool_indices(a, kernel_size, stride, padding, dilation, out, pads):
    """Flat plane index of every window's winner of the array ``a`` ``(M, *S)``: ``(M, *out)`` int64.

    PyTorch's scan, vectorised over the windows: kernel offsets in row-major order, a value replaces the
    best so far when it is greater or NaN (so the first maximum wins, and the last NaN); the index starts
    at the window's first input place, which a window of ``-inf`` only keeps.
    """
    dims = len(kernel_size)
    spatial = a.shape[1:]
    padded = np.pad(a, ((0, 0),) + pads, constant_values=-np.inf)
    starts, firsts = [], []
    for ax in range(dims):
        view = [1] * (1 + dims)
        view[1 + ax] = -1
        start = (np.arange(out[ax]) * stride[ax] - padding[ax]).reshape(view)
        starts.append(start)
        # the first input place of the window (a start in the padding steps in by whole dilations)
        firsts.append(start + -(-np.maximum(-start, 0) // dilation[ax]) * dilation[ax])

    def flat_index(coords):
        flat = np.zeros((1,) * (1 + dims), np.int64)
        for ax in range(dims):
            flat = flat * spatial[ax] + coords[ax]
        return flat

    best = np.full((a.shape[0],) + tuple(out), -np.inf, a.dtype)
    idx = np.broadcast_to(flat_index(firsts), best.shape).copy()
    for offset in np.ndindex(*kernel_size):
        where = (slice(None),) + tuple(slice(k * dl, k * dl + (o - 1) * s + 1, s)
                                       for k, dl, o, s in zip(offset, dilation, out, stride))
        values = padded[where]
        take = (values > best) | np.isnan(values)
        np.copyto(best, values, where=take)
        np.copyto(idx, flat_index([st + k * dl for st, k, dl in zip(starts, offset, dilation)]), where=take)
    return idx


def _max_pool(name, dims, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    from ..tensor import Tensor
    x = _tensor(input)
    shape, kernel_size, stride, padding, dilation, out, pads = _pool_geometry(
        name, dims, x, kernel_size, stride, padding, dilation, ceil_mode)
    lead = shape[:-dims]
    rows = int(np.prod(lead, dtype=np.int64))
    idx = max_pool_indices(x.data.reshape((rows,) + shape[-dims:]), kernel_size, stride, padding, dilation, out, pads)
    y = _take_planes(x, idx, out)
    return (y, Tensor(idx.reshape(lead + out))) if return_indices else y


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False, *,
               name="max_pool3d"):
    """3-d max pooling, as ``torch.nn.functional.max_pool3d`` (padding acts as ``-inf``).

    Args:
        input: ``(N, C, D, H, W)`` or unbatched ``(C, D, H, W)`` float Tensor.
        kernel_size: int or ``(kd, kh, kw)``; stride: default ``kernel_size``.
        padding: at most half the kernel on each axis; dilation: spacing inside a window.
        ceil_mode: round the output size up; the last window must start inside the input or the left
            padding.
        return_indices: also return the int64 flat index of each winner in its ``(D, H, W)`` plane.
        name: op or layer named in error messages.

    Returns:
        The pooled Tensor, or ``(pooled, indices)``.

    Shape:
        ``(N, C, D, H, W) -> (N, C, od, oh, ow)``, ``od = floor((D + 2p - d(k-1) - 1)/s) + 1`` (ceil with
        ``ceil_mode``).
    """
    return _max_pool(name, 3, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def _window_counts(n, k, s, p, out, count_include_pad):
    """Per output position along one axis, the divisor PyTorch uses for average pooling."""
    start = np.arange(out) * s - p
    end = np.minimum(start + k, n + p)
    if count_include_pad:
        return end - start
    return np.minimum(end, n) - np.maximum(start, 0)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None, *, name="avg_pool3d"):
    """3-d average pooling, as ``torch.nn.functional.avg_pool3d``.

    Args:
        input: ``(N, C, D, H, W)`` or unbatched ``(C, D, H, W)`` float Tensor.
        kernel_size: int or ``(kd, kh, kw)``; stride: default ``kernel_size``; padding: zeros, at most half
            the kernel.
        ceil_mode: round the output size up (windows hanging over the padded input count only the part
            inside it).
        count_include_pad: divide by the window size including zero padding (default) or only by the
            number of input elements in the window.
        divisor_override: divide every window sum by this instead.
        name: op or layer named in error messages.

    Returns:
        The pooled Tensor (a depthwise all-ones convolution, divided; differentiable twice).

    Shape:
        ``(N, C, D, H, W) -> (N, C, od, oh, ow)``, ``od = floor((D + 2p - k)/s) + 1``.
    """
    from ..tensor import Tensor
    x = _tensor(input)
    shape, kernel_size, stride, padding, dilation, out, pads = _pool_geometry(
        name, 3, x, kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None and (isinstance(divisor_override, bool) or int(divisor_override) < 1):
        raise ValueError(f"{name}: divisor_override must be a positive int, got {divisor_override!r}")
    spatial = shape[-3:]
    ones = np.ones((1, 1) + kernel_size, x.dtype)
    rows = int(np.prod(shape[:-3], dtype=np.int64))
    sums = ConvNd.apply(x.reshape((rows, 1) + spatial), ones, None, (stride, pads, dilation, 1), out)
    if divisor_override is not None:
        divisor = np.full(out, float(divisor_override))
    else:
        counts = [_window_counts(n, k, s, p, o, count_include_pad)
                  for n, k, s, p, o in zip(spatial, kernel_size, stride, padding, out)]
        divisor = counts[0][:, None, None] * counts[1][None, :, None] * counts[2][None, None, :]
    y = sums * Tensor((1.0 / divisor).astype(x.dtype))
    return y.reshape(shape[:-3] + out)


def _adaptive_sizes(name, dims, shape, output_size):
    if output_size is None or isinstance(output_size, (int, np.integer)):
        output_size = (output_size,) * dims
    output_size = tuple(output_size)
    if len(output_size) != dims:
        raise ValueError(f"{name}: output_size must be an int or a tuple of {dims}, got {output_size!r}")
    spatial = shape[-dims:]
    out = tuple(int(s) if o is None else int(o) for o, s in zip(output_size, spatial))
    if min(out) < 1 or min(spatial) < 1:
        raise ValueError(f"{name}: output_size {out} must be positive and the input {shape} non-empty")
    return out


def _cells(n, out):
    """Adaptive cells along one axis: ``[floor(i n / out), ceil((i + 1) n / out))`` for each ``i``."""
    return [((i * n) // out, -(-((i + 1) * n) // out)) for i in range(out)]


def adaptive_avg_pool3d(input, output_size, *, name="adaptive_avg_pool3d"):
    """Average pooling onto a fixed ``output_size`` grid, as ``torch.nn.functional.adaptive_avg_pool3d``.

    Args:
        input: ``(N, C, D, H, W)`` or unbatched ``(C, D, H, W)`` float Tensor.
        output_size: int or ``(od, oh, ow)``; None keeps that input size.
        name: op or layer named in error messages.

    Returns:
        The pooled Tensor: the mean of each cell, one averaging matrix per axis (differentiable twice).

    Shape:
        ``(N, C, D, H, W) -> (N, C, *output_size)``.
    """
    from ..tensor import Tensor
    x = _tensor(input)
    shape = _check_input(name, 3, x)
    out = _adaptive_sizes(name, 3, shape, output_size)
    lead, (d, h, w) = shape[:-3], shape[-3:]
    mats = []
    for n, o in zip((d, h, w), out):
        m = np.zeros((o, n), x.dtype)
        for i, (lo, hi) in enumerate(_cells(n, o)):
            m[i, lo:hi] = 1.0 / (hi - lo)
        mats.append(Tensor(m))
    y = mats[1] @ (x @ mats[2].T)  # (*lead, d, oh, ow)
    return (mats[0] @ y.reshape(lead + (d, out[1] * out[2]))).reshape(lead + out)


def _first_max_or_last_nan(seg, axis):
    """Along ``axis``: the index of the last NaN if there is one, else of the first maximum (PyTorch's
    scan: a value wins when it is greater or NaN)."""
    best = seg.argmax(axis=axis)
    nan = np.isnan(seg)
    if nan.any():
        last_nan = seg.shape[axis] - 1 - np.flip(nan, axis).argmax(axis=axis)
        best = np.where(nan.any(axis=axis), last_nan, best)
    return best


def adaptive_max_indices(a, out):
    """Flat plane index of each adaptive cell's first maximum of ``a`` ``(M, *S)``: ``(M, *out)`` int64.

    Max over a box is separable: axes are reduced last to first, each cell keeping its first maximum (or
    its last NaN) and carrying the coordinates of the axes already reduced, so the winner is the box's
    first maximum (or last NaN) in row-major order, as PyTorch's.
    """
    dims = len(out)
    spatial = a.shape[1:]
    values = a
    coords = [None] * dims
    for ax in reversed(range(dims)):
        axis = 1 + ax
        pieces, picked = [], [[] for _ in range(dims)]
        for lo, hi in _cells(spatial[ax], out[ax]):
            cut = (slice(None),) * axis + (slice(lo, hi),)
            seg = values[cut]
            best = np.expand_dims(_first_max_or_last_nan(seg, axis), axis)
            pieces.append(np.take_along_axis(seg, best, axis))
            picked[ax].append(best + lo)
            for b in range(ax + 1, dims):
                picked[b].append(np.take_along_axis(coords[b][cut], best, axis))
        values = np.concatenate(pieces, axis)
        for b in range(ax, dims):
            coords[b] = np.concatenate(picked[b], axis)
    flat = np.zeros(coords[0].shape, np.int64)
    for ax in range(dims):
        flat = flat * spatial[ax] + coords[ax]
    return flat


def _adaptive_max(name, dims, input, output_size, return_indices):
    from ..tensor import Tensor
    x = _tensor(input)
    shape = _check_input(name, dims, x)
    out = _adaptive_sizes(name, dims, shape, output_size)
    idx = adaptive_max_indices(x.data.reshape((int(np.prod(shape[:-dims], dtype=np.int64)),) + shape[-dims:]), out)
    y = _take_planes(x, idx, out)
    return (y, Tensor(idx.reshape(shape[:-dims] + out))) if return_indices else y


def adaptive_max_pool3d(input, output_size, return_indices=False, *, name="adaptive_max_pool3d"):
    """Max pooling onto a fixed grid, as ``torch.nn.functional.adaptive_max_pool3d``.

    Args:
        input: ``(N, C, D, H, W)`` or unbatched ``(C, D, H, W)`` float Tensor.
        output_size: int or ``(od, oh, ow)``; None keeps that input size.
        return_indices: also return the int64 flat index of each winner in its ``(D, H, W)`` plane.
        name: op or layer named in error messages.

    Returns:
        The pooled Tensor, or ``(pooled, indices)``.

    Shape:
        ``(N, C, D, H, W) -> (N, C, *output_size)``; cell ``i`` spans ``[floor(i D/od), ceil((i+1) D/od))``.
    """
    return _adaptive_max(name, 3, input, output_size, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False, *, name="adaptive_max_pool2d"):
    """2-d adaptive max pooling, as ``torch.nn.functional.adaptive_max_pool2d`` (arguments as
    :func:`adaptive_max_pool3d`).

    Shape:
        ``(N, C, H, W) -> (N, C, *output_size)``.
    """
    return _adaptive_max(name, 2, input, output_size, return_indices)


def adaptive_max_pool1d(input, output_size, return_indices=False, *, name="adaptive_max_pool1d"):
    """1-d adaptive max pooling, as ``torch.nn.functional.adaptive_max_pool1d``.

    Shape:
        ``(N, C, L) -> (N, C, output_size)``.
    """
    return _adaptive_max(name, 1, input, output_size, return_indices)


def _lp_pool(name, dims, input, norm_type, kernel_size, stride, ceil_mode):
    x = _tensor(input)
    kernel = int_tuple(kernel_size, dims, "kernel_size", name)
    if dims == 3:
        def max_pool(a):
            return max_pool3d(a, kernel_size, stride, 0, 1, ceil_mode, name=name)

        def avg_pool(a):
            return avg_pool3d(a, kernel_size, stride, 0, ceil_mode, name=name)
    else:
        def max_pool(a):
            return max_pool_nd(a, kernel_size, stride, 0, 1, ceil_mode, dims=dims, name=name)

        def avg_pool(a):
            return avg_pool_nd(a, kernel_size, stride, 0, ceil_mode, dims=dims, name=name)
    p = float(norm_type)
    if p == np.inf:
        return max_pool(x.abs())
    if p == -np.inf:
        return -max_pool(-x.abs())
    if p == 0:
        raise ValueError(f"{name}: norm_type must be non-zero, got {norm_type!r}")
    out = avg_pool(x ** norm_type)
    return (out.sign() * out.abs().relu() * float(np.prod(kernel))) ** (1.0 / p)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False, *, name="lp_pool3d"):
    """3-d power-average pooling, as ``torch.nn.functional.lp_pool3d``: ``(sum over window x^p)^(1/p)``.

    Args:
        input: ``(N, C, D, H, W)`` or unbatched float Tensor.
        norm_type: ``p`` (``inf`` is max pooling of ``|x|``).
        kernel_size: int or ``(kd, kh, kw)``; stride: default ``kernel_size``; ceil_mode as avg_pool3d.
        name: op or layer named in error messages.

    Returns:
        ``(avg_pool3d(x ** p) * kd kh kw) ** (1 / p)``, PyTorch's formula (no padding).

    Shape:
        ``(N, C, D, H, W) -> (N, C, od, oh, ow)``, ``od = floor((D - k)/s) + 1``.
    """
    return _lp_pool(name, 3, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False, *, name="lp_pool2d"):
    """2-d power-average pooling, as ``torch.nn.functional.lp_pool2d`` (arguments as :func:`lp_pool3d`).

    Shape:
        ``(N, C, H, W) -> (N, C, oh, ow)``.
    """
    return _lp_pool(name, 2, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False, *, name="lp_pool1d"):
    """1-d power-average pooling, as ``torch.nn.functional.lp_pool1d``.

    Shape:
        ``(N, C, L) -> (N, C, oL)``.
    """
    return _lp_pool(name, 1, input, norm_type, kernel_size, stride, ceil_mode)
