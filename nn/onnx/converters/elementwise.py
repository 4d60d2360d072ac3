"""Elementwise ops, activations, reductions and softmax."""
import math

import numpy as np

from autodiff.ops import activation
from autodiff.ops import elementwise
from autodiff.ops import reduce as reduce_ops

from ..convert import converts_named

try:
    from autodiff.ops import gelu
except ImportError:  # pragma: no cover - older engine without GELU
    gelu = None


# --- elementwise -------------------------------------------------------------------------------------
_BINARY = {"Add": "Add", "Sub": "Sub", "Mul": "Mul", "Div": "Div", "Pow": "Pow", "Maximum": "Max",
           "Minimum": "Min"}


def _binary(onnx_op):
    def convert(c):
        dtype = c.out_dtype()
        return c.g.op(onnx_op, c.x(0, dtype), c.x(1, dtype))
    return convert


for _name, _op in _BINARY.items():
    converts_named(elementwise, _name)(_binary(_op))

_UNARY = {"Neg": "Neg", "Exp": "Exp", "Log": "Log", "Sqrt": "Sqrt", "Abs": "Abs", "Sin": "Sin", "Cos": "Cos",
          "Tanh": "Tanh", "Sigmoid": "Sigmoid", "Softplus": "Softplus", "Relu": "Relu"}


def _unary(onnx_op):
    def convert(c):
        return c.g.op(onnx_op, c.x(0, c.out_dtype()))
    return convert


for _name, _op in _UNARY.items():
    converts_named(elementwise, _name)(_unary(_op))


@converts_named(elementwise, "Clip")
def _clip(c):
    dtype = c.out_dtype()
    lo, hi = c.value(1), c.value(2)
    return c.g.op("Clip", c.x(0, dtype), None if lo is None else c.g.scalar(lo, dtype),
                  None if hi is None else c.g.scalar(hi, dtype))


@converts_named(elementwise, "Where")
def _where(c):
    dtype = c.out_dtype()
    return c.g.op("Where", c.x(0, np.bool_), c.x(1, dtype), c.x(2, dtype))


@converts_named(elementwise, "Cast")
def _cast(c):
    return c.g.cast(c.x(0), c.out_dtype())


# --- activations ---------------------------------------------------------------------------------------
@converts_named(activation, "Step")
def _step(c):
    g, dtype = c.g, c.out_dtype()
    low = -1 if c.kwargs.get("bipolar", False) else 0
    x = c.x(0)
    cond = g.op("GreaterOrEqual", x, g.scalar(0, c.dtype(0)))
    return g.op("Where", cond, g.scalar(1, dtype), g.scalar(low, dtype))


@converts_named(activation, "ArcTan")
def _arctan(c):
    return c.g.op("Atan", c.x(0))


@converts_named(activation, "LeakyReLU")
def _leaky_relu(c):
    return c.g.op("LeakyRelu", c.x(0), alpha=float(c.kwargs.get("negative_slope", 0.01)))


@converts_named(activation, "ELU")
def _elu(c):
    return c.g.op("Elu", c.x(0), alpha=float(c.kwargs.get("alpha", 1.0)))


@converts_named(activation, "Softplus")
def _softplus(c):
    """log(1 + e^(beta x)) / beta, and x where beta x > threshold (PyTorch's definition)."""
    g, dtype = c.g, c.dtype(0)
    beta, threshold = float(c.kwargs.get("beta", 1.0)), float(c.kwargs.get("threshold", 20.0))
    x = c.x(0)
    bx = x if beta == 1 else g.op("Mul", x, g.scalar(beta, dtype))
    soft = g.op("Softplus", bx)
    if beta != 1:
        soft = g.op("Div", soft, g.scalar(beta, dtype))
    return g.op("Where", g.op("Greater", bx, g.scalar(threshold, dtype)), x, soft)


@converts_named(activation, "PReLU")
def _prelu(c):
    """PRelu with the slope reshaped to broadcast over the channel axis 1 (or the only axis)."""
    g = c.g
    size, rank = int(np.prod(c.shape(1))), c.rank(0)
    if size == 1 or rank < 2:
        shape = [size] if rank else []
    else:
        shape = [size] + [1] * (rank - 2)
    slope = g.op("Reshape", c.x(1, c.dtype(0)), g.ints(shape)) if rank else g.op("Reshape", c.x(1), g.ints([]))
    return g.op("PRelu", c.x(0), slope)


