"""The fully connected layer as ONE graph node: y = x W^T + b."""
import numpy as np

from ..function import Function
from ..kernels.gemm import matmul as _gemm


def _mm(a, b):
    """a @ b: 2-d arrays go through the per-shape GEMM choice (Numba / 1-thread BLAS / BLAS);
    Tensors (create_graph) and other ranks use the @ operator."""
    if type(a) is np.ndarray and type(b) is np.ndarray and a.ndim == 2:
        return _gemm(a, b)
    return a @ b


class LinearFunction(Function):
    """y = x @ W.T + b; dx = g @ W, dW = g^T x (summed over leading dims), db = sum of g.

    Shape:
        x: (*, in_features), W: (out_features, in_features), b: (out_features,) or None
        -> (*, out_features).
    The backward is written with operators both ndarrays and Tensors have, so it also records itself
    under ``create_graph=True``.
    """

    name = "linear"

    @staticmethod
    def forward(ctx, x, weight, bias=None):
        ctx.save_for_backward(x, weight)
        out = _gemm(x, weight.T) if x.ndim == 2 else np.matmul(x, weight.T)
        if bias is not None:
            if out.dtype == np.result_type(out, bias):
                out += bias
            else:
                out = out + bias
        return out

    @staticmethod
    def backward(ctx, g):
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        gx = gw = gb = None
        if need_x:
            gx = _mm(g, weight)
        if need_w or need_b:
            if g.ndim != 2:
                g = g.reshape(-1, g.shape[-1])
                x = x.reshape(-1, x.shape[-1])
            if need_w:
                gw = _mm(g.T, x)
            if need_b:
                gb = g.sum(axis=0)
        return gx, gw, gb
