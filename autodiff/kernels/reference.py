"""Slow, obvious numpy versions of the convolution, pooling and GEMM kernels.

The tests run each Numba kernel and its twin here on the same random inputs. Nothing here is fast;
everything is written to be checked by eye: explicit padding with ``np.pad``, explicit loops over
output positions, ``np.add.at`` for scatter-adds.

Shape:
    ``x``: ``(N, C, H, W)``; ``cols``: ``(C * kh * kw, N * oh * ow)``; pooled: ``(N, C, oh, ow)``.
"""
import math

import numpy as np

from .activation import sigmoid
from .im2col import conv_output_size
from .pool import pool_output_size


def im2col(x, kernel_size, stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
    """Receptive fields of ``x`` as columns (row ``(c, i, j)``, column ``(n, y, x)``)."""
    n, c, h, w = x.shape
    kh, kw = kernel_size
    oh = conv_output_size(h, kh, stride[0], padding[0], dilation[0])
    ow = conv_output_size(w, kw, stride[1], padding[1], dilation[1])
    xp = np.pad(x, ((0, 0), (0, 0), (padding[0], padding[0]), (padding[1], padding[1])))
    cols = np.zeros((c, kh, kw, n, oh, ow), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            y0 = i * dilation[0]
            x0 = j * dilation[1]
            patch = xp[:, :, y0:y0 + stride[0] * (oh - 1) + 1:stride[0], x0:x0 + stride[1] * (ow - 1) + 1:stride[1]]
            cols[:, i, j] = patch.transpose(1, 0, 2, 3)
    return cols.reshape(c * kh * kw, n * oh * ow)


def col2im(cols, x_shape, kernel_size, stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
    """Adjoint of :func:`im2col`: add every column entry back where it was read from."""
    n, c, h, w = x_shape
    kh, kw = kernel_size
    oh = conv_output_size(h, kh, stride[0], padding[0], dilation[0])
    ow = conv_output_size(w, kw, stride[1], padding[1], dilation[1])
    blocks = cols.reshape(c, kh, kw, n, oh, ow)
    xp = np.zeros((n, c, h + 2 * padding[0], w + 2 * padding[1]), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            y0 = i * dilation[0]
            x0 = j * dilation[1]
            xp[:, :, y0:y0 + stride[0] * (oh - 1) + 1:stride[0],
               x0:x0 + stride[1] * (ow - 1) + 1:stride[1]] += blocks[:, i, j].transpose(1, 0, 2, 3)
    return xp[:, :, padding[0]:padding[0] + h, padding[1]:padding[1] + w]


def conv2d(x, weight, bias=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1):
    """Direct convolution (cross-correlation, as PyTorch) by a loop over kernel offsets."""
    n, c, h, w = x.shape
    out_ch, cg, kh, kw = weight.shape
    oh = conv_output_size(h, kh, stride[0], padding[0], dilation[0])
    ow = conv_output_size(w, kw, stride[1], padding[1], dilation[1])
    xp = np.pad(x, ((0, 0), (0, 0), (padding[0], padding[0]), (padding[1], padding[1])))
    og = out_ch // groups
    y = np.zeros((n, out_ch, oh, ow), dtype=np.float64)
    for g in range(groups):
        xs = xp[:, g * cg:(g + 1) * cg]
        ws = weight[g * og:(g + 1) * og]
        for i in range(kh):
            for j in range(kw):
                y0 = i * dilation[0]
                x0 = j * dilation[1]
                patch = xs[:, :, y0:y0 + stride[0] * (oh - 1) + 1:stride[0], x0:x0 + stride[1] * (ow - 1) + 1:stride[1]]
                y[:, g * og:(g + 1) * og] += np.einsum("nchw,oc->nohw", patch, ws[:, :, i, j])
    if bias is not None:
        y += bias.reshape(1, -1, 1, 1)
    return y.astype(x.dtype)


def _windows(size, kernel, stride, padding, dilation, ceil_mode):
    out = pool_output_size(size, kernel, stride, padding, dilation, ceil_mode)
    return [[o * stride - padding + k * dilation for k in range(kernel)] for o in range(out)]


def max_pool2d(x, kernel_size, stride, padding=(0, 0), dilation=(1, 1), ceil_mode=False):
    """Max over each window, positions outside the input ignored; returns ``(out, flat_indices)``.

    A window without any input position (only padding, or past the end) gives ``-inf`` and index ``-1``.
    """
    n, c, h, w = x.shape
    rows = _windows(h, kernel_size[0], stride[0], padding[0], dilation[0], ceil_mode)
    cols = _windows(w, kernel_size[1], stride[1], padding[1], dilation[1], ceil_mode)
    out = np.empty((n, c, len(rows), len(cols)), dtype=x.dtype)
    idx = np.empty(out.shape, dtype=np.int64)
    for a, ys in enumerate(rows):
        for b, xs in enumerate(cols):
            flat = [yy * w + xx for yy in ys if 0 <= yy < h for xx in xs if 0 <= xx < w]
            if not flat:
                out[:, :, a, b] = -np.inf
                idx[:, :, a, b] = -1
                continue
            vals = x.reshape(n, c, h * w)[:, :, flat]
            k = np.argmax(vals, axis=2)
            out[:, :, a, b] = np.take_along_axis(vals, k[..., None], axis=2)[..., 0]
            idx[:, :, a, b] = np.asarray(flat)[k]
    return out, idx


def max_pool2d_backward(grad, indices, x_shape):
    """Scatter-add each gradient to its winner with ``np.add.at`` (index ``-1``: no winner, dropped)."""
    n, c, h, w = x_shape
    dx = np.zeros((n, c, h * w), dtype=grad.dtype)
    nn_, cc = np.meshgrid(np.arange(n), np.arange(c), indexing="ij")
    for a in range(grad.shape[2]):
        for b in range(grad.shape[3]):
            k = indices[:, :, a, b]
            real = k >= 0
            np.add.at(dx, (nn_[real], cc[real], k[real]), grad[:, :, a, b][real])
    return dx.reshape(x_shape)


def _avg_divisors(size, kernel, stride, padding, ceil_mode, count_include_pad):
    out = pool_output_size(size, kernel, stride, padding, 1, ceil_mode)
    spans = []
    for o in range(out):
        start = o * stride - padding
        end = min(start + kernel, size + padding)
        spans.append((max(start, 0), min(end, size), end - start))
    return spans


def avg_pool2d(x, kernel_size, stride, padding=(0, 0), ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Window sums divided by the window size (padding counted if ``count_include_pad``)."""
    rows = _avg_divisors(x.shape[2], kernel_size[0], stride[0], padding[0], ceil_mode, count_include_pad)
    cols = _avg_divisors(x.shape[3], kernel_size[1], stride[1], padding[1], ceil_mode, count_include_pad)
    out = np.zeros(x.shape[:2] + (len(rows), len(cols)), dtype=np.float64)
    for a, (h0, h1, hl) in enumerate(rows):
        for b, (w0, w1, wl) in enumerate(cols):
            div = divisor_override or (hl * wl if count_include_pad else (h1 - h0) * (w1 - w0))
            out[:, :, a, b] = x[:, :, h0:h1, w0:w1].sum(axis=(2, 3)) / div
    return out.astype(x.dtype)


def avg_pool2d_backward(grad, x_shape, kernel_size, stride, padding=(0, 0), ceil_mode=False,
                        count_include_pad=True, divisor_override=None):
    """Each window gets ``g / divisor`` on every input position it covers."""
    rows = _avg_divisors(x_shape[2], kernel_size[0], stride[0], padding[0], ceil_mode, count_include_pad)
    cols = _avg_divisors(x_shape[3], kernel_size[1], stride[1], padding[1], ceil_mode, count_include_pad)
    dx = np.zeros(x_shape, dtype=np.float64)
    for a, (h0, h1, hl) in enumerate(rows):
        for b, (w0, w1, wl) in enumerate(cols):
            div = divisor_override or (hl * wl if count_include_pad else (h1 - h0) * (w1 - w0))
            dx[:, :, h0:h1, w0:w1] += (grad[:, :, a, b] / div)[:, :, None, None]
    return dx.astype(grad.dtype)


def adaptive_avg_pool2d(x, output_size):
    """Cell ``(a, b)`` averages rows ``[floor(aH/oh), ceil((a+1)H/oh))`` and likewise columns."""
    h, w = x.shape[2:]
    oh, ow = output_size
    out = np.empty(x.shape[:2] + (oh, ow), dtype=x.dtype)
    for a in range(oh):
        for b in range(ow):
            h0, h1 = (a * h) // oh, math.ceil((a + 1) * h / oh)
            w0, w1 = (b * w) // ow, math.ceil((b + 1) * w / ow)
            out[:, :, a, b] = x[:, :, h0:h1, w0:w1].mean(axis=(2, 3))
    return out


def adaptive_avg_pool2d_backward(grad, x_shape):
    """Each cell's gradient spread evenly over the positions it averaged."""
    h, w = x_shape[2:]
    oh, ow = grad.shape[2:]
    dx = np.zeros(x_shape, dtype=grad.dtype)
    for a in range(oh):
        for b in range(ow):
            h0, h1 = (a * h) // oh, math.ceil((a + 1) * h / oh)
            w0, w1 = (b * w) // ow, math.ceil((b + 1) * w / ow)
            dx[:, :, h0:h1, w0:w1] += grad[:, :, a, b][:, :, None, None] / ((h1 - h0) * (w1 - w0))
    return dx


def matmul(a, b):
    """Triple-loop-free but obviously correct product: sum of outer products in float64."""
    return np.einsum("ik,kj->ij", a.astype(np.float64), b.astype(np.float64)).astype(np.result_type(a, b))


def linear_act(x, weight, bias=None, activation=None):
    """``act(x @ weight.T + bias)`` with ``act`` one of ``None``, ``"relu"``, ``"tanh"``, ``"sigmoid"``."""
    y = x.astype(np.float64) @ weight.astype(np.float64).T
    if bias is not None:
        y = y + bias
    if activation == "relu":
        y = np.maximum(y, 0)
    elif activation == "tanh":
        y = np.tanh(y)
    elif activation == "sigmoid":
        y = sigmoid(y)
    return y.astype(x.dtype)
