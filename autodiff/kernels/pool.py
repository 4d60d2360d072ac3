"""Max, average and adaptive-average pooling over ``(N, C, H, W)``, forward and backward.

Semantics follow PyTorch: max pooling pads with ``-inf`` (padding never wins) and remembers the
winner's flat index inside its ``(H, W)`` plane, so backward routes each gradient to that one input;
average pooling divides by the window size including padding (``count_include_pad=True``) unless told
otherwise, and backward spreads ``g / size`` over the window. ``ceil_mode`` lets the last window hang
over the edge as long as it starts inside the input or the left padding.

Three layers per kernel: a serial loop over one ``(n, c)`` plane, a ``prange`` driver over the
``N * C`` planes (each iteration writes only its own plane: no write races, even with overlapping
windows) with a serial twin for small inputs, and a Python wrapper that validates and allocates.

Shape:
    ``x``: ``(N, C, H, W)``; ``out`` and ``indices``: ``(N, C, oh, ow)``.
"""
import numpy as np

from .jit import njit_parallel, njit_serial, prange, run_kernel

__all__ = ["pool_output_size", "max_pool2d_forward", "max_pool2d_backward", "avg_pool2d_forward",
           "avg_pool2d_backward", "adaptive_avg_pool2d_forward", "adaptive_avg_pool2d_backward"]


