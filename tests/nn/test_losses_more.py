"""Further losses and distances (KLDiv ... MultiLabelSoftMargin, one_hot, normalize, cosine, pairwise):
values and gradients of every float argument against PyTorch, all reductions, float32 and float64,
gradcheck in float64, module forms and legacy size_average/reduce flags."""
import math

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F


pytestmark = pytest.mark.filterwarnings("ignore:.*(batchmean|size_average):UserWarning")


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _probs(rng, shape):
    p = rng.uniform(0.05, 1, shape)
    return p / p.sum(axis=-1, keepdims=True)


def _signs(rng, shape):
    return rng.choice([-1.0, 1.0], shape)


def _away(rng, shape, kinks=(0.0,), gap=0.05):
    x = rng.standard_normal(shape) * 1.5
    for k in kinks:
        near = np.abs(x - k) < gap
        x[near] += 3 * gap
    return x


# name: (inputs(rng) -> list of arrays, positions that get gradients, call(F-module, *tensors, reduction=...))
LOSSES = {
    "kl_div": (lambda r: [np.log(_probs(r, (4, 3))), _probs(r, (4, 3))], (0, 1),
               lambda f, a, b, **k: f.kl_div(a, b, **k)),
    "kl_div_log_target": (lambda r: [np.log(_probs(r, (4, 3))), np.log(_probs(r, (4, 3)))], (0, 1),
                          lambda f, a, b, **k: f.kl_div(a, b, log_target=True, **k)),
    "kl_div_zero_target": (lambda r: [np.log(_probs(r, (4, 3))), _probs(r, (4, 3)) * (r.uniform(0, 1, (4, 3)) > .3)],
                           (0,), lambda f, a, b, **k: f.kl_div(a, b, **k)),
    "smooth_l1": (lambda r: [_away(r, (5, 3), (-1, 1)), np.zeros((5, 3))], (0, 1),
                  lambda f, a, b, **k: f.smooth_l1_loss(a, b, **k)),
    "smooth_l1_beta": (lambda r: [_away(r, (5, 3), (-0.4, 0.4)), np.zeros((5, 3))], (0, 1),
                       lambda f, a, b, **k: f.smooth_l1_loss(a, b, beta=0.4, **k)),
    "smooth_l1_beta0": (lambda r: [_away(r, (5, 3)), np.zeros((5, 3))], (0, 1),
                        lambda f, a, b, **k: f.smooth_l1_loss(a, b, beta=0.0, **k)),
    "huber": (lambda r: [_away(r, (5, 3), (-1, 1)), np.zeros((5, 3))], (0, 1),
              lambda f, a, b, **k: f.huber_loss(a, b, **k)),
    "huber_delta": (lambda r: [_away(r, (5, 3), (-0.7, 0.7)), np.zeros((5, 3))], (0, 1),
                    lambda f, a, b, **k: f.huber_loss(a, b, delta=0.7, **k)),
    "soft_margin": (lambda r: [r.standard_normal((4, 3)) * 3, _signs(r, (4, 3))], (0,),
                    lambda f, a, b, **k: f.soft_margin_loss(a, b, **k)),
    "margin_ranking": (lambda r: [r.standard_normal(6), r.standard_normal(6) + 0.37, _signs(r, 6)], (0, 1),
                       lambda f, a, b, y, **k: f.margin_ranking_loss(a, b, y, margin=0.2, **k)),
    "cosine_embedding": (lambda r: [r.standard_normal((5, 4)), r.standard_normal((5, 4)), _signs(r, 5)], (0, 1),
                         lambda f, a, b, y, **k: f.cosine_embedding_loss(a, b, y, margin=-0.3, **k)),
    "cosine_embedding_1d": (lambda r: [r.standard_normal(4), r.standard_normal(4), np.array(-1.0)], (0, 1),
                            lambda f, a, b, y, **k: f.cosine_embedding_loss(a, b, y, margin=-0.9, **k)),
    "poisson_nll": (lambda r: [r.standard_normal((4, 3)), r.poisson(2.0, (4, 3)).astype(float)], (0, 1),
                    lambda f, a, b, **k: f.poisson_nll_loss(a, b, **k)),
    "poisson_nll_full": (lambda r: [r.uniform(0.2, 3, (4, 3)), r.poisson(2.0, (4, 3)).astype(float) + 0.5],
                         (0, 1), lambda f, a, b, **k: f.poisson_nll_loss(a, b, log_input=False, full=True, **k)),
    "gaussian_nll": (lambda r: [r.standard_normal((4, 3)), r.standard_normal((4, 3)), r.uniform(0.1, 2, (4, 3))],
                     (0, 1, 2), lambda f, a, b, v, **k: f.gaussian_nll_loss(a, b, v, **k)),
    "gaussian_nll_full_per_sample": (lambda r: [r.standard_normal((4, 3)), r.standard_normal((4, 3)),
                                                r.uniform(0.1, 2, (4, 1))], (0, 1, 2),
                                     lambda f, a, b, v, **k: f.gaussian_nll_loss(a, b, v, full=True, **k)),
    "gaussian_nll_var_dropped_dim": (lambda r: [r.standard_normal((4, 3)), r.standard_normal((4, 3)),
                                                r.uniform(0.1, 2, 4)], (0, 1, 2),
                                     lambda f, a, b, v, **k: f.gaussian_nll_loss(a, b, v, **k)),
    "triplet": (lambda r: [r.standard_normal((5, 4)), r.standard_normal((5, 4)), r.standard_normal((5, 4))],
                (0, 1, 2), lambda f, a, p, n, **k: f.triplet_margin_loss(a, p, n, margin=2.0, **k)),
    "triplet_p1_swap": (lambda r: [r.standard_normal((5, 4)), r.standard_normal((5, 4)), r.standard_normal((5, 4))],
                        (0, 1, 2), lambda f, a, p, n, **k: f.triplet_margin_loss(a, p, n, margin=3.0, p=1, swap=True,
                                                                                 **k)),
    "hinge_embedding": (lambda r: [_away(r, (4, 3), (1.0,)), _signs(r, (4, 3))], (0,),
                        lambda f, a, y, **k: f.hinge_embedding_loss(a, y, **k)),
    "multilabel_soft_margin": (lambda r: [r.standard_normal((4, 3)) * 2, (r.uniform(0, 1, (4, 3)) > .5) * 1.0],
                               (0, 1), lambda f, a, y, **k: f.multilabel_soft_margin_loss(a, y, **k)),
    "multilabel_soft_margin_weight": (lambda r: [r.standard_normal((4, 3)), r.uniform(0, 1, (4, 3)),
                                                 r.uniform(0.5, 2, 3)], (0, 1),
                                      lambda f, a, y, w, **k: f.multilabel_soft_margin_loss(a, y, w, **k)),
    "multi_margin": (lambda r: [r.standard_normal((5, 4)), r.integers(0, 4, 5)], (0,),
                     lambda f, a, y, **k: f.multi_margin_loss(a, y, **k)),
    "multi_margin_p2_weight": (lambda r: [r.standard_normal((5, 4)), r.integers(0, 4, 5), r.uniform(0.5, 2, 4)], (0,),
                               lambda f, a, y, w, **k: f.multi_margin_loss(a, y, p=2, margin=0.7, weight=w, **k)),
    "multi_margin_1d": (lambda r: [r.standard_normal(4), np.array(2)], (0,),
                        lambda f, a, y, **k: f.multi_margin_loss(a, y, **k)),
    "multilabel_margin": (lambda r: [r.standard_normal((3, 4)), np.array([[3, 0, -1, 1], [0, 1, 2, 3], [1, 1, -1, 0]])],
                          (0,), lambda f, a, y, **k: f.multilabel_margin_loss(a, y, **k)),
    "multilabel_margin_1d": (lambda r: [r.standard_normal(4), np.array([2, -1, 0, 0])], (0,),
                             lambda f, a, y, **k: f.multilabel_margin_loss(a, y, **k)),
    "triplet_with_distance": (lambda r: [r.standard_normal((5, 4)), r.standard_normal((5, 4)),
                                         r.standard_normal((5, 4))], (0, 1, 2),
                              lambda f, a, p, n, **k: f.triplet_margin_with_distance_loss(a, p, n, margin=2.0, **k)),
    "triplet_with_cosine_distance_swap": (
        lambda r: [r.standard_normal((5, 4)), r.standard_normal((5, 4)), r.standard_normal((5, 4))], (0, 1, 2),
        lambda f, a, p, n, **k: f.triplet_margin_with_distance_loss(
            a, p, n, distance_function=lambda u, v: 1 - f.cosine_similarity(u, v), margin=0.5, swap=True, **k)),
}
REDUCTIONS = ["mean", "sum", "none"]


