"""Adamax, NAdam and RAdam: Adam's relatives, with ``torch.optim``'s update rules and defaults."""

from __future__ import annotations

import math

import numpy as np

from .optimizer import Optimizer

__all__ = ["Adamax", "NAdam", "RAdam"]


def _check_betas_eps(opt, group):
    """Optimizer's checks plus betas in [0, 1) and eps >= 0, each error naming the optimizer."""
    Optimizer._check_group(opt, group)
    b1, b2 = group["betas"]
    if not 0.0 <= b1 < 1.0 or not 0.0 <= b2 < 1.0:
        raise ValueError(f"{type(opt).__name__}: invalid betas {tuple(group['betas'])}; each must be in [0, 1)")
    if not group["eps"] >= 0.0:
        raise ValueError(f"{type(opt).__name__}: invalid epsilon value {group['eps']}")


def _decayed_grad(opt, p, grad, group):
    """The gradient a step uses: negated when maximizing; the weight decay either shrinks the weights
    directly (``decoupled_weight_decay``, as AdamW) or is added to the gradient as an L2 term."""
    wd = group["weight_decay"]
    if group.get("decoupled_weight_decay") and wd:
        p.data *= 1 - group["lr"] * wd
        return -grad if group["maximize"] else grad
    return opt._effective_grad(p, grad, group)


class Adamax(Optimizer):
    """Adamax, as ``torch.optim.Adamax``: Adam with the infinity norm in place of the second moment::

        m = beta1 * m + (1 - beta1) * g
        u = max(beta2 * u, |g| + eps)
        w = w - lr / (1 - beta1^t) * m / u

    Args:
        params: parameters or parameter groups.
        lr: learning rate (PyTorch's default 2e-3).
        betas: decay rates (beta1, beta2) of the moment and of the infinity norm.
        eps: added to |g| before the maximum.
        weight_decay: L2 penalty coefficient added to the gradient.
        maximize: ascend instead of descend.
    """

    def __init__(self, params, lr: float = 2e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, *, maximize: bool = False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      maximize=maximize))

    _check_group = _check_betas_eps

    def _init_state(self, p, group):
        return {"step": 0, "exp_avg": np.zeros_like(p.data), "exp_inf": np.zeros_like(p.data)}

    def _update(self, p, grad, state, group):
        state["step"] += 1
        beta1, beta2 = group["betas"]
        g = self._effective_grad(p, grad, group)
        m, u = state["exp_avg"], state["exp_inf"]
        m += (g - m) * (1 - beta1)
        np.maximum(u * beta2, np.abs(g) + group["eps"], out=u)
        clr = group["lr"] / (1 - beta1 ** state["step"])
        p.data -= clr * m / u


class NAdam(Optimizer):
    """NAdam, as ``torch.optim.NAdam``: Adam with Nesterov momentum and a momentum schedule::

        mu_t = beta1 * (1 - 0.5 * 0.96^(t * momentum_decay))
        w = w - lr (1 - mu_t) / (1 - prod mu) * g / d - lr mu_{t+1} / (1 - prod mu * mu_{t+1}) * m / d
        with d = sqrt(v / (1 - beta2^t)) + eps

    Args:
        params: parameters or parameter groups.
        lr: learning rate (PyTorch's default 2e-3).
        betas: decay rates of the two moment estimates.
        eps: added to the denominator.
        weight_decay: L2 penalty (or decoupled decay with ``decoupled_weight_decay``).
        momentum_decay: psi of the momentum schedule.
        decoupled_weight_decay: shrink the weights directly, as AdamW.
        maximize: ascend instead of descend.
    """

    def __init__(self, params, lr: float = 2e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum_decay: float = 4e-3, decoupled_weight_decay: bool = False,
                 *, maximize: bool = False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay,
                                      decoupled_weight_decay=decoupled_weight_decay, maximize=maximize))

    def _check_group(self, group):
        _check_betas_eps(self, group)
        if not group["momentum_decay"] >= 0.0:
            raise ValueError(f"NAdam: invalid momentum_decay value {group['momentum_decay']}")

    def _init_state(self, p, group):
        return {"step": 0, "mu_product": 1.0, "exp_avg": np.zeros_like(p.data),
                "exp_avg_sq": np.zeros_like(p.data)}

    def _update(self, p, grad, state, group):
        state["step"] += 1
        t = state["step"]
        lr, eps, psi = group["lr"], group["eps"], group["momentum_decay"]
        beta1, beta2 = group["betas"]
        g = _decayed_grad(self, p, grad, group)
        mu = beta1 * (1 - 0.5 * 0.96 ** (t * psi))
        mu_next = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
        state["mu_product"] *= mu
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m += (g - m) * (1 - beta1)
        v *= beta2
        v += (1 - beta2) * g * g
        denom = np.sqrt(v / (1 - beta2 ** t)) + eps
        p.data -= lr * (1 - mu) / (1 - state["mu_product"]) * g / denom
        p.data -= lr * mu_next / (1 - state["mu_product"] * mu_next) * m / denom


class RAdam(Optimizer):
    """RAdam, as ``torch.optim.RAdam``: Adam whose adaptive step is switched on, and rectified, once the
    variance of the second-moment estimate is tractable (rho_t > 5); before that, SGD with momentum.

    Args:
        params: parameters or parameter groups.
        lr: learning rate.
        betas: decay rates of the two moment estimates.
        eps: added to the denominator.
        weight_decay: L2 penalty (or decoupled decay with ``decoupled_weight_decay``).
        decoupled_weight_decay: shrink the weights directly, as AdamW.
        maximize: ascend instead of descend.
    """

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, decoupled_weight_decay: bool = False, *, maximize: bool = False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      decoupled_weight_decay=decoupled_weight_decay, maximize=maximize))

    _check_group = _check_betas_eps

    def _init_state(self, p, group):
        return {"step": 0, "exp_avg": np.zeros_like(p.data), "exp_avg_sq": np.zeros_like(p.data)}

    def _update(self, p, grad, state, group):
        state["step"] += 1
        t = state["step"]
        lr, eps = group["lr"], group["eps"]
        beta1, beta2 = group["betas"]
        g = _decayed_grad(self, p, grad, group)
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m += (g - m) * (1 - beta1)
        v *= beta2
        v += (1 - beta2) * g * g
        bc2 = 1 - beta2 ** t
        corrected = m / (1 - beta1 ** t)
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * t * beta2 ** t / bc2
        if rho_t > 5:
            rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            p.data -= corrected * lr * (math.sqrt(bc2) / (np.sqrt(v) + eps)) * rect
        else:
            p.data -= corrected * lr
