"""RMSprop: divide the step by a running root mean square of recent gradients."""

from __future__ import annotations

import numpy as np

from .optimizer import Optimizer

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop, as ``torch.optim.RMSprop``.

    Like Adagrad, but the sum of squared gradients is replaced by a decaying average, so the
    learning rate does not fade away::

        v = alpha * v + (1 - alpha) * g^2
        m = alpha * m + (1 - alpha) * g                  (centered only)
        a = sqrt(v - m^2) + eps   if centered   else   sqrt(v) + eps
        b = momentum * b + g / a;  w = w - lr * b        (momentum > 0)
        w = w - lr * g / a                                (otherwise)

    Args:
        params: parameters or parameter groups.
        lr: learning rate.
        alpha: smoothing constant of the running average.
        eps: added to the denominator.
        weight_decay: L2 penalty coefficient added to the gradient.
        momentum: momentum factor.
        centered: normalise by the estimated variance of the gradient instead.
        maximize: ascend instead of descend.
    """

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False, *,
                 maximize: bool = False):
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                        centered=centered, maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, group):
        super()._check_group(group)
        if not group["alpha"] >= 0.0:
            raise ValueError(f"RMSprop: invalid alpha value {group['alpha']}")
        if not group["eps"] >= 0.0:
            raise ValueError(f"RMSprop: invalid epsilon value {group['eps']}")
        if not group["momentum"] >= 0.0:
            raise ValueError(f"RMSprop: invalid momentum value {group['momentum']}")

    def _init_state(self, p, group):
        state = {"step": 0, "square_avg": np.zeros_like(p.data)}
        if group["momentum"] > 0:
            state["momentum_buffer"] = np.zeros_like(p.data)
        if group["centered"]:
            state["grad_avg"] = np.zeros_like(p.data)
        return state

    def _update(self, p, grad, state, group):
        state["step"] += 1
        alpha = group["alpha"]
        g = self._effective_grad(p, grad, group)
        sq = state["square_avg"]
        tmp = self._buffer(p, 1)
        sq *= alpha
        tmp = np.multiply(g, 1 - alpha, out=tmp)  # PyTorch's addcmul order: (value * g) * g
        tmp *= g
        sq += tmp
        if group["centered"]:
            if "grad_avg" not in state:
                state["grad_avg"] = np.zeros_like(p.data)
            ga = state["grad_avg"]
            ga += np.multiply(np.subtract(g, ga, out=tmp), 1 - alpha, out=tmp)  # lerp toward g
            avg = np.subtract(sq, np.multiply(ga, ga, out=tmp), out=tmp)
            np.sqrt(avg, out=avg)
        else:
            avg = np.sqrt(sq, out=tmp)
        avg += group["eps"]
        if group["momentum"] > 0:
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = np.zeros_like(p.data)
            buf = state["momentum_buffer"]
            buf *= group["momentum"]
            buf += np.divide(g, avg, out=avg)
            step = np.multiply(buf, group["lr"], out=tmp)
        else:
            step = np.divide(np.multiply(g, group["lr"], out=self._buffer(p, 2)), avg, out=avg)
        np.subtract(p.data, step, out=p.data)
