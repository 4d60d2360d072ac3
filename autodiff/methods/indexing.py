"""Tensor's indexing family (gather, scatter, index_*, masked_*, take, nonzero) and sorting (sort,
argsort, topk, unique), with PyTorch's arguments. Each is an op's ``apply`` or a short composition of
them: ``gather`` is indexing with a key built along ``dim``, ``scatter_add`` adds indexing's adjoint."""
import numpy as np

from .. import tensor as tensors  # the Tensor class, read at call time (tensor.py imports this module)
from ..ops import elementwise, scatter, sorting
from ..ops import index as index_ops
from ..ops.dims import ShapeError, dim_key, wrap_dim


def _array(x):
    if isinstance(x, tensors.Tensor):
        return x.data
    return np.asarray(x)


def _index(op, index_, allow_nd=True):
    """An integer index array (Tensors, lists and arrays accepted)."""
    idx = _array(index_)
    if idx.dtype.kind not in "iu":
        if idx.size == 0:
            return idx.astype(np.int64)
        raise ShapeError(f"{op}: expected an integer (int64) index, got dtype {idx.dtype}")
    if not allow_nd and idx.ndim > 1:
        raise IndexError(f"{op}: index should have at most one dimension, got shape {idx.shape}")
    return idx


def _gather_key(op, x, dim, index_, src=None):
    """dim (wrapped), and the key ``x[key]`` of torch's gather/scatter along it, with torch's checks."""
    d = wrap_dim(dim, x.ndim, op)
    idx = _index(op, index_)
    if idx.ndim != max(x.ndim, 1) and not (idx.ndim <= 1 and x.ndim <= 1):
        raise ShapeError(f"{op}: Index tensor must have the same number of dimensions as input tensor "
                         f"(index {idx.shape}, input {tuple(x.shape)})")
    xs = x.shape if x.ndim else (1,)
    idx = idx.reshape(idx.shape if idx.ndim else (1,))
    for k, (i, s) in enumerate(zip(idx.shape, xs)):
        if k != d and i > s:
            raise ShapeError(f"{op}: Size does not match at dimension {k}: expected index {idx.shape} to be "
                             f"no larger than self {tuple(x.shape)} apart from dimension {d}")
        if src is not None and i > (src.shape if src.ndim else (1,))[k]:
            raise ShapeError(f"{op}: Expected index {idx.shape} to be no larger than src {tuple(src.shape)} "
                             f"in dimension {k}")
    n = xs[d]
    if idx.size and (idx.min() < -n or idx.max() >= n):
        bad = int(idx[(idx < -n) | (idx >= n)].flat[0])
        raise ShapeError(f"{op}: index {bad} is out of bounds for dimension {d} with size {n}")
    return d, dim_key(idx % max(n, 1), d), idx.shape


def _as_tensor(x):
    return x if isinstance(x, tensors.Tensor) else tensors.Tensor(x)


def _flat(x):
    return x.reshape(1) if x.ndim == 0 else x


def _src_part(src, shape):
    src = _flat(_as_tensor(src))
    return src[tuple(slice(0, s) for s in shape)] if src.shape != tuple(shape) else src


def _inplace(self, result):
    """Write an out-of-place result into self (recorded when grad is on) and return self."""
    self[...] = result
    return self


