"""Tensor's products with PyTorch's shape rules: mm, bmm, mv, dot, outer, kron, cross, the ``add*``
forms (``beta * input + alpha * product``), tensordot and einsum. Each is a check of the shapes torch
requires and then ``MatMul``, ``Einsum`` or elementwise ops."""
import string
from collections import namedtuple

import numpy as np

from .. import tensor as tensors  # the Tensor class, read at call time (tensor.py imports this module)
from ..ops import einsum as einsum_op
from ..ops import linalg, matrix
from ..ops import shape as shape_ops
from ..ops.dims import ShapeError, wrap_dim


def _t(x):
    return x if isinstance(x, tensors.Tensor) else tensors.Tensor(x)


def _need(op, x, nd, what):
    if x.ndim != nd:
        raise ShapeError(f"{op}: {what} must be a {nd}-d tensor, got shape {tuple(x.shape)}")


def mm(input, mat2):
    """Matrix product of two 2-d tensors."""
    a, b = _t(input), _t(mat2)
    _need("mm", a, 2, "self")
    _need("mm", b, 2, "mat2")
    if a.shape[1] != b.shape[0]:
        raise ShapeError(f"mm: mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x{a.shape[1]} and "
                         f"{b.shape[0]}x{b.shape[1]})")
    return linalg.MatMul.apply(a, b)


def bmm(input, mat2):
    """Batched matrix product of (b, n, m) and (b, m, p) tensors (no broadcasting)."""
    a, b = _t(input), _t(mat2)
    _need("bmm", a, 3, "batch1")
    _need("bmm", b, 3, "batch2")
    if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise ShapeError(f"bmm: batch1 {tuple(a.shape)} and batch2 {tuple(b.shape)} do not match: expected "
                         f"batch2 of shape ({a.shape[0]}, {a.shape[2]}, p)")
    return linalg.MatMul.apply(a, b)


def mv(input, vec):
    """Matrix-vector product of an (n, m) and an (m,) tensor."""
    a, v = _t(input), _t(vec)
    _need("mv", a, 2, "self")
    _need("mv", v, 1, "vec")
    if a.shape[1] != v.shape[0]:
        raise ShapeError(f"mv: size mismatch, got input ({a.shape[0]}x{a.shape[1]}) and vec ({v.shape[0]})")
    return linalg.MatMul.apply(a, v)


def dot(input, tensor):
    """Inner product of two 1-d tensors of the same length (torch's ``dot``)."""
    a, b = _t(input), _t(tensor)
    _need("dot", a, 1, "self")
    _need("dot", b, 1, "tensor")
    if a.shape != b.shape:
        raise ShapeError(f"dot: inconsistent tensor size, expected tensor [{a.shape[0]}] and src [{b.shape[0]}] "
                         "to have the same number of elements")
    return linalg.MatMul.apply(a, b)


vdot = dot


def outer(input, vec2):
    """input[i] * vec2[j] for 1-d tensors."""
    a, b = _t(input), _t(vec2)
    _need("outer", a, 1, "self")
    _need("outer", b, 1, "vec2")
    return a.reshape(-1, 1) * b.reshape(1, -1)


ger = outer


def inner(input, other):
    """Sum over the last dims of the two tensors (scalars multiply)."""
    a, b = _t(input), _t(other)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if a.shape[-1] != b.shape[-1]:
        raise ShapeError(f"inner: last dimensions must match, got {tuple(a.shape)} and {tuple(b.shape)}")
    return tensordot(a, b, ([-1], [-1]))


def kron(input, other):
    """Kronecker product: block (i, j, ...) is ``input[i, j, ...] * other``."""
    a, b = _t(input), _t(other)
    nd = max(a.ndim, b.ndim)
    sa = (1,) * (nd - a.ndim) + tuple(a.shape)
    sb = (1,) * (nd - b.ndim) + tuple(b.shape)
    ai = a.reshape(tuple(x for s in sa for x in (s, 1)))
    bi = b.reshape(tuple(x for s in sb for x in (1, s)))
    return (ai * bi).reshape(tuple(p * q for p, q in zip(sa, sb)))


def cross(input, other, dim=None):
    """Cross product of 3-vectors along ``dim`` (None: the first dim of size 3, as torch.cross)."""
    a, b = _t(input), _t(other)
    try:
        shape = np.broadcast_shapes(tuple(a.shape), tuple(b.shape))
    except ValueError:
        raise ShapeError(f"cross: shapes {tuple(a.shape)} and {tuple(b.shape)} do not broadcast") from None
    if dim is None:
        dim = next((i for i, s in enumerate(shape) if s == 3), None)
        if dim is None:
            raise ShapeError(f"cross: no dimension of size 3 in input of shape {shape}")
    d = wrap_dim(dim, len(shape), "cross")
    if shape[d] != 3:
        raise ShapeError(f"cross: inputs dimension {dim} must have length 3, got shape {shape}")
    a, b = a.broadcast_to(shape), b.broadcast_to(shape)
    lead = (slice(None),) * d
    x = [a[lead + (k,)] for k in range(3)]
    y = [b[lead + (k,)] for k in range(3)]
    return shape_ops.Stack.apply(d, x[1] * y[2] - x[2] * y[1], x[2] * y[0] - x[0] * y[2], x[0] * y[1] - x[1] * y[0])


