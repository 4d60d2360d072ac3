"""Selecting elements along one axis by index, and the order statistics built on it.

``TakeAlongAxis`` picks ``a[..., idx, ...]`` along an axis; its gradient is ``ScatterAddAlongAxis``
(the gradient of each picked element added back at its index) and the other way round, so a
``create_graph`` backward differentiates again. ``max(dim)``, ``min(dim)``, ``median(dim)``,
``mode``, ``kthvalue``, ``cummax`` and ``cummin`` find their indices with numpy and take their values
through ``TakeAlongAxis``: the gradient goes to the selected element only, as in PyTorch.
"""
import collections

import numpy as np

from ..function import Function

__all__ = ["TakeAlongAxis", "ScatterAddAlongAxis", "return_type", "argmax_kept", "argmin_kept",
           "median_indices", "mode_indices", "kthvalue_indices", "cumulative_extreme_indices"]


def _full_index(idx, axis):
    """The index tuple that addresses ``a`` at ``idx`` along ``axis`` (open grids elsewhere)."""
    grids = list(np.indices(idx.shape, sparse=True))
    grids[axis] = idx
    return tuple(grids)


class TakeAlongAxis(Function):
    """out = take_along_axis(a, idx, axis): the gradient is added back at idx."""

    exact_grad_shapes = True

    @staticmethod
    def forward(ctx, a, idx, axis):
        ctx.shape, ctx.idx, ctx.axis = a.shape, idx, axis
        return np.take_along_axis(a, idx, axis)

    @staticmethod
    def backward(ctx, g):
        if isinstance(g, np.ndarray):
            out = np.zeros(ctx.shape, g.dtype)
            np.add.at(out, _full_index(ctx.idx, ctx.axis), g)
            return out, None, None
        return ScatterAddAlongAxis.apply(g, ctx.idx, ctx.axis, ctx.shape), None, None


class ScatterAddAlongAxis(Function):
    """out = zeros(shape) with src added at idx along axis: the gradient is taken back at idx."""

    exact_grad_shapes = True

    @staticmethod
    def forward(ctx, src, idx, axis, shape):
        ctx.idx, ctx.axis = idx, axis
        out = np.zeros(shape, src.dtype)
        np.add.at(out, _full_index(idx, axis), src)
        return out

    @staticmethod
    def backward(ctx, g):
        if isinstance(g, np.ndarray):
            return np.take_along_axis(g, ctx.idx, ctx.axis), None, None, None
        return TakeAlongAxis.apply(g, ctx.idx, ctx.axis), None, None, None


_RETURN_TYPES = {}


def return_type(name, fields=("values", "indices")):
    """A namedtuple class like ``torch.return_types.<name>`` (``.values``, ``.indices``, unpacking)."""
    key = (name, fields)
    if key not in _RETURN_TYPES:
        _RETURN_TYPES[key] = collections.namedtuple(name, fields)
    return _RETURN_TYPES[key]


def argmax_kept(a, axis):
    """argmax along ``axis`` with the axis kept (size 1): the first maximum, NaN counting as largest."""
    return np.argmax(a, axis=axis, keepdims=True)


def argmin_kept(a, axis):
    return np.argmin(a, axis=axis, keepdims=True)


def _sorted_indices(a, axis):
    return np.argsort(a, axis=axis, kind="stable")


def median_indices(a, axis):
    """Index of the lower median along ``axis`` (kept, size 1), ties resolved by a stable sort."""
    order = _sorted_indices(a, axis)
    k = (a.shape[axis] - 1) // 2
    return np.take(order, [k], axis=axis)


def kthvalue_indices(a, k, axis):
    """Index of the k-th smallest element (1-based k) along ``axis`` (kept, size 1)."""
    n = a.shape[axis]
    if not 1 <= k <= n:
        raise IndexError(f"kthvalue: k ({k}) is out of range for dimension {axis} of size {n}")
    order = _sorted_indices(a, axis)
    return np.take(order, [k - 1], axis=axis)


def mode_indices(a, axis):
    """Index of the most frequent value along ``axis`` (kept, size 1).

    Among equally frequent values the smallest wins, and its last occurrence is the index, as
    PyTorch's CPU mode returns.
    """
    moved = np.moveaxis(a, axis, -1)
    rows = moved.reshape(-1, moved.shape[-1])
    counts = (rows[:, :, None] == rows[:, None, :]).sum(-1)  # occurrences of each element's value
    best = counts.max(axis=1, keepdims=True)
    candidate = np.where(counts == best, rows, np.inf if rows.dtype.kind == "f" else np.iinfo(np.int64).max)
    value = candidate.min(axis=1, keepdims=True)
    n = rows.shape[1]
    last = n - 1 - np.argmax((rows == value)[:, ::-1], axis=1)
    return np.moveaxis(last.reshape(moved.shape[:-1] + (1,)), -1, axis)


def cumulative_extreme_indices(a, axis, largest):
    """For ``cummax`` (largest=True) or ``cummin``: where each running extreme was found (the last
    position that reached it, as PyTorch; a NaN stays the extreme once seen)."""
    acc = np.maximum.accumulate if largest else np.minimum.accumulate
    values = acc(a, axis=axis)
    shape = [1] * a.ndim
    shape[axis] = a.shape[axis]
    pos = np.arange(a.shape[axis]).reshape(shape)
    hit = (a == values) | np.isnan(a) if a.dtype.kind == "f" else a == values
    idx = np.maximum.accumulate(np.where(hit, pos, 0), axis=axis)
    return idx
