"""Helpers shared by the demos: output paths, plots, printing a confusion matrix."""

from __future__ import annotations

import os

import numpy as np


def out_path(args, name: str) -> str:
    os.makedirs(args.out, exist_ok=True)
    return os.path.join(args.out, name)


def save_curves(path: str, curves: dict, title: str, xlabel: str = "step", ylabel: str = "loss",
                logy: bool = False) -> str:
    """Plot named sequences (name -> list or (x, y)) to ``path`` with matplotlib's Agg backend."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for name, values in curves.items():
        if isinstance(values, tuple):
            ax.plot(values[0], values[1], label=name)
        else:
            ax.plot(np.arange(1, len(values) + 1), values, label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if logy:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def format_confusion(matrix, class_names) -> str:
    """A confusion matrix as text: rows are true classes, columns predictions."""
    matrix = np.asarray(matrix)
    short = [n[:7] for n in class_names]
    width = max(6, max(len(str(int(v))) for v in matrix.ravel()) + 1)
    head = " " * 13 + "".join(f"{s:>{max(width, 8)}}" for s in short)
    lines = ["confusion matrix (rows: true class, columns: predicted)", head]
    for name, row in zip(class_names, matrix):
        lines.append(f"{name[:12]:<13}" + "".join(f"{int(v):>{max(width, 8)}}" for v in row))
    return "\n".join(lines)
