"""Tensor's shape ops and indexing: each one calls its op's ``apply``."""
import numpy as np

from .. import tensor as tensors  # the Tensor class, read at call time (tensor.py imports this module)
from ..ops import index, reduce, shape


def _axis(axis, dim):
    return axis if dim is None else dim


def index_key(key):
    """An indexing key with Tensors (and lists inside tuples) turned into numpy arrays."""
    Tensor = tensors.Tensor
    if isinstance(key, Tensor):
        return key.data
    if isinstance(key, list):
        return np.asarray([k.data if isinstance(k, Tensor) else k for k in key])
    if isinstance(key, tuple):
        return tuple(k.data if isinstance(k, Tensor) else (np.asarray(k) if isinstance(k, list) else k)
                     for k in key)
    return key


def _sizes(args):
    """``f(2, 3)`` and ``f((2, 3))`` alike."""
    return tuple(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else tuple(args)


class ShapeMethods:
    """reshape/view, transpose/permute/T, broadcast_to/expand, squeeze/unsqueeze, flatten, pad,
    split/chunk and ``t[key]``."""

    __slots__ = ()

    def reshape(self, *sizes):
        size = tuple(int(s) for s in _sizes(sizes))
        if size == self.data.shape:
            return self
        return shape.Reshape.apply(self, size)

    view = reshape

    def transpose(self, *axes):
        """Permute the axes (numpy's meaning); with no argument reverse them."""
        axes = _sizes(axes)
        return shape.Transpose.apply(self, axes if axes else None)

    def permute(self, *axes):
        return self.transpose(*axes)

    @property
    def T(self):
        return shape.Transpose.apply(self, None)

    def swapaxes(self, a, b):
        axes = list(range(self.ndim))
        a, b = a % self.ndim, b % self.ndim
        axes[a], axes[b] = axes[b], axes[a]
        return shape.Transpose.apply(self, tuple(axes))

    def broadcast_to(self, size):
        size = tuple(size)
        if size == self.data.shape:
            return self
        return shape.BroadcastTo.apply(self, size)

    def expand(self, *sizes):
        """PyTorch's expand: -1 keeps a dimension; new leading dimensions may be added."""
        sizes = _sizes(sizes)
        lead = len(sizes) - self.ndim
        if lead < 0:
            raise ValueError(f"expand: {len(sizes)} sizes given for a tensor of shape {tuple(self.shape)}")
        return self.broadcast_to(tuple(self.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes)))

    def expand_as(self, other):
        return self.broadcast_to(other.shape)

    def squeeze(self, axis=None, dim=None):
        axis = _axis(axis, dim)
        if axis is None:
            size = tuple(s for s in self.shape if s != 1)
        else:
            axes = reduce.normalize_axis(axis, self.ndim, "squeeze")
            size = tuple(s for i, s in enumerate(self.shape) if not (i in axes and s == 1))
        return self.reshape(size)

    def unsqueeze(self, axis=None, dim=None):
        axis = _axis(axis, dim)
        nd = self.ndim + 1
        if not -nd <= axis < nd:
            raise ValueError(f"unsqueeze: axis {axis} out of range for a result with {nd} dimensions")
        axis %= nd
        return self.reshape(self.shape[:axis] + (1,) + self.shape[axis:])

    def flatten(self, start_dim=0, end_dim=-1):
        """Merge dimensions start_dim..end_dim (all by default, as numpy's flatten)."""
        if self.ndim == 0:
            return self.reshape(1)
        s, e = start_dim % self.ndim, end_dim % self.ndim
        return self.reshape(self.shape[:s] + (int(np.prod(self.shape[s:e + 1])),) + self.shape[e + 1:])

    def ravel(self):
        return self.reshape(-1)

    def pad(self, pad_width, value=0.0):
        return shape.Pad.apply(self, pad_width, value)

    def split(self, split_size_or_sections, axis=0, dim=None):
        return split(self, split_size_or_sections, axis=_axis(axis, dim))

    def chunk(self, chunks, axis=0, dim=None):
        axis = _axis(axis, dim)
        return split(self, -(-self.shape[axis] // chunks), axis=axis)

    def __getitem__(self, key):
        return index.GetItem.apply(self, index_key(key))


def split(x, split_size_or_sections, axis=0, dim=None):
    """PyTorch's split: pieces of ``split_size`` (the last may be smaller) or of the given sizes."""
    axis = _axis(axis, dim)
    n = x.shape[axis]
    if isinstance(split_size_or_sections, (int, np.integer)):
        size = int(split_size_or_sections)
        if size <= 0:
            raise ValueError(f"split: split_size must be positive, got {size}")
        sizes = [min(size, n - s) for s in range(0, n, size)]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n:
            raise ValueError(f"split: sizes {sizes} do not add up to {n}, the length of axis {axis} "
                             f"of a tensor of shape {tuple(x.shape)}")
    lead = (slice(None),) * (axis % x.ndim)
    out, start = [], 0
    for s in sizes:
        out.append(x[lead + (slice(start, start + s),)])
        start += s
    return tuple(out)
