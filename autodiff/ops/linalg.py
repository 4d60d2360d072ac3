"""Matrix product with numpy's semantics (1-D, 2-D, batched, broadcast batch dimensions)."""
import numpy as np

from ..errors import ShapeError
from ..function import Function
from ..kernels.gemm import matmul as _matmul  # BLAS/Numba per shape; thin 2-d products on one BLAS thread
from .array_or_tensor import unbroadcast


class MatMul(Function):
    """a @ b: d/da = g @ b^T, d/db = a^T @ g (batch dims reduced back to each input)."""

    @staticmethod
    def forward(ctx, a, b):
        if np.ndim(a) == 0 or np.ndim(b) == 0:
            raise ShapeError(f"matmul: both operands need at least 1 dimension, got shapes "
                             f"{np.shape(a)} and {np.shape(b)}")
        ka = a.shape[-1]
        kb = b.shape[-2] if b.ndim > 1 else b.shape[0]
        if ka != kb:
            raise ShapeError(f"matmul: shapes {a.shape} and {b.shape} are not aligned: "
                             f"{ka} (last dim of the first) != {kb} (rows of the second)")
        ctx.save_for_backward(a, b)
        return _matmul(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        if a.ndim == 1 and b.ndim == 1:
            return (g * b if na else None), (g * a if nb else None)
        a2 = a.reshape((1,) + a.shape) if a.ndim == 1 else a
        b2 = b.reshape(b.shape + (1,)) if b.ndim == 1 else b
        if a.ndim == 1:
            g = g.reshape(g.shape[:-1] + (1,) + g.shape[-1:])
        if b.ndim == 1:
            g = g.reshape(g.shape + (1,))
        ga = gb = None
        if na:
            ga = unbroadcast(g @ b2.swapaxes(-1, -2), a2.shape).reshape(a.shape)
        if nb:
            gb = unbroadcast(a2.swapaxes(-1, -2) @ g, b2.shape).reshape(b.shape)
        return ga, gb
