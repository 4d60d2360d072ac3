"""A small training loop: progress bar, validation, history, early stopping, checkpoints.

    history = fit(model, nn.CrossEntropyLoss(), nn.optim.Adam(model.parameters()),
                  train_loader, val_loader, epochs=10, metrics=["accuracy"],
                  patience=3, checkpoint_dir="ckpt")

The progress bar is tqdm's. A loss that is NaN or infinite stops training with a
``FloatingPointError`` naming the epoch and the batch, and what is not finite: the batch's
inputs or targets, or the parameters' values or gradients. A diagnostics recorder is any object
with ``on_batch_end`` and/or ``on_epoch_end`` methods (see :class:`Callback`).

``fit`` is a short loop over epochs: :func:`train_epoch` runs the batches, :func:`epoch_logs` adds
validation and the learning rate, and the callbacks of ``nn/callbacks.py`` (early stopping,
checkpoints, the recorder) run after every epoch.
"""

from __future__ import annotations

import inspect
import math
import time

import numpy as np

import autodiff as ad

from .callbacks import Callback, CheckpointWriter, EarlyStopping, RecorderHook, call_hook

__all__ = ["fit", "evaluate", "predict", "Callback", "accuracy_metric", "NonFiniteLossError"]


class NonFiniteLossError(FloatingPointError):
    """Raised by :func:`fit` when the loss becomes NaN or infinite."""


def accuracy_metric(outputs: np.ndarray, targets: np.ndarray) -> float:
    """Fraction of rows whose argmax (or >0 for one output column) equals the target."""
    outputs, targets = np.asarray(outputs), np.asarray(targets)
    if outputs.ndim == 1 or outputs.shape[-1] == 1:
        pred = (outputs.reshape(len(outputs), -1)[:, 0] > 0).astype(np.int64)
        return float(np.mean(pred == targets.reshape(len(targets), -1)[:, 0].astype(np.int64)))
    return float(np.mean(outputs.argmax(axis=-1) == targets.reshape(-1)))


_NAMED_METRICS = {"accuracy": accuracy_metric, "acc": accuracy_metric}


def _metric_dict(metrics):
    if metrics is None:
        return {}
    if isinstance(metrics, dict):
        items = metrics.items()
    else:
        items = []
        for m in ([metrics] if isinstance(metrics, str) or callable(metrics) else metrics):
            if isinstance(m, str):
                if m not in _NAMED_METRICS:
                    raise ValueError(f"fit: unknown metric {m!r}; use one of {sorted(_NAMED_METRICS)} "
                                     f"or pass a callable(outputs, targets) -> float")
                items.append((m, _NAMED_METRICS[m]))
            else:
                items.append((getattr(m, "__name__", "metric"), m))
    return {name: (_NAMED_METRICS[fn] if isinstance(fn, str) else fn) for name, fn in items}


def _as_tensor(x):
    if isinstance(x, ad.Tensor):
        return x
    return ad.Tensor(np.asarray(x))


def _split_batch(batch):
    if isinstance(batch, (tuple, list)) and len(batch) == 2:
        return _as_tensor(batch[0]), _as_tensor(batch[1])
    raise ValueError(f"fit: each batch must be an (inputs, targets) pair, got {type(batch).__name__}"
                     f"{' of length ' + str(len(batch)) if isinstance(batch, (tuple, list)) else ''}")


def evaluate(model, loader, loss_fn=None, metrics=None) -> dict:
    """Average loss and metrics of ``model`` over ``loader`` without gradients.

    Returns:
        ``{'loss': ..., name: ...}`` weighted by batch size (``loss`` only with a loss_fn).
    """
    metric_fns = _metric_dict(metrics)
    sums, count = {}, 0
    was_training = getattr(model, "training", None)
    if hasattr(model, "eval"):
        model.eval()
    try:
        with ad.no_grad():
            for batch in loader:
                x, y = _split_batch(batch)
                out = model(x)
                n = len(x)
                if loss_fn is not None:
                    sums["loss"] = sums.get("loss", 0.0) + float(loss_fn(out, y).item()) * n
                for name, fn in metric_fns.items():
                    sums[name] = sums.get(name, 0.0) + fn(out.data, y.data) * n
                count += n
    finally:
        if was_training and hasattr(model, "train"):
            model.train()
    if count == 0:
        raise ValueError("evaluate: the loader yielded no samples")
    return {k: v / count for k, v in sums.items()}


def predict(model, loader) -> tuple[np.ndarray, np.ndarray]:
    """Concatenated model outputs and targets over ``loader`` (eval mode, no gradients)."""
    outs, targets = [], []
    was_training = getattr(model, "training", None)
    if hasattr(model, "eval"):
        model.eval()
    try:
        with ad.no_grad():
            for batch in loader:
                x, y = _split_batch(batch)
                outs.append(np.asarray(model(x).data))
                targets.append(np.asarray(y.data))
    finally:
        if was_training and hasattr(model, "train"):
            model.train()
    return np.concatenate(outs), np.concatenate(targets)



