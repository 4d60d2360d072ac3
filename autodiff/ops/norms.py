"""Vector p-norms and the singular-value matrix norms, with PyTorch's gradients (0 at a zero vector)."""
import math

import numpy as np

from ..errors import ShapeError
from ..function import Function
from .array_or_tensor import sign, where
from .promotion import to_floating
from .reduce import normalize_axis


def _abs(x):
    return np.abs(x) if isinstance(x, np.ndarray) else x.abs()


class VectorNorm(Function):
    """||a||_p over ``axes``: sum(|a|^p)^(1/p); p = inf/-inf is max/min |a|, p = 0 counts nonzeros.

    Gradient (PyTorch's): p=1 sign(a); p=2 a / norm; inf/-inf sign(a) shared by the elements that
    reach the extreme; other p a |a|^(p-2) / norm^(p-1); 0 wherever the norm is 0.
    """

    exact_grad_shapes = True

    @staticmethod
    def forward(ctx, a, ord=2, axis=None, keepdims=False):
        a = to_floating(a)
        axes = normalize_axis(axis, a.ndim, "vector_norm")
        ax = axes if a.ndim else None
        m = np.abs(a)
        if ord == math.inf:
            if a.size == 0:
                raise RuntimeError(f"vector_norm: cannot compute the inf norm of an empty tensor "
                                   f"of shape {a.shape}")
            kept = np.max(m, axis=ax, keepdims=True)
        elif ord == -math.inf:
            if a.size == 0:
                raise RuntimeError(f"vector_norm: cannot compute the -inf norm of an empty tensor "
                                   f"of shape {a.shape}")
            kept = np.min(m, axis=ax, keepdims=True)
        elif ord == 0:
            kept = np.sum(m != 0, axis=ax, keepdims=True).astype(a.dtype)
        elif ord == 1:
            kept = np.sum(m, axis=ax, keepdims=True)
        elif ord == 2:
            kept = np.sqrt(np.sum(m * m, axis=ax, keepdims=True))
        else:
            with np.errstate(divide="ignore"):
                kept = np.power(np.sum(np.power(m, ord), axis=ax, keepdims=True), 1.0 / ord)
        kept = kept.astype(a.dtype, copy=False)
        ctx.ord, ctx.axes, ctx.kept_shape = ord, axes, kept.shape
        out = kept if keepdims else kept.reshape([s for i, s in enumerate(a.shape) if i not in axes])
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors
        p = ctx.ord
        g, norm = g.reshape(ctx.kept_shape), out.reshape(ctx.kept_shape)
        nd = np.asarray(getattr(norm, "data", norm))
        ad = np.asarray(getattr(a, "data", a))
        if p == 0:
            return a * 0
        if p == 1:
            return g * sign(a)
        if p in (math.inf, -math.inf):
            hit = np.abs(ad) == nd
            count = np.maximum(hit.sum(axis=ctx.axes if ad.ndim else None, keepdims=True), 1)
            return g * sign(a) * (hit / count).astype(ad.dtype)
        zero = nd == 0
        safe = where(zero, np.ones((), ad.dtype), norm)
        if p == 2:
            scale = g / safe
            return where(zero, 0.0 * a, a * scale)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = g / safe ** (p - 1)
            return where(zero, 0.0 * a, a * _abs(a) ** (p - 2) * scale)


class SingularValueNorm(Function):
    """Matrix norms from the singular values over the last two axes: 'nuc' (their sum), 2 (the
    largest), -2 (the smallest). Gradients U V^T, u_1 v_1^T and u_n v_n^T (distinct singular values)."""

    once_differentiable = True
    exact_grad_shapes = True

    @staticmethod
    def forward(ctx, a, ord):
        if a.ndim < 2:
            raise ShapeError(f"matrix_norm: expected a tensor with 2 or more dimensions, got shape {a.shape}")
        u, s, vh = np.linalg.svd(a, full_matrices=False)
        ctx.ord = ord
        ctx.u, ctx.s, ctx.vh = u, s, vh
        if ord == "nuc":
            return s.sum(axis=-1)
        return s.max(axis=-1) if ord == 2 else s.min(axis=-1)

    @staticmethod
    def backward(ctx, g):
        u, s, vh = ctx.u, ctx.s, ctx.vh
        g = np.asarray(g)[..., None, None]
        if ctx.ord == "nuc":
            return g * (u @ vh), None
        k = np.argmax(s, axis=-1) if ctx.ord == 2 else np.argmin(s, axis=-1)
        uk = np.take_along_axis(u, k[..., None, None], axis=-1)        # (..., m, 1)
        vk = np.take_along_axis(vh, k[..., None, None], axis=-2)       # (..., 1, n)
        return g * (uk @ vk), None


__all__ = ["VectorNorm", "SingularValueNorm"]
