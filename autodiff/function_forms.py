"""Function forms of Tensor methods (``autodiff.exp(x)``, ``autodiff.sum(x, dim=1)``), and the functions
that take several tensors (``where``, ``cat``, ``stack``, ``split``, ``maximum``)."""
import builtins

import numpy as np

from .methods.shapes import split
from .ops import elementwise, shape
from .tensor import Tensor

__all__ = ["where", "maximum", "minimum", "concatenate", "cat", "stack", "split", "polygamma", "trapezoid", "trapz"]


def _as_tensor(x):
    return x if isinstance(x, Tensor) else Tensor(x)


def _method_form(name, doc):
    """``autodiff.name(input, ...)``: the Tensor method of that name (``input`` as torch names it)."""
    def fn(input, *args, **kwargs):
        return getattr(_as_tensor(input), name)(*args, **kwargs)
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
    "transpose": "Swap two dims (torch's meaning); no argument reverses them, a full permutation permutes.",
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
# arithmetic, comparison, unary math, reductions and cumulative ops in torch's spelling
_TORCH_FORMS = {
    "add": "input + alpha * other.", "sub": "input - alpha * other.", "subtract": "input - alpha * other.",
    "mul": "input * other.", "multiply": "input * other.", "div": "input / other (rounding_mode=None|'trunc'|'floor').",
    "divide": "input / other (rounding_mode=None|'trunc'|'floor').", "true_divide": "input / other.",
    "floor_divide": "input / other rounded down.", "remainder": "Python's modulus (sign of other).",
    "fmod": "C's fmod (sign of input).", "pow": "input ** exponent.", "float_power": "input ** exponent in float64.",
    "neg": "-input.", "negative": "-input.", "positive": "input.", "absolute": "|input|.",
    "copysign": "|input| with the sign of other.", "atan2": "atan2(input, other).", "arctan2": "atan2(input, other).",
    "hypot": "sqrt(input^2 + other^2).", "logaddexp": "log(e^input + e^other), stable.",
    "eq": "input == other.", "ne": "input != other.", "lt": "input < other.", "le": "input <= other.",
    "gt": "input > other.", "ge": "input >= other.", "not_equal": "input != other.", "less": "input < other.",
    "less_equal": "input <= other.", "greater": "input > other.", "greater_equal": "input >= other.",
    "isclose": "|input - other| <= atol + rtol |other|.", "allclose": "isclose everywhere (a bool).",
    "equal": "Same shape and elements (a bool).",
    "bitwise_and": "input & other.", "bitwise_or": "input | other.", "bitwise_xor": "input ^ other.",
    "bitwise_not": "~input.", "bitwise_left_shift": "input << other.", "bitwise_right_shift": "input >> other.",
    "logical_and": "input and other, elementwise.", "logical_or": "input or other, elementwise.",
    "logical_xor": "input xor other, elementwise.", "logical_not": "not input, elementwise.",
    "log1p": "log(1 + x).", "expm1": "e^x - 1.", "log2": "Base-2 logarithm.", "log10": "Base-10 logarithm.",
    "exp2": "2^x.", "rsqrt": "1 / sqrt(x).", "square": "x^2.", "reciprocal": "1 / x.", "tan": "Tangent.",
    "sinh": "Hyperbolic sine.", "cosh": "Hyperbolic cosine.", "asinh": "Inverse hyperbolic sine.",
    "acosh": "Inverse hyperbolic cosine.", "atanh": "Inverse hyperbolic tangent.", "asin": "Arcsine.",
    "acos": "Arccosine.", "atan": "Arctangent.", "arcsinh": "Inverse hyperbolic sine.",
    "arccosh": "Inverse hyperbolic cosine.", "arctanh": "Inverse hyperbolic tangent.", "arcsin": "Arcsine.",
    "arccos": "Arccosine.", "arctan": "Arctangent.", "erf": "Error function.", "erfc": "1 - erf(x).",
    "erfinv": "Inverse error function.", "lgamma": "log |gamma(x)|.", "digamma": "d/dx lgamma(x).",
    "logit": "log(x / (1 - x)).", "deg2rad": "Degrees to radians.", "rad2deg": "Radians to degrees.",
    "sign": "-1, 0 or 1.", "sgn": "-1, 0 or 1.", "floor": "Round down.", "ceil": "Round up.",
    "trunc": "Round toward zero.", "fix": "Round toward zero.", "round": "Round half to even (decimals=).",
    "frac": "x - trunc(x).", "nan_to_num": "Replace NaN and infinities.", "isnan": "x is NaN.",
    "isinf": "x is infinite.", "isfinite": "x is finite.", "isposinf": "x is +inf.", "isneginf": "x is -inf.",
    "signbit": "The sign bit is set.", "clamp_min": "max(x, min).", "clamp_max": "min(x, max).",
    "prod": "Product over dim.", "nansum": "Sum ignoring NaN.", "nanmean": "Mean ignoring NaN.",
    "amax": "Maximum over dims (values).", "amin": "Minimum over dims (values).",
    "median": "Lower median (values, indices along dim).", "mode": "Most frequent value (values, indices).",
    "kthvalue": "k-th smallest (values, indices).", "var_mean": "(var, mean).", "std_mean": "(std, mean).",
    "all": "All true.", "any": "Any true.", "count_nonzero": "Number of nonzero elements.",
    "cumsum": "Running sum along dim.", "cumprod": "Running product along dim.",
    "cummax": "Running maximum (values, indices).", "cummin": "Running minimum (values, indices).",
    "logcumsumexp": "log(cumsum(exp(x))), stable.", "norm": "Frobenius, nuclear or p-norm.",
    "logaddexp2": "log2(2^input + 2^other), stable.", "xlogy": "input * log(other), 0 where input is 0.",
    "addcmul": "input + value * tensor1 * tensor2.", "addcdiv": "input + value * tensor1 / tensor2.",
    "lerp": "input + weight * (end - input).", "rsub": "other - alpha * input.",
    "fmax": "maximum ignoring NaN.", "fmin": "minimum ignoring NaN.", "ldexp": "input * 2^other.",
    "heaviside": "Step function with values at 0.", "sinc": "sin(pi x) / (pi x).",
    "aminmax": "(min, max).", "quantile": "q-th quantiles along dim.",
    "mvlgamma": "Multivariate log-gamma.", "dist": "p-norm of input - other.",
}
for _name, _doc in _TORCH_FORMS.items():
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


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """The trapezoid-rule integral of ``y`` along ``dim`` (``torch.trapezoid``; ``trapz`` too)."""
    from .methods.reductions import trapezoid as integrate
    return integrate(_as_tensor(y), x, dx=dx, dim=dim)


trapz = trapezoid


def polygamma(n, input):
    """The n-th derivative of digamma, in torch's argument order."""
    return _as_tensor(input).polygamma(n)


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