def _non_finite_params(model):
    bad = []
    for name, p in model.named_parameters():
        if not np.all(np.isfinite(p.data)):
            bad.append(f"{name} (values)")
        elif p.grad is not None and not np.all(np.isfinite(np.asarray(p.grad.data))):
            bad.append(f"{name} (gradient)")
    return bad


def _non_finite_summary(array):
    """``'3 of 16 values are not finite (first at index (8, 0): nan)'``, or None when all are finite."""
    a = np.asarray(array)
    if a.dtype.kind not in "fc":
        return None
    bad = ~np.isfinite(a)
    if not bad.any():
        return None
    first = tuple(int(i) for i in np.argwhere(bad)[0])
    return (f"{int(bad.sum())} of {a.size} values are not finite (first at index {first}: "
            f"{a[first]})")


def non_finite_loss_error(value, x, y, model, where) -> NonFiniteLossError:
    """The error for a NaN/inf training loss, saying what is not finite, in this order: the batch's
    inputs, its targets, the parameters; only when all of those are finite, the forward pass."""
    head = f"fit: loss is {value} at {where}, in the training forward pass"
    inputs, targets = _non_finite_summary(x.data), _non_finite_summary(y.data)
    if inputs is not None:
        return NonFiniteLossError(f"{head}: the inputs of this batch are not finite ({inputs}); "
                                  f"clean the data (np.isfinite) before training")
    if targets is not None:
        return NonFiniteLossError(f"{head}: the targets of this batch are not finite ({targets}); "
                                  f"clean the data (np.isfinite) before training")
    bad = _non_finite_params(model)
    if bad:
        return NonFiniteLossError(f"{head}; parameters not finite: {', '.join(bad)}")
    return NonFiniteLossError(f"{head}; inputs, targets and all parameters are finite, so the forward "
                              f"pass overflowed on this batch")


def train_epoch(model, loss_fn, optimizer, loader, metric_fns, epoch, epochs, step=0, recorder=None,
                progress=True, max_batches=None):
    """One pass over ``loader``: forward, loss check, backward and optimizer step per batch.

    Returns:
        ``(logs, step)``: the sample-weighted mean loss and metrics, and the updated step count.
    """
    from tqdm.auto import tqdm

    sums, count = {"loss": 0.0, **{n: 0.0 for n in metric_fns}}, 0
    try:
        total = len(loader)
    except TypeError:
        total = None
    if max_batches is not None:
        total = min(total, max_batches) if total is not None else max_batches
    bar = tqdm(loader, total=total, desc=f"epoch {epoch + 1}/{epochs}", unit="batch",
               disable=not progress, leave=True, dynamic_ncols=True)
    try:
        for b, batch in enumerate(bar):
            if max_batches is not None and b >= max_batches:
                break
            x, y = _split_batch(batch)
            optimizer.zero_grad()
            out = model(x)
            loss = loss_fn(out, y)
            value = float(loss.item())
            if not math.isfinite(value):
                raise non_finite_loss_error(value, x, y, model,
                                            f"epoch {epoch + 1}/{epochs}, batch {b + 1} (step {step + 1})")
            loss.backward()
            optimizer.step()
            n = len(x)
            count += n
            sums["loss"] += value * n
            for name, fn in metric_fns.items():
                sums[name] += fn(out.data, y.data) * n
            step += 1
            if recorder is not None:
                call_hook(recorder, "on_batch_end", model=model, loss=value, epoch=epoch, batch=b,
                          step=step, outputs=out, targets=y)
            if progress:
                bar.set_postfix({k: f"{v / count:.4f}" for k, v in sums.items()}, refresh=False)
    finally:
        bar.close()
    if count == 0:
        raise ValueError("fit: the training loader yielded no batches")
    return {k: v / count for k, v in sums.items()}, step


def current_lr(optimizer):
    """The optimizer's learning rate (``lr`` or the first group's), or None."""
    lr = getattr(optimizer, "lr", None)
    if lr is None and getattr(optimizer, "param_groups", None):
        lr = optimizer.param_groups[0].get("lr")
    return lr


def step_scheduler(scheduler, logs):
    """``scheduler.step()``, or ``step(error)`` with the validation (else training) loss for
    schedulers whose step takes the epoch's error (``ReduceLROnPlateau``, ``AdaptiveLR``)."""
    if _scheduler_wants_metric(scheduler):
        scheduler.step(logs.get("val_loss", logs["loss"]))
    else:
        scheduler.step()


def epoch_logs(train_logs, model, loss_fn, metric_fns, optimizer, val_loader=None):
    """The training numbers plus ``val_*`` (when there is a val_loader) and ``lr``."""
    logs = dict(train_logs)
    if val_loader is not None:
        val = evaluate(model, val_loader, loss_fn, metric_fns)
        logs.update({f"val_{k}": v for k, v in val.items()})
    lr = current_lr(optimizer)
    if lr is not None:
        logs["lr"] = float(lr)
    return logs


def _empty_history(metric_fns, with_validation):
    history = {"loss": [], "time": [], **{name: [] for name in metric_fns}}
    if with_validation:
        history["val_loss"] = []
        history.update({f"val_{name}": [] for name in metric_fns})
    return history


