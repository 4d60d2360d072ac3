"""Function forms of the shape, indexing, sorting and product ops (``autodiff.tril(x)``,
``autodiff.gather(x, 1, idx)``, ``autodiff.einsum(...)``), and the functions that take several tensors
(``meshgrid``, ``cartesian_prod``, ``hstack`` ..., ``broadcast_tensors``, ``searchsorted``)."""
import numpy as np

from .creation import rand, randn, zeros
from .function_forms import _as_tensor, _method_form
from .methods import products
from .ops import shape as shape_ops
from .ops import sorting
from .ops.dims import ShapeError
from .tensor import Tensor

__all__ = ["meshgrid", "cartesian_prod", "hstack", "vstack", "row_stack", "dstack", "column_stack",
           "atleast_1d", "atleast_2d", "atleast_3d", "broadcast_tensors", "broadcast_shapes", "searchsorted",
           "bucketize", "empty", "empty_like", "rand_like", "randn_like", "einsum", "mm", "bmm", "mv", "dot",
           "vdot", "outer", "ger", "inner", "kron", "cross", "tensordot", "addmm", "addmv", "baddbmm",
           "addbmm", "addr", "tril_indices", "triu_indices", "block_diag", "combinations"]


_METHOD_FORMS = {
    "tril": "Zero above a diagonal of the last two dims.", "triu": "Zero below a diagonal of the last two dims.",
    "diagonal": "A diagonal of two dims, as the last dim.", "diag": "Vector to diagonal matrix, or matrix diagonal.",
    "diag_embed": "The last dim on a diagonal of two new dims.", "gather": "Pick along dim by index.",
    "scatter": "Write src at index along dim.", "scatter_add": "Add src at index along dim.",
    "scatter_reduce": "Reduce src into index along dim (sum, prod, mean, amax, amin).",
    "index_select": "Slices along dim at a 1-d index.", "index_add": "Add source slices at index along dim.",
    "index_copy": "Copy source slices to index along dim.", "index_fill": "Fill slices at index along dim.",
    "masked_fill": "value where mask.", "masked_select": "Elements where mask, 1-d.",
    "masked_scatter": "source's elements in order where mask.", "take": "Elements of the flattened input.",
    "take_along_dim": "gather with broadcasting.", "nonzero": "Indices of non-zero elements.",
    "argwhere": "Indices of non-zero elements, (n, ndim).", "sort": "(values, indices) sorted along dim.",
    "argsort": "Indices that sort along dim.", "msort": "Sorted along dim 0.", "topk": "(values, indices) of the k largest.",
    "unique": "Sorted distinct values (inverse, counts).", "unique_consecutive": "Runs of equal values collapsed.",
    "flip": "Reverse along dims.", "fliplr": "Reverse along dim 1.", "flipud": "Reverse along dim 0.",
    "rot90": "Rotate by 90 degrees k times.", "roll": "Shift cyclically.", "repeat_interleave": "Repeat each element.",
    "tile": "Repeat the whole tensor.", "narrow": "A slice of length elements along dim.",
    "chunk": "Pieces of ceil(n / chunks).", "tensor_split": "Sections or cuts as numpy's array_split.",
    "unbind": "The slices along dim.", "movedim": "Move dims to new positions.", "moveaxis": "Move dims (numpy's name).",
    "swapdims": "Swap two dims.", "t": "Matrix transpose (<= 2-d).", "unflatten": "Split a dim into sizes.",
    "select": "The slice at index along dim.", "clone": "A copy (differentiable).", "numel": "Number of elements.",
    "index_put": "Write (or add) values at a tuple of index tensors.", "put": "index_put on the flattened input.",
    "trace": "Sum of a matrix's diagonal.", "diff": "n-th forward difference along dim.",
    "bincount": "Counts (or weight sums) of non-negative ints.", "hsplit": "tensor_split along dim 1 (0 for 1-d).",
    "vsplit": "tensor_split along dim 0.", "dsplit": "tensor_split along dim 2.", "ravel": "Flattened to 1-d.",
    "narrow_copy": "narrow, copied.", "diagflat": "Flattened input on a diagonal of a matrix.",
    "diagonal_scatter": "src written on a diagonal.", "select_scatter": "src written at select(dim, index).",
    "slice_scatter": "src written at a slice along dim.",
    "index_reduce": "Reduce source slices into index along dim (prod, mean, amax, amin).",
}
for _name, _doc in _METHOD_FORMS.items():
    globals()[_name] = _method_form(_name, _doc)
    __all__.append(_name)
del _name, _doc

einsum, mm, bmm, mv, dot, vdot = products.einsum, products.mm, products.bmm, products.mv, products.dot, products.vdot
outer, ger, inner, kron, cross, tensordot = (products.outer, products.ger, products.inner, products.kron,
                                             products.cross, products.tensordot)
