"""Cumulative ops along one axis: cumsum, cumprod, logcumsumexp (cummax/cummin are in select.py)."""
import numpy as np

from ..function import Function
from .array_or_tensor import exp, where
from .reduce import normalize_axis


def _axis(axis, ndim, op):
    return normalize_axis(axis, ndim, op)[0] if ndim else 0


def _flip(x, axis):
    return x[(slice(None),) * axis + (slice(None, None, -1),)]


def _cumsum(a, axis, reverse):
    """np.cumsum along ``axis``, from the end when ``reverse``."""
    if reverse:
        return _flip(np.cumsum(_flip(a, axis), axis=axis), axis)
    return np.cumsum(a, axis=axis)


class Cumsum(Function):
    """Running sum along ``axis`` (from the end when ``reverse``): the gradient is the running sum of
    the incoming gradient in the other direction."""

    exact_grad_shapes = True

    @staticmethod
    def forward(ctx, a, axis, reverse=False):
        if a.dtype.kind in "biu":
            a = a.astype(np.int64)  # integer and bool running sums are int64, as PyTorch
        if a.ndim == 0:
            ctx.axis, ctx.reverse = 0, reverse
            return a.copy()
        axis = _axis(axis, a.ndim, "cumsum")
        ctx.axis, ctx.reverse = axis, reverse
        return _cumsum(a, axis, reverse)

    @staticmethod
    def backward(ctx, g):
        if g.ndim == 0:
            return g, None, None
        if isinstance(g, np.ndarray):
            return _cumsum(g, ctx.axis, not ctx.reverse), None, None
        return Cumsum.apply(g, ctx.axis, not ctx.reverse), None, None


class Cumprod(Function):
    """Running product along ``axis``: d out_i / d a_k = prod_{j <= i, j != k} a_j (i >= k).

    Without zeros the gradient is the reversed running sum of g * out, divided by a. With zeros it
    is the recurrence t_k = g_k + a_{k+1} t_{k+1}, times the exclusive running product before k.
    """

    exact_grad_shapes = True

    @staticmethod
    def forward(ctx, a, axis):
        if a.dtype.kind in "biu":
            a = a.astype(np.int64)
        axis = _axis(axis, a.ndim, "cumprod")
        ctx.axis = axis
        out = np.cumprod(a, axis=axis) if a.ndim else a.copy()
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors
        if g.ndim == 0:
            return g, None
        axis = ctx.axis
        ad = a if isinstance(a, np.ndarray) else a.data
        if np.all(ad != 0):
            if isinstance(g, np.ndarray):
                return _cumsum(g * out, axis, True) / a, None
            return Cumsum.apply(g * out, axis, True) / a, None
        return _cumprod_grad_with_zeros(a, g, axis), None


def _cumprod_grad_with_zeros(a, g, axis):
    """The exact cumprod gradient when some elements are zero (arrays and Tensors alike)."""
    n = a.shape[axis]

    def at(x, i):
        return x[(slice(None),) * axis + (slice(i, i + 1),)]

    t = [None] * n
    t[n - 1] = at(g, n - 1)
    for k in range(n - 2, -1, -1):
        t[k] = at(g, k) + at(a, k + 1) * t[k + 1]
    grads = []
    before = None  # product of a_0 .. a_{k-1}
    for k in range(n):
        grads.append(t[k] if before is None else before * t[k])
        before = at(a, k) if before is None else before * at(a, k)
    if isinstance(g, np.ndarray):
        return np.concatenate(grads, axis=axis)
    from ..function_forms import cat
    return cat(grads, dim=axis)


class LogCumSumExp(Function):
    """log(cumsum(exp(a))) along ``axis``, stable (np.logaddexp.accumulate).

    d out_i / d a_k = exp(a_k - out_i) for i >= k (never above 1): the gradient sums those terms
    over an (..., N, N) grid, O(N^2) per row, written with ops that also differentiate.
    """

    exact_grad_shapes = True

    @staticmethod
    def forward(ctx, a, axis):
        if a.dtype.kind not in "fc":
            raise TypeError(f"logcumsumexp: expected a floating point tensor, got dtype {a.dtype}")
        axis = _axis(axis, a.ndim, "logcumsumexp")
        ctx.axis = axis
        out = np.logaddexp.accumulate(a, axis=axis) if a.ndim else a.copy()
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors
        if g.ndim == 0:
            return g, None
        axis, nd = ctx.axis, a.ndim
        n = a.shape[axis]
        # move the axis last: (..., N); grid[..., k, i] = a_k - out_i, kept where i >= k
        perm = tuple(i for i in range(nd) if i != axis) + (axis,)
        inv = tuple(int(i) for i in np.argsort(perm))
        tr = (lambda x: np.transpose(x, perm)) if isinstance(g, np.ndarray) else (lambda x: x.permute(*perm))
        am, om, gm = tr(a), tr(out), tr(g)
        lead = am.shape[:-1]
        upper = np.triu(np.ones((n, n), bool))
        diff = am.reshape(lead + (n, 1)) - om.reshape(lead + (1, n))
        with np.errstate(invalid="ignore"):
            w = where(upper, exp(where(upper, diff, 0.0 * diff)), 0.0 * diff)
        grad = (w * gm.reshape(lead + (1, n))).sum(axis=-1)
        return (np.transpose(grad, inv) if isinstance(grad, np.ndarray) else grad.permute(*inv)), None


__all__ = ["Cumsum", "Cumprod", "LogCumSumExp"]
