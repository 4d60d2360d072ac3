"""im2col / col2im for convolution as one GEMM, plus the layout passes around that GEMM.

A convolution ``y = conv(x, w)`` becomes ``w2 @ cols`` where ``cols`` holds every receptive field
of the input as one column ("patches as columns"):

* row ``k = (c * kh + i) * kw + j`` is input channel ``c``, kernel offset ``(i, j)``;
* column ``m = (n * oh + y) * ow + x`` is sample ``n``, output position ``(y, x)``.

Rows of one input channel are contiguous, so a grouped convolution uses row blocks of ``cols``.

Every kernel comes in three layers (stumpy style): a serial ``@njit`` loop over one ``(n, c)`` plane,
a parallel driver with ``prange`` over the ``N * C`` planes (each iteration writes its own block of the
output: no write races), and a plain Python wrapper that validates and allocates.

Shape:
    ``x``: ``(N, C, H, W)``; ``cols``: ``(C * kh * kw, N * oh * ow)``;
    ``oh = (H + 2 ph - dh (kh - 1) - 1) // sh + 1`` and likewise ``ow``.
"""
import numpy as np

from .jit import njit_parallel, njit_serial, prange

__all__ = ["conv_output_size", "im2col", "col2im", "rows_to_nchw", "nchw_to_rows"]


