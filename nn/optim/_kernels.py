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


@njit_serial
def sgd(p, g, lr, gsign, wd):
    """``p -= lr * (gsign * g + wd * p)`` in place."""
    pf = p.reshape(-1)
    gf = g.reshape(-1)
    for i in range(pf.shape[0]):
        pi = pf[i]
        pf[i] = pi - lr * (gsign * gf[i] + wd * pi)


@njit_serial
def sgd_momentum(p, g, b, lr, gsign, wd, momentum, damp, cd, cb):
    """Momentum SGD in place: ``d = gsign*g + wd*p; b = momentum*b + damp*d; p -= lr*(cd*d + cb*b)``.

    Plain momentum is cd=0, cb=1; Nesterov is cd=1, cb=momentum; the first step is
    momentum=0, damp=1 on a zeroed buffer (``b = d``).
    """
    pf = p.reshape(-1)
    gf = g.reshape(-1)
    bf = b.reshape(-1)
    for i in range(pf.shape[0]):
        pi = pf[i]
        d = gsign * gf[i] + wd * pi
        bi = momentum * bf[i] + damp * d
        bf[i] = bi
        pf[i] = pi - lr * (cd * d + cb * bi)


@njit_serial
def adam(p, g, m, v, gsign, wd, shrink, one_minus_beta1, beta2, one_minus_beta2, step_size,
         bc2_sqrt, eps):
    """One Adam/AdamW step in place (``shrink`` = 1 - lr*wd for AdamW, else 1 with wd the L2 term)."""
    pf = p.reshape(-1)
    gf = g.reshape(-1)
    mf = m.reshape(-1)
    vf = v.reshape(-1)
    for i in range(pf.shape[0]):
        pi = pf[i] * shrink
        gi = gsign * gf[i] + wd * pi
        mi = mf[i] + one_minus_beta1 * (gi - mf[i])
        vi = vf[i] * beta2 + one_minus_beta2 * gi * gi
        mf[i] = mi
        vf[i] = vi
        pf[i] = pi - step_size * mi / (np.sqrt(vi) / bc2_sqrt + eps)


@njit_serial
def adam_amsgrad(p, g, m, v, vmax, gsign, wd, shrink, one_minus_beta1, beta2, one_minus_beta2,
                 step_size, bc2_sqrt, eps):
    """:func:`adam` with AMSGrad: the denominator uses the running maximum ``vmax`` of v."""
    pf = p.reshape(-1)
    gf = g.reshape(-1)
    mf = m.reshape(-1)
    vf = v.reshape(-1)
    vmf = vmax.reshape(-1)
    for i in range(pf.shape[0]):
        pi = pf[i] * shrink
        gi = gsign * gf[i] + wd * pi
        mi = mf[i] + one_minus_beta1 * (gi - mf[i])
        vi = vf[i] * beta2 + one_minus_beta2 * gi * gi
        mf[i] = mi
        vf[i] = vi
        vm = max(vmf[i], vi)
        vmf[i] = vm
        pf[i] = pi - step_size * mi / (np.sqrt(vm) / bc2_sqrt + eps)
