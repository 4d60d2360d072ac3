"""Tensor's windows and pieces with PyTorch's meanings: unfold, narrow, select, split, chunk,
tensor_split, h/v/dsplit, unbind; each a slice (or an index) of the tensor, so each is differentiable."""
import numpy as np

from .. import tensor as tensors  # the Tensor class, read at call time (tensor.py imports this module)
from ..ops import index
from ..ops.dims import ShapeError, wrap_dim


def _axis(axis, dim):
    return axis if dim is None else dim


class PieceMethods:
    """unfold, narrow/narrow_copy, select, split, chunk, tensor_split, hsplit/vsplit/dsplit, unbind."""

    __slots__ = ()

    def unfold(self, dimension, size, step):
        """Every window of ``size`` elements along ``dimension``, ``step`` apart, as a new last dim."""
        d = wrap_dim(dimension, self.ndim, "unfold")
        n = self.shape[d] if self.ndim else 1
        if size > n or step <= 0 or size < 0:
            raise ShapeError(f"unfold: size {size} must be <= {n} (the size of dim {dimension}) and step {step} > 0")
        starts = np.arange(0, n - size + 1, step)
        idx = starts[:, None] + np.arange(size)[None, :]
        if self.ndim == 0:
            return self.reshape(1)[idx[0]]
        out = self[(slice(None),) * d + (idx,)]
        return out.movedim(d + 1, -1)

    def narrow_copy(self, dim, start, length):
        return self.narrow(dim, start, length) * 1

    def narrow(self, dim, start, length):
        d = wrap_dim(dim, self.ndim, "narrow")
        start = int(start)
        n = self.shape[d]
        if not -n <= start <= n:
            raise IndexError(f"narrow: start ({start}) out of range for dimension {dim} of size {n}")
        start %= n if n else 1
        if length < 0 or start + length > n:
            raise ShapeError(f"narrow: start ({start}) + length ({length}) exceeds dimension size ({n})")
        return self[(slice(None),) * d + (slice(start, start + length),)]

    def split(self, split_size_or_sections, axis=0, dim=None):
        return split(self, split_size_or_sections, axis=_axis(axis, dim))

    def chunk(self, chunks, axis=0, dim=None):
        """torch.chunk: pieces of ceil(n / chunks) elements (so possibly fewer than ``chunks``)."""
        d = wrap_dim(_axis(axis, dim), self.ndim, "chunk")
        if chunks <= 0:
            raise ShapeError(f"chunk: chunks must be positive, got {chunks}")
        n = self.shape[d]
        return split(self, max(-(-n // chunks), 1), axis=d)

    def tensor_split(self, indices_or_sections, dim=0):
        """Pieces as numpy's array_split: ``n`` near-equal sections, or cuts at the given indices."""
        d = wrap_dim(dim, self.ndim, "tensor_split")
        n = self.shape[d]
        ios = indices_or_sections
        if isinstance(ios, tensors.Tensor):
            ios = ios.data.tolist() if ios.ndim else int(ios.data)
        if isinstance(ios, (int, np.integer)):
            if ios <= 0:
                raise ShapeError(f"tensor_split: number of sections must be larger than 0, got {ios}")
            q, r = divmod(n, int(ios))
            cuts = np.cumsum([q + 1] * r + [q] * (int(ios) - r))[:-1].tolist()
        else:
            cuts = [int(c) for c in ios]
        lead = (slice(None),) * d
        bounds = [0] + cuts + [None]
        return tuple(self[lead + (slice(a, b),)] for a, b in zip(bounds[:-1], bounds[1:]))

    def select(self, dim, index):
        """The slice at ``index`` along ``dim`` (that dim removed)."""
        d = wrap_dim(dim, self.ndim, "select")
        n = self.shape[d]
        if not -n <= int(index) < n:
            raise IndexError(f"select: index {int(index)} out of range for tensor of size {tuple(self.shape)} "
                             f"at dimension {dim}")
        return self[(slice(None),) * d + (int(index),)]

    def _split_even(self, op, sections, dim):
        if isinstance(sections, (int, np.integer)) and self.shape[dim] % sections:
            raise ShapeError(f"{op}: the size of dimension {dim} ({self.shape[dim]}) is not divisible by the "
                             f"number of sections {sections}")
        return self.tensor_split(sections, dim)

    def hsplit(self, sections):
        if self.ndim < 1:
            raise ShapeError("hsplit: requires a tensor with at least 1 dimension, got a 0-d tensor")
        return self._split_even("hsplit", sections, 1 if self.ndim > 1 else 0)

    def vsplit(self, sections):
        if self.ndim < 2:
            raise ShapeError(f"vsplit: requires a tensor with at least 2 dimensions, got shape {tuple(self.shape)}")
        return self._split_even("vsplit", sections, 0)

    def dsplit(self, sections):
        if self.ndim < 3:
            raise ShapeError(f"dsplit: requires a tensor with at least 3 dimensions, got shape {tuple(self.shape)}")
        return self._split_even("dsplit", sections, 2)

    def select_scatter(self, src, dim, index):
        """A copy with the slice ``select(dim, index)`` replaced by ``src``."""
        d = wrap_dim(dim, self.ndim, "select_scatter")
        return self._write("select_scatter", (slice(None),) * d + (int(index),), src)

    def slice_scatter(self, src, dim=0, start=None, end=None, step=1):
        """A copy with the slice ``start:end:step`` along ``dim`` replaced by ``src``."""
        d = wrap_dim(dim, self.ndim, "slice_scatter")
        return self._write("slice_scatter", (slice(None),) * d + (slice(start, end, step),), src)

    def _write(self, op, key, src):
        src = src if isinstance(src, tensors.Tensor) else tensors.Tensor(src)
        want = np.empty(self.shape, bool)[key].shape
        if tuple(src.shape) != want:
            raise ShapeError(f"{op}: src must have the shape of the slice it replaces, {want}, got {tuple(src.shape)}")
        return index.SetItem.apply(self, src if src.dtype == self.dtype else src.astype(self.dtype), key)

    def unbind(self, dim=0):
        d = wrap_dim(dim, self.ndim, "unbind")
        lead = (slice(None),) * d
        return tuple(self[lead + (i,)] for i in range(self.shape[d]))


def split(x, split_size_or_sections, axis=0, dim=None):
    """PyTorch's split: pieces of ``split_size`` (the last may be smaller) or of the given sizes."""
    axis = wrap_dim(_axis(axis, dim), x.ndim, "split")
    n = x.shape[axis]
    if isinstance(split_size_or_sections, (int, np.integer)):
        size = int(split_size_or_sections)
        if size < 0 or (size == 0 and n):
            raise ShapeError(f"split: split_size must be positive, got {size}")
        sizes = [min(size, n - s) for s in range(0, n, size)] if n else [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n:
            raise ShapeError(f"split: split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's "
                             f"size at dimension {axis}, shape {tuple(x.shape)}), but got split_sizes={sizes}")
    lead = (slice(None),) * axis
    out, start = [], 0
    for s in sizes:
        out.append(x[lead + (slice(start, start + s),)])
        start += s
    return tuple(out)
