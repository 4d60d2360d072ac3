"""Shared body of the image demos (LeNet, MLP): data, training with fit, evaluation, plots."""

from __future__ import annotations

import time

import numpy as np

import autodiff as ad
import nn
from nn.data import DataLoader, TensorDataset
from nn.data.idx import FASHION_MNIST_CLASSES, find_data_dir, load_image_set
from nn.demos._common import format_confusion, out_path, save_curves
from nn.metrics import confusion_matrix
from nn.train import Callback, fit, predict


class BatchLosses(Callback):
    """Records the loss of every training batch (for the loss curve)."""

    def __init__(self):
        self.losses = []

    def on_batch_end(self, loss, **kwargs):
        self.losses.append(loss)


def load_arrays(args, image_shape):
    """Train/test arrays scaled to [0, 1], reshaped to ``image_shape`` per sample."""
    directory = find_data_dir(args.data)
    x_train, y_train = load_image_set(directory, "train", scale=True)
    x_test, y_test = load_image_set(directory, "test", scale=True)
    if args.limit:
        x_train, y_train = x_train[:args.limit], y_train[:args.limit]
    if args.test_limit:
        x_test, y_test = x_test[:args.test_limit], y_test[:args.test_limit]
    x_train = x_train.reshape((len(x_train),) + image_shape)
    x_test = x_test.reshape((len(x_test),) + image_shape)
    print(f"data: {len(x_train)} training and {len(x_test)} test images from {directory}")
    return x_train, y_train, x_test, y_test


def train_and_report(args, model, name, image_shape, default_epochs=1, default_lr=1e-3):
    """Train ``model`` with Adam on the image set; print accuracy and confusion matrix; save plots.

    Returns:
        ``(history, test_accuracy, (x_train, y_train))``.
    """
    ad.manual_seed(args.seed)
    x_train, y_train, x_test, y_test = load_arrays(args, image_shape)
    batch_size = args.batch_size or 64
    train_loader = DataLoader(TensorDataset(x_train, y_train), batch_size=batch_size, shuffle=True,
                              seed=args.seed)
    test_loader = DataLoader(TensorDataset(x_test, y_test), batch_size=500)
    optimizer = nn.optim.Adam(model.parameters(), lr=args.lr or default_lr)
    recorder = BatchLosses()
    epochs = args.epochs or default_epochs
    n_params = sum(p.data.size for p in model.parameters())
    print(f"{name}: {n_params:,} parameters; Adam lr {args.lr or default_lr}, batch {batch_size}, "
          f"{epochs} epoch(s)")
    t0 = time.perf_counter()
    history = fit(model, nn.CrossEntropyLoss(), optimizer, train_loader, val_loader=test_loader,
                  epochs=epochs, metrics=["accuracy"], recorder=recorder,
                  progress=not args.no_progress)
    train_time = time.perf_counter() - t0
    logits, targets = predict(model, test_loader)
    pred = logits.argmax(axis=1)
    acc = float(np.mean(pred == targets))
    print(f"\n{name} test accuracy: {100 * acc:.2f}% on {len(targets)} images "
          f"(training {train_time:.1f} s, {train_time / epochs:.1f} s per epoch)")
    print(format_confusion(confusion_matrix(targets, pred, labels=list(range(10))),
                           FASHION_MNIST_CLASSES))
    curves = {"training batch loss": recorder.losses}
    if len(recorder.losses) >= 20:
        k = max(5, len(recorder.losses) // 50)
        smooth = np.convolve(recorder.losses, np.ones(k) / k, mode="valid")
        curves[f"moving average ({k} batches)"] = (np.arange(k, len(recorder.losses) + 1), smooth)
    path = save_curves(out_path(args, f"{name.lower()}_loss.png"), curves,
                       f"{name} on Fashion-MNIST: training loss", xlabel="batch")
    print(f"saved {path}")
    return history, acc, (x_train, y_train)
