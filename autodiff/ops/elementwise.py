"""Elementwise ops with numpy broadcasting; gradients are reduced back to each input's shape."""
import numpy as np

from ..function import Function
from ..kernels.activation import (fits_kernel, fits_kernel_pair, relu_backward, relu_forward, sigmoid,
                                  sigmoid_backward)
from .array_or_tensor import cos, exp, log, sign, sin, unbroadcast, where
from .promotion import floating_dtype, promote, promote_args, result_type, to_floating


_nd = np.ndarray


def _shape(x):
    return x.shape if isinstance(x, np.ndarray) else np.shape(x)


def _to_shape(g, shape):
    """``g`` summed back to ``shape`` when broadcasting stretched that input (else ``g`` itself)."""
    return g if g.shape == shape else unbroadcast(g, shape)


# Add, Sub and Mul return gradients of the broadcast (output) shape: the engine sums each back to
# its input's shape (backward._sum_to_shape), as PyTorch's engine does.

class Add(Function):
    """a + b: both gradients are the incoming gradient."""

    @staticmethod
    def forward(ctx, a, b):
        if not (type(a) is _nd and type(b) is _nd and a.dtype is b.dtype):  # same dtype: nothing to do
            _, (a, b) = promote_args(a, b)
        return a + b

    @staticmethod
    def backward(ctx, g):
        na, nb = ctx.needs_input_grad
        return (g if na else None), (g if nb else None)


class Sub(Function):
    """a - b: d/da = 1, d/db = -1."""

    @staticmethod
    def forward(ctx, a, b):
        if not (type(a) is _nd and type(b) is _nd and a.dtype is b.dtype):  # same dtype: nothing to do
            _, (a, b) = promote_args(a, b)
        return a - b

    @staticmethod
    def backward(ctx, g):
        na, nb = ctx.needs_input_grad
        return (g if na else None), (-g if nb else None)


class Mul(Function):
    """a * b: d/da = b, d/db = a."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)  # as given: the engine casts each gradient to its input's dtype
        if not (type(a) is _nd and type(b) is _nd and a.dtype is b.dtype):  # same dtype: nothing to do
            _, (a, b) = promote_args(a, b)
        return a * b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        return (g * b if na else None), (g * a if nb else None)


class Div(Function):
    """a / b (true division; integers give the default float dtype): d/da = 1/b, d/db = -a/b^2."""

    exact_grad_shapes = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        if type(a) is _nd and type(b) is _nd and a.dtype is b.dtype:
            dtype = a.dtype
        else:
            dtype, (a, b) = promote_args(a, b)
        if dtype.kind not in "fc":
            dtype = floating_dtype(dtype)
            a, b = promote(a, dtype), promote(b, dtype)
        return a / b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        ga = _to_shape(g / b, _shape(a)) if na else None
        gb = _to_shape(-g * a / (b * b), _shape(b)) if nb else None
        return ga, gb


class Pow(Function):
    """a ** b: d/da = b a^(b-1) (0 where b == 0), d/db = a^b ln a (0 where a == 0 and b >= 0), as PyTorch."""

    @staticmethod
    def forward(ctx, a, b):
        _, (pa, pb) = promote_args(a, b)
        out = np.power(pa, pb)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, b, out = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        ga = gb = None
        if na:
            if isinstance(b, (int, float, np.generic)):
                ga = g * b * a ** (b - 1) if b != 0 else g * 0
            else:
                bd = np.asarray(b.data if hasattr(b, "data") and not isinstance(b, np.ndarray) else b)
                with np.errstate(divide="ignore", invalid="ignore"):
                    ga = where(bd == 0, 0.0, g * b * a ** (b - 1))
                ga = unbroadcast(ga, _shape(a))
        if nb:
            ad = a.data if hasattr(a, "data") and not isinstance(a, np.ndarray) else a
            bd = b.data if hasattr(b, "data") and not isinstance(b, np.ndarray) else b
            zero = (np.asarray(ad) == 0) & (np.asarray(bd) >= 0)
            safe_a = where(zero, np.ones_like(np.asarray(ad, dtype=floating_dtype(result_type(ad, bd)))), a)
            gb = unbroadcast(where(zero, 0.0, g * out * log(safe_a)), _shape(b))
        return ga, gb


class Neg(Function):
    """-a."""

    exact_grad_shapes = True

    @staticmethod
    def forward(ctx, a):
        return -a

    @staticmethod
    def backward(ctx, g):
        return -g


class Exp(Function):
    """exp(a): derivative exp(a) (the output)."""

    @staticmethod
    def forward(ctx, a):
        a = to_floating(a)  # integer inputs compute in the default float dtype
        out = np.exp(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * out


class Log(Function):
    """log(a): derivative 1/a."""

    @staticmethod
    def forward(ctx, a):
        a = to_floating(a)  # integer inputs compute in the default float dtype
        ctx.save_for_backward(a)
        return np.log(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g / a


class Sqrt(Function):
    """sqrt(a): derivative 1/(2 sqrt(a))."""

    @staticmethod
    def forward(ctx, a):
        a = to_floating(a)  # integer inputs compute in the default float dtype
        out = np.sqrt(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g / (2 * out)


class Abs(Function):
    """|a|: derivative sign(a) (0 at 0, as PyTorch)."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.abs(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * sign(a)


