"""Tensor's elementwise math (each method calls its op's ``apply``), in-place versions, and dtype
conversions (``to``, ``type``, ``half``, ``long`` ...)."""
import numpy as np

from .. import tensor as tensors  # the Tensor class, read at call time (tensor.py imports this module)
from ..errors import ShapeError
from ..ops import elementwise, unary

# torch's legacy tensor type names, as ``x.type()`` returns them
_TYPE_NAMES = {"float32": "torch.FloatTensor", "float64": "torch.DoubleTensor", "float16": "torch.HalfTensor",
               "int64": "torch.LongTensor", "int32": "torch.IntTensor", "int16": "torch.ShortTensor",
               "int8": "torch.CharTensor", "uint8": "torch.ByteTensor", "bool": "torch.BoolTensor",
               "complex64": "torch.ComplexFloatTensor", "complex128": "torch.ComplexDoubleTensor"}
_NAMED_TYPES = {v: k for k, v in _TYPE_NAMES.items()}
_TORCH_NAMES = {"float": "float32", "double": "float64", "half": "float16", "long": "int64", "int": "int32",
                "short": "int16", "cfloat": "complex64", "cdouble": "complex128"}


def as_dtype(dtype):
    """A numpy dtype from a numpy dtype, a type, a name ('float32', 'torch.float64', 'long') or a
    legacy type name ('torch.FloatTensor').

    Raises:
        TypeError: for names numpy has no dtype for (bfloat16 and other torch-only types).
    """
    if isinstance(dtype, str):
        if dtype in _NAMED_TYPES:
            return np.dtype(_NAMED_TYPES[dtype])
        name = dtype[6:] if dtype.startswith("torch.") else dtype
        name = _TORCH_NAMES.get(name, name)
        try:
            if name == "bfloat16" or name.startswith(("float8", "qint", "quint")):
                raise TypeError(name)  # refused even where an extension (ml_dtypes) registers it
            return np.dtype(name)
        except TypeError:
            raise TypeError(f"dtype: {dtype!r} has no numpy equivalent (numpy lacks bfloat16 and the "
                            "quantized types)") from None
    return np.dtype(dtype)


def _is_device(x):
    """'cpu', 'cpu:0', or a device-like object whose ``type`` is 'cpu'."""
    name = x if isinstance(x, str) else getattr(x, "type", None)
    return isinstance(name, str) and name.split(":")[0] in ("cpu", "cuda", "mps", "meta", "xpu")


def _check_cpu(device):
    name = device if isinstance(device, str) else device.type
    if name.split(":")[0] != "cpu":
        raise RuntimeError(f"to: device {name!r} is not available; this library runs on the CPU only")


def _inplace_method(name):
    def method(self, *args, **kwargs):
        return self._inplace_result(lambda x: getattr(x, name)(*args, **kwargs), f"{name}_",
                                    *args, *kwargs.values())
    method.__name__ = method.__qualname__ = f"{name}_"
    method.__doc__ = f"In-place ``{name}``: sets this tensor to ``self.{name}(...)`` and returns it."
    return method


