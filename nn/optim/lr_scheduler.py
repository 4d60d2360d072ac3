"""Learning-rate schedules: StepLR, ExponentialLR, ReduceLROnPlateau and the course's AdaptiveLR here;
LambdaLR, MultiStepLR, LinearLR, CosineAnnealingLR, CosineAnnealingWarmRestarts, CyclicLR,
OneCycleLR and SequentialLR in ``_schedules.py`` (re-exported here), all with PyTorch's trajectories.

Call ``scheduler.step()`` once per epoch, after ``optimizer.step()`` (PyTorch's order);
``ReduceLROnPlateau.step(metric)`` and ``AdaptiveLR.step(error)`` take the epoch's
validation metric / training error. Schedulers change ``group['lr']`` of the optimizer's
parameter groups in place.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["LRScheduler", "StepLR", "ExponentialLR", "ReduceLROnPlateau", "AdaptiveLR", "LambdaLR",
           "MultiStepLR", "LinearLR", "CosineAnnealingLR", "CosineAnnealingWarmRestarts", "CyclicLR",
           "OneCycleLR", "SequentialLR"]


def _scalar(value, who: str) -> float:
    """A metric as a float: numbers, numpy scalars, one-element arrays or Tensors."""
    data = getattr(value, "data", None)
    if isinstance(data, np.ndarray) and not isinstance(value, np.ndarray):
        value = data
    arr = np.asarray(value, dtype=np.float64)
    if arr.size != 1:
        raise ValueError(f"{who}: expected a single number, got an array of shape {arr.shape}")
    return float(arr.reshape(-1)[0])


def _per_group(value, optimizer, name, who):
    if isinstance(value, (list, tuple)):
        if len(value) != len(optimizer.param_groups):
            raise ValueError(f"{who}: expected {len(optimizer.param_groups)} values of {name} "
                             f"(one per parameter group), got {len(value)}")
        return [float(v) for v in value]
    return [float(value)] * len(optimizer.param_groups)


class LRScheduler:
    """Base class: keeps ``last_epoch`` and ``base_lrs``; subclasses give the next lrs.

    Args:
        optimizer: the wrapped optimizer.
        last_epoch: index of the last epoch; -1 starts afresh (stores ``initial_lr`` in the
            groups), otherwise the groups must already hold ``initial_lr`` (resuming).
    """

    def __init__(self, optimizer, last_epoch: int = -1):
        if not hasattr(optimizer, "param_groups"):
            raise TypeError(f"{type(self).__name__}: {type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"{type(self).__name__}: param 'initial_lr' is not specified in "
                                   f"param_groups[{i}] when resuming an optimizer")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self):
        self._step_count = 0
        self.step()

    def get_lr(self) -> list:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must implement get_lr")

    def get_last_lr(self) -> list:
        """The learning rates set by the last :meth:`step`, one per group."""
        return list(self._last_lr)

    def step(self, epoch=None) -> None:
        """Advance one epoch and set the groups' learning rates.

        ``step(epoch)`` jumps to ``epoch`` (PyTorch's deprecated form, which ``SequentialLR`` uses):
        schedulers with a closed form compute the rate from it directly.
        """
        self._step_count = getattr(self, "_step_count", 0) + 1
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            closed = getattr(self, "_get_closed_form_lr", None)
            values = closed() if closed is not None else self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict:
        """Everything but the optimizer (plain values, suitable for ``nn.save``)."""
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore a state from :meth:`state_dict`."""
        self.__dict__.update({k: (list(v) if isinstance(v, tuple) else v)
                              for k, v in state_dict.items()})


class StepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs, as ``torch.optim.lr_scheduler.StepLR``.

    ``lr = initial_lr * gamma ** (epoch // step_size)``.

    Args:
        optimizer: the wrapped optimizer.
        step_size: period of the decay, in epochs.
        gamma: multiplicative factor.
        last_epoch: index of the last epoch (-1 to start).
    """

    def __init__(self, optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1):
        if not isinstance(step_size, int) or step_size < 1:
            raise ValueError(f"StepLR: step_size must be a positive int, got {step_size!r}")
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        groups = self.optimizer.param_groups
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return [g["lr"] for g in groups]
        return [g["lr"] * self.gamma for g in groups]

    def _get_closed_form_lr(self):
        return [base * self.gamma ** (self.last_epoch // self.step_size) for base in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every epoch, as ``torch.optim.lr_scheduler.ExponentialLR``.

    Args:
        optimizer: the wrapped optimizer.
        gamma: multiplicative factor.
        last_epoch: index of the last epoch (-1 to start).
    """

    def __init__(self, optimizer, gamma: float, last_epoch: int = -1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        groups = self.optimizer.param_groups
        if self.last_epoch == 0:
            return [g["lr"] for g in groups]
        return [g["lr"] * self.gamma for g in groups]

    def _get_closed_form_lr(self):
        return [base * self.gamma ** self.last_epoch for base in self.base_lrs]


class ReduceLROnPlateau(LRScheduler):
    """Reduce the learning rate when a metric stops improving, as ``torch.optim.lr_scheduler.ReduceLROnPlateau``.

    After more than ``patience`` epochs without improvement, ``lr = max(lr * factor, min_lr)``,
    then ``cooldown`` epochs pass before bad epochs are counted again. An improvement means
    ``metric < best * (1 - threshold)`` ('min', 'rel'), ``metric < best - threshold``
    ('min', 'abs') and the mirror images for 'max'.

    Args:
        optimizer: the wrapped optimizer.
        mode: 'min' (loss) or 'max' (accuracy).
        factor: multiplicative factor of the reduction, < 1.
        patience: number of epochs without improvement to tolerate.
        threshold: minimal change that counts as an improvement.
        threshold_mode: 'rel' or 'abs'.
        cooldown: epochs to wait after a reduction.
        min_lr: lower bound of the lr (a value or one per group).
        eps: reductions smaller than this are skipped.
    """

    def __init__(self, optimizer, mode: str = "min", factor: float = 0.1, patience: int = 10,
                 threshold: float = 1e-4, threshold_mode: str = "rel", cooldown: int = 0,
                 min_lr=0.0, eps: float = 1e-8):
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor should be < 1.0, got {factor}")
        if mode not in ("min", "max"):
            raise ValueError(f"ReduceLROnPlateau: mode {mode!r} is unknown; use 'min' or 'max'")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"ReduceLROnPlateau: threshold_mode {threshold_mode!r} is unknown; "
                             f"use 'rel' or 'abs'")
        if not hasattr(optimizer, "param_groups"):
            raise TypeError(f"ReduceLROnPlateau: {type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        self.factor = factor
        self.min_lrs = _per_group(min_lr, optimizer, "min_lr", "ReduceLROnPlateau")
        self.patience = patience
        self.cooldown = cooldown
        self.eps = eps
        self.mode = mode
        self.threshold = threshold
        self.threshold_mode = threshold_mode
        self.cooldown_counter = 0
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.last_epoch = 0
        self._last_lr = [g["lr"] for g in optimizer.param_groups]

    def is_better(self, a: float, best: float) -> bool:
        """Whether metric ``a`` improves on ``best`` by more than the threshold."""
        if self.mode == "min":
            if self.threshold_mode == "rel":
                return a < best * (1.0 - self.threshold)
            return a < best - self.threshold
        if self.threshold_mode == "rel":
            return a > best * (self.threshold + 1.0)
        return a > best + self.threshold

    @property
    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def step(self, metrics) -> None:
        """Record the epoch's ``metrics`` (a number or one-element array/Tensor) and maybe reduce the lr."""
        current = _scalar(metrics, "ReduceLROnPlateau.step")
        self.last_epoch += 1
        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            for i, group in enumerate(self.optimizer.param_groups):
                old_lr = float(group["lr"])
                new_lr = max(old_lr * self.factor, self.min_lrs[i])
                if old_lr - new_lr > self.eps:
                    group["lr"] = new_lr
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]


class AdaptiveLR(LRScheduler):
    """The course's adaptive learning rate, driven by the epoch's total error.

    After each epoch i with error e_i (compared with the previous epoch's e_(i-1))::

        e_i > k_w * e_(i-1):   lr = rho_d * lr      (the error grew too much: slow down)
        otherwise:             lr = rho_i * lr      (speed up; a small growth is tolerated)

    The first call only records the error. :meth:`step` returns whether the error was
    acceptable. The course's notes only change the learning rate; the classic form of the
    rule (e.g. MATLAB's ``traingda``) also throws away an epoch whose error grew too much.
    Pass ``params`` to get that: the weights are copied after every accepted epoch and put
    back after a rejected one, whose error is then forgotten (the next epoch is compared
    with the last accepted error).

    Args:
        optimizer: the wrapped optimizer.
        rho_i: increase factor (> 1), 1.05 in the course.
        rho_d: decrease factor (< 1), 0.7 in the course.
        k_w: tolerated error growth ratio, 1.04 in the course.
        min_lr: lower bound of the lr. max_lr: upper bound of the lr (None: unbounded).
        params: optional parameters (e.g. ``model.parameters()``) to restore after a
            rejected epoch.
    """

    def __init__(self, optimizer, rho_i: float = 1.05, rho_d: float = 0.7, k_w: float = 1.04,
                 min_lr: float = 0.0, max_lr: float | None = None, params=None):
        if not rho_i >= 1.0:
            raise ValueError(f"AdaptiveLR: rho_i should be >= 1, got {rho_i}")
        if not 0.0 < rho_d < 1.0:
            raise ValueError(f"AdaptiveLR: rho_d should be in (0, 1), got {rho_d}")
        if not k_w >= 1.0:
            raise ValueError(f"AdaptiveLR: k_w should be >= 1, got {k_w}")
        if not hasattr(optimizer, "param_groups"):
            raise TypeError(f"AdaptiveLR: {type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        self.rho_i, self.rho_d, self.k_w = rho_i, rho_d, k_w
        self.min_lr, self.max_lr = min_lr, max_lr
        self.last_error = None
        self.last_epoch = 0
        self._last_lr = [g["lr"] for g in optimizer.param_groups]
        self._params = None if params is None else list(params)
        self._saved = None

    def state_dict(self) -> dict:
        """Plain values only (the parameter snapshot is not included)."""
        return {k: v for k, v in self.__dict__.items()
                if k not in ("optimizer", "_params", "_saved")}

    def step(self, error) -> bool:
        """Record the epoch's error and adapt the lr; returns False if the error grew beyond ``k_w``."""
        error = _scalar(error, "AdaptiveLR.step")
        self.last_epoch += 1
        accepted = True
        if self.last_error is not None:
            accepted = not error > self.k_w * self.last_error
            factor = self.rho_i if accepted else self.rho_d
            for group in self.optimizer.param_groups:
                lr = max(group["lr"] * factor, self.min_lr)
                group["lr"] = lr if self.max_lr is None else min(lr, self.max_lr)
        if self._params is not None:
            if accepted:
                if self._saved is None:
                    self._saved = [p.data.copy() for p in self._params]
                else:
                    for saved, p in zip(self._saved, self._params):
                        np.copyto(saved, p.data)
            else:
                for saved, p in zip(self._saved, self._params):
                    np.copyto(p.data, saved)
        if accepted or self._params is None:
            self.last_error = error
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]
        return accepted


# the torch schedules of _schedules.py build on LRScheduler above
from ._schedules import (CosineAnnealingLR, CosineAnnealingWarmRestarts, CyclicLR, LambdaLR,  # noqa: E402
                         LinearLR, MultiStepLR, OneCycleLR, SequentialLR)
