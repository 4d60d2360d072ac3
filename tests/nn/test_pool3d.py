"""3-d max/avg pooling, adaptive pooling (3-d avg, 1/2/3-d max), max-unpooling (1/2/3-d) and LP pooling
(1/2/3-d): values, gradients and indices against PyTorch over kernel/stride/padding/dilation, ceil_mode,
count_include_pad, divisor_override, return_indices, output_size and unbatched inputs, float32 and
float64; gradcheck (first and second order) in float64; the layers against torch's; errors."""
import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def distinct(rng, shape, dtype=np.float64):
    """Values without ties (max pooling's winner is unique), spread around zero."""
    n = int(np.prod(shape))
    return ((rng.permutation(n) - n / 2) / n + 0.1 * rng.random(n) / n).reshape(shape).astype(dtype)


def _compare(torch, ours_fn, torch_fn, x, args=(), kwargs=None, grad=True):
    """Values, gradient (for a random output weighting) and any returned indices against torch."""
    kwargs = kwargs or {}
    xt = ad.Tensor(x.copy(), requires_grad=True)
    xr = torch.tensor(x, requires_grad=True)
    y, yr = ours_fn(xt, *args, **kwargs), torch_fn(xr, *args, **kwargs)
    if isinstance(yr, tuple):
        (y, idx), (yr, idx_r) = y, yr
        assert idx.dtype == np.int64 and idx.shape == tuple(idx_r.shape)
        np.testing.assert_array_equal(idx.data, idx_r.numpy())
    tol = 1e-5 if x.dtype == np.float32 else 1e-12
    assert y.dtype == x.dtype and y.shape == tuple(yr.shape)
    np.testing.assert_allclose(y.data, yr.detach().numpy(), rtol=tol, atol=tol)
    if grad:
        g = np.random.default_rng(7).standard_normal(y.shape).astype(x.dtype)
        y.backward(ad.Tensor(g))
        yr.backward(torch.tensor(g))
        np.testing.assert_allclose(xt.grad.data, xr.grad.numpy(), rtol=tol, atol=tol)


DTYPES = [np.float32, np.float64]

