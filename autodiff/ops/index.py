"""Indexing with ints, slices, None, Ellipsis, integer arrays and boolean masks."""
import numpy as np

from ..function import Function


def _has_advanced(key):
    parts = key if isinstance(key, tuple) else (key,)
    return any(isinstance(k, (np.ndarray, list)) for k in parts)


class GetItem(Function):
    """a[key]: the gradient is scattered back (repeated indices accumulate)."""

    name = "getitem"

    @staticmethod
    def forward(ctx, a, key):
        ctx.shape, ctx.dtype, ctx.key = a.shape, a.dtype, key
        try:
            return np.asarray(a[key])
        except IndexError as e:
            raise IndexError(f"getitem: {e} (tensor of shape {a.shape})") from None

    @staticmethod
    def backward(ctx, g):
        if isinstance(g, np.ndarray):
            return scatter_add(g, ctx.shape, ctx.dtype, ctx.key), None
        return ScatterAdd.apply(g, ctx.shape, ctx.key), None


def scatter_add(g, shape, dtype, key):
    out = np.zeros(shape, dtype)
    if _has_advanced(key):
        np.add.at(out, key, g)
    else:
        out[key] = g
    return out


class ScatterAdd(Function):
    """zeros(shape) with g added at ``key``: the adjoint of indexing (its gradient is g[key])."""

    @staticmethod
    def forward(ctx, g, shape, key):
        ctx.key = key
        return scatter_add(g, shape, g.dtype, key)

    @staticmethod
    def backward(ctx, gg):
        return gg[ctx.key], None, None
