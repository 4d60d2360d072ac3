"""The fully connected layer as ONE graph node: y = x W^T + b."""
import numpy as np

from autodiff import Function


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
        out = np.matmul(x, weight.T)
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
            gx = g @ weight
        if need_w or need_b:
            if g.ndim != 2:
                g = g.reshape(-1, g.shape[-1])
                x = x.reshape(-1, x.shape[-1])
            if need_w:
                gw = g.T @ x
            if need_b:
                gb = g.sum(axis=0)
        return gx, gw, gb
