"""Fashion-MNIST accuracy and time per epoch: our MLP and LeNet against the same in PyTorch.

Long-running (whole training runs): skipped under ``--quick``. Each row trains once per
side (``repeat=1``); the accuracy rows and the time rows of one model share that run.
``ACCURACY_EPOCHS`` (default 10) sets the epochs; ``ACCURACY_LIMIT`` trains on the first N
images only. Run one model by hand with
``python -m benchmarks.cases.accuracy --model mlp --epochs 10 [--side ours|torch]``.

Recipe (both sides identical): inputs scaled to [0, 1]; Adam, lr 1e-3, batch 64,
cross-entropy; the same seeded shuffling order every epoch on both sides;
PyTorch's default initialisation (ours follows the same rules); test accuracy on all
10,000 test images after the last epoch.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from benchmarks.harness import Case, Skip, optional_import, register, require

BATCH, LR = 64, 1e-3
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


def _shape(model_name, x):
    return x.reshape(len(x), 1, 28, 28) if model_name == "lenet" else x.reshape(len(x), 784)


def train_ours(model_name, epochs, limit=None, seed=0, log=print):
    """Train our model; returns ``(test_accuracy, seconds_per_epoch, per_epoch_accuracies)``."""
    import autodiff as ad
    import nn
    from nn.models.lenet import LeNet
    from nn.models.mlp import MLP
    x_tr, y_tr, x_te, y_te = _data(limit)
    x_tr, x_te = _shape(model_name, x_tr), _shape(model_name, x_te)
    ad.manual_seed(seed)
    model = LeNet() if model_name == "lenet" else MLP(784, [256, 128], 10)
    opt = nn.optim.Adam(model.parameters(), lr=LR)
    loss_fn = nn.CrossEntropyLoss()
    times, accs = [], []
    for epoch, order in enumerate(_orders(len(x_tr), epochs, seed)):
        model.train()
        t0 = time.perf_counter()
        for start in range(0, len(order), BATCH):
            idx = order[start:start + BATCH]
            opt.zero_grad()
            loss = loss_fn(model(ad.Tensor(x_tr[idx])), ad.Tensor(y_tr[idx]))
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - t0)
        model.eval()
        with ad.no_grad():
            pred = np.concatenate([model(ad.Tensor(x_te[i:i + 1000])).data.argmax(1)
                                   for i in range(0, len(x_te), 1000)])
        accs.append(float(np.mean(pred == y_te)))
        log(f"ours  {model_name} epoch {epoch + 1}: test acc {100 * accs[-1]:.2f}%  {times[-1]:.1f} s"
            f"  (load average {os.getloadavg()[0]:.1f})")
    return accs[-1], float(np.median(times)), accs


def train_torch(model_name, epochs, limit=None, seed=0, log=print):
    """The same model and recipe in PyTorch; same return values as :func:`train_ours`."""
    torch = optional_import("torch")
    if torch is None:
        raise Skip("torch not installed")
    tnn = torch.nn
    x_tr, y_tr, x_te, y_te = _data(limit)
    x_tr, x_te = _shape(model_name, x_tr), _shape(model_name, x_te)
    torch.manual_seed(seed)
    if model_name == "lenet":
        model = tnn.Sequential(tnn.Conv2d(1, 20, 5), tnn.ReLU(), tnn.MaxPool2d(2, 2),
                               tnn.Conv2d(20, 50, 5), tnn.ReLU(), tnn.MaxPool2d(2, 2), tnn.Flatten(),
                               tnn.Linear(800, 500), tnn.ReLU(), tnn.Linear(500, 10))
    else:
        model = tnn.Sequential(tnn.Linear(784, 256), tnn.ReLU(), tnn.Linear(256, 128), tnn.ReLU(),
                               tnn.Linear(128, 10))
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    loss_fn = tnn.CrossEntropyLoss()
    xt, yt = torch.from_numpy(x_tr), torch.from_numpy(y_tr)
    xe = torch.from_numpy(x_te)
    times, accs = [], []
    for epoch, order in enumerate(_orders(len(x_tr), epochs, seed)):
        model.train()
        order_t = torch.from_numpy(order)
        t0 = time.perf_counter()
        for start in range(0, len(order), BATCH):
            idx = order_t[start:start + BATCH]
            opt.zero_grad()
            loss = loss_fn(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - t0)
        model.eval()
        with torch.no_grad():
            pred = torch.cat([model(xe[i:i + 1000]).argmax(1) for i in range(0, len(xe), 1000)])
        accs.append(float(np.mean(pred.numpy() == y_te)))
        log(f"torch {model_name} epoch {epoch + 1}: test acc {100 * accs[-1]:.2f}%  {times[-1]:.1f} s"
            f"  (load average {os.getloadavg()[0]:.1f})")
    return accs[-1], float(np.median(times)), accs


def _run(side, model_name):
    epochs = int(os.environ.get("ACCURACY_EPOCHS", "10"))
    limit = int(os.environ.get("ACCURACY_LIMIT", "0")) or None
    key = (side, model_name, epochs, limit)
    if key not in _CACHE:
        fn = train_ours if side == "ours" else train_torch
        _CACHE[key] = fn(model_name, epochs, limit, log=lambda *a: None)
    return _CACHE[key]


def _check(quick, model_name):
    if quick:
        raise Skip("trains for minutes; run without --quick (e.g. --filter accuracy)")
    needed = ["Linear", "ReLU", "CrossEntropyLoss", "optim.Adam"]
    if model_name == "lenet":
        needed += ["Conv2d", "MaxPool2d", "Flatten"]
    require("nn", *needed)
    _data()


def _make_rows(model_name, target):
    def acc_case(quick):
        _check(quick, model_name)
        return Case(ours=lambda: 100 * _run("ours", model_name)[0],
                    refs={"torch": lambda: 100 * _run("torch", model_name)[0]},
                    kind="value", unit="%", repeat=1,
                    notes=f"{model_name}: Fashion-MNIST test accuracy (%) after ACCURACY_EPOCHS "
                          f"(default 10) epochs, Adam lr {LR}, batch {BATCH}; target >= {target}%")

    def time_case(quick):
        _check(quick, model_name)
        return Case(ours=lambda: _run("ours", model_name)[1],
                    refs={"torch": lambda: _run("torch", model_name)[1]},
                    kind="value", unit="s", repeat=1,
                    notes=f"{model_name}: median seconds per training epoch over ACCURACY_EPOCHS epochs "
                          f"(PyTorch's first epoch here is much slower than the rest: warm-up)")

    register(f"accuracy.fashion_{model_name}.test_acc", group="accuracy")(acc_case)
    register(f"accuracy.fashion_{model_name}.epoch_time", group="accuracy")(time_case)


_make_rows("mlp", 87)
_make_rows("lenet", 90)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.cases.accuracy")
    p.add_argument("--model", choices=["mlp", "lenet"], default="mlp")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--side", choices=["ours", "torch", "both"], default="both")
    args = p.parse_args(argv)
    for side in (["ours", "torch"] if args.side == "both" else [args.side]):
        fn = train_ours if side == "ours" else train_torch
        acc, sec, accs = fn(args.model, args.epochs, args.limit)
        print(f"RESULT {side} {args.model} epochs={args.epochs}: final test acc {100 * acc:.2f}%, "
              f"best {100 * max(accs):.2f}% (epoch {int(np.argmax(accs)) + 1}), "
              f"median {sec:.2f} s/epoch; per epoch: {', '.join(f'{100 * a:.2f}' for a in accs)}",
              flush=True)


if __name__ == "__main__":
    main()
