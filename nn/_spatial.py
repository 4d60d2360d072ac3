"""Resampling and rearranging of spatial dims: ``F.interpolate``, ``F.pixel_shuffle``, ``F.pixel_unshuffle``.

Reached through ``nn.functional``. ``interpolate`` is separable: along each spatial axis the output is a
fixed linear map of the input, ``y = x @ M^T`` with ``M`` of shape ``(out, in)``, built from PyTorch's
index rules (the same float arithmetic, so the same source indices). Its gradient is ``g @ M``, which
is the scatter-add of PyTorch's backward kernels, and derivatives of any order come from the matmul.
"""
import functools
import math

import numpy as np

from autodiff import Tensor
from autodiff.errors import ShapeError

__all__ = ["interpolate", "pixel_shuffle", "pixel_unshuffle"]

#: the cubic convolution constant PyTorch's bicubic uses (Keys' a = -0.75)
CUBIC_A = -0.75

# number of spatial dims each mode works on (None: any of 1, 2, 3)
_MODE_DIMS = {"nearest": None, "nearest-exact": None, "area": None, "linear": 1, "bilinear": 2, "bicubic": 2,
              "trilinear": 3}


def _t(x):
    return x if isinstance(x, Tensor) else Tensor(x)


def _scale(in_size, out_size, align_corners, scale, ftype):
    """PyTorch's area_pixel_compute_scale in the compute type ``ftype``."""
    if align_corners:
        return ftype(in_size - 1) / ftype(out_size - 1) if out_size > 1 else ftype(0)
    if scale is not None and scale > 0:
        return ftype(1.0 / scale)
    return ftype(in_size) / ftype(out_size)


def _nearest_matrix(in_size, out_size, scale, exact):
    # PyTorch computes nearest indices in float32 for every dtype: floor(dst * s) (or (dst + 0.5) * s)
    dst = np.arange(out_size)
    if out_size == in_size and not exact:
        src = dst
    elif out_size == 2 * in_size and not exact:
        src = dst >> 1
    else:
        s = np.float32(1.0 / scale) if scale is not None and scale > 0 else np.float32(in_size) / np.float32(out_size)
        pos = (dst.astype(np.float32) + np.float32(0.5)) * s if exact else dst.astype(np.float32) * s
        src = np.minimum(np.floor(pos).astype(np.int64), in_size - 1)
    m = np.zeros((out_size, in_size))
    m[dst, src] = 1.0
    return m


def _source_index(in_size, out_size, align_corners, scale, ftype, cubic):
    s = _scale(in_size, out_size, align_corners, scale, ftype)
    dst = np.arange(out_size).astype(ftype)
    if align_corners:
        return dst * s
    src = s * (dst + ftype(0.5)) - ftype(0.5)
    return src if cubic else np.maximum(src, ftype(0))


def _linear_matrix(in_size, out_size, align_corners, scale, ftype):
    src = _source_index(in_size, out_size, align_corners, scale, ftype, cubic=False)
    i0 = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
    i1 = np.minimum(i0 + 1, in_size - 1)
    lam1 = np.clip(src - i0.astype(ftype), ftype(0), ftype(1))
    lam0 = ftype(1) - lam1
    m = np.zeros((out_size, in_size))
    rows = np.arange(out_size)
    np.add.at(m, (rows, i0), lam0.astype(np.float64))
    np.add.at(m, (rows, i1), lam1.astype(np.float64))
    return m


def _cubic_weights(t, ftype):
    """Keys' cubic convolution weights of the four taps at offsets -1, 0, 1, 2 for fraction ``t``."""
    a = ftype(CUBIC_A)

    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    one = ftype(1)
    return [far(t + one), near(t), near(one - t), far(ftype(2) - t)]


def _cubic_matrix(in_size, out_size, align_corners, scale, ftype):
    src = _source_index(in_size, out_size, align_corners, scale, ftype, cubic=True)
    base = np.floor(src).astype(np.int64)
    t = src - base.astype(ftype)
    m = np.zeros((out_size, in_size))
    rows = np.arange(out_size)
    for tap, w in enumerate(_cubic_weights(t, ftype)):
        idx = np.clip(base - 1 + tap, 0, in_size - 1)  # taps outside the input read its edge
        np.add.at(m, (rows, idx), w.astype(np.float64))
    return m


