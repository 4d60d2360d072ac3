"""Further math: unary functions, rounding, remainders, running sums, products, norms, triangles,
einsum, and selection along an axis (``max(dim)``/``min(dim)``, ``gather``)."""
import math

import numpy as np

from ..convert import converts_named

try:
    from autodiff.ops import arith as Ar
    from autodiff.ops import cumulative as Cu
    from autodiff.ops import diagonal as Di
    from autodiff.ops import einsum as Ei
    from autodiff.ops import norms as No
    from autodiff.ops import reduce as reduce_ops
    from autodiff.ops import select as Se
    from autodiff.ops import unary
except ImportError:  # pragma: no cover - an engine without these modules registers nothing here
    Ar = Cu = Di = Ei = No = reduce_ops = Se = unary = None


def _float_input(c, j=0):
    return c.x(j, c.out_dtype())


def _direct(onnx_op):
    def convert(c):
        return c.g.op(onnx_op, _float_input(c))
    return convert


def _built(formula):
    """A converter from ``formula(g, x, scalar)`` where ``scalar(v)`` makes a constant of x's dtype."""
    def convert(c):
        dtype = c.out_dtype()
        return formula(c.g, _float_input(c), lambda v: c.g.scalar(v, dtype))
    return convert


_DIRECT = {"Tan": "Tan", "Sinh": "Sinh", "Cosh": "Cosh", "Asinh": "Asinh", "Acosh": "Acosh", "Atanh": "Atanh",
           "Asin": "Asin", "Acos": "Acos", "Atan": "Atan", "Erf": "Erf", "Reciprocal": "Reciprocal"}
_FORMULAS = {
    "Log1p": lambda g, x, k: g.op("Log", g.op("Add", x, k(1))),
    "Expm1": lambda g, x, k: g.op("Sub", g.op("Exp", x), k(1)),
    "Log2": lambda g, x, k: g.op("Div", g.op("Log", x), k(math.log(2.0))),
    "Log10": lambda g, x, k: g.op("Div", g.op("Log", x), k(math.log(10.0))),
    "Exp2": lambda g, x, k: g.op("Pow", k(2.0), x),
    "Rsqrt": lambda g, x, k: g.op("Reciprocal", g.op("Sqrt", x)),
    "Erfc": lambda g, x, k: g.op("Sub", k(1), g.op("Erf", x)),
}

if unary is not None:
    for _name, _op in _DIRECT.items():
        converts_named(unary, _name)(_direct(_op))
    for _name, _formula in _FORMULAS.items():
        converts_named(unary, _name)(_built(_formula))

    def _rounding(onnx_op):
        def convert(c):
            x = c.x(0)
            if c.dtype(0).kind in "biu" and onnx_op != "Sign":
                return c.g.op("Identity", x)
            if len(c.args) > 1 and c.value(1):
                c.fail(f"round with decimals={c.value(1)} has no ONNX form (only decimals=0)")
            return c.g.op(onnx_op, x)
        return convert

    for _name, _op in {"Floor": "Floor", "Ceil": "Ceil", "Round": "Round", "Sign": "Sign"}.items():
        converts_named(unary, _name)(_rounding(_op))

    def _trunc(g, x, k):
        return g.op("Where", g.op("Less", x, k(0)), g.op("Ceil", x), g.op("Floor", x))

    @converts_named(unary, "Trunc")
    def _trunc_op(c):
        if c.dtype(0).kind in "biu":
            return c.g.op("Identity", c.x(0))
        return _built(_trunc)(c)

    @converts_named(unary, "Frac")
    def _frac(c):
        return _built(lambda g, x, k: g.op("Sub", x, _trunc(g, x, k)))(c)

    @converts_named(unary, "Logit")
    def _logit(c):
        g, dtype = c.g, c.out_dtype()
        x = _float_input(c)
        eps = c.arg("eps")
        if eps is not None:
            x = g.op("Clip", x, g.scalar(eps, dtype), g.scalar(1 - eps, dtype))
        return g.op("Log", g.op("Div", x, g.op("Sub", g.scalar(1, dtype), x)))


# --- two operands ------------------------------------------------------------------------------------
def _pair(c):
    dtype = c.out_dtype()
    return c.g, dtype, c.x(0, dtype), c.x(1, dtype)


