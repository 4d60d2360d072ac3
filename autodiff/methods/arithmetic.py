"""Tensor's arithmetic and comparison operators: each one is ``SomeFunction.apply(self, other)``."""
import numpy as np

from .. import tensor as tensors  # the Tensor class, read at call time (tensor.py imports this module)
from ..ops import elementwise, linalg


def _as_operand(x):
    """Lists become float32 arrays (``x @ [[1, 2]]``); everything else passes as it is."""
    return np.asarray(x, dtype=np.float32) if isinstance(x, (list, tuple)) else x


class ArithmeticMethods:
    """``+ - * / ** @`` with their reflected forms, negation, and comparisons (no gradient)."""

    __slots__ = ()

    def __add__(self, other):
        return elementwise.Add.apply(self, other)

    def __radd__(self, other):
        return elementwise.Add.apply(other, self)

    def __sub__(self, other):
        return elementwise.Sub.apply(self, other)

    def __rsub__(self, other):
        return elementwise.Sub.apply(other, self)

    def __mul__(self, other):
        return elementwise.Mul.apply(self, other)

    def __rmul__(self, other):
        return elementwise.Mul.apply(other, self)

    def __truediv__(self, other):
        return elementwise.Div.apply(self, other)

    def __rtruediv__(self, other):
        return elementwise.Div.apply(other, self)

    def __pow__(self, other):
        return elementwise.Pow.apply(self, other)

    def __rpow__(self, other):
        return elementwise.Pow.apply(other, self)

    def __neg__(self):
        return elementwise.Neg.apply(self)

    def __pos__(self):
        return self

    def __matmul__(self, other):
        return linalg.MatMul.apply(self, _as_operand(other))

    def __rmatmul__(self, other):
        return linalg.MatMul.apply(_as_operand(other), self)

    def matmul(self, other):
        return self @ other

    def dot(self, other):
        return self @ other

    # comparisons: plain boolean tensors, no gradient
    def _compare(self, other, ufunc):
        return tensors.Tensor._make(ufunc(self.data, getattr(other, "data", other)))

    def __lt__(self, other):
        return self._compare(other, np.less)

    def __le__(self, other):
        return self._compare(other, np.less_equal)

    def __gt__(self, other):
        return self._compare(other, np.greater)

    def __ge__(self, other):
        return self._compare(other, np.greater_equal)

    def __eq__(self, other):
        return self._compare(other, np.equal)

    def __ne__(self, other):
        return self._compare(other, np.not_equal)

    def __invert__(self):
        return tensors.Tensor._make(np.invert(self.data))

    def __and__(self, other):
        return self._compare(other, np.logical_and)

    def __or__(self, other):
        return self._compare(other, np.logical_or)

    def __hash__(self):
        return id(self)
