"""Activation functions that need their own gradient (the rest are built from engine ops)."""
import numpy as np

from ..function import Function
from .array_or_tensor import sigmoid, where


class Step(Function):
    """Binary step: 1 for x >= 0, else 0 (unipolar) or -1 (bipolar). Its gradient is zero everywhere
    (it is undefined at 0; the perceptron rule does not use it)."""

    name = "step"

    @staticmethod
    def forward(ctx, x, bipolar=False):
        low = -1 if bipolar else 0
        return np.where(x >= 0, 1, low).astype(x.dtype if x.dtype.kind == "f" else np.float32)

    @staticmethod
    def backward(ctx, g):
        return g * 0


class ArcTan(Function):
    """arctan(x): d/dx = 1 / (1 + x^2)."""

    name = "arctan"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arctan(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / (1 + x * x)


class LeakyReLU(Function):
    """x for x > 0, else slope * x: d/dx = 1 or slope (slope at 0, as PyTorch)."""

    name = "leaky_relu"

    @staticmethod
    def forward(ctx, x, negative_slope=0.01):
        ctx.mask = x > 0
        ctx.slope = negative_slope
        return np.where(ctx.mask, x, x * np.asarray(negative_slope, x.dtype))

    @staticmethod
    def backward(ctx, g):
        return where(ctx.mask, g, g * ctx.slope)


class ELU(Function):
    """x for x > 0, else alpha (e^x - 1): d/dx = 1 or alpha e^x (= out + alpha)."""

    name = "elu"

    @staticmethod
    def forward(ctx, x, alpha=1.0):
        mask = x > 0
        out = np.where(mask, x, np.asarray(alpha, x.dtype) * np.expm1(np.minimum(x, 0)))
        ctx.save_for_backward(x)
        ctx.mask, ctx.alpha = mask, alpha
        return out

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        neg = x.clip(None, 0) if isinstance(x, np.ndarray) else x.clip(max=0)
        from autodiff.ops.array_or_tensor import exp
        return where(ctx.mask, g, g * ctx.alpha * exp(neg))


class Softplus(Function):
    """log(1 + e^(beta x)) / beta, and x itself where beta x > threshold (PyTorch's definition):
    d/dx = sigmoid(beta x), or 1 above the threshold."""

    name = "softplus"

    @staticmethod
    def forward(ctx, x, beta=1.0, threshold=20.0):
        bx = x * np.asarray(beta, x.dtype)
        soft = (np.maximum(bx, 0) + np.log1p(np.exp(-np.abs(bx)))) / np.asarray(beta, x.dtype)
        ctx.linear = bx > threshold
        ctx.beta = beta
        ctx.save_for_backward(x)
        return np.where(ctx.linear, x, soft).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return where(ctx.linear, g, g * sigmoid(x * ctx.beta))


class PReLU(Function):
    """x for x > 0, else a x with a learnable a per channel (axis 1): da = sum of g x where x <= 0.

    Shape:
        x: (N, C, *) or (C,) / scalar-broadcast; weight: (C,) or (1,).
    """

    name = "prelu"

    @staticmethod
    def forward(ctx, x, weight):
        shape = [1] * x.ndim
        if weight.size != 1:
            shape[1 if x.ndim >= 2 else 0] = weight.size
        wb = weight.reshape(shape) if x.ndim else weight.reshape(())
        ctx.mask = x > 0
        ctx.wshape = tuple(shape)
        ctx.save_for_backward(x, weight)
        return np.where(ctx.mask, x, wb * x)

    @staticmethod
    def backward(ctx, g):
        x, weight = ctx.saved_tensors
        mask = ctx.mask
        need_x, need_w = ctx.needs_input_grad
        wb = weight.reshape(ctx.wshape)
        gx = where(mask, g, g * wb) if need_x else None
        gw = None
        if need_w:
            contrib = where(mask, g * 0, g * x)
            axes = tuple(i for i, s in enumerate(ctx.wshape) if s == 1)
            gw = contrib.sum(axis=axes).reshape(weight.shape) if axes else contrib.reshape(weight.shape)
        return gx, gw


__all__ = ["Step", "ArcTan", "LeakyReLU", "ELU", "Softplus", "PReLU"]
