"""The pieces :func:`nn.train.fit` runs after every epoch: early stopping, checkpoints, a recorder.

Each is a small object with ``on_epoch_end(epoch, logs, history)``; ``fit`` calls them in order and
stops when one of them sets ``stop``. A user's recorder (any object with ``on_batch_end`` and/or
``on_epoch_end``, see :class:`Callback`) is wrapped by :class:`RecorderHook`.
"""

from __future__ import annotations

import copy
import inspect
from pathlib import Path

import numpy as np

__all__ = ["Callback", "EarlyStopping", "CheckpointWriter", "RecorderHook", "call_hook"]


class Callback:
    """The hooks :func:`nn.train.fit` calls on a ``recorder``; all are optional.

    ``on_batch_end(model=, loss=, epoch=, batch=, step=, outputs=, targets=)`` runs after
    each optimizer step; ``on_epoch_end(model=, epoch=, logs=)`` after validation with
    that epoch's numbers. Methods may accept any subset of these keyword arguments
    via ``**kwargs``.
    """

    def on_batch_end(self, **kwargs):
        pass

    def on_epoch_end(self, **kwargs):
        pass


def call_hook(recorder, name, **kwargs):
    """Call ``recorder.<name>`` with the keyword arguments its signature accepts (all with ``**kw``)."""
    hook = getattr(recorder, name, None)
    if hook is None:
        return
    try:
        params = inspect.signature(hook).parameters
        if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
            kwargs = {k: v for k, v in kwargs.items() if k in params}
    except (TypeError, ValueError):
        pass
    hook(**kwargs)


def snapshot(model) -> dict:
    """A copy of ``model``'s state dict as plain arrays."""
    return {k: np.array(getattr(v, "data", v), copy=True) for k, v in model.state_dict().items()}


class EarlyStopping:
    """Track the best value of ``monitor``; stop after ``patience`` epochs without improvement.

    Args:
        monitor: the logged value to watch (``'val_loss'``, ``'loss'``, ``'val_accuracy'``...).
        maximise: True when larger is better (metrics), False for losses.
        patience: epochs without improvement before stopping; None never stops.
        min_delta: smallest change that counts as an improvement.
        restore_best: keep a copy of the weights of the best epoch (see :meth:`restore`).

    Attributes:
        best, best_epoch (0-based, -1 before the first epoch), improved (at the last epoch),
        stop (set when patience ran out).
    """

    def __init__(self, monitor, maximise=False, patience=None, min_delta=0.0, restore_best=False):
        self.monitor, self.maximise, self.patience = monitor, maximise, patience
        self.min_delta, self.restore_best = min_delta, restore_best
        self.best, self.best_epoch, self.best_state = None, -1, None
        self.waited, self.improved, self.stop = 0, False, False

    def on_epoch_end(self, model, epoch, logs, history):
        if self.monitor not in logs:
            raise ValueError(f"fit: monitor {self.monitor!r} is not among the logged values "
                             f"{sorted(logs)}")
        current = logs[self.monitor]
        if self.best is None:
            self.improved = True
        elif self.maximise:
            self.improved = current > self.best + self.min_delta
        else:
            self.improved = current < self.best - self.min_delta
        if self.improved:
            self.best, self.best_epoch, self.waited = current, epoch, 0
            if self.restore_best:
                self.best_state = snapshot(model)
        else:
            self.waited += 1
        if self.patience is not None and self.waited >= self.patience:
            self.stop = True

    def stop_message(self, epoch):
        """The line ``fit`` prints when it stops after ``epoch``."""
        return (f"early stopping after epoch {epoch + 1}: {self.monitor} has not improved for "
                f"{self.patience} epochs (best {self.best:.4f} at epoch {self.best_epoch + 1})")

    def restore(self, model):
        """Load the best epoch's weights into ``model`` (when they were kept)."""
        if self.restore_best and self.best_state is not None:
            model.load_state_dict(self.best_state)


class CheckpointWriter:
    """Write ``epoch_{n:03d}.ckpt`` after every epoch and ``best.ckpt`` when ``early`` improved.

    Each file holds ``{'epoch', 'model', 'optimizer', 'history'}`` (``nn.checkpoint.save``).
    """

    def __init__(self, directory, optimizer, early: EarlyStopping):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.optimizer, self.early = optimizer, early

    def _save(self, path, model, epoch, history):
        from nn import checkpoint
        opt = self.optimizer
        checkpoint.save({"epoch": epoch, "model": model.state_dict(),
                         "optimizer": opt.state_dict() if hasattr(opt, "state_dict") else None,
                         "history": copy.deepcopy(history)}, path)

    def on_epoch_end(self, model, epoch, logs, history):
        self._save(self.directory / f"epoch_{epoch + 1:03d}.ckpt", model, epoch, history)
        if self.early.improved:
            self._save(self.directory / "best.ckpt", model, epoch, history)


class RecorderHook:
    """Pass the epoch's logs to a user's recorder (``on_epoch_end(model=, epoch=, logs=)``)."""

    def __init__(self, recorder):
        self.recorder = recorder

    def on_epoch_end(self, model, epoch, logs, history):
        call_hook(self.recorder, "on_epoch_end", model=model, epoch=epoch, logs=dict(logs))
