"""Tensor's arithmetic, comparison and bitwise operators and their method forms (``add(other, alpha=)``,
``div(other, rounding_mode=)`` ...); their in-place versions (``add_``, ``mul_`` ...) are in inplace.py.

Differentiable ones are ``SomeFunction.apply(self, other)``; comparisons and bitwise ops give tensors
without a gradient (bool or integer), computed with torch's type promotion.
"""
import numpy as np

from .. import tensor as tensors  # the Tensor class, read at call time (tensor.py imports this module)
from ..errors import DTypeError
from ..ops import arith, linalg
from ..ops.elementwise import Add, Div, Log, Mul, Neg, Pow, Sub, Where
from ..ops.promotion import promote_args
from . import products


def _as_operand(x):
    """Lists become float32 arrays (``x @ [[1, 2]]``); everything else passes as it is."""
    return np.asarray(x, dtype=np.float32) if isinstance(x, (list, tuple)) else x


def _data(x):
    return x.data if isinstance(x, tensors.Tensor) else x


def _scaled(other, alpha):
    """``alpha * other`` (other itself when alpha is 1), for add/sub's alpha."""
    if alpha == 1:
        return other
    if isinstance(other, tensors.Tensor):
        return Mul.apply(other, alpha)
    return np.multiply(other, alpha) if isinstance(other, np.ndarray) else other * alpha


def _bitwise(name, ufunc, a, b):
    """A bitwise ufunc on integer/bool operands with torch's promotion; floats are refused."""
    dtype, (x, y) = promote_args(_data(a), _data(b))
    if dtype.kind not in "biu":
        raise DTypeError(f"{name}: only integer and bool tensors are supported, got dtype {dtype}")
    return tensors.Tensor._make(ufunc(x, y))


def _logical(ufunc, a, b):
    return tensors.Tensor._make(ufunc(np.asarray(_data(a)) != 0, np.asarray(_data(b)) != 0))