def _cast(arrays, dtype):
    return [a.astype(dtype) if a.dtype.kind == "f" else a for a in arrays]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", sorted(LOSSES))
def test_losses_match_torch(torch, rng, name, reduction, dtype):
    make, diff, call = LOSSES[name]
    arrays = _cast(make(rng), dtype)
    g = rng.standard_normal(call(F, *[ad.Tensor(a) for a in arrays], reduction=reduction).shape).astype(dtype)
    ours = [ad.Tensor(a.copy(), requires_grad=i in diff) for i, a in enumerate(arrays)]
    out = call(F, *ours, reduction=reduction)
    out.backward(ad.Tensor(g) if reduction == "none" else None)
    theirs = [torch.tensor(a, requires_grad=i in diff) for i, a in enumerate(arrays)]
    ref = call(torch.nn.functional, *theirs, reduction=reduction)
    ref.backward(torch.tensor(g) if reduction == "none" else None)
    tol = 2e-5 if dtype == np.float32 else 1e-11
    assert out.dtype == dtype and out.shape == tuple(ref.shape)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=tol, atol=tol)
    for i in diff:
        np.testing.assert_allclose(ours[i].grad.data, theirs[i].grad.numpy(), rtol=tol * 10, atol=tol,
                                   err_msg=f"gradient of argument {i}")


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_losses_gradcheck(rng, name):
    make, diff, call = LOSSES[name]
    arrays = make(rng)

    def fn(*args):
        full = list(arrays)
        for i, a in zip(diff, args):
            full[i] = a
        return call(F, *[a if isinstance(a, ad.Tensor) else ad.Tensor(a) for a in full], reduction="sum")

    assert ad.gradcheck(fn, [ad.Tensor(arrays[i].copy(), requires_grad=True) for i in diff])


