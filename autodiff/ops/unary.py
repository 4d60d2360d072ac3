"""Unary math ops with PyTorch's gradients: logs and exponentials, hyperbolic and inverse trig functions,
special functions, rounding, nan_to_num.

Each op is a ``_Unary`` subclass: ``fn`` is what forward computes (integer and bool inputs compute in
the default float dtype, as PyTorch's float ops do) and ``derivative(a, out)`` the local derivative,
side by side. Backward is ``g * derivative(a, out)``; the derivative is written with operators and
Tensor methods that arrays share (``_call``), so a ``create_graph`` backward records itself.
"""
import math

import numpy as np

from ..function import Function
from .promotion import to_floating

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SQRT_PI_OVER_TWO = math.sqrt(math.pi) / 2.0


def _special(name):
    """A scipy.special ufunc (imported on first use: ``import autodiff`` does not load scipy)."""
    try:
        from scipy import special
    except ImportError:  # pragma: no cover - scipy ships with the dev extras
        raise ImportError(f"{name}: this special function needs scipy (pip install scipy)") from None
    return getattr(special, name)


def _call(x, method, array_fn):
    """``x.method()`` on a Tensor, ``array_fn(x)`` on an array: one formula for both."""
    if isinstance(x, (np.ndarray, np.generic, float, int)):
        return array_fn(x)
    return getattr(x, method)()


def _sqrt(x):
    return _call(x, "sqrt", np.sqrt)


def _exp(x):
    return _call(x, "exp", np.exp)


class _Unary(Function):
    """out = fn(a); d/da = derivative(a, out). Subclasses set ``fn`` and ``derivative``."""

    exact_grad_shapes = True
    floating = True  # integer inputs become the default float dtype first

    @staticmethod
    def fn(a):
        raise TypeError("a _Unary subclass defines fn")

    @staticmethod
    def derivative(a, out):
        raise TypeError("a _Unary subclass defines derivative")

    @classmethod
    def forward(cls, ctx, a):
        if cls.floating:
            a = to_floating(a)
        out = np.asarray(cls.fn(a))
        if out.dtype != a.dtype and a.dtype.kind in "fc":
            out = out.astype(a.dtype)
        ctx.save_for_backward(a, out)
        return out

    @classmethod
    def backward(cls, ctx, g):
        a, out = ctx.saved_tensors
        return g * cls.derivative(a, out)


class Log1p(_Unary):
    """log(1 + a): 1 / (1 + a)."""

    fn = staticmethod(np.log1p)
    derivative = staticmethod(lambda a, out: 1 / (a + 1))


class Expm1(_Unary):
    """e^a - 1: e^a = out + 1."""

    fn = staticmethod(np.expm1)
    derivative = staticmethod(lambda a, out: out + 1)


class Log2(_Unary):
    """log2(a): 1 / (a ln 2)."""

    fn = staticmethod(np.log2)
    derivative = staticmethod(lambda a, out: 1 / (a * _LN2))


class Log10(_Unary):
    """log10(a): 1 / (a ln 10)."""

    fn = staticmethod(np.log10)
    derivative = staticmethod(lambda a, out: 1 / (a * _LN10))


class Exp2(_Unary):
    """2^a: 2^a ln 2."""

    fn = staticmethod(np.exp2)
    derivative = staticmethod(lambda a, out: out * _LN2)


class Rsqrt(_Unary):
    """1 / sqrt(a): -out^3 / 2."""

    fn = staticmethod(lambda a: 1 / np.sqrt(a))
    derivative = staticmethod(lambda a, out: out * out * out * -0.5)


class Reciprocal(_Unary):
    """1 / a: -out^2."""

    fn = staticmethod(lambda a: 1 / a)
    derivative = staticmethod(lambda a, out: -(out * out))


class Tan(_Unary):
    """tan(a): 1 + tan^2."""

    fn = staticmethod(np.tan)
    derivative = staticmethod(lambda a, out: out * out + 1)


class Sinh(_Unary):
    """sinh(a): cosh(a)."""

    fn = staticmethod(np.sinh)
    derivative = staticmethod(lambda a, out: _call(a, "cosh", np.cosh))


class Cosh(_Unary):
    """cosh(a): sinh(a)."""

    fn = staticmethod(np.cosh)
    derivative = staticmethod(lambda a, out: _call(a, "sinh", np.sinh))


class Asinh(_Unary):
    """asinh(a): 1 / sqrt(a^2 + 1)."""

    fn = staticmethod(np.arcsinh)
    derivative = staticmethod(lambda a, out: 1 / _sqrt(a * a + 1))


class Acosh(_Unary):
    """acosh(a): 1 / sqrt(a^2 - 1)."""

    fn = staticmethod(np.arccosh)
    derivative = staticmethod(lambda a, out: 1 / _sqrt(a * a - 1))


class Atanh(_Unary):
    """atanh(a): 1 / (1 - a^2)."""

    fn = staticmethod(np.arctanh)
    derivative = staticmethod(lambda a, out: 1 / (1 - a * a))


class Asin(_Unary):
    """asin(a): 1 / sqrt(1 - a^2)."""

    fn = staticmethod(np.arcsin)
    derivative = staticmethod(lambda a, out: 1 / _sqrt(1 - a * a))


class Acos(_Unary):
    """acos(a): -1 / sqrt(1 - a^2)."""

    fn = staticmethod(np.arccos)
    derivative = staticmethod(lambda a, out: -1 / _sqrt(1 - a * a))


class Atan(_Unary):
    """atan(a): 1 / (1 + a^2)."""

    fn = staticmethod(np.arctan)
    derivative = staticmethod(lambda a, out: 1 / (a * a + 1))


