"""Fused Numba loops for the two most used optimizers (one pass over memory per parameter).

numpy needs several passes (``lr * g`` into a buffer, then ``p -= buffer``...); these loops
read each gradient element once and update the parameter (and its state) in place. They
follow PyTorch's formulas operation by operation; scalars are float64, so float32 results
may differ from a step made of separate float32 operations in the last bit. Used only for
C-contiguous float32/float64 arrays of one dtype; everything else takes the numpy path.
Set ``ENABLED = False`` to force the numpy path (tests compare the two).
"""

from __future__ import annotations

import math

import numpy as np

from autodiff.kernels.jit import njit_serial

__all__ = ["ENABLED", "usable", "no_state", "sgd_step", "adam_step"]

ENABLED = True
_NO_STATE = {np.dtype(np.float32): np.empty(0, np.float32), np.dtype(np.float64): np.empty(0, np.float64)}


def no_state(dtype) -> np.ndarray:
    """An empty array of ``dtype`` passed for state that a step does not use."""
    return _NO_STATE.get(np.dtype(dtype)) if np.dtype(dtype) in _NO_STATE else np.empty(0, dtype)


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
def sgd_step(p, g, buf, lr, weight_decay, momentum, dampening, nesterov, maximize, first):
    """One SGD step in place on ``p`` (and the momentum buffer ``buf``, unused if momentum == 0)."""
    pf = p.reshape(-1)
    gf = g.reshape(-1)
    bf = buf.reshape(-1)
    for i in range(pf.shape[0]):
        d = -gf[i] if maximize else gf[i]
        if weight_decay != 0.0:
            d = d + weight_decay * pf[i]
        if momentum != 0.0:
            if first:
                b = d
            else:
                b = momentum * bf[i] + (1.0 - dampening) * d
            bf[i] = b
            b = bf[i]  # continue with the stored (rounded) buffer, as a tensor op would
            if nesterov:
                d = d + momentum * b
            else:
                d = b
        pf[i] = pf[i] - lr * d


@njit_serial
def adam_step(p, g, m, v, vmax, lr, beta1, beta2, eps, weight_decay, decoupled, amsgrad,
              maximize, step_size, bc2_sqrt):
    """One Adam/AdamW step in place on ``p``, ``m``, ``v`` (and ``vmax`` when amsgrad)."""
    pf = p.reshape(-1)
    gf = g.reshape(-1)
    mf = m.reshape(-1)
    vf = v.reshape(-1)
    vmf = vmax.reshape(-1)
    shrink = 1.0 - lr * weight_decay
    for i in range(pf.shape[0]):
        gi = -gf[i] if maximize else gf[i]
        if weight_decay != 0.0:
            if decoupled:
                pf[i] = pf[i] * shrink
            else:
                gi = gi + weight_decay * pf[i]
        mf[i] = mf[i] + (1.0 - beta1) * (gi - mf[i])
        vf[i] = vf[i] * beta2 + (1.0 - beta2) * gi * gi
        vi = vf[i]
        if amsgrad:
            if vi > vmf[i]:
                vmf[i] = vi
            vi = vmf[i]
        denom = math.sqrt(vi) / bc2_sqrt + eps
        pf[i] = pf[i] - step_size * mf[i] / denom
