"""im2col / col2im for convolution as one GEMM, plus the layout passes around that GEMM.

A convolution ``y = conv(x, w)`` becomes ``w2 @ cols`` where ``cols`` holds every receptive field
of the input as one column ("patches as columns"):

* row ``k = (c * kh + i) * kw + j`` is input channel ``c``, kernel offset ``(i, j)``;
* column ``m = (n * oh + y) * ow + x`` is sample ``n``, output position ``(y, x)``.

Rows of one input channel are contiguous, so a grouped convolution uses row blocks of ``cols``.

Every kernel comes in three layers (stumpy style): a serial ``@njit`` loop over one block (one input
channel, a range of samples), a parallel driver with ``prange`` over the blocks (each iteration writes
only its own rows of ``cols`` / its own ``dx[n0:n1, c]``: no write races), and a plain Python wrapper
that validates and allocates. Loops run along the rows of ``cols`` so it is written (or read) front to
back: rows are ``N oh ow`` long, often a power of two, and hopping between rows thrashes the cache.

Shape:
    ``x``: ``(N, C, H, W)``; ``cols``: ``(C * kh * kw, N * oh * ow)``;
    ``oh = (H + 2 ph - dh (kh - 1) - 1) // sh + 1`` and likewise ``ow``.
"""
import numpy as np

from .jit import njit_parallel, njit_serial, prange, run_kernel

__all__ = ["conv_output_size", "im2col", "col2im", "rows_to_nchw", "nchw_to_rows"]


