"""Square-matrix functions over the last two dims: inverse, determinant, log-determinant.

Shape:
    ``a``: ``(*, n, n)``; ``inv``: ``(*, n, n)``; ``det``/``logdet``: ``(*)``.
"""
import numpy as np

from ..errors import ShapeError
from ..function import Function


def _check_square(name, a):
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ShapeError(f"{name}: A must be batches of square matrices, but they are "
                         f"{a.shape[-2] if a.ndim >= 2 else '?'} by {a.shape[-1] if a.ndim else '?'} "
                         f"matrices (input {a.shape})")


def _mT(x):
    return x.swapaxes(-1, -2)


class Inverse(Function):
    """inv(A): d(inv A) = -inv(A) dA inv(A), so dL/dA = -inv(A)^T g inv(A)^T."""

    @staticmethod
    def forward(ctx, a):
        _check_square("linalg.inv", a)
        try:
            out = np.linalg.inv(a)
        except np.linalg.LinAlgError:
            raise ShapeError(f"linalg.inv: the matrix is singular (input {a.shape})") from None
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (inv,) = ctx.saved_tensors
        inv_t = _mT(inv)
        return -(inv_t @ g @ inv_t)


def _cofactors(a):
    """The cofactor matrix of each (n, n) matrix: det(A) inv(A)^T without dividing by det(A), so it
    exists for singular matrices too."""
    n = a.shape[-1]
    out = np.empty_like(a)
    for i in range(n):
        for j in range(n):
            minor = np.delete(np.delete(a, i, axis=-2), j, axis=-1)
            out[..., i, j] = (-1) ** (i + j) * (np.linalg.det(minor) if n > 1 else 1.0)
    return out


class Det(Function):
    """det(A): d det / dA = det(A) inv(A)^T, the cofactor matrix (also for singular A, where torch 2.13
    returns zeros for some matrices; the cofactors are the derivative)."""

    @staticmethod
    def forward(ctx, a):
        _check_square("linalg.det", a)
        out = np.asarray(np.linalg.det(a), dtype=a.dtype)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, det = ctx.saved_tensors
        if isinstance(a, np.ndarray):
            return g[..., None, None] * _cofactors(a)
        return (g * det)[..., None, None] * _mT(Inverse.apply(a))  # create_graph: invertible A


class LogAbsDet(Function):
    """log|det A| and the sign: d log|det A| / dA = inv(A)^T (the sign has no gradient)."""

    @staticmethod
    def forward(ctx, a):
        _check_square("linalg.slogdet", a)
        sign, logabs = np.linalg.slogdet(a)
        ctx.save_for_backward(a)
        return np.asarray(sign, dtype=a.dtype), np.asarray(logabs, dtype=a.dtype)

    @staticmethod
    def backward(ctx, g_sign, g_log):
        (a,) = ctx.saved_tensors
        inv = Inverse.apply(a) if not isinstance(a, np.ndarray) else np.linalg.inv(a)
        return g_log[..., None, None] * _mT(inv)


__all__ = ["Inverse", "Det", "LogAbsDet"]
