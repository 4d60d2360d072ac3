"""Dimension arguments checked the way PyTorch checks them: IndexError for a dim out of range."""
import numpy as np

from ..errors import ShapeError

__all__ = ["wrap_dim", "wrap_dims", "dim_key", "ShapeError"]


def wrap_dim(dim, ndim, op):
    """``dim`` as a non-negative int for a tensor with ``ndim`` dimensions (0-d tensors accept -1 and 0).

    Raises:
        IndexError: ``dim`` is outside ``[-ndim, ndim - 1]``, with torch's wording and the op's name.
        TypeError: ``dim`` is not an integer.
    """
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"{op}: dim must be an int, got {type(dim).__name__} {dim!r}")
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"{op}: Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return int(dim) % n


def wrap_dims(dims, ndim, op):
    """A tuple of distinct non-negative dims from an int or a sequence of ints."""
    if isinstance(dims, (int, np.integer)):
        dims = (dims,)
    out = tuple(wrap_dim(d, ndim, op) for d in dims)
    if len(set(out)) != len(out):
        raise RuntimeError(f"{op}: dim {out} appears multiple times in the list of dims")
    return out


def dim_key(index, dim):
    """The numpy key that picks ``a[i][j]...[index[i, j, ...]]...`` along ``dim`` (gather's key).

    Every other dimension is indexed by a broadcast ``arange`` of the index's size there, so the
    key selects ``index.shape`` elements: ``a[key]`` is torch's ``gather`` and ``np.add.at(out, key, g)``
    its adjoint.
    """
    nd = index.ndim
    key = []
    for d in range(nd):
        if d == dim:
            key.append(index)
        else:
            shape = [1] * nd
            shape[d] = index.shape[d]
            key.append(np.arange(index.shape[d]).reshape(shape))
    return tuple(key)
