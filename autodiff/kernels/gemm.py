"""Matrix products: numpy's BLAS beside a tiled Numba GEMM, and a per-shape choice between them.

Measured on the development machine (``benchmarks/cases/conv.py``, rows ``conv.numba_gemm_*`` and
``conv.matmul_*``): the Numba kernel called directly beats BLAS only up to about 16x16x16 (BLAS pays
~1.5 us per call), and the Python-level dispatch eats most of that, so :func:`matmul` sends only
products of at most :data:`NUMBA_MAX_FLOPS` multiply-adds to it. Everything else goes to BLAS: on one
thread for small products, on all its threads for larger ones (large products run at BLAS speed).
:func:`linear_act` fuses bias and activation into one in-place Numba pass over the BLAS result, which
beat both three numpy passes and the fused Numba GEMM (``gemm(..., bias, activation)``) at every size
tried (4x4x4 to 64x64x32: 25-30% faster than numpy).

Shape:
    ``matmul``: ``(M, K) @ (K, N) -> (M, N)``; ``linear_act``: ``x (M, K)``, ``weight (N, K)``,
    ``bias (N,)`` -> ``(M, N)``.
"""
import ctypes
import glob
import math
import os
import time

import numpy as np

from .jit import njit_parallel, njit_serial, prange, run_kernel
from .vmath import vsigmoid

__all__ = ["matmul", "linear_act", "gemm", "bias_act_", "use_numba_gemm", "blas_matmul", "measure_crossover",
           "ACTIVATIONS", "NUMBA_MAX_FLOPS", "BLAS_THREADED_MIN_WORK"]

ACTIVATIONS = {None: 0, "identity": 0, "relu": 1, "tanh": 2, "sigmoid": 3}

# Products with at most this many multiply-adds (M*K*N) go to the Numba kernel. Measured with
# measure_crossover() and the conv.numba_gemm_* rows (2-core AMD EPYC, OpenBLAS 0.3.31, float32): the raw
# kernel ties BLAS (~1.5-2.5 us) up to 16x16x16 and loses beyond; through matmul()'s checks it wins
# only up to about 8x8x8.
NUMBA_MAX_FLOPS = 512

# BLAS runs on all its threads only for products of at least this many multiply-adds (M*K*N); smaller
# ones run on one thread, where waking the pool costs more than it saves. Measured on an idle 2-core
# AMD EPYC (OpenBLAS 0.3.31, float32): every LeNet product gains from the second thread, thin ones
# included ((20, 25) @ (25, 36864): 0.61 ms vs 0.88 ms; (50, 500) @ (500, 4096): 2.3 vs 3.3 ms;
# (64, 800) @ (800, 500): 0.41 vs 0.70 ms), while (64, 500) @ (500, 10) ties. (On a machine shared with
# other busy jobs the second thread can wait on a busy core; `--threads 1` in the benchmarks, or
# OPENBLAS_NUM_THREADS=1, is then the better setting.)
BLAS_THREADED_MIN_WORK = 1 << 20

_ROW_BLOCK = 4
_K_BLOCK = 128


@njit_serial
def _activate(v, act):
    if act == 1:
        return 0.0 if v <= 0 else v
    if act == 2:
        return math.tanh(v)
    if act == 3:
        return vsigmoid(v)
    return v


@njit_serial
def _gemm_kernel(a, b, bias, act, out):
    """``out = act(a @ b + bias)``; rows in blocks of 4 share each load of ``b``, ``K`` tiled for cache."""
    m, k = a.shape
    n = b.shape[1]
    for i in range(m):
        for j in range(n):
            out[i, j] = bias[j]
    for k0 in range(0, k, _K_BLOCK):
        k1 = min(k0 + _K_BLOCK, k)
        i = 0
        while i + _ROW_BLOCK <= m:
            for p in range(k0, k1):
                a0 = a[i, p]
                a1 = a[i + 1, p]
                a2 = a[i + 2, p]
                a3 = a[i + 3, p]
                for j in range(n):
                    bv = b[p, j]
                    out[i, j] += a0 * bv
                    out[i + 1, j] += a1 * bv
                    out[i + 2, j] += a2 * bv
                    out[i + 3, j] += a3 * bv
            i += _ROW_BLOCK
        for r in range(i, m):
            for p in range(k0, k1):
                av = a[r, p]
                for j in range(n):
                    out[r, j] += av * b[p, j]
    if act != 0:
        for i in range(m):
            for j in range(n):
                out[i, j] = _activate(out[i, j], act)