addmm, addmv, baddbmm, addbmm, addr = products.addmm, products.addmv, products.baddbmm, products.addbmm, products.addr


def _tensors(args):
    """``f(a, b)`` and ``f([a, b])`` alike."""
    if len(args) == 1 and isinstance(args[0], (list, tuple)):
        args = args[0]
    return [_as_tensor(a) for a in args]


def meshgrid(*tensors, indexing="ij"):
    """Coordinate grids from 1-d tensors (differentiable: each grid is a broadcast of its tensor).

    Args:
        *tensors: 1-d (or 0-d) tensors, or one list of them.
        indexing: ``'ij'`` gives grids of shape (len(t0), len(t1), ...); ``'xy'`` swaps the first two
            dims (torch's default is ``'ij'``).
    """
    ts = _tensors(tensors)
    if indexing not in ("ij", "xy"):
        raise ShapeError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    for t in ts:
        if t.ndim > 1:
            raise ShapeError(f"meshgrid: expects 0-d or 1-d tensors, got shape {tuple(t.shape)}")
    ts = [t.reshape(-1) for t in ts]
    swap = indexing == "xy" and len(ts) >= 2
    order = [1, 0] + list(range(2, len(ts))) if swap else list(range(len(ts)))
    shape = tuple(ts[k].shape[0] for k in order)
    out = []
    for i, t in enumerate(ts):
        pos = order.index(i)
        view = [1] * len(ts)
        view[pos] = t.shape[0]
        out.append(t.reshape(tuple(view)).broadcast_to(shape))
    return tuple(out)


def cartesian_prod(*tensors):
    """Every combination of one element from each 1-d tensor, as rows (a 1-d input comes back as is)."""
    ts = _tensors(tensors)
    if len(ts) == 1:
        return ts[0]
    grids = meshgrid(*ts, indexing="ij")
    return shape_ops.Stack.apply(1, *(g.reshape(-1) for g in grids))


def atleast_1d(*tensors):
    out = [t.reshape(1) if t.ndim == 0 else t for t in _tensors(tensors)]
    return out[0] if len(out) == 1 and not (len(tensors) == 1 and isinstance(tensors[0], (list, tuple))) else tuple(out)


def atleast_2d(*tensors):
    out = [t.reshape(1, 1) if t.ndim == 0 else t.reshape(1, -1) if t.ndim == 1 else t for t in _tensors(tensors)]
    return out[0] if len(out) == 1 and not (len(tensors) == 1 and isinstance(tensors[0], (list, tuple))) else tuple(out)


def atleast_3d(*tensors):
    def lift(t):
        if t.ndim == 0:
            return t.reshape(1, 1, 1)
        if t.ndim == 1:
            return t.reshape(1, -1, 1)
        if t.ndim == 2:
            return t.unsqueeze(-1)
        return t
    out = [lift(t) for t in _tensors(tensors)]
    return out[0] if len(out) == 1 and not (len(tensors) == 1 and isinstance(tensors[0], (list, tuple))) else tuple(out)


def _cat(ts, dim):
    return shape_ops.Concatenate.apply(dim, *ts)


def hstack(tensors):
    """Concatenate along dim 1 (dim 0 for 1-d tensors)."""
    ts = atleast_1d(list(tensors))
    return _cat(ts, 0 if ts[0].ndim == 1 else 1)


def vstack(tensors):
    """Concatenate along dim 0 after making every tensor at least 2-d."""
    return _cat(atleast_2d(list(tensors)), 0)


row_stack = vstack


def dstack(tensors):
    """Concatenate along dim 2 after making every tensor at least 3-d."""
    return _cat(atleast_3d(list(tensors)), 2)


def column_stack(tensors):
    """1-d (and 0-d) tensors become columns; then concatenate along dim 1."""
    ts = [t.reshape(-1, 1) if t.ndim <= 1 else t for t in _tensors(list(tensors))]
    return _cat(ts, 1)


def broadcast_shapes(*shapes):
    """The shape that all ``shapes`` broadcast to (RuntimeError when they don't)."""
    shapes = [(s,) if isinstance(s, (int, np.integer)) else tuple(s) for s in shapes]
    try:
        return tuple(int(s) for s in np.broadcast_shapes(*shapes))
    except ValueError:
        raise ShapeError(f"broadcast_shapes: shapes {shapes} cannot be broadcast together") from None


def broadcast_tensors(*tensors):
    """The tensors expanded to their common broadcast shape (differentiable)."""
    ts = _tensors(tensors)
    shape = broadcast_shapes(*(t.shape for t in ts))
    return tuple(t.broadcast_to(shape) for t in ts)


