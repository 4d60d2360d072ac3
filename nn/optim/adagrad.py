"""Adagrad: per-weight learning rates from the sum of squared gradients."""

from __future__ import annotations

import numpy as np

from .optimizer import Optimizer

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad, as ``torch.optim.Adagrad``.

    Each weight's step shrinks with the sum of its squared gradients, so rarely updated
    weights keep larger steps (the course: "the smaller the derivative, the larger the
    learning rate"; its weakness is that the sum only grows, so steps fade to nothing)::

        lr_t = lr / (1 + (t - 1) * lr_decay)
        G = G + g * g
        w = w - lr_t * g / (sqrt(G) + eps)

    Args:
        params: parameters or parameter groups.
        lr: learning rate.
        lr_decay: learning rate decay per step.
        weight_decay: L2 penalty coefficient added to the gradient.
        initial_accumulator_value: starting value of G.
        eps: added to the denominator for numerical stability.
        maximize: ascend instead of descend.
    """

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10, *,
                 maximize: bool = False):
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, group):
        super()._check_group(group)
        if not group["lr_decay"] >= 0.0:
            raise ValueError(f"Adagrad: invalid lr_decay value {group['lr_decay']}")
        if not group["initial_accumulator_value"] >= 0.0:
            raise ValueError(f"Adagrad: invalid initial_accumulator_value "
                             f"{group['initial_accumulator_value']}")
        if not group["eps"] >= 0.0:
            raise ValueError(f"Adagrad: invalid epsilon value {group['eps']}")

    def _init_state(self, p, group):
        return {"step": 0, "sum": np.full_like(p.data, group["initial_accumulator_value"])}

    def _update(self, p, grad, state, group):
        state["step"] += 1
        g = self._effective_grad(p, grad, group)
        clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        s = state["sum"]
        tmp = np.multiply(g, g, out=self._buffer(p, 1))
        s += tmp
        std = np.sqrt(s, out=tmp)
        std += group["eps"]
        step = np.divide(np.multiply(g, clr, out=self._buffer(p, 2)), std, out=std)
        np.subtract(p.data, step, out=p.data)