def _antialias_matrix(in_size, out_size, align_corners, scale, ftype, cubic):
    """PyTorch's antialiased weights (Pillow's filters): the filter widens by the scale when shrinking."""
    s = _scale(in_size, out_size, align_corners, scale, ftype)
    half = ftype(2.0 if cubic else 1.0)  # half the filter's support at scale 1
    support = half * s if s >= 1 else half
    invscale = ftype(1) / s if s >= 1 else ftype(1)
    m = np.zeros((out_size, in_size))
    for i in range(out_size):
        center = s * ftype(i + 0.5)
        lo = max(int(center - support + ftype(0.5)), 0)  # C++ casts truncate toward zero
        hi = min(int(center + support + ftype(0.5)), in_size)
        x = np.abs((np.arange(lo, hi).astype(ftype) - center + ftype(0.5)) * invscale)
        if cubic:  # Keys' cubic with a = -0.5, as Pillow
            a = ftype(-0.5)
            w = np.where(x < 1, ((a + 2) * x - (a + 3)) * x * x + 1,
                         np.where(x < 2, (((x - 5) * x + 8) * x - 4) * a, ftype(0)))
        else:
            w = np.maximum(ftype(1) - x, ftype(0))
        total = w.sum(dtype=ftype)
        if total != 0:
            w = w / total
        m[i, lo:hi] = w
    return m


