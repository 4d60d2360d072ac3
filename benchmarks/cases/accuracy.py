"""Fashion-MNIST accuracy and time per epoch: our MLP and LeNet against the same in PyTorch.

Long-running (whole training runs): skipped under ``--quick``. Each row trains once per
side (``repeat=1``); the accuracy rows and the time rows of one model share that run.
``ACCURACY_EPOCHS`` (default 10) sets the epochs; ``ACCURACY_LIMIT`` trains on the first N
images only. Run by hand with
``python -m benchmarks.cases.accuracy --model mlp --epochs 10 [--seeds 3] [--init shared|own]
[--side ours|torch|both] [--threads N]``.

Recipe (both sides identical): inputs scaled to [0, 1]; Adam, lr 1e-3, batch 64,
cross-entropy; the same seeded shuffling order every epoch on both sides; test accuracy on
all 10,000 test images after the last epoch.

Initialisation: with ``init="shared"`` (the default, and what the benchmark rows use) the
PyTorch model starts from a copy of our model's initial weights, so the two runs differ only
by floating-point rounding and the accuracy gap measures the engines, not initialisation
luck. ``init="own"`` lets PyTorch draw its own weights (``torch.manual_seed(seed)``; ours
follows the same rules from our generator): then the gap also contains that luck.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from benchmarks.harness import (Case, Skip, enforce_torch_threads, optional_import, register, require,
                               set_threads)

BATCH, LR = 64, 1e-3
INITS = ("shared", "own")
_CACHE: dict = {}


def _data(limit=None):
    from nn.data.idx import load_image_set
    key = ("data", limit)
    if key not in _CACHE:
        try:
            x_tr, y_tr = load_image_set(split="train", scale=True)
            x_te, y_te = load_image_set(split="test", scale=True)
        except FileNotFoundError as exc:
            raise Skip(f"Fashion-MNIST not found ({exc})") from None
        if limit:
            x_tr, y_tr = x_tr[:limit], y_tr[:limit]
        _CACHE[key] = (x_tr, y_tr, x_te, y_te)
    return _CACHE[key]


def _orders(n, epochs, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.permutation(n) for _ in range(epochs)]


def shape_input(model_name, x):
    """Images ``(N, 28, 28)`` as the model's input: ``(N, 1, 28, 28)`` for LeNet, ``(N, 784)`` for the MLP."""
    return x.reshape(len(x), 1, 28, 28) if model_name == "lenet" else x.reshape(len(x), 784)


def build_ours(model_name, seed=0):
    """Our model, initialised from ``ad.manual_seed(seed)``."""
    import autodiff as ad
    from nn.models.lenet import LeNet
    from nn.models.mlp import MLP
    ad.manual_seed(seed)
    return LeNet() if model_name == "lenet" else MLP(784, [256, 128], 10)


def build_torch(model_name):
    """The same architecture in PyTorch (its own default initialisation from torch's generator)."""
    torch = optional_import("torch")
    if torch is None:
        raise Skip("torch not installed")
    tnn = torch.nn
    if model_name == "lenet":
        return tnn.Sequential(tnn.Conv2d(1, 20, 5), tnn.ReLU(), tnn.MaxPool2d(2, 2),
                              tnn.Conv2d(20, 50, 5), tnn.ReLU(), tnn.MaxPool2d(2, 2), tnn.Flatten(),
                              tnn.Linear(800, 500), tnn.ReLU(), tnn.Linear(500, 10))
    return tnn.Sequential(tnn.Linear(784, 256), tnn.ReLU(), tnn.Linear(256, 128), tnn.ReLU(),
                          tnn.Linear(128, 10))


def copy_weights(ours, torch_model):
    """Copy every parameter of our model into the PyTorch model, in order.

    Both libraries store a Linear weight as ``(out, in)`` and a Conv2d weight as
    ``(out, in, kh, kw)``, so the arrays are copied as they are; a shape or count mismatch
    raises ValueError naming both shapes.
    """
    import torch
    src = list(ours.named_parameters())
    dst = list(torch_model.named_parameters())
    if len(src) != len(dst):
        raise ValueError(f"copy_weights: our model has {len(src)} parameters, the torch model {len(dst)}")
    for (name, p), (tname, tp) in zip(src, dst):  # all checked before anything is copied
        if tuple(p.shape) != tuple(tp.shape):
            raise ValueError(f"copy_weights: our {name} has shape {tuple(p.shape)} but torch's "
                             f"{tname} has shape {tuple(tp.shape)}")
    with torch.no_grad():
        for (_, p), (_, tp) in zip(src, dst):
            tp.copy_(torch.from_numpy(np.ascontiguousarray(p.data, dtype=np.float32)))