def fit(model, loss_fn, optimizer, train_loader, val_loader=None, epochs: int = 1, metrics=None,
        patience: int | None = None, min_delta: float = 0.0, monitor: str | None = None,
        restore_best: bool | None = None, checkpoint_dir=None, recorder=None, scheduler=None,
        progress: bool = True, max_batches: int | None = None) -> dict:
    """Train ``model`` for ``epochs`` passes over ``train_loader``.

    Args:
        model: an ``nn.Module`` (anything callable with ``parameters``/``state_dict``).
        loss_fn: ``loss_fn(outputs, targets) -> scalar Tensor``.
        optimizer: has ``zero_grad()`` and ``step()``.
        train_loader, val_loader: iterables of ``(inputs, targets)`` batches (Tensors or arrays).
        epochs: number of epochs.
        metrics: ``'accuracy'``, a list of names/callables, or a dict name -> ``fn(outputs, targets)``
            over numpy arrays; averaged over samples.
        patience: stop after this many epochs without improvement of ``monitor`` by more
            than ``min_delta``; None disables early stopping.
        monitor: ``'val_loss'`` (default with a val_loader) or ``'loss'``; a name ending in a
            metric name (e.g. ``'val_accuracy'``) is maximised instead.
        restore_best: load the weights of the best epoch at the end (default: when
            ``patience`` is set).
        checkpoint_dir: if given, ``epoch_{n:03d}.ckpt`` is written there after every epoch
            and ``best.ckpt`` whenever ``monitor`` improves (via ``nn.checkpoint.save``).
        recorder: diagnostics object with ``on_batch_end``/``on_epoch_end`` (see :class:`Callback`).
        scheduler: a learning-rate scheduler stepped after each epoch: ``scheduler.step()``, or
            ``scheduler.step(val_loss)`` (train loss without validation) for schedulers whose step takes
            the epoch's error (``ReduceLROnPlateau``, ``AdaptiveLR``).
        progress: show a tqdm bar per epoch with the running loss and metrics.
        max_batches: stop each epoch after this many batches (quick runs).

    Returns:
        History dict: lists per epoch under ``'loss'``, each metric, ``'val_loss'``,
        ``'val_<metric>'``, ``'lr'`` (if the optimizer has one) and ``'time'``; plus
        ``'best_epoch'`` (0-based), ``'best'`` (value of monitor) and ``'stopped_early'``.

    Raises:
        NonFiniteLossError: the loss became NaN/inf; the message names epoch and batch and says
            what is not finite (the batch's inputs or targets, parameter values or gradients, or
            else that the forward pass overflowed). The optimizer step for that batch is not taken.
    """
    if epochs < 1:
        raise ValueError(f"fit: epochs must be >= 1, got {epochs}")
    metric_fns = _metric_dict(metrics)
    if monitor is None:
        monitor = "val_loss" if val_loader is not None else "loss"
    if monitor.startswith("val_") and val_loader is None:
        raise ValueError(f"fit: monitor={monitor!r} needs a val_loader")
    early = EarlyStopping(monitor, maximise=any(monitor.endswith(name) for name in metric_fns),
                          patience=patience, min_delta=min_delta,
                          restore_best=patience is not None if restore_best is None else restore_best)
    callbacks = [early]
    if checkpoint_dir is not None:
        callbacks.append(CheckpointWriter(checkpoint_dir, optimizer, early))
    if recorder is not None:
        callbacks.append(RecorderHook(recorder))

    history = _empty_history(metric_fns, val_loader is not None)
    step = 0
    if hasattr(model, "train"):
        model.train()
    for epoch in range(epochs):
        t0 = time.perf_counter()
        train_logs, step = train_epoch(model, loss_fn, optimizer, train_loader, metric_fns, epoch, epochs,
                                       step, recorder, progress, max_batches)
        logs = epoch_logs(train_logs, model, loss_fn, metric_fns, optimizer, val_loader)
        if scheduler is not None:
            step_scheduler(scheduler, logs)
        logs["time"] = time.perf_counter() - t0
        for k, v in logs.items():
            history.setdefault(k, []).append(v)
        if progress:
            _print_epoch(epoch, epochs, logs)
        for callback in callbacks:
            callback.on_epoch_end(model=model, epoch=epoch, logs=logs, history=history)
        if early.stop:
            if progress:
                _write(early.stop_message(epoch))
            break
    early.restore(model)
    history.update(best_epoch=early.best_epoch, best=early.best, stopped_early=early.stop,
                   monitor=monitor)
    return history


def _write(line):
    from tqdm.auto import tqdm
    tqdm.write(line)


def _print_epoch(epoch, epochs, logs):
    shown = ", ".join(f"{k} {v:.4f}" for k, v in logs.items() if k not in ("time", "lr"))
    _write(f"epoch {epoch + 1}/{epochs}: {shown} ({logs['time']:.1f} s)")


def _scheduler_wants_metric(scheduler):
    """True for schedulers whose ``step`` takes the epoch's error (validation loss when there is one)."""
    try:
        params = [p for p in inspect.signature(scheduler.step).parameters.values()
                  if p.default is inspect.Parameter.empty
                  and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        return False
    return len(params) >= 1
