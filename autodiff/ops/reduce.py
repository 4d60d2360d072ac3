"""Reductions over ``axis=None | int | tuple`` with ``keepdims``, and softmax / log-softmax."""
import numpy as np

from ..function import Function
from .array_or_tensor import broadcast_to, exp, where


def normalize_axis(axis, ndim, op="reduce"):
    """Turn ``axis`` into a sorted tuple of non-negative axes (all axes for None)."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        a = int(a)
        if not -max(ndim, 1) <= a < max(ndim, 1):
            raise ValueError(f"{op}: axis {a} is out of range for a tensor with {ndim} dimensions")
        out.append(a % max(ndim, 1))
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: repeated axis in {axis}")
    return tuple(sorted(out))


def _keep_shape(shape, axes):
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _expand(g, shape, axes, keepdims):
    """Bring a reduced gradient back to the input's shape."""
    if not keepdims:
        g = g.reshape(_keep_shape(shape, axes))
    return broadcast_to(g, shape)


class Sum(Function):
    """sum over axes: each input element gets the incoming gradient."""

    @staticmethod
    def forward(ctx, a, axis=None, keepdims=False):
        ctx.shape = a.shape
        ctx.axes = normalize_axis(axis, a.ndim, "sum")
        ctx.keepdims = keepdims
        return np.asarray(np.sum(a, axis=ctx.axes if a.ndim else None, keepdims=keepdims))

    @staticmethod
    def backward(ctx, g):
        return _expand(g, ctx.shape, ctx.axes, ctx.keepdims)


class Mean(Function):
    """mean over axes: each input element gets gradient / N."""

    @staticmethod
    def forward(ctx, a, axis=None, keepdims=False):
        ctx.shape = a.shape
        ctx.axes = normalize_axis(axis, a.ndim, "mean")
        ctx.keepdims = keepdims
        ctx.count = int(np.prod([a.shape[i] for i in ctx.axes])) if a.ndim else 1
        return np.asarray(np.mean(a, axis=ctx.axes if a.ndim else None, keepdims=keepdims))

    @staticmethod
    def backward(ctx, g):
        return _expand(g / ctx.count, ctx.shape, ctx.axes, ctx.keepdims)


class Var(Function):
    """variance with ``ddof`` (numpy's default 0): d/dx_i = 2 (x_i - mean) / (N - ddof)."""

    @staticmethod
    def forward(ctx, a, axis=None, keepdims=False, ddof=0):
        ctx.axes = normalize_axis(axis, a.ndim, "var")
        ctx.keepdims = keepdims
        n = int(np.prod([a.shape[i] for i in ctx.axes])) if a.ndim else 1
        ctx.denom = n - ddof
        ctx.save_for_backward(a)
        return np.asarray(np.var(a, axis=ctx.axes if a.ndim else None, keepdims=keepdims, ddof=ddof))

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        centered = a - a.mean(axis=ctx.axes, keepdims=True)
        return _expand(g, a.shape, ctx.axes, ctx.keepdims) * centered * (2.0 / ctx.denom)


class _Extreme(Function):
    """max/min over axes: the gradient is shared equally by the elements that reach the extreme."""

    reducer = None

    @classmethod
    def forward(cls, ctx, a, axis=None, keepdims=False):
        axes = normalize_axis(axis, a.ndim, cls.name)
        if a.size == 0:
            raise ValueError(f"{cls.name}: cannot reduce an empty tensor of shape {a.shape}")
        out = np.asarray(cls.reducer(a, axis=axes if a.ndim else None, keepdims=True))
        ctx.axes, ctx.keepdims, ctx.shape = axes, keepdims, a.shape
        ctx.save_for_backward(a)
        ctx.kept = out  # the tie mask is built in backward only: forward stays a plain reduction
        return out if keepdims else out.reshape([s for i, s in enumerate(a.shape) if i not in axes])

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        a = a if isinstance(a, np.ndarray) else a.data
        kept = ctx.kept
        mask = a == kept
        if not ctx.keepdims:
            g = g.reshape(kept.shape)
        if np.count_nonzero(mask) != kept.size:  # ties (or a NaN extreme): share g equally
            count = np.add.reduce(mask, axis=ctx.axes if a.ndim else None, keepdims=True, dtype=np.int64)
            g = g / np.maximum(count, 1).astype(a.dtype)
        return where(mask, g, a.dtype.type(0))  # the usual case: g goes to the one extreme


class Max(_Extreme):
    """max over axes (values only)."""

    name = "max"
    reducer = staticmethod(np.max)


class Min(_Extreme):
    """min over axes (values only)."""

    name = "min"
    reducer = staticmethod(np.min)


class LogSumExp(Function):
    """log(sum(exp(a))) computed as m + log(sum(exp(a - m))): derivative softmax(a)."""

    @staticmethod
    def forward(ctx, a, axis=None, keepdims=False):
        axes = normalize_axis(axis, a.ndim, "logsumexp")
        ax = axes if a.ndim else None
        m = np.max(a, axis=ax, keepdims=True)
        m = np.where(np.isfinite(m), m, 0).astype(a.dtype, copy=False)
        out = np.log(np.sum(np.exp(a - m), axis=ax, keepdims=True)) + m
        ctx.axes, ctx.keepdims, ctx.kept_shape = axes, keepdims, out.shape
        if not keepdims:
            out = out.reshape([s for i, s in enumerate(a.shape) if i not in axes])
        ctx.save_for_backward(a, out)   # the returned array, so create_graph links it to the graph
        return out

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors
        if not ctx.keepdims:
            g, out = g.reshape(ctx.kept_shape), out.reshape(ctx.kept_shape)
        return g * exp(a - out)


class Softmax(Function):
    """softmax along ``axis`` (max-shifted): d = y * (g - sum(g * y))."""

    @staticmethod
    def forward(ctx, a, axis=-1):
        e = np.exp(a - np.max(a, axis=axis, keepdims=True))
        out = e / np.sum(e, axis=axis, keepdims=True)
        ctx.axis = axis
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        gy = g * y
        return gy - y * gy.sum(axis=ctx.axis, keepdims=True)


class LogSoftmax(Function):
    """log-softmax along ``axis``: y = a - logsumexp(a); d = g - softmax * sum(g)."""

    @staticmethod
    def forward(ctx, a, axis=-1):
        shifted = a - np.max(a, axis=axis, keepdims=True)
        out = shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
        ctx.axis = axis
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g - exp(y) * g.sum(axis=ctx.axis, keepdims=True)