class MathMethods:
    """Elementwise math (exp, log, trig, special functions, rounding, clamp, maximum ...), their in-place
    ``_`` versions, and dtype conversions."""

    __slots__ = ()

    def exp(self):
        return elementwise.Exp.apply(self)

    def log(self):
        return elementwise.Log.apply(self)

    def sqrt(self):
        return elementwise.Sqrt.apply(self)

    def abs(self):
        return elementwise.Abs.apply(self)

    __abs__ = absolute = abs

    def sin(self):
        return elementwise.Sin.apply(self)

    def cos(self):
        return elementwise.Cos.apply(self)

    def tanh(self):
        return elementwise.Tanh.apply(self)

    def sigmoid(self):
        return elementwise.Sigmoid.apply(self)

    def softplus(self):
        return elementwise.Softplus.apply(self)

    def relu(self):
        return elementwise.Relu.apply(self)

    def log1p(self):
        return unary.Log1p.apply(self)

    def expm1(self):
        return unary.Expm1.apply(self)

    def log2(self):
        return unary.Log2.apply(self)

    def log10(self):
        return unary.Log10.apply(self)

    def exp2(self):
        return unary.Exp2.apply(self)

    def rsqrt(self):
        return unary.Rsqrt.apply(self)

    def reciprocal(self):
        return unary.Reciprocal.apply(self)

    def square(self):
        return elementwise.Pow.apply(self, 2)

    def tan(self):
        return unary.Tan.apply(self)

    def sinh(self):
        return unary.Sinh.apply(self)

    def cosh(self):
        return unary.Cosh.apply(self)

    def asinh(self):
        return unary.Asinh.apply(self)

    def acosh(self):
        return unary.Acosh.apply(self)

    def atanh(self):
        return unary.Atanh.apply(self)

    def asin(self):
        return unary.Asin.apply(self)

    def acos(self):
        return unary.Acos.apply(self)

    def atan(self):
        return unary.Atan.apply(self)

    arcsinh, arccosh, arctanh, arcsin, arccos, arctan = asinh, acosh, atanh, asin, acos, atan

    def erf(self):
        return unary.Erf.apply(self)

    def erfc(self):
        return unary.Erfc.apply(self)

    def erfinv(self):
        return unary.Erfinv.apply(self)

    def lgamma(self):
        return unary.Lgamma.apply(self)

    def digamma(self):
        return unary.Digamma.apply(self)

    def polygamma(self, n):
        """The n-th derivative of digamma (``torch.polygamma(n, x)`` is ``x.polygamma(n)``)."""
        return unary.Polygamma.apply(self, int(n))

    def mvlgamma(self, p):
        """Multivariate log-gamma of dimension p: p(p-1)/4 log(pi) + sum_j lgamma(x + (1 - j)/2)."""
        p = int(p)
        if p < 1:
            raise ShapeError(f"mvlgamma: p must be at least 1, got {p}")
        if np.any(self.data <= (p - 1) / 2):
            raise ShapeError(f"mvlgamma: all elements must be greater than (p-1)/2 = {(p - 1) / 2}")
        out = elementwise.Add.apply(unary.Lgamma.apply(self), p * (p - 1) / 4 * np.log(np.pi))
        for j in range(2, p + 1):
            out = out + unary.Lgamma.apply(elementwise.Add.apply(self, (1 - j) / 2))
        return out

    def logit(self, eps=None):
        return unary.Logit.apply(self, eps)

    def deg2rad(self):
        return elementwise.Mul.apply(self, np.pi / 180.0)

    def rad2deg(self):
        return elementwise.Mul.apply(self, 180.0 / np.pi)

    def sinc(self):
        """sin(pi x) / (pi x), 1 at x = 0 (where its derivative is 0)."""
        zero = self.data == 0
        px = elementwise.Mul.apply(elementwise.Where.apply(zero, 1.0, self), np.pi)
        return elementwise.Where.apply(zero, 1.0, elementwise.Div.apply(elementwise.Sin.apply(px), px))

    def sign(self):
        return unary.Sign.apply(self)

    sgn = sign

    def floor(self):
        return unary.Floor.apply(self)

    def ceil(self):
        return unary.Ceil.apply(self)

    def trunc(self):
        return unary.Trunc.apply(self)

    fix = trunc

    def round(self, decimals=0):
        """Round half to even, to ``decimals`` places."""
        return unary.Round.apply(self, int(decimals))

    def frac(self):
        return unary.Frac.apply(self)

    def nan_to_num(self, nan=0.0, posinf=None, neginf=None):
        """NaN to ``nan``, +/-inf to ``posinf``/``neginf`` (default: the dtype's largest/smallest value)."""
        return unary.NanToNum.apply(self, nan, posinf, neginf)

    def isnan(self):
        return tensors.Tensor._make(np.isnan(self.data))

    def isinf(self):
        return tensors.Tensor._make(np.isinf(self.data))

    def isfinite(self):
        return tensors.Tensor._make(np.isfinite(self.data))

    def isposinf(self):
        return tensors.Tensor._make(np.isposinf(self.data))

    def isneginf(self):
        return tensors.Tensor._make(np.isneginf(self.data))

    def signbit(self):
        return tensors.Tensor._make(np.signbit(self.data))

    def clamp(self, min=None, max=None):
        """Clamp into [min, max] (numbers or tensors); the gradient passes where the value is inside."""
        if min is None and max is None:
            raise ShapeError("clamp: at least one of 'min' or 'max' must not be None")
        return elementwise.Clip.apply(self, min, max)

    clip = clamp

    def clamp_min(self, min):
        return elementwise.Clip.apply(self, min, None)

    def clamp_max(self, max):
        return elementwise.Clip.apply(self, None, max)

    def maximum(self, other):
        return elementwise.Maximum.apply(self, other)

    def minimum(self, other):
        return elementwise.Minimum.apply(self, other)

    # in-place versions: the out-of-place result written into this tensor (recorded when grad is on)
    exp_, log_, sqrt_, abs_, sin_, cos_, tanh_, sigmoid_, relu_ = (_inplace_method(n) for n in (
        "exp", "log", "sqrt", "abs", "sin", "cos", "tanh", "sigmoid", "relu"))
    log1p_, expm1_, log2_, log10_, exp2_, rsqrt_, reciprocal_, square_, tan_ = (_inplace_method(n) for n in (
        "log1p", "expm1", "log2", "log10", "exp2", "rsqrt", "reciprocal", "square", "tan"))
    sinh_, cosh_, asinh_, acosh_, atanh_, asin_, acos_, atan_ = (_inplace_method(n) for n in (
        "sinh", "cosh", "asinh", "acosh", "atanh", "asin", "acos", "atan"))
    erf_, erfc_, erfinv_, lgamma_, digamma_, polygamma_, logit_ = (_inplace_method(n) for n in (
        "erf", "erfc", "erfinv", "lgamma", "digamma", "polygamma", "logit"))
    sign_, sgn_, floor_, ceil_, trunc_, round_, frac_, nan_to_num_ = (_inplace_method(n) for n in (
        "sign", "sgn", "floor", "ceil", "trunc", "round", "frac", "nan_to_num"))
    clamp_, clip_, clamp_min_, clamp_max_, deg2rad_, rad2deg_ = (_inplace_method(n) for n in (
        "clamp", "clip", "clamp_min", "clamp_max", "deg2rad", "rad2deg"))

    # --- dtypes ----------------------------------------------------------------------------------
    def astype(self, dtype):
        """Convert to ``dtype`` (differentiable between float types)."""
        dtype = as_dtype(dtype)
        if dtype == self.data.dtype:
            return self
        if dtype.kind not in "fc":
            return tensors.Tensor._make(self.data.astype(dtype))
        return elementwise.Cast.apply(self, dtype)

    def to(self, *args, dtype=None, device=None, copy=False, non_blocking=False):
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other)`` (its dtype), as PyTorch.

        Only the CPU exists here: ``to('cpu')`` is a no-op and another device is a RuntimeError.
        """
        for a in args:
            if isinstance(a, tensors.Tensor):
                dtype = a.data.dtype
            elif _is_device(a):
                device = a
            elif a is not None:
                dtype = a
        if device is not None:
            _check_cpu(device)
        out = self if dtype is None else self.astype(dtype)
        if copy and out is self:
            out = self.clone()
        return out

    def type(self, dtype=None, non_blocking=False):
        """With no argument, the legacy type name ('torch.FloatTensor'); else ``to(dtype)``."""
        if dtype is None:
            return _TYPE_NAMES.get(self.data.dtype.name, f"torch.{self.data.dtype.name}")
        return self.astype(dtype)

    def type_as(self, other):
        return self.astype(other.data.dtype)

    def float(self):
        return self.astype(np.float32)

    def double(self):
        return self.astype(np.float64)

    def half(self):
        return self.astype(np.float16)

    def bfloat16(self):
        raise TypeError("bfloat16: numpy has no bfloat16 dtype; use half() (float16) or float()")

    def long(self):
        return self.astype(np.int64)

    def int(self):
        return self.astype(np.int32)

    def short(self):
        return self.astype(np.int16)

    def char(self):
        return self.astype(np.int8)

    def byte(self):
        return self.astype(np.uint8)

    def bool(self):
        return self.astype(np.bool_)

    def cfloat(self):
        return self.astype(np.complex64)

    def cdouble(self):
        return self.astype(np.complex128)

    def is_floating_point(self):
        return self.data.dtype.kind == "f"

    def is_complex(self):
        return self.data.dtype.kind == "c"

    def element_size(self):
        return self.data.dtype.itemsize

    def cpu(self):
        return self

    @property
    def device(self):
        return "cpu"

    @property
    def is_cuda(self):
        return False

    def clone(self):
        return self * 1 if self._requires_grad else tensors.Tensor._make(self.data.copy())