class Erf(_Unary):
    """erf(a): 2 / sqrt(pi) e^(-a^2)."""

    fn = staticmethod(lambda a: _special("erf")(a))
    derivative = staticmethod(lambda a, out: _exp(-(a * a)) * _TWO_OVER_SQRT_PI)


class Erfc(_Unary):
    """erfc(a) = 1 - erf(a): -2 / sqrt(pi) e^(-a^2)."""

    fn = staticmethod(lambda a: _special("erfc")(a))
    derivative = staticmethod(lambda a, out: _exp(-(a * a)) * -_TWO_OVER_SQRT_PI)


class Erfinv(_Unary):
    """erfinv(a): sqrt(pi) / 2 e^(out^2)."""

    fn = staticmethod(lambda a: _special("erfinv")(a))
    derivative = staticmethod(lambda a, out: _exp(out * out) * _SQRT_PI_OVER_TWO)


class Lgamma(_Unary):
    """log |gamma(a)|: digamma(a)."""

    fn = staticmethod(lambda a: _special("gammaln")(a))
    derivative = staticmethod(lambda a, out: _call(a, "digamma", _special("digamma")))


class Digamma(_Unary):
    """digamma(a) = d/da lgamma(a): polygamma(1, a)."""

    fn = staticmethod(lambda a: _special("digamma")(a))
    derivative = staticmethod(lambda a, out: polygamma(1, a))


class Polygamma(Function):
    """polygamma(n, a), the n-th derivative of digamma: d/da = polygamma(n + 1, a)."""

    exact_grad_shapes = True

    @staticmethod
    def forward(ctx, a, n):
        a = to_floating(a)
        ctx.save_for_backward(a)
        ctx.n = n
        return np.asarray(_special("polygamma")(n, a)).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * polygamma(ctx.n + 1, a), None


def polygamma(n, a):
    """polygamma(n, a) on an array or a Tensor (differentiable for Tensors)."""
    if isinstance(a, np.ndarray):
        return np.asarray(_special("polygamma")(n, a)).astype(a.dtype, copy=False)
    return Polygamma.apply(a, int(n))


class Logit(Function):
    """log(a / (1 - a)), a first clamped to [eps, 1 - eps] when eps is given: 1 / (a (1 - a)) inside,
    0 where the clamp cut (as PyTorch)."""

    exact_grad_shapes = True

    @staticmethod
    def forward(ctx, a, eps=None):
        a = to_floating(a)
        ctx.save_for_backward(a)
        ctx.eps = eps
        z = a if eps is None else np.clip(a, eps, 1 - eps)
        with np.errstate(divide="ignore"):
            return np.log(z / (1 - z))

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        d = g / (a * (1 - a))
        if ctx.eps is None:
            return d
        ad = np.asarray(getattr(a, "data", a))
        inside = (ad >= ctx.eps) & (ad <= 1 - ctx.eps)
        return d * inside


class _Step(Function):
    """Piecewise-constant ops (floor, ceil, trunc, round, sign): gradient 0, as PyTorch.

    Integer and bool inputs keep their dtype (their values are returned as they are for the rounding
    ops, as PyTorch does).
    """

    exact_grad_shapes = True
    fn = None

    @classmethod
    def forward(cls, ctx, a, *args):
        ctx.n_args = len(args)
        if a.dtype.kind in "biu" and cls.name != "sign":
            return a.copy()
        return np.asarray(cls.fn(a, *args)).astype(a.dtype, copy=False)

    @classmethod
    def backward(cls, ctx, g):
        return (g * 0,) + (None,) * ctx.n_args


class Floor(_Step):
    """floor(a)."""

    fn = staticmethod(np.floor)


class Ceil(_Step):
    """ceil(a)."""

    fn = staticmethod(np.ceil)


class Trunc(_Step):
    """trunc(a): rounds toward zero."""

    fn = staticmethod(np.trunc)


class Round(_Step):
    """round(a, decimals): half to even, as PyTorch and numpy."""

    fn = staticmethod(lambda a, decimals=0: np.round(a, decimals))


class Sign(_Step):
    """sign(a): -1, 0 or 1 (bool stays bool)."""

    name = "sign"
    fn = staticmethod(np.sign)

    @classmethod
    def forward(cls, ctx, a, *args):
        ctx.n_args = 0
        if a.dtype.kind == "b":
            return a.copy()
        return np.sign(a)


class Frac(Function):
    """a - trunc(a) (keeps the sign of a): gradient 1."""

    exact_grad_shapes = True

    @staticmethod
    def forward(ctx, a):
        if a.dtype.kind not in "fc":
            raise TypeError(f"frac: expected a floating point tensor, got dtype {a.dtype}")
        return a - np.trunc(a)

    @staticmethod
    def backward(ctx, g):
        return g


class NanToNum(Function):
    """nan_to_num(a, nan, posinf, neginf): gradient 1 where a is finite, 0 where it was replaced."""

    exact_grad_shapes = True

    @staticmethod
    def forward(ctx, a, nan=0.0, posinf=None, neginf=None):
        if a.dtype.kind not in "fc":
            return a.copy()
        ctx.finite = np.isfinite(a)
        return np.nan_to_num(a, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx, g):
        return g * ctx.finite


__all__ = ["Log1p", "Expm1", "Log2", "Log10", "Exp2", "Rsqrt", "Reciprocal", "Tan", "Sinh", "Cosh",
           "Asinh", "Acosh", "Atanh", "Asin", "Acos", "Atan", "Erf", "Erfc", "Erfinv", "Lgamma",
           "Digamma", "Polygamma", "polygamma", "Logit", "Floor", "Ceil", "Trunc", "Round", "Sign",
           "Frac", "NanToNum"]