@njit_serial
def _bias_act_row(y, bias, act, i):
    row = y[i]
    if act == 0:
        for j in range(row.shape[0]):
            row[j] += bias[j]
    elif act == 1:
        for j in range(row.shape[0]):
            v = row[j] + bias[j]
            row[j] = 0 if v <= 0 else v
    else:
        for j in range(row.shape[0]):
            row[j] = _activate(row[j] + bias[j], act)


@njit_parallel
def _bias_act_parallel(y, bias, act):
    for i in prange(y.shape[0]):
        _bias_act_row(y, bias, act, i)


@njit_serial
def _bias_act_serial(y, bias, act):
    for i in range(y.shape[0]):
        _bias_act_row(y, bias, act, i)


def _find_openblas_thread_setter():
    """``openblas_set_num_threads_local`` of the OpenBLAS numpy loaded (thread-local, returns the old
    count), or None when numpy uses another BLAS: then every product simply uses BLAS's own setting."""
    candidates = []
    try:
        with open("/proc/self/maps") as maps:
            candidates = sorted({line.split()[-1] for line in maps if "openblas" in line.lower() and ".so" in line})
    except OSError:
        pass
    candidates += glob.glob(os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs", "*openblas*.so*"))
    for path in candidates:
        try:
            fn = ctypes.CDLL(path).openblas_set_num_threads_local
        except (OSError, AttributeError):
            continue
        fn.argtypes = [ctypes.c_int]
        fn.restype = ctypes.c_int
        return fn
    return None


_set_blas_threads_local = _find_openblas_thread_setter()


def blas_matmul(a, b, single_thread=None):
    """``np.matmul(a, b)``; small products (under :data:`BLAS_THREADED_MIN_WORK` multiply-adds) run BLAS on
    one thread, larger ones on all of BLAS's threads. ``single_thread`` overrides the choice.

    Shape:
        as ``np.matmul``.
    """
    if single_thread is None:
        single_thread = (a.shape[-2] if a.ndim > 1 else 1) * a.shape[-1] * (b.shape[-1] if b.ndim > 1 else 1) \
            < BLAS_THREADED_MIN_WORK
    if not single_thread or _set_blas_threads_local is None:
        return np.matmul(a, b)
    old = _set_blas_threads_local(1)
    try:
        return np.matmul(a, b)
    finally:
        _set_blas_threads_local(old)


def _check_pair(name, a, b):
    if a.ndim != 2 or b.ndim != 2:
        raise ValueError(f"{name}: expected 2-d arrays, got shapes {a.shape} and {b.shape}")
    if a.shape[1] != b.shape[0]:
        raise ValueError(f"{name}: inner dimensions differ: {a.shape} @ {b.shape}")


def gemm(a, b, bias=None, activation=None):
    """``act(a @ b + bias)`` with the Numba kernel (any size; slow for large ones: use :func:`matmul`).

    Shape:
        ``(M, K) @ (K, N)``, bias ``(N,)`` -> ``(M, N)``.
    """
    a = np.asarray(a)
    b = np.asarray(b)
    _check_pair("gemm", a, b)
    dtype = np.result_type(a.dtype, b.dtype, np.float32)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"gemm: expected float arrays, got dtypes {a.dtype} and {b.dtype}")
    act = _act_code("gemm", activation)
    a = np.ascontiguousarray(a, dtype=dtype)
    b = np.ascontiguousarray(b, dtype=dtype)
    bias = _bias_vector("gemm", bias, b.shape[1], dtype)
    out = np.empty((a.shape[0], b.shape[1]), dtype=dtype)
    _gemm_kernel(a, b, bias, act, out)
    return out


def _act_code(name, activation):
    try:
        return ACTIVATIONS[activation]
    except (KeyError, TypeError):
        raise ValueError(f"{name}: unknown activation {activation!r}; expected one of "
                         f"{sorted(k for k in ACTIVATIONS if k)} or None") from None


def _bias_vector(name, bias, n, dtype):
    if bias is None:
        return np.zeros(n, dtype=dtype)
    bias = np.ascontiguousarray(bias, dtype=dtype)
    if bias.shape != (n,):
        raise ValueError(f"{name}: bias has shape {bias.shape}, expected {(n,)}")
    return bias


