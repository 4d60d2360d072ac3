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


def torch_key(key, shape):
    """``key`` rewritten so numpy indexing places the indexed dimensions as PyTorch does.

    PyTorch treats an integer as a basic index (it drops its dimension first); numpy counts it among
    the advanced indices. They differ only when the integers and arrays together are not adjacent but
    the arrays alone are (``x[0, :, idx]`` on (2, 5, 6): torch (5, 3), numpy (3, 5)). Then the key
    becomes an all-array key whose broadcast shape is exactly torch's result shape: each slice an
    ``arange`` and each array reshaped to its place. Other keys are returned unchanged.
    """
    parts = key if isinstance(key, tuple) else (key,)
    if not (any(_is_int(p) for p in parts) and any(_is_array(p) for p in parts)):
        return key
    parts = _expand_ellipsis(parts, len(shape))
    adv = [i for i, p in enumerate(parts) if _is_int(p) or _is_array(p)]
    arrays = [i for i, p in enumerate(parts) if _is_array(p)]
    no_ints = [i for i, p in enumerate(parts) if not _is_int(p)]
    if adv == list(range(adv[0], adv[-1] + 1)):
        return key  # numpy's group is adjacent: it already places the dims as torch does
    pos = [no_ints.index(i) for i in arrays]
    if pos != list(range(pos[0], pos[-1] + 1)):
        return key  # the arrays alone are separated too: both put the indexed dims first
    # walk the key: which input dim each part indexes, and the result dims it contributes
    entries, d = [], 0
    for p in parts:
        if p is None:
            entries.append(("new", None, None))
        elif _is_int(p):
            entries.append(("int", int(p), d))
            d += 1
        elif isinstance(p, slice):
            entries.append(("slice", np.arange(*p.indices(shape[d])), d))
            d += 1
        elif p.dtype == bool:
            for k, arr in enumerate(np.nonzero(p)):
                entries.append(("array", arr, d + k))
            d += p.ndim
        else:
            entries.append(("array", p, d))
            d += 1
    block = np.broadcast_shapes(*(e[1].shape for e in entries if e[0] == "array"))
    sizes, first = [], None
    for e in entries:
        if e[0] == "array":
            if first is None:
                first = len(sizes)
                sizes.extend(block)
        elif e[0] != "int":
            sizes.append(1 if e[0] == "new" else len(e[1]))
    nd = len(sizes)
    out, r = [], 0
    for kind, obj, _ in entries:
        if kind == "int":
            out.append(np.intp(obj))
        elif kind == "new":
            r += 1
        elif kind == "slice":
            out.append(obj.reshape([1] * r + [len(obj)] + [1] * (nd - r - 1)))
            r += 1
        else:
            lead = (1,) * (len(block) - obj.ndim) + obj.shape
            out.append(obj.reshape((1,) * first + lead + (1,) * (nd - first - len(block))))
            if r == first:
                r += len(block)
    return tuple(out)


def _is_int(p):
    """An integer index; a 0-d integer array counts as one, as a 0-d integer tensor does in torch."""
    if isinstance(p, np.ndarray):
        return p.ndim == 0 and p.dtype.kind in "iu"
    return isinstance(p, (int, np.integer)) and not isinstance(p, (bool, np.bool_))


def _is_array(p):
    return isinstance(p, np.ndarray) and not _is_int(p)


def _expand_ellipsis(parts, ndim):
    used = sum(p.ndim if isinstance(p, np.ndarray) and p.dtype == bool else 1
               for p in parts if p is not None and p is not Ellipsis)
    out = []
    for p in parts:
        if p is Ellipsis:
            out.extend([slice(None)] * (ndim - used))
            used = ndim
        else:
            out.append(p)
    return tuple(out) + (slice(None),) * (ndim - used)  # the dims the key leaves out