def test_kl_div_batchmean_and_legacy_flags_match_torch(torch, rng):
    logq, p = np.log(_probs(rng, (4, 3))), _probs(rng, (4, 3))
    ours = F.kl_div(ad.Tensor(logq), ad.Tensor(p), reduction="batchmean")
    ref = torch.nn.functional.kl_div(torch.tensor(logq), torch.tensor(p), reduction="batchmean")
    np.testing.assert_allclose(ours.data, ref.numpy(), rtol=1e-12)
    np.testing.assert_allclose(nn.KLDivLoss(reduction="batchmean")(ad.Tensor(logq), ad.Tensor(p)).data, ref.numpy())
    for size_average, reduce in [(False, None), (None, False), (True, True), (False, True)]:
        ours = F.smooth_l1_loss(ad.Tensor(logq), ad.Tensor(p), size_average, reduce)
        ref = torch.nn.functional.smooth_l1_loss(torch.tensor(logq), torch.tensor(p), size_average, reduce)
        np.testing.assert_allclose(ours.data, ref.numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="kl_div.*batchmean"):
        F.kl_div(ad.Tensor(logq), ad.Tensor(p), reduction="avg")


MODULES = [
    ("KLDivLoss(reduction='sum', log_target=True)", "kl_div_log_target"),
    ("SmoothL1Loss(beta=0.4)", "smooth_l1_beta"), ("HuberLoss(delta=0.7)", "huber_delta"),
    ("SoftMarginLoss()", "soft_margin"), ("MarginRankingLoss(margin=0.2)", "margin_ranking"),
    ("CosineEmbeddingLoss(margin=-0.3)", "cosine_embedding"), ("PoissonNLLLoss(log_input=False, full=True)",
                                                               "poisson_nll_full"),
    ("GaussianNLLLoss(full=True)", "gaussian_nll_full_per_sample"), ("TripletMarginLoss(margin=2.0)", "triplet"),
    ("HingeEmbeddingLoss(margin=0.5, reduction='none')", "hinge_embedding"),
    ("MultiLabelSoftMarginLoss()", "multilabel_soft_margin"), ("MultiMarginLoss(p=2, margin=0.5)", "multi_margin"),
    ("MultiLabelMarginLoss(reduction='sum')", "multilabel_margin"),
    ("TripletMarginWithDistanceLoss(margin=2.0, swap=True)", "triplet_with_distance"),
]


