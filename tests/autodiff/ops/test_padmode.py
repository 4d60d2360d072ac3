"""autodiff.ops.padmode: reflect / replicate / circular padding against np.pad and torch.nn.functional.pad,
first and second order gradients against finite differences and torch, errors that name the op and shapes."""
import numpy as np
import pytest

import autodiff as ad
from autodiff.ops.padmode import pad, pad_mode

MODES = ["reflect", "replicate", "circular"]
NP = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}

# (input shape, pad pairs per axis (numpy layout))
CASES = [
    ((5,), ((2, 3),)),
    ((4, 6), ((1, 2), (3, 0))),
    ((2, 3, 7), ((0, 0), (0, 0), (3, 2))),
    ((2, 3, 4, 5), ((0, 0), (0, 0), (2, 1), (0, 4))),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shape, pw", CASES)
def test_forward_matches_numpy(mode, shape, pw):
    x = np.random.default_rng(0).standard_normal(shape)
    y = pad_mode(ad.Tensor(x), pw, mode)
    np.testing.assert_array_equal(y.data, np.pad(x, pw, mode=NP[mode]))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shape, pw", CASES[2:])
def test_forward_and_grad_match_torch(mode, shape, pw):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape)
    flat = [p for pair in reversed(pw[2:]) for p in pair]   # torch order: last axis first
    X = ad.Tensor(x, requires_grad=True)
    y = pad(X, flat, mode=mode)
    tx = torch.tensor(x, requires_grad=True)
    ty = torch.nn.functional.pad(tx, flat, mode=mode)
    np.testing.assert_allclose(y.data, ty.detach().numpy())
    g = rng.standard_normal(y.shape)
    (y * ad.Tensor(g)).sum().backward()
    (ty * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(X.grad.data, tx.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shape, pw", CASES)
def test_gradcheck(mode, shape, pw):
    x = ad.Tensor(np.random.default_rng(2).standard_normal(shape), requires_grad=True)
    w = ad.Tensor(np.random.default_rng(3).standard_normal(np.pad(np.zeros(shape), pw).shape))
    assert ad.gradcheck(lambda t: (pad_mode(t, pw, mode) * w).sum(), [x])


@pytest.mark.parametrize("mode", MODES)
def test_grad_counts_copies(mode):
    # the gradient of ones is how many output positions copied each input element
    x = ad.Tensor(np.zeros(4), requires_grad=True)
    pad_mode(x, ((3, 2),), mode).sum().backward()
    counts = np.bincount(np.pad(np.arange(4), (3, 2), mode=NP[mode]), minlength=4)
    np.testing.assert_array_equal(x.grad.data, counts)


@pytest.mark.parametrize("mode", MODES)
def test_second_order_matches_torch(mode):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    x = rng.standard_normal((1, 2, 5))
    X = ad.Tensor(x, requires_grad=True)
    y = pad(X, (2, 3), mode=mode)
    (gx,) = ad.grad((y ** 3).sum(), [X], create_graph=True)
    (gx * gx).sum().backward()
    tx = torch.tensor(x, requires_grad=True)
    ty = torch.nn.functional.pad(tx, (2, 3), mode=mode)
    (tgx,) = torch.autograd.grad((ty ** 3).sum(), [tx], create_graph=True)
    (tgx * tgx).sum().backward()
    np.testing.assert_allclose(gx.data, tgx.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(X.grad.data, tx.grad.numpy(), rtol=1e-10)


def test_second_order_gradcheck():
    # d/dx of sum(gx * v) with gx from create_graph: exercises the fold's backward (the padding)
    v = ad.Tensor(np.random.default_rng(5).standard_normal((2, 6)))

    def f(t):
        (gx,) = ad.grad((pad_mode(t, ((0, 0), (3, 2)), "reflect") ** 2).sum(), [t], create_graph=True)
        return (gx * v).sum()
    x = ad.Tensor(np.random.default_rng(6).standard_normal((2, 6)), requires_grad=True)
    assert ad.gradcheck(f, [x])


@pytest.mark.parametrize("mode, pw, msg", [
    ("reflect", ((0, 0), (3, 0)), r"reflect padding \(3, 0\) on axis 1 must be smaller than that axis' size 3 "
                                  r"\(input \(2, 3\)\)"),
    ("circular", ((0, 0), (0, 4)), r"circular padding \(0, 4\) on axis 1 must not exceed .* size 3 "
                                   r"\(input \(2, 3\)\)"),
    ("replicate", ((0, 0), (-1, 0)), r"non-negative, got \(-1, 0\) on axis 1"),
    ("wrap", ((0, 0), (1, 1)), r"mode must be one of \('reflect', 'replicate', 'circular'\), got 'wrap'"),
])
def test_errors(mode, pw, msg):
    with pytest.raises(ValueError, match=msg):
        pad_mode(ad.Tensor(np.zeros((2, 3))), pw, mode, name="myop")
    with pytest.raises(ValueError, match="myop"):
        pad_mode(ad.Tensor(np.zeros((2, 3))), pw, mode, name="myop")


def test_edge_pads_allowed_as_torch():
    # circular pad == size and reflect pad == size - 1 are valid in PyTorch
    x = np.arange(3.0)
    np.testing.assert_array_equal(pad_mode(ad.Tensor(x), ((3, 3),), "circular").data, np.tile(x, 3))
    np.testing.assert_array_equal(pad_mode(ad.Tensor(x), ((2, 2),), "reflect").data, [2, 1, 0, 1, 2, 1, 0])


def test_functional_pad_constant_and_errors():
    x = ad.Tensor(np.ones((2, 3)))
    np.testing.assert_array_equal(pad(x, (1, 2), value=5.0).data, np.pad(np.ones((2, 3)), ((0, 0), (1, 2)),
                                                                     constant_values=5.0))
    with pytest.raises(ValueError, match=r"pad: pad \(1, 2, 3\) must have an even length"):
        pad(x, (1, 2, 3))
    with pytest.raises(ValueError, match="mode must be"):
        pad(x, (1, 1), mode="bogus")


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("pads", [(2, -1, 0, 0), (-2, 3, 1, 1), (-1, -1, 2, -2), (1, 2, -3, 1)])
def test_negative_pads_crop_as_torch(mode, pads, rng):
    torch = pytest.importorskip("torch")
    x = rng.normal(size=(2, 3, 5, 6))
    a = ad.tensor(x, requires_grad=True)
    t = torch.tensor(x, requires_grad=True)
    ya = pad(a, pads, mode=mode)
    yt = torch.nn.functional.pad(t, pads, mode=mode)
    w = rng.normal(size=tuple(yt.shape))
    (ya * ad.tensor(w)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(ya.data, yt.detach().numpy())
    np.testing.assert_allclose(a.grad.data, t.grad.numpy())


def test_pads_that_crop_everything_are_refused():
    with pytest.raises(ValueError, match=r"pad: padding \(-3, -3\) leaves no element on axis 1"):
        pad(ad.tensor(np.ones((2, 5))), (-3, -3))
