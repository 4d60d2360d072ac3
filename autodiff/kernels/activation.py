"""ReLU and sigmoid, forward and backward, in one pass each (ndarrays only).

numpy needs two passes and a temporary for the backward (``g * (x > 0)``: a bool mask, then a
multiply that casts it); for the activations of a conv layer (LeNet's first: 737,280 floats per batch
of 64) one fused loop is several times faster. The ops in ``autodiff/ops`` call these for large
contiguous float arrays and keep numpy for the rest (small arrays, where the call costs more than the
loop, and Tensors under ``create_graph``).

Semantics (as ``np.maximum(x, 0)`` and PyTorch's ``threshold_backward``): NaN propagates forward,
``-0.0`` becomes ``+0.0``; the gradient is ``g`` where ``x > 0`` and exactly 0 elsewhere (also where
``g`` is inf or NaN, which a multiply by 0 would turn into NaN).

Sigmoid uses ``vmath.vsigmoid`` (vectorisable, about 1 ulp from the exact value, finite for any
input, NaN propagates); its backward is ``g * s * (1 - s)`` from the saved output ``s``. ``sigmoid``
is the logistic function on arrays of any size and layout; it is always this kernel (a numba call
costs less than numpy's several passes of a stable formula, even on small arrays).

Shape: ``x``, ``g``: any shape, C-contiguous, same dtype (float32 or float64); outputs like ``x``.
"""
import numpy as np

from .jit import njit_serial
from .vmath import vsigmoid

__all__ = ["relu_forward", "relu_backward", "sigmoid", "sigmoid_forward", "sigmoid_backward", "fits_kernel",
           "fits_kernel_pair", "KERNEL_MIN_SIZE"]

#: arrays with fewer elements use numpy (measured crossover about 4,000 elements; kept well above)
KERNEL_MIN_SIZE = 16384
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def fits_kernel(x):
    """True for a large C-contiguous float32/float64 ndarray: worth a one-pass kernel."""
    return (type(x) is np.ndarray and x.size >= KERNEL_MIN_SIZE and x.dtype in _FLOATS
            and x.flags.c_contiguous)


def fits_kernel_pair(g, x):
    """``fits_kernel`` for both, with the same shape and dtype (the backward kernels' inputs)."""
    return fits_kernel(g) and fits_kernel(x) and g.dtype == x.dtype and g.shape == x.shape


def _map1(kernel, x):
    out = np.empty_like(x)
    kernel(x.reshape(-1), out.reshape(-1))
    return out


def _map2(kernel, g, x):
    out = np.empty_like(g)
    kernel(g.reshape(-1), x.reshape(-1), out.reshape(-1))
    return out


@njit_serial
def _relu_fwd(x, out):
    for i in range(x.size):
        v = x[i]
        if v > 0 or v != v:
            out[i] = v
        else:
            out[i] = 0


@njit_serial
def _relu_bwd(g, x, out):
    for i in range(x.size):
        if x[i] > 0:
            out[i] = g[i]
        else:
            out[i] = 0


def relu_forward(x):
    """``max(x, 0)`` of a C-contiguous float array, in one pass."""
    return _map1(_relu_fwd, x)


def relu_backward(g, x):
    """``g`` where ``x > 0`` else 0; ``g`` and ``x`` C-contiguous, same shape and dtype."""
    return _map2(_relu_bwd, g, x)


@njit_serial
def _sigmoid_fwd(x, out):
    for i in range(x.size):
        out[i] = vsigmoid(x[i])


@njit_serial
def _sigmoid_bwd(g, s, out):
    one = s.dtype.type(1)
    for i in range(s.size):
        v = s[i]
        out[i] = g[i] * v * (one - v)


def sigmoid_forward(x):
    """``1 / (1 + exp(-x))`` of a C-contiguous float array, in one pass."""
    return _map1(_sigmoid_fwd, x)


def sigmoid(x):
    """The logistic function ``1 / (1 + exp(-x))`` of any float array: the one definition the engine
    uses on arrays (``vmath.vsigmoid`` per element: finite for any input, NaN propagates).

    float16 is computed in float32 and returned as float16; other arrays are copied to a C-contiguous
    float32/float64 array first (a non-float array computes in float64).
    """
    x = np.asarray(x)
    dtype = x.dtype
    work = dtype if dtype in _FLOATS else np.dtype(np.float32 if dtype == np.float16 else np.float64)
    a = x if dtype is work and x.flags.c_contiguous else np.ascontiguousarray(x, dtype=work)
    out = _map1(_sigmoid_fwd, a)
    return out.astype(np.float16) if dtype == np.float16 else out


def sigmoid_backward(g, s):
    """``g * s * (1 - s)`` for the saved sigmoid output ``s`` (same shape and dtype as ``g``)."""
    return _map2(_sigmoid_bwd, g, s)
