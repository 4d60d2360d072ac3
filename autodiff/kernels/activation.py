"""ReLU forward and backward in one pass each (ndarrays only).

numpy needs two passes and a temporary for the backward (``g * (x > 0)``: a bool mask, then a
multiply that casts it); for the activations of a conv layer (LeNet's first: 737,280 floats per batch
of 64) one fused loop is several times faster. The ops in ``autodiff/ops`` call these for large
contiguous float arrays and keep numpy for the rest (small arrays, where the call costs more than the
loop, and Tensors under ``create_graph``).

Semantics (as ``np.maximum(x, 0)`` and PyTorch's ``threshold_backward``): NaN propagates forward,
``-0.0`` becomes ``+0.0``; the gradient is ``g`` where ``x > 0`` and exactly 0 elsewhere (also where
``g`` is inf or NaN, which a multiply by 0 would turn into NaN).

Shape: ``x``, ``g``: any shape, C-contiguous, same dtype (float32 or float64); outputs like ``x``.
"""
import numpy as np

from .jit import njit_serial

__all__ = ["relu_forward", "relu_backward", "RELU_KERNEL_MIN_SIZE"]

#: arrays with fewer elements use numpy (measured crossover about 4,000 elements; kept well above)
RELU_KERNEL_MIN_SIZE = 16384


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
    out = np.empty_like(x)
    _relu_fwd(x.reshape(-1), out.reshape(-1))
    return out


def relu_backward(g, x):
    """``g`` where ``x > 0`` else 0; ``g`` and ``x`` C-contiguous, same shape and dtype."""
    out = np.empty_like(g)
    _relu_bwd(g.reshape(-1), x.reshape(-1), out.reshape(-1))
    return out
