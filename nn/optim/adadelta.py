"""Adadelta: Adagrad's remedy, with decaying averages and no global learning rate needed."""

from __future__ import annotations

import numpy as np

from .optimizer import Optimizer

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """Adadelta, as ``torch.optim.Adadelta``.

    Keeps decaying averages of squared gradients ``E[g^2]`` and squared updates ``E[dx^2]``;
    the step is scaled by their ratio, so its units match the weights'::

        E[g^2]  = rho * E[g^2] + (1 - rho) * g^2
        dx      = sqrt(E[dx^2] + eps) / sqrt(E[g^2] + eps) * g
        E[dx^2] = rho * E[dx^2] + (1 - rho) * dx^2
        w       = w - lr * dx

    Args:
        params: parameters or parameter groups.
        lr: coefficient that scales dx (1.0 is the original algorithm).
        rho: decay rate of the running averages.
        eps: added inside the square roots.
        weight_decay: L2 penalty coefficient added to the gradient.
        maximize: ascend instead of descend.
    """

    def __init__(self, params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0.0, *, maximize: bool = False):
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, group):
        super()._check_group(group)
        if not 0.0 <= group["rho"] <= 1.0:
            raise ValueError(f"Adadelta: invalid rho value {group['rho']}")
        if not group["eps"] >= 0.0:
            raise ValueError(f"Adadelta: invalid epsilon value {group['eps']}")

    def _init_state(self, p, group):
        return {"step": 0, "square_avg": np.zeros_like(p.data), "acc_delta": np.zeros_like(p.data)}

    def _update(self, p, grad, state, group):
        state["step"] += 1
        rho, eps = group["rho"], group["eps"]
        g = self._effective_grad(p, grad, group)
        sq, acc = state["square_avg"], state["acc_delta"]
        tmp = self._buffer(p, 1)
        sq *= rho
        tmp = np.multiply(g, 1 - rho, out=tmp)  # PyTorch's addcmul order: (value * g) * g
        tmp *= g
        sq += tmp
        std = np.sqrt(np.add(sq, eps, out=tmp), out=tmp)
        delta = np.sqrt(np.add(acc, eps, out=self._buffer(p, 2)), out=self._buffer(p, 2))
        delta /= std
        delta *= g
        acc *= rho
        tmp = np.multiply(delta, 1 - rho, out=tmp)
        tmp *= delta
        acc += tmp
        delta *= group["lr"]
        np.subtract(p.data, delta, out=p.data)