def paired_models(model_name, seed=0, init="shared"):
    """``(ours, torch_model)``: with ``init='shared'`` torch's starts from a copy of ours."""
    if init not in INITS:
        raise ValueError(f"accuracy: init must be one of {INITS}, got {init!r}")
    ours = build_ours(model_name, seed)
    torch = optional_import("torch")
    if torch is None:
        raise Skip("torch not installed")
    torch.manual_seed(seed)
    tmodel = build_torch(model_name)
    if init == "shared":
        copy_weights(ours, tmodel)
    return ours, tmodel


def recipe_ours(model):
    """``(optimizer, loss_fn)`` of the recipe for our model."""
    import nn
    return nn.optim.Adam(model.parameters(), lr=LR), nn.CrossEntropyLoss()


def recipe_torch(model):
    """``(optimizer, loss_fn)`` of the recipe for the PyTorch model."""
    import torch
    return torch.optim.Adam(model.parameters(), lr=LR), torch.nn.CrossEntropyLoss()


def step_ours(model, opt, loss_fn, x, y):
    """One training step on ndarrays ``x``, ``y``; returns the loss before the update (float)."""
    import autodiff as ad
    opt.zero_grad()
    loss = loss_fn(model(ad.Tensor(x)), ad.Tensor(y))
    loss.backward()
    opt.step()
    return float(loss.item())


def step_torch(model, opt, loss_fn, x, y):
    """One training step on torch tensors ``x``, ``y``; returns the loss before the update (float)."""
    opt.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    opt.step()
    return float(loss.item())


def _log_epoch(log, side, model_name, epoch, acc, sec):
    log(f"{side:5s} {model_name} epoch {epoch + 1}: test acc {100 * acc:.2f}%  {sec:.1f} s"
        f"  (load average {os.getloadavg()[0]:.1f})")


def train_ours(model_name, epochs, limit=None, seed=0, log=print, model=None):
    """Train our model; returns ``(test_accuracy, seconds_per_epoch, per_epoch_accuracies)``.

    ``model``: start from this model instead of a fresh ``build_ours(model_name, seed)``.
    """
    import autodiff as ad
    x_tr, y_tr, x_te, y_te = _data(limit)
    x_tr, x_te = shape_input(model_name, x_tr), shape_input(model_name, x_te)
    model = build_ours(model_name, seed) if model is None else model
    opt, loss_fn = recipe_ours(model)
    times, accs = [], []
    for epoch, order in enumerate(_orders(len(x_tr), epochs, seed)):
        model.train()
        t0 = time.perf_counter()
        for start in range(0, len(order), BATCH):
            idx = order[start:start + BATCH]
            step_ours(model, opt, loss_fn, x_tr[idx], y_tr[idx])
        times.append(time.perf_counter() - t0)
        model.eval()
        with ad.no_grad():
            pred = np.concatenate([model(ad.Tensor(x_te[i:i + 1000])).data.argmax(1)
                                   for i in range(0, len(x_te), 1000)])
        accs.append(float(np.mean(pred == y_te)))
        _log_epoch(log, "ours", model_name, epoch, accs[-1], times[-1])
    return accs[-1], float(np.median(times)), accs, times


def train_torch(model_name, epochs, limit=None, seed=0, log=print, init="shared"):
    """The same model and recipe in PyTorch; same return values as :func:`train_ours`.

    ``init='shared'``: start from our model's initial weights for ``seed``; ``'own'``: PyTorch's
    own initialisation after ``torch.manual_seed(seed)``.
    """
    import torch
    x_tr, y_tr, x_te, y_te = _data(limit)
    x_tr, x_te = shape_input(model_name, x_tr), shape_input(model_name, x_te)
    _, model = paired_models(model_name, seed, init)
    enforce_torch_threads()  # the run's thread count, if one was set (Numba's OpenMP may change it)
    opt, loss_fn = recipe_torch(model)
    xt, yt = torch.from_numpy(x_tr), torch.from_numpy(y_tr)
    xe = torch.from_numpy(x_te)
    times, accs = [], []
    for epoch, order in enumerate(_orders(len(x_tr), epochs, seed)):
        model.train()
        order_t = torch.from_numpy(order)
        t0 = time.perf_counter()
        for start in range(0, len(order), BATCH):
            idx = order_t[start:start + BATCH]
            step_torch(model, opt, loss_fn, xt[idx], yt[idx])
        times.append(time.perf_counter() - t0)
        model.eval()
        with torch.no_grad():
            pred = torch.cat([model(xe[i:i + 1000]).argmax(1) for i in range(0, len(xe), 1000)])
        accs.append(float(np.mean(pred.numpy() == y_te)))
        _log_epoch(log, "torch", model_name, epoch, accs[-1], times[-1])
    return accs[-1], float(np.median(times)), accs, times


# ------------------------------------------------------------------ benchmark rows

def _run(side, model_name):
    epochs = int(os.environ.get("ACCURACY_EPOCHS", "10"))
    limit = int(os.environ.get("ACCURACY_LIMIT", "0")) or None
    key = (side, model_name, epochs, limit, "shared")
    if key not in _CACHE:
        if side == "ours":
            _CACHE[key] = train_ours(model_name, epochs, limit, log=lambda *a: None)
        else:
            _CACHE[key] = train_torch(model_name, epochs, limit, log=lambda *a: None, init="shared")
    return _CACHE[key]


