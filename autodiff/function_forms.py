"""Function forms of Tensor methods (``autodiff.exp(x)``, ``autodiff.sum(x, dim=1)``), and the functions
that take several tensors (``where``, ``cat``, ``stack``, ``split``, ``maximum``)."""
import builtins

import numpy as np

from .methods.shapes import split
from .ops import elementwise, shape
from .tensor import Tensor

__all__ = ["where", "maximum", "minimum", "concatenate", "cat", "stack", "split"]


def _as_tensor(x):
    return x if isinstance(x, Tensor) else Tensor(x)


def _method_form(name, doc):
    def fn(x, *args, **kwargs):
        return getattr(_as_tensor(x), name)(*args, **kwargs)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


_METHOD_FORMS = {
    "exp": "e**x elementwise.",
    "log": "Natural logarithm elementwise.",
    "sqrt": "Square root elementwise.",
    "abs": "Absolute value elementwise.",
    "sin": "Sine elementwise.",
    "cos": "Cosine elementwise.",
    "tanh": "Hyperbolic tangent elementwise.",
    "sigmoid": "Logistic sigmoid 1/(1+e^-x), numerically stable.",
    "softplus": "log(1 + e^x), numerically stable.",
    "relu": "max(x, 0).",
    "clip": "Clamp into [min, max].",
    "sum": "Sum over axis (None: all).",
    "mean": "Mean over axis (None: all).",
    "var": "Variance over axis.",
    "std": "Standard deviation over axis.",
    "max": "Maximum values over axis.",
    "min": "Minimum values over axis.",
    "logsumexp": "log(sum(exp(x))) over axis, numerically stable.",
    "argmax": "Index of the maximum (no gradient).",
    "argmin": "Index of the minimum (no gradient).",
    "softmax": "Softmax along axis, numerically stable.",
    "log_softmax": "Log-softmax along axis, numerically stable.",
    "reshape": "Reshape (numpy's meaning).",
    "transpose": "Permute axes (reverse them without arguments).",
    "permute": "Permute axes.",
    "swapaxes": "Swap two axes.",
    "broadcast_to": "Broadcast to a shape.",
    "squeeze": "Remove size-1 axes.",
    "unsqueeze": "Insert a size-1 axis.",
    "flatten": "Merge dimensions.",
    "pad": "Zero padding with numpy's pad_width.",
    "matmul": "Matrix product with numpy's semantics.",
}
for _name, _doc in _METHOD_FORMS.items():
    globals()[_name] = _method_form(_name, _doc)
    __all__.append(_name)
expand_dims = _method_form("unsqueeze", "Insert a size-1 axis (numpy's name).")
__all__.append("expand_dims")
clamp = globals()["clip"]
__all__.append("clamp")
del _name, _doc


def where(condition, x=None, y=None):
    """Elements of x where condition holds, else of y (differentiable in x and y); with the condition
    alone, ``nonzero(condition, as_tuple=True)``."""
    cond = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
    if x is None and y is None:
        return Tensor._make(cond).nonzero(as_tuple=True)
    return elementwise.Where.apply(cond, x, y)


def maximum(a, b):
    return elementwise.Maximum.apply(_as_tensor(a), b)


def minimum(a, b):
    return elementwise.Minimum.apply(_as_tensor(a), b)


def concatenate(tensors, axis=0, dim=None):
    """Join tensors along an existing axis."""
    return shape.Concatenate.apply(axis if dim is None else dim, *tensors)


cat = concatenate


def stack(tensors, axis=0, dim=None):
    """Join tensors along a new axis."""
    return shape.Stack.apply(axis if dim is None else dim, *tensors)


_ = builtins  # the forms above shadow sum/max/min/abs inside this module only