if Ar is not None:
    @converts_named(Ar, "Fmod")
    def _fmod(c):
        g, dtype, a, b = _pair(c)
        return g.op("Mod", a, b, fmod=1)

    @converts_named(Ar, "Remainder")
    def _remainder(c):
        """Python's % (the sign of b): ONNX Mod for integers, a - floor(a / b) b for floats."""
        g, dtype, a, b = _pair(c)
        if dtype.kind in "iu":
            return g.op("Mod", a, b, fmod=0)
        return g.op("Sub", a, g.op("Mul", g.op("Floor", g.op("Div", a, b)), b))

    @converts_named(Ar, "DivRounded")
    def _div_rounded(c):
        g, dtype, a, b = _pair(c)
        mode = c.value(2)
        if dtype.kind in "iu":
            c.fail(f"integer division with rounding_mode={mode!r} has no exact ONNX form here; divide floats")
        q = g.op("Div", a, b)
        if mode == "floor":
            return g.op("Floor", q)
        return g.op("Where", g.op("Less", q, g.scalar(0, dtype)), g.op("Ceil", q), g.op("Floor", q))

    @converts_named(Ar, "Hypot")
    def _hypot(c):
        g, dtype, a, b = _pair(c)
        return g.op("Sqrt", g.op("Add", g.op("Mul", a, a), g.op("Mul", b, b)))

    @converts_named(Ar, "LogAddExp")
    def _logaddexp(c):
        """max(a, b) + log(1 + exp(-|a - b|)) (stable)."""
        g, dtype, a, b = _pair(c)
        gap = g.op("Neg", g.op("Abs", g.op("Sub", a, b)))
        return g.op("Add", g.op("Max", a, b), g.op("Log", g.op("Add", g.op("Exp", gap), g.scalar(1, dtype))))

    @converts_named(Ar, "Atan2")
    def _atan2(c):
        """atan(a / b), plus or minus pi where b < 0 (by the sign of a), and 0 at a = b = 0."""
        g, dtype, a, b = _pair(c)
        zero = g.scalar(0, dtype)
        base = g.op("Atan", g.op("Div", a, b))
        turn = g.op("Where", g.op("Less", a, zero), g.scalar(-math.pi, dtype), g.scalar(math.pi, dtype))
        angle = g.op("Where", g.op("Less", b, zero), g.op("Add", base, turn), base)
        origin = g.op("And", g.op("Equal", a, zero), g.op("Equal", b, zero))
        return g.op("Where", origin, zero, angle)

    @converts_named(Ar, "Copysign")
    def _copysign(c):
        g, dtype, a, b = _pair(c)
        negative = g.op("Less", b, g.scalar(0, dtype))
        size = g.op("Abs", a)
        return g.op("Where", negative, g.op("Neg", size), size)


# --- running sums, products, norms ---------------------------------------------------------------------
if Cu is not None:
    @converts_named(Cu, "Cumsum")
    def _cumsum(c):
        x = c.x(0, c.out_dtype())
        if not c.rank(0):
            return c.g.op("Identity", x)
        axis = c.g.const(np.asarray(c.saved.axis, np.int64), hint="axis")
        return c.g.op("CumSum", x, axis, reverse=int(bool(c.saved.reverse)))

if reduce_ops is not None and getattr(reduce_ops, "Prod", None) is not None:
    @converts_named(reduce_ops, "Prod")
    def _prod(c):
        x = c.x(0)
        if not c.rank(0):
            return c.g.op("Identity", x)
        keep = c.arg("keepdims", False)
        return c.g.reduce("ReduceProd", x, list(c.saved.axes), keep)

if No is not None:
    @converts_named(No, "VectorNorm")
    def _vector_norm(c):
        g, dtype = c.g, c.out_dtype()
        x = c.x(0, dtype)
        p = c.arg("ord", 2)
        keep = bool(c.arg("keepdims", False))
        axes = None if c.arg("axis") is None else [int(a) % max(c.rank(0), 1) for a in np.atleast_1d(c.arg("axis"))]
        if not c.rank(0):
            return g.op("Abs", x)
        if p == 2:
            return g.reduce("ReduceL2", x, axes, keep)
        if p == 1:
            return g.reduce("ReduceL1", x, axes, keep)
        if p in (math.inf, -math.inf):
            return g.reduce("ReduceMax" if p > 0 else "ReduceMin", g.op("Abs", x), axes, keep)
        if p == 0:
            nonzero = g.cast(g.op("Not", g.op("Equal", x, g.scalar(0, dtype))), dtype)
            return g.reduce("ReduceSum", nonzero, axes, keep)
        powered = g.op("Pow", g.op("Abs", x), g.scalar(p, dtype))
        return g.op("Pow", g.reduce("ReduceSum", powered, axes, keep), g.scalar(1.0 / p, dtype))

