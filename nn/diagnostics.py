"""Training diagnostics, the course's debugging advice as plots: a hook-based recorder and its figures.

    rec = TrainingRecorder(model)
    history = fit(model, loss_fn, optimizer, train_loader, val_loader, epochs=10, recorder=rec)
    rec.save_all("diagnostics/")       # curves.png, grad_norms.png, update_ratios.png, ...
    print(rec.report())                # layers that stalled, vanished, or died

What is recorded (``every`` training steps, and at each epoch end):

* loss and metrics per epoch, train and validation (from the loop's ``logs``), and the loss per batch;
* the gradient norm of each parameter (``||grad||``): near zero in most layers means the neurons stopped
  learning or backpropagation is broken;
* the ratio of the update to the weight, ``||w_t - w_(t-1)|| / ||w_(t-1)||`` per parameter: below about
  ``1e-4`` learning has stalled (the course's threshold, :data:`STALLED_RATIO`);
* the standard deviation of each weight by depth (a lopsided profile points at initialisation or
  normalisation);
* the activations of every leaf module on the first batch of each epoch, for histograms: the share of
  exact zeros and of *dead units* (zero for every example of the batch, e.g. dead ReLUs).

Activations are captured with ``register_forward_hook`` when the module has it; otherwise the
recorder wraps the submodule's ``forward`` and restores it on :meth:`TrainingRecorder.detach`.
The plots use matplotlib's object API (no pyplot state, no display needed).
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

__all__ = ["TrainingRecorder", "STALLED_RATIO", "example_run"]

STALLED_RATIO = 1e-4


def _array(x):
    return np.asarray(x.data if hasattr(x, "data") else x)


def _norm(a):
    a = np.asarray(a, dtype=np.float64)
    return float(np.sqrt(np.sum(a * a)))


class TrainingRecorder:
    """Collects what the diagnostics plots show; switch it on with ``fit(..., recorder=rec)``.

    A hand-written loop calls ``rec.on_batch_end(model=model, loss=value)`` after each optimizer
    step and ``rec.on_epoch_end(model=model, logs={'loss': ..., 'val_loss': ...})`` after each epoch.

    Args:
        model: the module to watch (may also be given later, through the first hook call).
        every: record gradient norms and update ratios every this many steps.
        activations: capture leaf-module outputs on the first batch of each epoch.
        max_samples: activation values kept per layer and capture (a seeded random subset).
        seed: seed of that subset.

    Attributes:
        history: dict metric -> list per epoch (``loss``, ``val_loss``, ``accuracy``...).
        batch_loss: list of ``(step, loss)``.
        grad_norms, update_ratios: dict parameter name -> list of ``(step, value)``.
        weight_std: list per epoch of dict weight name -> std (weights: parameters with ndim >= 2).
        activations: list per capture of ``(epoch, {layer: stats})`` with ``values`` (a sample),
            ``zero_fraction``, ``dead_fraction``, ``mean``, ``std``.
    """

    def __init__(self, model=None, every: int = 1, activations: bool = True, max_samples: int = 5000,
                 seed: int = 0):
        if not isinstance(every, int) or every < 1:
            raise ValueError(f"TrainingRecorder: every must be a positive int, got {every!r}")
        self.every = every
        self.capture_activations = activations
        self.max_samples = max_samples
        self._rng = np.random.default_rng(seed)
        self.history: dict = {}
        self.batch_loss: list = []
        self.grad_norms: dict = {}
        self.update_ratios: dict = {}
        self.weight_std: list = []
        self.activations: list = []
        self.model = None
        self._handles = []
        self._wrapped = []
        self._armed = activations
        self._pending = {}
        self._epoch = 0
        self._step = 0
        self._prev = None
        if model is not None:
            self.attach(model)

    # --- hooks on the model -------------------------------------------------------------------
    def attach(self, model):
        """Start watching ``model``: activation hooks on its leaf modules. Returns self."""
        if self.model is model:
            return self
        self.detach()
        self.model = model
        if self.capture_activations and hasattr(model, "named_modules"):
            for name, mod in model.named_modules():
                has_children = any(True for _ in mod.children()) if hasattr(mod, "children") else False
                if has_children:
                    continue
                self._hook(f"{name} {type(mod).__name__}" if name else type(mod).__name__, mod)
        return self

    def _hook(self, name, mod):
        def on_output(module, args, output):
            if self._armed and hasattr(output, "data"):
                self._pending[name] = self._stats(_array(output))

        if hasattr(mod, "register_forward_hook"):
            self._handles.append(mod.register_forward_hook(on_output))
            return
        had = vars(mod).get("forward") if hasattr(mod, "__dict__") else None
        original = mod.forward  # no hook API: wrap forward on the instance

        def forward(*args, **kwargs):
            out = original(*args, **kwargs)
            on_output(mod, args, out)
            return out

        mod.forward = forward
        self._wrapped.append((mod, had))

    def detach(self):
        """Remove the hooks (and restore wrapped ``forward`` methods)."""
        for h in self._handles:
            h.remove()
        for mod, had in self._wrapped:
            if had is not None:
                mod.forward = had
            else:
                del mod.forward
        self._handles, self._wrapped = [], []
        self.model = None

    def _stats(self, a):
        a = np.asarray(a, dtype=np.float64)
        flat = a.reshape(-1)
        values = flat if flat.size <= self.max_samples else self._rng.choice(flat, self.max_samples, replace=False)
        units = a.reshape(a.shape[0], -1) if a.ndim >= 2 else a.reshape(1, -1)
        return {"values": values.copy(), "zero_fraction": float(np.mean(flat == 0)) if flat.size else 0.0,
                "dead_fraction": float(np.mean(np.all(units == 0, axis=0))) if units.size else 0.0,
                "mean": float(flat.mean()) if flat.size else math.nan,
                "std": float(flat.std()) if flat.size else math.nan, "shape": a.shape}

    # --- the training loop's callbacks --------------------------------------------------------
    def on_batch_end(self, model=None, loss=None, epoch=None, step=None, **kwargs):
        """After each optimizer step: loss, gradient norms, update ratios, captured activations."""
        if model is not None:
            self.attach(model)
        self._step = int(step) if step is not None else self._step + 1
        if epoch is not None:
            self._epoch = int(epoch)
        if loss is not None:
            self.batch_loss.append((self._step, float(_array(loss).reshape(-1)[0])))
        if self._pending:
            self.activations.append((self._epoch, self._pending))
            self._pending, self._armed = {}, False
        params = list(self.model.named_parameters()) if self.model is not None else []
        if self._step % self.every == 0:
            for name, p in params:
                if p.grad is not None:
                    self.grad_norms.setdefault(name, []).append((self._step, _norm(_array(p.grad))))
                if self._prev is not None and name in self._prev:
                    before = self._prev[name]
                    ratio = _norm(_array(p) - before) / max(_norm(before), 1e-30)
                    self.update_ratios.setdefault(name, []).append((self._step, ratio))
        # keep a copy of the weights only when the next step is recorded
        self._prev = ({n: np.array(_array(p), dtype=np.float64) for n, p in params}
                      if (self._step + 1) % self.every == 0 else None)

    def on_epoch_end(self, model=None, epoch=None, logs=None, **kwargs):
        """After each epoch: its logs (train/val loss and metrics) and the weight std by depth."""
        if model is not None:
            self.attach(model)
        for k, v in (logs or {}).items():
            if isinstance(v, (int, float, np.floating)) and k not in ("time", "lr"):
                self.history.setdefault(k, []).append(float(v))
        if self.model is not None:
            self.weight_std.append({n: float(_array(p).std()) for n, p in self.model.named_parameters()
                                    if _array(p).ndim >= 2})
        self._epoch = (int(epoch) if epoch is not None else self._epoch) + 1
        self._armed = self.capture_activations

    # --- findings -----------------------------------------------------------------------------
    def stalled(self, threshold: float = STALLED_RATIO):
        """Parameters whose latest update ratio is below ``threshold`` (learning has stalled)."""
        return [n for n, s in self.update_ratios.items() if s and s[-1][1] < threshold]

    def report(self, threshold: float = STALLED_RATIO, dead: float = 0.5, vanish: float = 1e-7):
        """A few lines naming stalled layers, vanishing gradients and mostly-dead layers."""
        lines = []
        for n in self.stalled(threshold):
            lines.append(f"stalled: {n} update/weight ratio {self.update_ratios[n][-1][1]:.2e} < {threshold:g}")
        for n, s in self.grad_norms.items():
            if s and s[-1][1] < vanish:
                lines.append(f"vanishing gradient: {n} |grad| = {s[-1][1]:.2e}")
        if self.activations:
            for layer, st in self.activations[-1][1].items():
                if st["dead_fraction"] >= dead:
                    lines.append(f"dead units: {layer} {100 * st['dead_fraction']:.0f}% zero for the whole batch")
        return "\n".join(lines) if lines else "no problems found"

    # --- plots --------------------------------------------------------------------------------
    def plot_curves(self, path):
        """Loss (and every metric) per epoch, train and validation."""
        metrics = sorted({k[4:] if k.startswith("val_") else k for k in self.history} - {"loss"})
        fig, axes = _figure(1 + len(metrics), width=5)
        ax = axes[0]
        if self.batch_loss and len(self.history.get("loss", [])) > 0:
            steps, vals = zip(*self.batch_loss)
            per_epoch = len(steps) / max(1, len(self.history["loss"]))
            ax.plot(np.asarray(steps) / per_epoch, vals, color="#bbbbbb", lw=0.7, label="train (batch)")
        for key, style in (("loss", "-o"), ("val_loss", "--s")):
            if key in self.history:
                ax.plot(np.arange(1, len(self.history[key]) + 1), self.history[key], style, ms=3,
                        label="validation" if key.startswith("val") else "train")
        _finish(ax, "loss", "epoch", "loss")
        for ax, m in zip(axes[1:], metrics):
            for key, style in ((m, "-o"), (f"val_{m}", "--s")):
                if key in self.history:
                    ax.plot(np.arange(1, len(self.history[key]) + 1), self.history[key], style, ms=3,
                            label="validation" if key.startswith("val") else "train")
            _finish(ax, m, "epoch", m)
        return _save(fig, path)

    def plot_grad_norms(self, path):
        """Gradient norm of each parameter over training (log scale)."""
        fig, (ax,) = _figure(1, width=7)
        for name, series in self.grad_norms.items():
            if series:
                s, v = zip(*series)
                ax.plot(s, np.maximum(v, 1e-30), lw=1, label=name)
        ax.set_yscale("log")
        _finish(ax, "gradient norm per layer", "step", "||grad||")
        return _save(fig, path)

    def plot_update_ratios(self, path, threshold: float = STALLED_RATIO):
        """``||update|| / ||weight||`` per parameter over training, with the stalled line at 1e-4."""
        fig, (ax,) = _figure(1, width=7)
        for name, series in self.update_ratios.items():
            if series:
                s, v = zip(*series)
                ax.plot(s, np.maximum(v, 1e-30), lw=1, label=name)
        ax.axhline(threshold, color="red", ls="--", lw=1, label=f"{threshold:g}: below, learning stalls")
        ax.set_yscale("log")
        _finish(ax, "update / weight ratio per layer", "step", "||dw|| / ||w||")
        return _save(fig, path)

    def plot_weight_std(self, path):
        """Standard deviation of each weight matrix against its depth, one line per epoch."""
        fig, (ax,) = _figure(1, width=6)
        if self.weight_std:
            names = list(self.weight_std[-1])
            picks = sorted({0, len(self.weight_std) // 2, len(self.weight_std) - 1})
            cmap = _cmap()
            for j, e in enumerate(picks):
                stds = [self.weight_std[e].get(n, math.nan) for n in names]
                ax.plot(range(len(names)), stds, "-o", color=cmap(j / max(1, len(picks) - 1)), label=f"epoch {e + 1}")
            ax.set_xticks(range(len(names)))
            ax.set_xticklabels(names, rotation=30, ha="right", fontsize=7)
        _finish(ax, "weight std by depth", "layer (input -> output)", "std")
        return _save(fig, path)

    def plot_activations(self, path, capture: int = -1, bins: int = 50):
        """Histogram of each leaf module's activations (the last capture by default)."""
        layers = self.activations[capture][1] if self.activations else {}
        fig, axes = _figure(max(1, len(layers)), width=3.2, cols=4)
        for ax, (name, st) in zip(axes, layers.items()):
            ax.hist(st["values"], bins=bins, color="#4c72b0")
            ax.set_title(f"{name} {tuple(st['shape'])}\nzero {100 * st['zero_fraction']:.0f}%, "
                         f"dead units {100 * st['dead_fraction']:.0f}%", fontsize=8)
            ax.tick_params(labelsize=7)
        if not layers:
            axes[0].set_title("no activations captured")
        epoch = self.activations[capture][0] + 1 if self.activations else 0
        fig.suptitle(f"activations per layer (epoch {epoch}, first batch)", fontsize=10)
        return _save(fig, path)

    def save_all(self, directory):
        """Write every plot into ``directory``; returns dict plot name -> path."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        return {"curves": self.plot_curves(d / "curves.png"), "grad_norms": self.plot_grad_norms(d / "grad_norms.png"),
                "update_ratios": self.plot_update_ratios(d / "update_ratios.png"),
                "weight_std": self.plot_weight_std(d / "weight_std.png"),
                "activations": self.plot_activations(d / "activations.png")}


def _cmap():
    from matplotlib import colormaps
    return colormaps["viridis"]


def _figure(n, width=5, cols=3):
    from matplotlib.figure import Figure
    cols = min(cols, n)
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(width * cols, 3.4 * rows), dpi=90, layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).reshape(-1)
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, list(axes[:n])


def _finish(ax, title, xlabel, ylabel):
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)


def _save(fig, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return str(path)


def example_run(directory="diagnostics", epochs: int = 15, seed: int = 0):
    """Train a small ReLU MLP on two moons with a recorder and write every plot to ``directory``.

    Returns ``(recorder, history, paths)``.
    """
    import autodiff as ad
    import nn
    from nn.data import DataLoader, TensorDataset, train_test_split
    from nn.data.generated import two_moons
    from nn.train import fit

    ad.manual_seed(seed)
    X, y = two_moons(600, noise=0.15, seed=seed)
    Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.25, seed=seed)
    model = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 2))
    rec = TrainingRecorder(model)
    history = fit(model, nn.CrossEntropyLoss(), nn.optim.SGD(model.parameters(), lr=0.1),
                  DataLoader(TensorDataset(Xtr, ytr), batch_size=32, shuffle=True, seed=seed),
                  DataLoader(TensorDataset(Xva, yva), batch_size=128), epochs=epochs, metrics=["accuracy"],
                  recorder=rec, progress=False)
    rec.detach()
    return rec, history, rec.save_all(directory)


if __name__ == "__main__":  # python -m nn.diagnostics [directory]
    import sys
    _, _, out = example_run(sys.argv[1] if len(sys.argv) > 1 else "diagnostics")
    print("\n".join(out.values()))
