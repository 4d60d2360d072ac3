"""GroupNorm / InstanceNorm1d-3d and their function forms vs PyTorch: forward, backward, running stats."""
import numpy as np
import pytest

import autodiff
import nn
import nn.functional as F

torch = pytest.importorskip("torch")

TOL = {np.float32: 2e-5, np.float64: 1e-10}


def _compare(ours, ref, x, dtype, rng):
    xt = autodiff.Tensor(x, requires_grad=True)
    tt = torch.tensor(x, requires_grad=True)
    y, yt = ours(xt), ref(tt)
    g = rng.standard_normal(tuple(yt.shape)).astype(dtype)
    (y * autodiff.Tensor(g)).sum().backward()
    (yt * torch.tensor(g)).sum().backward()
    tol = TOL[dtype]
    assert y.data.dtype == dtype
    np.testing.assert_allclose(y.data, yt.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(xt.grad.data, tt.grad.numpy(), rtol=tol * 10, atol=tol * 10)
    return xt, tt


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,groups", [((2, 6, 5), 3), ((3, 4, 3, 3), 2), ((2, 4, 2, 3, 2), 4), ((2, 6), 1)])
def test_group_norm_matches_torch(dtype, shape, groups):
    rng = np.random.default_rng(1)
    x = (rng.standard_normal(shape) * 3 + 1).astype(dtype)
    c = shape[1]
    ours = nn.GroupNorm(groups, c, dtype=dtype)
    ref = torch.nn.GroupNorm(groups, c, dtype=torch.float32 if dtype == np.float32 else torch.float64)
    w, b = rng.standard_normal(c).astype(dtype), rng.standard_normal(c).astype(dtype)
    ours.weight.data[...] = w
    ours.bias.data[...] = b
    with torch.no_grad():
        ref.weight.copy_(torch.tensor(w))
        ref.bias.copy_(torch.tensor(b))
    assert repr(ours) == repr(ref)
    assert [(n, p.shape) for n, p in ours.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in ref.named_parameters()]
    _compare(ours, ref, x, dtype, rng)
    np.testing.assert_allclose(ours.weight.grad.data, ref.weight.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(ours.bias.grad.data, ref.bias.grad.numpy(), rtol=1e-4, atol=1e-4)
    y = F.group_norm(autodiff.Tensor(x), groups, eps=1e-3)
    np.testing.assert_allclose(y.data, torch.nn.functional.group_norm(torch.tensor(x), groups, eps=1e-3).numpy(),
                               rtol=TOL[dtype], atol=TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize("affine,track", [(False, False), (True, False), (True, True), (False, True)])
def test_instance_norm_matches_torch(dtype, d, affine, track):
    rng = np.random.default_rng(d)
    tdt = torch.float32 if dtype == np.float32 else torch.float64
    ours = getattr(nn, f"InstanceNorm{d}d")(3, affine=affine, track_running_stats=track, dtype=dtype)
    ref = getattr(torch.nn, f"InstanceNorm{d}d")(3, affine=affine, track_running_stats=track, dtype=tdt)
    assert repr(ours) == repr(ref)
    assert list(ours.state_dict()) == list(ref.state_dict())
    for batched in (True, False):
        x = (rng.standard_normal(((2,) if batched else ()) + (3,) + (4,) * d) * 2 - 1).astype(dtype)
        _compare(ours, ref, x, dtype, rng)
        if affine:
            np.testing.assert_allclose(ours.weight.grad.data, ref.weight.grad.numpy(), rtol=1e-4, atol=1e-4)
            ours.weight.grad = None
            ref.weight.grad = None
    if track:
        np.testing.assert_allclose(ours.running_mean.data, ref.running_mean.numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(ours.running_var.data, ref.running_var.numpy(), rtol=1e-5, atol=1e-6)
        assert int(ours.num_batches_tracked.data) == int(ref.num_batches_tracked)
    ours.eval()
    ref.eval()
    x = rng.standard_normal((2, 3) + (4,) * d).astype(dtype)
    _compare(ours, ref, x, dtype, rng)


def test_instance_norm_function_and_gradcheck():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 5))
    rm, rv = autodiff.Tensor(np.zeros(3)), autodiff.Tensor(np.ones(3))
    trm, trv = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    y = F.instance_norm(autodiff.Tensor(x), rm, rv, momentum=0.3)
    yt = torch.nn.functional.instance_norm(torch.tensor(x), trm, trv, momentum=0.3)
    np.testing.assert_allclose(y.data, yt.numpy(), atol=1e-12)
    np.testing.assert_allclose(rm.data, trm.numpy(), atol=1e-12)
    np.testing.assert_allclose(rv.data, trv.numpy(), atol=1e-12)
    w = autodiff.Tensor(rng.standard_normal(3), requires_grad=True)
    xt = autodiff.Tensor(x, requires_grad=True)
    assert autodiff.gradcheck(lambda a, b: F.group_norm(a, 3, b), (xt, w))


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="GroupNorm"):
        nn.GroupNorm(4, 6)
    with pytest.raises(ValueError, match="GroupNorm"):
        nn.GroupNorm(2, 6)(autodiff.Tensor(np.zeros((2, 4, 3), np.float32)))
    with pytest.raises(ValueError, match="InstanceNorm2d"):
        nn.InstanceNorm2d(3)(autodiff.Tensor(np.zeros((2, 3), np.float32)))
    with pytest.raises(ValueError, match="instance_norm"):
        nn.InstanceNorm1d(3)(autodiff.Tensor(np.zeros((2, 3, 1), np.float32)))


@pytest.mark.parametrize("affine,bias", [(True, False), (False, True)])
def test_bias_flag_matches_torch(affine, bias):
    for ours, ref in [(nn.GroupNorm(2, 4, affine=affine, bias=bias),
                       torch.nn.GroupNorm(2, 4, affine=affine, bias=bias)),
                      (nn.InstanceNorm2d(4, affine=affine, bias=bias),
                       torch.nn.InstanceNorm2d(4, affine=affine, bias=bias))]:
        assert repr(ours) == repr(ref)
        assert list(ours.state_dict()) == list(ref.state_dict())
        x = np.random.default_rng(0).standard_normal((2, 4, 3, 3)).astype(np.float32)
        np.testing.assert_allclose(ours(autodiff.Tensor(x)).data, ref(torch.tensor(x)).detach().numpy(),
                                   rtol=2e-5, atol=2e-5)


@pytest.mark.parametrize("fn", ["group_norm", "instance_norm"])
def test_second_order_matches_torch(fn):
    x = np.random.default_rng(0).standard_normal((2, 4, 3))
    args = (2,) if fn == "group_norm" else ()
    a = autodiff.Tensor(x, requires_grad=True)
    g, = autodiff.grad((getattr(F, fn)(a, *args) ** 3).sum(), [a], create_graph=True)
    (g * g).sum().backward()
    t = torch.tensor(x, requires_grad=True)
    gt, = torch.autograd.grad((getattr(torch.nn.functional, fn)(t, *args) ** 3).sum(), [t], create_graph=True)
    (gt * gt).sum().backward()
    np.testing.assert_allclose(a.grad.data, t.grad.numpy(), rtol=1e-9, atol=1e-9)
