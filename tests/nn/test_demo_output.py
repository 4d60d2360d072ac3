"""The demos' text tables: full class names in the confusion matrix, aligned columns."""
import re

import numpy as np
import pytest

from nn.data import FASHION_MNIST_CLASSES
from nn.demos._common import format_confusion, format_table


def _right_edges(line):
    return [m.end() for m in re.finditer(r"\S+", line)]


@pytest.mark.parametrize("names", [FASHION_MNIST_CLASSES, ["a", "b", "c"], ["cat", "a very long name"]])
def test_confusion_matrix_headers_keep_the_whole_names_and_line_up(names):
    k = len(names)
    matrix = np.arange(k * k).reshape(k, k) * 137
    lines = format_confusion(matrix, names).splitlines()
    header = lines[1:-k]
    rows = lines[-k:]
    for name, row in zip(names, rows):
        assert row.startswith(name + " ")
        assert [int(v) for v in row[len(name):].split()] == list(matrix[names.index(name)])
    # each column's header cells end where its numbers end; together they spell the whole name
    edges = _right_edges(rows[0])[-k:]
    width = edges[1] - edges[0] if k > 1 else 9
    for name, edge in zip(names, edges):
        parts = [h[edge - width:edge] for h in header]
        assert all(p == "" or not p.strip() or p[-1] != " " for p in parts), parts
        words = [p.strip() for p in parts if p.strip()]
        assert " ".join(words).replace("/ ", "/") == name


def test_table_columns_start_at_the_same_place_in_header_and_rows():
    header = ("pattern", "hidden code (sigmoid)", "rounded", "reconstructed")
    rows = [("10000000", "[0.97 0.95 0.98]", "111", "0"), ("01000000", "[0.01 0.01 0.03]", "000", "1")]
    lines = format_table(header, rows).splitlines()
    starts = [lines[0].index(h) for h in header]
    for line, row in zip(lines[1:], rows):
        assert [line.index(cell, start) for cell, start in zip(row, starts)] == starts