def use_numba_gemm(m, k, n):
    """True if the Numba kernel beats BLAS for an ``(m, k) @ (k, n)`` product on this machine."""
    return m * k * n <= NUMBA_MAX_FLOPS


@njit_serial
def _gemm_plain(a, b):
    out = np.empty((a.shape[0], b.shape[1]), a.dtype)
    _gemm_kernel(a, b, np.zeros(b.shape[1], a.dtype), 0, out)
    return out


_FLOAT_TYPES = (np.dtype(np.float32), np.dtype(np.float64))


def matmul(a, b):
    """``a @ b`` for 2-d float arrays, by BLAS or by the Numba kernel, whichever is faster at this shape.

    Tiny products go to the Numba kernel, small ones to BLAS on one thread, larger ones to BLAS on all its
    threads (:func:`blas_matmul`). Anything else (stacked, 1-d, integer, mixed dtypes) goes to ``np.matmul``.
    Kept lean: at the crossover a call is ~1.5 us, so every attribute lookup counts.

    Shape:
        ``(M, K) @ (K, N) -> (M, N)``.
    """
    if a.ndim == 2 and b.ndim == 2:
        m, k = a.shape
        n = b.shape[1]
        if m * k * n <= NUMBA_MAX_FLOPS and k == b.shape[0] and a.dtype == b.dtype and a.dtype in _FLOAT_TYPES:
            return _gemm_plain(a, b)
        if m * k * n < BLAS_THREADED_MIN_WORK and _set_blas_threads_local is not None:
            old = _set_blas_threads_local(1)
            try:
                return np.matmul(a, b)
            finally:
                _set_blas_threads_local(old)
    return np.matmul(a, b)


def bias_act_(y, bias=None, activation=None):
    """In place: ``y = act(y + bias)`` over a C-contiguous 2-d array, one parallel pass. Returns ``y``.

    Shape:
        ``y (M, N)``, bias ``(N,)``.
    """
    if y.ndim != 2 or not y.flags.c_contiguous:
        raise ValueError(f"bias_act_: expected a C-contiguous 2-d array, got shape {y.shape}")
    act = _act_code("bias_act_", activation)
    bias = _bias_vector("bias_act_", bias, y.shape[1], y.dtype)
    run_kernel(_bias_act_serial, _bias_act_parallel, y.size, y, bias, act)
    return y


def linear_act(x, weight, bias=None, activation=None):
    """``act(x @ weight.T + bias)``, PyTorch's ``Linear`` layout, bias and activation fused into one pass.

    Args:
        x: ``(M, K)`` float array.
        weight: ``(N, K)`` (PyTorch layout).
        bias: ``(N,)`` or None.
        activation: None, ``"relu"``, ``"tanh"`` or ``"sigmoid"``.

    Shape:
        ``(M, K)``, ``(N, K)``, ``(N,)`` -> ``(M, N)``.
    """
    x = np.asarray(x)
    weight = np.asarray(weight)
    if x.ndim != 2 or weight.ndim != 2 or x.shape[1] != weight.shape[1]:
        raise ValueError(f"linear_act: input {x.shape} and weight {weight.shape} do not fit "
                         f"(expected (M, K) and (N, K))")
    y = matmul(x, weight.T)
    if bias is None and activation in (None, "identity"):
        return y
    if not y.flags.c_contiguous:
        y = np.ascontiguousarray(y)
    return bias_act_(y, bias, activation)


def measure_crossover(dtype=np.float32, sizes=(2, 4, 8, 12, 16, 24, 32, 48, 64, 96, 128), repeat=200):
    """Time square products with both paths; returns ``[(size, blas_seconds, numba_seconds), ...]``.

    Used by the benchmark to show (and to re-derive) :data:`NUMBA_MAX_FLOPS`.
    """
    rng = np.random.default_rng(0)
    rows = []
    for s in sizes:
        a = rng.standard_normal((s, s)).astype(dtype)
        b = rng.standard_normal((s, s)).astype(dtype)
        zero = np.zeros(s, dtype)
        out = np.empty((s, s), dtype)
        np.matmul(a, b)
        _gemm_kernel(a, b, zero, 0, out)
        best = []
        for fn in (lambda: np.matmul(a, b), lambda: _gemm_kernel(a, b, zero, 0, np.empty((s, s), dtype))):
            t = time.perf_counter()
            for _ in range(repeat):
                fn()
            best.append((time.perf_counter() - t) / repeat)
        rows.append((s, best[0], best[1]))
    return rows