if gelu is not None:
    @converts_named(gelu, "GELU")
    def _gelu(c):
        g, dtype = c.g, c.out_dtype()
        approximate = c.kwargs.get("approximate", "none")
        x = c.x(0, dtype)
        if g.opset >= 20:
            return g.op("Gelu", x, approximate=approximate)
        if approximate == "tanh":
            inner = g.op("Mul", g.op("Add", x, g.op("Mul", g.op("Mul", g.op("Mul", x, x), x),
                                                    g.scalar(0.044715, dtype))),
                         g.scalar(math.sqrt(2.0 / math.pi), dtype))
            half = g.op("Add", g.op("Tanh", inner), g.scalar(1.0, dtype))
        else:
            half = g.op("Add", g.op("Erf", g.op("Mul", x, g.scalar(1.0 / math.sqrt(2.0), dtype))),
                        g.scalar(1.0, dtype))
        return g.op("Mul", g.op("Mul", x, half), g.scalar(0.5, dtype))

    @converts_named(gelu, "NormalCDF")
    def _normal_cdf(c):
        g, dtype = c.g, c.out_dtype()
        x = c.x(0, dtype)
        erf = g.op("Erf", g.op("Mul", x, g.scalar(1.0 / math.sqrt(2.0), dtype)))
        return g.op("Mul", g.op("Add", erf, g.scalar(1.0, dtype)), g.scalar(0.5, dtype))

    @converts_named(gelu, "SiLU")
    def _silu(c):
        x = c.x(0, c.out_dtype())
        return c.g.op("Mul", x, c.g.op("Sigmoid", x))


# --- reductions --------------------------------------------------------------------------------------
def _axes(c):
    """The op's reduced axes as its forward normalised them (None for a 0-d input)."""
    return list(c.saved.axes) if c.rank(0) else None


def _reduction(onnx_op):
    def convert(c):
        if not c.rank(0):
            return c.g.op("Identity", c.x(0))
        return c.g.reduce(onnx_op, c.x(0), _axes(c), c.saved.keepdims)
    return convert


converts_named(reduce_ops, "Sum")(_reduction("ReduceSum"))
converts_named(reduce_ops, "Mean")(_reduction("ReduceMean"))
converts_named(reduce_ops, "Max")(_reduction("ReduceMax"))
converts_named(reduce_ops, "Min")(_reduction("ReduceMin"))


def _count(c, axes):
    """The number of elements reduced over ``axes``, as a scalar of the input's dtype."""
    g, dtype = c.g, c.dtype(0)
    dims = c.dims(0)
    if all(isinstance(dims[a], int) for a in axes):
        return g.scalar(int(np.prod([dims[a] for a in axes])), dtype)
    sizes = g.op("Gather", g.op("Shape", c.x(0)), g.ints(axes), axis=0)
    return g.cast(g.reduce("ReduceProd", sizes, [0], False), dtype)


@converts_named(reduce_ops, "Var")
def _var(c):
    """mean((x - mean(x))^2) * n / (n - ddof) over the axes."""
    g, dtype = c.g, c.dtype(0)
    x = c.x(0)
    if not c.rank(0):
        return g.op("Mul", x, g.scalar(0, dtype))
    axes = _axes(c)
    keep = bool(c.saved.keepdims)
    centered = g.op("Sub", x, g.reduce("ReduceMean", x, axes, True))
    var = g.reduce("ReduceMean", g.op("Mul", centered, centered), axes, keep)
    ddof = c.args[3] if len(c.args) > 3 else c.kwargs.get("ddof", 0)
    if ddof:
        n = _count(c, axes)
        var = g.op("Div", g.op("Mul", var, n), g.op("Sub", n, g.scalar(ddof, dtype)))
    return var


@converts_named(reduce_ops, "LogSumExp")
def _logsumexp(c):
    """m + log(sum(exp(x - m))) with m the maximum (stable for large x)."""
    g = c.g
    x = c.x(0)
    if not c.rank(0):
        return g.op("Identity", x)
    axes = _axes(c)
    m = g.reduce("ReduceMax", x, axes, True)
    out = g.op("Add", g.op("Log", g.reduce("ReduceSum", g.op("Exp", g.op("Sub", x, m)), axes, True)), m)
    return out if c.saved.keepdims else g.squeeze(out, axes)


@converts_named(reduce_ops, "Softmax")
def _softmax(c):
    return c.g.op("Softmax", c.x(0), axis=int(c.saved.axis))


@converts_named(reduce_ops, "LogSoftmax")
def _log_softmax(c):
    return c.g.op("LogSoftmax", c.x(0), axis=int(c.saved.axis))
