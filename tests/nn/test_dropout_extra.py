"""Dropout1d/2d/3d and AlphaDropout: channel structure, statistics, eval identity, gradients, vs PyTorch."""
import numpy as np
import pytest

import autodiff
import nn

torch = pytest.importorskip("torch")

CASES = [("Dropout1d", (8, 16, 5), 2), ("Dropout1d", (16, 5), 1), ("Dropout2d", (8, 16, 3, 4), 2),
         ("Dropout2d", (16, 6, 4), 2), ("Dropout3d", (4, 16, 2, 3, 2), 2), ("Dropout3d", (16, 2, 3, 2), 1)]


@pytest.mark.filterwarnings("ignore:dropout2d. Received a 3D input")
@pytest.mark.parametrize("name,shape,lead", CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_channel_dropout_structure_and_grad(name, shape, lead, dtype):
    autodiff.manual_seed(0)
    p = 0.4
    layer, ref = getattr(nn, name)(p), getattr(torch.nn, name)(p)
    assert repr(layer) == repr(ref)
    x = np.random.default_rng(0).uniform(1.0, 2.0, shape).astype(dtype)
    xt = autodiff.Tensor(x, requires_grad=True)
    y = layer(xt)
    y.sum().backward()
    assert y.data.dtype == dtype and y.shape == x.shape
    ratio = (y.data / x).reshape(shape[:lead] + (-1,))
    # every channel is either all zero or all scaled by 1/(1-p); torch's mask has the same structure
    for r in (ratio, (ref(torch.tensor(x)).numpy() / x).reshape(shape[:lead] + (-1,))):
        np.testing.assert_allclose(r, np.broadcast_to(r[..., :1], r.shape), rtol=1e-6)
        assert np.all(np.isclose(r, 0.0) | np.isclose(r, 1 / (1 - p), rtol=1e-5))
    np.testing.assert_allclose(xt.grad.data, y.data / x, rtol=1e-6)
    layer.eval()
    np.testing.assert_array_equal(layer(autodiff.Tensor(x)).data, x)


def test_channel_dropout_keep_rate():
    autodiff.manual_seed(1)
    p = 0.3
    y = nn.Dropout2d(p)(autodiff.Tensor(np.ones((200, 50, 2, 2), np.float32))).data
    kept = (y[:, :, 0, 0] != 0).mean()
    assert abs(kept - (1 - p)) < 0.02
    assert abs(y.mean() - 1.0) < 0.03  # inverted scaling keeps the expectation
    assert nn.Dropout1d(1.0)(autodiff.Tensor(np.ones((2, 3, 4)))).data.sum() == 0


@pytest.mark.parametrize("p", [0.2, 0.5])
def test_alpha_dropout_values_match_torch(p):
    autodiff.manual_seed(2)
    torch.manual_seed(2)
    layer, ref = nn.AlphaDropout(p), torch.nn.AlphaDropout(p)
    assert repr(layer) == repr(ref)
    for fill in (0.0, 1.0):
        x = np.full((400, 50), fill)
        ours = np.unique(np.round(layer(autodiff.Tensor(x)).data, 10))
        theirs = np.unique(np.round(ref(torch.tensor(x)).numpy(), 10))
        np.testing.assert_allclose(ours, theirs, rtol=1e-9)
    x = np.random.default_rng(0).standard_normal((500, 200))
    xt = autodiff.Tensor(x, requires_grad=True)
    y = layer(xt)
    yt = ref(torch.tensor(x))
    # a zero-mean unit-variance input keeps mean 0 and variance 1
    assert abs(y.data.mean()) < 0.02 and abs(y.data.var() - 1) < 0.03
    assert abs(y.data.mean() - yt.numpy().mean()) < 0.03 and abs(y.data.var() - yt.numpy().var()) < 0.04
    y.sum().backward()
    a = ((1 - p) * (1 + p * 1.7580993408473766 ** 2)) ** -0.5
    np.testing.assert_allclose(np.unique(np.round(xt.grad.data, 10)), [0.0, round(a, 10)], rtol=1e-9)
    assert abs((xt.grad.data != 0).mean() - (1 - p)) < 0.01
    layer.eval()
    np.testing.assert_array_equal(layer(autodiff.Tensor(x)).data, x)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="Dropout2d"):
        nn.Dropout2d(1.5)
    with pytest.raises(ValueError, match="Dropout1d"):
        nn.Dropout1d()(autodiff.Tensor(np.ones((2, 3, 4, 5))))
    with pytest.raises(ValueError, match="AlphaDropout"):
        nn.AlphaDropout(-0.1)
