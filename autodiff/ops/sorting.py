"""Sorting and searching on arrays: the index arrays behind sort, argsort, topk, unique, searchsorted.

Values are then taken through a differentiable gather, so the gradient of ``sort(x).values`` goes back
to the element that landed in each place, as in PyTorch. Index results are int64.
"""
import numpy as np

from ..errors import ShapeError
from .select import return_type  # the one registry of torch.return_types-like namedtuples

__all__ = ["sort_indices", "topk_indices", "unique", "searchsorted", "return_type"]


def sort_indices(a, axis, descending=False):
    """Stable argsort along ``axis``; NaN counts as the largest value, as in PyTorch.

    Descending keeps equal elements in their original order (a stable sort on a reversed key).
    """
    if a.ndim == 0:
        return np.zeros((), np.int64)
    if a.dtype == bool:
        a = a.astype(np.int8)
    if not descending:
        return np.argsort(a, axis=axis, kind="stable").astype(np.int64)
    if a.dtype.kind == "f":
        nan = np.isnan(a)
        key = np.where(nan, 0, -a)
        order = np.lexsort((key, ~nan), axis=axis) if a.size else np.zeros(a.shape, np.intp)
    elif a.dtype.kind == "u":
        order = np.argsort(np.iinfo(a.dtype).max - a, axis=axis, kind="stable")
    else:
        order = np.argsort(~a, axis=axis, kind="stable")  # ~x = -x - 1 reverses the order, no overflow
    return order.astype(np.int64)


def topk_indices(a, k, axis, largest=True):
    """Indices of the ``k`` largest (or smallest) elements along ``axis``, in sorted order."""
    order = sort_indices(a, axis, descending=largest)
    return np.take(order, np.arange(k), axis=axis)


def unique(a, return_inverse=False, return_counts=False, dim=None):
    """Sorted unique values (of the flattened array or of slices along ``dim``), inverse and counts."""
    if dim is None:
        vals, inv, counts = np.unique(a, return_inverse=True, return_counts=True)
        inv = inv.reshape(a.shape)
    else:
        vals, inv, counts = np.unique(a, return_inverse=True, return_counts=True, axis=dim)
        inv = inv.reshape(-1)
    return vals, inv.astype(np.int64), counts.astype(np.int64)


def searchsorted(seq, values, right=False, sorter=None):
    """Insertion points of ``values`` in ``seq`` along its last dim (1-d, or matching leading dims)."""
    side = "right" if right else "left"
    if seq.ndim == 1:
        s = seq if sorter is None else seq[sorter]
        return np.searchsorted(s, values, side=side).astype(np.int64)
    if seq.shape[:-1] != values.shape[:-1]:
        raise ShapeError(f"searchsorted: boundaries {seq.shape} and input value {values.shape} must have "
                         "the same leading dimensions (all but the last)")
    s2 = seq.reshape(-1, seq.shape[-1])
    if sorter is not None:
        s2 = np.take_along_axis(s2, sorter.reshape(s2.shape), axis=1)
    v2 = values.reshape(-1, values.shape[-1])
    out = np.stack([np.searchsorted(s, v, side=side) for s, v in zip(s2, v2)]) if len(s2) else \
        np.zeros(v2.shape, np.int64)
    return out.reshape(values.shape).astype(np.int64)