if Di is not None:
    @converts_named(Di, "Triangle")
    def _triangle(c):
        g = c.g
        k = g.const(np.asarray(int(c.value(1)), np.int64), hint="diagonal")
        return g.op("Trilu", c.x(0), k, upper=int(bool(c.value(2))))

    @converts_named(Di, "Diagonal")
    def _diagonal(c):
        """The two dims moved last, flattened together, and the diagonal's flat positions gathered."""
        g = c.g
        offset, dim1, dim2 = (int(c.value(j)) for j in (1, 2, 3))
        rank = c.rank(0)
        dim1, dim2 = dim1 % rank, dim2 % rank
        dims = c.dims(0)
        n, m = dims[dim1], dims[dim2]
        if not isinstance(n, int) or not isinstance(m, int):
            c.fail("a diagonal over dims that follow a dynamic axis has no ONNX form here")
        rest = [a for a in range(rank) if a not in (dim1, dim2)]
        x = g.op("Transpose", c.x(0), perm=rest + [dim1, dim2])
        x = g.op("Reshape", x, g.ints([0] * len(rest) + [n * m]))
        rows = np.arange(max(0, min(n + min(offset, 0), m - max(offset, 0))))
        flat = (rows + max(-offset, 0)) * m + rows + max(offset, 0)
        return g.op("Gather", x, g.const(flat.astype(np.int64), hint="diagonal"), axis=len(rest))


if Ei is not None:
    @converts_named(Ei, "Einsum")
    def _einsum(c):
        dtype = c.out_dtype()
        equation = str(c.value(0)).replace(" ", "")
        operands = [c.x(j, dtype) for j in range(1, len(c.args))]
        return c.g.op("Einsum", *operands, equation=equation)


# --- selection along an axis -------------------------------------------------------------------------
if Se is not None:
    @converts_named(Se, "TakeAlongAxis")
    def _take_along_axis(c):
        """GatherElements; indices that were an argmax/argmin of the input (``max(dim)``) become ArgMax/ArgMin."""
        g = c.g
        axis = int(c.value(2)) % max(c.rank(0), 1)
        idx = c.args[1]
        if c.is_value(1):
            index = c.x(1, np.int64)
        elif (c.index, 1) in c.ex.varying_args or c.ex.dynamic_const(c, 1):
            index = _extreme_indices(c, axis)
        else:
            index = g.const(np.asarray(c.value(1), np.int64), hint="index")
        return g.op("GatherElements", c.x(0), index, axis=axis)


def _extreme_indices(c, axis):
    """ArgMax/ArgMin of input 0 when the indices (computed with numpy outside the graph) are its argmax or
    argmin along ``axis`` in every traced run; else the indices are refused as a constant."""
    g = c.g
    for op, pick in (("ArgMax", np.argmax), ("ArgMin", np.argmin)):
        if all(_picks(args, axis, pick) for args in c.ex.args_in_every_run(c.index)):
            index = g.op(op, c.x(0), axis=axis, keepdims=1, select_last_index=0)
            idx = c.args[1].data if c.is_tensor(1) else c.args[1]
            # the indices Tensor that max(dim)/min(dim) return wraps this array (or a squeeze of it)
            for arr in (idx, idx.base):
                if isinstance(arr, np.ndarray):
                    c.ex.computed_arrays[id(arr)] = (index, c.out_dims(), axis)
            return index
    c.value(1)  # raises: indices computed from the inputs outside the graph


def _picks(args, axis, pick):
    data, idx = (np.asarray(a.data if hasattr(a, "grad_fn") else a) for a in args[:2])
    return idx.shape == tuple(1 if k == axis else s for k, s in enumerate(data.shape)) and \
        np.array_equal(idx, pick(data, axis=axis, keepdims=True))


try:
    from autodiff.ops import matrix
except ImportError:  # pragma: no cover
    matrix = None
if matrix is not None:
    converts_named(matrix, "Det")(_direct("Det"))
