"""Weight initialisers (``nn.init``), in place and seeded by ``autodiff.manual_seed``.

Same names and signatures as ``torch.nn.init``, plus the course's rules: ``lecun_normal_`` (N(0, 1/fan_in),
the course's advice for tanh) and ``course_uniform_`` (uniform in +-a/sqrt(fan_in) for shallow nets).
Every function fills ``tensor.data`` without recording a graph and returns the tensor.
"""
import math

import numpy as np

import autodiff

__all__ = ["calculate_gain", "uniform_", "normal_", "zeros_", "ones_", "constant_", "xavier_uniform_",
           "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "lecun_normal_", "lecun_uniform_",
           "course_uniform_", "trunc_normal_", "eye_", "orthogonal_"]

#: the course's ``a`` for the standard sigmoid: weights' variance at the point of maximum curvature
COURSE_SIGMOID_A = 2.38


def _gen(generator):
    return generator if generator is not None else autodiff.default_generator()


def _fill(tensor, values):
    tensor.data[...] = values
    tensor._version[0] += 1
    return tensor


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for an activation: linear/conv/sigmoid 1, tanh 5/3, relu sqrt(2),
    leaky_relu sqrt(2 / (1 + slope^2)) (slope ``param``, default 0.01), selu 3/4."""
    linear_fns = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                  "conv_transpose3d", "identity")
    if nonlinearity in linear_fns or nonlinearity == "sigmoid":
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(tensor):
    """(fan_in, fan_out) of a weight: Linear (out, in) -> (in, out); conv (out, in, *k) multiplies by
    the kernel's size."""
    shape = tensor.shape
    if len(shape) < 2:
        raise ValueError(f"fan in and fan out can not be computed for a tensor with fewer than 2 "
                         f"dimensions (shape {tuple(shape)})")
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def _fan(tensor, mode):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode {mode!r} not supported, use 'fan_in' or 'fan_out'")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill with U(a, b)."""
    return _fill(tensor, _gen(generator).uniform(a, b, tensor.shape))


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill with N(mean, std^2)."""
    return _fill(tensor, _gen(generator).normal(mean, std, tensor.shape))


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Fill with N(mean, std^2) redrawn until inside [a, b]."""
    g = _gen(generator)
    out = g.normal(mean, std, tensor.shape)
    bad = (out < a) | (out > b)
    while bad.any():
        out[bad] = g.normal(mean, std, int(bad.sum()))
        bad = (out < a) | (out > b)
    return _fill(tensor, out)


def constant_(tensor, val):
    """Fill with ``val``."""
    return _fill(tensor, val)


def zeros_(tensor):
    """Fill with 0 (the usual bias initialisation)."""
    return _fill(tensor, 0)


def ones_(tensor):
    """Fill with 1."""
    return _fill(tensor, 1)


def eye_(tensor):
    """Identity matrix (2-D tensors)."""
    if tensor.ndim != 2:
        raise ValueError(f"eye_: only 2-D tensors are supported, got shape {tuple(tensor.shape)}")
    return _fill(tensor, np.eye(*tensor.shape))


def orthogonal_(tensor, gain=1.0, generator=None):
    """A (semi-)orthogonal matrix from the QR decomposition of a normal sample, times ``gain``."""
    if tensor.ndim < 2:
        raise ValueError(f"orthogonal_: needs at least 2 dimensions, got shape {tuple(tensor.shape)}")
    rows = tensor.shape[0]
    cols = tensor.data.size // rows
    flat = _gen(generator).normal(0.0, 1.0, (rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, gain * q.reshape(tensor.shape))


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """Glorot: U(-a, a) with a = gain sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """Glorot: N(0, std^2) with std = gain sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He: U(-b, b) with b = gain sqrt(3 / fan); gain from ``calculate_gain(nonlinearity, a)``.

    With ``nonlinearity='relu'`` its variance is 2/fan_in; PyTorch's Linear default (a=sqrt(5)) gives
    b = 1/sqrt(fan_in).
    """
    fan = _fan(tensor, mode)
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / fan)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He: N(0, std^2) with std = gain / sqrt(fan); for ReLU that is the course's N(0, 2/fan_in)."""
    fan = _fan(tensor, mode)
    return normal_(tensor, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(fan), generator)


def lecun_normal_(tensor, generator=None):
    """LeCun: N(0, 1/fan_in) (the course: normal samples times sqrt(1/n_in), advised for tanh)."""
    fan_in, _ = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, 1.0 / math.sqrt(fan_in), generator)


def lecun_uniform_(tensor, generator=None):
    """LeCun: U(-b, b) with b = sqrt(3 / fan_in) (variance 1/fan_in)."""
    fan_in, _ = _calculate_fan_in_and_fan_out(tensor)
    b = math.sqrt(3.0 / fan_in)
    return uniform_(tensor, -b, b, generator)


def course_uniform_(tensor, a=COURSE_SIGMOID_A, generator=None):
    """The course's shallow-net rule: U(-a/sqrt(n_in), a/sqrt(n_in)), n_in the inputs of a neuron.

    ``a`` is chosen so the weights' variance matches the activation's point of maximum curvature;
    the course gives 2.38 for the standard sigmoid (the default). ``a=2`` is the course's second rule.
    For a 1-D tensor n_in is its length.
    """
    n_in = _calculate_fan_in_and_fan_out(tensor)[0] if tensor.ndim >= 2 else tensor.shape[0]
    b = a / math.sqrt(n_in)
    return uniform_(tensor, -b, b, generator)
