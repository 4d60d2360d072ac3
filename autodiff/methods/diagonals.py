"""Tensor's diagonals and triangles: diagonal, diag, diag_embed, tril/triu, trace, diff and
fill_diagonal_ (the ops in ``ops/diagonal.py``, or compositions)."""
import numpy as np

from .. import tensor as tensors  # the Tensor class, read at call time (tensor.py imports this module)
from ..ops import diagonal, elementwise, shape
from ..ops.dims import ShapeError, wrap_dim


class DiagonalMethods:
    """diagonal, diag_embed, diag, diagflat, diagonal_scatter, tril, triu, trace, diff, fill_diagonal_."""

    __slots__ = ()

    def diagonal(self, offset=0, dim1=0, dim2=1):
        a, b = wrap_dim(dim1, self.ndim, "diagonal"), wrap_dim(dim2, self.ndim, "diagonal")
        if a == b:
            raise ShapeError(f"diagonal: dimensions dim1 and dim2 cannot be identical ({dim1}, {dim2})")
        return diagonal.Diagonal.apply(self, int(offset), a, b)

    def diag_embed(self, offset=0, dim1=-2, dim2=-1):
        """The last dim placed on the ``offset`` diagonal of the two new dims ``dim1``, ``dim2``."""
        nd = self.ndim + 1
        a, b = wrap_dim(dim1, nd, "diag_embed"), wrap_dim(dim2, nd, "diag_embed")
        if a == b:
            raise ShapeError(f"diag_embed: diagonal dimensions cannot be identical ({dim1}, {dim2})")
        m = self.shape[-1] + abs(int(offset)) if self.ndim else 1 + abs(int(offset))
        rest = list(self.shape[:-1])
        out_shape = []
        for i in range(nd):
            out_shape.append(m if i in (a, b) else rest.pop(0))
        return diagonal.DiagScatter.apply(self if self.ndim else self.reshape(1), tuple(out_shape), int(offset), a, b)

    def diag(self, diagonal=0):
        """1-d: a square matrix with this on the ``diagonal``; 2-d: that diagonal of the matrix."""
        if self.ndim == 1:
            return self.diag_embed(diagonal, 0, 1)
        if self.ndim == 2:
            return self.diagonal(diagonal, 0, 1)
        raise ShapeError(f"diag: matrix or a vector expected, got a tensor of shape {tuple(self.shape)}")

    def tril(self, diagonal=0):
        """Zero above the ``diagonal`` of the last two dims (0: main, >0 above it, <0 below)."""
        return _triangle(self, diagonal, False)

    def triu(self, diagonal=0):
        """Zero below the ``diagonal`` of the last two dims."""
        return _triangle(self, diagonal, True)

    def trace(self):
        """Sum of the main diagonal of a matrix."""
        if self.ndim != 2:
            raise ShapeError(f"trace: expected a matrix, but got tensor with shape {tuple(self.shape)}")
        return self.diagonal().sum()

    def diff(self, n=1, dim=-1, prepend=None, append=None):
        """The n-th forward difference along ``dim`` (``prepend``/``append`` joined first)."""
        d = wrap_dim(dim, self.ndim, "diff")
        parts = [p if isinstance(p, tensors.Tensor) else tensors.Tensor(p) for p in (prepend, self, append)
                 if p is not None]
        x = shape.Concatenate.apply(d, *parts) if len(parts) > 1 else self
        lead = (slice(None),) * d
        for _ in range(n):
            x = x[lead + (slice(1, None),)] - x[lead + (slice(None, -1),)]
        return x

    def diagflat(self, offset=0):
        """The flattened tensor on the ``offset`` diagonal of a square matrix."""
        return self.reshape(-1).diag_embed(offset, 0, 1)

    def diagonal_scatter(self, src, offset=0, dim1=0, dim2=1):
        """A copy with ``src`` written on the diagonal that ``diagonal(offset, dim1, dim2)`` reads."""
        a, b = wrap_dim(dim1, self.ndim, "diagonal_scatter"), wrap_dim(dim2, self.ndim, "diagonal_scatter")
        src = src if isinstance(src, tensors.Tensor) else tensors.Tensor(src)
        want = np.diagonal(np.empty(self.shape, bool), offset, a, b).shape
        if tuple(src.shape) != want:
            raise ShapeError(f"diagonal_scatter: src must have the shape of the diagonal, {want}, got {tuple(src.shape)}")
        on = diagonal.diag_scatter(np.ones(want, bool), self.shape, int(offset), a, b)
        placed = diagonal.DiagScatter.apply(src.astype(self.dtype), tuple(self.shape), int(offset), a, b)
        return elementwise.Where.apply(on, placed, self)

    def fill_diagonal_(self, fill_value, wrap=False):
        """Write ``fill_value`` on the main diagonal, in place (all dims equal beyond 2-d)."""
        if self.ndim < 2 or (self.ndim > 2 and len(set(self.shape)) != 1):
            raise ShapeError(f"fill_diagonal_: dimensions must be >= 2 and all of equal length beyond 2-d, "
                             f"got shape {tuple(self.shape)}")
        if self.ndim == 2:
            cols = self.shape[1]
            end = self.data.size if wrap else cols * cols
            key = np.unravel_index(np.arange(0, min(end, self.data.size), cols + 1), self.shape)
        else:
            key = (np.arange(self.shape[0]),) * self.ndim
        self[key] = fill_value
        return self


def _triangle(x, k, upper):
    return diagonal.Triangle.apply(x, int(k), upper)