class ArithmeticMethods:
    """``+ - * / // % ** @``, negation, comparisons, ``& | ^ ~ << >>``, their method forms and in-place
    versions."""

    __slots__ = ()

    # --- operators ---------------------------------------------------------------------------------
    def __add__(self, other):
        return Add.apply(self, other)

    def __radd__(self, other):
        return Add.apply(other, self)

    def __sub__(self, other):
        return Sub.apply(self, other)

    def __rsub__(self, other):
        return Sub.apply(other, self)

    def __mul__(self, other):
        return Mul.apply(self, other)

    def __rmul__(self, other):
        return Mul.apply(other, self)

    def __truediv__(self, other):
        return Div.apply(self, other)

    def __rtruediv__(self, other):
        return Div.apply(other, self)

    def __floordiv__(self, other):
        return arith.DivRounded.apply(self, other, "floor")

    def __rfloordiv__(self, other):
        return arith.DivRounded.apply(other, self, "floor")

    def __mod__(self, other):
        return arith.Remainder.apply(self, other)

    def __rmod__(self, other):
        return arith.Remainder.apply(other, self)

    def __pow__(self, other):
        return Pow.apply(self, other)

    def __rpow__(self, other):
        return Pow.apply(other, self)

    def __neg__(self):
        return Neg.apply(self)

    def __pos__(self):
        return self

    def __matmul__(self, other):
        return linalg.MatMul.apply(self, _as_operand(other))

    def __rmatmul__(self, other):
        return linalg.MatMul.apply(_as_operand(other), self)

    def matmul(self, other):
        return self @ other

    def dot(self, other):
        return products.dot(self, other)

    # --- method forms --------------------------------------------------------------------------------
    def add(self, other, *, alpha=1):
        """self + alpha * other."""
        return Add.apply(self, _scaled(other, alpha))

    def sub(self, other, *, alpha=1):
        """self - alpha * other."""
        return Sub.apply(self, _scaled(other, alpha))

    subtract = sub

    def rsub(self, other, *, alpha=1):
        """other - alpha * self."""
        return Sub.apply(other, _scaled(self, alpha))

    def mul(self, other):
        return Mul.apply(self, other)

    multiply = mul

    def div(self, other, *, rounding_mode=None):
        """self / other; ``rounding_mode`` 'trunc' or 'floor' rounds the quotient (gradient 0)."""
        if rounding_mode is None:
            return Div.apply(self, other)
        return arith.DivRounded.apply(self, other, rounding_mode)

    divide = div

    def true_divide(self, other):
        return Div.apply(self, other)

    def floor_divide(self, other):
        return arith.DivRounded.apply(self, other, "floor")

    def remainder(self, other):
        """Python's modulus: the result has the sign of ``other``."""
        return arith.Remainder.apply(self, other)

    def fmod(self, other):
        """C's fmod: the result has the sign of ``self``."""
        return arith.Fmod.apply(self, other)

    def pow(self, exponent):
        return Pow.apply(self, exponent)

    def float_power(self, exponent):
        """self ** exponent computed in float64 (as PyTorch)."""
        e = exponent.double() if isinstance(exponent, tensors.Tensor) else exponent
        return Pow.apply(self.double(), e)

    def neg(self):
        return Neg.apply(self)

    negative = neg

    def positive(self):
        return self

    def copysign(self, other):
        return arith.Copysign.apply(self, other)

    def atan2(self, other):
        return arith.Atan2.apply(self, other)

    arctan2 = atan2

    def hypot(self, other):
        return arith.Hypot.apply(self, other)

    def logaddexp(self, other):
        return arith.LogAddExp.apply(self, other)

    def logaddexp2(self, other):
        """log2(2^self + 2^other), stable."""
        ln2 = float(np.log(2.0))
        return Mul.apply(arith.LogAddExp.apply(self * ln2, _scaled(other, ln2)), 1 / ln2)

    def xlogy(self, other):
        """self * log(other), 0 where self is 0 (as PyTorch, also when other is 0).

        Where self is 0 and other <= 0, log(other) is replaced by log(1), so value and gradients are 0
        there; elsewhere the gradient of self is log(other), as PyTorch's.
        """
        cut = np.asarray((self.data == 0) & (np.asarray(_data(other)) <= 0))
        safe = Where.apply(cut, 1.0, other) if isinstance(other, tensors.Tensor) else \
            np.where(cut, 1.0, other)
        return Mul.apply(self, Log.apply(safe))

    def fmax(self, other):
        """maximum ignoring NaN (NaN only where both are NaN); ties send the gradient to self, as torch."""
        a, b = self.data, np.asarray(_data(other))
        return Where.apply((a >= b) | np.isnan(b), self, other)

    def fmin(self, other):
        """minimum ignoring NaN; ties send the gradient to self, as torch."""
        a, b = self.data, np.asarray(_data(other))
        return Where.apply((a <= b) | np.isnan(b), self, other)

    def ldexp(self, other):
        """self * 2^other."""
        return Mul.apply(self, Pow.apply(2.0, other))

    def heaviside(self, values):
        """0 where self < 0, 1 where self > 0, ``values`` where self == 0 (no gradient, as torch)."""
        dtype, (a, v) = promote_args(self.data, _data(values))
        return tensors.Tensor._make(np.heaviside(a, v).astype(dtype, copy=False))

    def addcmul(self, tensor1, tensor2, *, value=1):
        """self + value * tensor1 * tensor2."""
        return Add.apply(self, _scaled(Mul.apply(tensor1, tensor2), value))

    def addcdiv(self, tensor1, tensor2, *, value=1):
        """self + value * tensor1 / tensor2."""
        return Add.apply(self, _scaled(Div.apply(tensor1, tensor2), value))

    def lerp(self, end, weight):
        """self + weight * (end - self)."""
        return Add.apply(self, Mul.apply(weight, Sub.apply(end, self)))

    # --- comparisons: bool tensors, no gradient ----------------------------------------------------
    def _compare(self, other, ufunc):
        _, (a, b) = promote_args(self.data, _data(other))
        return tensors.Tensor._make(ufunc(a, b))

    def __lt__(self, other):
        return self._compare(other, np.less)

    def __le__(self, other):
        return self._compare(other, np.less_equal)

    def __gt__(self, other):
        return self._compare(other, np.greater)

    def __ge__(self, other):
        return self._compare(other, np.greater_equal)

    def __eq__(self, other):
        if other is None:
            return False
        return self._compare(other, np.equal)

    def __ne__(self, other):
        if other is None:
            return True
        return self._compare(other, np.not_equal)

    lt = less = __lt__
    le = less_equal = __le__
    gt = greater = __gt__
    ge = greater_equal = __ge__
    eq = __eq__
    ne = not_equal = __ne__

    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        """|self - other| <= atol + rtol |other|, elementwise (bool tensor)."""
        _, (a, b) = promote_args(self.data, _data(other))
        return tensors.Tensor._make(np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        """True when ``isclose`` holds everywhere (a Python bool)."""
        return bool(self.isclose(other, rtol, atol, equal_nan).data.all())

    def equal(self, other):
        """True when both have the same shape and the same elements (a Python bool)."""
        b = np.asarray(_data(other))
        return self.data.shape == b.shape and bool(np.array_equal(self.data, b))

    # --- bitwise and logical ----------------------------------------------------------------------
    def __and__(self, other):
        return _bitwise("bitwise_and", np.bitwise_and, self, other)

    def __rand__(self, other):
        return _bitwise("bitwise_and", np.bitwise_and, other, self)

    def __or__(self, other):
        return _bitwise("bitwise_or", np.bitwise_or, self, other)

    def __ror__(self, other):
        return _bitwise("bitwise_or", np.bitwise_or, other, self)

    def __xor__(self, other):
        return _bitwise("bitwise_xor", np.bitwise_xor, self, other)

    def __rxor__(self, other):
        return _bitwise("bitwise_xor", np.bitwise_xor, other, self)

    def __lshift__(self, other):
        return _bitwise("bitwise_left_shift", np.left_shift, self, other)

    def __rlshift__(self, other):
        return _bitwise("bitwise_left_shift", np.left_shift, other, self)

    def __rshift__(self, other):
        return _bitwise("bitwise_right_shift", np.right_shift, self, other)

    def __rrshift__(self, other):
        return _bitwise("bitwise_right_shift", np.right_shift, other, self)

    def __invert__(self):
        if self.data.dtype.kind not in "biu":
            raise DTypeError(f"bitwise_not: only integer and bool tensors are supported, got dtype "
                            f"{self.data.dtype}")
        return tensors.Tensor._make(np.invert(self.data))

    bitwise_and = __and__
    bitwise_or = __or__
    bitwise_xor = __xor__
    bitwise_not = __invert__
    bitwise_left_shift = __lshift__
    bitwise_right_shift = __rshift__

    def logical_and(self, other):
        return _logical(np.logical_and, self, other)

    def logical_or(self, other):
        return _logical(np.logical_or, self, other)

    def logical_xor(self, other):
        return _logical(np.logical_xor, self, other)

    def logical_not(self):
        return tensors.Tensor._make(self.data == 0)

    def __hash__(self):
        return id(self)
