"""Tensor's reductions, order statistics, cumulative ops, norms and softmax, in PyTorch's spelling
(``dim``/``keepdim``; numpy's ``axis``/``keepdims`` accepted too). Each calls its op's ``apply``."""
import math

import numpy as np

from .. import tensor as tensors  # the Tensor class, read at call time (tensor.py imports this module)
from ..errors import ShapeError
from ..ops import cumulative, elementwise, norms, reduce, select
from ..ops.dims import wrap_dim
from .math import as_dtype


def _axis(axis, dim):
    return axis if dim is None else dim


def _keep(keepdims, keepdim):
    return bool(keepdims or keepdim)


def _one_dim(x, dim, op):
    """A single dim as a non-negative int (IndexError when out of range, as PyTorch)."""
    if isinstance(dim, (tuple, list)):
        if len(dim) != 1:
            raise TypeError(f"{op}: expected a single dim, got {dim}; use amax/amin or a reduction over "
                            "several dims")
        dim = dim[0]
    return reduce.normalize_axis(int(dim), x.ndim, op)[0] if x.ndim else 0


def _cast_input(x, dtype):
    return x if dtype is None else x.astype(as_dtype(dtype))


def _var_correction(unbiased, correction, ddof):
    """PyTorch's correction from ``unbiased=`` / ``correction=`` (numpy's ``ddof=`` is the same number)."""
    given = [v is not None for v in (unbiased, correction, ddof)]
    if sum(given) > 1:
        raise TypeError("var/std: pass only one of unbiased, correction and ddof")
    if unbiased is not None:
        return 1 if unbiased else 0
    if ddof is not None:
        return ddof
    return 1 if correction is None else correction


def _take(x, idx, dim, keepdim, name):
    """values = x at idx along dim (a kept size-1 axis), and the matching namedtuple."""
    values = select.TakeAlongAxis.apply(x, idx, dim)
    indices = idx
    if not keepdim:
        values = values.reshape(tuple(s for i, s in enumerate(values.shape) if i != dim))
        indices = np.squeeze(idx, axis=dim)
    return select.return_type(name)(values, tensors.Tensor._make(indices.astype(np.int64, copy=False)))


def _selection(x, dim, keepdim, name, find):
    """Reduce ``x`` along ``dim`` to the element ``find(array, axis)`` picks: (values, indices)."""
    if x.ndim == 0:
        return select.return_type(name)(x, tensors.Tensor._make(np.zeros((), np.int64)))
    d = _one_dim(x, dim, name)
    if x.shape[d] == 0:
        raise IndexError(f"{name}: cannot reduce dimension {d} of size 0 (tensor of shape "
                         f"{tuple(x.shape)})")
    return _take(x, find(x.data, d), d, keepdim, name)


