"""Pooling kernels against their numpy references on the same random inputs (overlap, padding, ceil)."""
import numpy as np
import pytest

from autodiff.kernels import pool
from autodiff.kernels import reference

MAX_CASES = [
    # shape, kernel, stride, padding, dilation, ceil_mode
    ((2, 3, 8, 8), (2, 2), (2, 2), (0, 0), (1, 1), False),
    ((2, 3, 7, 9), (3, 3), (2, 2), (1, 1), (1, 1), False),    # overlapping windows + padding
    ((1, 2, 7, 8), (3, 2), (2, 1), (1, 1), (1, 2), True),     # dilation, ceil_mode
    ((2, 1, 5, 6), (3, 3), (1, 1), (1, 0), (1, 1), False),    # stride 1: heavy overlap
    ((1, 2, 1, 9), (1, 3), (1, 2), (0, 1), (1, 1), True),     # the 1-d case
]


def _distinct(rng, shape, dtype):
    """Values without ties (so the winner is unique), away from each other."""
    return (rng.permutation(int(np.prod(shape))).reshape(shape) / 7.0).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, kernel, stride, padding, dilation, ceil_mode", MAX_CASES)
def test_max_pool_forward_backward(rng, dtype, shape, kernel, stride, padding, dilation, ceil_mode):
    x = _distinct(rng, shape, dtype)
    out, idx = pool.max_pool2d_forward(x, kernel, stride, padding, dilation, ceil_mode)
    ref_out, ref_idx = reference.max_pool2d(x, kernel, stride, padding, dilation, ceil_mode)
    np.testing.assert_array_equal(out, ref_out)
    np.testing.assert_array_equal(idx, ref_idx)
    g = rng.standard_normal(out.shape).astype(dtype)
    np.testing.assert_allclose(pool.max_pool2d_backward(g, idx, shape), reference.max_pool2d_backward(g, ref_idx, shape),
                               rtol=1e-6, atol=1e-6)


def test_max_pool_padding_never_wins():
    """All-negative input: padded windows still pick a real (negative) value, like -inf padding."""
    x = -np.ones((1, 1, 3, 3), dtype=np.float32) - np.arange(9, dtype=np.float32).reshape(1, 1, 3, 3)
    out, _ = pool.max_pool2d_forward(x, (3, 3), (1, 1), (1, 1))
    assert out.max() < 0
    assert out[0, 0, 0, 0] == -1.0


AVG_CASES = [
    ((2, 3, 8, 8), (2, 2), (2, 2), (0, 0), False),
    ((2, 3, 7, 9), (3, 3), (2, 2), (1, 1), False),
    ((1, 2, 7, 8), (3, 2), (2, 1), (1, 1), True),
    ((1, 2, 1, 9), (1, 3), (1, 2), (0, 1), True),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("count_include_pad, divisor", [(True, None), (False, None), (True, 4)])
@pytest.mark.parametrize("shape, kernel, stride, padding, ceil_mode", AVG_CASES)
def test_avg_pool_forward_backward(rng, dtype, count_include_pad, divisor, shape, kernel, stride, padding,
                                   ceil_mode):
    x = rng.standard_normal(shape).astype(dtype)
    out = pool.avg_pool2d_forward(x, kernel, stride, padding, ceil_mode, count_include_pad, divisor)
    ref = reference.avg_pool2d(x, kernel, stride, padding, ceil_mode, count_include_pad, divisor)
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-6)
    g = rng.standard_normal(out.shape).astype(dtype)
    got = pool.avg_pool2d_backward(g, shape, kernel, stride, padding, count_include_pad, divisor)
    want = reference.avg_pool2d_backward(g, shape, kernel, stride, padding, ceil_mode, count_include_pad, divisor)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, out_size", [((2, 3, 7, 8), (3, 5)), ((1, 2, 5, 5), (1, 1)),
                                             ((1, 1, 4, 6), (4, 6)), ((2, 1, 3, 3), (5, 2))])
def test_adaptive_avg_pool(rng, dtype, shape, out_size):
    x = rng.standard_normal(shape).astype(dtype)
    out = pool.adaptive_avg_pool2d_forward(x, out_size)
    np.testing.assert_allclose(out, reference.adaptive_avg_pool2d(x, out_size), rtol=1e-5, atol=1e-6)
    g = rng.standard_normal(out.shape).astype(dtype)
    np.testing.assert_allclose(pool.adaptive_avg_pool2d_backward(g, shape), reference.adaptive_avg_pool2d_backward(g, shape),
                               rtol=1e-5, atol=1e-6)


