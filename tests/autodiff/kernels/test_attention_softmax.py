"""The one-pass backward of attention's softmax against the numpy formula it replaces (serial and
parallel drivers alike)."""
import numpy as np
import pytest

from autodiff.kernels import attention as K
from autodiff.ops.attention import _softmax_numpy


def _scores(rng, dtype, shape=(3, 2, 5, 7)):
    s = rng.standard_normal(shape) * 3.0
    return s.astype(dtype)


@pytest.mark.parametrize("dtype,tol", [(np.float32, 2e-6), (np.float64, 1e-13)])
@pytest.mark.parametrize("driver", ["serial", "parallel"])
def test_backward_matches_numpy(rng, dtype, tol, driver):
    p = _softmax_numpy(_scores(rng, dtype), 1.0, None, None, np.dtype(dtype))
    gp = rng.standard_normal(p.shape).astype(dtype)
    want = 0.5 * (p * (gp - (gp * p).sum(-1, keepdims=True)))
    got = gp.copy()
    fn = K._bwd_serial if driver == "serial" else K._bwd_parallel
    fn(got.reshape(-1, p.shape[-1]), p.reshape(-1, p.shape[-1]), dtype(0.5))
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def test_wrapper_works_in_place(rng):
    p = _softmax_numpy(_scores(rng, np.float64), 1.0, None, None, np.dtype(np.float64))
    g = rng.standard_normal(p.shape)
    want = 2.0 * p * (g - (g * p).sum(-1, keepdims=True))
    assert K.softmax_backward_(g, p, 2.0) is g
    np.testing.assert_allclose(g, want, rtol=1e-12, atol=1e-14)
