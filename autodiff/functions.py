"""Function forms of Tensor methods, named as numpy names them (``autodiff.exp(x)``, ``autodiff.sum``)."""
from .tensor import Tensor


def _t(x):
    return x if isinstance(x, Tensor) else Tensor(x)


def _method(name, doc):
    def fn(x, *args, **kwargs):
        return getattr(_t(x), name)(*args, **kwargs)
    fn.__name__ = name
    fn.__doc__ = doc
    return fn


exp = _method("exp", "e**x elementwise.")
log = _method("log", "Natural logarithm elementwise.")
sqrt = _method("sqrt", "Square root elementwise.")
abs = _method("abs", "Absolute value elementwise.")
sin = _method("sin", "Sine elementwise.")
cos = _method("cos", "Cosine elementwise.")
tanh = _method("tanh", "Hyperbolic tangent elementwise.")
sigmoid = _method("sigmoid", "Logistic sigmoid 1/(1+e^-x), numerically stable.")
softplus = _method("softplus", "log(1 + e^x), numerically stable.")
relu = _method("relu", "max(x, 0).")
clip = _method("clip", "Clamp into [min, max].")
sum = _method("sum", "Sum over axis (None: all).")
mean = _method("mean", "Mean over axis (None: all).")
var = _method("var", "Variance over axis, ddof=0 by default (numpy).")
std = _method("std", "Standard deviation over axis, ddof=0 by default (numpy).")
max = _method("max", "Maximum values over axis.")
min = _method("min", "Minimum values over axis.")
logsumexp = _method("logsumexp", "log(sum(exp(x))) over axis, numerically stable.")
argmax = _method("argmax", "Index of the maximum (no gradient).")
argmin = _method("argmin", "Index of the minimum (no gradient).")
softmax = _method("softmax", "Softmax along axis, numerically stable.")
log_softmax = _method("log_softmax", "Log-softmax along axis, numerically stable.")
reshape = _method("reshape", "Reshape (numpy's meaning).")
transpose = _method("transpose", "Permute axes (reverse them without arguments).")
permute = _method("permute", "Alias of transpose.")
swapaxes = _method("swapaxes", "Swap two axes.")
broadcast_to = _method("broadcast_to", "Broadcast to a shape.")
squeeze = _method("squeeze", "Remove size-1 axes.")
unsqueeze = _method("unsqueeze", "Insert a size-1 axis.")
expand_dims = _method("unsqueeze", "Insert a size-1 axis (numpy's name).")
flatten = _method("flatten", "Merge dimensions.")
pad = _method("pad", "Zero padding with numpy's pad_width.")
matmul = _method("matmul", "Matrix product with numpy's semantics.")