def test_output_size_ceil_mode_rule():
    # the last window must start inside the input or the left padding
    assert pool.pool_output_size(7, 2, 2, 0, 1, False) == 3
    assert pool.pool_output_size(7, 2, 2, 0, 1, True) == 4
    assert pool.pool_output_size(6, 2, 2, 1, 1, True) == 4
    assert pool.pool_output_size(5, 3, 2, 1, 1, True) == 3


def test_pool_errors():
    with pytest.raises(ValueError, match=r"max_pool2d: expected a 4-d .* got shape \(4, 4\)"):
        pool.max_pool2d_forward(np.zeros((4, 4)), (2, 2), (2, 2))
    with pytest.raises(ValueError, match=r"padding \(2, 2\) must be at most half of kernel_size \(3, 3\)"):
        pool.max_pool2d_forward(np.zeros((1, 1, 4, 4)), (3, 3), (1, 1), (2, 2))
    with pytest.raises(ValueError, match=r"larger than the padded input \(2, 2\)"):
        pool.avg_pool2d_forward(np.zeros((1, 1, 2, 2)), (3, 3), (1, 1))


def test_parallel_drivers_match_reference(rng, monkeypatch):
    """The prange drivers (normally only for large inputs) against the references."""
    from autodiff.kernels import im2col, jit
    monkeypatch.setattr(jit, "PARALLEL_MIN_WORK", 0)
    monkeypatch.setattr(jit, "LAYOUT_PARALLEL_MIN_WORK", 0)
    shape, kernel, stride, padding = (2, 3, 7, 9), (3, 3), (2, 2), (1, 1)
    x = _distinct(rng, shape, np.float32)
    out, idx = pool.max_pool2d_forward(x, kernel, stride, padding)
    ref_out, ref_idx = reference.max_pool2d(x, kernel, stride, padding)
    np.testing.assert_array_equal(out, ref_out)
    np.testing.assert_array_equal(idx, ref_idx)
    g = rng.standard_normal(out.shape).astype(np.float32)
    np.testing.assert_allclose(pool.max_pool2d_backward(g, idx, shape), reference.max_pool2d_backward(g, ref_idx, shape),
                               rtol=1e-6)
    a = pool.avg_pool2d_forward(x, kernel, stride, padding)
    np.testing.assert_allclose(a, reference.avg_pool2d(x, kernel, stride, padding), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(pool.avg_pool2d_backward(g, shape, kernel, stride, padding),
                               reference.avg_pool2d_backward(g, shape, kernel, stride, padding), rtol=1e-5, atol=1e-6)
    ad_out = pool.adaptive_avg_pool2d_forward(x, (2, 3))
    np.testing.assert_allclose(ad_out, reference.adaptive_avg_pool2d(x, (2, 3)), rtol=1e-5, atol=1e-6)
    ga = rng.standard_normal(ad_out.shape).astype(np.float32)
    np.testing.assert_allclose(pool.adaptive_avg_pool2d_backward(ga, shape), reference.adaptive_avg_pool2d_backward(ga, shape),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kernel, stride", [((2, 2), (2, 2)), ((3, 3), (1, 1))])
def test_max_pool_nan_and_inf_follow_torch(kernel, stride):
    """NaN wins its window (PyTorch propagates NaN); +inf wins; -inf-only windows give -inf."""
    x = np.arange(36, dtype=np.float32).reshape(1, 1, 6, 6)
    x[0, 0, 1, 1] = np.nan
    x[0, 0, 4, 4] = np.inf
    out, idx = pool.max_pool2d_forward(x, kernel, stride)
    has_nan = reference.max_pool2d(np.isnan(x).astype(np.float32), kernel, stride)[0] > 0
    ref, _ = reference.max_pool2d(np.where(np.isnan(x), np.float32(-1), x), kernel, stride)
    np.testing.assert_array_equal(np.isnan(out), has_nan)
    np.testing.assert_array_equal(out[~has_nan], ref[~has_nan])
    assert idx[0, 0, 0, 0] == 7                    # the NaN's own position
    assert np.isinf(out).any()
    x2 = np.full((1, 1, 4, 4), -np.inf, dtype=np.float32)
    out2, _ = pool.max_pool2d_forward(x2, (2, 2), (2, 2))
    assert np.all(out2 == -np.inf)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, ceil_mode", [((3, 4, 24, 24), False), ((2, 3, 7, 9), False), ((2, 3, 7, 9), True)])
def test_max_pool_2x2_fast_path_ties_and_odd_sizes(rng, dtype, shape, ceil_mode):
    """The select-based 2x2 / stride-2 loop (odd sizes leave a row/column out; ceil_mode makes the last
    window hang over, which the general loop handles): few distinct values, so most windows hold ties and
    the first in scan order must win, as in the reference and PyTorch."""
    x = rng.integers(-2, 2, size=shape).astype(dtype)
    out, idx = pool.max_pool2d_forward(x, (2, 2), (2, 2), ceil_mode=ceil_mode)
    ref_out, ref_idx = reference.max_pool2d(x, (2, 2), (2, 2), ceil_mode=ceil_mode)
    np.testing.assert_array_equal(out, ref_out)
    np.testing.assert_array_equal(idx, ref_idx)
    torch = pytest.importorskip("torch")
    t_out, t_idx = torch.nn.functional.max_pool2d(torch.from_numpy(x), 2, 2, ceil_mode=ceil_mode, return_indices=True)
    np.testing.assert_array_equal(out, t_out.numpy())
    np.testing.assert_array_equal(idx, t_idx.numpy())


def test_max_pool_2x2_fast_path_nan_inf_in_every_position():
    """A NaN or inf at each of the four window positions: the careful loop decides (NaN wins, last NaN)."""
    torch = pytest.importorskip("torch")
    x = np.arange(64, dtype=np.float32).reshape(1, 1, 8, 8) % 5
    for k, (r, c) in enumerate([(0, 0), (0, 3), (3, 2), (3, 3)]):
        x[0, 0, 2 * (k // 2) + r // 3, 4 * (k % 2) + c] = np.nan
    x[0, 0, 6, 1] = np.inf
    x[0, 0, 7, 6] = -np.inf
    x[0, 0, 4, 4] = x[0, 0, 5, 5] = np.nan
    out, idx = pool.max_pool2d_forward(x, (2, 2), (2, 2))
    t_out, t_idx = torch.nn.functional.max_pool2d(torch.from_numpy(x), 2, 2, return_indices=True)
    np.testing.assert_array_equal(out, t_out.numpy())
    np.testing.assert_array_equal(np.isnan(out), np.isnan(t_out.numpy()))
    np.testing.assert_array_equal(idx[~np.isnan(out)], t_idx.numpy()[~np.isnan(out)])


@pytest.mark.parametrize("shape, kernel, stride, padding, dilation, ceil_mode",
                         MAX_CASES + [((2, 3, 7, 9), (2, 2), (2, 2), (0, 0), (1, 1), True)])
def test_max_pool_backward_overwrites_every_position(rng, shape, kernel, stride, padding, dilation, ceil_mode,
                                                     monkeypatch):
    """dx is not zero-filled up front: each kernel zeroes its own plane. On a NaN-filled buffer every input
    position must come out as the scatter-add reference (positions no window picks: 0), serial and
    parallel."""
    from autodiff.kernels import im2col, jit
    x = _distinct(rng, shape, np.float32)
    out, idx = pool.max_pool2d_forward(x, kernel, stride, padding, dilation, ceil_mode)
    g = rng.standard_normal(out.shape).astype(np.float32)
    want = reference.max_pool2d_backward(g, idx, shape)
    for driver in (pool._max_backward_serial, pool._max_backward_parallel):
        dx = np.full(shape, np.nan, np.float32)
        driver(g, idx, dx)
        np.testing.assert_allclose(dx, want, rtol=1e-6, atol=1e-6)
    monkeypatch.setattr(jit, "PARALLEL_MIN_WORK", 0)
    monkeypatch.setattr(jit, "LAYOUT_PARALLEL_MIN_WORK", 0)
    np.testing.assert_allclose(pool.max_pool2d_backward(g, idx, shape), want, rtol=1e-6, atol=1e-6)
