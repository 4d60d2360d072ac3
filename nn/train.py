"""A small training loop: progress bar, validation, history, early stopping, checkpoints.

    history = fit(model, nn.CrossEntropyLoss(), nn.optim.Adam(model.parameters()),
                  train_loader, val_loader, epochs=10, metrics=["accuracy"],
                  patience=3, checkpoint_dir="ckpt")

The progress bar is tqdm's. A loss that is NaN or infinite stops training with a
``FloatingPointError`` naming the epoch, the batch and the parameters whose values
or gradients are no longer finite. A diagnostics recorder is any object with
``on_batch_end`` and/or ``on_epoch_end`` methods (see :class:`Callback`).
"""

from __future__ import annotations

import copy
import math
import time
from pathlib import Path

import numpy as np

import autodiff as ad

__all__ = ["fit", "evaluate", "predict", "Callback", "accuracy_metric", "NonFiniteLossError"]


class NonFiniteLossError(FloatingPointError):
    """Raised by :func:`fit` when the loss becomes NaN or infinite."""


class Callback:
    """The hooks :func:`fit` calls on a ``recorder``; all are optional.

    ``on_batch_end(model=, loss=, epoch=, batch=, step=, outputs=, targets=)`` runs after
    each optimizer step; ``on_epoch_end(model=, epoch=, logs=)`` after validation with
    that epoch's numbers. Methods may accept any subset of these keyword arguments
    via ``**kwargs``.
    """

    def on_batch_end(self, **kwargs):
        pass

    def on_epoch_end(self, **kwargs):
        pass


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


def _call_hook(recorder, name, **kwargs):
    hook = getattr(recorder, name, None)
    if hook is None:
        return
    try:
        import inspect
        params = inspect.signature(hook).parameters
        if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
            kwargs = {k: v for k, v in kwargs.items() if k in params}
    except (TypeError, ValueError):
        pass
    hook(**kwargs)


def _snapshot(model):
    return {k: np.array(v.data if isinstance(v, ad.Tensor) else v, copy=True)
            for k, v in model.state_dict().items()}


def _non_finite_params(model):
    bad = []
    for name, p in model.named_parameters():
        if not np.all(np.isfinite(p.data)):
            bad.append(f"{name} (values)")
        elif p.grad is not None and not np.all(np.isfinite(np.asarray(p.grad.data))):
            bad.append(f"{name} (gradient)")
    return bad