def conv_output_size(size, kernel, stride, padding, dilation):
    """Output length of a convolution/pooling window sweep along one axis (PyTorch's formula, floor)."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


@njit_serial(inline="always")
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


@njit_serial(inline="always")
def _im2col_block(x, cols, c, n0, n1, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    """Rows of channel ``c`` for samples ``n0..n1``; each row segment is written front to back.

    Inner-loop indices are written as ``max(start, 0) + t`` so the compiler can see they are never
    negative, drop Numba's negative-index wraparound and vectorise the unit-stride copy.
    """
    height = x.shape[2]
    width = x.shape[3]
    plane = oh * ow
    for i in range(kh):
        oy = i * dh - ph
        y_lo, y_hi = _valid_range(oh, height, sh, oy)
        for j in range(kw):
            ox = j * dw - pw
            x_lo, x_hi = _valid_range(ow, width, sw, ox)
            count = x_hi - x_lo
            dst_row = cols[(c * kh + i) * kw + j]
            for n in range(n0, n1):
                col0 = n * plane
                for y in range(oh):
                    if y < y_lo or y >= y_hi:
                        for xo in range(ow):
                            dst_row[col0 + xo] = 0
                    else:
                        src_row = x[n, c, y * sh + oy]
                        for xo in range(x_lo):
                            dst_row[col0 + xo] = 0
                        dst = max(col0 + x_lo, 0)
                        src = max(x_lo * sw + ox, 0)
                        if sw == 1:
                            for t in range(count):
                                dst_row[dst + t] = src_row[src + t]
                        else:
                            for t in range(count):
                                dst_row[dst + t] = src_row[src + t * sw]
                        for xo in range(x_hi, ow):
                            dst_row[col0 + xo] = 0
                    col0 += ow


@njit_serial(inline="always")
def _im2col_block_unit(x, cols, c, n0, n1, kh, kw, ph, pw, oh, ow):
    # stride 1, dilation 1 (the common case) as literals: the compiler specialises the loops (~2x faster)
    _im2col_block(x, cols, c, n0, n1, kh, kw, 1, 1, ph, pw, 1, 1, oh, ow)


@njit_serial(inline="always")
def _im2col_block_valid(x, cols, c, n0, n1, kh, kw, oh, ow):
    """Stride 1, dilation 1, every window inside the input: plain row-segment copies, no bounds or zeros
    (2-2.5x faster than the general loop on LeNet's layers)."""
    plane = oh * ow
    for i in range(kh):
        for j in range(kw):
            dst_row = cols[(c * kh + i) * kw + j]
            for n in range(n0, n1):
                col0 = n * plane
                for y in range(oh):
                    src_row = x[n, c, y + i]
                    dst = max(col0 + y * ow, 0)
                    for t in range(ow):
                        dst_row[dst + t] = src_row[j + t]


@njit_serial(inline="always")
def _variant(height, width, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    """Which block loop fits: 0 (``*_block_valid``) for stride 1, dilation 1, no padding and no window
    hanging over the end (``out_size`` may add some); 1 (``*_block_unit``) for any other stride-1,
    dilation-1 sweep; 2 (the general ``*_block``) otherwise. Used inside the parallel drivers and, as
    its plain Python function (``_variant.py_func``: nothing to compile), by the wrappers, which pick a
    serial driver with it."""
    if sh == 1 and sw == 1 and dh == 1 and dw == 1:
        if ph == 0 and pw == 0 and oh + kh - 1 <= height and ow + kw - 1 <= width:
            return 0
        return 1
    return 2


@njit_serial(inline="always")
def _im2col_any(x, cols, c, n0, n1, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    variant = _variant(x.shape[2], x.shape[3], kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)
    if variant == 0:
        _im2col_block_valid(x, cols, c, n0, n1, kh, kw, oh, ow)
    elif variant == 1:
        _im2col_block_unit(x, cols, c, n0, n1, kh, kw, ph, pw, oh, ow)
    else:
        _im2col_block(x, cols, c, n0, n1, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)


@njit_parallel
def _im2col_parallel(x, cols, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, chunks):
    batch = x.shape[0]
    channels = x.shape[1]
    step = (batch + chunks - 1) // chunks
    for t in prange(channels * chunks):
        c = t // chunks
        n0 = (t % chunks) * step
        _im2col_any(x, cols, c, n0, min(n0 + step, batch), kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)


# Serial drivers, one per block variant: the Python wrapper picks the variant, so a first call compiles
# only the variant it needs (a driver over _im2col_any compiles all three: ~3 s more on a cold cache).
# The parallel driver, used only for large inputs, keeps the in-kernel choice.
@njit_serial
def _im2col_serial_valid(x, cols, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, chunks):
    for c in range(x.shape[1]):
        _im2col_block_valid(x, cols, c, 0, x.shape[0], kh, kw, oh, ow)


@njit_serial
def _im2col_serial_unit(x, cols, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, chunks):
    for c in range(x.shape[1]):
        _im2col_block_unit(x, cols, c, 0, x.shape[0], kh, kw, ph, pw, oh, ow)


@njit_serial
def _im2col_serial_general(x, cols, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, chunks):
    for c in range(x.shape[1]):
        _im2col_block(x, cols, c, 0, x.shape[0], kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)


@njit_serial(inline="always")
def _col2im_block(cols, dx, c, n0, n1, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    """Scatter-add the rows of channel ``c`` into ``dx[n0:n1, c]`` (only this block is written)."""
    height = dx.shape[2]
    width = dx.shape[3]
    plane = oh * ow
    for i in range(kh):
        oy = i * dh - ph
        y_lo, y_hi = _valid_range(oh, height, sh, oy)
        for j in range(kw):
            ox = j * dw - pw
            x_lo, x_hi = _valid_range(ow, width, sw, ox)
            count = x_hi - x_lo
            src_row = cols[(c * kh + i) * kw + j]
            for n in range(n0, n1):
                for y in range(y_lo, y_hi):
                    dst_row = dx[n, c, y * sh + oy]
                    src = max(n * plane + y * ow + x_lo, 0)
                    dst = max(x_lo * sw + ox, 0)
                    if sw == 1:
                        for t in range(count):
                            dst_row[dst + t] += src_row[src + t]
                    else:
                        for t in range(count):
                            dst_row[dst + t * sw] += src_row[src + t]


@njit_serial(inline="always")
def _col2im_block_unit(cols, dx, c, n0, n1, kh, kw, ph, pw, oh, ow):
    _col2im_block(cols, dx, c, n0, n1, kh, kw, 1, 1, ph, pw, 1, 1, oh, ow)


@njit_serial(inline="always")
def _col2im_block_valid(cols, dx, c, n0, n1, kh, kw, oh, ow):
    """Adjoint of :func:`_im2col_block_valid` (same conditions): row segments added without bounds checks."""
    plane = oh * ow
    for i in range(kh):
        for j in range(kw):
            src_row = cols[(c * kh + i) * kw + j]
            for n in range(n0, n1):
                col0 = n * plane
                for y in range(oh):
                    dst_row = dx[n, c, y + i]
                    src = max(col0 + y * ow, 0)
                    for t in range(ow):
                        dst_row[j + t] += src_row[src + t]


@njit_serial(inline="always")
def _col2im_any(cols, dx, c, n0, n1, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    variant = _variant(dx.shape[2], dx.shape[3], kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)
    if variant == 0:
        _col2im_block_valid(cols, dx, c, n0, n1, kh, kw, oh, ow)
    elif variant == 1:
        _col2im_block_unit(cols, dx, c, n0, n1, kh, kw, ph, pw, oh, ow)
    else:
        _col2im_block(cols, dx, c, n0, n1, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)


@njit_parallel
def _col2im_parallel(cols, dx, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, chunks):
    batch = dx.shape[0]
    channels = dx.shape[1]
    step = (batch + chunks - 1) // chunks
    for t in prange(channels * chunks):
        c = t // chunks
        n0 = (t % chunks) * step
        _col2im_any(cols, dx, c, n0, min(n0 + step, batch), kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)


@njit_serial
def _col2im_serial_valid(cols, dx, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, chunks):
    for c in range(dx.shape[1]):
        _col2im_block_valid(cols, dx, c, 0, dx.shape[0], kh, kw, oh, ow)


@njit_serial
def _col2im_serial_unit(cols, dx, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, chunks):
    for c in range(dx.shape[1]):
        _col2im_block_unit(cols, dx, c, 0, dx.shape[0], kh, kw, ph, pw, oh, ow)


@njit_serial
def _col2im_serial_general(cols, dx, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, chunks):
    for c in range(dx.shape[1]):
        _col2im_block(cols, dx, c, 0, dx.shape[0], kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)


_IM2COL_SERIAL = (_im2col_serial_valid, _im2col_serial_unit, _im2col_serial_general)
_COL2IM_SERIAL = (_col2im_serial_valid, _col2im_serial_unit, _col2im_serial_general)


def _chunks(batch, channels):
    """Split the batch so there are at least ~16 independent (channel, sample-range) work items."""
    return max(1, min(batch, -(-16 // max(channels, 1))))


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
    serial = _IM2COL_SERIAL[_variant.py_func(x.shape[2], x.shape[3], kh, kw, *stride, *padding, *dilation, oh, ow)]
    run_kernel(serial, _im2col_parallel, cols.size, x, cols, kh, kw, stride[0], stride[1], padding[0],
               padding[1], dilation[0], dilation[1], oh, ow, _chunks(n, c), memory_bound=True)
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
    serial = _COL2IM_SERIAL[_variant.py_func(x_shape[2], x_shape[3], kh, kw, *stride, *padding, *dilation,
                                             oh, ow)]
    run_kernel(serial, _col2im_parallel, cols.size, cols, dx, kh, kw, stride[0], stride[1], padding[0],
               padding[1], dilation[0], dilation[1], oh, ow, _chunks(n, c), memory_bound=True)
    return dx


@njit_serial(inline="always")
def _rows_to_nchw_sample(rows, bias, out, n):
    channels, plane = out.shape[1], out.shape[2]
    src = max(n * plane, 0)  # visibly non-negative: no wraparound check, the copy vectorises
    for o in range(channels):
        b = bias[o]
        dst_row = out[n, o]
        src_row = rows[o]
        for p in range(plane):
            dst_row[p] = src_row[src + p] + b


@njit_parallel
def _rows_to_nchw_parallel(rows, bias, out):
    for n in prange(out.shape[0]):
        _rows_to_nchw_sample(rows, bias, out, n)


@njit_serial
def _rows_to_nchw_serial(rows, bias, out):
    for n in range(out.shape[0]):
        _rows_to_nchw_sample(rows, bias, out, n)


def rows_to_nchw(rows, batch, bias=None, plane=None):
    """Reorder a GEMM result ``(O, N * L)`` to ``(N, O, L)``, adding ``bias[o]`` in the same pass.

    ``plane`` (``L``) is needed only for an empty batch, where it cannot be read from ``rows``.

    Shape:
        ``(O, N * L)``, bias ``(O,)`` -> ``(N, O, L)``.
    """
    channels, total = rows.shape
    if plane is None:
        if batch < 1 or total % batch:
            raise ValueError(f"rows_to_nchw: {total} columns do not split into batch {batch}"
                             + (" (give plane= for an empty batch)" if batch == 0 else ""))
        plane = total // batch
    elif batch < 0 or total != batch * plane:
        raise ValueError(f"rows_to_nchw: {total} columns are not batch {batch} x plane {plane}")
    rows = np.ascontiguousarray(rows)
    out = np.empty((batch, channels, plane), dtype=rows.dtype)
    if bias is None:
        b = np.zeros(channels, dtype=rows.dtype)
    else:
        b = np.ascontiguousarray(bias, dtype=rows.dtype)
        if b.shape != (channels,):
            raise ValueError(f"rows_to_nchw: bias has shape {b.shape}, expected {(channels,)}")
    run_kernel(_rows_to_nchw_serial, _rows_to_nchw_parallel, out.size, rows, b, out, memory_bound=True)
    return out


def nchw_to_rows(g):
    """Reorder ``(N, O, L)`` to ``(O, N * L)`` and also return the sum over ``N`` and ``L`` (the bias gradient).

    The reorder is one numpy transpose copy (as fast as a kernel here, and nothing to compile on a first
    call); the sum is numpy's pairwise summation along the contiguous rows.

    Shape:
        ``(N, O, L)`` -> ``((O, N * L), (O,))``.
    """
    g = np.ascontiguousarray(g)
    if g.ndim != 3:
        raise ValueError(f"nchw_to_rows: expected a 3-d (N, O, L) array, got shape {g.shape}")
    batch, channels, plane = g.shape
    rows = np.ascontiguousarray(g.transpose(1, 0, 2)).reshape(channels, batch * plane)
    return rows, rows.sum(axis=1)
