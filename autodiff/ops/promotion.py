"""PyTorch's type promotion for numpy operands, and the default float dtype.

torch sorts operands into three tiers and lets a lower tier change the result only when it brings a
higher category (bool < integer < float < complex):

1. tensors with at least one dimension (here: ndarrays with ``ndim > 0``);
2. zero-dimensional tensors (0-d ndarrays);
3. Python numbers and numpy scalars ("wrapped numbers"): a float gives the default float dtype, an
   int ``int64``, a complex the default complex dtype.

So ``int_tensor + 1.5`` is float32, ``float32_tensor + float64_0d_tensor`` is float32 and
``int32_tensor + float64_0d_tensor`` is float64. Across categories the higher category's dtype wins
as it is (``float16 + int64`` is float16, where numpy would give float64).

The default float dtype is process-wide, as in PyTorch (``set_default_dtype``).
"""
import numpy as np

__all__ = ["get_default_dtype", "set_default_dtype", "promote_types", "result_type", "promote",
           "promote_args", "to_floating", "floating_dtype", "category"]

_ndarray = np.ndarray
_default_float = [np.dtype(np.float32)]
_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}
_FLOAT_TO_COMPLEX = {2: np.dtype(np.complex64), 4: np.dtype(np.complex64), 8: np.dtype(np.complex128)}


def get_default_dtype():
    """The dtype Python floats and float ops on integer tensors produce (float32 unless changed)."""
    return _default_float[0]


def set_default_dtype(dtype):
    """Set the default float dtype (float16, float32 or float64), for the whole process as in PyTorch.

    Raises:
        TypeError: for a dtype that is not a floating point type.
    """
    d = np.dtype(dtype)
    if d.kind != "f":
        raise TypeError(f"set_default_dtype: only floating-point types are supported as the default "
                        f"type, got {d}")
    _default_float[0] = d


def category(dtype):
    """0 bool, 1 integer, 2 float, 3 complex."""
    return _CATEGORY[dtype.kind]


def _default_complex():
    return _FLOAT_TO_COMPLEX[_default_float[0].itemsize]


def promote_types(a, b):
    """torch.promote_types: the dtype of ``a op b`` for two tensors of dtypes a and b."""
    a, b = np.dtype(a), np.dtype(b)
    if a == b:
        return a
    ca, cb = _CATEGORY[a.kind], _CATEGORY[b.kind]
    if ca == cb:
        return np.promote_types(a, b)
    if ca < cb:
        a, b, ca, cb = b, a, cb, ca
    if ca == 3 and cb == 2:  # complex with float: complex wide enough for the float
        return np.promote_types(a, _FLOAT_TO_COMPLEX[b.itemsize])
    return a


def _scalar_dtype(x):
    """The dtype a wrapped number stands for: bool, int64, the default float or complex."""
    if isinstance(x, (bool, np.bool_)):
        return np.dtype(np.bool_)
    if isinstance(x, (int, np.integer)):
        return np.dtype(np.int64)
    if isinstance(x, (float, np.floating)):
        return _default_float[0]
    if isinstance(x, (complex, np.complexfloating)):
        return _default_complex()
    return None


def result_type(*operands):
    """The dtype torch gives an op on these operands (ndarrays, 0-d arrays, Python or numpy scalars).

    ``None`` operands (absent optional arguments) are skipped.
    """
    dims = zero = wrapped = None
    for x in operands:
        if type(x) is _ndarray:
            d = x.dtype
            if x.ndim:
                dims = d if dims is None else promote_types(dims, d)
            else:
                zero = d if zero is None else promote_types(zero, d)
        elif x is not None:
            d = _scalar_dtype(x)
            if d is None:
                d = np.asarray(x).dtype
                dims = d if dims is None else promote_types(dims, d)
            else:
                wrapped = d if wrapped is None else (d if _CATEGORY[d.kind] > _CATEGORY[wrapped.kind]
                                                     else wrapped)
    out = dims
    if zero is not None and (out is None or _CATEGORY[zero.kind] > _CATEGORY[out.kind]):
        out = zero
    if wrapped is not None and (out is None or _CATEGORY[wrapped.kind] > _CATEGORY[out.kind]):
        out = wrapped
    return out


def promote(x, dtype):
    """``x`` ready for a numpy op computing in ``dtype``: arrays cast, numpy scalars made Python."""
    if type(x) is _ndarray:
        return x if x.dtype == dtype else x.astype(dtype)
    if isinstance(x, np.generic):
        return x.item()
    return x


def promote_args(*operands):
    """The operands converted so that a numpy ufunc on them gives torch's result dtype.

    Returns ``(dtype, converted operands)``. Same-dtype ndarrays pass through untouched (no copy).
    """
    a = operands[0]
    if len(operands) == 2 and type(a) is _ndarray:
        b = operands[1]
        tb = type(b)
        if tb is _ndarray:
            if a.dtype == b.dtype:
                return a.dtype, operands
        elif (tb is float and a.dtype.kind in "fc") or (tb is int and a.dtype.kind in "iufc"):
            return a.dtype, operands
    dtype = result_type(*operands)
    return dtype, tuple(promote(x, dtype) for x in operands)


def floating_dtype(dtype):
    """The dtype a float op (exp, sqrt, division ...) computes in: ints and bools use the default."""
    return dtype if dtype.kind in "fc" else _default_float[0]


def to_floating(a):
    """``a`` as an array of a floating dtype (integer and bool inputs become the default float)."""
    if type(a) is _ndarray:
        if a.dtype.kind in "fc":
            return a
        return a.astype(_default_float[0])
    a = np.asarray(a)
    return a if a.dtype.kind in "fc" else a.astype(_default_float[0])
