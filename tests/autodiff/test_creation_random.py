"""from_numpy, as_tensor, logspace, randperm, normal, bernoulli, multinomial, the in-place random
fills and the small Tensor/Module attributes PyTorch code reaches for first."""
import numpy as np
import pytest

import autodiff as ad
import nn


def test_from_numpy_shares_memory_and_dtype():
    torch = pytest.importorskip("torch")
    a = np.arange(4, dtype=np.int32)
    t = ad.from_numpy(a)
    a[0] = 7
    assert t.dtype == np.int32 and t.tolist() == torch.from_numpy(a).tolist()
    with pytest.raises(TypeError, match="from_numpy: expected np.ndarray"):
        ad.from_numpy([1, 2])


@pytest.mark.parametrize("data", [[1, 2], [1.5, 2.0], np.arange(3.0), np.arange(3, dtype=np.int16)])
def test_as_tensor_dtypes_match_torch(data):
    torch = pytest.importorskip("torch")
    ours, theirs = ad.as_tensor(data), torch.as_tensor(data)
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
    np.testing.assert_array_equal(ours.data, theirs.numpy())
    t = ad.tensor([1.0, 2.0])
    assert ad.as_tensor(t) is t


@pytest.mark.parametrize("args", [(0, 2, 5), (-1, 1, 4, 2.0), (1, 3, 3, 3.0)])
def test_logspace_matches_torch(args):
    torch = pytest.importorskip("torch")
    np.testing.assert_allclose(ad.logspace(*args).data, torch.logspace(*args).numpy(), rtol=1e-6)


def test_randperm_is_a_permutation_of_int64():
    p = ad.randperm(50)
    assert p.dtype == np.int64 and sorted(p.tolist()) == list(range(50))


def test_normal_bernoulli_multinomial_statistics_and_shapes():
    ad.manual_seed(0)
    x = ad.normal(2.0, 3.0, (20000,))
    assert x.dtype == np.float32 and abs(float(x.data.mean()) - 2.0) < 0.1 and abs(float(x.data.std()) - 3.0) < 0.1
    y = ad.normal(ad.zeros(4, 5, dtype=ad.float64), ad.ones(5, dtype=ad.float64))
    assert y.shape == (4, 5) and y.dtype == np.float64
    b = ad.bernoulli(ad.full((20000,), 0.25))
    assert set(np.unique(b.data)) <= {0.0, 1.0} and abs(float(b.data.mean()) - 0.25) < 0.02
    m = ad.multinomial(ad.tensor([[1.0, 0.0, 3.0], [0.0, 1.0, 1.0]]), 2)
    assert m.dtype == np.int64 and m.shape == (2, 2)
    assert set(m.data[1]) == {1, 2} and 1 not in m.data[0]  # no replacement, zero weight never drawn
    with pytest.raises(RuntimeError, match="multinomial: cannot draw 3 samples"):
        ad.multinomial(ad.tensor([1.0, 0.0, 2.0]), 3)
    with pytest.raises(RuntimeError, match="bernoulli: probabilities must be in"):
        ad.bernoulli(ad.tensor([1.5]))


def test_inplace_random_fills_follow_torch_rules():
    t = ad.zeros(1000)
    t.uniform_(-2, 3)
    assert t.data.min() >= -2 and t.data.max() < 3
    t.normal_(5, 0.1)
    assert abs(float(t.data.mean()) - 5) < 0.05
    t.bernoulli_(0.5)
    assert set(np.unique(t.data)) <= {0.0, 1.0}
    w = ad.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        w.normal_()  # PyTorch refuses this too outside no_grad
    with ad.no_grad():
        w.uniform_()
    assert w.data.min() >= 0 and w.data.max() < 1 and w.data.std() > 0


def test_tensor_and_module_attributes_match_torch():
    torch = pytest.importorskip("torch")
    ours, theirs = ad.zeros(2, 3, 4), torch.zeros(2, 3, 4)
    assert ours.nelement() == theirs.nelement() and ours.ndimension() == theirs.ndimension()
    assert ours.stride() == theirs.stride() and ours.stride(1) == theirs.stride(1)
    assert ours.permute(2, 0, 1).stride() == theirs.permute(2, 0, 1).stride()
    assert ours.nbytes == theirs.nbytes and ours.cpu() is ours
    m = nn.Linear(2, 3)
    assert m.cpu() is m and m.half().weight.dtype == np.float16
    assert m.type(np.float64).weight.dtype == np.float64
