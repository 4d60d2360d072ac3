"""Function forms of PyTorch's further activations, built from differentiable Tensor ops.

Reached through ``nn.functional`` (``F.hardtanh`` etc.). Each is a short composition of engine ops
(``where``, ``clip``, ``exp``, ``softplus``, the ELU node), so first and second derivatives come from those
ops. Names, argument order and defaults are PyTorch's; ``inplace=True`` is accepted and computes out of
place (the result is returned as usual).
"""
import numpy as np

import autodiff
from autodiff import Tensor, where
from autodiff.ops.activation import ELU
from autodiff.errors import ShapeError

__all__ = ["mish", "hardtanh", "relu6", "hardsigmoid", "hardswish", "softsign", "logsigmoid", "threshold",
           "celu", "selu", "glu", "softmin", "tanhshrink", "softshrink", "hardshrink", "rrelu"]

# SELU's constants (Klambauer et al. 2017), as PyTorch defines them
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _t(x):
    return x if isinstance(x, Tensor) else Tensor(x)


def mish(input, inplace=False):
    """x tanh(softplus(x))."""
    input = _t(input)
    return input * input.softplus().tanh()


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """x clamped to [min_val, max_val]; gradient 1 strictly inside, else 0."""
    if min_val > max_val:
        raise ShapeError(f"hardtanh: min_val {min_val} must not be greater than max_val {max_val}")
    return _t(input).clip(min_val, max_val)


def relu6(input, inplace=False):
    """min(max(x, 0), 6)."""
    return hardtanh(input, 0.0, 6.0)


def hardsigmoid(input, inplace=False):
    """0 for x <= -3, 1 for x >= 3, x / 6 + 1/2 in between."""
    return (_t(input) / 6 + 0.5).clip(0.0, 1.0)


def hardswish(input, inplace=False):
    """x hardsigmoid(x) = x relu6(x + 3) / 6."""
    input = _t(input)
    return input * hardsigmoid(input)


def softsign(input):
    """x / (1 + |x|)."""
    input = _t(input)
    return input / (input.abs() + 1)


def logsigmoid(input):
    """log(1 / (1 + e^(-x))) = -softplus(-x), finite for any x."""
    return -(-_t(input)).softplus()


def threshold(input, threshold, value, inplace=False):
    """x where x > threshold, else ``value``."""
    input = _t(input)
    return where(input.data > threshold, input, np.asarray(value, input.dtype))


def celu(input, alpha=1.0, inplace=False):
    """max(0, x) + min(0, alpha (e^(x / alpha) - 1)), which is alpha elu(x / alpha)."""
    if alpha == 0:
        raise ShapeError("celu: alpha must not be 0 (it divides x)")
    input = _t(input)
    return ELU.apply(input / alpha, alpha=1.0) * alpha


def selu(input, inplace=False):
    """scale (max(0, x) + min(0, alpha (e^x - 1))) with PyTorch's fixed alpha and scale."""
    return ELU.apply(_t(input), alpha=SELU_ALPHA) * SELU_SCALE


def glu(input, dim=-1):
    """Gated linear unit a sigmoid(b), where a and b are the two halves of ``input`` along ``dim``.

    Shape:
        (*, 2 M, *) -> (*, M, *).
    """
    input = _t(input)
    if input.ndim == 0:
        raise ShapeError("glu: does not support 0-d (scalar) inputs")
    if not -input.ndim <= dim < input.ndim:
        raise IndexError(f"glu: dim {dim} is out of range for an input of shape {tuple(input.shape)}")
    axis = dim % input.ndim
    size = input.shape[axis]
    if size % 2:
        raise ShapeError(f"glu: halving dimension must be even, but dimension {dim} of input of shape "
                         f"{tuple(input.shape)} has size {size}")
    before = (slice(None),) * axis
    a = input[before + (slice(0, size // 2),)]
    b = input[before + (slice(size // 2, size),)]
    return a * b.sigmoid()


def softmin(input, dim=None, _stacklevel=3, dtype=None, axis=None):
    """softmax(-x) along ``dim`` (alias ``axis``; default -1, as ``F.softmax`` here).

    ``dtype`` casts the input first, as PyTorch.
    """
    input = _t(input)
    if dtype is not None:
        input = input.astype(dtype)
    axis = -1 if dim is None and axis is None else (dim if dim is not None else axis)
    return (-input).softmax(axis=axis)


def tanhshrink(input):
    """x - tanh(x)."""
    input = _t(input)
    return input - input.tanh()


def softshrink(input, lambd=0.5):
    """x - lambd for x > lambd, x + lambd for x < -lambd, else 0."""
    if lambd < 0:
        raise ShapeError(f"softshrink: lambd must be greater or equal to 0, but found to be {lambd}")
    input = _t(input)
    x = input.data
    return where(x > lambd, input - lambd, where(x < -lambd, input + lambd, x.dtype.type(0)))


def hardshrink(input, lambd=0.5):
    """x where |x| > lambd, else 0."""
    input = _t(input)
    return where(np.abs(input.data) > lambd, input, input.dtype.type(0))


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Randomised leaky ReLU: x for x > 0, else a x.

    Training draws a ~ U(lower, upper) per element (from ``autodiff.default_generator()``); otherwise
    a = (lower + upper) / 2. The gradient for x <= 0 is that a.
    """
    if not 0 <= lower <= upper:
        raise ShapeError(f"rrelu: expected 0 <= lower <= upper, got lower={lower}, upper={upper}")
    input = _t(input)
    dtype = input.dtype if input.dtype.kind == "f" else np.dtype(np.float32)
    if training:
        slope = autodiff.default_generator().uniform(lower, upper, input.shape).astype(dtype)
    else:
        slope = np.asarray((lower + upper) / 2, dtype)
    return where(input.data > 0, input, input * slope)