def _save_checkpoint(path, model, optimizer, epoch, history):
    from nn import checkpoint
    checkpoint.save({"epoch": epoch, "model": model.state_dict(),
                     "optimizer": optimizer.state_dict() if hasattr(optimizer, "state_dict") else None,
                     "history": copy.deepcopy(history)}, path)


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
        NonFiniteLossError: the loss became NaN/inf; the message names epoch, batch and
            the parameters with non-finite values or gradients. The optimizer step for
            that batch is not taken.
    """
    from tqdm.auto import tqdm

    if epochs < 1:
        raise ValueError(f"fit: epochs must be >= 1, got {epochs}")
    metric_fns = _metric_dict(metrics)
    if monitor is None:
        monitor = "val_loss" if val_loader is not None else "loss"
    if monitor.startswith("val_") and val_loader is None:
        raise ValueError(f"fit: monitor={monitor!r} needs a val_loader")
    maximise = any(monitor.endswith(name) for name in metric_fns)
    if restore_best is None:
        restore_best = patience is not None
    ckpt_dir = Path(checkpoint_dir) if checkpoint_dir is not None else None
    if ckpt_dir is not None:
        ckpt_dir.mkdir(parents=True, exist_ok=True)

    history: dict = {"loss": [], "time": []}
    for name in metric_fns:
        history[name] = []
    if val_loader is not None:
        history["val_loss"] = []
        for name in metric_fns:
            history[f"val_{name}"] = []
    best, best_epoch, best_state, waited = None, -1, None, 0
    stopped_early, step = False, 0
    if hasattr(model, "train"):
        model.train()

    for epoch in range(epochs):
        t0 = time.perf_counter()
        sums, count = {"loss": 0.0, **{n: 0.0 for n in metric_fns}}, 0
        try:
            total = len(train_loader)
        except TypeError:
            total = None
        if max_batches is not None:
            total = min(total, max_batches) if total is not None else max_batches
        bar = tqdm(train_loader, total=total, desc=f"epoch {epoch + 1}/{epochs}", unit="batch",
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
                    bad = _non_finite_params(model)
                    where = (f"; parameters not finite: {', '.join(bad)}" if bad
                             else "; all parameters finite, so the forward pass overflowed on this batch"
                             f" (inputs finite: {bool(np.all(np.isfinite(x.data)))})")
                    raise NonFiniteLossError(f"fit: loss is {value} at epoch {epoch + 1}/{epochs}, "
                                             f"batch {b + 1} (step {step + 1}), in the training "
                                             f"forward pass{where}")
                loss.backward()
                optimizer.step()
                n = len(x)
                count += n
                sums["loss"] += value * n
                for name, fn in metric_fns.items():
                    sums[name] += fn(out.data, y.data) * n
                step += 1
                if recorder is not None:
                    _call_hook(recorder, "on_batch_end", model=model, loss=value, epoch=epoch,
                               batch=b, step=step, outputs=out, targets=y)
                if progress:
                    bar.set_postfix({k: f"{v / count:.4f}" for k, v in sums.items()}, refresh=False)
        finally:
            bar.close()
        if count == 0:
            raise ValueError("fit: the training loader yielded no batches")
        logs = {k: v / count for k, v in sums.items()}
        if val_loader is not None:
            val = evaluate(model, val_loader, loss_fn, metric_fns)
            logs.update({f"val_{k}": v for k, v in val.items()})
        lr = getattr(optimizer, "lr", None)
        if lr is None and getattr(optimizer, "param_groups", None):
            lr = optimizer.param_groups[0].get("lr")
        if lr is not None:
            logs["lr"] = float(lr)
        if scheduler is not None:
            if _scheduler_wants_metric(scheduler):   # ReduceLROnPlateau, the course's AdaptiveLR
                scheduler.step(logs.get("val_loss", logs["loss"]))
            else:
                scheduler.step()
        logs["time"] = time.perf_counter() - t0
        for k, v in logs.items():
            history.setdefault(k, []).append(v)
        if progress:
            shown = ", ".join(f"{k} {v:.4f}" for k, v in logs.items() if k not in ("time", "lr"))
            tqdm.write(f"epoch {epoch + 1}/{epochs}: {shown} ({logs['time']:.1f} s)")

        if monitor not in logs:
            raise ValueError(f"fit: monitor {monitor!r} is not among the logged values {sorted(logs)}")
        current = logs[monitor]
        improved = best is None or (current > best + min_delta if maximise else current < best - min_delta)
        if improved:
            best, best_epoch, waited = current, epoch, 0
            if restore_best:
                best_state = _snapshot(model)
        else:
            waited += 1
        if ckpt_dir is not None:
            _save_checkpoint(ckpt_dir / f"epoch_{epoch + 1:03d}.ckpt", model, optimizer, epoch, history)
            if improved:
                _save_checkpoint(ckpt_dir / "best.ckpt", model, optimizer, epoch, history)
        if recorder is not None:
            _call_hook(recorder, "on_epoch_end", model=model, epoch=epoch, logs=dict(logs))
        if patience is not None and waited >= patience:
            stopped_early = True
            if progress:
                tqdm.write(f"early stopping after epoch {epoch + 1}: {monitor} has not improved for "
                           f"{patience} epochs (best {best:.4f} at epoch {best_epoch + 1})")
            break

    if restore_best and best_state is not None:
        model.load_state_dict(best_state)
    history.update(best_epoch=best_epoch, best=best, stopped_early=stopped_early, monitor=monitor)
    return history


def _scheduler_wants_metric(scheduler):
    """True for schedulers whose ``step`` takes the epoch's error (validation loss when there is one)."""
    import inspect
    try:
        params = [p for p in inspect.signature(scheduler.step).parameters.values()
                  if p.default is inspect.Parameter.empty
                  and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        return False
    return len(params) >= 1