def pool_output_size(size, kernel, stride, padding, dilation=1, ceil_mode=False):
    """Number of window positions along one axis, as PyTorch computes it."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    if not ceil_mode:
        return span // stride + 1
    out = -(-span // stride) + 1
    if (out - 1) * stride >= size + padding:
        out -= 1
    return out


# ---------------------------------------------------------------- max pooling

@njit_serial(inline="always")
def _max_window_careful(src, hs, ws, kh, kw, dh, dw):
    """Max of one window that may hang over the border or hold NaN/inf (PyTorch: NaN wins, last NaN).

    A window holding no element of the plane (it covers only padding, or rows/columns past the end,
    possible with dilation and ``ceil_mode``) gives ``-inf`` and winner index ``-1``, as PyTorch's output;
    backward then routes its gradient nowhere."""
    height = src.shape[0]
    width = src.shape[1]
    i_lo = 0
    while i_lo < kh and hs + i_lo * dh < 0:
        i_lo += 1
    j_lo = 0
    while j_lo < kw and ws + j_lo * dw < 0:
        j_lo += 1
    best = -np.inf
    best_i = -1  # no real element in the window (only padding / past the end): -inf, no winner
    for i in range(i_lo, kh):
        iy = hs + i * dh
        if iy >= height:
            break
        for j in range(j_lo, kw):
            ix = ws + j * dw
            if ix >= width:
                break
            v = src[iy, ix]
            if v > best or v != v or best_i < 0:
                best = v
                best_i = iy * width + ix
    return best, best_i


@njit_serial(inline="always")
def _max_plane(x, out, idx, n, c, kh, kw, sh, sw, ph, pw, dh, dw):
    """Windows fully inside the plane take a fast loop (``v > best`` only, with a running ``0 * v`` sum that
    turns NaN on any NaN/inf); border windows and flagged ones take the careful loop."""
    src = x[n, c]
    dst = out[n, c]
    dst_i = idx[n, c]
    height = src.shape[0]
    width = src.shape[1]
    two_by_two = kh == 2 and kw == 2 and dh == 1 and dw == 1
    for y in range(dst.shape[0]):
        hs = y * sh - ph
        rows_inside = hs >= 0 and hs + (kh - 1) * dh < height
        h0 = max(hs, 0)
        for xo in range(dst.shape[1]):
            ws = xo * sw - pw
            if rows_inside and ws >= 0 and ws + (kw - 1) * dw < width:
                w0 = max(ws, 0)
                best = src[h0, w0]
                best_i = h0 * width + w0
                flag = best * 0
                if two_by_two:
                    v = src[h0, w0 + 1]
                    flag += v * 0
                    if v > best:
                        best = v
                        best_i = h0 * width + w0 + 1
                    v = src[h0 + 1, w0]
                    flag += v * 0
                    if v > best:
                        best = v
                        best_i = (h0 + 1) * width + w0
                    v = src[h0 + 1, w0 + 1]
                    flag += v * 0
                    if v > best:
                        best = v
                        best_i = (h0 + 1) * width + w0 + 1
                else:
                    for i in range(kh):
                        row = src[h0 + i * dh]
                        for j in range(kw):
                            v = row[w0 + j * dw]
                            flag += v * 0
                            if v > best:
                                best = v
                                best_i = (h0 + i * dh) * width + w0 + j * dw
                if flag == 0:
                    dst[y, xo] = best
                    dst_i[y, xo] = best_i
                    continue
            best, best_i = _max_window_careful(src, hs, ws, kh, kw, dh, dw)
            dst[y, xo] = best
            dst_i[y, xo] = best_i


@njit_serial(inline="always")
def _max_plane_2x2(x, out, idx, n, c):
    """The common 2x2 / stride 2 / no padding window, every window inside the plane: two input rows at a
    time, the winner chosen by selects instead of branches (the general loop's ``v > best`` branches
    mispredict on random data; this is 1.3x faster on LeNet's layers). Ties go to the first element in
    scan order, as in the general loop; infinities need nothing special. A row pair holding a NaN is
    redone with the careful loop's rule (NaN wins), written out for the four elements."""
    src = x[n, c]
    dst = out[n, c]
    dst_i = idx[n, c]
    width = src.shape[1]
    for y in range(dst.shape[0]):
        top = src[2 * y]
        bottom = src[2 * y + 1]
        row = dst[y]
        row_i = dst_i[y]
        base = 2 * y * width
        no_nan = True
        for xo in range(dst.shape[1]):
            j = 2 * xo
            a = top[j]
            b = top[j + 1]
            d = bottom[j]
            e = bottom[j + 1]
            no_nan &= (a == a) & (b == b) & (d == d) & (e == e)
            upper = b > a  # strict: the earlier element keeps a tie
            m1 = b if upper else a
            i1 = 1 if upper else 0
            lower = e > d
            m2 = e if lower else d
            i2 = width + 1 if lower else width
            second = m2 > m1
            row[xo] = m2 if second else m1
            row_i[xo] = base + j + (i2 if second else i1)
        if not no_nan:  # NaN wins, the last one in scan order (as the careful loop, written out for 2x2)
            for xo in range(dst.shape[1]):
                j = 2 * xo
                best = top[j]
                best_i = base + j
                v = top[j + 1]
                if v > best or v != v:
                    best = v
                    best_i = base + j + 1
                v = bottom[j]
                if v > best or v != v:
                    best = v
                    best_i = base + width + j
                v = bottom[j + 1]
                if v > best or v != v:
                    best = v
                    best_i = base + width + j + 1
                row[xo] = best
                row_i[xo] = best_i


@njit_serial(inline="always")
def _is_2x2(x, out, kh, kw, sh, sw, ph, pw, dh, dw):
    return kh == 2 and kw == 2 and sh == 2 and sw == 2 and ph == 0 and pw == 0 and dh == 1 and dw == 1 \
        and 2 * out.shape[2] <= x.shape[2] and 2 * out.shape[3] <= x.shape[3]


@njit_parallel
def _max_forward_parallel(x, out, idx, kh, kw, sh, sw, ph, pw, dh, dw):
    channels = x.shape[1]
    if _is_2x2(x, out, kh, kw, sh, sw, ph, pw, dh, dw):
        for t in prange(x.shape[0] * channels):
            _max_plane_2x2(x, out, idx, t // channels, t % channels)
    else:
        for t in prange(x.shape[0] * channels):
            _max_plane(x, out, idx, t // channels, t % channels, kh, kw, sh, sw, ph, pw, dh, dw)


# Serial drivers, one per plane kernel: the Python wrapper picks one, so a first call compiles only the
# kernel it needs (one driver over both compiled both: ~1 s more on a cold cache). The parallel
# driver, used only for large inputs, keeps the in-kernel choice.
@njit_serial
def _max_forward_serial_2x2(x, out, idx, kh, kw, sh, sw, ph, pw, dh, dw):
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            _max_plane_2x2(x, out, idx, n, c)


@njit_serial
def _max_forward_serial(x, out, idx, kh, kw, sh, sw, ph, pw, dh, dw):
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            _max_plane(x, out, idx, n, c, kh, kw, sh, sw, ph, pw, dh, dw)


@njit_serial(inline="always")
def _max_back_plane(g, idx, dx, n, c):
    """Zero this ``(n, c)`` plane of ``dx`` (it stays in L1 for the scatter that follows: no separate zero
    fill of the whole ``dx``), then add each gradient at its winner. An index outside the plane (``-1``: a
    window without a real element) is skipped, so nothing is ever written outside ``dx[n, c]``."""
    src = g[n, c]
    src_i = idx[n, c]
    dst = dx[n, c].reshape(dx.shape[2] * dx.shape[3])
    for p in range(dst.shape[0]):
        dst[p] = 0
    size = dst.shape[0]
    for y in range(src.shape[0]):
        for xo in range(src.shape[1]):
            k = src_i[y, xo]
            if 0 <= k < size:
                dst[k] += src[y, xo]


@njit_parallel
def _max_backward_parallel(g, idx, dx):
    channels = g.shape[1]
    for t in prange(g.shape[0] * channels):
        _max_back_plane(g, idx, dx, t // channels, t % channels)


@njit_serial
def _max_backward_serial(g, idx, dx):
    for n in range(g.shape[0]):
        for c in range(g.shape[1]):
            _max_back_plane(g, idx, dx, n, c)


# ---------------------------------------------------------------- average pooling

@njit_serial(inline="always")
def _avg_window(y, size, k, s, p):
    """Window ``[start, end)`` clipped to the input, and its length clipped only to the padded input."""
    start = y * s - p
    end = min(start + k, size + p)
    padded_len = end - start
    return max(start, 0), min(end, size), padded_len


@njit_serial(inline="always")
def _avg_plane(x, out, n, c, kh, kw, sh, sw, ph, pw, count_include_pad, divisor):
    height = x.shape[2]
    width = x.shape[3]
    for y in range(out.shape[2]):
        h0, h1, hlen = _avg_window(y, height, kh, sh, ph)
        for xo in range(out.shape[3]):
            w0, w1, wlen = _avg_window(xo, width, kw, sw, pw)
            if h0 >= h1 or w0 >= w1:
                out[n, c, y, xo] = 0
                continue
            acc = 0.0
            for iy in range(h0, h1):
                for ix in range(w0, w1):
                    acc += x[n, c, iy, ix]
            if divisor > 0:
                div = divisor
            elif count_include_pad:
                div = hlen * wlen
            else:
                div = (h1 - h0) * (w1 - w0)
            out[n, c, y, xo] = acc / div


@njit_parallel
def _avg_forward_parallel(x, out, kh, kw, sh, sw, ph, pw, count_include_pad, divisor):
    channels = x.shape[1]
    for t in prange(x.shape[0] * channels):
        _avg_plane(x, out, t // channels, t % channels, kh, kw, sh, sw, ph, pw, count_include_pad, divisor)


@njit_serial
def _avg_forward_serial(x, out, kh, kw, sh, sw, ph, pw, count_include_pad, divisor):
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            _avg_plane(x, out, n, c, kh, kw, sh, sw, ph, pw, count_include_pad, divisor)


@njit_serial(inline="always")
def _avg_back_plane(g, dx, n, c, kh, kw, sh, sw, ph, pw, count_include_pad, divisor):
    height = dx.shape[2]
    width = dx.shape[3]
    for y in range(g.shape[2]):
        h0, h1, hlen = _avg_window(y, height, kh, sh, ph)
        for xo in range(g.shape[3]):
            w0, w1, wlen = _avg_window(xo, width, kw, sw, pw)
            if h0 >= h1 or w0 >= w1:
                continue
            if divisor > 0:
                div = divisor
            elif count_include_pad:
                div = hlen * wlen
            else:
                div = (h1 - h0) * (w1 - w0)
            share = g[n, c, y, xo] / div
            for iy in range(h0, h1):
                for ix in range(w0, w1):
                    dx[n, c, iy, ix] += share


@njit_parallel
def _avg_backward_parallel(g, dx, kh, kw, sh, sw, ph, pw, count_include_pad, divisor):
    channels = g.shape[1]
    for t in prange(g.shape[0] * channels):
        _avg_back_plane(g, dx, t // channels, t % channels, kh, kw, sh, sw, ph, pw, count_include_pad, divisor)


@njit_serial
def _avg_backward_serial(g, dx, kh, kw, sh, sw, ph, pw, count_include_pad, divisor):
    for n in range(g.shape[0]):
        for c in range(g.shape[1]):
            _avg_back_plane(g, dx, n, c, kh, kw, sh, sw, ph, pw, count_include_pad, divisor)


# ---------------------------------------------------------------- adaptive average pooling

@njit_serial(inline="always")
def _adaptive_bounds(i, in_size, out_size):
    return (i * in_size) // out_size, -((-(i + 1) * in_size) // out_size)


@njit_serial(inline="always")
def _adaptive_plane(x, out, n, c):
    height, width = x.shape[2], x.shape[3]
    oh, ow = out.shape[2], out.shape[3]
    for y in range(oh):
        h0, h1 = _adaptive_bounds(y, height, oh)
        for xo in range(ow):
            w0, w1 = _adaptive_bounds(xo, width, ow)
            acc = 0.0
            for iy in range(h0, h1):
                for ix in range(w0, w1):
                    acc += x[n, c, iy, ix]
            out[n, c, y, xo] = acc / ((h1 - h0) * (w1 - w0))


@njit_serial(inline="always")
def _adaptive_back_plane(g, dx, n, c):
    height, width = dx.shape[2], dx.shape[3]
    oh, ow = g.shape[2], g.shape[3]
    for y in range(oh):
        h0, h1 = _adaptive_bounds(y, height, oh)
        for xo in range(ow):
            w0, w1 = _adaptive_bounds(xo, width, ow)
            share = g[n, c, y, xo] / ((h1 - h0) * (w1 - w0))
            for iy in range(h0, h1):
                for ix in range(w0, w1):
                    dx[n, c, iy, ix] += share


@njit_parallel
def _adaptive_forward_parallel(x, out):
    channels = x.shape[1]
    for t in prange(x.shape[0] * channels):
        _adaptive_plane(x, out, t // channels, t % channels)


@njit_serial
def _adaptive_forward_serial(x, out):
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            _adaptive_plane(x, out, n, c)


@njit_parallel
def _adaptive_backward_parallel(g, dx):
    channels = g.shape[1]
    for t in prange(g.shape[0] * channels):
        _adaptive_back_plane(g, dx, t // channels, t % channels)


@njit_serial
def _adaptive_backward_serial(g, dx):
    for n in range(g.shape[0]):
        for c in range(g.shape[1]):
            _adaptive_back_plane(g, dx, n, c)


# ---------------------------------------------------------------- wrappers

def _prepare(name, x):
    x = np.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"{name}: expected a 4-d (N, C, H, W) array, got shape {x.shape}")
    if x.dtype not in (np.float32, np.float64):
        raise TypeError(f"{name}: expected a float32 or float64 array, got dtype {x.dtype}")
    return np.ascontiguousarray(x)


def _pool_geometry(name, shape, kernel_size, stride, padding, dilation, ceil_mode):
    kh, kw = kernel_size
    sh, sw = stride
    ph, pw = padding
    dh, dw = dilation
    if min(kh, kw, sh, sw, dh, dw) < 1 or min(ph, pw) < 0:
        raise ValueError(f"{name}: kernel_size {kernel_size}, stride {stride} and dilation {dilation} must be "
                         f"positive and padding {padding} non-negative")
    if ph > kh // 2 or pw > kw // 2:
        raise ValueError(f"{name}: padding {padding} must be at most half of kernel_size {kernel_size}")
    oh = pool_output_size(shape[2], kh, sh, ph, dh, ceil_mode)
    ow = pool_output_size(shape[3], kw, sw, pw, dw, ceil_mode)
    if oh < 1 or ow < 1:
        raise ValueError(f"{name}: kernel {kernel_size} with dilation {dilation} is larger than the padded "
                         f"input {(shape[2] + 2 * ph, shape[3] + 2 * pw)} (input {tuple(shape)}, padding {padding})")
    return oh, ow


def max_pool2d_forward(x, kernel_size, stride, padding=(0, 0), dilation=(1, 1), ceil_mode=False):
    """Max over each window; also returns the winner's flat index in its ``(H, W)`` plane.

    Indices are int32 when ``H * W`` fits (half the memory kept for backward), else int64.

    Shape:
        ``(N, C, H, W)`` -> ``out, indices``: ``(N, C, oh, ow)``.
    """
    x = _prepare("max_pool2d", x)
    oh, ow = _pool_geometry("max_pool2d", x.shape, kernel_size, stride, padding, dilation, ceil_mode)
    out = np.empty(x.shape[:2] + (oh, ow), dtype=x.dtype)
    idx_type = np.int32 if x.shape[2] * x.shape[3] < 2 ** 31 else np.int64
    idx = np.empty(x.shape[:2] + (oh, ow), dtype=idx_type)
    args = (x, out, idx, kernel_size[0], kernel_size[1], stride[0], stride[1], padding[0], padding[1],
            dilation[0], dilation[1])
    # the jitted check's Python function: the same rule as in the parallel driver, nothing to compile
    serial = _max_forward_serial_2x2 if _is_2x2.py_func(x, out, *args[3:]) else _max_forward_serial
    run_kernel(serial, _max_forward_parallel, x.size, *args, memory_bound=True)
    return out, idx


def max_pool2d_backward(grad, indices, x_shape):
    """Route each output gradient to its saved winner (scatter-add; overlapping windows accumulate).

    Shape:
        ``grad``, ``indices``: ``(N, C, oh, ow)`` -> ``(N, C, H, W)``.
    """
    grad = np.ascontiguousarray(grad)
    indices = np.ascontiguousarray(indices)
    if indices.dtype not in (np.int32, np.int64):
        indices = indices.astype(np.int64)
    if grad.shape != indices.shape or grad.shape[:2] != tuple(x_shape[:2]):
        raise ValueError(f"max_pool2d_backward: grad {grad.shape}, indices {indices.shape} and input "
                         f"{tuple(x_shape)} do not fit together")
    dx = np.empty(x_shape, dtype=grad.dtype)  # each plane is zeroed by the kernel
    run_kernel(_max_backward_serial, _max_backward_parallel, dx.size, grad, indices, dx, memory_bound=True)
    return dx


def avg_pool2d_forward(x, kernel_size, stride, padding=(0, 0), ceil_mode=False, count_include_pad=True,
                       divisor_override=None):
    """Mean over each window (PyTorch's divisor rules).

    Shape:
        ``(N, C, H, W)`` -> ``(N, C, oh, ow)``.
    """
    x = _prepare("avg_pool2d", x)
    oh, ow = _pool_geometry("avg_pool2d", x.shape, kernel_size, stride, padding, (1, 1), ceil_mode)
    out = np.empty(x.shape[:2] + (oh, ow), dtype=x.dtype)
    run_kernel(_avg_forward_serial, _avg_forward_parallel, x.size, x, out, kernel_size[0], kernel_size[1],
               stride[0], stride[1], padding[0], padding[1], bool(count_include_pad),
               int(divisor_override or 0), memory_bound=True)
    return out


def avg_pool2d_backward(grad, x_shape, kernel_size, stride, padding=(0, 0), count_include_pad=True,
                        divisor_override=None):
    """Spread each output gradient evenly over its window (``g / divisor``).

    Shape:
        ``grad``: ``(N, C, oh, ow)`` -> ``(N, C, H, W)``.
    """
    grad = np.ascontiguousarray(grad)
    dx = np.zeros(tuple(x_shape), dtype=grad.dtype)
    run_kernel(_avg_backward_serial, _avg_backward_parallel, dx.size, grad, dx, kernel_size[0], kernel_size[1],
               stride[0], stride[1], padding[0], padding[1], bool(count_include_pad),
               int(divisor_override or 0), memory_bound=True)
    return dx


def adaptive_avg_pool2d_forward(x, output_size):
    """Average pooling onto a fixed output grid; cell ``i`` covers ``[floor(i H/oh), ceil((i+1) H/oh))``.

    Shape:
        ``(N, C, H, W)`` -> ``(N, C, oh, ow)``.
    """
    x = _prepare("adaptive_avg_pool2d", x)
    oh, ow = output_size
    if oh < 1 or ow < 1:
        raise ValueError(f"adaptive_avg_pool2d: output_size {tuple(output_size)} must be positive")
    if x.shape[2] < 1 or x.shape[3] < 1:
        raise ValueError(f"adaptive_avg_pool2d: input {x.shape} has an empty spatial dimension")
    out = np.empty(x.shape[:2] + (oh, ow), dtype=x.dtype)
    run_kernel(_adaptive_forward_serial, _adaptive_forward_parallel, x.size, x, out, memory_bound=True)
    return out


def adaptive_avg_pool2d_backward(grad, x_shape):
    """Spread each cell's gradient evenly over the input positions it averaged.

    Shape:
        ``grad``: ``(N, C, oh, ow)`` -> ``(N, C, H, W)``.
    """
    grad = np.ascontiguousarray(grad)
    dx = np.zeros(tuple(x_shape), dtype=grad.dtype)
    run_kernel(_adaptive_backward_serial, _adaptive_backward_parallel, dx.size, grad, dx, memory_bound=True)
    return dx