@pytest.mark.parametrize("expr,case", MODULES)
def test_loss_modules_match_torch(torch, rng, expr, case):
    arrays = LOSSES[case][0](rng)
    ours = eval("nn." + expr)(*[ad.Tensor(a) for a in arrays])
    ref = eval("torch.nn." + expr)(*[torch.tensor(a) for a in arrays])
    np.testing.assert_allclose(ours.data, ref.numpy(), rtol=1e-10, atol=1e-12)


def test_loss_errors_name_the_loss():
    with pytest.raises(ValueError, match=r"gaussian_nll_loss: var has negative"):
        F.gaussian_nll_loss(ad.ones(2, 3), ad.ones(2, 3), ad.Tensor(-np.ones((2, 3))))
    with pytest.raises(ValueError, match=r"gaussian_nll_loss: var of shape \(3, 3\)"):
        F.gaussian_nll_loss(ad.ones(2, 3), ad.ones(2, 3), ad.ones(3, 3))
    with pytest.raises(ValueError, match=r"cosine_embedding_loss: target of shape \(3,\)"):
        F.cosine_embedding_loss(ad.ones(2, 3), ad.ones(2, 3), np.ones(3))
    with pytest.raises(ValueError, match=r"smooth_l1_loss: shapes \(2, 3\) and \(4,\)"):
        F.smooth_l1_loss(ad.ones(2, 3), ad.ones(4))
    with pytest.raises(ValueError, match="TripletMarginLoss: margin"):
        nn.TripletMarginLoss(margin=0)


def test_gaussian_nll_clamped_var_passes_gradient_like_torch(torch):
    var = np.array([[1e-9, 0.5]])
    x, y = np.array([[0.3, -0.2]]), np.array([[0.0, 0.1]])
    v = ad.Tensor(var.copy(), requires_grad=True)
    F.gaussian_nll_loss(ad.Tensor(x), ad.Tensor(y), v).backward()
    vr = torch.tensor(var, requires_grad=True)
    torch.nn.functional.gaussian_nll_loss(torch.tensor(x), torch.tensor(y), vr).backward()
    np.testing.assert_allclose(v.grad.data, vr.grad.numpy(), rtol=1e-12)


# --- one_hot, normalize, cosine_similarity, pairwise_distance ------------------------------------------------
@pytest.mark.parametrize("shape,num_classes", [((5,), -1), ((2, 3), 7), ((), 4), ((0,), 3)])
def test_one_hot_matches_torch(torch, rng, shape, num_classes):
    idx = rng.integers(0, 4, shape)
    ours = F.one_hot(ad.Tensor(idx), num_classes)
    ref = torch.nn.functional.one_hot(torch.tensor(idx), num_classes)
    assert ours.dtype == np.int64
    np.testing.assert_array_equal(ours.data, ref.numpy())


def test_one_hot_errors(torch):
    for bad, n in [(np.array([0, -1]), -1), (np.array([0, 3]), 3)]:
        with pytest.raises(RuntimeError):
            torch.nn.functional.one_hot(torch.tensor(bad), n)
        with pytest.raises(RuntimeError, match="one_hot"):
            F.one_hot(ad.Tensor(bad), n)
    with pytest.raises(TypeError, match="one_hot"):
        F.one_hot(ad.Tensor(np.array([0.5])))


