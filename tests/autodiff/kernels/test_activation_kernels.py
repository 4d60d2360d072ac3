"""One-pass ReLU kernels against numpy (and PyTorch's threshold semantics), and the op's dispatch."""
import numpy as np
import pytest

import autodiff as ad
from autodiff.kernels.activation import KERNEL_MIN_SIZE, relu_backward, relu_forward


def _specials(dtype, n=KERNEL_MIN_SIZE + 37):
    x = np.random.default_rng(0).standard_normal(n).astype(dtype)
    x[:6] = [np.nan, -0.0, 0.0, np.inf, -np.inf, 1e-30]
    return x


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_equals_numpy_maximum_including_nan_and_signed_zero(dtype):
    x = _specials(dtype)
    got = relu_forward(x)
    want = np.maximum(x, 0)
    assert got.dtype == x.dtype
    np.testing.assert_array_equal(got, want)  # NaN positions equal too
    assert not np.signbit(got[1])  # -0.0 -> +0.0, as np.maximum


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_backward_selects_gradient_where_input_positive(dtype):
    x = _specials(dtype)
    g = np.random.default_rng(1).standard_normal(x.size).astype(dtype)
    g[6:9] = [np.inf, np.nan, -np.inf]
    x[6:9] = [-1.0, -2.0, 3.0]
    got = relu_backward(g, x)
    want = np.where(x > 0, g, 0).astype(dtype)  # a select: inf/NaN gradients at x <= 0 give 0
    np.testing.assert_array_equal(got, want)
    assert got[6] == 0 and got[7] == 0 and got[8] == -np.inf


def test_backward_matches_torch_threshold_backward():
    torch = pytest.importorskip("torch")
    x = _specials(np.float32)[6:]  # finite and inf entries
    g = np.random.default_rng(2).standard_normal(x.size).astype(np.float32)
    want = torch.ops.aten.threshold_backward(torch.from_numpy(g), torch.from_numpy(x), 0).numpy()
    np.testing.assert_array_equal(relu_backward(g, x), want)


@pytest.mark.parametrize("shape", [(64, 20, 24, 24), (300, 100)])
def test_relu_op_on_large_arrays_matches_numpy_formula(shape):
    rng = np.random.default_rng(3)
    x = ad.Tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=True)
    g = rng.standard_normal(shape).astype(np.float32)
    y = x.relu()
    np.testing.assert_array_equal(y.data, np.maximum(x.data, 0))
    y.backward(g)
    np.testing.assert_array_equal(x.grad.data, g * (x.data > 0))


def test_relu_op_non_contiguous_and_small_inputs_use_numpy_path_with_same_result():
    rng = np.random.default_rng(4)
    base = rng.standard_normal((400, 200))
    x = ad.Tensor(base[:, ::2], requires_grad=True)  # large but not contiguous
    assert x.data.size >= KERNEL_MIN_SIZE and not x.data.flags.c_contiguous
    x.relu().sum().backward()
    np.testing.assert_array_equal(x.grad.data, (base[:, ::2] > 0).astype(np.float64))


def test_relu_second_derivative_through_large_input_is_zero():
    x = ad.Tensor(np.random.default_rng(5).standard_normal(KERNEL_MIN_SIZE + 1), requires_grad=True)
    y = (x.relu() * x).sum()  # d/dx = 2x where x > 0; d2/dx2 = 2 there
    (g,) = ad.grad([y], [x], create_graph=True)
    np.testing.assert_allclose(g.data, np.where(x.data > 0, 2 * x.data, 0))
    g.sum().backward()
    np.testing.assert_allclose(x.grad.data, np.where(x.data > 0, 2.0, 0.0))


@pytest.mark.parametrize("dtype,rtol", [(np.float32, 2e-6), (np.float64, 1e-14)])
def test_sigmoid_kernels_match_the_exact_formula(dtype, rtol):
    from autodiff.kernels.activation import sigmoid_backward, sigmoid_forward
    x = np.random.default_rng(6).standard_normal(KERNEL_MIN_SIZE + 5) * 20
    x[:6] = [0.0, -0.0, 1e4, -1e4, 88.0, -104.0]
    xd = x.astype(dtype)
    with np.errstate(over="ignore"):
        exact = 1.0 / (1.0 + np.exp(-xd.astype(np.float64)))  # float64 reference (overflow -> 0)
    s = sigmoid_forward(xd)
    assert s.dtype == dtype and np.all(np.isfinite(s))
    # relative accuracy everywhere above a few times the smallest normal number (below, it returns 0)
    np.testing.assert_allclose(s, exact, rtol=rtol, atol=4 * np.finfo(dtype).tiny)
    nan = sigmoid_forward(np.full(KERNEL_MIN_SIZE, np.nan, dtype))
    assert np.all(np.isnan(nan))
    g = np.random.default_rng(7).standard_normal(xd.size).astype(dtype)
    np.testing.assert_allclose(sigmoid_backward(g, s), g * s * (1 - s), rtol=4 * rtol, atol=0)


def test_sigmoid_op_on_large_arrays_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(8)
    x = rng.standard_normal((200, 300)) * 5
    g = rng.standard_normal((200, 300))
    a = ad.Tensor(x.copy(), requires_grad=True)
    a.sigmoid().backward(g)
    t = torch.tensor(x, requires_grad=True)
    t.sigmoid().backward(torch.tensor(g))
    np.testing.assert_allclose(a.sigmoid().data, torch.sigmoid(torch.tensor(x)).numpy(), rtol=1e-14)
    np.testing.assert_allclose(a.grad.data, t.grad.numpy(), rtol=1e-13, atol=1e-300)


def test_fits_kernel_accepts_only_large_contiguous_float_arrays():
    from autodiff.kernels.activation import fits_kernel, fits_kernel_pair
    big = np.zeros(KERNEL_MIN_SIZE, np.float32)
    assert fits_kernel(big) and fits_kernel(big.astype(np.float64))
    assert not fits_kernel(big[:-1])                              # one element too few
    assert not fits_kernel(big.astype(np.int64))                  # not a float
    assert not fits_kernel(np.zeros((2, KERNEL_MIN_SIZE), np.float32)[:, ::2])  # not contiguous
    assert not fits_kernel(ad.Tensor(big))                        # Tensors (create_graph) use numpy
    assert fits_kernel_pair(big, big.copy())
    assert not fits_kernel_pair(big, big.astype(np.float64))      # dtypes differ
    assert not fits_kernel_pair(big, np.zeros(KERNEL_MIN_SIZE + 1, np.float32))  # shapes differ
