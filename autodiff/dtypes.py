"""PyTorch's dtype names as numpy dtypes (``autodiff.float32 == numpy.dtype('float32')``), and the type
promotion functions.

numpy has no bfloat16 or quantized types, so those names do not exist here.
"""
import numpy as np

from .ops.promotion import get_default_dtype, promote_types, result_type as _result_type, set_default_dtype

float16 = half = np.dtype(np.float16)
float32 = float = np.dtype(np.float32)
float64 = double = np.dtype(np.float64)
complex64 = cfloat = np.dtype(np.complex64)
complex128 = cdouble = np.dtype(np.complex128)
uint8 = np.dtype(np.uint8)
int8 = np.dtype(np.int8)
int16 = short = np.dtype(np.int16)
int32 = int = np.dtype(np.int32)
int64 = long = np.dtype(np.int64)
bool = np.dtype(np.bool_)

__all__ = ["float16", "half", "float32", "float", "float64", "double", "complex64", "cfloat", "complex128",
           "cdouble", "uint8", "int8", "int16", "short", "int32", "int", "int64", "long", "bool",
           "get_default_dtype", "set_default_dtype", "promote_types", "result_type", "can_cast",
           "is_floating_point", "is_tensor"]


def result_type(tensor1, tensor2):
    """The dtype of an op on these two operands (tensors or numbers), by PyTorch's promotion rules."""
    return _result_type(*(getattr(t, "data", t) for t in (tensor1, tensor2)))


def can_cast(from_, to):
    """True when PyTorch's casting rules allow an in-place result of dtype ``from_`` into ``to``."""
    return np.can_cast(np.dtype(from_), np.dtype(to), casting="same_kind")


def is_floating_point(input):
    return input.data.dtype.kind == "f"


def is_tensor(obj):
    from .tensor import Tensor
    return isinstance(obj, Tensor)
