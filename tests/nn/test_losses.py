"""Losses: values and gradients against PyTorch for every reduction, finite differences, edge cases."""
import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


REDUCTIONS = ["mean", "sum", "none"]


def _run_ours(loss_fn, x, *others, g=None):
    xt = ad.Tensor(x.copy(), requires_grad=True)
    out = loss_fn(xt, *others)
    out.backward(g if g is not None else None)
    return out.data, xt.grad.data


def _run_torch(torch, loss_fn, x, *others, g=None):
    xr = torch.tensor(x, requires_grad=True)
    out = loss_fn(xr, *[torch.tensor(o) if isinstance(o, np.ndarray) else o for o in others])
    out.backward(torch.tensor(g) if g is not None else None)
    return out.detach().numpy(), xr.grad.numpy()


def _check(torch, ours, theirs, x, *others, reduction="mean", rng=None, tol=1e-5):
    g = None
    out_ref = theirs(torch.tensor(x), *[torch.tensor(o) if isinstance(o, np.ndarray) else o for o in others])
    if reduction == "none":
        g = rng.standard_normal(tuple(out_ref.shape)).astype(x.dtype)
    v, gx = _run_ours(ours, x, *others, g=g)
    vr, gr = _run_torch(torch, theirs, x, *others, g=g)
    assert v.shape == vr.shape
    np.testing.assert_allclose(v, vr, rtol=tol, atol=tol)
    np.testing.assert_allclose(gx, gr, rtol=tol * 10, atol=tol)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["mse", "l1"])
def test_regression_losses(torch, rng, reduction, name):
    x = rng.standard_normal((5, 3)).astype(np.float32)
    y = rng.standard_normal((5, 3)).astype(np.float32)
    ours = {"mse": nn.MSELoss, "l1": nn.L1Loss}[name](reduction=reduction)
    theirs = {"mse": torch.nn.MSELoss, "l1": torch.nn.L1Loss}[name](reduction=reduction)
    _check(torch, lambda a, b: ours(a, ad.Tensor(b)), theirs, x, y, reduction=reduction, rng=rng)


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match=r"\(4, 1\).*\(4,\)"):
        F.mse_loss(ad.ones(4, 1), ad.ones(4))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_sse_is_half_sum_of_squares_with_gradient_yhat_minus_y(rng, reduction):
    yhat = rng.standard_normal((4, 3))
    y = rng.standard_normal((4, 3))
    x = ad.Tensor(yhat.copy(), requires_grad=True)
    loss = nn.SSELoss(reduction=reduction)(x, ad.Tensor(y))
    per_pattern = 0.5 * ((y - yhat) ** 2).sum(axis=1)
    expected = {"sum": per_pattern.sum(), "mean": per_pattern.mean(), "none": per_pattern}[reduction]
    np.testing.assert_allclose(loss.data, expected)
    loss.sum().backward()
    scale = 1 / 4 if reduction == "mean" else 1
    np.testing.assert_allclose(x.grad.data, (yhat - y) * scale)
    assert nn.HalfSSE is nn.SSELoss


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_bce_matches_torch(torch, rng, reduction, weighted):
    x = rng.uniform(0.02, 0.98, (6, 2)).astype(np.float32)
    y = rng.uniform(0, 1, (6, 2)).astype(np.float32)
    w = rng.uniform(0.5, 2, (6, 2)).astype(np.float32) if weighted else None
    ours = nn.BCELoss(weight=w, reduction=reduction)
    theirs = torch.nn.BCELoss(weight=None if w is None else torch.tensor(w), reduction=reduction)
    _check(torch, lambda a, b: ours(a, ad.Tensor(b)), theirs, x, y, reduction=reduction, rng=rng, tol=1e-5)