def _area_matrix(in_size, out_size):
    # adaptive average pooling: output i averages input [floor(i in / out), ceil((i + 1) in / out))
    m = np.zeros((out_size, in_size))
    for i in range(out_size):
        lo = (i * in_size) // out_size
        hi = -(-((i + 1) * in_size) // out_size)
        m[i, lo:hi] = 1.0 / (hi - lo)
    return m


@functools.lru_cache(maxsize=256)
def _axis_matrix(mode, in_size, out_size, align_corners, scale, ftype, antialias=False):
    """The (out, in) map along one axis; cached, so callers must not write to it."""
    if antialias:
        return _antialias_matrix(in_size, out_size, align_corners, scale, ftype, mode == "bicubic")
    if mode in ("nearest", "nearest-exact"):
        return _nearest_matrix(in_size, out_size, scale, mode == "nearest-exact")
    if mode == "area":
        return _area_matrix(in_size, out_size)
    if mode == "bicubic":
        return _cubic_matrix(in_size, out_size, align_corners, scale, ftype)
    return _linear_matrix(in_size, out_size, align_corners, scale, ftype)


def _per_axis(name, value, dims, what):
    if isinstance(value, (list, tuple)):
        if len(value) != dims:
            raise ShapeError(f"interpolate: {what} {tuple(value)} must have {dims} entries for {dims} spatial "
                             f"dims (input {name})")
        return tuple(value)
    return (value,) * dims


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dims of ``input``, as ``torch.nn.functional.interpolate``.

    Args:
        input: ``(N, C, L)``, ``(N, C, H, W)`` or ``(N, C, D, H, W)``.
        size: output spatial size (int or one per dim); or give ``scale_factor`` (float or one per dim),
            when the output size is ``floor(in * scale_factor)``.
        mode: 'nearest' (source ``floor(dst * in / out)``), 'nearest-exact', 'linear' (3-d),
            'bilinear' (4-d), 'bicubic' (4-d, a = -0.75, edge taps clamped), 'trilinear' (5-d) or 'area'.
        align_corners: for the interpolating modes: map the corner pixels' centres onto each other
            (default False).
        recompute_scale_factor: compute the index scale from the output size instead of using
            ``scale_factor`` itself.
        antialias: for bilinear and bicubic: widen the filter by the scale when shrinking (PyTorch's
            Pillow-style weights; bicubic then uses a = -0.5).

    Shape:
        ``(N, C, *in_spatial) -> (N, C, *out_spatial)``.
    """
    input = _t(input)
    shape = tuple(input.shape)
    dims = len(shape) - 2
    if mode not in _MODE_DIMS:
        raise ShapeError(f"interpolate: mode must be one of {tuple(_MODE_DIMS)}, got {mode!r}")
    if dims not in (1, 2, 3) or (_MODE_DIMS[mode] is not None and _MODE_DIMS[mode] != dims):
        want = {1: "3-d", 2: "4-d", 3: "5-d"}.get(_MODE_DIMS[mode], "3-d, 4-d or 5-d")
        raise ShapeError(f"interpolate: mode {mode!r} needs {want} input (N, C, *spatial), got shape {shape}")
    if input.dtype.kind != "f":
        raise TypeError(f"interpolate: expected a floating-point input, got dtype {input.dtype}")
    if antialias and (mode not in ("bilinear", "bicubic") or dims != 2):
        raise ShapeError(f"interpolate: anti-alias option is restricted to bilinear and bicubic modes and requires "
                         f"a 4-d input, got mode {mode!r} and shape {shape}")
    if mode in ("nearest", "nearest-exact", "area"):
        if align_corners is not None:
            raise ShapeError("interpolate: align_corners option can only be set with the interpolating modes: "
                             "linear | bilinear | bicubic | trilinear")
        align_corners = False
    elif align_corners is None:
        align_corners = False
    if (size is None) == (scale_factor is None):
        raise ShapeError("interpolate: exactly one of size and scale_factor must be given, got "
                         f"size={size!r}, scale_factor={scale_factor!r}")
    in_sizes = shape[2:]
    if size is not None:
        out_sizes = tuple(int(s) for s in _per_axis(shape, size, dims, "size"))
        scales = (None,) * dims
    else:
        scales = tuple(float(s) for s in _per_axis(shape, scale_factor, dims, "scale_factor"))
        if min(scales) <= 0:
            raise ShapeError(f"interpolate: scale_factor {scale_factor} must be positive")
        out_sizes = tuple(int(math.floor(float(n) * s)) for n, s in zip(in_sizes, scales))
        if recompute_scale_factor:
            scales = (None,) * dims
    if min(out_sizes) < 1 or min(in_sizes) < 1:
        raise ShapeError(f"interpolate: input spatial size {in_sizes} and output size {out_sizes} must be positive")
    ftype = np.float32 if input.dtype == np.float32 else np.float64
    out = input
    for a in range(dims):
        if out_sizes[a] == in_sizes[a] and scales[a] in (None, 1.0):
            continue  # every mode maps this axis onto itself
        m = _axis_matrix(mode, in_sizes[a], out_sizes[a], align_corners, scales[a], ftype, antialias)
        mt = Tensor(np.ascontiguousarray(m.T).astype(input.dtype))
        axis = 2 + a
        if axis == out.ndim - 1:
            out = out @ mt
        else:
            out = (out.swapaxes(axis, -1) @ mt).swapaxes(axis, -1)
    return out


def _factor(name, what, value):
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ShapeError(f"{name}: {what} must be a positive int, got {value!r}")
    return int(value)


def pixel_shuffle(input, upscale_factor):
    """Rearrange ``(*, C r^2, H, W)`` to ``(*, C, H r, W r)``: channel ``c r^2 + i r + j`` goes to pixel (i, j).

    Shape:
        ``(*, C r^2, H, W) -> (*, C, H r, W r)``.
    """
    input = _t(input)
    r = _factor("pixel_shuffle", "upscale_factor", upscale_factor)
    shape = tuple(input.shape)
    if len(shape) < 3 or shape[-3] % (r * r):
        raise ShapeError(f"pixel_shuffle: expected an input (*, C*r^2, H, W) whose channels divide by "
                         f"upscale_factor^2 = {r * r}, got shape {shape}")
    lead, (c, h, w) = shape[:-3], shape[-3:]
    k = len(lead)
    x = input.reshape(lead + (c // (r * r), r, r, h, w))
    x = x.permute(tuple(range(k)) + (k, k + 3, k + 1, k + 4, k + 2))
    return x.reshape(lead + (c // (r * r), h * r, w * r))


def pixel_unshuffle(input, downscale_factor):
    """Inverse of ``pixel_shuffle``: ``(*, C, H r, W r)`` to ``(*, C r^2, H, W)``.

    Shape:
        ``(*, C, H r, W r) -> (*, C r^2, H, W)``.
    """
    input = _t(input)
    r = _factor("pixel_unshuffle", "downscale_factor", downscale_factor)
    shape = tuple(input.shape)
    if len(shape) < 3 or shape[-2] % r or shape[-1] % r:
        raise ShapeError(f"pixel_unshuffle: expected an input (*, C, H, W) with H and W divisible by "
                         f"downscale_factor = {r}, got shape {shape}")
    lead, (c, h, w) = shape[:-3], shape[-3:]
    k = len(lead)
    x = input.reshape(lead + (c, h // r, r, w // r, r))
    x = x.permute(tuple(range(k)) + (k, k + 2, k + 4, k + 1, k + 3))
    return x.reshape(lead + (c * r * r, h // r, w // r))
