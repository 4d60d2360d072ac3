"""Tensor's elementwise functions and dtype conversions: each one calls its op's ``apply``."""
import numpy as np

from .. import tensor as tensors  # the Tensor class, read at call time (tensor.py imports this module)
from ..ops import elementwise


class MathMethods:
    """exp, log, tanh, sigmoid, relu, clip, maximum ... and astype / float / double."""

    __slots__ = ()

    def exp(self):
        return elementwise.Exp.apply(self)

    def log(self):
        return elementwise.Log.apply(self)

    def sqrt(self):
        return elementwise.Sqrt.apply(self)

    def abs(self):
        return elementwise.Abs.apply(self)

    __abs__ = abs

    def sin(self):
        return elementwise.Sin.apply(self)

    def cos(self):
        return elementwise.Cos.apply(self)

    def tanh(self):
        return elementwise.Tanh.apply(self)

    def sigmoid(self):
        return elementwise.Sigmoid.apply(self)

    def softplus(self):
        return elementwise.Softplus.apply(self)

    def relu(self):
        return elementwise.Relu.apply(self)

    def clip(self, min=None, max=None):
        """Clamp to [min, max]; the gradient passes where the value is inside."""
        if min is None and max is None:
            raise ValueError("clip: at least one of min and max must be given")
        return elementwise.Clip.apply(self, min, max)

    clamp = clip

    def maximum(self, other):
        return elementwise.Maximum.apply(self, other)

    def minimum(self, other):
        return elementwise.Minimum.apply(self, other)

    def astype(self, dtype):
        """Convert to ``dtype`` (differentiable between float types)."""
        dtype = np.dtype(dtype)
        if dtype == self.data.dtype:
            return self
        if dtype.kind not in "fc":
            return tensors.Tensor._make(self.data.astype(dtype))
        return elementwise.Cast.apply(self, dtype)

    def to(self, dtype):
        return self.astype(dtype)

    def float(self):
        return self.astype(np.float32)

    def double(self):
        return self.astype(np.float64)

    def clone(self):
        return self * 1 if self._requires_grad else tensors.Tensor._make(self.data.copy())
