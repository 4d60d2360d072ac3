"""Binary arithmetic beyond + - * / **: rounding division, remainder, fmod, copysign, atan2, hypot,
logaddexp, with torch's type promotion and gradients (reduced back to each input's shape)."""
import numpy as np

from ..errors import ShapeError
from ..function import Function
from .array_or_tensor import unbroadcast
from .promotion import floating_dtype, promote, promote_args


def _shape(x):
    return x.shape if isinstance(x, np.ndarray) else np.shape(x)


def _data(x):
    return np.asarray(x if isinstance(x, (np.ndarray, np.generic, int, float)) else x.data)


def _floating_args(a, b):
    """a, b promoted, then integer results moved to the default float dtype."""
    dtype, (a, b) = promote_args(a, b)
    if dtype.kind not in "fc":
        dtype = floating_dtype(dtype)
        a, b = promote(a, dtype), promote(b, dtype)
    return a, b


class IntegerDivisionByZero(RuntimeError, ZeroDivisionError):
    """Integer division or modulus by zero: PyTorch raises a RuntimeError ("ZeroDivisionError"); this
    is both, so either ``except`` catches it."""


def _check_int_zero(name, dtype, b):
    if dtype.kind in "iub" and np.any(np.asarray(b) == 0):
        raise IntegerDivisionByZero(f"{name}: ZeroDivisionError: integer division by zero")


def trunc_divide(a, b):
    """a / b rounded toward zero (integers stay integers)."""
    if np.result_type(a, b).kind in "iub":
        q = np.floor_divide(a, b)
        fix = (np.remainder(a, b) != 0) & ((np.asarray(a) < 0) != (np.asarray(b) < 0))
        return q + fix.astype(q.dtype)
    return np.trunc(a / b)


class DivRounded(Function):
    """a / b with rounding_mode 'trunc' or 'floor': gradient 0 for both inputs (as PyTorch)."""

    exact_grad_shapes = True

    @staticmethod
    def forward(ctx, a, b, rounding_mode):
        ctx.shapes = (_shape(a), _shape(b))
        dtype, (a, b) = promote_args(a, b)
        _check_int_zero("div", dtype, b)
        if rounding_mode == "floor":
            return np.floor_divide(a, b)
        if rounding_mode == "trunc":
            return trunc_divide(a, b)
        raise ShapeError(f"div: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")

    @staticmethod
    def backward(ctx, g):
        sa, sb = ctx.shapes
        na, nb = ctx.needs_input_grad[:2]
        return (unbroadcast(g * 0, sa) if na else None), (unbroadcast(g * 0, sb) if nb else None), None


class Remainder(Function):
    """a mod b with the sign of b (Python's %): d/da = 1, d/db = -floor(a / b)."""

    exact_grad_shapes = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        dtype, (a, b) = promote_args(a, b)
        _check_int_zero("remainder", dtype, b)
        return np.remainder(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        ga = unbroadcast(g, _shape(a)) if na else None
        gb = unbroadcast(-g * np.floor_divide(_data(a), _data(b)), _shape(b)) if nb else None
        return ga, gb


class Fmod(Function):
    """C's fmod (the sign of a): d/da = 1, d/db = -trunc(a / b)."""

    exact_grad_shapes = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        dtype, (a, b) = promote_args(a, b)
        _check_int_zero("fmod", dtype, b)
        return np.fmod(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        ga = unbroadcast(g, _shape(a)) if na else None
        gb = unbroadcast(-g * trunc_divide(_data(a), _data(b)), _shape(b)) if nb else None
        return ga, gb


class Copysign(Function):
    """|a| with the sign of b: d/da = out / a (0 where a == 0), d/db = 0 (as PyTorch)."""

    exact_grad_shapes = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (_shape(a), _shape(b))
        a, b = _floating_args(a, b)
        out = np.copysign(a, b)
        ad = np.asarray(a)
        with np.errstate(divide="ignore", invalid="ignore"):
            ctx.ratio = np.where(ad == 0, 0, np.asarray(out) / np.where(ad == 0, 1, ad)).astype(out.dtype)
        return out

    @staticmethod
    def backward(ctx, g):
        sa, sb = ctx.shapes
        na, nb = ctx.needs_input_grad
        ga = unbroadcast(g * ctx.ratio, sa) if na else None
        gb = unbroadcast(g * 0, sb) if nb else None
        return ga, gb


class Atan2(Function):
    """atan2(a, b), the angle of (b, a): d/da = b / (a^2 + b^2), d/db = -a / (a^2 + b^2)."""

    exact_grad_shapes = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        a, b = _floating_args(a, b)
        return np.arctan2(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        r = g / (a * a + b * b)
        ga = unbroadcast(r * b, _shape(a)) if na else None
        gb = unbroadcast(-r * a, _shape(b)) if nb else None
        return ga, gb


class Hypot(Function):
    """sqrt(a^2 + b^2): d/da = a / out, d/db = b / out."""

    exact_grad_shapes = True

    @staticmethod
    def forward(ctx, a, b):
        a, b = _floating_args(a, b)
        out = np.hypot(a, b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, b, out = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        r = g / out
        ga = unbroadcast(r * a, _shape(a)) if na else None
        gb = unbroadcast(r * b, _shape(b)) if nb else None
        return ga, gb


class LogAddExp(Function):
    """log(e^a + e^b), stable: d/da = e^(a - out), d/db = e^(b - out)."""

    exact_grad_shapes = True

    @staticmethod
    def forward(ctx, a, b):
        a, b = _floating_args(a, b)
        out = np.logaddexp(a, b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, g):
        from .array_or_tensor import exp
        a, b, out = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        ga = unbroadcast(g * exp(a - out), _shape(a)) if na else None
        gb = unbroadcast(g * exp(b - out), _shape(b)) if nb else None
        return ga, gb


__all__ = ["IntegerDivisionByZero", "DivRounded", "Remainder", "Fmod", "Copysign", "Atan2", "Hypot", "LogAddExp", "trunc_divide"]