def _check(quick, model_name):
    if quick:
        raise Skip("trains for minutes; run without --quick (e.g. --filter accuracy)")
    needed = ["Linear", "ReLU", "CrossEntropyLoss", "optim.Adam"]
    if model_name == "lenet":
        needed += ["Conv2d", "MaxPool2d", "Flatten"]
    require("nn", *needed)
    _data()


_SHARED_NOTE = ("torch starts from a copy of our initial weights (seed 0), same batch order and "
                "recipe, so the gap is floating-point rounding in the engines, not init luck")


def _make_rows(model_name, target):
    def acc_case(quick):
        _check(quick, model_name)
        return Case(ours=lambda: 100 * _run("ours", model_name)[0],
                    refs={"torch": lambda: 100 * _run("torch", model_name)[0]},
                    kind="value", unit="%", repeat=1,
                    notes=f"{model_name}: Fashion-MNIST test accuracy (%) after ACCURACY_EPOCHS "
                          f"(default 10) epochs, Adam lr {LR}, batch {BATCH}; {_SHARED_NOTE}; "
                          f"target >= {target}% and within 0.5 pp of torch")

    def time_case(quick):
        _check(quick, model_name)
        return Case(ours=lambda: _run("ours", model_name)[1],
                    refs={"torch": lambda: _run("torch", model_name)[1]},
                    kind="value", unit="s", repeat=1,
                    notes=f"{model_name}: median seconds per training epoch over ACCURACY_EPOCHS epochs, "
                          f"shared initial weights (PyTorch's first epoch here is much slower than "
                          f"the rest: warm-up)")

    register(f"accuracy.fashion_{model_name}.test_acc", group="accuracy")(acc_case)
    register(f"accuracy.fashion_{model_name}.epoch_time", group="accuracy")(time_case)


_make_rows("mlp", 87)
_make_rows("lenet", 90)


# ------------------------------------------------------------------ command line

def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.cases.accuracy")
    p.add_argument("--model", choices=["mlp", "lenet"], default="mlp")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--limit", type=int, default=None, help="train on the first N images only")
    p.add_argument("--side", choices=["ours", "torch", "both"], default="both")
    p.add_argument("--init", choices=list(INITS), default="shared",
                   help="shared: torch starts from our initial weights; own: each side draws its own")
    p.add_argument("--seeds", type=int, default=1, help="run seeds 0..N-1 (init and batch order)")
    p.add_argument("--seed", type=int, default=0, help="first seed")
    p.add_argument("--threads", type=int, metavar="N",
                   help="threads for BLAS, torch and numba alike (as python -m benchmarks --threads)")
    args = p.parse_args(argv)
    if args.threads is not None:
        if args.threads < 1:
            p.error("--threads must be >= 1")
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
            os.environ[var] = str(args.threads)  # before numba/torch load their thread pools
        print(f"threads: {set_threads(args.threads)}", flush=True)
    sides = ["ours", "torch"] if args.side == "both" else [args.side]
    seeds = list(range(args.seed, args.seed + args.seeds))
    acc = {s: [] for s in sides}
    times = {s: [] for s in sides}
    for seed in seeds:
        for side in sides:
            if side == "ours":
                a, sec, accs, ts = train_ours(args.model, args.epochs, args.limit, seed)
            else:
                a, sec, accs, ts = train_torch(args.model, args.epochs, args.limit, seed, init=args.init)
            acc[side].append(a)
            times[side] += ts
            print(f"RESULT {side} {args.model} seed={seed} init={args.init} epochs={args.epochs}: "
                  f"final test acc {100 * a:.2f}%, best {100 * max(accs):.2f}% "
                  f"(epoch {int(np.argmax(accs)) + 1}), median {sec:.2f} s/epoch; "
                  f"per epoch: {', '.join(f'{100 * x:.2f}' for x in accs)}", flush=True)
    print(f"SUMMARY {args.model} init={args.init} epochs={args.epochs} seeds={seeds}", flush=True)
    for side in sides:
        print(f"  {side:5s} acc per seed: {', '.join(f'{100 * a:.2f}' for a in acc[side])}; "
              f"mean {100 * np.mean(acc[side]):.2f}%; median {np.median(times[side]):.2f} s/epoch "
              f"(over {len(times[side])} epochs)", flush=True)
    if len(sides) == 2:
        gaps = 100 * (np.array(acc["ours"]) - np.array(acc["torch"]))
        print(f"  gap ours - torch per seed (pp): {', '.join(f'{g:+.2f}' for g in gaps)}; "
              f"mean {gaps.mean():+.2f} pp, mean |gap| {np.abs(gaps).mean():.2f} pp", flush=True)


if __name__ == "__main__":
    main()
