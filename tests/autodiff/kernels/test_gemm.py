"""Numba GEMM, the BLAS/Numba dispatcher and fused bias+activation against numpy references."""
import numpy as np
import pytest

from autodiff.kernels import gemm
from autodiff.kernels import reference


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("m, k, n", [(1, 1, 1), (3, 5, 7), (4, 4, 4), (9, 130, 6), (17, 3, 33), (64, 20, 10)])
def test_gemm_kernel_matches_reference(rng, dtype, m, k, n):
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((k, n)).astype(dtype)
    got = gemm.gemm(a, b)
    assert got.dtype == dtype
    tol = 1e-4 if dtype == np.float32 else 1e-11
    np.testing.assert_allclose(got, reference.matmul(a, b), rtol=tol, atol=tol * np.sqrt(k))


@pytest.mark.parametrize("activation", [None, "relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("m, k, n", [(5, 7, 3), (40, 60, 30)])  # Numba path and BLAS path
def test_linear_act_fused(rng, activation, m, k, n):
    x = rng.standard_normal((m, k))
    w = rng.standard_normal((n, k))
    b = rng.standard_normal(n)
    np.testing.assert_allclose(gemm.linear_act(x, w, b, activation), reference.linear_act(x, w, b, activation),
                               rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(gemm.linear_act(x, w, None, activation), reference.linear_act(x, w, None, activation),
                               rtol=1e-10, atol=1e-10)


def test_gemm_handles_transposed_views(rng):
    a = rng.standard_normal((6, 4))
    b = rng.standard_normal((5, 6))
    np.testing.assert_allclose(gemm.gemm(a.T, b.T), a.T @ b.T, rtol=1e-12)
    np.testing.assert_allclose(gemm.matmul(a.T, b.T), a.T @ b.T, rtol=1e-12)


@pytest.mark.parametrize("shape_a, shape_b", [((3, 4), (4, 2)), ((100, 80), (80, 90)), ((2, 3, 4), (4, 5)),
                                              ((4,), (4, 3))])
def test_matmul_dispatch_agrees_with_numpy(rng, shape_a, shape_b):
    a = rng.standard_normal(shape_a).astype(np.float32)
    b = rng.standard_normal(shape_b).astype(np.float32)
    np.testing.assert_allclose(gemm.matmul(a, b), np.matmul(a, b), rtol=1e-4, atol=1e-4)


def test_dispatch_sends_small_to_numba_and_large_to_blas():
    assert gemm.use_numba_gemm(4, 4, 4)
    assert not gemm.use_numba_gemm(64, 800, 500)
    assert not gemm.use_numba_gemm(1000, 1000, 1000)


def test_relu_keeps_nan_and_zeroes_negatives():
    y = np.array([[np.nan, -np.inf, -1.0, 2.0]])
    gemm.bias_act_(y, None, "relu")
    assert np.isnan(y[0, 0]) and list(y[0, 1:]) == [0.0, 0.0, 2.0]


def test_gemm_errors():
    with pytest.raises(ValueError, match=r"gemm: inner dimensions differ: \(2, 3\) @ \(4, 5\)"):
        gemm.gemm(np.zeros((2, 3)), np.zeros((4, 5)))
    with pytest.raises(ValueError, match="unknown activation 'gelu'"):
        gemm.linear_act(np.zeros((2, 3)), np.zeros((4, 3)), None, "gelu")
    with pytest.raises(ValueError, match=r"bias has shape \(3,\), expected \(4,\)"):
        gemm.linear_act(np.zeros((2, 3)), np.zeros((4, 3)), np.zeros(3), "relu")
    with pytest.raises(ValueError, match=r"linear_act: input \(2, 3\) and weight \(4, 2\)"):
        gemm.linear_act(np.zeros((2, 3)), np.zeros((4, 2)))
