"""Adam and AdamW: momentum plus RMSprop-style scaling, with bias correction."""

from __future__ import annotations

import math

import numpy as np

from . import _kernels
from .optimizer import Optimizer

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    """Adam, as ``torch.optim.Adam`` (``weight_decay`` is an L2 term added to the gradient).

    Running averages of the gradient ``m`` (first moment) and of its square ``v`` (second
    moment), corrected for their zero start, give the step at step t::

        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g^2
        v_max = max(v_max, v)                           (amsgrad; then v_max replaces v)
        w = w - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    Args:
        params: parameters or parameter groups.
        lr: learning rate.
        betas: decay rates (beta1, beta2) of the two moment estimates.
        eps: added to the denominator.
        weight_decay: L2 penalty coefficient added to the gradient.
        amsgrad: use the running maximum of v (AMSGrad).
        maximize: ascend instead of descend.
    """

    _decoupled = False

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, *, maximize: bool = False):
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, group):
        super()._check_group(group)
        b1, b2 = group["betas"]
        if not 0.0 <= b1 < 1.0 or not 0.0 <= b2 < 1.0:
            raise ValueError(f"{type(self).__name__}: invalid betas {tuple(group['betas'])}; "
                             f"each must be in [0, 1)")
        if not group["eps"] >= 0.0:
            raise ValueError(f"{type(self).__name__}: invalid epsilon value {group['eps']}")

    def _init_state(self, p, group):
        state = {"step": 0, "exp_avg": np.zeros_like(p.data), "exp_avg_sq": np.zeros_like(p.data)}
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = np.zeros_like(p.data)
        return state

    def _update(self, p, grad, state, group):
        state["step"] += 1
        t = state["step"]
        lr, eps = group["lr"], group["eps"]
        beta1, beta2 = group["betas"]
        wd = group["weight_decay"]
        if group["amsgrad"] and "max_exp_avg_sq" not in state:
            state["max_exp_avg_sq"] = np.zeros_like(p.data)
        vmax = state["max_exp_avg_sq"] if group["amsgrad"] else _kernels.no_state(p.data.dtype)
        if _kernels.usable(p.data, grad, state["exp_avg"], state["exp_avg_sq"], vmax):
            f = p.data.dtype.type  # scalars in the parameter's precision
            args = (f(-1.0 if group["maximize"] else 1.0),
                    f(0.0 if self._decoupled else wd),          # L2 term added to the gradient
                    f(1.0 - lr * wd if self._decoupled else 1.0),  # AdamW's decoupled shrink
                    f(1.0 - beta1), f(beta2), f(1.0 - beta2),
                    f(lr / (1 - beta1 ** t)), f(math.sqrt(1 - beta2 ** t)), f(eps))
            if group["amsgrad"]:
                _kernels.adam_amsgrad(p.data, grad, state["exp_avg"], state["exp_avg_sq"], vmax, *args)
            else:
                _kernels.adam(p.data, grad, state["exp_avg"], state["exp_avg_sq"], *args)
            return
        if self._decoupled:
            if wd:
                p.data *= 1 - lr * wd
            g = grad if not group["maximize"] else np.negative(grad, out=self._buffer(p, 0))
        else:
            g = self._effective_grad(p, grad, group)
        m, v = state["exp_avg"], state["exp_avg_sq"]
        tmp = self._buffer(p, 1)
        m += np.multiply(np.subtract(g, m, out=tmp), 1 - beta1, out=tmp)  # lerp toward g
        v *= beta2
        tmp = np.multiply(g, 1 - beta2, out=tmp)  # PyTorch's addcmul order: (value * g) * g
        tmp *= g
        v += tmp
        step_size = lr / (1 - beta1 ** t)
        bc2_sqrt = math.sqrt(1 - beta2 ** t)
        if group["amsgrad"]:
            if "max_exp_avg_sq" not in state:
                state["max_exp_avg_sq"] = np.zeros_like(p.data)
            vmax = state["max_exp_avg_sq"]
            np.maximum(vmax, v, out=vmax)
            v = vmax
        denom = np.sqrt(v, out=tmp)
        denom /= bc2_sqrt
        denom += eps
        step = np.multiply(m, step_size, out=self._buffer(p, 2))  # addcdiv order: (value * m) / d
        step /= denom
        np.subtract(p.data, step, out=p.data)


class AdamW(Adam):
    """AdamW, as ``torch.optim.AdamW``: Adam with decoupled weight decay.

    The weights shrink directly, ``w = w * (1 - lr * weight_decay)``, before the Adam step,
    instead of adding ``weight_decay * w`` to the gradient (which Adam's scaling would distort).

    Args:
        params: parameters or parameter groups.
        lr: learning rate.
        betas: decay rates of the two moment estimates.
        eps: added to the denominator.
        weight_decay: decoupled weight decay coefficient (PyTorch's default 1e-2).
        amsgrad: use the running maximum of the second moment.
        maximize: ascend instead of descend.
    """

    _decoupled = True

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize)
