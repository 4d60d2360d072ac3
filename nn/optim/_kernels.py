"""Fused Numba loops for the two most used optimizers (one pass over memory per parameter).

numpy needs several passes (``lr * g`` into a buffer, then ``p -= buffer``...); these loops
read each gradient element once and update the parameter and its state in place. They
follow PyTorch's formulas operation by operation. Options are turned into coefficients
outside the loop (``maximize`` -> ``gsign = -1``, no weight decay -> ``wd = 0``...) so the
loops have no branches and vectorise; the scalars are given in the parameter's dtype, so a
float32 parameter is updated in float32 arithmetic, as a float32 tensor op would.
Used only for C-contiguous float32/float64 arrays of one dtype; everything else takes the
numpy path. Set ``ENABLED = False`` to force the numpy path (the tests compare the two).
"""

from __future__ import annotations

import numpy as np

from autodiff.kernels.jit import njit_serial

__all__ = ["ENABLED", "usable", "no_state", "sgd", "sgd_momentum", "adam", "adam_amsgrad"]

ENABLED = True
_NO_STATE = {np.dtype(np.float32): np.empty(0, np.float32), np.dtype(np.float64): np.empty(0, np.float64)}


def no_state(dtype) -> np.ndarray:
    """An empty array of ``dtype`` passed for state that a step does not use."""
    dtype = np.dtype(dtype)
    return _NO_STATE[dtype] if dtype in _NO_STATE else np.empty(0, dtype)


def usable(*arrays) -> bool:
    """Whether the fused loops can take these arrays (same float dtype, C-contiguous, writeable)."""
    if not ENABLED:
        return False
    dtype = arrays[0].dtype
    if dtype != np.float32 and dtype != np.float64:
        return False
    for a in arrays:
        if a.dtype != dtype or not a.flags.c_contiguous:
            return False
    return arrays[0].flags.writeable


# The loops take 1-d arrays: the wrappers pass flat views of the (C-contiguous) parameters, so each
# loop is compiled once per dtype, not once per number of dimensions (fewer compilations in the
# first training step of a fresh process).
def sgd(p, g, lr, gsign, wd):
    """``p -= lr * (gsign * g + wd * p)`` in place."""
    _sgd(p.reshape(-1), g.reshape(-1), lr, gsign, wd)


def sgd_momentum(p, g, b, *coefficients):
    """Momentum SGD in place (see :func:`_sgd_momentum`)."""
    _sgd_momentum(p.reshape(-1), g.reshape(-1), b.reshape(-1), *coefficients)


def adam(p, g, m, v, *coefficients):
    """One Adam/AdamW step in place (see :func:`_adam`)."""
    _adam(p.reshape(-1), g.reshape(-1), m.reshape(-1), v.reshape(-1), *coefficients)


def adam_amsgrad(p, g, m, v, vmax, *coefficients):
    """One AMSGrad step in place (see :func:`_adam_amsgrad`)."""
    _adam_amsgrad(p.reshape(-1), g.reshape(-1), m.reshape(-1), v.reshape(-1), vmax.reshape(-1), *coefficients)


@njit_serial
def _sgd(p, g, lr, gsign, wd):
    """``p -= lr * (gsign * g + wd * p)`` in place."""
    for i in range(p.shape[0]):
        pi = p[i]
        p[i] = pi - lr * (gsign * g[i] + wd * pi)


@njit_serial
def _sgd_momentum(p, g, b, lr, gsign, wd, momentum, damp, cd, cb):
    """Momentum SGD in place: ``d = gsign*g + wd*p; b = momentum*b + damp*d; p -= lr*(cd*d + cb*b)``.

    Plain momentum is cd=0, cb=1; Nesterov is cd=1, cb=momentum; the first step is
    momentum=0, damp=1 on a zeroed buffer (``b = d``).
    """
    for i in range(p.shape[0]):
        pi = p[i]
        d = gsign * g[i] + wd * pi
        bi = momentum * b[i] + damp * d
        b[i] = bi
        p[i] = pi - lr * (cd * d + cb * bi)


@njit_serial
def _adam(p, g, m, v, gsign, wd, shrink, one_minus_beta1, beta2, one_minus_beta2, step_size,
         bc2_sqrt, eps):
    """One Adam/AdamW step in place (``shrink`` = 1 - lr*wd for AdamW, else 1 with wd the L2 term)."""
    for i in range(p.shape[0]):
        pi = p[i] * shrink
        gi = gsign * g[i] + wd * pi
        mi = m[i] + one_minus_beta1 * (gi - m[i])
        vi = v[i] * beta2 + one_minus_beta2 * gi * gi
        m[i] = mi
        v[i] = vi
        p[i] = pi - step_size * mi / (np.sqrt(vi) / bc2_sqrt + eps)


@njit_serial
def _adam_amsgrad(p, g, m, v, vmax, gsign, wd, shrink, one_minus_beta1, beta2, one_minus_beta2,
                 step_size, bc2_sqrt, eps):
    """:func:`_adam` with AMSGrad: the denominator uses the running maximum ``vmax`` of v."""
    for i in range(p.shape[0]):
        pi = p[i] * shrink
        gi = gsign * g[i] + wd * pi
        mi = m[i] + one_minus_beta1 * (gi - m[i])
        vi = v[i] * beta2 + one_minus_beta2 * gi * gi
        m[i] = mi
        v[i] = vi
        vm = max(vmax[i], vi)
        vmax[i] = vm
        p[i] = pi - step_size * mi / (np.sqrt(vm) / bc2_sqrt + eps)
