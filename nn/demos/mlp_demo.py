"""An MLP (784-256-128-10, ReLU) on Fashion-MNIST."""

from __future__ import annotations

from nn.demos._images import train_and_report
from nn.models.mlp import MLP


def run(args):
    model = MLP(28 * 28, [256, 128], 10)
    train_and_report(args, model, "MLP", (28 * 28,), default_epochs=3)
