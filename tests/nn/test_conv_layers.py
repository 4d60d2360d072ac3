"""nn.Conv1d/Conv2d and the pooling layers: PyTorch state dicts load and give PyTorch's values and
gradients, PyTorch's initialisation bounds, errors that name the layer, a LeNet step equal to PyTorch's."""
import math
import re

import numpy as np
import pytest

import autodiff as ad
import nn
from nn.layers.conv import Conv1d, Conv2d
from nn.layers.pool import AdaptiveAvgPool1d, AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d


def _pair(torch, ours, theirs, x):
    """Load theirs into ours, run both on x with a random upstream gradient; compare values and grads."""
    ours.load_state_dict(theirs.state_dict())
    X = ad.Tensor(x, requires_grad=True)
    y = ours(X)
    g = np.random.default_rng(7).standard_normal(y.shape).astype(np.float32)
    (y * ad.Tensor(g)).sum().backward()
    tx = torch.tensor(x, requires_grad=True)
    ty = theirs(tx)
    (ty * torch.tensor(g)).sum().backward()
    tol = dict(rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(y.data, ty.detach().numpy(), **tol)
    np.testing.assert_allclose(X.grad.data, tx.grad.numpy(), **tol)
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.data, dict(theirs.named_parameters())[name].grad.numpy(), **tol)


@pytest.mark.parametrize("args, kw, xs", [
    ((3, 4, 3), dict(), (2, 3, 8, 8)),
    ((4, 6, (3, 2)), dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2), (1, 4, 9, 7)),
    ((2, 3, 3), dict(padding="same", bias=False), (2, 2, 5, 6)),
])
def test_conv2d_layer_matches_torch(rng, args, kw, xs):
    torch = pytest.importorskip("torch")
    _pair(torch, Conv2d(*args, **kw), torch.nn.Conv2d(*args, **kw), rng.standard_normal(xs).astype(np.float32))


@pytest.mark.parametrize("args, kw, xs", [((3, 4, 3), dict(stride=2, padding=1), (2, 3, 9)),
                                          ((4, 4, 2), dict(groups=4, dilation=2), (1, 4, 8))])
def test_conv1d_layer_matches_torch(rng, args, kw, xs):
    torch = pytest.importorskip("torch")
    _pair(torch, Conv1d(*args, **kw), torch.nn.Conv1d(*args, **kw), rng.standard_normal(xs).astype(np.float32))


@pytest.mark.parametrize("cls, kw, xs", [
    ("MaxPool2d", dict(kernel_size=3, stride=2, padding=1), (2, 3, 7, 8)),
    ("MaxPool1d", dict(kernel_size=2), (2, 3, 8)),
    ("AvgPool2d", dict(kernel_size=(3, 2), stride=1, padding=(1, 1), ceil_mode=True), (1, 2, 5, 6)),
    ("AvgPool1d", dict(kernel_size=3, stride=2, padding=1, count_include_pad=False), (2, 2, 9)),
    ("AdaptiveAvgPool2d", dict(output_size=1), (2, 3, 5, 5)),
    ("AdaptiveAvgPool1d", dict(output_size=3), (2, 3, 7)),
])
def test_pool_layers_match_torch(rng, cls, kw, xs):
    torch = pytest.importorskip("torch")
    ours = {c.__name__: c for c in (MaxPool1d, MaxPool2d, AvgPool1d, AvgPool2d, AdaptiveAvgPool1d,
                                     AdaptiveAvgPool2d)}[cls](**kw)
    x = (rng.permutation(int(np.prod(xs))).reshape(xs) / 5.0).astype(np.float32)
    _pair(torch, ours, getattr(torch.nn, cls)(**kw), x)


def test_default_init_bounds_are_pytorch_kaiming_uniform():
    ad.manual_seed(0)
    conv = Conv2d(20, 50, 5)
    bound = 1 / math.sqrt(20 * 25)
    w = conv.weight.data
    assert w.shape == (50, 20, 5, 5) and w.dtype == np.float32
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound        # uniform: std = bound / sqrt(3)
    assert np.abs(conv.bias.data).max() <= bound
    grouped = Conv1d(6, 4, 3, groups=2)
    assert np.abs(grouped.weight.data).max() <= 1 / math.sqrt(3 * 3)
    assert [n for n, _ in grouped.named_parameters()] == ["weight", "bias"]


