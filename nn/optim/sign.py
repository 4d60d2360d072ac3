"""Sign-of-gradient updates: the course's remedy for exploding and vanishing gradients.

The course (lecture on vanishing/exploding gradients): clipping bounds the step,
``dw ~ max(-D0, min(D0, dE/dw))``, and *using only the sign of the gradient*,
``dw ~ sign(dE/dw)``, avoids both exploding and vanishing gradients, since the step no
longer depends on the gradient's magnitude. :class:`SignSGD` is that rule with a fixed step;
:class:`Rprop` (``torch.optim.Rprop``) is its classic adaptive form, with one step size per
weight that grows while the sign stays the same and shrinks when it flips.
"""

from __future__ import annotations

import numpy as np

from .optimizer import Optimizer

__all__ = ["SignSGD", "Rprop"]


class SignSGD(Optimizer):
    """Step every weight by ``lr`` against the sign of its gradient: ``w = w - lr * sign(g)``.

    With ``momentum > 0`` the sign is taken of a running average of the gradients
    (``b = momentum * b + (1 - momentum) * g``; "signum"), which smooths out noisy mini-batch
    signs. ``g`` includes ``weight_decay * w``. A zero gradient gives no step.

    Args:
        params: parameters or parameter groups.
        lr: the fixed step size.
        momentum: averaging factor of the gradient before taking its sign (0: plain sign).
        weight_decay: L2 penalty coefficient added to the gradient.
        maximize: ascend instead of descend.
    """

    def __init__(self, params, lr: float = 1e-2, momentum: float = 0.0, weight_decay: float = 0.0,
                 *, maximize: bool = False):
        defaults = dict(lr=lr, momentum=momentum, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, group):
        super()._check_group(group)
        if not 0.0 <= group["momentum"] < 1.0:
            raise ValueError(f"SignSGD: invalid momentum value {group['momentum']}; must be in [0, 1)")

    def _init_state(self, p, group):
        return {"step": 0}

    def _update(self, p, grad, state, group):
        state["step"] += 1
        g = self._effective_grad(p, grad, group)
        momentum = group["momentum"]
        if momentum:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.zeros_like(p.data)
            buf *= momentum
            buf += np.multiply(g, 1 - momentum, out=self._buffer(p, 1))
            g = buf
        step = np.sign(g, out=self._buffer(p, 1))
        step *= group["lr"]
        np.subtract(p.data, step, out=p.data)


class Rprop(Optimizer):
    """Resilient backpropagation, as ``torch.optim.Rprop``: sign-based steps with adaptive sizes.

    Each weight has its own step size ``s`` (starting at ``lr``). If the gradient keeps its
    sign, ``s *= etaplus``; if it flips (a minimum was jumped over), ``s *= etaminus`` and this
    step is skipped (the gradient is treated as zero). ``s`` stays within ``step_sizes``::

        w = w - sign(g) * s

    Works best with full-batch gradients.

    Args:
        params: parameters or parameter groups.
        lr: initial step size.
        etas: (etaminus, etaplus), the shrink and growth factors, 0 < etaminus < 1 < etaplus.
        step_sizes: (min, max) allowed step sizes.
        maximize: ascend instead of descend.
    """

    def __init__(self, params, lr: float = 1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 maximize: bool = False):
        defaults = dict(lr=lr, etas=tuple(etas), step_sizes=tuple(step_sizes), maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, group):
        super()._check_group(group)
        etaminus, etaplus = group["etas"]
        if not 0.0 < etaminus < 1.0 < etaplus:
            raise ValueError(f"Rprop: invalid eta values {tuple(group['etas'])}; need "
                             f"0 < etaminus < 1 < etaplus")

    def _init_state(self, p, group):
        return {"step": 0, "prev": np.zeros_like(p.data),
                "step_size": np.full_like(p.data, group["lr"])}

    def _update(self, p, grad, state, group):
        state["step"] += 1
        etaminus, etaplus = group["etas"]
        lo, hi = group["step_sizes"]
        g = grad if not group["maximize"] else np.negative(grad, out=self._buffer(p, 0))
        prev, size = state["prev"], state["step_size"]
        agree = np.sign(np.multiply(g, prev, out=self._buffer(p, 1)), out=self._buffer(p, 1))
        factor = np.where(agree > 0, etaplus, np.where(agree < 0, etaminus, 1.0)).astype(
            p.data.dtype, copy=False)
        size *= factor
        np.clip(size, lo, hi, out=size)
        flipped = agree < 0
        np.copyto(prev, g)
        prev[flipped] = 0
        step = np.sign(prev, out=self._buffer(p, 1))
        step *= size
        np.subtract(p.data, step, out=p.data)