DISTANCES = {
    "normalize": (lambda r: [r.standard_normal((4, 3))], lambda f, a: f.normalize(a)),
    "normalize_p1_dim0": (lambda r: [r.standard_normal((4, 3))], lambda f, a: f.normalize(a, p=1, dim=0)),
    "normalize_p3_last": (lambda r: [r.standard_normal((2, 3, 4))], lambda f, a: f.normalize(a, p=3, dim=-1)),
    "normalize_p0": (lambda r: [r.standard_normal((4, 3))], lambda f, a: f.normalize(a, p=0)),
    "normalize_p_minus1_dim0": (lambda r: [r.standard_normal((4, 3))], lambda f, a: f.normalize(a, p=-1, dim=0)),
    "normalize_p_minus_inf": (lambda r: [r.standard_normal((4, 3))], lambda f, a: f.normalize(a, p=-math.inf)),
    "normalize_inf": (lambda r: [r.standard_normal((4, 3))], lambda f, a: f.normalize(a, p=float("inf"))),
    "cosine_similarity": (lambda r: [r.standard_normal((4, 3)), r.standard_normal((4, 3))],
                          lambda f, a, b: f.cosine_similarity(a, b)),
    "cosine_similarity_broadcast": (lambda r: [r.standard_normal((4, 1, 3)), r.standard_normal((5, 3))],
                                    lambda f, a, b: f.cosine_similarity(a, b, dim=-1)),
    "cosine_similarity_dim0": (lambda r: [r.standard_normal((4, 3)), r.standard_normal((4, 3))],
                               lambda f, a, b: f.cosine_similarity(a, b, dim=0)),
    "pairwise_distance": (lambda r: [r.standard_normal((4, 3)), r.standard_normal((4, 3))],
                          lambda f, a, b: f.pairwise_distance(a, b)),
    "pairwise_distance_p1_keepdim": (lambda r: [r.standard_normal((4, 3)), r.standard_normal((1, 3))],
                                     lambda f, a, b: f.pairwise_distance(a, b, p=1.0, keepdim=True)),
    "pairwise_distance_1d_p3": (lambda r: [r.standard_normal(5), r.standard_normal(5)],
                                lambda f, a, b: f.pairwise_distance(a, b, p=3.0)),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(DISTANCES))
def test_distances_match_torch(torch, rng, name, dtype):
    make, call = DISTANCES[name]
    arrays = [a.astype(dtype) for a in make(rng)]
    ours = [ad.Tensor(a.copy(), requires_grad=True) for a in arrays]
    out = call(F, *ours)
    g = rng.standard_normal(out.shape).astype(dtype)
    out.backward(ad.Tensor(g))
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    ref = call(torch.nn.functional, *theirs)
    ref.backward(torch.tensor(g))
    tol = 2e-5 if dtype == np.float32 else 1e-11
    assert out.dtype == dtype and out.shape == tuple(ref.shape)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=tol, atol=tol)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), rtol=tol * 10, atol=tol)
    assert ad.gradcheck(lambda *xs: call(F, *xs), [ad.Tensor(a.astype(np.float64), requires_grad=True)
                                                  for a in arrays])


def test_normalize_zero_vector_has_finite_gradient_like_torch(torch):
    x = np.array([[0.0, 0.0, 0.0], [1.0, 2.0, 2.0]])
    xt = ad.Tensor(x.copy(), requires_grad=True)
    F.normalize(xt, dim=1).sum().backward()
    xr = torch.tensor(x, requires_grad=True)
    torch.nn.functional.normalize(xr, dim=1).sum().backward()
    np.testing.assert_allclose(xt.grad.data, xr.grad.numpy(), rtol=1e-12)