def test_bce_clamps_log_at_minus_100_like_torch(torch):
    x = np.array([0.0, 1.0, 0.0, 1.0, 1e-30], np.float32)
    y = np.array([1.0, 0.0, 0.0, 1.0, 1.0], np.float32)
    v, g = _run_ours(lambda a, b: F.binary_cross_entropy(a, b, reduction="sum"), x, y)
    vr, gr = _run_torch(torch, lambda a, b: torch.nn.functional.binary_cross_entropy(a, b, reduction="sum"), x, y)
    np.testing.assert_allclose(v, vr)
    assert np.all(np.isfinite(g))
    np.testing.assert_allclose(g, gr, rtol=1e-5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.binary_cross_entropy(ad.Tensor(np.array([1.5])), ad.Tensor(np.array([1.0])))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("variant", ["plain", "pos_weight", "weight"])
def test_bce_with_logits_matches_torch(torch, rng, reduction, variant):
    x = (rng.standard_normal((5, 3)) * 4).astype(np.float32)
    y = rng.uniform(0, 1, (5, 3)).astype(np.float32)
    pw = np.array([0.5, 2.0, 3.0], np.float32) if variant == "pos_weight" else None
    w = rng.uniform(0.5, 2, (5, 3)).astype(np.float32) if variant == "weight" else None
    ours = nn.BCEWithLogitsLoss(weight=w, reduction=reduction, pos_weight=pw)
    theirs = torch.nn.BCEWithLogitsLoss(weight=None if w is None else torch.tensor(w), reduction=reduction,
                                        pos_weight=None if pw is None else torch.tensor(pw))
    _check(torch, lambda a, b: ours(a, ad.Tensor(b)), theirs, x, y, reduction=reduction, rng=rng)


def test_bce_with_logits_stable_for_huge_logits(torch):
    x = np.array([-1000.0, -100.0, 100.0, 1000.0], np.float32)
    y = np.array([1.0, 0.0, 1.0, 0.0], np.float32)
    v, g = _run_ours(lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction="sum"), x, y)
    vr, gr = _run_torch(torch, lambda a, b: torch.nn.functional.binary_cross_entropy_with_logits(
        a, b, reduction="sum"), x, y)
    np.testing.assert_allclose(v, vr, rtol=1e-6)
    np.testing.assert_allclose(g, gr, rtol=1e-6, atol=1e-30)


CE_VARIANTS = {
    "plain": {},
    "weight": {"weight": np.array([0.2, 1.0, 2.0, 0.7], np.float32)},
    "ignore": {"ignore_index": 2},
    "smooth": {"label_smoothing": 0.15},
    "smooth_weight_ignore": {"label_smoothing": 0.1, "weight": np.array([0.2, 1.0, 2.0, 0.7], np.float32),
                             "ignore_index": 1},
}


def _torch_kwargs(torch, kw):
    return {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("variant", sorted(CE_VARIANTS))
@pytest.mark.parametrize("shape", [(7, 4), (3, 4, 5)])
def test_cross_entropy_class_targets_match_torch(torch, rng, reduction, variant, shape):
    kw = CE_VARIANTS[variant]
    x = (rng.standard_normal(shape) * 3).astype(np.float32)
    t = rng.integers(0, 4, (shape[0],) + shape[2:])
    ours = nn.CrossEntropyLoss(reduction=reduction, **kw)
    theirs = torch.nn.CrossEntropyLoss(reduction=reduction, **_torch_kwargs(torch, kw))
    _check(torch, ours, theirs, x, t, reduction=reduction, rng=rng)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("kw", [{}, {"label_smoothing": 0.2},
                                {"weight": np.array([0.5, 1.5, 1.0], np.float32)}])
def test_cross_entropy_probability_targets_match_torch(torch, rng, reduction, kw):
    x = rng.standard_normal((6, 3)).astype(np.float32)
    p = rng.uniform(0, 1, (6, 3)).astype(np.float32)
    p /= p.sum(axis=1, keepdims=True)
    ours = lambda a, b: F.cross_entropy(a, b, reduction=reduction, **kw)  # noqa: E731
    theirs = lambda a, b: torch.nn.functional.cross_entropy(  # noqa: E731
        a, b, reduction=reduction, **_torch_kwargs(torch, kw))
    _check(torch, ours, theirs, x, p, reduction=reduction, rng=rng)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("kw", [{}, {"label_smoothing": 0.2}, {"weight": np.array([0.5, 1.5, 1.0])}])
@pytest.mark.parametrize("shape", [(6, 3), (2, 3, 4)])
def test_cross_entropy_probability_target_gets_gradient(torch, rng, reduction, kw, shape):
    x = rng.standard_normal(shape)
    p = rng.dirichlet(np.ones(3), (shape[0],) + shape[2:])
    p = np.moveaxis(p, -1, 1)
    xt, pt = ad.Tensor(x.copy(), requires_grad=True), ad.Tensor(p.copy(), requires_grad=True)
    g = rng.standard_normal((shape[0],) + shape[2:]) if reduction == "none" else None
    F.cross_entropy(xt, pt, reduction=reduction, **kw).backward(g)
    xr, pr = torch.tensor(x, requires_grad=True), torch.tensor(p, requires_grad=True)
    torch.nn.functional.cross_entropy(xr, pr, reduction=reduction, **_torch_kwargs(torch, kw)).backward(
        None if g is None else torch.tensor(g))
    np.testing.assert_allclose(pt.grad.data, pr.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(xt.grad.data, xr.grad.numpy(), rtol=1e-10, atol=1e-12)
    assert ad.gradcheck(lambda a, b: F.cross_entropy(a, b, reduction=reduction, **kw), [xt, pt])


@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 2)])
def test_cross_entropy_probability_target_second_derivative_matches_torch(torch, rng, shape):
    x = rng.standard_normal(shape)
    p = np.moveaxis(rng.dirichlet(np.ones(3), (shape[0],) + shape[2:]), -1, 1)
    xt, pt = ad.Tensor(x, requires_grad=True), ad.Tensor(p, requires_grad=True)
    (gx,) = ad.grad(F.cross_entropy(xt, pt, label_smoothing=0.1), xt, create_graph=True)
    (gp,) = ad.grad((gx * gx).sum(), pt)
    xr, pr = torch.tensor(x, requires_grad=True), torch.tensor(p, requires_grad=True)
    (gxr,) = torch.autograd.grad(torch.nn.functional.cross_entropy(xr, pr, label_smoothing=0.1), xr,
                                 create_graph=True)
    (gpr,) = torch.autograd.grad((gxr * gxr).sum(), pr)
    np.testing.assert_allclose(gp.data, gpr.numpy(), rtol=1e-10, atol=1e-12)


