"""F.interpolate / nn.Upsample, F.unfold / F.fold (nn.Unfold / nn.Fold), F.pixel_shuffle / pixel_unshuffle and
nn.Unflatten: values and gradients against PyTorch (float32 and float64), gradcheck, second derivatives,
reprs and errors."""
import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _compare(torch, ours_call, torch_call, x, rng, tol):
    xt = ad.Tensor(x.copy(), requires_grad=True)
    y = ours_call(F, xt)
    g = rng.standard_normal(y.shape).astype(x.dtype)
    y.backward(ad.Tensor(g))
    xr = torch.tensor(x, requires_grad=True)
    yr = torch_call(torch.nn.functional, xr)
    yr.backward(torch.tensor(g))
    assert y.dtype == x.dtype and y.shape == tuple(yr.shape)
    np.testing.assert_allclose(y.data, yr.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(xt.grad.data, xr.grad.numpy(), rtol=tol, atol=tol * 10)


# (mode, spatial dims, interpolate kwargs): sizes that are not multiples of the input, fractional scales,
# scale_factor with and without recompute_scale_factor, align_corners both ways, size-1 inputs and outputs
INTERP = [(mode, dims, kw)
          for mode, dims in [("nearest", 1), ("nearest", 2), ("nearest", 3), ("nearest-exact", 2), ("linear", 1),
                             ("bilinear", 2), ("bicubic", 2), ("trilinear", 3), ("area", 2)]
          for kw in [{"size": 7}, {"size": 2}, {"size": 1}, {"scale_factor": 2.0}, {"scale_factor": 1.7},
                     {"scale_factor": 0.6}, {"scale_factor": 1.7, "recompute_scale_factor": True}]
          if not (dims == 3 and "size" in kw and kw["size"] == 7)]
INTERP += [(mode, dims, dict(kw, align_corners=True)) for mode, dims in [("linear", 1), ("bilinear", 2),
                                                                         ("bicubic", 2), ("trilinear", 3)]
           for kw in [{"size": 7}, {"size": 1}, {"scale_factor": 1.7}]]
INTERP += [("bilinear", 2, {"size": (3, 8)}), ("bicubic", 2, {"scale_factor": (0.5, 2.5)}),
           ("nearest", 2, {"size": (1, 5)})]
# antialias (PyTorch's Pillow-style filters, widened when shrinking)
INTERP += [(mode, 2, dict(kw, antialias=True)) for mode in ("bilinear", "bicubic")
           for kw in [{"size": 2}, {"size": (3, 8)}, {"scale_factor": 0.3}, {"scale_factor": 1.7},
                      {"size": 2, "align_corners": True}, {"scale_factor": 0.6, "recompute_scale_factor": True}]]


def _interp_ids():
    return [f"{m}-{d}d-" + "-".join(f"{k}={v}" for k, v in kw.items()) for m, d, kw in INTERP]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("insize", [1, 5])
@pytest.mark.parametrize("mode,dims,kw", INTERP, ids=_interp_ids())
def test_interpolate_matches_torch(torch, rng, mode, dims, kw, insize, dtype):
    if "scale_factor" in kw and insize * np.min(kw["scale_factor"]) < 1:
        insize = int(np.ceil(1 / np.min(kw["scale_factor"])))  # an input of 1 scaled down would be empty
    x = rng.standard_normal((2, 3) + (insize if dims < 3 else min(insize, 3),) * dims).astype(dtype)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    _compare(torch, lambda f, a: f.interpolate(a, mode=mode, **kw), lambda f, a: f.interpolate(a, mode=mode, **kw),
             x, rng, tol)


@pytest.mark.parametrize("mode,kw", [("bicubic", {"size": (4, 6)}), ("bilinear", {"scale_factor": 1.5}),
                                     ("nearest", {"size": 5}), ("area", {"size": 2})])
def test_interpolate_gradcheck_and_second_derivative(torch, rng, mode, kw):
    x = rng.standard_normal((1, 2, 3, 4))
    assert ad.gradcheck(lambda a: F.interpolate(a, mode=mode, **kw), [ad.Tensor(x, requires_grad=True)])
    xt, xr = ad.Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (g,) = ad.grad((F.interpolate(xt, mode=mode, **kw) ** 2).sum(), xt, create_graph=True)
    (gg,) = ad.grad((g * g).sum(), xt)
    (gr,) = torch.autograd.grad((torch.nn.functional.interpolate(xr, mode=mode, **kw) ** 2).sum(), xr,
                                create_graph=True)
    (ggr,) = torch.autograd.grad((gr * gr).sum(), xr)
    np.testing.assert_allclose(gg.data, ggr.numpy(), rtol=1e-10, atol=1e-12)


def test_interpolate_errors():
    x = ad.ones(1, 2, 3, 3)
    with pytest.raises(ValueError, match="exactly one of size and scale_factor"):
        F.interpolate(x)
    with pytest.raises(ValueError, match="align_corners option can only be set"):
        F.interpolate(x, size=4, align_corners=True)
    with pytest.raises(ValueError, match=r"'linear' needs 3-d input.*\(1, 2, 3, 3\)"):
        F.interpolate(x, size=4, mode="linear")
    with pytest.raises(ValueError, match="mode must be one of"):
        F.interpolate(x, size=4, mode="cubic")
    with pytest.raises(ValueError, match="anti-alias option is restricted to bilinear and bicubic"):
        F.interpolate(x, size=4, mode="nearest", antialias=True)


UPSAMPLE = ["Upsample(scale_factor=2)", "Upsample(size=(5, 7), mode='bilinear')",
            "Upsample(scale_factor=(1.5, 2.0), mode='bicubic', align_corners=True)",
            "UpsamplingNearest2d(scale_factor=3)", "UpsamplingBilinear2d(size=6)"]


@pytest.mark.parametrize("expr", UPSAMPLE)
def test_upsample_modules_match_torch(torch, rng, expr):
    ours, ref = eval("nn." + expr), eval("torch.nn." + expr)
    assert repr(ours) == repr(ref)
    x = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    np.testing.assert_allclose(ours(ad.Tensor(x)).data, ref(torch.tensor(x)).numpy(), rtol=1e-5, atol=1e-5)


# (input shape, kernel_size, dilation, padding, stride)
BLOCKS = [((2, 3, 5, 6), (2, 3), 1, 0, 1), ((2, 3, 7, 6), 3, (2, 1), 1, (2, 3)), ((3, 5, 4), 2, 1, (1, 0), 2),
          ((1, 1, 4, 4), 4, 1, 0, 1), ((2, 2, 3, 3), 1, 1, 2, 2)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,k,d,p,s", BLOCKS)
def test_unfold_and_fold_match_torch(torch, rng, shape, k, d, p, s, dtype):
    x = rng.standard_normal(shape).astype(dtype)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    _compare(torch, lambda f, a: f.unfold(a, k, d, p, s), lambda f, a: f.unfold(a, k, d, p, s), x, rng, tol)
    blocks = torch.nn.functional.unfold(torch.tensor(x), k, d, p, s).numpy()
    _compare(torch, lambda f, a: f.fold(a, shape[-2:], k, d, p, s), lambda f, a: f.fold(a, shape[-2:], k, d, p, s),
             blocks, rng, tol)
    assert ad.gradcheck(lambda a: F.unfold(a, k, d, p, s), [ad.Tensor(x.astype(np.float64), requires_grad=True)])
    assert ad.gradcheck(lambda a: F.fold(a, shape[-2:], k, d, p, s),
                        [ad.Tensor(blocks.astype(np.float64), requires_grad=True)])


def test_unfold_fold_second_derivative_and_modules(torch, rng):
    x = rng.standard_normal((2, 3, 5, 5))
    xt, xr = ad.Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (g,) = ad.grad((F.unfold(xt, 2, stride=2) ** 3).sum(), xt, create_graph=True)
    (gg,) = ad.grad((F.fold(F.unfold(g, 3), 5, 3) ** 2).sum(), xt)
    (gr,) = torch.autograd.grad((torch.nn.functional.unfold(xr, 2, stride=2) ** 3).sum(), xr, create_graph=True)
    (ggr,) = torch.autograd.grad((torch.nn.functional.fold(torch.nn.functional.unfold(gr, 3), 5, 3) ** 2).sum(), xr)
    np.testing.assert_allclose(gg.data, ggr.numpy(), rtol=1e-10)
    for expr in ["Unfold(kernel_size=(2, 3), padding=1)", "Fold(output_size=(5, 5), kernel_size=3)"]:
        ours, ref = eval("nn." + expr), eval("torch.nn." + expr)
        assert repr(ours) == repr(ref)
    y = nn.Unfold(kernel_size=(2, 3), padding=1)(ad.Tensor(x))
    np.testing.assert_allclose(y.data, torch.nn.Unfold(kernel_size=(2, 3), padding=1)(xr).detach().numpy())
    b = rng.standard_normal((2, 27, 9))
    np.testing.assert_allclose(nn.Fold(5, 3)(ad.Tensor(b)).data, torch.nn.Fold(5, 3)(torch.tensor(b)).numpy())


def test_fold_errors():
    with pytest.raises(ValueError, match=r"fold: .*expected 9 blocks.*\(1, 27, 8\)"):
        F.fold(ad.ones(1, 27, 8), 5, 3)
    with pytest.raises(ValueError, match="divisible by the product of kernel_size"):
        F.fold(ad.ones(1, 26, 9), 5, 3)
    with pytest.raises(ValueError, match="unfold: expected a 3-d"):
        F.unfold(ad.ones(2, 3), 2)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,r", [((2, 8, 3, 4), 2), ((18, 2, 3), 3), ((2, 1, 4, 2, 2), 2), ((1, 1, 1, 1), 1)])
def test_pixel_shuffle_and_unshuffle_match_torch(torch, rng, shape, r, dtype):
    x = rng.standard_normal(shape).astype(dtype)
    _compare(torch, lambda f, a: f.pixel_shuffle(a, r), lambda f, a: f.pixel_shuffle(a, r), x, rng, 0)
    y = torch.nn.functional.pixel_shuffle(torch.tensor(x), r).numpy()
    _compare(torch, lambda f, a: f.pixel_unshuffle(a, r), lambda f, a: f.pixel_unshuffle(a, r), y, rng, 0)
    np.testing.assert_array_equal(F.pixel_unshuffle(F.pixel_shuffle(ad.Tensor(x), r), r).data, x)
    assert repr(nn.PixelShuffle(r)) == repr(torch.nn.PixelShuffle(r))
    assert repr(nn.PixelUnshuffle(r)) == repr(torch.nn.PixelUnshuffle(r))


def test_pixel_shuffle_errors():
    with pytest.raises(ValueError, match=r"pixel_shuffle: .*upscale_factor\^2 = 4.*\(1, 6, 2, 2\)"):
        F.pixel_shuffle(ad.ones(1, 6, 2, 2), 2)
    with pytest.raises(ValueError, match=r"pixel_unshuffle: .*downscale_factor = 2.*\(1, 1, 3, 2\)"):
        F.pixel_unshuffle(ad.ones(1, 1, 3, 2), 2)


@pytest.mark.parametrize("dim,sizes,shape", [(1, (2, 3), (4, 6)), (-1, (2, -1), (3, 2, 8)), (0, (1, 5), (5,)),
                                             (1, [2, 2, 2], (2, 8, 1))])
def test_unflatten_matches_torch(torch, rng, dim, sizes, shape):
    x = rng.standard_normal(shape)
    ours, ref = nn.Unflatten(dim, sizes), torch.nn.Unflatten(dim, sizes)
    assert repr(ours) == repr(ref)
    xt = ad.Tensor(x, requires_grad=True)
    y = ours(xt)
    np.testing.assert_array_equal(y.data, ref(torch.tensor(x)).numpy())
    y.sum().backward()
    np.testing.assert_array_equal(xt.grad.data, np.ones(shape))
    with pytest.raises(ValueError, match="Unflatten"):
        nn.Unflatten(dim, (7, 7))(xt)
