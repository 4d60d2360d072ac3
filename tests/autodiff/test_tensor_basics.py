"""Construction, dtype rules, numpy interop, repr, seeding, numerical stability at +-1e4."""
import numpy as np
import pytest

import autodiff as ad


def test_dtype_rules():
    assert ad.tensor([1.0, 2.0]).dtype == np.float32           # Python floats -> float32 (PyTorch)
    assert ad.tensor(3.5).dtype == np.float32
    assert ad.tensor([1, 2]).dtype == np.int64                  # Python ints -> int64 (PyTorch)
    assert ad.tensor([True, False]).dtype == bool
    assert ad.Tensor(np.zeros(3, np.float64)).dtype == np.float64
    assert ad.Tensor(np.zeros(3, np.float16)).dtype == np.float16
    assert ad.Tensor(np.zeros(3, np.int32)).dtype == np.int32   # integer arrays stay as they are
    assert ad.tensor([1, 2], dtype=np.float64).dtype == np.float64


def test_tensor_copies_but_Tensor_wraps():
    a = np.ones(3, np.float32)
    assert ad.Tensor(a).data is a
    t = ad.tensor(a)
    a[0] = 5
    assert t.data[0] == 1


def test_numpy_interop():
    t = ad.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert np.asarray(t) is t.data
    assert t.numpy() is t.data
    assert t.shape == (2, 2) and t.ndim == 2 and len(t) == 2 and t.size() == (2, 2)
    assert ad.tensor([7.0]).item() == 7.0
    with pytest.raises(ValueError, match="one-element"):
        t.item()
    np.testing.assert_allclose(np.asarray(t) * 2, t.data * 2)
    assert isinstance(np.ones(2) * ad.tensor([1.0, 2.0]), ad.Tensor)   # ndarray defers to Tensor


def test_repr_shows_data_dtype_and_grad_fn():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    r = repr(x * 2)
    assert "2." in r and "4." in r and "float32" in r and "grad_fn=<mul>" in r
    assert "requires_grad=True" in repr(x)


def test_constructors():
    assert ad.zeros(2, 3).shape == (2, 3) and ad.zeros((2, 3)).data.sum() == 0
    assert ad.ones(4).data.sum() == 4 and ad.ones(4).dtype == np.float32
    np.testing.assert_array_equal(ad.full((2,), 7.0).data, [7, 7])
    assert ad.arange(5).dtype == np.int64 and ad.arange(0.0, 1.0, 0.25).shape == (4,)
    np.testing.assert_array_equal(ad.eye(3).data, np.eye(3))
    x = ad.randn(3, 4, dtype=np.float64)
    assert ad.zeros_like(x).dtype == np.float64 and ad.ones_like(x).data.sum() == 12
    r = ad.rand(1000)
    assert 0 <= r.data.min() and r.data.max() < 1 and abs(r.data.mean() - 0.5) < 0.05


def test_manual_seed_reproducible():
    ad.manual_seed(7)
    a = ad.randn(5).data.copy()
    ad.manual_seed(7)
    b = ad.randn(5).data
    np.testing.assert_array_equal(a, b)
    ad.manual_seed(8)
    assert not np.array_equal(ad.randn(5).data, a)


@pytest.mark.parametrize("op", ["sigmoid", "softplus", "logsumexp", "softmax", "log_softmax"])
def test_stable_at_extremes_float32(op):
    x = ad.Tensor(np.array([-1e4, -50.0, 0.0, 50.0, 1e4], np.float32), requires_grad=True)
    y = getattr(x, op)()
    assert np.all(np.isfinite(y.data)), y.data
    (y * ad.Tensor(np.linspace(-1, 1, y.data.size).reshape(y.shape).astype(np.float32))).sum().backward()
    assert np.all(np.isfinite(x.grad.data)), x.grad.data


def test_stable_values_at_extremes():
    x = ad.Tensor(np.array([-1e4, 1e4], np.float32))
    np.testing.assert_allclose(x.sigmoid().data, [0, 1])
    np.testing.assert_allclose(x.softplus().data, [0, 1e4])
    np.testing.assert_allclose(x.logsumexp().item(), 1e4)
    np.testing.assert_allclose(x.log_softmax().data, [-2e4, 0])


def test_against_torch_semantics_for_shape_ops():
    torch = pytest.importorskip("torch")
    a = np.arange(24.0).reshape(2, 3, 4)
    ta, t = torch.tensor(a), ad.Tensor(a)
    np.testing.assert_array_equal(t.permute(2, 0, 1).data, ta.permute(2, 0, 1).numpy())
    np.testing.assert_array_equal(t[:, :1].expand(2, 5, 4).data, ta[:, :1].expand(2, 5, 4).numpy())
    for ours, theirs in zip(t.split(2, axis=2), ta.split(2, dim=2)):
        np.testing.assert_array_equal(ours.data, theirs.numpy())
    for ours, theirs in zip(t.split([1, 2], dim=1), ta.split([1, 2], dim=1)):
        np.testing.assert_array_equal(ours.data, theirs.numpy())
    np.testing.assert_array_equal(t.unsqueeze(0).squeeze(0).data, a)


@pytest.mark.parametrize("shape", [(), (7,), (3, 5)])
def test_sigmoid_matches_definition_on_mixed_signs(rng, shape):
    x = rng.normal(scale=5, size=shape)
    np.testing.assert_allclose(ad.Tensor(x).sigmoid().data, 1 / (1 + np.exp(-x)), rtol=1e-14)
    assert ad.Tensor(x.astype(np.float32)).sigmoid().dtype == np.float32


@pytest.mark.parametrize("data", ["abc", [1, "a"], [[1.0], ["x"]], np.array(["0.5", "1"]), [object()]])
def test_non_numeric_data_is_refused_at_construction(data):
    with pytest.raises(TypeError, match="tensor: data must be numbers or booleans"):
        ad.tensor(data)
    with pytest.raises(TypeError, match="numbers or booleans"):
        ad.Tensor(data)


class _ArrayLike:
    """An index array of another library: numpy reads it through __array__."""

    def __init__(self, values):
        self.values = np.asarray(values)

    def __array__(self, dtype=None, copy=None):
        return self.values


@pytest.mark.parametrize("key", [lambda i: i, lambda i: (slice(None), i), lambda i: (None, i, i)])
def test_foreign_index_arrays_are_advanced_indices_and_repeats_accumulate(key):
    idx = [0, 2, 2, 1]
    x = ad.tensor(np.arange(9.0).reshape(3, 3), requires_grad=True)
    ours = x[key(_ArrayLike(idx))]
    ref = x.data[key(np.asarray(idx))]
    np.testing.assert_array_equal(ours.data, ref)
    ours.sum().backward()
    expected = np.zeros((3, 3))
    np.add.at(expected, key(np.asarray(idx)), 1.0)
    np.testing.assert_array_equal(x.grad.data, expected)