class ReductionMethods:
    """sum, mean, prod, var, std, max/min (values and indices), amax/amin, median, mode, kthvalue,
    norm, all/any, count_nonzero, argmax/argmin, cumsum/cumprod/cummax/cummin/logcumsumexp,
    logsumexp, softmax, log_softmax."""

    __slots__ = ()

    def sum(self, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=False):
        return reduce.Sum.apply(_cast_input(self, dtype), _axis(axis, dim), _keep(keepdims, keepdim))

    def nansum(self, dim=None, keepdim=False, *, axis=None, keepdims=False):
        """Sum treating NaN as 0 (integer tensors have none: their plain sum)."""
        x = self if self.data.dtype.kind not in "fc" else \
            elementwise.Where.apply(np.isnan(self.data), np.zeros((), self.data.dtype), self)
        return x.sum(_axis(axis, dim), _keep(keepdims, keepdim))

    def mean(self, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=False):
        return reduce.Mean.apply(_cast_input(self, dtype), _axis(axis, dim), _keep(keepdims, keepdim))

    def nanmean(self, dim=None, keepdim=False, *, axis=None, keepdims=False):
        dim, keep = _axis(axis, dim), _keep(keepdims, keepdim)
        count = (~np.isnan(self.data)).sum(axis=dim, keepdims=keep)
        return self.nansum(dim, keep) / tensors.Tensor._make(count.astype(self.data.dtype))

    def prod(self, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=False):
        return reduce.Prod.apply(_cast_input(self, dtype), _axis(axis, dim), _keep(keepdims, keepdim))

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, keepdims=False,
            ddof=None):
        """Variance with PyTorch's default ``correction=1`` (``unbiased=False`` or ``correction=0``:
        the biased, numpy-default estimate)."""
        if isinstance(unbiased, (int, float)) and not isinstance(unbiased, bool):
            raise TypeError("var: the second positional argument is unbiased (a bool), as in PyTorch; "
                            "pass keepdim= by name")
        c = _var_correction(unbiased, correction, ddof)
        return reduce.Var.apply(self, _axis(axis, dim), _keep(keepdims, keepdim), c)

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, keepdims=False,
            ddof=None):
        """Standard deviation, sqrt of ``var`` (default ``correction=1``, as PyTorch)."""
        return self.var(dim, unbiased, keepdim, correction=correction, axis=axis, keepdims=keepdims,
                        ddof=ddof).sqrt()

    def var_mean(self, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None,
                 keepdims=False):
        """(var, mean), as ``torch.var_mean``."""
        v = self.var(dim, unbiased, keepdim, correction=correction, axis=axis, keepdims=keepdims)
        return v, self.mean(_axis(axis, dim), _keep(keepdims, keepdim))

    def std_mean(self, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None,
                 keepdims=False):
        """(std, mean), as ``torch.std_mean``."""
        s = self.std(dim, unbiased, keepdim, correction=correction, axis=axis, keepdims=keepdims)
        return s, self.mean(_axis(axis, dim), _keep(keepdims, keepdim))

    def amax(self, dim=None, keepdim=False, *, axis=None, keepdims=False):
        """Maximum over one or several dims (values only; equal maxima share the gradient)."""
        dim = _axis(axis, dim)
        return reduce.Max.apply(self, None if dim == () else dim, _keep(keepdims, keepdim))

    def amin(self, dim=None, keepdim=False, *, axis=None, keepdims=False):
        dim = _axis(axis, dim)
        return reduce.Min.apply(self, None if dim == () else dim, _keep(keepdims, keepdim))

    def max(self, dim=None, keepdim=False, *, axis=None, keepdims=False):
        """``max()``: the largest element; ``max(dim)``: (values, indices); ``max(other)``: maximum."""
        dim = _axis(axis, dim)
        if isinstance(dim, tensors.Tensor):
            return elementwise.Maximum.apply(self, dim)
        if dim is None:
            return reduce.Max.apply(self, None, False)
        return _selection(self, dim, _keep(keepdims, keepdim), "max", select.argmax_kept)

    def min(self, dim=None, keepdim=False, *, axis=None, keepdims=False):
        """``min()``: the smallest element; ``min(dim)``: (values, indices); ``min(other)``: minimum."""
        dim = _axis(axis, dim)
        if isinstance(dim, tensors.Tensor):
            return elementwise.Minimum.apply(self, dim)
        if dim is None:
            return reduce.Min.apply(self, None, False)
        return _selection(self, dim, _keep(keepdims, keepdim), "min", select.argmin_kept)

    def aminmax(self, *, dim=None, keepdim=False):
        """(min, max) over ``dim`` or all elements, as ``torch.aminmax``."""
        return select.return_type("aminmax", ("min", "max"))(self.amin(dim, keepdim), self.amax(dim, keepdim))

    def quantile(self, q, dim=None, keepdim=False, *, interpolation="linear"):
        """The q-th quantiles (q a number or a 1-d tensor in [0, 1]) along ``dim`` (of all elements when
        None), interpolating between the sorted neighbours as torch: 'linear', 'lower', 'higher',
        'midpoint' or 'nearest'. The gradient goes to the neighbours by their weights."""
        x = self.reshape(-1) if dim is None else self
        d = 0 if dim is None else _one_dim(self, dim, "quantile")
        qs = np.asarray(q.data if isinstance(q, tensors.Tensor) else q, dtype=np.float64)
        if qs.ndim > 1 or np.any((qs < 0) | (qs > 1)):
            raise ShapeError(f"quantile: q must be a number or a 1-d tensor with values in [0, 1], got {q}")
        n = x.shape[d]
        if n == 0:
            raise IndexError(f"quantile: cannot take quantiles of an empty dimension (shape {tuple(x.shape)})")
        order = np.argsort(x.data, axis=d, kind="stable")
        pos = qs.reshape(-1) * (n - 1)
        lo, hi = np.floor(pos).astype(np.int64), np.ceil(pos).astype(np.int64)
        frac = pos - lo
        if interpolation == "lower":
            hi, frac = lo, frac * 0
        elif interpolation == "higher":
            lo, frac = hi, frac * 0
        elif interpolation == "nearest":
            lo = hi = np.round(pos).astype(np.int64)  # half to even, as torch
            frac = frac * 0
        elif interpolation == "midpoint":
            frac = np.where(hi > lo, 0.5, 0.0)
        elif interpolation != "linear":
            raise ShapeError(f"quantile: interpolation must be 'linear', 'lower', 'higher', 'midpoint' or "
                             f"'nearest', got {interpolation!r}")
        outs = []
        for k in range(pos.size):
            v_lo = select.TakeAlongAxis.apply(x, np.take(order, [lo[k]], axis=d), d)
            v_hi = select.TakeAlongAxis.apply(x, np.take(order, [hi[k]], axis=d), d)
            v = v_lo + (v_hi - v_lo) * x.data.dtype.type(frac[k]) if hi[k] != lo[k] else v_lo
            outs.append(v if keepdim and dim is not None else v.reshape(
                tuple(s for i, s in enumerate(v.shape) if i != d) if dim is not None else ()))
        if qs.ndim == 0:
            out = outs[0]
            return out.reshape((1,) * self.ndim) if keepdim and dim is None else out
        from ..function_forms import stack
        out = stack(outs, dim=0)
        return out.reshape((len(outs),) + (1,) * self.ndim) if keepdim and dim is None else out

    def median(self, dim=None, keepdim=False, *, axis=None, keepdims=False):
        """The lower median: of all elements (a tensor), or along ``dim`` as (values, indices)."""
        dim = _axis(axis, dim)
        if dim is None:
            return reduce.MedianAll.apply(self, None, False)
        return _selection(self, dim, _keep(keepdims, keepdim), "median", select.median_indices)

    def mode(self, dim=-1, keepdim=False, *, axis=None, keepdims=False):
        """The most frequent value along ``dim`` (the smallest among ties) and its last index."""
        return _selection(self, _axis(axis, dim), _keep(keepdims, keepdim), "mode", select.mode_indices)

    def kthvalue(self, k, dim=-1, keepdim=False, *, axis=None, keepdims=False):
        """The k-th smallest element (k from 1) along ``dim``: (values, indices)."""
        return _selection(self, _axis(axis, dim), _keep(keepdims, keepdim), "kthvalue",
                          lambda a, d: select.kthvalue_indices(a, int(k), d))

    def logsumexp(self, dim=None, keepdim=False, *, axis=None, keepdims=False):
        return reduce.LogSumExp.apply(self, _axis(axis, dim), _keep(keepdims, keepdim))

    def argmax(self, dim=None, keepdim=False, *, axis=None, keepdims=False):
        """Index of the first maximum (of the flattened tensor when ``dim`` is None)."""
        dim = _axis(axis, dim)
        if dim is not None:
            dim = _one_dim(self, dim, "argmax")
        return tensors.Tensor._make(np.argmax(self.data, axis=dim, keepdims=_keep(keepdims, keepdim)))

    def argmin(self, dim=None, keepdim=False, *, axis=None, keepdims=False):
        dim = _axis(axis, dim)
        if dim is not None:
            dim = _one_dim(self, dim, "argmin")
        return tensors.Tensor._make(np.argmin(self.data, axis=dim, keepdims=_keep(keepdims, keepdim)))

    def all(self, dim=None, keepdim=False, *, axis=None, keepdims=False):
        dim = _axis(axis, dim)
        axes = reduce.normalize_axis(dim, self.ndim, "all") if dim is not None else None
        return tensors.Tensor._make(np.all(self.data, axis=axes, keepdims=_keep(keepdims, keepdim)))

    def any(self, dim=None, keepdim=False, *, axis=None, keepdims=False):
        dim = _axis(axis, dim)
        axes = reduce.normalize_axis(dim, self.ndim, "any") if dim is not None else None
        return tensors.Tensor._make(np.any(self.data, axis=axes, keepdims=_keep(keepdims, keepdim)))

    def count_nonzero(self, dim=None, *, axis=None):
        dim = _axis(axis, dim)
        axes = reduce.normalize_axis(dim, self.ndim, "count_nonzero") if dim is not None else None
        return tensors.Tensor._make(np.asarray(np.count_nonzero(self.data, axis=axes), dtype=np.int64))

    # --- cumulative ------------------------------------------------------------------------------
    def cumsum(self, dim=None, *, dtype=None, axis=None):
        dim = _axis(axis, dim)
        if dim is None:
            raise TypeError("cumsum: missing the required argument 'dim'")
        wrap_dim(dim, self.ndim, "cumsum")  # IndexError out of range (a 0-d tensor takes 0 and -1)
        return cumulative.Cumsum.apply(_cast_input(self, dtype), dim, False)

    def cumprod(self, dim=None, *, dtype=None, axis=None):
        dim = _axis(axis, dim)
        if dim is None:
            raise TypeError("cumprod: missing the required argument 'dim'")
        wrap_dim(dim, self.ndim, "cumprod")  # IndexError out of range (a 0-d tensor takes 0 and -1)
        return cumulative.Cumprod.apply(_cast_input(self, dtype), dim)

    def logcumsumexp(self, dim=None, *, axis=None):
        dim = _axis(axis, dim)
        if dim is None:
            raise TypeError("logcumsumexp: missing the required argument 'dim'")
        wrap_dim(dim, self.ndim, "logcumsumexp")  # IndexError out of range (a 0-d tensor takes 0 and -1)
        return cumulative.LogCumSumExp.apply(self, dim)

    def _cumulative_extreme(self, dim, name, largest):
        if self.ndim == 0:
            wrap_dim(dim, 0, name)
            return select.return_type(name)(self * 1, tensors.Tensor._make(np.zeros((), np.int64)))
        d = _one_dim(self, dim, name)
        idx = select.cumulative_extreme_indices(self.data, d, largest)
        values = select.TakeAlongAxis.apply(self, idx, d)
        return select.return_type(name)(values, tensors.Tensor._make(idx.astype(np.int64, copy=False)))

    def cummax(self, dim=None, *, axis=None):
        """Running maximum along ``dim`` and where it was found: (values, indices)."""
        return self._cumulative_extreme(_axis(axis, dim), "cummax", True)

    def cummin(self, dim=None, *, axis=None):
        return self._cumulative_extreme(_axis(axis, dim), "cummin", False)

    # --- norms -----------------------------------------------------------------------------------
    def norm(self, p="fro", dim=None, keepdim=False, dtype=None):
        """``torch.norm``: 'fro' (2-norm over ``dim`` or all), 'nuc', or a vector p-norm."""
        x = _cast_input(self, dtype)
        if p == "nuc":
            return norms.SingularValueNorm.apply(x, "nuc") if dim is None else \
                matrix_norm(x, "nuc", dim, keepdim)
        if p == "fro" or p is None:
            p = 2
        return norms.VectorNorm.apply(x, p, dim, keepdim)

    def dist(self, other, p=2):
        """The p-norm of ``self - other`` (broadcast), as ``torch.dist``."""
        return norms.VectorNorm.apply(elementwise.Sub.apply(self, other), p, None, False)

    # --- softmax ---------------------------------------------------------------------------------
    def softmax(self, dim=None, dtype=None, *, axis=None):
        dim = _axis(axis, dim)
        return reduce.Softmax.apply(_cast_input(self, dtype), -1 if dim is None else dim)

    def log_softmax(self, dim=None, dtype=None, *, axis=None):
        dim = _axis(axis, dim)
        return reduce.LogSoftmax.apply(_cast_input(self, dtype), -1 if dim is None else dim)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """``torch.linalg.vector_norm``: the p-norm over ``dim`` (all elements when None)."""
    return norms.VectorNorm.apply(_cast_input(x, dtype), ord, dim, keepdim)


