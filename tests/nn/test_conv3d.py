"""Conv3d / ConvTranspose3d and F.conv3d / F.conv_transpose3d: values and gradients (input, weight, bias)
against PyTorch over stride, padding ('same'/'valid'), dilation, groups, output_padding, padding modes and
unbatched input, float32 and float64; gradcheck and second-order gradcheck in float64; the layers'
parameter shapes, state_dict keys, init bounds, output_size; errors naming the op and the shapes."""
import math

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


# (input shape, weight shape, stride, padding, dilation, groups)
CONV_CASES = [
    ((2, 3, 5, 4, 6), (4, 3, 3, 2, 3), 1, 0, 1, 1),
    ((2, 4, 6, 5, 5), (6, 2, 3, 3, 3), 2, 1, 1, 2),
    ((1, 6, 7, 5, 6), (3, 2, 2, 3, 2), (1, 2, 3), (1, 0, 2), (2, 1, 2), 3),
    ((2, 2, 5, 6, 4), (4, 2, 2, 3, 3), 1, "same", (1, 2, 1), 1),
    ((2, 2, 5, 6, 4), (4, 1, 3, 2, 3), 1, "valid", 1, 2),
    ((3, 4, 5, 4), (2, 3, 2, 2, 2), 2, 1, 1, 1),  # unbatched (C, D, H, W)
    ((2, 3, 1, 1, 1), (5, 3, 1, 1, 1), 1, 0, 1, 1),
]
# (input shape, weight shape, stride, padding, output_padding, groups, dilation)
CONVT_CASES = [
    ((2, 3, 3, 4, 2), (3, 2, 3, 2, 3), 1, 0, 0, 1, 1),
    ((2, 4, 3, 3, 4), (4, 3, 3, 3, 2), 2, 1, 1, 2, 1),
    ((1, 6, 2, 3, 3), (6, 1, 2, 3, 2), (2, 3, 1), (1, 0, 0), (1, 2, 0), 3, (1, 1, 2)),
    ((2, 2, 3, 2, 3), (2, 2, 2, 2, 2), 1, 1, (1, 0, 1), 1, 2),  # output_padding < dilation
    ((4, 2, 3, 2), (4, 3, 2, 2, 2), 2, 0, 1, 1, 1),  # unbatched
]


def _compare(torch, ours_fn, torch_fn, rng, shapes, args, dtype):
    arrays = [rng.standard_normal(s).astype(dtype) for s in shapes]
    ours = [ad.Tensor(a.copy(), requires_grad=True) for a in arrays]
    y = ours_fn(*ours, *args)
    g = rng.standard_normal(y.shape).astype(dtype)
    y.backward(ad.Tensor(g))
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    yr = torch_fn(*theirs, *args)
    yr.backward(torch.tensor(g))
    tol = 2e-4 if dtype == np.float32 else 1e-11
    assert y.dtype == dtype and y.shape == tuple(yr.shape)
    np.testing.assert_allclose(y.data, yr.detach().numpy(), rtol=tol, atol=tol)
    for name, a, b in zip(("input", "weight", "bias"), ours, theirs):
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), rtol=tol, atol=tol, err_msg=name)


# torch warns that 'same' padding with an even kernel copies its input
@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CONV_CASES)
def test_conv3d_matches_torch(torch, rng, case, dtype):
    xs, ws, stride, padding, dilation, groups = case
    _compare(torch, F.conv3d, torch.nn.functional.conv3d, rng, (xs, ws, ws[:1]),
             (stride, padding, dilation, groups), dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CONVT_CASES)
def test_conv_transpose3d_matches_torch(torch, rng, case, dtype):
    xs, ws, stride, padding, output_padding, groups, dilation = case
    _compare(torch, F.conv_transpose3d, torch.nn.functional.conv_transpose3d, rng,
             (xs, ws, (ws[1] * groups,)), (stride, padding, output_padding, groups, dilation), dtype)


def _second_order(fn, x, w):
    """<d|y|^2/dx, u> + <d|y|^2/dw, v>: its gradient needs the backward of the backward."""
    rng = np.random.default_rng(5)
    u, v = ad.Tensor(rng.standard_normal(x.shape)), ad.Tensor(rng.standard_normal(w.shape))

    def f(a, b):
        y = fn(a, b)
        ga, gb = ad.grad((y * y).sum(), [a, b], create_graph=True)
        return (ga * u).sum() + (gb * v).sum()
    return ad.gradcheck(f, (x, w))


