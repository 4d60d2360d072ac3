"""The main demo: LeNet on Fashion-MNIST for one epoch, then pictures of one training step."""

from __future__ import annotations

from nn.demos._graphs import render_training_step
from nn.demos._images import train_and_report
from nn.models.lenet import LeNet


def run(args):
    model = LeNet()
    _, _, (x_train, y_train) = train_and_report(args, model, "LeNet", (1, 28, 28))
    if args.no_graph:
        return
    render_training_step(args, model, x_train[:4], y_train[:4], "lenet")
