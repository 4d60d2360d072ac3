"""Indexing with ints, slices, None, Ellipsis, integer arrays and boolean masks."""
import numpy as np

from ..function import Function


def _has_advanced(key):
    parts = key if isinstance(key, tuple) else (key,)
    return any(isinstance(k, (np.ndarray, list)) for k in parts)


class GetItem(Function):
    """a[key]: the gradient is scattered back (repeated indices accumulate)."""

    name = "getitem"
    returns_view = True  # basic indexing returns a view; advanced indexing a copy

    @staticmethod
    def forward(ctx, a, key):
        ctx.shape, ctx.dtype, ctx.key = a.shape, a.dtype, key
        try:
            out = a[key]
            if not isinstance(out, np.ndarray):  # one element by basic indexing: numpy gives a copy
                out = a[(key if isinstance(key, tuple) else (key,)) + (Ellipsis,)]  # a 0-d view
            return out
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


class SetItem(Function):
    """a with a[key] = v: the gradient flows to a outside key and to v (reduced to v's shape) inside."""

    name = "setitem"

    @staticmethod
    def forward(ctx, a, v, key):
        out = a.copy()
        out[key] = v
        ctx.key, ctx.v_shape = key, np.shape(v)
        return out

    @staticmethod
    def backward(ctx, g):
        from .array_or_tensor import unbroadcast
        na, nv = ctx.needs_input_grad[:2]
        ga = gv = None
        if nv:
            gv = unbroadcast(g[ctx.key], ctx.v_shape)
        if na:
            if isinstance(g, np.ndarray):
                ga = g.copy()
                ga[ctx.key] = 0
            else:
                mask = np.ones(g.shape, bool)
                mask[ctx.key] = False
                ga = g * mask
        return ga, gv, None


class CopySlices(Function):
    """The base of a view after the view was changed in place: its values outside the view, the
    view's new values inside (PyTorch's ``CopySlices``).

    The base's array already holds the new values (the view shares its memory), so ``forward`` only
    records which base elements the view covers: ``vidx`` gives, for each view element, the flat index
    of its base element (the view's ops replayed on ``arange``; views never repeat an element).
    Gradients: the base's old value gets ``g`` outside the view, the view's new value gets ``g`` at the
    view's elements. Works on arrays and, under create_graph, on Tensors.
    """

    name = "copyslices"
    exact_grad_shapes = True

    @staticmethod
    def forward(ctx, base, view, vidx):
        mask = np.ones(base.shape, bool)
        mask.reshape(-1)[vidx.reshape(-1)] = False
        ctx.mask, ctx.vidx = mask, vidx
        return base

    @staticmethod
    def backward(ctx, g):
        return g * ctx.mask, g.reshape(-1)[ctx.vidx], None
