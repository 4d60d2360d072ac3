"""Diagonals and triangles: diagonal, its adjoint (embed a diagonal into zeros), tril/triu."""
import numpy as np

from ..errors import ShapeError
from ..function import Function
from .array_or_tensor import where

__all__ = ["Diagonal", "DiagScatter", "Triangle"]


def _diag_index(shape, offset, dim1, dim2):
    """Row and column indices (along dim1, dim2) of the ``offset`` diagonal of ``shape``."""
    n1, n2 = shape[dim1], shape[dim2]
    length = max(0, min(n1 + min(offset, 0), n2 - max(offset, 0)))
    i = np.arange(length)
    return i - min(offset, 0), i + max(offset, 0)


class Diagonal(Function):
    """diagonal(a, offset, dim1, dim2): the chosen diagonal as the last dim; gradient: embedded back."""

    @staticmethod
    def forward(ctx, a, offset, dim1, dim2):
        ctx.shape, ctx.args = a.shape, (offset, dim1, dim2)
        return np.diagonal(a, offset, dim1, dim2).copy()

    @staticmethod
    def backward(ctx, g):
        return diag_scatter(g, ctx.shape, *ctx.args), None, None, None


class DiagScatter(Function):
    """zeros(shape) with g written on the ``offset`` diagonal of dims (dim1, dim2); the adjoint of
    ``Diagonal`` (its gradient is the diagonal of the gradient)."""

    name = "diagscatter"

    @staticmethod
    def forward(ctx, g, shape, offset, dim1, dim2):
        ctx.args = (offset, dim1, dim2)
        out = np.zeros(shape, g.dtype)
        rows, cols = _diag_index(shape, offset, dim1, dim2)
        moved = np.moveaxis(out, (dim1, dim2), (-2, -1))  # a view of out
        moved[..., rows, cols] = g
        return out

    @staticmethod
    def backward(ctx, gg):
        offset, dim1, dim2 = ctx.args
        if isinstance(gg, np.ndarray):
            return np.diagonal(gg, offset, dim1, dim2).copy(), None, None, None, None
        return Diagonal.apply(gg, offset, dim1, dim2), None, None, None, None


def diag_scatter(g, shape, offset, dim1, dim2):
    if isinstance(g, np.ndarray):
        return DiagScatter.forward(_Ctx(), g, shape, offset, dim1, dim2)
    return DiagScatter.apply(g, shape, offset, dim1, dim2)


class _Ctx:
    """A throwaway ctx for running an op's forward on arrays inside another op's backward."""


class Triangle(Function):
    """tril/triu over the last two dims: entries outside the triangle become 0, and so does their gradient."""

    @staticmethod
    def forward(ctx, a, diagonal, upper):
        if a.ndim < 2:
            raise ShapeError(f"{'triu' if upper else 'tril'}: input tensor must have at least 2 dimensions, "
                             f"got shape {a.shape}")
        n, m = a.shape[-2:]
        keep = ~np.tri(n, m, diagonal - 1, dtype=bool) if upper else np.tri(n, m, diagonal, dtype=bool)
        ctx.keep = keep
        return np.where(keep, a, np.zeros((), a.dtype))

    @staticmethod
    def backward(ctx, g):
        return where(ctx.keep, g, 0.0), None, None