def test_layer_errors_name_the_layer_and_shapes():
    conv = Conv2d(3, 8, 5)
    with pytest.raises(ValueError, match=r"Conv2d: expected input with 3 channels .* got 1 channels \(input \(2, 1, 28, 28\)\)"):
        conv(ad.zeros((2, 1, 28, 28)))
    with pytest.raises(ValueError, match=r"Conv2d: expected a 4-d input \(N, C, H, W\), got shape \(28, 28\)"):
        conv(ad.zeros((28, 28)))
    with pytest.raises(ValueError, match=r"Conv2d: kernel size \(5, 5\) .* larger than the padded input \(4, 4\)"):
        conv(ad.zeros((1, 3, 4, 4)))
    with pytest.raises(ValueError, match=r"Conv2d: groups=4 does not divide in_channels=6"):
        Conv2d(6, 8, 3, groups=4)
    with pytest.raises(ValueError, match=r"Conv1d: groups=2 does not divide out_channels=3"):
        Conv1d(4, 3, 3, groups=2)
    with pytest.raises(ValueError, match=r"MaxPool2d: kernel_size \(3, 3\) .* larger than the padded input \(2, 2\)"):
        MaxPool2d(3)(ad.zeros((1, 1, 2, 2)))
    with pytest.raises(ValueError, match=r"AvgPool1d: expected a \(N, C, L\) or \(C, L\) input, got shape \(1, 1, 4, 4\)"):
        AvgPool1d(2)(ad.zeros((1, 1, 4, 4)))
    with pytest.raises(ValueError, match=r"Conv2d: padding_mode must be one of .* got 'wrap'"):
        Conv2d(1, 1, 3, padding_mode="wrap")


@pytest.mark.parametrize("layer, shape, channels", [(lambda: Conv2d(1, 8, 3), (2, 8, 8), 2),
                                                     (lambda: Conv1d(3, 4, 2), (5, 6), 5)])
def test_unbatched_channel_error_names_the_shape_the_user_passed(layer, shape, channels):
    """A 3-d input to Conv2d (2-d to Conv1d) is read as unbatched; the message shows the user's shape,
    not the batched shape made from it, and says how it was read."""
    layout = r"\(C, H, W\)" if len(shape) == 3 else r"\(C, L\)"
    shown = re.escape(str(shape))
    with pytest.raises(ValueError, match=rf"got {channels} channels \(input of shape {shown}, read as unbatched "
                                         rf"{layout}\)") as info:
        layer()(ad.zeros(shape))
    assert "(1, " + str(shape)[1:] not in str(info.value)


def _lenet(mod):
    return mod.Sequential(mod.Conv2d(1, 20, 5), mod.ReLU(), mod.MaxPool2d(2), mod.Conv2d(20, 50, 5), mod.ReLU(),
                          mod.MaxPool2d(2), mod.Flatten(), mod.Linear(800, 500), mod.ReLU(), mod.Linear(500, 10))


def test_lenet_sgd_step_matches_torch(rng):
    """The course's LeNet: same weights, one cross-entropy SGD step, same loss and same new weights."""
    torch = pytest.importorskip("torch")
    ours_mod = type("M", (), {"Sequential": nn.Sequential, "Conv2d": Conv2d, "ReLU": nn.ReLU,
                              "MaxPool2d": MaxPool2d, "Flatten": nn.Flatten, "Linear": nn.Linear})
    ours, theirs = _lenet(ours_mod), _lenet(torch.nn)
    ours.load_state_dict(theirs.state_dict())
    x = rng.standard_normal((4, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 4)
    opt = nn.optim.SGD(ours.parameters(), lr=0.1)
    loss = nn.functional.cross_entropy(ours(ad.Tensor(x)), ad.Tensor(y))
    opt.zero_grad()
    loss.backward()
    opt.step()
    topt = torch.optim.SGD(theirs.parameters(), lr=0.1)
    tloss = torch.nn.functional.cross_entropy(theirs(torch.tensor(x)), torch.tensor(y))
    topt.zero_grad()
    tloss.backward()
    topt.step()
    assert loss.item() == pytest.approx(tloss.item(), rel=1e-5)
    for k, v in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[k].data, v.numpy(), rtol=1e-4, atol=1e-5)