def _params(fn):
    import inspect
    return [(p.name, p.default) for p in inspect.signature(fn).parameters.values()
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


@pytest.mark.parametrize("name", ["kl_div", "smooth_l1_loss", "huber_loss", "soft_margin_loss", "margin_ranking_loss",
                                  "cosine_embedding_loss", "poisson_nll_loss", "gaussian_nll_loss",
                                  "triplet_margin_loss", "hinge_embedding_loss", "multilabel_soft_margin_loss",
                                  "normalize", "interpolate", "unfold", "fold", "multi_margin_loss",
                                  "multilabel_margin_loss", "triplet_margin_with_distance_loss", "rrelu"])
def test_function_signatures_match_torch(torch, name):
    assert _params(getattr(F, name)) == _params(getattr(torch.nn.functional, name))


@pytest.mark.parametrize("name", ["KLDivLoss", "SmoothL1Loss", "HuberLoss", "SoftMarginLoss", "MarginRankingLoss",
                                  "CosineEmbeddingLoss", "PoissonNLLLoss", "GaussianNLLLoss", "TripletMarginLoss",
                                  "HingeEmbeddingLoss", "MultiLabelSoftMarginLoss", "Upsample", "Unfold", "Fold",
                                  "PixelShuffle", "PixelUnshuffle", "Unflatten", "ConvTranspose1d", "ConvTranspose2d",
                                  "MultiMarginLoss", "MultiLabelMarginLoss", "TripletMarginWithDistanceLoss",
                                  "PairwiseDistance", "CosineSimilarity", "RReLU"])
def test_module_signatures_match_torch(torch, name):
    assert _params(getattr(nn, name).__init__) == _params(getattr(torch.nn, name).__init__)


def test_cosine_similarity_below_eps_matches_torch(torch):
    # norms under eps are clamped outside the graph in PyTorch: the gradient is that of the unclamped norm
    x1 = np.array([[1e-9, 2e-9, 0.0], [1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    x2 = np.array([[1.0, 0.5, 0.2], [1e-10, 0.0, 0.0], [1.0, 1.0, 1.0]])
    ours = [ad.Tensor(x1.copy(), requires_grad=True), ad.Tensor(x2.copy(), requires_grad=True)]
    y = F.cosine_similarity(*ours)
    y.sum().backward()
    theirs = [torch.tensor(x1, requires_grad=True), torch.tensor(x2, requires_grad=True)]
    yr = torch.nn.functional.cosine_similarity(*theirs)
    yr.sum().backward()
    np.testing.assert_allclose(y.data, yr.detach().numpy(), rtol=1e-12)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("expr,shapes", [("PairwiseDistance(p=1.0, keepdim=True)", ((4, 3), (4, 3))),
                                         ("CosineSimilarity(dim=0)", ((4, 3), (1, 3)))])
def test_distance_modules_match_torch(torch, rng, expr, shapes):
    x1, x2 = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    ours, ref = eval("nn." + expr), eval("torch.nn." + expr)
    assert repr(ours) == repr(ref)
    np.testing.assert_allclose(ours(ad.Tensor(x1), ad.Tensor(x2)).data, ref(torch.tensor(x1), torch.tensor(x2)).numpy(),
                               rtol=1e-12)


def test_margin_losses_check_targets():
    with pytest.raises(IndexError, match=r"multi_margin_loss: target values must be in \[0, 3\)"):
        F.multi_margin_loss(ad.ones(2, 3), np.array([0, 3]))
    with pytest.raises(ValueError, match=r"multilabel_margin_loss: target of shape \(2,\)"):
        F.multilabel_margin_loss(ad.ones(2, 3), np.array([0, 1]))
    with pytest.raises(TypeError, match="multi_margin_loss: target must hold integer"):
        F.multi_margin_loss(ad.ones(2, 3), np.array([0.0, 1.0]))


@pytest.mark.parametrize("name", ["kl_div", "kl_div_log_target", "huber", "smooth_l1_beta", "soft_margin",
                                  "cosine_embedding", "poisson_nll_full", "gaussian_nll", "triplet",
                                  "multilabel_soft_margin", "poisson_nll", "triplet_with_cosine_distance_swap"])
def test_losses_second_derivatives_match_torch(torch, rng, name):
    make, diff, call = LOSSES[name]
    arrays = make(rng)
    ours = [ad.Tensor(a.copy(), requires_grad=i in diff) for i, a in enumerate(arrays)]
    grads = ad.grad(call(F, *ours, reduction="sum"), [ours[i] for i in diff], create_graph=True)
    second = ad.grad(sum((g * g).sum() for g in grads), ours[diff[0]])[0]
    theirs = [torch.tensor(a, requires_grad=i in diff) for i, a in enumerate(arrays)]
    grads_r = torch.autograd.grad(call(torch.nn.functional, *theirs, reduction="sum"), [theirs[i] for i in diff],
                                  create_graph=True)
    second_r = torch.autograd.grad(sum((g * g).sum() for g in grads_r), theirs[diff[0]])[0]
    np.testing.assert_allclose(second.data, second_r.numpy(), rtol=1e-9, atol=1e-11)