def test_cross_entropy_unbatched_and_float64(torch, rng):
    x = rng.standard_normal(5)
    v, g = _run_ours(F.cross_entropy, x, np.array(3))
    vr, gr = _run_torch(torch, torch.nn.functional.cross_entropy, x, torch.tensor(3))
    np.testing.assert_allclose(v, vr, rtol=1e-12)
    np.testing.assert_allclose(g, gr, rtol=1e-12)
    assert v.dtype == np.float64


def test_cross_entropy_gradient_is_softmax_minus_onehot_and_never_nan():
    x = ad.Tensor(np.array([[1000.0, -1000.0, 0.0], [0.0, 0.0, 0.0]], np.float32), requires_grad=True)
    t = np.array([1, 2])
    loss = F.cross_entropy(x, t, reduction="sum")
    loss.backward()
    np.testing.assert_allclose(loss.item(), 2000 + np.log(3), rtol=1e-6)
    expected = np.array([[1, -1, 0], [1 / 3, 1 / 3, -2 / 3]], np.float32)
    np.testing.assert_allclose(x.grad.data, expected, atol=1e-6)


def test_cross_entropy_is_one_graph_node():
    x = ad.Tensor(np.zeros((2, 3), np.float32), requires_grad=True)
    loss = F.cross_entropy(x, np.array([0, 1]))
    assert loss.grad_fn.name == "cross_entropy"
    assert loss.grad_fn.next_functions[0][0] is x


def test_cross_entropy_gradcheck_and_double_backward(torch, rng):
    x = ad.Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    t = np.array([0, 2, 1, 2])
    assert ad.gradcheck(lambda z: F.cross_entropy(z, t, label_smoothing=0.1), [x])
    assert ad.gradcheck(lambda z: F.cross_entropy(z, t, reduction="none"), [x])
    # second derivative through the fused node (create_graph path) against torch
    v = rng.standard_normal((4, 3))
    (g,) = ad.grad(F.cross_entropy(x, t), x, create_graph=True)
    (gg,) = ad.grad((g * ad.Tensor(v)).sum(), x)
    xr = torch.tensor(x.data, requires_grad=True)
    (gr,) = torch.autograd.grad(torch.nn.functional.cross_entropy(xr, torch.tensor(t)), xr, create_graph=True)
    (ggr,) = torch.autograd.grad((gr * torch.tensor(v)).sum(), xr)
    np.testing.assert_allclose(gg.data, ggr.numpy(), rtol=1e-10, atol=1e-12)


def test_cross_entropy_bad_targets():
    x = ad.zeros(3, 4)
    with pytest.raises(IndexError, match="out of bounds"):
        F.cross_entropy(x, np.array([0, 4, 1]))
    with pytest.raises(ValueError, match=r"\(2,\)"):
        F.cross_entropy(x, np.array([0, 1]))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("kw", [{}, {"weight": np.array([0.3, 1.0, 2.0], np.float32)}, {"ignore_index": 0}])
def test_nll_loss_matches_torch(torch, rng, reduction, kw):
    x = np.log(rng.dirichlet(np.ones(3), 6)).astype(np.float32)
    t = rng.integers(0, 3, 6)
    ours = nn.NLLLoss(reduction=reduction, **kw)
    theirs = torch.nn.NLLLoss(reduction=reduction, **_torch_kwargs(torch, kw))
    _check(torch, ours, theirs, x, t, reduction=reduction, rng=rng)


def test_log_softmax_plus_nll_equals_cross_entropy(rng):
    x = rng.standard_normal((5, 4))
    t = rng.integers(0, 4, 5)
    a = F.nll_loss(F.log_softmax(ad.Tensor(x), dim=1), t)
    b = F.cross_entropy(ad.Tensor(x), t)
    np.testing.assert_allclose(a.data, b.data, rtol=1e-12)


def test_bad_reduction():
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="avg")
