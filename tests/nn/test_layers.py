"""Layers against PyTorch: Linear, Flatten, Identity, Dropout, Embedding, BatchNorm1d/2d, LayerNorm."""
import math

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _copy_from_torch(ours, ref):
    ours.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})


# --- Linear ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 4), (4,)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch(torch, rng, shape, bias):
    ref = torch.nn.Linear(4, 3, bias=bias)
    lin = nn.Linear(4, 3, bias=bias)
    _copy_from_torch(lin, ref)
    x = rng.standard_normal(shape).astype(np.float32)
    g = rng.standard_normal(shape[:-1] + (3,)).astype(np.float32)
    xt = ad.Tensor(x.copy(), requires_grad=True)
    y = lin(xt)
    y.backward(g)
    xr = torch.tensor(x, requires_grad=True)
    yr = ref(xr)
    yr.backward(torch.tensor(g))
    np.testing.assert_allclose(y.data, yr.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(xt.grad.data, xr.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(lin.weight.grad.data, ref.weight.grad.numpy(), rtol=1e-5, atol=1e-5)
    if bias:
        np.testing.assert_allclose(lin.bias.grad.data, ref.bias.grad.numpy(), rtol=1e-5, atol=1e-5)
    assert y.grad_fn.name == "linear"  # one node for x W^T + b


def test_linear_gradcheck_and_double_backward(rng):
    x = ad.Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    w = ad.Tensor(rng.standard_normal((2, 4)), requires_grad=True)
    b = ad.Tensor(rng.standard_normal(2), requires_grad=True)
    assert ad.gradcheck(F.linear, [x, w, b])
    # d/dw of sum((dL/dx)^2) through the create_graph path
    (gx,) = ad.grad((F.linear(x, w, b) ** 2).sum(), x, create_graph=True)
    assert ad.gradcheck(lambda x_, w_, b_: ad.grad((F.linear(x_, w_, b_) ** 2).sum(), x_, create_graph=True)[0],
                        [x, w, b])
    assert gx.shape == (3, 4)


def test_linear_shapes_init_and_errors():
    lin = nn.Linear(200, 50)
    assert lin.weight.shape == (50, 200) and lin.bias.shape == (50,)
    assert lin.weight.dtype == np.float32
    assert [n for n, _ in lin.named_parameters()] == ["weight", "bias"]
    bound = 1 / math.sqrt(200)
    w = lin.weight.data
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound  # U(-b, b) has std b/sqrt(3)
    assert np.abs(lin.bias.data).max() <= bound
    assert repr(lin) == "Linear(in_features=200, out_features=50, bias=True)"
    assert nn.Linear(3, 2, bias=False).bias is None
    with pytest.raises(ValueError, match=r"\(2, 7\).*\(50, 200\)"):
        lin(ad.ones(2, 7))


def test_linear_init_is_seeded():
    ad.manual_seed(3)
    a = nn.Linear(5, 4).weight.data.copy()
    ad.manual_seed(3)
    b = nn.Linear(5, 4).weight.data.copy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, nn.Linear(5, 4).weight.data)


def test_torch_state_dict_loads_as_is(torch, rng):
    ref = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.ReLU(), torch.nn.BatchNorm1d(5),
                              torch.nn.Linear(5, 3))
    ref.train()
    ref(torch.randn(8, 6))  # move the running statistics
    ref.eval()
    model = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.BatchNorm1d(5), nn.Linear(5, 3))
    sd = {k: v.numpy() for k, v in ref.state_dict().items()}
    assert list(model.state_dict()) == list(sd)
    assert all(model.state_dict()[k].shape == v.shape for k, v in sd.items())
    model.load_state_dict(sd)
    model.eval()
    x = rng.standard_normal((4, 6)).astype(np.float32)
    np.testing.assert_allclose(model(ad.Tensor(x)).data, ref(torch.tensor(x)).detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    # and back: our state dict loads into torch
    ref2 = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.ReLU(), torch.nn.BatchNorm1d(5),
                               torch.nn.Linear(5, 3))
    ref2.load_state_dict({k: torch.tensor(np.asarray(v)) for k, v in model.state_dict().items()})


def test_flatten_and_identity(rng):
    x = ad.Tensor(rng.standard_normal((2, 3, 4, 5)))
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 1)(x).shape == (6, 4, 5)
    assert nn.Flatten(2)(x).shape == (2, 3, 20)
    np.testing.assert_array_equal(nn.Flatten()(x).data, x.data.reshape(2, 60))
    assert nn.Identity(54, unused="x")(x) is x


