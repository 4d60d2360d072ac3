"""Shape ops with numpy's meanings: reshape, transpose, broadcast, pad, concatenate, stack."""
import numpy as np

from ..errors import ShapeError
from ..function import Function
from .array_or_tensor import unbroadcast


class Reshape(Function):
    """reshape: the gradient is reshaped back."""

    returns_view = True

    @staticmethod
    def forward(ctx, a, shape):
        ctx.shape = a.shape
        try:
            return a.reshape(shape)
        except ValueError:
            raise ShapeError(f"reshape: cannot reshape a tensor of shape {a.shape} "
                             f"(size {a.size}) into shape {tuple(shape)}") from None

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.shape), None


class Transpose(Function):
    """transpose by a permutation of the axes: the gradient goes through the inverse permutation."""

    returns_view = True

    @staticmethod
    def forward(ctx, a, axes):
        if axes is None:
            axes = tuple(range(a.ndim))[::-1]
        axes = tuple(int(x) % max(a.ndim, 1) for x in axes)
        if sorted(axes) != list(range(a.ndim)):
            raise ShapeError(f"transpose: axes {axes} are not a permutation of the {a.ndim} axes "
                             f"of a tensor of shape {a.shape}")
        ctx.inverse = tuple(np.argsort(axes))
        return a.transpose(axes)

    @staticmethod
    def backward(ctx, g):
        return g.transpose(ctx.inverse), None


class BroadcastTo(Function):
    """broadcast_to: the gradient is summed over the broadcast axes."""

    returns_view = True

    @staticmethod
    def forward(ctx, a, shape):
        ctx.shape = a.shape
        try:
            return np.broadcast_to(a, tuple(shape))
        except ValueError:
            raise ShapeError(f"broadcast_to: cannot broadcast shape {a.shape} to {tuple(shape)}") from None

    @staticmethod
    def backward(ctx, g):
        return unbroadcast(g, ctx.shape), None


class Pad(Function):
    """zero padding with numpy's ``pad_width``: the gradient is the inner slice."""

    @staticmethod
    def forward(ctx, a, pad_width, value=0.0):
        pw = np.broadcast_to(np.asarray(pad_width, dtype=int), (a.ndim, 2)) if a.ndim else ()
        ctx.slices = tuple(slice(int(lo), int(lo) + n) for (lo, _), n in zip(pw, a.shape))
        return np.pad(a, pw, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx, g):
        return g[ctx.slices], None, None


class Concatenate(Function):
    """concatenate along ``axis``: each input gets its slice of the gradient."""

    @staticmethod
    def forward(ctx, axis, *arrays):
        if not arrays:
            raise ShapeError("concatenate: need at least one tensor")
        nd = np.ndim(arrays[0])
        ax = axis % max(nd, 1)
        for a in arrays[1:]:
            if np.ndim(a) != nd or any(s != t for i, (s, t) in enumerate(zip(np.shape(a), np.shape(arrays[0])))
                                       if i != ax):
                raise ShapeError("concatenate: shapes " + ", ".join(str(np.shape(x)) for x in arrays)
                                 + f" do not match outside axis {axis}")
        ctx.axis = ax
        ctx.sizes = [np.shape(a)[ax] for a in arrays]
        return np.concatenate(arrays, axis=ax)

    @staticmethod
    def backward(ctx, g):
        out = [None]
        start = 0
        lead = (slice(None),) * ctx.axis
        for n in ctx.sizes:
            out.append(g[lead + (slice(start, start + n),)])
            start += n
        return tuple(out)


class Stack(Function):
    """stack along a new ``axis``: each input gets its index of the gradient."""

    @staticmethod
    def forward(ctx, axis, *arrays):
        shapes = {np.shape(a) for a in arrays}
        if len(shapes) != 1:
            raise ShapeError("stack: all tensors must have the same shape, got "
                             + ", ".join(str(np.shape(a)) for a in arrays))
        out = np.stack(arrays, axis=axis)
        ctx.axis = axis % out.ndim
        ctx.n = len(arrays)
        return out

    @staticmethod
    def backward(ctx, g):
        lead = (slice(None),) * ctx.axis
        return (None,) + tuple(g[lead + (i,)] for i in range(ctx.n))