MAX3 = [
    ((2, 3, 6, 5, 4), dict(kernel_size=2)),
    ((2, 2, 7, 6, 5), dict(kernel_size=3, stride=2, padding=1)),
    ((1, 2, 7, 6, 5), dict(kernel_size=(3, 2, 2), stride=(2, 1, 2), padding=(1, 0, 1), dilation=(1, 2, 2),
                           ceil_mode=True)),
    ((2, 2, 5, 5, 5), dict(kernel_size=2, stride=2, ceil_mode=True, return_indices=True)),
    ((2, 4, 5, 4), dict(kernel_size=3, stride=1, padding=1, return_indices=True)),  # unbatched
    ((1, 1, 4, 4, 4), dict(kernel_size=3, stride=3, padding=1, ceil_mode=True, return_indices=True)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, kwargs", MAX3)
def test_max_pool3d_matches_torch(torch, rng, shape, kwargs, dtype):
    _compare(torch, F.max_pool3d, torch.nn.functional.max_pool3d, distinct(rng, shape, dtype), kwargs=kwargs)


def test_max_pool3d_ties_and_all_minus_inf_windows_pick_torchs_index(torch):
    # equal values: the first maximum in row-major order; -inf windows over padding: the first input place
    for x in (np.ones((1, 1, 4, 4, 4)), np.full((1, 1, 3, 4, 3), -np.inf)):
        for kw in (dict(kernel_size=3, stride=2, padding=1), dict(kernel_size=2, padding=1, dilation=2)):
            _, idx = F.max_pool3d(ad.Tensor(x), return_indices=True, **kw)
            _, idx_r = torch.nn.functional.max_pool3d(torch.tensor(x), return_indices=True, **kw)
            np.testing.assert_array_equal(idx.data, idx_r.numpy())


AVG3 = [
    ((2, 3, 6, 5, 4), dict(kernel_size=2)),
    ((2, 2, 7, 6, 5), dict(kernel_size=3, stride=2, padding=1)),
    ((2, 2, 7, 6, 5), dict(kernel_size=3, stride=2, padding=1, count_include_pad=False, ceil_mode=True)),
    ((1, 2, 6, 5, 7), dict(kernel_size=(3, 2, 4), stride=(2, 2, 3), padding=(1, 1, 2), ceil_mode=True)),
    ((2, 5, 4, 6), dict(kernel_size=2, stride=1, divisor_override=3)),  # unbatched
    ((1, 2, 5, 5, 5), dict(kernel_size=2, padding=1, count_include_pad=False)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, kwargs", AVG3)
def test_avg_pool3d_matches_torch(torch, rng, shape, kwargs, dtype):
    _compare(torch, F.avg_pool3d, torch.nn.functional.avg_pool3d, rng.standard_normal(shape).astype(dtype),
             kwargs=kwargs)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, size", [((2, 3, 7, 6, 5), 1), ((2, 3, 7, 6, 5), (3, 4, 2)),
                                         ((2, 7, 6, 5), (None, 4, 5)), ((1, 2, 3, 4, 5), (5, 6, 7))])
def test_adaptive_avg_pool3d_matches_torch(torch, rng, shape, size, dtype):
    _compare(torch, F.adaptive_avg_pool3d, torch.nn.functional.adaptive_avg_pool3d,
             rng.standard_normal(shape).astype(dtype), (size,))


ADAPTIVE_MAX = [
    ("adaptive_max_pool1d", (2, 3, 10), 4), ("adaptive_max_pool1d", (3, 7), 7),
    ("adaptive_max_pool2d", (2, 3, 7, 9), (3, 4)), ("adaptive_max_pool2d", (3, 5, 6), (None, 4)),
    ("adaptive_max_pool2d", (1, 2, 3, 3), (5, 4)),
    ("adaptive_max_pool3d", (2, 2, 7, 6, 5), (3, 2, 4)), ("adaptive_max_pool3d", (2, 5, 4, 6), 1),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("return_indices", [False, True])
@pytest.mark.parametrize("fn, shape, size", ADAPTIVE_MAX)
def test_adaptive_max_pool_matches_torch(torch, rng, fn, shape, size, return_indices, dtype):
    _compare(torch, getattr(F, fn), getattr(torch.nn.functional, fn), distinct(rng, shape, dtype), (size,),
             dict(return_indices=return_indices))


def test_adaptive_max_pool_ties_pick_the_first_maximum_as_torch(torch):
    x = np.zeros((1, 1, 5, 7, 6))
    x[0, 0, 1:4, 2:5, 1:5] = 1.0
    _, idx = F.adaptive_max_pool3d(ad.Tensor(x), (2, 3, 2), return_indices=True)
    _, idx_r = torch.nn.functional.adaptive_max_pool3d(torch.tensor(x), (2, 3, 2), return_indices=True)
    np.testing.assert_array_equal(idx.data, idx_r.numpy())


@pytest.mark.parametrize("fn, args", [("max_pool3d", (2,)), ("max_pool3d", (3, 2, 1)),
                                      ("adaptive_max_pool3d", ((2, 3, 2),)), ("adaptive_max_pool2d", ((3, 2),)),
                                      ("adaptive_max_pool1d", (4,))])
def test_nan_wins_and_the_last_nan_is_picked_as_torch(torch, rng, fn, args):
    shape = {"1": (2, 3, 9), "2": (2, 3, 7, 5), "3": (2, 3, 6, 7, 5)}[fn[-2]]
    x = rng.standard_normal(shape)
    x[x > 1.0] = np.nan
    y, idx = getattr(F, fn)(ad.Tensor(x), *args, return_indices=True)
    y_r, idx_r = getattr(torch.nn.functional, fn)(torch.tensor(x), *args, return_indices=True)
    np.testing.assert_array_equal(idx.data, idx_r.numpy())
    np.testing.assert_array_equal(y.data, y_r.numpy())  # NaN where torch has NaN


@pytest.mark.parametrize("fn, args", [("max_pool3d", (2,)), ("avg_pool3d", (2,)), ("adaptive_avg_pool3d", (2,)),
                                      ("adaptive_max_pool3d", (2,)), ("lp_pool3d", (2, 2)),
                                      ("adaptive_max_pool1d", (2,))])
def test_empty_batch_gives_torchs_shape(torch, fn, args):
    shape = (0, 2, 5) if fn.endswith("1d") else (0, 2, 4, 4, 4)
    x = ad.Tensor(np.zeros(shape), requires_grad=True)
    y = getattr(F, fn)(x, *args)
    assert y.shape == tuple(getattr(torch.nn.functional, fn)(torch.zeros(shape), *args).shape)
    y.sum().backward()
    assert x.grad.shape == shape


UNPOOL = [
    (3, (2, 2, 6, 4, 4), dict(kernel_size=2), None),
    (3, (1, 2, 7, 6, 5), dict(kernel_size=2), (7, 6, 5)),
    (3, (2, 5, 5, 5), dict(kernel_size=3, stride=2, padding=1), (5, 5, 5)),  # unbatched
    (2, (2, 3, 7, 6), dict(kernel_size=3, stride=2, padding=1), (2, 3, 7, 6)),
    (2, (3, 7, 6), dict(kernel_size=3, stride=1), None),  # overlapping windows: repeated indices
    (1, (2, 3, 9), dict(kernel_size=2), [9]),
    (1, (3, 8), dict(kernel_size=3, stride=2, padding=1), (8,)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dims, shape, kwargs, output_size", UNPOOL)
def test_max_unpool_matches_torch(torch, rng, dims, shape, kwargs, output_size, dtype):
    pool = getattr(torch.nn.functional, f"max_pool{dims}d")
    pooled, idx = pool(torch.tensor(distinct(rng, shape, dtype)), return_indices=True, **kwargs)
    ours = getattr(F, f"max_unpool{dims}d")
    theirs = getattr(torch.nn.functional, f"max_unpool{dims}d")
    _compare(torch, lambda v, **k: ours(v, ad.Tensor(idx.numpy()), **k),
             lambda v, **k: theirs(v, idx, **k), pooled.numpy(), kwargs=dict(kwargs, output_size=output_size))


def test_max_pool3d_indices_round_trip_through_max_unpool3d(torch, rng):
    x = ad.Tensor(distinct(rng, (2, 3, 6, 4, 6)))
    y, idx = F.max_pool3d(x, 2, return_indices=True)
    up = F.max_unpool3d(y, idx, 2)
    # every window keeps its maximum in place and zeros elsewhere
    expected = np.where(x.data == np.repeat(np.repeat(np.repeat(y.data, 2, 2), 2, 3), 2, 4), x.data, 0.0)
    np.testing.assert_array_equal(up.data, expected)


LP = [
    (1, (2, 3, 9), (2, 3), dict(stride=2)), (1, (3, 8), (1.5, 3), {}),
    (2, (2, 3, 7, 6), (2, (3, 2)), dict(stride=2, ceil_mode=True)), (2, (3, 6, 6), (3.0, 2), {}),
    (3, (2, 2, 6, 5, 4), (2, 2), {}), (3, (2, 5, 6, 7), (1.5, (2, 3, 2), (1, 2, 2)), {}),
    (2, (2, 3, 6, 6), (float("inf"), 2), {}),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dims, shape, args, kwargs", LP)
def test_lp_pool_matches_torch(torch, rng, dims, shape, args, kwargs, dtype):
    x = (rng.random(shape) + 0.2).astype(dtype)  # positive: x ** p is defined for fractional p
    fn = f"lp_pool{dims}d"
    _compare(torch, getattr(F, fn), getattr(torch.nn.functional, fn), x, args, kwargs)


@pytest.mark.parametrize("name, fn", [
    ("max_pool3d", lambda x: F.max_pool3d(x, 2, 1, 1, (1, 2, 1), ceil_mode=True)),
    ("avg_pool3d", lambda x: F.avg_pool3d(x, 2, (1, 2, 1), 1, True, False)),
    ("adaptive_avg_pool3d", lambda x: F.adaptive_avg_pool3d(x, (2, 3, 2))),
    ("adaptive_max_pool3d", lambda x: F.adaptive_max_pool3d(x, (2, 2, 3))),
    ("lp_pool3d", lambda x: F.lp_pool3d(x, 2, 2, 1)),
    ("max_unpool3d", lambda x: F.max_unpool3d(x, ad.Tensor(np.array([[[[[3, 7], [20, 12]]]]])), 2,
                                              output_size=(2, 4, 5))),
])
def test_gradcheck_first_and_second_order(rng, name, fn):
    shape = (1, 1, 1, 2, 2) if name == "max_unpool3d" else (1, 2, 3, 4, 4)
    x = ad.Tensor(distinct(rng, shape) + (2.0 if name == "lp_pool3d" else 0.0), requires_grad=True)
    assert ad.gradcheck(fn, (x,))
    u = ad.Tensor(rng.standard_normal(shape))

    def second(a):  # the gradient of <d(sum y^3)/dx, u>: needs the backward of the backward
        (ga,) = ad.grad((fn(a) ** 3).sum(), [a], create_graph=True)
        return (ga * u).sum()
    assert ad.gradcheck(second, (x,))


LAYERS = [
    ("MaxPool3d", (3, 2, 1, 1, True), (2, 2, 6, 5, 4)),
    ("AvgPool3d", (3, 2, 1, True, False), (2, 2, 6, 5, 4)),
    ("AvgPool3d", (2, None, 0, False, True, 5), (2, 5, 4, 6)),
    ("AdaptiveAvgPool3d", ((2, None, 3),), (2, 2, 6, 5, 4)),
    ("AdaptiveMaxPool3d", ((2, 3, 3), True), (2, 2, 6, 5, 4)),
    ("AdaptiveMaxPool2d", (3, True), (2, 2, 5, 7)),
    ("AdaptiveMaxPool1d", (4,), (2, 2, 9)),
    ("LPPool3d", (2, 2), (2, 2, 6, 5, 4)),
    ("LPPool2d", (1.5, (2, 3), 1), (2, 2, 5, 7)),
    ("LPPool1d", (2, 3, 2, True), (2, 2, 9)),
]


@pytest.mark.parametrize("cls, args, shape", LAYERS)
def test_layers_match_torch_layers(torch, rng, cls, args, shape):
    x = distinct(rng, shape) + (1.0 if cls.startswith("LP") else 0.0)
    _compare(torch, getattr(nn, cls)(*args), getattr(torch.nn, cls)(*args), x)
    assert getattr(nn, cls)(*args).state_dict() == {}


@pytest.mark.parametrize("dims, kernel, stride, padding, shape", [
    (1, 2, None, 0, (2, 3, 8)), (2, 3, 2, 1, (2, 3, 7, 6)), (3, 2, (2, 1, 2), 0, (1, 2, 6, 5, 4))])
def test_max_unpool_layers_invert_the_pool_layers_as_torch(torch, rng, dims, kernel, stride, padding, shape):
    x = distinct(rng, shape)
    pool = getattr(torch.nn, f"MaxPool{dims}d")(kernel, stride, padding, return_indices=True)
    pooled, idx = pool(torch.tensor(x))
    ours, theirs = getattr(nn, f"MaxUnpool{dims}d")(kernel, stride, padding), \
        getattr(torch.nn, f"MaxUnpool{dims}d")(kernel, stride, padding)
    size = shape[2:]
    y = ours(ad.Tensor(pooled.numpy()), ad.Tensor(idx.numpy()), output_size=size)
    yr = theirs(pooled, idx, output_size=size)
    np.testing.assert_array_equal(y.data, yr.numpy())
    ours_pool = getattr(nn, f"MaxPool{dims}d")(kernel, stride, padding, return_indices=True) if dims == 3 else None
    if ours_pool is not None:
        p, i = ours_pool(ad.Tensor(x))
        np.testing.assert_array_equal(ours(p, i, output_size=size).data, yr.numpy())


@pytest.mark.parametrize("call, match", [
    (lambda: F.max_pool3d(ad.zeros((2, 3, 4, 4)), 2, padding=2),
     r"max_pool3d: padding \(2, 2, 2\) must be non-negative and at most half of kernel_size \(2, 2, 2\)"),
    (lambda: F.max_pool3d(ad.zeros((2, 3, 4)), 2), r"max_pool3d: expected a \(N, C, D, H, W\) or \(C, D, H, W\) "
                                                   r"input, got shape \(2, 3, 4\)"),
    (lambda: F.avg_pool3d(ad.zeros((1, 1, 4, 4, 1)), 2),
     r"avg_pool3d: kernel_size \(2, 2, 2\) .* larger than the padded input \(4, 4, 1\)"),
    (lambda: F.avg_pool3d(ad.zeros((1, 1, 4, 4, 4)), 2, divisor_override=0), r"avg_pool3d: divisor_override"),
    (lambda: nn.MaxPool3d(3)(ad.zeros((1, 1, 2, 5, 5))), r"MaxPool3d: kernel_size \(3, 3, 3\)"),
    (lambda: F.adaptive_max_pool2d(ad.zeros((1, 1, 4, 4)), (2, 0)), r"adaptive_max_pool2d: output_size \(2, 0\)"),
    (lambda: F.adaptive_avg_pool3d(ad.zeros((1, 1, 4, 4, 4)), (2, 2)),
     r"adaptive_avg_pool3d: output_size must be an int or a tuple of 3"),
    (lambda: F.max_unpool2d(ad.zeros((1, 1, 2, 2)), ad.Tensor(np.array([[[[0, 1], [2, 16]]]])), 2),
     r"max_unpool2d: found an invalid max index 16 \(output planes are of size \(4, 4\)"),
    (lambda: F.max_unpool2d(ad.zeros((1, 1, 2, 2)), ad.Tensor(np.zeros((1, 1, 2, 2), np.int64)), 2,
                            output_size=(6, 4)), r"max_unpool2d: invalid output_size \(6, 4\) \(dim 0 must be "
                                                 r"between 2 and 6"),
    (lambda: F.max_unpool1d(ad.zeros((1, 1, 2)), ad.Tensor(np.zeros((1, 1, 3), np.int64)), 2),
     r"max_unpool1d: indices of shape \(1, 1, 3\) must have the shape of the input \(1, 1, 2\)"),
    (lambda: nn.MaxUnpool3d(2)(ad.zeros((1, 1, 2, 2, 2)), ad.Tensor(np.zeros((1, 1, 2, 2, 2), np.int64)),
                               output_size=(4, 4)), r"MaxUnpool3d: output_size should be a sequence containing 3 "
                                                    r"or 5 elements"),
    (lambda: F.lp_pool2d(ad.zeros((1, 1, 4, 4)), 0, 2), r"lp_pool2d: norm_type must be non-zero"),
    (lambda: F.max_pool3d(ad.Tensor(np.zeros((1, 1, 2, 2, 2), np.int64)), 2),
     r"max_pool3d: expected a float32 or float64 input, got dtype int64"),
])
def test_errors_name_the_op_and_the_values(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()
