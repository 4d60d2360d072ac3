"""Array-or-Tensor helpers: functions that work on numpy arrays and on Tensors alike.

Backward formulas are written once with these (and with operators both types share), so the same code
runs on arrays in a plain backward pass and on Tensors when ``create_graph=True`` records it.
"""
import numpy as np

from .. import tensor as tensors  # the Tensor class, read at call time (tensor.py imports the ops)
from ..kernels import activation


def _is_tensor(x):
    return isinstance(x, tensors.Tensor)


def unbroadcast(g, shape):
    """Sum ``g`` over the axes that broadcasting added or stretched, so it has ``shape``."""
    gshape = g.shape
    if gshape == shape:
        return g
    extra = len(gshape) - len(shape)
    axes = tuple(range(extra)) + tuple(
        i + extra for i, s in enumerate(shape) if s == 1 and gshape[i + extra] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    if g.shape != shape:
        g = g.reshape(shape)
    return g


def broadcast_to(x, shape):
    if _is_tensor(x):
        return x.broadcast_to(shape)
    return np.broadcast_to(x, shape)


def _unary(np_fn, method):
    def fn(x):
        if _is_tensor(x):
            return getattr(x, method)()
        return np_fn(x)
    fn.__name__ = method
    return fn


exp = _unary(np.exp, "exp")
log = _unary(np.log, "log")
sin = _unary(np.sin, "sin")
cos = _unary(np.cos, "cos")
sqrt = _unary(np.sqrt, "sqrt")
tanh = _unary(np.tanh, "tanh")


def sign(x):
    """sign(x) as a constant (its derivative is zero almost everywhere)."""
    if _is_tensor(x):
        return tensors.Tensor(np.sign(x.data))
    return np.sign(x)


def sigmoid(x):
    if _is_tensor(x):
        return x.sigmoid()
    return activation.sigmoid(x)


def where(cond, a, b):
    """where(cond, a, b); cond is never differentiated."""
    if _is_tensor(a) or _is_tensor(b):
        from .elementwise import Where  # elementwise imports this module
        return Where.apply(cond.data if _is_tensor(cond) else cond, a, b)
    return np.where(cond.data if _is_tensor(cond) else cond, a, b)


def data(x):
    """The numpy array behind ``x`` (``x`` itself when it is already an array)."""
    return x.data if _is_tensor(x) else x