class IndexingMethods:
    """Index-based selection and placement, sorting and searching."""

    __slots__ = ()

    # --- gather / scatter along a dim -------------------------------------------------------------
    def gather(self, dim, index, sparse_grad=False):
        """out[i][j][k] = self[index[i][j][k]][j][k] for dim 0 (and so on): picks along ``dim``.

        Args:
            dim: the dim to pick along.
            index: int64 tensor with self's number of dims, no larger than self outside ``dim``.
            sparse_grad: accepted for torch's signature; the gradient is dense.

        Returns:
            A tensor of ``index``'s shape; its gradient is added back at the picked places.
        """
        _, key, _ = _gather_key("gather", self, dim, index)
        out = _flat(self)[key]
        return out.reshape(()) if self.ndim == 0 else out

    def scatter(self, dim, index, src=None, value=None, reduce=None):
        """A copy with ``src`` (or the scalar ``value``) written at ``index`` along ``dim``."""
        if src is None and value is None:
            raise TypeError("scatter: give src (a tensor) or value (a number)")
        if src is not None and not isinstance(src, (tensors.Tensor, np.ndarray)):
            src, value = None, src
        if reduce is not None:
            mode = {"add": "sum", "multiply": "prod"}.get(reduce)
            if mode is None:
                raise ShapeError(f"scatter: reduce argument must be either add or multiply, got {reduce!r}")
            if src is None:
                src = np.full(_array(index).shape, value, self.data.dtype)
            return self.scatter_reduce(dim, index, src, mode)
        _, key, shape = _gather_key("scatter", self, dim, index, None if src is None else _as_tensor(src))
        v = _src_part(src, shape) if src is not None else np.asarray(value, self.data.dtype)
        if isinstance(v, tensors.Tensor) and v.dtype != self.dtype:
            v = v.astype(self.dtype)
        return _flat(self)._set(key, v).reshape(self.shape)

    def scatter_add(self, dim, index, src):
        """A copy with ``src`` added at ``index`` along ``dim`` (repeated places accumulate)."""
        _, key, shape = _gather_key("scatter_add", self, dim, index, _as_tensor(src))
        placed = index_ops.ScatterAdd.apply(_src_part(src, shape), _flat(self).shape, key)
        return self + placed.reshape(self.shape)

    def scatter_reduce(self, dim, index, src, reduce, include_self=True):
        """Reduce ``src`` into a copy of self at ``index`` along ``dim``.

        Args:
            dim: the dim ``index`` runs along.
            index: int64 tensor, as for ``scatter``.
            src: the values to reduce in (at least as large as ``index``).
            reduce: ``'sum'``, ``'prod'``, ``'mean'``, ``'amax'`` or ``'amin'``.
            include_self: whether self's values at the reached places take part.
        """
        if reduce not in ("sum", "prod", "mean", "amax", "amin"):
            raise ShapeError(f"scatter_reduce: reduce argument must be one of sum, prod, mean, amax, amin, "
                             f"got {reduce!r}")
        _, key, shape = _gather_key("scatter_reduce", self, dim, index, _as_tensor(src))
        x = _flat(self)
        part = _src_part(src, shape)
        if reduce in ("sum", "mean"):
            hit = np.zeros(x.shape, bool)
            hit[key] = True
            base = x if include_self else elementwise.Where.apply(hit, np.zeros((), x.dtype), x)
            total = base + index_ops.ScatterAdd.apply(part, x.shape, key)
            if reduce == "sum":
                return total.reshape(self.shape)
            count = np.where(hit & (not include_self), 0, 1).astype(np.int64)
            np.add.at(count, key, 1)
            if x.dtype.kind in "iu":
                return tensors.Tensor._make(total.data // count).reshape(self.shape)
            return (total / count.astype(x.dtype)).reshape(self.shape)
        return scatter.ScatterReduce.apply(x, part, key, reduce, include_self).reshape(self.shape)

    def take_along_dim(self, indices, dim=None):
        """gather with ``indices`` broadcast against self (apart from ``dim``); flattened when dim is None."""
        idx = _index("take_along_dim", indices)
        if dim is None:
            return self.reshape(-1).gather(0, idx.reshape(-1))
        d = wrap_dim(dim, self.ndim, "take_along_dim")
        if idx.ndim != self.ndim:
            raise ShapeError(f"take_along_dim: input and indices should have the same number of dimensions, "
                             f"got {tuple(self.shape)} and {idx.shape}")
        xs, ids = list(self.shape), list(idx.shape)
        xs[d] = ids[d] = 1
        try:
            b = list(np.broadcast_shapes(tuple(xs), tuple(ids)))
        except ValueError:
            raise ShapeError(f"take_along_dim: shapes {tuple(self.shape)} and {idx.shape} do not broadcast "
                             f"apart from dim {d}") from None
        bx, bi = list(b), list(b)
        bx[d], bi[d] = self.shape[d], idx.shape[d]
        return self.broadcast_to(tuple(bx)).gather(d, np.broadcast_to(idx, tuple(bi)))

    def take(self, index):
        """Elements of the flattened tensor at ``index`` (the result has the index's shape)."""
        idx = _index("take", index)
        n = self.data.size
        if idx.size and (idx.min() < -n or idx.max() >= n):
            bad = int(idx[(idx < -n) | (idx >= n)].flat[0])
            raise IndexError(f"take: out of range: tried to access index {bad} on a tensor of {n} elements")
        return self.reshape(-1)[idx]

    def index_put(self, indices, values, accumulate=False):
        """A copy with ``values`` written (or, with ``accumulate``, added) at ``self[indices]``."""
        key = tuple(_array(i) if i is not None else slice(None) for i in indices)
        values = _as_tensor(values)
        if values.dtype != self.dtype:
            values = values.astype(self.dtype)
        if not accumulate:
            return self._set(key, values)
        picked = np.zeros(self.shape, bool)[key].shape
        try:
            values = values.broadcast_to(picked)
        except (ValueError, RuntimeError):
            raise ShapeError(f"index_put: values of shape {tuple(values.shape)} do not broadcast to the "
                             f"indexed shape {picked}") from None
        return self + index_ops.ScatterAdd.apply(values, self.shape, key)

    def put(self, index, source, accumulate=False):
        """``index_put`` on the flattened tensor: ``source``'s elements at the flat positions ``index``."""
        idx = _index("put", index).reshape(-1)
        n = self.data.size
        if idx.size and (idx.min() < -n or idx.max() >= n):
            raise IndexError(f"put: out of range: index {int(idx[(idx < -n) | (idx >= n)][0])} on a tensor of "
                             f"{n} elements")
        src = _as_tensor(source).reshape(-1)
        return self.reshape(-1).index_put((idx % max(n, 1),), src, accumulate).reshape(self.shape)

    def index_put_(self, indices, values, accumulate=False):
        return _inplace(self, self.index_put(indices, values, accumulate))

    def put_(self, index, source, accumulate=False):
        return _inplace(self, self.put(index, source, accumulate))

    # --- index_* along a dim, with a 1-d index ----------------------------------------------------
    def _dim_index(self, op, dim, index_):
        d = wrap_dim(dim, self.ndim, op)
        idx = _index(op, index_, allow_nd=False).reshape(-1)
        n = self.shape[d] if self.ndim else 1
        if idx.size and (idx.min() < -n or idx.max() >= n):
            raise IndexError(f"{op}: index out of range in self: index {int(idx[(idx < -n) | (idx >= n)][0])} "
                             f"for dimension {d} of size {n}")
        return d, (slice(None),) * d + (idx % max(n, 1),)

    def index_select(self, dim, index):
        """The slices of self along ``dim`` at the positions of the 1-d ``index``."""
        _, key = self._dim_index("index_select", dim, index)
        out = _flat(self)[key]
        return out.reshape(()) if self.ndim == 0 else out

    def _source(self, op, key, d, source):
        source = _as_tensor(source)
        want = list(self.shape if self.ndim else (1,))
        want[d] = len(key[-1])
        if tuple(_flat(source).shape) != tuple(want):
            raise ShapeError(f"{op}: source {tuple(source.shape)} should have the shape of self {tuple(self.shape)} "
                             f"with dim {d} of size {len(key[-1])} (the index length)")
        return _flat(source) if source.dtype == self.dtype else _flat(source).astype(self.dtype)

    def index_add(self, dim, index, source, alpha=1):
        """A copy with ``alpha * source`` slices added at ``index`` along ``dim`` (repeats accumulate)."""
        d, key = self._dim_index("index_add", dim, index)
        src = self._source("index_add", key, d, source)
        if alpha != 1:
            src = src * alpha
        return self + index_ops.ScatterAdd.apply(src, _flat(self).shape, key).reshape(self.shape)

    def index_copy(self, dim, index, source):
        """A copy with the slices at ``index`` along ``dim`` replaced by those of ``source``."""
        d, key = self._dim_index("index_copy", dim, index)
        return _flat(self)._set(key, self._source("index_copy", key, d, source)).reshape(self.shape)

    def index_fill(self, dim, index, value):
        """A copy with the slices at ``index`` along ``dim`` set to ``value`` (a number or 0-d tensor)."""
        _, key = self._dim_index("index_fill", dim, index)
        return _flat(self)._set(key, _scalar("index_fill", value, self.dtype)).reshape(self.shape)

    def index_reduce(self, dim, index, source, reduce, include_self=True):
        """Reduce the slices of ``source`` into those of self at ``index`` along ``dim``: prod, mean,
        amax or amin (``scatter_reduce`` with the index spread over the slices)."""
        if reduce not in ("prod", "mean", "amax", "amin"):
            raise ShapeError(f"index_reduce: reduce argument must be one of prod, mean, amax, amin, got {reduce!r}")
        d, key = self._dim_index("index_reduce", dim, index)
        src = self._source("index_reduce", key, d, source)
        view = [1] * max(self.ndim, 1)
        view[d] = -1
        spread = np.broadcast_to(key[-1].reshape(view), src.shape)
        return _flat(self).scatter_reduce(d, spread, src, reduce, include_self=include_self).reshape(self.shape)

    def index_reduce_(self, dim, index, source, reduce, include_self=True):
        return _inplace(self, self.index_reduce(dim, index, source, reduce, include_self=include_self))

    def _set(self, key, value):
        return index_ops.SetItem.apply(self, value, key)

    # --- masks ------------------------------------------------------------------------------------
    def masked_fill(self, mask, value):
        """``value`` where the boolean ``mask`` (broadcast against self) is True, self elsewhere."""
        m = _mask("masked_fill", mask)
        return elementwise.Where.apply(m, _scalar("masked_fill", value, self.dtype), self)

    def masked_select(self, mask):
        """The elements where ``mask`` is True (self and mask broadcast together), as a 1-d tensor."""
        m = _mask("masked_select", mask)
        shape = _broadcast("masked_select", self.shape, m.shape)
        return self.broadcast_to(shape)[np.broadcast_to(m, shape)]

    def masked_scatter(self, mask, source):
        """A copy with the elements where ``mask`` is True taken, in order, from ``source``."""
        m = _mask("masked_scatter", mask)
        shape = _broadcast("masked_scatter", self.shape, m.shape)
        m = np.broadcast_to(m, shape)
        count = int(m.sum())
        source = _as_tensor(source)
        if source.data.size < count:
            raise ShapeError(f"masked_scatter: expected source to have at least {count} elements (the True "
                             f"entries of the mask), got {source.data.size}")
        src = source.reshape(-1)[:count]
        if src.dtype != self.dtype:
            src = src.astype(self.dtype)
        placed = index_ops.ScatterAdd.apply(src, shape, np.nonzero(m))
        return elementwise.Where.apply(m, placed, self)

    def where(self, condition, other):
        """self where ``condition`` holds, ``other`` elsewhere."""
        return elementwise.Where.apply(_array(condition), self, other)

    def nonzero(self, as_tuple=False):
        """Indices of the non-zero elements: an (n, ndim) int64 tensor, or one 1-d tensor per dim."""
        data = np.atleast_1d(self.data) if as_tuple else self.data
        if as_tuple:
            return tuple(tensors.Tensor._make(i.astype(np.int64)) for i in np.nonzero(data))
        return tensors.Tensor._make(np.argwhere(data).astype(np.int64))

    def bincount(self, weights=None, minlength=0):
        """How often each value 0, 1, ... occurs in a 1-d non-negative integer tensor (or the sum of
        ``weights`` at its places)."""
        a = self.data
        if a.ndim != 1 or a.dtype.kind not in "iu" or (a.size and a.min() < 0):
            raise ShapeError(f"bincount: only 1-d non-negative integer tensors are supported, got shape "
                             f"{a.shape}, dtype {a.dtype}")
        if weights is None:
            return tensors.Tensor._make(np.bincount(a, minlength=minlength).astype(np.int64))
        w = _array(weights)
        out = np.bincount(a, weights=w, minlength=minlength)
        return tensors.Tensor._make(out.astype(w.dtype if w.dtype.kind == "f" else np.float64))

    def argwhere(self):
        return self.nonzero()

    # --- sorting ----------------------------------------------------------------------------------
    def sort(self, dim=-1, descending=False, stable=False):
        """Sort along ``dim``; ties keep their order (every sort is stable); NaN counts as largest.

        Args:
            dim: the dim to sort along (default the last).
            descending: largest first.
            stable: accepted for torch's signature (the sort is always stable).

        Returns:
            A namedtuple ``(values, indices)``; ``indices`` is int64 and ``values`` is differentiable.
        """
        d = wrap_dim(dim, self.ndim, "sort")
        idx = sorting.sort_indices(self.data, d, descending)
        return sorting.return_type("sort")(self._take_sorted(idx, d), tensors.Tensor._make(idx))

    def _take_sorted(self, idx, d):
        return self.gather(d, idx) if self.ndim else self[...]

    def argsort(self, dim=-1, descending=False, stable=False):
        d = wrap_dim(dim, self.ndim, "argsort")
        return tensors.Tensor._make(sorting.sort_indices(self.data, d, descending))

    def msort(self):
        return self.sort(0).values

    def topk(self, k, dim=-1, largest=True, sorted=True):
        """The ``k`` largest (or smallest) elements along ``dim``.

        Args:
            k: how many.
            dim: the dim to search (default the last).
            largest: False for the smallest.
            sorted: accepted for torch's signature (the result is always sorted, largest first).

        Returns:
            A namedtuple ``(values, indices)`` with ``k`` elements along ``dim``.
        """
        d = wrap_dim(dim, self.ndim, "topk")
        n = self.shape[d] if self.ndim else 1
        if not 0 <= k <= n:
            raise ShapeError(f"topk: selected index k ({k}) out of range for dimension {d} of size {n}")
        idx = sorting.topk_indices(self.data, k, d, largest) if self.ndim else np.zeros((), np.int64)
        return sorting.return_type("topk")(self._take_sorted(idx, d), tensors.Tensor._make(idx))

    def unique(self, sorted=True, return_inverse=False, return_counts=False, dim=None):
        """The sorted distinct values (or distinct slices along ``dim``); no gradient.

        Args:
            sorted: accepted for torch's signature (the values are always sorted).
            return_inverse: also return, for each element (or slice), the index of its value.
            return_counts: also return how often each value occurs.
            dim: compare whole slices along this dim instead of elements.

        Returns:
            The values, or a tuple of values, inverse and counts (int64) as requested.
        """
        if dim is not None:
            dim = wrap_dim(dim, self.ndim, "unique")
        vals, inv, counts = sorting.unique(self.data, return_inverse, return_counts, dim)
        out = [tensors.Tensor._make(vals)]
        if return_inverse:
            out.append(tensors.Tensor._make(inv))
        if return_counts:
            out.append(tensors.Tensor._make(counts))
        return out[0] if len(out) == 1 else tuple(out)

    def unique_consecutive(self, return_inverse=False, return_counts=False, dim=None):
        """Collapse runs of equal consecutive values (or slices along ``dim``)."""
        a = self.data.reshape(-1) if dim is None else np.moveaxis(self.data, wrap_dim(dim, self.ndim, "unique"), 0)
        flat = a.reshape(len(a), -1)
        new = np.ones(len(a), bool)
        new[1:] = (flat[1:] != flat[:-1]).any(axis=1)
        vals = a[new] if dim is None else np.moveaxis(a[new], 0, dim)
        out = [tensors.Tensor._make(vals)]
        if return_inverse:
            inv = np.cumsum(new) - 1
            out.append(tensors.Tensor._make(inv.reshape(self.shape if dim is None else -1).astype(np.int64)))
        if return_counts:
            out.append(tensors.Tensor._make(np.diff(np.append(np.flatnonzero(new), len(a))).astype(np.int64)))
        return out[0] if len(out) == 1 else tuple(out)

    # --- in-place forms ---------------------------------------------------------------------------
    def scatter_(self, dim, index, src=None, value=None, reduce=None):
        return _inplace(self, self.scatter(dim, index, src, value, reduce))

    def scatter_add_(self, dim, index, src):
        return _inplace(self, self.scatter_add(dim, index, src))

    def scatter_reduce_(self, dim, index, src, reduce, include_self=True):
        return _inplace(self, self.scatter_reduce(dim, index, src, reduce, include_self))

    def index_add_(self, dim, index, source, alpha=1):
        return _inplace(self, self.index_add(dim, index, source, alpha=alpha))

    def index_copy_(self, dim, index, source):
        return _inplace(self, self.index_copy(dim, index, source))

    def index_fill_(self, dim, index, value):
        return _inplace(self, self.index_fill(dim, index, value))

    def masked_fill_(self, mask, value):
        return _inplace(self, self.masked_fill(mask, value))

    def masked_scatter_(self, mask, source):
        return _inplace(self, self.masked_scatter(mask, source))


def _mask(op, mask):
    m = _array(mask)
    if m.dtype != bool:
        raise ShapeError(f"{op}: expected a boolean mask, got dtype {m.dtype}")
    return m


def _broadcast(op, a, b):
    try:
        return np.broadcast_shapes(tuple(a), tuple(b))
    except ValueError:
        raise ShapeError(f"{op}: the mask {tuple(b)} and the tensor {tuple(a)} do not broadcast") from None


def _scalar(op, value, dtype):
    """A fill value: a number (as an array of ``dtype``) or a 0-d Tensor (cast, keeping its gradient)."""
    if isinstance(value, tensors.Tensor):
        if value.ndim != 0:
            raise ShapeError(f"{op}: only supports a 0-dimensional value tensor, but got one with "
                             f"{value.ndim} dimension(s) (shape {tuple(value.shape)})")
        return value if value.dtype == dtype else value.astype(dtype)
    return np.asarray(value).astype(dtype)
