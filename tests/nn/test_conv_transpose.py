"""ConvTranspose1d/2d and F.conv_transpose1d/2d: values and gradients (input, weight, bias) against PyTorch
over stride, padding, output_padding, groups and dilation, float32 and float64; gradcheck; layer
parameters, init, output_size and errors."""
import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


# (dims, input shape, weight shape, stride, padding, output_padding, groups, dilation)
CASES = [
    (2, (2, 3, 4, 5), (3, 2, 3, 2), 1, 0, 0, 1, 1),
    (2, (2, 4, 5, 4), (4, 3, 3, 3), 2, 1, 1, 2, 1),
    (2, (1, 4, 3, 3), (4, 1, 2, 3), (2, 3), (1, 0), (1, 2), 4, (2, 1)),
    (2, (2, 6, 5, 4), (6, 2, 3, 3), 1, 2, 0, 3, 2),
    (2, (3, 2, 1, 1), (2, 3, 1, 1), 1, 0, 0, 1, 1),
    (2, (5, 3, 4), (5, 2, 2, 2), 2, 0, 1, 1, 1),  # unbatched (C, H, W)
    (1, (2, 3, 7), (3, 4, 3), 2, 1, 1, 1, 1),
    (1, (3, 6), (3, 2, 2), 3, 0, 2, 3, 2),  # unbatched (C, L)
    (1, (4, 2, 1), (2, 3, 4), 1, 0, 0, 1, 3),
]
IDS = [f"{c[0]}d-{i}" for i, c in enumerate(CASES)]


def _fns(torch, dims):
    if dims == 2:
        return F.conv_transpose2d, torch.nn.functional.conv_transpose2d
    return F.conv_transpose1d, torch.nn.functional.conv_transpose1d


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_conv_transpose_matches_torch(torch, rng, case, dtype):
    dims, xs, ws, stride, padding, output_padding, groups, dilation = case
    ours_fn, torch_fn = _fns(torch, dims)
    arrays = [rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[1] * groups)]
    arrays = [a.astype(dtype) for a in arrays]
    args = (stride, padding, output_padding, groups, dilation)
    ours = [ad.Tensor(a.copy(), requires_grad=True) for a in arrays]
    y = ours_fn(*ours, *args)
    g = rng.standard_normal(y.shape).astype(dtype)
    y.backward(ad.Tensor(g))
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    yr = torch_fn(*theirs, *args)
    yr.backward(torch.tensor(g))
    tol = 1e-4 if dtype == np.float32 else 1e-11
    assert y.dtype == dtype and y.shape == tuple(yr.shape)
    np.testing.assert_allclose(y.data, yr.detach().numpy(), rtol=tol, atol=tol)
    for name, a, b in zip(("input", "weight", "bias"), ours, theirs):
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), rtol=tol, atol=tol, err_msg=name)


@pytest.mark.parametrize("case", CASES[:4] + CASES[6:8], ids=IDS[:4] + IDS[6:8])
def test_conv_transpose_gradcheck(rng, case):
    dims, xs, ws, stride, padding, output_padding, groups, dilation = case
    fn = F.conv_transpose2d if dims == 2 else F.conv_transpose1d
    tensors = [ad.Tensor(rng.standard_normal(s), requires_grad=True) for s in (xs, ws, (ws[1] * groups,))]
    assert ad.gradcheck(lambda x, w, b: fn(x, w, b, stride, padding, output_padding, groups, dilation), tensors)


def test_conv_transpose_without_bias_and_gradient_only_for_input(torch, rng):
    x, w = rng.standard_normal((2, 3, 4, 4)), rng.standard_normal((3, 2, 3, 3))
    xt = ad.Tensor(x, requires_grad=True)
    F.conv_transpose2d(xt, ad.Tensor(w), stride=2).sum().backward()
    xr = torch.tensor(x, requires_grad=True)
    torch.nn.functional.conv_transpose2d(xr, torch.tensor(w), stride=2).sum().backward()
    np.testing.assert_allclose(xt.grad.data, xr.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("cls,kw", [
    ("ConvTranspose2d", dict(in_channels=4, out_channels=6, kernel_size=3, stride=2, padding=1, output_padding=1,
                             groups=2)),
    ("ConvTranspose2d", dict(in_channels=3, out_channels=2, kernel_size=(2, 3), bias=False, dilation=2)),
    ("ConvTranspose1d", dict(in_channels=3, out_channels=4, kernel_size=3, stride=3, output_padding=2)),
])
def test_conv_transpose_layers_match_torch(torch, rng, cls, kw):
    ours, ref = getattr(nn, cls)(**kw), getattr(torch.nn, cls)(**kw)
    assert repr(ours) == repr(ref)
    assert [(n, tuple(p.shape)) for n, p in ours.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in ref.named_parameters()]
    # PyTorch's init bound: 1/sqrt(fan_in) with fan_in = weight dim 1 times the kernel size
    bound = 1 / np.sqrt(ours.weight.shape[1] * np.prod(ours.kernel_size))
    assert np.abs(ours.weight.data).max() <= bound
    ours.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    x = rng.standard_normal((2, kw["in_channels"]) + (5,) * (2 if cls.endswith("2d") else 1)).astype(np.float32)
    np.testing.assert_allclose(ours(ad.Tensor(x)).data, ref(torch.tensor(x)).detach().numpy(), rtol=1e-5,
                               atol=1e-5)


def test_conv_transpose_output_size_picks_output_padding_like_torch(torch, rng):
    ours = nn.ConvTranspose2d(2, 3, 3, stride=3, padding=1)
    ref = torch.nn.ConvTranspose2d(2, 3, 3, stride=3, padding=1)
    ours.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    x = rng.standard_normal((1, 2, 4, 4)).astype(np.float32)
    for size in [(10, 10), (11, 12), (1, 3, 12, 10)]:
        y = ours(ad.Tensor(x), output_size=size)
        yr = ref(torch.tensor(x), output_size=size)
        assert y.shape == tuple(yr.shape)
        np.testing.assert_allclose(y.data, yr.detach().numpy(), rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="ConvTranspose2d: requested an output size of"):
        ours(ad.Tensor(x), output_size=(13, 10))


def test_conv_transpose_errors_name_the_op_and_shapes():
    x, w = ad.ones(1, 3, 4, 4), ad.ones(3, 2, 3, 3)
    with pytest.raises(ValueError, match=r"conv_transpose2d: expected input with 3 channels.*\(1, 4, 4, 4\)"):
        F.conv_transpose2d(ad.ones(1, 4, 4, 4), w)
    with pytest.raises(ValueError, match="output_padding"):
        F.conv_transpose2d(x, w, stride=2, output_padding=2)
    with pytest.raises(ValueError, match=r"bias must have shape \(2,\)"):
        F.conv_transpose2d(x, w, ad.ones(3))
    with pytest.raises(ValueError, match="conv_transpose1d: weight must be 3-d"):
        F.conv_transpose1d(ad.ones(1, 3, 4), w)
    with pytest.raises(ValueError, match="padding_mode"):
        nn.ConvTranspose2d(3, 2, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="ConvTranspose1d: padding must be an int.*'same'"):
        nn.ConvTranspose1d(3, 2, 3, padding="same")
    with pytest.raises(ValueError, match="conv_transpose2d: padding must be an int"):
        F.conv_transpose2d(x, w, padding="valid")
