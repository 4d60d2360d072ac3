"""GELU (exact and tanh form) and its derivative, one pass each (ndarrays only).

exact: y = x Phi(x), Phi(x) = (1 + erf(x / sqrt 2)) / 2, dy/dx = Phi(x) + x phi(x),
phi(x) = exp(-x^2 / 2) / sqrt(2 pi).
tanh:  y = x (1 + tanh(u)) / 2, u = sqrt(2 / pi) (x + 0.044715 x^3),
dy/dx = (1 + t) / 2 + x (1 - t^2) sqrt(2 / pi) (1 + 3 * 0.044715 x^2) / 2, t = tanh(u).

Shape: ``x``, ``g``: any shape, float32 or float64 (made C-contiguous); outputs like ``x``.
"""
import math

import numpy as np

from .jit import njit_parallel, njit_serial, prange, run_kernel
from .vmath import vtanh

__all__ = ["gelu_forward", "gelu_backward", "normal_cdf"]

_SQRT_HALF = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_C = 0.044715


def _fwd_exact(x, out):
    for i in prange(x.size):
        v = x[i]
        out[i] = 0.5 * v * (1.0 + math.erf(v * _SQRT_HALF))


def _bwd_exact(g, x, out):
    for i in prange(x.size):
        v = x[i]
        cdf = 0.5 * (1.0 + math.erf(v * _SQRT_HALF))
        out[i] = g[i] * (cdf + v * _INV_SQRT_2PI * math.exp(-0.5 * v * v))


def _fwd_tanh(x, out):
    one = x.dtype.type(1)
    half = x.dtype.type(0.5)
    k = x.dtype.type(_SQRT_2_OVER_PI)
    c = x.dtype.type(_C)
    for i in prange(x.size):
        v = x[i]
        out[i] = half * v * (one + vtanh(k * (v + c * v * v * v)))


def _bwd_tanh(g, x, out):
    one = x.dtype.type(1)
    half = x.dtype.type(0.5)
    k = x.dtype.type(_SQRT_2_OVER_PI)
    c = x.dtype.type(_C)
    c3 = x.dtype.type(3 * _C)
    for i in prange(x.size):
        v = x[i]
        t = vtanh(k * (v + c * v * v * v))
        out[i] = g[i] * (half * (one + t) + half * v * (one - t * t) * k * (one + c3 * v * v))


def _cdf(x, out):
    for i in prange(x.size):
        out[i] = 0.5 * (1.0 + math.erf(x[i] * _SQRT_HALF))


_KERNELS = {name: (njit_serial(fn), njit_parallel(fn)) for name, fn in
            [("fwd_none", _fwd_exact), ("bwd_none", _bwd_exact), ("fwd_tanh", _fwd_tanh),
             ("bwd_tanh", _bwd_tanh), ("cdf", _cdf)]}


def _flat(a):
    return np.ascontiguousarray(a).reshape(-1)


def _run(name, *arrays):
    serial, parallel = _KERNELS[name]
    x = arrays[-1]
    out = np.empty(x.shape, x.dtype)
    run_kernel(serial, parallel, x.size, *[_flat(a) for a in arrays], out.reshape(-1))
    return out


def _check(x, approximate):
    if x.dtype not in (np.float32, np.float64):
        raise TypeError(f"gelu: expected a float32 or float64 array, got {x.dtype}")
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def gelu_forward(x, approximate="none"):
    """GELU of a float array (``approximate`` 'none': x Phi(x); 'tanh': the tanh approximation)."""
    _check(x, approximate)
    return _run("fwd_" + approximate, x)


def gelu_backward(g, x, approximate="none"):
    """``g * d gelu(x) / dx``; ``g`` is cast to ``x``'s dtype and shape must match."""
    _check(x, approximate)
    return _run("bwd_" + approximate, g.astype(x.dtype, copy=False), x)


def normal_cdf(x):
    """Phi(x) = (1 + erf(x / sqrt 2)) / 2 of a float32/float64 array."""
    _check(x, "none")
    return _run("cdf", x)
