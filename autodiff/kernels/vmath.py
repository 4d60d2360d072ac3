"""Vectorisable ``sigmoid`` and ``tanh`` for Numba kernels, in float32 and float64.

libm's ``exp``/``tanh`` are opaque scalar calls that stop LLVM from vectorising a loop. The functions
here are plain arithmetic (Cody-Waite range reduction, a Taylor polynomial, the power of two built by bit
manipulation), so a loop calling them runs 4 (float64) or 8 (float32) lanes wide. No fastmath: results
are IEEE-exact arithmetic on that formula, about 1 ulp from the true value (tests compare with numpy);
NaN propagates, +-inf saturate.

Call ``vsigmoid(x)`` / ``vtanh(x)`` from an ``njit`` function on a float32 or float64 scalar; the
precision is chosen from the argument's type at compile time.
"""
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic, overload

from .jit import njit_serial

__all__ = ["vsigmoid", "vtanh"]

_JIT_OPTIONS = {"fastmath": False, "error_model": "numpy", "nogil": True}


@intrinsic
def _f64_from_bits(typingctx, bits):
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())
    return types.float64(types.int64), codegen


@intrinsic
def _f64_bits(typingctx, x):
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))
    return types.int64(types.float64), codegen


@intrinsic
def _f32_from_bits(typingctx, bits):
    def codegen(context, builder, signature, args):
        return builder.bitcast(builder.trunc(args[0], ir.IntType(32)), ir.FloatType())
    return types.float32(types.int64), codegen


@intrinsic
def _f32_bits(typingctx, x):
    def codegen(context, builder, signature, args):
        return builder.sext(builder.bitcast(args[0], ir.IntType(32)), ir.IntType(64))
    return types.int64(types.float32), codegen


# --- float64 ---------------------------------------------------------------------------------------
_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_SHIFT = 6755399441055744.0            # 1.5 * 2**52: adding it rounds to an integer
_SHIFT_BITS = 4843621399236968448       # its bit pattern


@njit_serial
def _exp_parts64(x):
    """For ``x <= 0``: ``(s, q)`` with ``exp(x) = s + s*q`` and ``expm1(x) = s*q + (s - 1)``."""
    x = max(x, -708.0)
    shifted = x * _LOG2E + _SHIFT
    n = shifted - _SHIFT
    r = (x - n * _LN2_HI) - n * _LN2_LO
    q = r * (1.0 + r * (1 / 2 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120 + r * (1 / 720 + r * (
        1 / 5040 + r * (1 / 40320 + r * (1 / 362880 + r * (1 / 3628800 + r * (1 / 39916800 + r * (
            1 / 479001600 + r * (1 / 6227020800)))))))))))))
    s = _f64_from_bits((_f64_bits(shifted) - _SHIFT_BITS + 1023) << 52)
    return s, q


@njit_serial
def _sigmoid64(x):
    s, q = _exp_parts64(-abs(x))
    e = s * q + s if abs(x) < 708.0 else 0.0
    r = 1.0 / (1.0 + e)
    out = r if x >= 0.0 else e * r
    return out if x == x else x


@njit_serial
def _tanh64(x):
    s, q = _exp_parts64(-2.0 * abs(x))
    em1 = s * q + (s - 1.0)
    t = -em1 / (em1 + 2.0)
    out = t if x >= 0.0 else -t
    return out if x == x else x


# --- float32 (every constant float32 so the arithmetic stays 8 lanes wide) -------------------------
_F = np.float32
_LOG2E32, _LN2_HI32, _LN2_LO32 = _F(1.442695), _F(0.693359375), _F(-2.12194440e-4)
_SHIFT32 = _F(12582912.0)              # 1.5 * 2**23
_SHIFT_BITS32 = 1262485504
_ZERO, _ONE, _TWO, _MIN_X = _F(0.0), _F(1.0), _F(2.0), _F(-87.0)
_C2, _C3, _C4, _C5, _C6, _C7 = (_F(1 / 2), _F(1 / 6), _F(1 / 24), _F(1 / 120), _F(1 / 720), _F(1 / 5040))


@njit_serial
def _exp_parts32(x):
    x = max(x, _MIN_X)
    shifted = x * _LOG2E32 + _SHIFT32
    n = shifted - _SHIFT32
    r = (x - n * _LN2_HI32) - n * _LN2_LO32
    q = r * (_ONE + r * (_C2 + r * (_C3 + r * (_C4 + r * (_C5 + r * (_C6 + r * _C7))))))
    s = _f32_from_bits((_f32_bits(shifted) - _SHIFT_BITS32 + 127) << 23)
    return s, q


@njit_serial
def _sigmoid32(x):
    ax = abs(x)
    s, q = _exp_parts32(-ax)
    e = s * q + s if ax < -_MIN_X else _ZERO
    r = _ONE / (_ONE + e)
    out = r if x >= _ZERO else e * r
    return out if x == x else x


@njit_serial
def _tanh32(x):
    s, q = _exp_parts32(-_TWO * abs(x))
    em1 = s * q + (s - _ONE)
    t = -em1 / (em1 + _TWO)
    out = t if x >= _ZERO else -t
    return out if x == x else x


# --- dispatch on the argument type -----------------------------------------------------------------

def vsigmoid(x):
    """Logistic function ``1 / (1 + exp(-x))`` (only callable inside njit code)."""
    raise TypeError("vsigmoid is for Numba kernels; use autodiff.kernels.activation.sigmoid")


def vtanh(x):
    """Hyperbolic tangent (only callable inside njit code)."""
    raise TypeError("vtanh is for Numba kernels; use numpy.tanh")


@overload(vsigmoid, jit_options=_JIT_OPTIONS)
def _vsigmoid_impl(x):
    if x == types.float32:
        return lambda x: _sigmoid32(x)
    return lambda x: _sigmoid64(x)


@overload(vtanh, jit_options=_JIT_OPTIONS)
def _vtanh_impl(x):
    if x == types.float32:
        return lambda x: _tanh32(x)
    return lambda x: _tanh64(x)