def tensordot(a, b, dims=2):
    """Sum over the last ``dims`` dims of a and the first of b, or over the dims listed in ``dims``."""
    a, b = _t(a), _t(b)
    if isinstance(dims, tensors.Tensor):
        dims = dims.data.tolist()
    if isinstance(dims, (int, np.integer)):
        if dims < 0 or dims > min(a.ndim, b.ndim):
            raise ShapeError(f"tensordot: dims {dims} out of range for shapes {tuple(a.shape)}, {tuple(b.shape)}")
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        da, db = ([d] if isinstance(d, (int, np.integer)) else list(d) for d in dims)
    da = [wrap_dim(d, a.ndim, "tensordot") for d in da]
    db = [wrap_dim(d, b.ndim, "tensordot") for d in db]
    if len(da) != len(db) or any(a.shape[i] != b.shape[j] for i, j in zip(da, db)):
        raise ShapeError(f"tensordot: contracted dims {da} of {tuple(a.shape)} and {db} of {tuple(b.shape)} "
                         "don't match in number or size")
    letters = iter(string.ascii_letters)
    ta = [next(letters) for _ in range(a.ndim)]
    tb = [next(letters) for _ in range(b.ndim)]
    for i, j in zip(da, db):
        tb[j] = ta[i]
    out = [t for k, t in enumerate(ta) if k not in da] + [t for k, t in enumerate(tb) if k not in db]
    return einsum_op.Einsum.apply(f"{''.join(ta)},{''.join(tb)}->{''.join(out)}", a, b)


def einsum(equation, *operands):
    """Einstein summation: ``einsum('ij,jk->ik', a, b)`` is ``a @ b``.

    Args:
        equation: letters per operand, comma separated, ``...`` for broadcast dims, and optionally
            ``->`` with the output's letters (implicit output: the letters seen once, sorted). torch's
            sublist form ``einsum(a, [0, 1], b, [1, 2], [0, 2])`` works too.
        *operands: the tensors (or one list of them).

    Returns:
        The sum over every letter missing from the output of the product of the operands.
    """
    if not isinstance(equation, str):
        equation, operands = einsum_op.sublist_equation((equation,) + operands)
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    return einsum_op.Einsum.apply(equation, *(_t(o) for o in operands))


def _add_scaled(op, input, product, beta, alpha):
    """beta * input + alpha * product; input broadcast to the product's shape, ignored when beta is 0."""
    input = _t(input)
    try:
        np.broadcast_to(np.empty(input.shape, bool), product.shape)
    except ValueError:
        raise ShapeError(f"{op}: input of shape {tuple(input.shape)} does not broadcast to the product's "
                         f"shape {tuple(product.shape)}") from None
    scaled = product if alpha == 1 else product * alpha
    if beta == 0:
        return scaled
    return (input if beta == 1 else input * beta) + scaled


def addmm(input, mat1, mat2, beta=1, alpha=1):
    return _add_scaled("addmm", input, mm(mat1, mat2), beta, alpha)


def addmv(input, mat, vec, beta=1, alpha=1):
    return _add_scaled("addmv", input, mv(mat, vec), beta, alpha)


def baddbmm(input, batch1, batch2, beta=1, alpha=1):
    return _add_scaled("baddbmm", input, bmm(batch1, batch2), beta, alpha)


def addbmm(input, batch1, batch2, beta=1, alpha=1):
    return _add_scaled("addbmm", input, bmm(batch1, batch2).sum(axis=0), beta, alpha)


def addr(input, vec1, vec2, beta=1, alpha=1):
    return _add_scaled("addr", input, outer(vec1, vec2), beta, alpha)


_slogdet = namedtuple("slogdet", ["sign", "logabsdet"])


def inv(A):
    """The inverse of each square matrix in ``A`` (``(*, n, n)``); singular matrices raise."""
    return matrix.Inverse.apply(A)


def det(A):
    """The determinant of each square matrix in ``A``."""
    return matrix.Det.apply(A)


def slogdet(A):
    """``(sign, log|det|)`` of each square matrix in ``A`` (a namedtuple, as torch)."""
    return _slogdet(*matrix.LogAbsDet.apply(A))


def logdet(A):
    """``log det A``: nan where the determinant is negative, -inf where it is 0 (as torch)."""
    sign, logabs = slogdet(A)
    bad = sign.data < 0
    return logabs + np.where(bad, np.nan, 0.0).astype(logabs.dtype) if bad.any() else logabs


class ProductMethods:
    """mm, bmm, mv, outer, kron, cross, inner, the add* forms, inverse and determinants as Tensor methods."""

    __slots__ = ()

    def inverse(self):
        return inv(self)

    def det(self):
        return det(self)

    def logdet(self):
        return logdet(self)

    def slogdet(self):
        return slogdet(self)

    def mm(self, mat2):
        return mm(self, mat2)

    def bmm(self, batch2):
        return bmm(self, batch2)

    def mv(self, vec):
        return mv(self, vec)

    def vdot(self, other):
        return dot(self, other)

    def outer(self, vec2):
        return outer(self, vec2)

    ger = outer

    def inner(self, other):
        return inner(self, other)

    def kron(self, other):
        return kron(self, other)

    def cross(self, other, dim=None):
        return cross(self, other, dim)

    def addmm(self, mat1, mat2, beta=1, alpha=1):
        return addmm(self, mat1, mat2, beta=beta, alpha=alpha)

    def addmv(self, mat, vec, beta=1, alpha=1):
        return addmv(self, mat, vec, beta=beta, alpha=alpha)

    def baddbmm(self, batch1, batch2, beta=1, alpha=1):
        return baddbmm(self, batch1, batch2, beta=beta, alpha=alpha)

    def addbmm(self, batch1, batch2, beta=1, alpha=1):
        return addbmm(self, batch1, batch2, beta=beta, alpha=alpha)

    def addr(self, vec1, vec2, beta=1, alpha=1):
        return addr(self, vec1, vec2, beta=beta, alpha=alpha)
