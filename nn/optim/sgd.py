"""Stochastic gradient descent with momentum and Nesterov momentum."""

from __future__ import annotations

import numpy as np

from . import _kernels
from .optimizer import Optimizer

__all__ = ["SGD"]


class SGD(Optimizer):
    """Gradient descent, optionally with (Nesterov) momentum, as ``torch.optim.SGD``.

    With gradient ``g`` (plus ``weight_decay * w``), velocity ``b`` and learning rate ``lr``::

        b = momentum * b + (1 - dampening) * g        (b = g on the first step)
        d = g + momentum * b   if nesterov   else   b  (d = g when momentum == 0)
        w = w - lr * d

    Nesterov momentum is the course's "look ahead": the step uses the gradient plus the
    velocity it is about to add.

    Args:
        params: parameters or parameter groups.
        lr: learning rate.
        momentum: momentum factor (0 disables it).
        dampening: dampening of the momentum (must be 0 for Nesterov).
        weight_decay: L2 penalty coefficient added to the gradient.
        nesterov: use Nesterov momentum.
        maximize: ascend instead of descend.
    """

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False, *, maximize: bool = False):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, group):
        super()._check_group(group)
        if not group["momentum"] >= 0.0:
            raise ValueError(f"SGD: invalid momentum value {group['momentum']}")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum and zero dampening "
                             f"(got momentum={group['momentum']}, dampening={group['dampening']})")

    def _init_state(self, p, group):
        return {}

    def _update(self, p, grad, state, group):
        lr, momentum = group["lr"], group["momentum"]
        if _kernels.usable(p.data, grad):
            f = p.data.dtype.type  # scalars in the parameter's precision
            gsign = f(-1.0 if group["maximize"] else 1.0)
            wd = f(group["weight_decay"])
            if not momentum:
                _kernels.sgd(p.data, grad, f(lr), gsign, wd)
                return
            buf = state.get("momentum_buffer")
            first = buf is None
            if first:
                buf = np.zeros_like(p.data)
            if _kernels.usable(p.data, buf):
                if first:
                    state["momentum_buffer"] = buf
                    mom_now, damp = f(0.0), f(1.0)  # b = d on the first step
                else:
                    mom_now, damp = f(momentum), f(1.0 - group["dampening"])
                cd, cb = (f(1.0), f(momentum)) if group["nesterov"] else (f(0.0), f(1.0))
                _kernels.sgd_momentum(p.data, grad, buf, f(lr), gsign, wd, mom_now, damp, cd, cb)
                return
        d = self._effective_grad(p, grad, group)
        if momentum:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.array(d, copy=True)
            else:
                buf *= momentum
                damp = 1.0 - group["dampening"]
                if damp == 1.0:
                    buf += d
                else:
                    buf += np.multiply(d, damp, out=self._buffer(p, 1))
            if group["nesterov"]:
                tmp = np.multiply(buf, momentum, out=self._buffer(p, 1))
                d = np.add(d, tmp, out=tmp)
            else:
                d = buf
        step = np.multiply(d, lr, out=self._buffer(p, 1))
        np.subtract(p.data, step, out=p.data)
