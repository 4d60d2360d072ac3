"""Pooling ops: values and gradients against PyTorch (overlap, padding, ceil_mode), gradcheck, errors."""
import numpy as np
import pytest

import autodiff as ad
from autodiff.ops import pool as pool_ops


def _distinct(rng, shape):
    return (rng.permutation(int(np.prod(shape))).reshape(shape) / 7.0).astype(np.float32)


def _compare(rng, fn, tname, shape, kw):
    torch = pytest.importorskip("torch")
    x = _distinct(rng, shape)
    X = ad.Tensor(x, requires_grad=True)
    y = fn(X, **kw)
    g = rng.standard_normal(y.shape).astype(np.float32)
    (y * ad.Tensor(g)).sum().backward()
    tx = torch.tensor(x, requires_grad=True)
    ty = getattr(torch.nn.functional, tname)(tx, **kw)
    (ty * torch.tensor(g)).sum().backward()
    assert y.shape == tuple(ty.shape)
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(X.grad.data, tx.grad.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("shape, kw", [
    ((2, 3, 8, 8), dict(kernel_size=2)),
    ((2, 3, 7, 9), dict(kernel_size=3, stride=2, padding=1)),
    ((1, 2, 7, 8), dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 1), dilation=(1, 2), ceil_mode=True)),
    ((1, 2, 5, 5), dict(kernel_size=3, stride=1, padding=1)),
    ((3, 6, 6), dict(kernel_size=2)),
])
def test_max_pool2d_matches_torch(rng, shape, kw):
    _compare(rng, pool_ops.max_pool2d, "max_pool2d", shape, kw)


@pytest.mark.parametrize("shape, kw", [((2, 3, 9), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
                                       ((1, 2, 8), dict(kernel_size=2))])
def test_max_pool1d_matches_torch(rng, shape, kw):
    _compare(rng, pool_ops.max_pool1d, "max_pool1d", shape, kw)


@pytest.mark.parametrize("shape, kw", [
    ((2, 3, 8, 8), dict(kernel_size=2)),
    ((2, 3, 7, 9), dict(kernel_size=3, stride=2, padding=1)),
    ((2, 3, 7, 9), dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
    ((1, 2, 7, 8), dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 1), ceil_mode=True)),
    ((1, 2, 6, 6), dict(kernel_size=3, stride=1, padding=1, divisor_override=4)),
])
def test_avg_pool2d_matches_torch(rng, shape, kw):
    _compare(rng, pool_ops.avg_pool2d, "avg_pool2d", shape, kw)


def test_avg_pool1d_matches_torch(rng):
    _compare(rng, pool_ops.avg_pool1d, "avg_pool1d", (2, 3, 9), dict(kernel_size=3, stride=2, padding=1))


@pytest.mark.parametrize("shape, size", [((2, 3, 7, 8), (3, 5)), ((2, 3, 5, 5), 1), ((1, 2, 4, 6), (None, 2))])
def test_adaptive_avg_pool2d_matches_torch(rng, shape, size):
    _compare(rng, pool_ops.adaptive_avg_pool2d, "adaptive_avg_pool2d", shape, dict(output_size=size))


def test_adaptive_avg_pool1d_matches_torch(rng):
    _compare(rng, pool_ops.adaptive_avg_pool1d, "adaptive_avg_pool1d", (2, 3, 7), dict(output_size=3))


def test_max_pool_return_indices_match_torch(rng):
    torch = pytest.importorskip("torch")
    x = _distinct(rng, (2, 2, 5, 6))
    y, idx = pool_ops.max_pool2d(ad.Tensor(x), 3, stride=2, padding=1, return_indices=True)
    ty, tidx = torch.nn.functional.max_pool2d(torch.tensor(x), 3, stride=2, padding=1, return_indices=True)
    np.testing.assert_array_equal(idx.data, tidx.numpy())
    assert idx.dtype == np.int64 and not idx.requires_grad


@pytest.mark.parametrize("fn, kw", [(pool_ops.max_pool2d, dict(kernel_size=3, stride=2, padding=1)),
                                    (pool_ops.avg_pool2d, dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
                                    (pool_ops.adaptive_avg_pool2d, dict(output_size=(2, 3)))])
def test_pool_gradcheck_float64(rng, fn, kw):
    x = ad.Tensor(_distinct(rng, (1, 2, 5, 6)).astype(np.float64), requires_grad=True)
    assert ad.gradcheck(lambda x: fn(x, **kw), (x,))


def test_pool_errors():
    with pytest.raises(ValueError, match=r"max_pool2d: expected a \(N, C, H, W\) or \(C, H, W\) input, got shape \(4, 4\)"):
        pool_ops.max_pool2d(ad.zeros((4, 4)), 2)
    with pytest.raises(ValueError, match=r"avg_pool2d: kernel_size \(5, 5\) .* larger than the padded input \(4, 4\)"):
        pool_ops.avg_pool2d(ad.zeros((1, 1, 4, 4)), 5)
    with pytest.raises(ValueError, match=r"max_pool1d: padding \(2,\) must be non-negative and at most half"):
        pool_ops.max_pool1d(ad.zeros((1, 1, 8)), 3, padding=2)
    with pytest.raises(TypeError, match="floating-point"):
        pool_ops.max_pool2d(ad.Tensor(np.zeros((1, 1, 4, 4), dtype=np.int64)), 2)
