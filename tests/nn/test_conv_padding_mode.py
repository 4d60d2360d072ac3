"""nn.Conv1d/Conv2d with padding_mode reflect / replicate / circular against torch.nn.Conv1d/Conv2d
(same weights): outputs and gradients of input, weight and bias; errors name the layer and shapes."""
import numpy as np
import pytest

import autodiff as ad
from nn.layers.conv import Conv1d, Conv2d

MODES = ["reflect", "replicate", "circular"]


def _compare(torch, ours, theirs, x):
    with torch.no_grad():   # copy our weights into torch
        theirs.weight.copy_(torch.tensor(ours.weight.data))
        if ours.bias is not None:
            theirs.bias.copy_(torch.tensor(ours.bias.data))
    X = ad.Tensor(x, requires_grad=True)
    y = ours(X)
    tx = torch.tensor(x, requires_grad=True)
    ty = theirs(tx)
    assert y.shape == tuple(ty.shape)
    g = np.random.default_rng(9).standard_normal(y.shape)
    (y * ad.Tensor(g)).sum().backward()
    (ty * torch.tensor(g)).sum().backward()
    tol = dict(rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(y.data, ty.detach().numpy(), **tol)
    np.testing.assert_allclose(X.grad.data, tx.grad.numpy(), **tol)
    np.testing.assert_allclose(ours.weight.grad.data, theirs.weight.grad.numpy(), **tol)
    if ours.bias is not None:
        np.testing.assert_allclose(ours.bias.grad.data, theirs.bias.grad.numpy(), **tol)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("layer, args, kw, xs", [
    ("Conv2d", (2, 3, 3), dict(padding=1), (2, 2, 5, 6)),
    ("Conv2d", (2, 4, (3, 2)), dict(padding=(2, 1), stride=(2, 1), dilation=(1, 2)), (1, 2, 6, 5)),
    ("Conv2d", (2, 2, (4, 3)), dict(padding="same", bias=False), (2, 2, 5, 4)),  # asymmetric same padding
    ("Conv2d", (4, 4, 3), dict(padding="same", dilation=2, groups=2), (1, 4, 5, 6)),
    ("Conv2d", (2, 3, 3), dict(padding=(0, 2), stride=2), (2, 5, 5)),  # unbatched, pads on one axis only
    ("Conv1d", (2, 3, 3), dict(padding=2), (2, 2, 7)),
    ("Conv1d", (3, 2, 3), dict(padding=3, stride=2, dilation=2), (1, 3, 9)),
    ("Conv1d", (2, 2, 4), dict(padding="same"), (2, 2, 6)),            # asymmetric same padding (1, 2)
])
def test_conv_padding_mode_matches_torch(rng, mode, layer, args, kw, xs):
    torch = pytest.importorskip("torch")
    ours = {"Conv1d": Conv1d, "Conv2d": Conv2d}[layer](*args, padding_mode=mode, dtype=np.float64, **kw)
    theirs = getattr(torch.nn, layer)(*args, padding_mode=mode, dtype=torch.float64, **kw)
    _compare(torch, ours, theirs, rng.standard_normal(xs))


@pytest.mark.parametrize("mode", MODES)
def test_padding_mode_gradcheck(rng, mode):
    conv = Conv2d(2, 2, 3, padding=(1, 2), padding_mode=mode, dtype=np.float64)
    x = ad.Tensor(rng.standard_normal((1, 2, 4, 5)), requires_grad=True)
    assert ad.gradcheck(lambda t: (conv(t) ** 2).sum(), [x])


def test_zero_padding_is_a_noop_and_state_dict_unchanged():
    a = Conv2d(2, 3, 3, padding_mode="circular")
    b = Conv2d(2, 3, 3)
    assert set(a.state_dict()) == set(b.state_dict()) == {"weight", "bias"}
    b.load_state_dict(a.state_dict())
    x = np.random.default_rng(0).standard_normal((1, 2, 5, 5)).astype(np.float32)
    np.testing.assert_array_equal(a(ad.Tensor(x)).data, b(ad.Tensor(x)).data)


def test_extra_repr_as_torch():
    torch = pytest.importorskip("torch")
    for mode in ["zeros"] + MODES:
        assert (Conv2d(2, 3, 3, padding=1, padding_mode=mode).extra_repr()
                == torch.nn.Conv2d(2, 3, 3, padding=1, padding_mode=mode).extra_repr())
        assert (Conv1d(2, 3, 3, padding=1, padding_mode=mode).extra_repr()
                == torch.nn.Conv1d(2, 3, 3, padding=1, padding_mode=mode).extra_repr())


def test_invalid_mode():
    with pytest.raises(ValueError, match=r"Conv2d: padding_mode must be one of .*'circular'\), got 'wrap'"):
        Conv2d(2, 3, 3, padding_mode="wrap")
    with pytest.raises(ValueError, match=r"Conv1d: padding_mode .* got 'edge'"):
        Conv1d(2, 3, 3, padding_mode="edge")


@pytest.mark.parametrize("cls, mode, kw, xs, msg", [
    (Conv2d, "reflect", dict(padding=2), (1, 2, 2, 5),
     r"Conv2d: reflect padding \(2, 2\) on axis 2 must be smaller than that axis' size 2 \(input \(1, 2, 2, 5\)\)"),
    (Conv2d, "circular", dict(padding=(1, 4)), (1, 2, 5, 3),
     r"Conv2d: circular padding \(4, 4\) on axis 3 must not exceed that axis' size 3 \(input \(1, 2, 5, 3\)\)"),
    (Conv1d, "reflect", dict(padding=3), (2, 3),
     r"Conv1d: reflect padding \(3, 3\) on axis 1 .* size 3 \(input \(2, 3\)\)"),
])
def test_too_small_input_errors(cls, mode, kw, xs, msg):
    conv = cls(2, 2, 3, padding_mode=mode, **kw)
    with pytest.raises(ValueError, match=msg):
        conv(ad.Tensor(np.zeros(xs, np.float32)))


def test_wrong_ndim_still_named_by_conv():
    with pytest.raises(ValueError, match=r"Conv2d: expected a 4-d input"):
        Conv2d(2, 2, 3, padding=1, padding_mode="reflect")(ad.Tensor(np.zeros((2, 5), np.float32)))


def test_functional_pad_is_exported_and_matches_torch(rng):
    torch = pytest.importorskip("torch")
    import nn.functional as F
    x = rng.standard_normal((2, 3, 4, 5))
    for mode in ("constant", "reflect", "replicate", "circular"):
        ours = F.pad(ad.Tensor(x), (1, 2, 2, 1), mode=mode).data
        ref = torch.nn.functional.pad(torch.tensor(x), (1, 2, 2, 1), mode=mode).numpy()
        np.testing.assert_allclose(ours, ref, rtol=0, atol=0, err_msg=mode)
