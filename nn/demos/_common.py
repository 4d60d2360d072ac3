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


def format_table(header, rows, gap=3) -> str:
    """Rows of strings as left-aligned columns under ``header``, ``gap`` spaces apart."""
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows)]
    sep = " " * gap
    return "\n".join(sep.join(f"{str(c):<{w}}" for c, w in zip(line, widths)).rstrip()
                     for line in [header, *rows])


def _splits(name):
    """Ways to put ``name`` on two lines: after a space (dropped) or after a '/'."""
    out = [("", name)]
    for i in range(1, len(name)):
        if name[i - 1] in " /":
            out.append((name[:i].rstrip(), name[i:]))
    return out


def _header_lines(name):
    """``name`` as (top, bottom) header cells, split where the wider cell is narrowest
    (``'T-shirt/top'`` -> ``('T-shirt/', 'top')``); short names stay on the bottom line."""
    return min(_splits(name), key=lambda tb: (max(len(tb[0]), len(tb[1])), -len(tb[1])))


def format_confusion(matrix, class_names) -> str:
    """A confusion matrix as text: rows are true classes, columns predictions.

    Column headers are the full class names, on two lines where a name is wider than a column.
    """
    matrix = np.asarray(matrix)
    names = [str(n) for n in class_names]
    cells = [_header_lines(n) if len(n) > 8 else ("", n) for n in names]
    width = 1 + max(max(len(str(int(v))) for v in matrix.ravel()),
                    max(max(len(top), len(bottom)) for top, bottom in cells))
    label = max(13, max(len(n) for n in names) + 2)
    lines = ["confusion matrix (rows: true class, columns: predicted)"]
    if any(top for top, _ in cells):
        lines.append(" " * label + "".join(f"{top:>{width}}" for top, _ in cells))
    lines.append(" " * label + "".join(f"{bottom:>{width}}" for _, bottom in cells))
    for name, row in zip(names, matrix):
        lines.append(f"{name:<{label}}" + "".join(f"{int(v):>{width}}" for v in row))
    return "\n".join(lines)