# --- Dropout ---------------------------------------------------------------------------------------
def test_dropout_statistics_scaling_and_eval():
    x = ad.ones(200, 500, requires_grad=True)
    d = nn.Dropout(0.3)
    y = d(x)
    kept = y.data != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(y.data[kept], 1 / 0.7, rtol=1e-6)
    assert abs(y.data.mean() - 1.0) < 0.01  # expected activation is unchanged
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, y.data)  # same mask and scale in backward
    d.eval()
    assert d(x) is x
    assert np.all(nn.Dropout(1.0)(x).data == 0)
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)


def test_dropout_half_equals_halving_weights_in_expectation(rng):
    """Course: train with p=0.5, test with halved outgoing weights == inverted dropout, in expectation."""
    a = rng.uniform(0, 1, (1, 8)).astype(np.float32)
    w = rng.standard_normal((8, 3)).astype(np.float32)
    samples = np.mean([(F.dropout(ad.Tensor(np.repeat(a, 4000, 0)), 0.5).data @ w).mean(0)
                       for _ in range(5)], axis=0)
    course_test_time = (a @ (0.5 * w))[0] * 2  # halved weights on the un-scaled activation, times 1/(1-p)
    np.testing.assert_allclose(samples, (a @ w)[0], atol=0.05)
    np.testing.assert_allclose(course_test_time, (a @ w)[0], rtol=1e-6)


def test_dropout_seeded():
    ad.manual_seed(7)
    a = F.dropout(ad.ones(10, 10)).data
    ad.manual_seed(7)
    np.testing.assert_array_equal(a, F.dropout(ad.ones(10, 10)).data)


# --- Embedding -------------------------------------------------------------------------------------
@pytest.mark.parametrize("padding_idx", [None, 2])
def test_embedding_matches_torch(torch, rng, padding_idx):
    ref = torch.nn.Embedding(6, 3, padding_idx=padding_idx)
    emb = nn.Embedding(6, 3, padding_idx=padding_idx)
    _copy_from_torch(emb, ref)
    idx = np.array([[0, 2, 5], [2, 2, 1]])
    g = rng.standard_normal((2, 3, 3)).astype(np.float32)
    y = emb(idx)
    y.backward(g)
    yr = ref(torch.tensor(idx))
    yr.backward(torch.tensor(g))
    np.testing.assert_array_equal(y.data, yr.detach().numpy())
    np.testing.assert_allclose(emb.weight.grad.data, ref.weight.grad.numpy(), rtol=1e-6)
    if padding_idx is not None:
        assert np.all(nn.Embedding(6, 3, padding_idx=padding_idx).weight.data[padding_idx] == 0)


def test_embedding_init_and_errors():
    emb = nn.Embedding(400, 50)
    assert emb.weight.shape == (400, 50)
    assert abs(emb.weight.data.mean()) < 0.02 and abs(emb.weight.data.std() - 1) < 0.02
    with pytest.raises(IndexError, match="400"):
        emb(np.array([400]))
    with pytest.raises(TypeError, match="integers"):
        emb(np.array([1.0]))


# --- Normalisation ---------------------------------------------------------------------------------
BN_CASES = [(nn.BatchNorm1d, "BatchNorm1d", (8, 3)), (nn.BatchNorm1d, "BatchNorm1d", (4, 3, 5)),
            (nn.BatchNorm2d, "BatchNorm2d", (4, 3, 2, 3))]


@pytest.mark.parametrize("cls,tname,shape", BN_CASES, ids=["1d", "1d_len", "2d"])
@pytest.mark.parametrize("kw", [{}, {"momentum": None}, {"momentum": 0.3, "affine": False},
                                {"track_running_stats": False}], ids=["default", "cumavg", "noaffine", "nostats"])