def conv_output_size(size, kernel, stride, padding, dilation):
    """Output length of a convolution/pooling window sweep along one axis (PyTorch's formula, floor)."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


@njit_serial
def _valid_range(out_len, in_len, stride, offset):
    """Output positions ``o`` in ``[lo, hi)`` with ``0 <= o * stride + offset < in_len``."""
    lo = 0
    if offset < 0:
        lo = (-offset + stride - 1) // stride
    hi = 0
    if in_len - offset > 0:
        hi = (in_len - offset + stride - 1) // stride
    if hi > out_len:
        hi = out_len
    if lo > hi:
        lo = hi
    return lo, hi


@njit_serial
def _im2col_plane(x, cols, n, c, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    height = x.shape[2]
    width = x.shape[3]
    col_base = n * oh * ow
    for i in range(kh):
        oy = i * dh - ph
        y_lo, y_hi = _valid_range(oh, height, sh, oy)
        for j in range(kw):
            ox = j * dw - pw
            x_lo, x_hi = _valid_range(ow, width, sw, ox)
            row = (c * kh + i) * kw + j
            for y in range(oh):
                col0 = col_base + y * ow
                if y < y_lo or y >= y_hi:
                    for xo in range(ow):
                        cols[row, col0 + xo] = 0
                    continue
                iy = y * sh + oy
                for xo in range(x_lo):
                    cols[row, col0 + xo] = 0
                for xo in range(x_lo, x_hi):
                    cols[row, col0 + xo] = x[n, c, iy, xo * sw + ox]
                for xo in range(x_hi, ow):
                    cols[row, col0 + xo] = 0


@njit_parallel
def _im2col_driver(x, cols, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    batch = x.shape[0]
    channels = x.shape[1]
    for t in prange(batch * channels):
        _im2col_plane(x, cols, t // channels, t % channels, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)


@njit_serial
def _col2im_plane(cols, dx, n, c, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    height = dx.shape[2]
    width = dx.shape[3]
    col_base = n * oh * ow
    for i in range(kh):
        oy = i * dh - ph
        y_lo, y_hi = _valid_range(oh, height, sh, oy)
        for j in range(kw):
            ox = j * dw - pw
            x_lo, x_hi = _valid_range(ow, width, sw, ox)
            row = (c * kh + i) * kw + j
            for y in range(y_lo, y_hi):
                iy = y * sh + oy
                col0 = col_base + y * ow
                for xo in range(x_lo, x_hi):
                    dx[n, c, iy, xo * sw + ox] += cols[row, col0 + xo]


@njit_parallel
def _col2im_driver(cols, dx, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    batch = dx.shape[0]
    channels = dx.shape[1]
    for t in prange(batch * channels):
        _col2im_plane(cols, dx, t // channels, t % channels, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)


def _check_float(name, arr):
    if arr.dtype not in (np.float32, np.float64):
        raise TypeError(f"{name}: expected a float32 or float64 array, got dtype {arr.dtype}")


def _geometry(name, shape, kernel_size, stride, padding, dilation, out_size=None):
    n, c, h, w = shape
    kh, kw = kernel_size
    sh, sw = stride
    ph, pw = padding
    dh, dw = dilation
    if min(kh, kw, sh, sw, dh, dw) < 1 or min(ph, pw) < 0:
        raise ValueError(f"{name}: kernel_size {kernel_size}, stride {stride} and dilation {dilation} must be "
                         f"positive and padding {padding} non-negative")
    if out_size is None:
        oh = conv_output_size(h, kh, sh, ph, dh)
        ow = conv_output_size(w, kw, sw, pw, dw)
    else:
        oh, ow = out_size
    if oh < 1 or ow < 1:
        raise ValueError(f"{name}: kernel {(kh, kw)} with dilation {dilation} is larger than the padded input "
                         f"{(h + 2 * ph, w + 2 * pw)} (input {tuple(shape)}, padding {padding})")
    return oh, ow


def im2col(x, kernel_size, stride=(1, 1), padding=(0, 0), dilation=(1, 1), out_size=None):
    """Unfold every receptive field of ``x`` into one column of a matrix.

    Args:
        x: ``(N, C, H, W)`` float32/float64 array.
        kernel_size, stride, padding, dilation: ``(h, w)`` pairs of ints.
        out_size: ``(oh, ow)``; by default from symmetric ``padding``. Give it for asymmetric padding:
            ``padding`` is then the padding before each axis, and windows past the end read zeros.

    Returns:
        ``cols`` of ``x``'s dtype. Zero padding appears as zeros in ``cols``.

    Shape:
        ``(N, C, H, W)`` -> ``(C * kh * kw, N * oh * ow)``.
    """
    x = np.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"im2col: expected a 4-d (N, C, H, W) array, got shape {x.shape}")
    _check_float("im2col", x)
    oh, ow = _geometry("im2col", x.shape, kernel_size, stride, padding, dilation, out_size)
    x = np.ascontiguousarray(x)
    n, c = x.shape[:2]
    kh, kw = kernel_size
    cols = np.empty((c * kh * kw, n * oh * ow), dtype=x.dtype)
    _im2col_driver(x, cols, kh, kw, stride[0], stride[1], padding[0], padding[1], dilation[0], dilation[1], oh, ow)
    return cols


def col2im(cols, x_shape, kernel_size, stride=(1, 1), padding=(0, 0), dilation=(1, 1), out_size=None):
    """Adjoint of :func:`im2col`: scatter-add every column back to the input positions it came from.

    Entries that came from zero padding are dropped. Arguments as for :func:`im2col`.

    Shape:
        ``(C * kh * kw, N * oh * ow)`` -> ``x_shape = (N, C, H, W)``.
    """
    cols = np.asarray(cols)
    x_shape = tuple(int(s) for s in x_shape)
    if len(x_shape) != 4:
        raise ValueError(f"col2im: x_shape must be (N, C, H, W), got {x_shape}")
    _check_float("col2im", cols)
    oh, ow = _geometry("col2im", x_shape, kernel_size, stride, padding, dilation, out_size)
    n, c = x_shape[:2]
    kh, kw = kernel_size
    expected = (c * kh * kw, n * oh * ow)
    if cols.shape != expected:
        raise ValueError(f"col2im: cols has shape {cols.shape}, expected {expected} for input {x_shape}")
    cols = np.ascontiguousarray(cols)
    dx = np.zeros(x_shape, dtype=cols.dtype)
    _col2im_driver(cols, dx, kh, kw, stride[0], stride[1], padding[0], padding[1], dilation[0], dilation[1], oh, ow)
    return dx


@njit_parallel
def _rows_to_nchw_driver(rows, bias, out):
    batch, channels, plane = out.shape
    for n in prange(batch):
        for o in range(channels):
            b = bias[o]
            src = n * plane
            for p in range(plane):
                out[n, o, p] = rows[o, src + p] + b


@njit_parallel
def _nchw_to_rows_driver(g, rows, gbias):
    batch, channels, plane = g.shape
    for o in prange(channels):
        acc = 0.0
        for n in range(batch):
            dst = n * plane
            for p in range(plane):
                v = g[n, o, p]
                rows[o, dst + p] = v
                acc += v
        gbias[o] = acc


def rows_to_nchw(rows, batch, bias=None):
    """Reorder a GEMM result ``(O, N * L)`` to ``(N, O, L)``, adding ``bias[o]`` in the same pass.

    Shape:
        ``(O, N * L)``, bias ``(O,)`` -> ``(N, O, L)``.
    """
    channels, total = rows.shape
    if total % batch:
        raise ValueError(f"rows_to_nchw: {total} columns do not split into batch {batch}")
    rows = np.ascontiguousarray(rows)
    out = np.empty((batch, channels, total // batch), dtype=rows.dtype)
    if bias is None:
        b = np.zeros(channels, dtype=rows.dtype)
    else:
        b = np.ascontiguousarray(bias, dtype=rows.dtype)
        if b.shape != (channels,):
            raise ValueError(f"rows_to_nchw: bias has shape {b.shape}, expected {(channels,)}")
    _rows_to_nchw_driver(rows, b, out)
    return out


def nchw_to_rows(g):
    """Reorder ``(N, O, L)`` to ``(O, N * L)`` and also return the sum over ``N`` and ``L`` (the bias gradient).

    The sum is accumulated in float64 and returned in ``g``'s dtype.

    Shape:
        ``(N, O, L)`` -> ``((O, N * L), (O,))``.
    """
    g = np.ascontiguousarray(g)
    if g.ndim != 3:
        raise ValueError(f"nchw_to_rows: expected a 3-d (N, O, L) array, got shape {g.shape}")
    batch, channels, plane = g.shape
    rows = np.empty((channels, batch * plane), dtype=g.dtype)
    gbias = np.empty(channels, dtype=g.dtype)
    _nchw_to_rows_driver(g, rows, gbias)
    return rows, gbias