class Sin(Function):
    """sin(a): derivative cos(a)."""

    @staticmethod
    def forward(ctx, a):
        a = to_floating(a)  # integer inputs compute in the default float dtype
        ctx.save_for_backward(a)
        return np.sin(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * cos(a)


class Cos(Function):
    """cos(a): derivative -sin(a)."""

    @staticmethod
    def forward(ctx, a):
        a = to_floating(a)  # integer inputs compute in the default float dtype
        ctx.save_for_backward(a)
        return np.cos(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return -g * sin(a)


class Tanh(Function):
    """tanh(a): derivative 1 - tanh^2."""

    @staticmethod
    def forward(ctx, a):
        a = to_floating(a)  # integer inputs compute in the default float dtype
        out = np.tanh(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * (1 - out * out)


class Sigmoid(Function):
    """sigmoid(a) = 1/(1+e^-a): derivative s (1 - s).

    The values come from ``kernels.activation.sigmoid``, the one definition of the logistic function
    on arrays; large contiguous backward passes use its one-pass kernel too.
    """

    @staticmethod
    def forward(ctx, a):
        a = to_floating(a)  # integer inputs compute in the default float dtype
        out = sigmoid(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        if fits_kernel_pair(g, out):
            return sigmoid_backward(g, out)
        return g * out * (1 - out)


class Softplus(Function):
    """log(1 + e^a), computed as max(a, 0) + log1p(e^-|a|): derivative sigmoid(a)."""

    @staticmethod
    def forward(ctx, a):
        a = to_floating(a)  # integer inputs compute in the default float dtype
        ctx.save_for_backward(a)
        return (np.maximum(a, 0) + np.log1p(np.exp(-np.abs(a)))).astype(np.result_type(a), copy=False)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        from .array_or_tensor import sigmoid
        return g * sigmoid(a)


class Relu(Function):
    """max(a, 0): derivative 1 where a > 0, else 0.

    Large contiguous float arrays go through one-pass Numba kernels (``kernels.activation``); the
    rest, and Tensors under ``create_graph``, through numpy.
    """

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        if fits_kernel(a):
            return relu_forward(a)
        return np.maximum(a, 0)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        if fits_kernel_pair(g, a):
            return relu_backward(g, a)
        return g * (a > 0)


class Clip(Function):
    """clamp(a, lo, hi) = min(max(a, lo), hi), lo and hi numbers, arrays or None.

    Gradients as PyTorch: a gets g where lo <= a <= hi; a tensor lo gets g where a < lo (and lo < hi),
    a tensor hi where a > hi (or hi < lo, where every element is hi).
    """

    @staticmethod
    def forward(ctx, a, lo, hi):
        ctx.save_for_backward(a)
        ctx.bounds = (lo, hi)
        _, (pa, plo, phi) = promote_args(a, lo, hi)
        if plo is None:
            return np.minimum(pa, phi)
        if phi is None:
            return np.maximum(pa, plo)
        return np.minimum(np.maximum(pa, plo), phi)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        lo, hi = ctx.bounds
        ad = a.data if not isinstance(a, np.ndarray) else a
        shape = np.broadcast_shapes(ad.shape, np.shape(lo) if lo is not None else (),
                                    np.shape(hi) if hi is not None else ())
        mask = np.ones(shape, bool)
        if lo is not None:
            mask &= ad >= lo
        if hi is not None:
            mask &= ad <= hi
        na, nlo, nhi = ctx.needs_input_grad
        ga = unbroadcast(g * mask, ad.shape) if na else None
        glo = ghi = None
        if nlo:
            m = ad < lo if hi is None else (ad < lo) & (lo < hi)
            glo = unbroadcast(g * m, np.shape(lo))
        if nhi:
            m = ad > hi if lo is None else (ad > hi) | (hi < lo)
            ghi = unbroadcast(g * m, np.shape(hi))
        return ga, glo, ghi


class Maximum(Function):
    """maximum(a, b): the gradient goes to the larger input (split in half at ties, as PyTorch)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        if not (type(a) is _nd and type(b) is _nd and a.dtype is b.dtype):  # same dtype: nothing to do
            _, (a, b) = promote_args(a, b)
        return np.maximum(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ad, bd = np.asarray(getattr(a, "data", a)), np.asarray(getattr(b, "data", b))
        wa = (ad > bd) + 0.5 * (ad == bd)
        na, nb = ctx.needs_input_grad
        ga = unbroadcast(g * wa.astype(ad.dtype), ad.shape) if na else None
        gb = unbroadcast(g * (1 - wa).astype(bd.dtype), bd.shape) if nb else None
        return ga, gb


class Minimum(Function):
    """minimum(a, b): the gradient goes to the smaller input (split in half at ties)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        if not (type(a) is _nd and type(b) is _nd and a.dtype is b.dtype):  # same dtype: nothing to do
            _, (a, b) = promote_args(a, b)
        return np.minimum(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ad, bd = np.asarray(getattr(a, "data", a)), np.asarray(getattr(b, "data", b))
        wa = (ad < bd) + 0.5 * (ad == bd)
        na, nb = ctx.needs_input_grad
        ga = unbroadcast(g * wa.astype(ad.dtype), ad.shape) if na else None
        gb = unbroadcast(g * (1 - wa).astype(bd.dtype), bd.shape) if nb else None
        return ga, gb


class Where(Function):
    """where(cond, a, b): the gradient goes to a where cond holds, to b elsewhere."""

    @staticmethod
    def forward(ctx, cond, a, b):
        cond = np.asarray(cond, dtype=bool)
        ctx.cond = cond
        ctx.shapes = (_shape(a), _shape(b))
        if type(a) is _nd and type(b) is _nd and a.dtype is b.dtype:  # same dtype: nothing to do
            return np.where(cond, a, b)
        dtype, (a, b) = promote_args(a, b)
        return np.where(cond, a, b).astype(dtype, copy=False)  # two Python numbers: the default dtype

    @staticmethod
    def backward(ctx, g):
        cond = ctx.cond
        sa, sb = ctx.shapes
        _, na, nb = ctx.needs_input_grad
        ga = unbroadcast(where(cond, g, 0.0 * g), sa) if na else None
        gb = unbroadcast(where(cond, 0.0 * g, g), sb) if nb else None
        return None, ga, gb


class Cast(Function):
    """a.astype(dtype): the gradient is cast back to a's dtype."""

    @staticmethod
    def forward(ctx, a, dtype):
        ctx.src = a.dtype
        return a.astype(dtype)

    @staticmethod
    def backward(ctx, g):
        return g.astype(ctx.src), None


__all__ = ["Add", "Sub", "Mul", "Div", "Pow", "Neg", "Exp", "Log", "Sqrt", "Abs", "Sin", "Cos", "Tanh",
           "Sigmoid", "Softplus", "Relu", "Clip", "Maximum", "Minimum", "Where", "Cast", "exp"]
