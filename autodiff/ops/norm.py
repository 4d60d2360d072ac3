"""Normalisation with an affine transform as one node: y = (x - mean) / sqrt(var + eps) * w + b."""
import numpy as np

from ..function import Function
from .array_or_tensor import unbroadcast


class Normalize(Function):
    """Batch/layer normalisation given the statistics.

    With ``through_stats`` the mean and (biased) variance were computed from x over ``axes``, so the
    gradient flows through them too:
    dx = inv_std (dxhat - mean(dxhat) - xhat mean(dxhat xhat)), means over ``axes``.
    Otherwise (running statistics) dx = dxhat inv_std. dw = sum(g xhat), db = sum(g) over the
    broadcast axes of the parameters. Its backward works on arrays only (``once_differentiable``).

    Shape:
        x: any; mean/var: broadcastable to x (keepdims form); weight/bias: reshaped to ``pshape``.
    """

    name = "normalize"
    once_differentiable = True

    @staticmethod
    def forward(ctx, x, weight, bias, mean=None, var=None, eps=1e-5, axes=None, pshape=None,
                through_stats=True):
        inv_std = 1.0 / np.sqrt(var + eps)
        xhat = (x - mean) * inv_std
        xhat = xhat.astype(x.dtype, copy=False)
        out = xhat
        if weight is not None:
            out = xhat * weight.reshape(pshape)
        if bias is not None:
            out = out + bias.reshape(pshape)
        ctx.axes, ctx.pshape, ctx.through = axes, pshape, through_stats
        ctx.bshape = bias.shape if bias is not None else None
        ctx.save_for_backward(xhat, inv_std.astype(x.dtype, copy=False), weight)
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        xhat, inv_std, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        pshape = ctx.pshape
        gw = unbroadcast(g * xhat, pshape).reshape(weight.shape) if need_w else None
        gb = unbroadcast(g, pshape).reshape(ctx.bshape) if need_b else None
        if not need_x:
            return None, gw, gb
        dxhat = g * weight.reshape(pshape) if weight is not None else g
        if ctx.through:
            axes = ctx.axes
            gx = inv_std * (dxhat - dxhat.mean(axis=axes, keepdims=True)
                            - xhat * (dxhat * xhat).mean(axis=axes, keepdims=True))
        else:
            gx = dxhat * inv_std
        return gx, gw, gb