def test_batchnorm_matches_torch_over_steps(torch, rng, cls, tname, shape, kw):
    ref = getattr(torch.nn, tname)(3, **kw)
    bn = cls(3, **kw)
    if bn.affine:
        with torch.no_grad():
            ref.weight.copy_(torch.tensor(rng.uniform(0.5, 2, 3).astype(np.float32)))
            ref.bias.copy_(torch.tensor(rng.standard_normal(3).astype(np.float32)))
        _copy_from_torch(bn, ref)
    for step in range(3):
        x = (rng.standard_normal(shape) * 2 + step).astype(np.float32)
        g = rng.standard_normal(shape).astype(np.float32)
        xt = ad.Tensor(x.copy(), requires_grad=True)
        bn.zero_grad()
        y = bn(xt)
        y.backward(g)
        xr = torch.tensor(x, requires_grad=True)
        ref.zero_grad()
        yr = ref(xr)
        yr.backward(torch.tensor(g))
        np.testing.assert_allclose(y.data, yr.detach().numpy(), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(xt.grad.data, xr.grad.numpy(), rtol=1e-4, atol=1e-4)
        if bn.affine:
            np.testing.assert_allclose(bn.weight.grad.data, ref.weight.grad.numpy(), rtol=1e-4, atol=1e-4)
            np.testing.assert_allclose(bn.bias.grad.data, ref.bias.grad.numpy(), rtol=1e-4, atol=1e-4)
    if bn.track_running_stats:
        np.testing.assert_allclose(bn.running_mean.data, ref.running_mean.numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(bn.running_var.data, ref.running_var.numpy(), rtol=1e-5, atol=1e-6)
        assert bn.num_batches_tracked.item() == ref.num_batches_tracked.item() == 3
        assert list(bn.state_dict()) == list(ref.state_dict())
    else:
        assert bn.running_mean is None and list(bn.state_dict()) == list(ref.state_dict())
    bn.eval()
    ref.eval()
    x = rng.standard_normal(shape).astype(np.float32)
    xt = ad.Tensor(x.copy(), requires_grad=True)
    y = bn(xt)
    y.sum().backward()
    xr = torch.tensor(x, requires_grad=True)
    yr = ref(xr)
    yr.sum().backward()
    np.testing.assert_allclose(y.data, yr.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(xt.grad.data, xr.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_batchnorm_running_var_is_unbiased(rng):
    bn = nn.BatchNorm1d(2, momentum=1.0)
    x = rng.standard_normal((5, 2)).astype(np.float32)
    y = bn(ad.Tensor(x))
    np.testing.assert_allclose(bn.running_var.data, x.var(axis=0, ddof=1), rtol=1e-5)
    np.testing.assert_allclose(y.data, (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5), rtol=1e-4, atol=1e-5)


def test_batchnorm_gradcheck(rng):
    x = ad.Tensor(rng.standard_normal((4, 3, 2)), requires_grad=True)
    w = ad.Tensor(rng.uniform(0.5, 2, 3), requires_grad=True)
    b = ad.Tensor(rng.standard_normal(3), requires_grad=True)
    assert ad.gradcheck(lambda x_, w_, b_: F.batch_norm(x_, None, None, w_, b_, training=True), [x, w, b])


def test_batchnorm_errors():
    with pytest.raises(ValueError, match=r"channels.*\(4, 5\)"):
        nn.BatchNorm1d(3)(ad.ones(4, 5))
    with pytest.raises(ValueError, match="more than 1 value"):
        nn.BatchNorm1d(3)(ad.ones(1, 3))
    with pytest.raises(ValueError, match="4-D"):
        nn.BatchNorm2d(3)(ad.ones(2, 3))
    nn.BatchNorm1d(3).eval()(ad.ones(1, 3))  # fine in eval


@pytest.mark.parametrize("normalized_shape,shape", [(5, (3, 5)), ((4, 5), (2, 4, 5)), (6, (2, 3, 6))])
@pytest.mark.parametrize("affine", [True, False])
def test_layernorm_matches_torch(torch, rng, normalized_shape, shape, affine):
    ref = torch.nn.LayerNorm(normalized_shape, elementwise_affine=affine)
    ln = nn.LayerNorm(normalized_shape, elementwise_affine=affine)
    if affine:
        with torch.no_grad():
            ref.weight.copy_(torch.randn(ref.weight.shape))
            ref.bias.copy_(torch.randn(ref.bias.shape))
        _copy_from_torch(ln, ref)
    x = rng.standard_normal(shape).astype(np.float32)
    g = rng.standard_normal(shape).astype(np.float32)
    xt = ad.Tensor(x.copy(), requires_grad=True)
    y = ln(xt)
    y.backward(g)
    xr = torch.tensor(x, requires_grad=True)
    yr = ref(xr)
    yr.backward(torch.tensor(g))
    np.testing.assert_allclose(y.data, yr.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(xt.grad.data, xr.grad.numpy(), rtol=1e-4, atol=1e-4)
    if affine:
        np.testing.assert_allclose(ln.weight.grad.data, ref.weight.grad.numpy(), rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(ln.bias.grad.data, ref.bias.grad.numpy(), rtol=1e-4, atol=1e-4)


def test_layernorm_gradcheck_and_error(rng):
    x = ad.Tensor(rng.standard_normal((2, 4)), requires_grad=True)
    w = ad.Tensor(rng.standard_normal(4), requires_grad=True)
    b = ad.Tensor(rng.standard_normal(4), requires_grad=True)
    assert ad.gradcheck(lambda x_, w_, b_: F.layer_norm(x_, 4, w_, b_), [x, w, b])
    with pytest.raises(ValueError, match=r"\(2, 4\)"):
        nn.LayerNorm(5)(x)


def test_to_double_runs_layers_in_float64(rng):
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Tanh(), nn.LayerNorm(4), nn.Linear(4, 2)).double()
    y = model(ad.Tensor(rng.standard_normal((5, 3))))
    assert y.dtype == np.float64 and model[1].running_mean.dtype == np.float64