@pytest.mark.parametrize("transpose", [False, True])
def test_conv3d_gradcheck_first_and_second_order(rng, transpose):
    x = ad.Tensor(rng.standard_normal((1, 4, 3, 4, 3)), requires_grad=True)
    if transpose:
        w = ad.Tensor(rng.standard_normal((4, 1, 2, 2, 3)), requires_grad=True)
        b = ad.Tensor(rng.standard_normal(2), requires_grad=True)

        def fn(a, c, bias=None):
            return F.conv_transpose3d(a, c, bias, (2, 1, 1), (0, 1, 1), (1, 0, 0), 2, (1, 2, 1))
    else:
        w = ad.Tensor(rng.standard_normal((2, 2, 2, 2, 3)), requires_grad=True)
        b = ad.Tensor(rng.standard_normal(2), requires_grad=True)

        def fn(a, c, bias=None):
            return F.conv3d(a, c, bias, (1, 2, 1), (1, 0, 1), (1, 1, 2), 2)
    assert ad.gradcheck(lambda a, c, d: fn(a, c, d), (x, w, b))
    assert _second_order(fn, x, w)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_conv3d_layer_padding_modes_match_torch(torch, rng, mode):
    ours = nn.Conv3d(2, 3, (3, 2, 3), padding=(1, 1, 2), padding_mode=mode, dtype=np.float64)
    ref = torch.nn.Conv3d(2, 3, (3, 2, 3), padding=(1, 1, 2), padding_mode=mode).double()
    ref.load_state_dict({k: torch.tensor(v.data) for k, v in ours.state_dict().items()})
    x = rng.standard_normal((2, 2, 4, 3, 5))
    xt = ad.Tensor(x, requires_grad=True)
    xr = torch.tensor(x, requires_grad=True)
    y, yr = ours(xt), ref(xr)
    y.sum().backward()
    yr.sum().backward()
    np.testing.assert_allclose(y.data, yr.detach().numpy(), rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(xt.grad.data, xr.grad.numpy(), rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(ours.weight.grad.data, ref.weight.grad.numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("cls_name, args, weight_shape, fan_in", [
    ("Conv3d", (4, 6, (3, 2, 1)), (6, 4, 3, 2, 1), 4 * 6),
    ("Conv3d", (4, 6, 2, 1, 0, 1, 2), (6, 2, 2, 2, 2), 2 * 8),
    ("ConvTranspose3d", (4, 6, (3, 2, 1)), (4, 6, 3, 2, 1), 6 * 6),
    ("ConvTranspose3d", (4, 6, 2, 1, 0, 0, 2), (4, 3, 2, 2, 2), 3 * 8),
])
def test_layer_parameters_state_dict_and_init_as_torch(torch, cls_name, args, weight_shape, fan_in):
    ours = getattr(nn, cls_name)(*args)
    ref = getattr(torch.nn, cls_name)(*args)
    assert list(ours.state_dict()) == list(ref.state_dict()) == ["weight", "bias"]
    assert ours.weight.shape == tuple(ref.weight.shape) == weight_shape
    assert ours.bias.shape == tuple(ref.bias.shape)
    assert ours.weight.dtype == np.float32
    bound = 1 / math.sqrt(fan_in)  # kaiming_uniform(a=sqrt(5)) and the bias bound are both 1/sqrt(fan_in)
    for p in (ours.weight.data, ours.bias.data):
        assert np.abs(p).max() <= bound
        assert np.abs(p).max() > 0.5 * bound  # drawn from the whole range, not a narrower one
    assert getattr(nn, cls_name)(*args, bias=False).bias is None


def test_conv_transpose3d_layer_output_size_matches_torch(torch, rng):
    ours = nn.ConvTranspose3d(2, 3, 3, stride=(2, 3, 2), padding=1, dtype=np.float64)
    ref = torch.nn.ConvTranspose3d(2, 3, 3, stride=(2, 3, 2), padding=1).double()
    ref.load_state_dict({k: torch.tensor(v.data) for k, v in ours.state_dict().items()})
    x = rng.standard_normal((1, 2, 3, 2, 4))
    y = ours(ad.Tensor(x), output_size=(6, 5, 8))
    yr = ref(torch.tensor(x), output_size=(6, 5, 8))
    assert y.shape == tuple(yr.shape) == (1, 3, 6, 5, 8)
    np.testing.assert_allclose(y.data, yr.detach().numpy(), rtol=1e-11, atol=1e-11)
    with pytest.raises(ValueError, match=r"ConvTranspose3d: requested an output size of \(9, 5, 8\)"):
        ours(ad.Tensor(x), output_size=(9, 5, 8))


@pytest.mark.parametrize("call, match", [
    (lambda: F.conv3d(ad.zeros((2, 3, 4, 4)), ad.zeros((2, 3, 2, 2))),
     r"conv3d: weight must be 5-d .* got shape \(2, 3, 2, 2\)"),
    (lambda: F.conv3d(ad.zeros((2, 3, 4, 4, 4, 1)), ad.zeros((2, 3, 2, 2, 2))),
     r"conv3d: expected a 5-d input .* got shape \(2, 3, 4, 4, 4, 1\)"),
    (lambda: F.conv3d(ad.zeros((2, 4, 4, 4, 4)), ad.zeros((2, 3, 2, 2, 2))),
     r"conv3d: expected input with 3 channels \(weight \(2, 3, 2, 2, 2\), groups=1\), got 4 channels"),
    (lambda: F.conv3d(ad.zeros((2, 3, 4, 4, 1)), ad.zeros((2, 3, 2, 2, 2))),
     r"conv3d: kernel size \(2, 2, 2\) .* larger than the padded input \(4, 4, 1\)"),
    (lambda: F.conv3d(ad.zeros((2, 3, 4, 4, 4)), ad.zeros((2, 3, 2, 2, 2)), stride=2, padding="same"),
     r"conv3d: padding='same' needs stride 1"),
    (lambda: F.conv3d(ad.zeros((2, 4, 4, 4, 4)), ad.zeros((3, 2, 2, 2, 2)), groups=2),
     r"conv3d: groups=2 does not divide out_channels=3"),
    (lambda: F.conv3d(ad.zeros((2, 3, 4, 4, 4)), ad.zeros((2, 3, 2, 2, 2)), ad.zeros(3)),
     r"conv3d: bias must have shape \(2,\), got \(3,\)"),
    (lambda: F.conv_transpose3d(ad.zeros((2, 3, 4, 4, 4)), ad.zeros((2, 3, 2, 2, 2))),
     r"conv_transpose3d: expected input with 2 channels \(weight \(2, 3, 2, 2, 2\)\), got 3"),
    (lambda: F.conv_transpose3d(ad.zeros((2, 2, 4, 4, 4)), ad.zeros((2, 3, 2, 2, 2)), stride=2, output_padding=2),
     r"conv_transpose3d: output_padding \(2, 2, 2\) must be smaller than either stride \(2, 2, 2\)"),
    (lambda: F.conv_transpose3d(ad.zeros((2, 2, 4, 4, 4)), ad.zeros((2, 3, 2, 2, 2)), padding="same"),
     r"conv_transpose3d: padding must be an int or a tuple of 3 ints"),
    (lambda: nn.Conv3d(2, 4, 3)(ad.zeros((1, 3, 5, 5, 5))),
     r"Conv3d: expected input with 2 channels"),
    (lambda: nn.Conv3d(2, 4, 3, padding=3, padding_mode="reflect")(ad.zeros((1, 2, 3, 5, 5))),
     r"Conv3d: reflect padding \(3, 3\) on axis 2 must be smaller than that axis' size 3"),
    (lambda: nn.Conv3d(3, 4, 3, groups=2), r"Conv3d: groups=2 does not divide in_channels=3"),
])
def test_errors_name_the_op_and_the_shapes(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


def test_integer_input_is_refused():
    with pytest.raises(TypeError, match=r"conv3d: expected a float32 or float64 input, got dtype int64"):
        F.conv3d(ad.Tensor(np.zeros((1, 1, 2, 2, 2), np.int64)), ad.zeros((1, 1, 1, 1, 1)))
