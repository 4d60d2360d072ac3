"""GELU and SiLU, each one graph node (the Transformer activations)."""
import math

import numpy as np

from ..function import Function
from ..kernels.gelu import gelu_backward, gelu_forward, normal_cdf
from .array_or_tensor import _is_tensor, exp, sigmoid, tanh

__all__ = ["GELU", "SiLU", "NormalCDF"]

_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_C = 0.044715


def _float(x):
    return x if x.dtype.kind == "f" else x.astype(np.float32)


class NormalCDF(Function):
    """Phi(x) = (1 + erf(x / sqrt 2)) / 2: d/dx = phi(x) = exp(-x^2 / 2) / sqrt(2 pi)."""

    name = "normal_cdf"

    @staticmethod
    def forward(ctx, x):
        x = _float(x)
        ctx.save_for_backward(x)
        return normal_cdf(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * exp(x * x * -0.5) * _INV_SQRT_2PI


class GELU(Function):
    """x Phi(x) ('none') or x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2 ('tanh').

    d/dx = Phi(x) + x phi(x) (exact), or the derivative of the tanh form. The array backward is one
    fused kernel; under ``create_graph`` it is built from recorded ops, so it is twice differentiable.
    """

    name = "gelu"

    @staticmethod
    def forward(ctx, x, approximate="none"):
        x = _float(x)
        ctx.approximate = approximate
        ctx.save_for_backward(x)
        return gelu_forward(x, approximate)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        if not _is_tensor(x) and not _is_tensor(g):
            return gelu_backward(g, x, ctx.approximate)
        if ctx.approximate == "none":
            return g * (NormalCDF.apply(x) + x * exp(x * x * -0.5) * _INV_SQRT_2PI)
        t = tanh((x + x * x * x * _C) * _SQRT_2_OVER_PI)
        return g * ((t + 1) * 0.5 + x * (1 - t * t) * (1 + x * x * (3 * _C)) * (0.5 * _SQRT_2_OVER_PI))


class SiLU(Function):
    """x sigmoid(x): d/dx = s (1 + x (1 - s)), s = sigmoid(x)."""

    name = "silu"

    @staticmethod
    def forward(ctx, x):
        x = _float(x)
        ctx.save_for_backward(x)
        return x * sigmoid(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        s = sigmoid(x)
        return g * s * (1 + x * (1 - s))
