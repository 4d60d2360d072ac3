"""Tensor construction and the seeded global random generator."""
import numpy as np

from .errors import ShapeError
from .ops.promotion import get_default_dtype
from .tensor import Tensor

_generator = np.random.default_rng(0)


def manual_seed(seed):
    """Seed the global generator used by ``rand``, ``randn``, initialisers and dropout."""
    global _generator
    _generator = np.random.default_rng(int(seed))
    return _generator


def default_generator():
    """The global ``numpy.random.Generator`` (re-created by ``manual_seed``)."""
    return _generator


def _shape(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        return tuple(int(s) for s in size[0])
    return tuple(int(s) for s in size)


def _dtype(dtype, default=None):
    """``dtype`` as a numpy dtype; None gives ``default`` or else the default float dtype."""
    if dtype is None:
        return np.dtype(get_default_dtype() if default is None else default)
    from .methods.math import as_dtype
    return as_dtype(dtype)


def _python_floats(data):
    """True when nested lists/tuples hold a Python float (such data take the default float dtype)."""
    if isinstance(data, float):
        return True
    if isinstance(data, (list, tuple)):
        return any(_python_floats(v) for v in data)
    return False


def tensor(data, dtype=None, requires_grad=False):
    """A new tensor holding a copy of ``data`` (Python floats take the default float dtype, float32
    unless ``set_default_dtype`` changed it, as PyTorch)."""
    if isinstance(data, Tensor):
        data = data.data
    arr = np.array(data, copy=True) if isinstance(data, np.ndarray) else data
    if dtype is None and not isinstance(arr, np.ndarray) and _python_floats(arr):
        dtype = get_default_dtype()
    return Tensor(arr, requires_grad=requires_grad, dtype=None if dtype is None else _dtype(dtype))


def zeros(*size, dtype=None, requires_grad=False):
    return Tensor(np.zeros(_shape(size), _dtype(dtype)), requires_grad=requires_grad)


def ones(*size, dtype=None, requires_grad=False):
    return Tensor(np.ones(_shape(size), _dtype(dtype)), requires_grad=requires_grad)


def full(size, fill_value, dtype=None, requires_grad=False):
    size = (size,) if isinstance(size, int) else tuple(size)
    if dtype is None:
        dtype = get_default_dtype() if isinstance(fill_value, float) else (
            np.bool_ if isinstance(fill_value, bool) else np.int64)
    return Tensor(np.full(size, fill_value, _dtype(dtype)), requires_grad=requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False):
    """Like PyTorch: integers give int64, any float argument gives the default float dtype."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        dtype = get_default_dtype() if any(isinstance(v, float) for v in (start, end, step)) else np.int64
    return Tensor(np.arange(start, end, step, dtype=_dtype(dtype)), requires_grad=requires_grad)


def linspace(start, end, steps, dtype=None, requires_grad=False):
    """``steps`` evenly spaced values from start to end, computed in float64 and then converted to
    ``dtype`` (an integer dtype truncates toward zero, as PyTorch)."""
    values = np.linspace(float(start), float(end), int(steps), dtype=np.float64)
    return Tensor(values.astype(_dtype(dtype)), requires_grad=requires_grad)


def eye(n, m=None, dtype=None, requires_grad=False):
    return Tensor(np.eye(n, m, dtype=_dtype(dtype)), requires_grad=requires_grad)


def rand(*size, dtype=None, requires_grad=False, generator=None):
    """Uniform [0, 1) samples from the global generator (or ``generator``)."""
    g = generator if generator is not None else _generator
    return Tensor(g.random(_shape(size), dtype=np.float64).astype(_dtype(dtype)), requires_grad=requires_grad)


def randn(*size, dtype=None, requires_grad=False, generator=None):
    """Standard normal samples from the global generator (or ``generator``)."""
    g = generator if generator is not None else _generator
    return Tensor(g.standard_normal(_shape(size)).astype(_dtype(dtype)), requires_grad=requires_grad)


def randint(low, high=None, size=(), dtype=np.int64, generator=None):
    g = generator if generator is not None else _generator
    if high is None:
        low, high = 0, low
    return Tensor(g.integers(low, high, size=tuple(size) if not isinstance(size, int) else (size,),
                             dtype=np.dtype(dtype)))


def zeros_like(t, dtype=None, requires_grad=False):
    t = t.data if isinstance(t, Tensor) else np.asarray(t)
    return Tensor(np.zeros(t.shape, dtype or t.dtype), requires_grad=requires_grad)


def ones_like(t, dtype=None, requires_grad=False):
    t = t.data if isinstance(t, Tensor) else np.asarray(t)
    return Tensor(np.ones(t.shape, dtype or t.dtype), requires_grad=requires_grad)


def full_like(t, fill_value, dtype=None, requires_grad=False):
    t = t.data if isinstance(t, Tensor) else np.asarray(t)
    return Tensor(np.full(t.shape, fill_value, dtype or t.dtype), requires_grad=requires_grad)


def from_numpy(ndarray):
    """A tensor sharing ``ndarray``'s memory and keeping its dtype (as ``torch.from_numpy``)."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray (got {type(ndarray).__name__})")
    return Tensor(ndarray)


def as_tensor(data, dtype=None):
    """``data`` as a tensor without a copy when it already is one (or an ndarray of that dtype)."""
    if isinstance(data, Tensor) and (dtype is None or _dtype(dtype) == data.dtype):
        return data
    if isinstance(data, np.ndarray):
        return Tensor(data if dtype is None else data.astype(_dtype(dtype), copy=False))
    return tensor(data, dtype=dtype)


def logspace(start, end, steps, base=10.0, dtype=None, requires_grad=False):
    """``base ** linspace(start, end, steps)``, computed in float64 then converted (as PyTorch)."""
    values = np.power(float(base), np.linspace(float(start), float(end), int(steps), dtype=np.float64))
    return Tensor(values.astype(_dtype(dtype)), requires_grad=requires_grad)


def randperm(n, generator=None, dtype=np.int64, requires_grad=False):
    """A random permutation of ``0 .. n-1`` (int64)."""
    g = generator if generator is not None else _generator
    return Tensor(g.permutation(int(n)).astype(_dtype(dtype)), requires_grad=requires_grad)


def normal(mean=0.0, std=1.0, size=None, generator=None, dtype=None, requires_grad=False):
    """Normal samples; ``mean``/``std`` numbers with ``size``, or tensors broadcast together."""
    g = generator if generator is not None else _generator
    m = mean.data if isinstance(mean, Tensor) else mean
    s = std.data if isinstance(std, Tensor) else std
    if size is None:
        shape = np.broadcast_shapes(np.shape(m), np.shape(s))
        if dtype is None:
            dtype = next((x.dtype for x in (m, s) if isinstance(x, np.ndarray) and x.dtype.kind == "f"), None)
    else:
        shape = _shape((size,) if isinstance(size, int) else tuple(size))
    if np.any(np.asarray(s) < 0):
        raise ShapeError(f"normal: std must be >= 0, got {s}")
    out = g.normal(size=shape) * s + m
    return Tensor(np.asarray(out).astype(_dtype(dtype)), requires_grad=requires_grad)


def bernoulli(input, p=None, generator=None):
    """1 with probability ``input`` (or ``p``), else 0, elementwise; same shape and dtype as input."""
    g = generator if generator is not None else _generator
    probs = input.data if isinstance(input, Tensor) else np.asarray(input)
    prob = probs if p is None else np.full(probs.shape, float(p))
    if np.any((prob < 0) | (prob > 1)):
        raise ShapeError("bernoulli: probabilities must be in [0, 1]")
    return Tensor((g.random(probs.shape) < prob).astype(probs.dtype if probs.dtype.kind == "f" else np.float32))


def multinomial(input, num_samples, replacement=False, generator=None):
    """Indices drawn from each row's (unnormalised, non-negative) weights (int64, as PyTorch)."""
    g = generator if generator is not None else _generator
    w = np.asarray(input.data if isinstance(input, Tensor) else input, dtype=np.float64)
    if w.ndim not in (1, 2):
        raise ShapeError(f"multinomial: input must be 1-d or 2-d, got shape {w.shape}")
    rows = w.reshape(-1, w.shape[-1])
    if np.any(rows < 0) or np.any(rows.sum(axis=1) <= 0):
        raise ShapeError("multinomial: weights must be non-negative with a positive sum in every row")
    n = int(num_samples)
    if not replacement and n > int((rows > 0).sum(axis=1).min()):
        raise ShapeError(f"multinomial: cannot draw {n} samples without replacement from a row with "
                         f"{int((rows > 0).sum(axis=1).min())} categories of non-zero weight")
    out = np.stack([g.choice(rows.shape[1], size=n, replace=bool(replacement), p=r / r.sum()) for r in rows])
    return Tensor(out.reshape(w.shape[:-1] + (n,)).astype(np.int64))
