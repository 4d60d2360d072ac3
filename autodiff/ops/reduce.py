"""Reductions over ``axis=None | int | tuple`` with ``keepdims``, and softmax / log-softmax."""
import numpy as np

from ..errors import ShapeError
from ..function import Function
from .array_or_tensor import broadcast_to, exp, where
from .promotion import to_floating


def normalize_axis(axis, ndim, op="reduce"):
    """Turn ``axis`` into a sorted tuple of non-negative axes (all axes for None).

    Raises:
        IndexError: an axis out of range (as PyTorch's "Dimension out of range").
        ValueError: an axis given twice.
    """
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    span = max(ndim, 1)  # a 0-d tensor accepts dim 0 and -1, as PyTorch
    for a in axes:
        a = int(a)
        if not -span <= a < span:
            raise IndexError(f"{op}: dimension out of range (expected to be in range of [{-span}, "
                             f"{span - 1}], but got {a}) for a tensor with {ndim} dimensions")
        out.append(a % span)
    if len(set(out)) != len(out):
        raise ShapeError(f"{op}: dim {a % span} appears multiple times in the list of dims {axis}")
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
        a = to_floating(a)  # PyTorch refuses integer means; here they give the default float dtype
        ctx.shape = a.shape
        ctx.axes = normalize_axis(axis, a.ndim, "mean")
        ctx.keepdims = keepdims
        ctx.count = int(np.prod([a.shape[i] for i in ctx.axes])) if a.ndim else 1
        return np.asarray(np.mean(a, axis=ctx.axes if a.ndim else None, keepdims=keepdims))

    @staticmethod
    def backward(ctx, g):
        return _expand(g / ctx.count, ctx.shape, ctx.axes, ctx.keepdims)


class Prod(Function):
    """product over axes: d/dx_i = the product of the other elements (exact when some are zero)."""

    @staticmethod
    def forward(ctx, a, axis=None, keepdims=False):
        axes = normalize_axis(axis, a.ndim, "prod")
        kept = np.prod(a, axis=axes if a.ndim else None, keepdims=True)
        ctx.axes, ctx.kept_shape = axes, kept.shape
        out = kept if keepdims else kept.reshape([s for i, s in enumerate(a.shape) if i not in axes])
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors
        g, out = g.reshape(ctx.kept_shape), out.reshape(ctx.kept_shape)
        ad = a if isinstance(a, np.ndarray) else a.data
        if np.all(ad != 0):
            return broadcast_to(g * out / a, ad.shape)
        return g * _prod_of_others(a, ctx.axes)


def _prod_of_others(a, axes):
    """For each element, the product of the other elements over ``axes`` (no division: zeros are fine).

    Arrays: exclusive cumulative products from both ends. Tensors (a create_graph backward): the
    product over a (..., N, N) stack where row i has a 1 in place of element i, so it differentiates.
    """
    nd = a.ndim
    rest = tuple(i for i in range(nd) if i not in axes)
    perm = rest + tuple(axes)
    inv = tuple(int(i) for i in np.argsort(perm))
    moved_shape = tuple(a.shape[i] for i in perm)
    lead = moved_shape[:len(rest)]
    n = int(np.prod([a.shape[i] for i in axes])) if axes else 1
    if isinstance(a, np.ndarray):
        flat = np.transpose(a, perm).reshape(lead + (n,))
        ones = np.ones(lead + (1,), a.dtype)
        left = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
        right = np.cumprod(np.concatenate([ones, flat[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
        return np.transpose((left * right).reshape(moved_shape), inv)
    flat = a.permute(*perm).reshape(lead + (n,))
    eye = np.eye(n, dtype=bool)
    stacked = where(eye, np.ones((), a.dtype), flat.reshape(lead + (1, n)))
    others = Prod.apply(stacked, -1, False)
    return others.reshape(moved_shape).permute(*inv)


class Var(Function):
    """variance sum((x - mean)^2) / max(N - correction, 0): d/dx_i = 2 (x_i - mean) / (N - correction).

    PyTorch's default correction is 1 (the unbiased estimate); numpy's ddof is the same number. A
    denominator of 0 gives nan (or inf), values and gradients alike, as in PyTorch.
    """

    @staticmethod
    def forward(ctx, a, axis=None, keepdims=False, correction=1):
        a = to_floating(a)
        ctx.axes = normalize_axis(axis, a.ndim, "var")
        ctx.keepdims = keepdims
        n = int(np.prod([a.shape[i] for i in ctx.axes])) if a.ndim else 1
        # PyTorch's backward divides by N - correction unclamped: inf (nan gradients) at 0, and a
        # negative scale of zero-centered values (zero gradients) when correction > N
        ctx.scale = 2.0 / (n - correction) if n != correction else np.inf
        ctx.save_for_backward(a)
        ax = ctx.axes if a.ndim else None
        with np.errstate(divide="ignore", invalid="ignore"):
            if n == 0:
                shape = tuple(1 if i in ctx.axes else s for i, s in enumerate(a.shape)) if keepdims else \
                    tuple(s for i, s in enumerate(a.shape) if i not in ctx.axes)
                return np.full(shape, np.nan, a.dtype)
            mean = np.mean(a, axis=ax, keepdims=True)
            sq = np.sum(np.square(a - mean), axis=ax, keepdims=keepdims)
            return np.asarray(sq / np.asarray(max(n - correction, 0), a.dtype))

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        if a.size == 0:
            return a * 0
        centered = a - a.mean(axis=ctx.axes, keepdims=True)
        with np.errstate(invalid="ignore"):
            return _expand(g, a.shape, ctx.axes, ctx.keepdims) * centered * ctx.scale


class _Extreme(Function):
    """max/min over axes: the gradient is shared equally by the elements that reach the extreme."""

    reducer = None

    @classmethod
    def forward(cls, ctx, a, axis=None, keepdims=False):
        axes = normalize_axis(axis, a.ndim, cls.name)
        if a.size == 0:
            raise ShapeError(f"{cls.name}: cannot reduce an empty tensor of shape {a.shape}")
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
    """max over axes (``amax``; ``max()`` without a dim), values only; ties share the gradient."""

    name = "max"
    reducer = staticmethod(np.max)


class Min(_Extreme):
    """min over axes (``amin``; ``min()`` without a dim), values only; ties share the gradient."""

    name = "min"
    reducer = staticmethod(np.min)


def _lower_median_all(a, axis=None, keepdims=True):
    """The lower median of all elements (PyTorch's median() of an even count), with every dim kept."""
    flat = np.sort(a, axis=None)
    return flat[(flat.size - 1) // 2].reshape((1,) * a.ndim)


class MedianAll(_Extreme):
    """median() over all elements (values only); equal elements share the gradient, as PyTorch."""

    name = "median"
    reducer = staticmethod(_lower_median_all)


class LogSumExp(Function):
    """log(sum(exp(a))) computed as m + log(sum(exp(a - m))): derivative softmax(a)."""

    @staticmethod
    def forward(ctx, a, axis=None, keepdims=False):
        a = to_floating(a)
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
        a = to_floating(a)
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
        a = to_floating(a)
        shifted = a - np.max(a, axis=axis, keepdims=True)
        out = shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
        ctx.axis = axis
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g - exp(y) * g.sum(axis=ctx.axis, keepdims=True)