def _data(x):
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def searchsorted(sorted_sequence, input, out_int32=False, right=False, side=None, sorter=None):
    """For each value, the index where it would be inserted to keep ``sorted_sequence`` sorted.

    Args:
        sorted_sequence: 1-d, or N-d searched along its last dim (leading dims matching ``input``'s).
        input: the values (a tensor or a number).
        out_int32: int32 indices instead of int64.
        right: put a value after the elements equal to it (``side='right'`` says the same).
        side: ``'left'`` or ``'right'``.
        sorter: indices that sort ``sorted_sequence`` when it is not sorted itself.
    """
    if side is not None:
        if side not in ("left", "right"):
            raise ShapeError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
        if right and side == "left":
            raise ShapeError("searchsorted: side='left' and right=True contradict each other")
        right = side == "right"
    seq, vals = _data(sorted_sequence), _data(input)
    sort_idx = None if sorter is None else _data(sorter)
    try:
        out = sorting.searchsorted(seq, vals, right, sort_idx)
    except ValueError as e:
        raise ShapeError(str(e)) from None
    return Tensor._make(out.astype(np.int32) if out_int32 else out)


def bucketize(input, boundaries, out_int32=False, right=False):
    """The bucket of each value: i with boundaries[i-1] < x <= boundaries[i] (right=True: <= x <)."""
    b = _data(boundaries)
    if b.ndim != 1:
        raise ShapeError(f"bucketize: boundaries must be 1-d, got shape {b.shape}")
    return searchsorted(b, input, out_int32=out_int32, right=right)


def empty(*size, dtype=None, requires_grad=False):
    """A new tensor of ``size`` (filled with zeros: numpy has no cheaper safe choice)."""
    return zeros(*size, dtype=dtype, requires_grad=requires_grad)


def empty_like(input, dtype=None, requires_grad=False):
    return Tensor(np.zeros(np.shape(_data(input)), dtype=_data(input).dtype if dtype is None else dtype),
                  requires_grad=requires_grad)


def rand_like(input, dtype=None, requires_grad=False):
    d = _data(input)
    return rand(*d.shape, dtype=d.dtype if dtype is None else dtype, requires_grad=requires_grad)


def randn_like(input, dtype=None, requires_grad=False):
    d = _data(input)
    return randn(*d.shape, dtype=d.dtype if dtype is None else dtype, requires_grad=requires_grad)


def _triangle_indices(row, col, offset, upper):
    keep = ~np.tri(row, col, offset - 1, dtype=bool) if upper else np.tri(row, col, offset, dtype=bool)
    return Tensor._make(np.stack(np.nonzero(keep)).astype(np.int64).reshape(2, -1))


def tril_indices(row, col, offset=0, dtype=None):
    """(2, N) row and column indices of the lower triangle of a row x col matrix, row by row."""
    out = _triangle_indices(row, col, offset, False)
    return out if dtype is None else out.astype(dtype)


def triu_indices(row, col, offset=0, dtype=None):
    """(2, N) row and column indices of the upper triangle of a row x col matrix, row by row."""
    out = _triangle_indices(row, col, offset, True)
    return out if dtype is None else out.astype(dtype)


def block_diag(*tensors):
    """The tensors (0-d, 1-d as a row, or 2-d) as blocks along the diagonal of one matrix (differentiable)."""
    blocks = []
    for t in _tensors(tensors):
        if t.ndim > 2:
            raise ShapeError(f"block_diag: input tensors must have 2 or fewer dimensions, got shape {tuple(t.shape)}")
        blocks.append(t.reshape(1, 1) if t.ndim == 0 else t.reshape(1, -1) if t.ndim == 1 else t)
    if not blocks:
        return Tensor(np.zeros((1, 0), np.float32))
    width = int(np.sum([b.shape[1] for b in blocks]))
    dtype = np.result_type(*(b.dtype for b in blocks))
    rows, left = [], 0
    for b in blocks:
        b = b if b.dtype == dtype else b.astype(dtype)
        rows.append(shape_ops.Pad.apply(b, ((0, 0), (left, width - left - b.shape[1])), 0))
        left += b.shape[1]
    return shape_ops.Concatenate.apply(0, *rows)


def combinations(input, r=2, with_replacement=False):
    """Every length-``r`` combination of a 1-d tensor's elements, as rows (itertools' order)."""
    import itertools
    t = _as_tensor(input)
    if t.ndim != 1:
        raise ShapeError(f"combinations: expects a 1-d tensor, got shape {tuple(t.shape)}")
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    rows = np.array(list(pick(range(t.shape[0]), r)), dtype=np.int64).reshape(-1, r)
    if r == 0 or rows.size == 0:
        return t[np.zeros(0, np.int64)] if r else Tensor(np.zeros((0,), t.dtype))
    return t[rows]
