"""Random pooling / convolution / im2col configurations run through the Numba kernels and compared with
the numpy references (``autodiff/kernels/reference.py``).

Run by ``test_kernel_bounds.py`` in a fresh process with ``AUTODIFF_NUMBA_BOUNDSCHECK=1``: every array
access in the kernels is then bounds-checked, so a read or write outside an array raises IndexError
instead of corrupting memory. Usage: ``python kernel_sweep.py SEED N_CASES``; prints one line
``ok <cases> <windows without a real element>`` or raises.
"""
import sys

import numpy as np

from autodiff.kernels import im2col
from autodiff.kernels import jit
from autodiff.kernels import pool
from autodiff.kernels import reference
from autodiff.kernels.pool import pool_output_size


def _pool_config(rng):
    n, c = int(rng.choice([0, 1, 2])), int(rng.choice([0, 1, 3]))
    h, w = (int(rng.integers(1, 8)) for _ in range(2))
    k = tuple(int(rng.integers(1, 4)) for _ in range(2))
    s = tuple(int(rng.integers(1, 4)) for _ in range(2))
    p = tuple(int(rng.integers(0, kk // 2 + 1)) for kk in k)
    d = tuple(int(rng.integers(1, 4)) for _ in range(2))
    return (n, c, h, w), k, s, p, d, bool(rng.integers(0, 2))


def _fits(shape, k, s, p, d, ceil_mode):
    return all(pool_output_size(shape[2 + a], k[a], s[a], p[a], d[a], ceil_mode) >= 1 for a in range(2))


def check_max_pool(rng, shape, k, s, p, d, ceil_mode, dtype):
    x = (rng.permutation(max(1, int(np.prod(shape))))[:int(np.prod(shape))].reshape(shape) / 7.0).astype(dtype)
    out, idx = pool.max_pool2d_forward(x, k, s, p, d, ceil_mode)
    ref_out, ref_idx = reference.max_pool2d(x, k, s, p, d, ceil_mode)
    np.testing.assert_array_equal(out, ref_out)
    np.testing.assert_array_equal(idx, ref_idx)
    g = rng.standard_normal(out.shape).astype(dtype)
    np.testing.assert_allclose(pool.max_pool2d_backward(g, idx, shape), reference.max_pool2d_backward(g, ref_idx, shape),
                               rtol=1e-6, atol=1e-6)
    return int((ref_idx < 0).sum())


def check_avg_pool(rng, shape, k, s, p, ceil_mode, dtype):
    x = rng.standard_normal(shape).astype(dtype)
    for include in (True, False):
        out = pool.avg_pool2d_forward(x, k, s, p, ceil_mode, include)
        np.testing.assert_allclose(out, reference.avg_pool2d(x, k, s, p, ceil_mode, include), rtol=1e-5, atol=1e-6)
        g = rng.standard_normal(out.shape).astype(dtype)
        np.testing.assert_allclose(pool.avg_pool2d_backward(g, shape, k, s, p, include),
                                   reference.avg_pool2d_backward(g, shape, k, s, p, ceil_mode, include),
                                   rtol=1e-5, atol=1e-6)


def check_adaptive(rng, shape, dtype):
    out_size = tuple(int(rng.integers(1, 2 * shape[2 + a] + 1)) for a in range(2))
    x = rng.standard_normal(shape).astype(dtype)
    out = pool.adaptive_avg_pool2d_forward(x, out_size)
    np.testing.assert_allclose(out, reference.adaptive_avg_pool2d(x, out_size), rtol=1e-5, atol=1e-6)
    g = rng.standard_normal(out.shape).astype(dtype)
    np.testing.assert_allclose(pool.adaptive_avg_pool2d_backward(g, shape), reference.adaptive_avg_pool2d_backward(g, shape),
                               rtol=1e-5, atol=1e-6)


def check_im2col(rng, shape, k, s, p, d, dtype):
    x = rng.standard_normal(shape).astype(dtype)
    cols = im2col.im2col(x, k, s, p, d)
    np.testing.assert_array_equal(cols, reference.im2col(x, k, s, p, d))
    g = rng.standard_normal(cols.shape).astype(dtype)
    np.testing.assert_allclose(im2col.col2im(g, shape, k, s, p, d), reference.col2im(g, shape, k, s, p, d), rtol=1e-5, atol=1e-5)
    # the layout passes around the convolution's GEMM, with an empty batch too
    out_ch = int(rng.integers(1, 4))
    plane = cols.shape[1] // shape[0] if shape[0] else 3
    rows = rng.standard_normal((out_ch, shape[0] * plane)).astype(dtype)
    bias = rng.standard_normal(out_ch).astype(dtype)
    nchw = im2col.rows_to_nchw(rows, shape[0], bias, plane=plane)
    np.testing.assert_array_equal(nchw, rows.reshape(out_ch, shape[0], plane).transpose(1, 0, 2) + bias[:, None])
    back, bsum = im2col.nchw_to_rows(nchw)
    np.testing.assert_array_equal(back, rows + bias[:, None])
    np.testing.assert_allclose(bsum, (rows + bias[:, None]).sum(axis=1), rtol=1e-5, atol=1e-5)


def check_parallel_drivers(rng, dtype):
    """The prange drivers run only on large inputs in ordinary use; call them directly on small ones."""
    shape, k, s, p, d, ceil_mode = (2, 3, 5, 6), (3, 2), (2, 1), (1, 1), (2, 3), True
    x = rng.standard_normal(shape).astype(dtype)
    oh, ow = (pool_output_size(shape[2 + a], k[a], s[a], p[a], d[a], ceil_mode) for a in range(2))
    out = np.empty(shape[:2] + (oh, ow), dtype)
    idx = np.empty(out.shape, np.int32)
    pool._max_forward_parallel(x, out, idx, *k, *s, *p, *d)
    ref_out, ref_idx = reference.max_pool2d(x, k, s, p, d, ceil_mode)
    np.testing.assert_array_equal(out, ref_out)
    dx = np.empty(shape, dtype)
    g = rng.standard_normal(out.shape).astype(dtype)
    pool._max_backward_parallel(g, idx, dx)
    np.testing.assert_allclose(dx, reference.max_pool2d_backward(g, ref_idx, shape), rtol=1e-6, atol=1e-6)
    kc, sc, pc, dc = (2, 3), (1, 2), (1, 0), (2, 1)
    ohc, owc = (im2col.conv_output_size(shape[2 + a], kc[a], sc[a], pc[a], dc[a]) for a in range(2))
    cols = np.empty((shape[1] * kc[0] * kc[1], shape[0] * ohc * owc), dtype)
    im2col._im2col_parallel(x, cols, *kc, *sc, *pc, *dc, ohc, owc, 2)
    np.testing.assert_array_equal(cols, reference.im2col(x, kc, sc, pc, dc))
    dxc = np.zeros(shape, dtype)
    im2col._col2im_parallel(cols, dxc, *kc, *sc, *pc, *dc, ohc, owc, 2)
    np.testing.assert_allclose(dxc, reference.col2im(cols, shape, kc, sc, pc, dc), rtol=1e-5, atol=1e-5)


def check_switch_is_on():
    """An undersized output must raise IndexError here (it would be written past its end otherwise)."""
    x = np.ones((1, 1, 4, 4), np.float32)
    cols = np.empty((4, 8), np.float32)      # (1 * 2 * 2, 1 * 3 * 3) would be right
    try:
        im2col._im2col_serial_valid(x, cols, 2, 2, 1, 1, 0, 0, 1, 1, 3, 3, 1)
    except IndexError:
        return
    raise AssertionError("bounds checking is off: an out-of-bounds write went unnoticed")


def sweep(seed, n_cases):
    """Run ``n_cases`` random configurations (plus fixed edge cases); return (cases, empty windows)."""
    assert jit.BOUNDSCHECK, "run with AUTODIFF_NUMBA_BOUNDSCHECK=1"
    check_switch_is_on()
    rng = np.random.default_rng(seed)
    # the configuration of issue 17: windows covering only padding and rows past a height-1 plane
    empty = check_max_pool(rng, (2, 2, 1, 8), (3, 3), (3, 3), (1, 1), (2, 1), True, np.float32)
    assert empty > 0
    done = 1
    while done < n_cases:
        shape, k, s, p, d, ceil_mode = _pool_config(rng)
        if not _fits(shape, k, s, p, d, ceil_mode):
            continue
        dtype = np.float32  # array bounds do not depend on the dtype; one dtype compiles each kernel once
        empty += check_max_pool(rng, shape, k, s, p, d, ceil_mode, dtype)
        if _fits(shape, k, s, p, (1, 1), ceil_mode):
            check_avg_pool(rng, shape, k, s, p, ceil_mode, dtype)
        if all(shape[2 + a] + 2 * p[a] >= d[a] * (k[a] - 1) + 1 for a in range(2)):
            check_im2col(rng, shape, k, s, p, d, dtype)
        check_adaptive(rng, shape, dtype)
        done += 1
    check_parallel_drivers(rng, np.float32)
    return done, empty


if __name__ == "__main__":
    cases, empty = sweep(int(sys.argv[1]), int(sys.argv[2]))
    print(f"ok {cases} {empty}")