def matrix_norm(x, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """``torch.linalg.matrix_norm``: 'fro', 'nuc', 1, -1, 2, -2, inf, -inf over the two ``dim``."""
    x = _cast_input(x, dtype)
    d0, d1 = (reduce.normalize_axis(d, x.ndim, "matrix_norm")[0] for d in dim)
    if d0 == d1:
        raise ShapeError(f"matrix_norm: dims must be different, got {dim}")
    if ord == "fro":
        return norms.VectorNorm.apply(x, 2, (d0, d1), keepdim)
    if ord in (1, -1, math.inf, -math.inf):
        col, row = (d0, d1) if ord in (1, -1) else (d1, d0)  # 1: max column sum; inf: max row sum
        sums = x.abs().sum(col, keepdim=True)
        out = sums.amax(row, keepdim=True) if ord > 0 else sums.amin(row, keepdim=True)
    elif ord in ("nuc", 2, -2):
        rest = [i for i in range(x.ndim) if i not in (d0, d1)]
        moved = x.permute(*rest, d0, d1)
        out = norms.SingularValueNorm.apply(moved, ord)
        if keepdim:
            out = out.reshape(tuple(1 if i in (d0, d1) else s for i, s in enumerate(x.shape)))
        return out
    else:
        raise ShapeError(f"matrix_norm: unsupported ord {ord!r} (use 'fro', 'nuc', 1, -1, 2, -2, inf or -inf)")
    return out if keepdim else out.reshape(tuple(s for i, s in enumerate(x.shape) if i not in (d0, d1)))


def linalg_norm(x, ord=None, dim=None, keepdim=False, *, dtype=None):
    """``torch.linalg.norm``: a vector norm over one dim (or of the flattened tensor when ord is
    None), a matrix norm over two dims (or of a 2-d tensor when ord is given)."""
    if isinstance(dim, (int, np.integer)):
        dim = (int(dim),)
    if ord is None:
        if dim is not None and len(dim) == 2:
            return matrix_norm(x, "fro", dim, keepdim, dtype=dtype)
        return vector_norm(x, 2, dim, keepdim, dtype=dtype)
    if dim is None:
        if x.ndim == 2:
            return matrix_norm(x, ord, (-2, -1), keepdim, dtype=dtype)
        if x.ndim != 1:
            raise RuntimeError(f"linalg.norm: input of shape {tuple(x.shape)} must be 1-D or 2-D when ord "
                               "is given and dim is None")
        return vector_norm(x, ord, None, keepdim, dtype=dtype)
    if len(dim) == 2:
        return matrix_norm(x, ord, dim, keepdim, dtype=dtype)
    return vector_norm(x, ord, dim, keepdim, dtype=dtype)


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """``torch.trapezoid``: the trapezoid-rule integral of ``y`` along ``dim`` (spacing ``dx``, default
    1, or sample points ``x``)."""
    d = _one_dim(y, dim, "trapezoid")
    n = y.shape[d]
    lead = (slice(None),) * d
    if n == 0:
        return y.sum(d)
    mids = (y[lead + (slice(1, None),)] + y[lead + (slice(None, -1),)]) * 0.5
    if x is None:
        return mids.sum(d) * (1 if dx is None else dx)
    x = x if isinstance(x, tensors.Tensor) else tensors.Tensor(np.asarray(x))
    if x.ndim == 1:
        steps = x[1:] - x[:-1]
        steps = steps.reshape((n - 1,) + (1,) * (y.ndim - d - 1))
    else:
        steps = x[lead + (slice(1, None),)] - x[lead + (slice(None, -1),)]
    return (mids * steps).sum(d)
