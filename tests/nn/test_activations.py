"""Activations: values and gradients against PyTorch, finite differences in float64, module forms."""
import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _away_from_kinks(rng, shape, scale=3.0):
    x = rng.uniform(-scale, scale, shape)
    x[np.abs(x) < 0.05] += 0.2
    return x


# (our function, torch function name/lambda built lazily)
CASES = {
    "sigmoid": (lambda x: F.sigmoid(x), lambda t, x: t.sigmoid(x)),
    "sigmoid_beta": (lambda x: F.sigmoid(x, beta=2.5), lambda t, x: t.sigmoid(2.5 * x)),
    "tanh": (F.tanh, lambda t, x: t.tanh(x)),
    "arctan": (F.arctan, lambda t, x: t.atan(x)),
    "relu": (F.relu, lambda t, x: t.relu(x)),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.2), lambda t, x: t.nn.functional.leaky_relu(x, 0.2)),
    "leaky_relu_default": (F.leaky_relu, lambda t, x: t.nn.functional.leaky_relu(x)),
    "elu": (lambda x: F.elu(x, 1.3), lambda t, x: t.nn.functional.elu(x, 1.3)),
    "softplus": (F.softplus, lambda t, x: t.nn.functional.softplus(x)),
    "softplus_beta_threshold": (lambda x: F.softplus(x, beta=2.0, threshold=3.0),
                                lambda t, x: t.nn.functional.softplus(x, beta=2.0, threshold=3.0)),
    "softmax": (lambda x: F.softmax(x, dim=1), lambda t, x: t.softmax(x, dim=1)),
    "softmax_axis0": (lambda x: F.softmax(x, axis=0), lambda t, x: t.softmax(x, dim=0)),
    "log_softmax": (lambda x: F.log_softmax(x, dim=1), lambda t, x: t.log_softmax(x, dim=1)),
    "identity": (F.identity, lambda t, x: x * 1),
    "mish": (F.mish, lambda t, x: t.nn.functional.mish(x)),
    "hardtanh": (F.hardtanh, lambda t, x: t.nn.functional.hardtanh(x)),
    "hardtanh_range": (lambda x: F.hardtanh(x, -0.5, 2.0), lambda t, x: t.nn.functional.hardtanh(x, -0.5, 2.0)),
    "relu6": (lambda x: F.relu6(x * 3), lambda t, x: t.nn.functional.relu6(x * 3)),
    "hardsigmoid": (lambda x: F.hardsigmoid(x * 2), lambda t, x: t.nn.functional.hardsigmoid(x * 2)),
    "hardswish": (lambda x: F.hardswish(x * 2), lambda t, x: t.nn.functional.hardswish(x * 2)),
    "softsign": (F.softsign, lambda t, x: t.nn.functional.softsign(x)),
    "logsigmoid": (F.logsigmoid, lambda t, x: t.nn.functional.logsigmoid(x)),
    "threshold": (lambda x: F.threshold(x, 0.7, -2.0), lambda t, x: t.nn.functional.threshold(x, 0.7, -2.0)),
    "celu": (lambda x: F.celu(x, 0.6), lambda t, x: t.nn.functional.celu(x, 0.6)),
    "celu_default": (F.celu, lambda t, x: t.nn.functional.celu(x)),
    "selu": (F.selu, lambda t, x: t.nn.functional.selu(x)),
    "glu": (lambda x: F.glu(x[:, :4]), lambda t, x: t.nn.functional.glu(x[:, :4])),
    "glu_dim0": (lambda x: F.glu(x[:2], dim=0), lambda t, x: t.nn.functional.glu(x[:2], dim=0)),
    "softmin": (lambda x: F.softmin(x, dim=1), lambda t, x: t.nn.functional.softmin(x, dim=1)),
    "softmin_dim0": (lambda x: F.softmin(x, dim=0), lambda t, x: t.nn.functional.softmin(x, dim=0)),
    "tanhshrink": (F.tanhshrink, lambda t, x: t.nn.functional.tanhshrink(x)),
    "softshrink": (F.softshrink, lambda t, x: t.nn.functional.softshrink(x)),
    "softshrink_lambd": (lambda x: F.softshrink(x, 1.2), lambda t, x: t.nn.functional.softshrink(x, 1.2)),
    "hardshrink": (F.hardshrink, lambda t, x: t.nn.functional.hardshrink(x)),
    "hardshrink_lambd": (lambda x: F.hardshrink(x, 1.2), lambda t, x: t.nn.functional.hardshrink(x, 1.2)),
    "rrelu_eval": (lambda x: F.rrelu(x, 0.1, 0.4), lambda t, x: t.nn.functional.rrelu(x, 0.1, 0.4)),
    "softmax2d": (lambda x: nn.Softmax2d()(x.reshape((1,) + tuple(x.shape) + (1,))),
                  lambda t, x: t.nn.Softmax2d()(x.reshape((1,) + tuple(x.shape) + (1,)))),
}


# torch's float64 backward of these uses float32 constants (1.0f / 6 in hardsigmoid, 1 / alpha in celu),
# so its gradient is off by ~1e-8; ours is exact in float64 (gradcheck below)
TORCH_FLOAT32_CONSTANTS = {"hardsigmoid", "celu"}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_values_and_grads_match_torch(torch, rng, name, dtype):
    ours, theirs = CASES[name]
    x = _away_from_kinks(rng, (4, 5)).astype(dtype)
    xt = ad.Tensor(x.copy(), requires_grad=True)
    y = ours(xt)
    g = rng.standard_normal(y.shape).astype(dtype)
    y.backward(g)
    xr = torch.tensor(x, requires_grad=True)
    yr = theirs(torch, xr)
    yr.backward(torch.tensor(g))
    tol = 1e-5 if dtype == np.float32 else 1e-12
    gtol = 1e-7 if name in TORCH_FLOAT32_CONSTANTS else tol * 10
    assert y.dtype == dtype
    np.testing.assert_allclose(y.data, yr.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(xt.grad.data, xr.grad.numpy(), rtol=gtol, atol=gtol)


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradcheck_float64(rng, name):
    ours, _ = CASES[name]
    x = ad.Tensor(_away_from_kinks(rng, (3, 4)), requires_grad=True)
    assert ad.gradcheck(ours, [x])


def test_softplus_extremes_are_finite_and_linear_above_threshold():
    x = ad.Tensor(np.array([-1000.0, -30.0, 0.0, 19.0, 21.0, 1000.0]), requires_grad=True)
    y = F.softplus(x)
    y.sum().backward()
    assert np.all(np.isfinite(y.data)) and np.all(np.isfinite(x.grad.data))
    np.testing.assert_allclose(y.data[-2:], [21.0, 1000.0])
    np.testing.assert_allclose(x.grad.data[-2:], [1.0, 1.0])
    np.testing.assert_allclose(y.data[2], np.log(2.0))


def test_sigmoid_beta_derivative_is_course_formula(rng):
    beta = 0.7
    x = ad.Tensor(rng.standard_normal(6), requires_grad=True)
    s = F.sigmoid(x, beta=beta)
    np.testing.assert_allclose(s.data, 1 / (1 + np.exp(-beta * x.data)))
    s.sum().backward()
    np.testing.assert_allclose(x.grad.data, beta * s.data * (1 - s.data))


@pytest.mark.parametrize("bipolar,low", [(False, 0.0), (True, -1.0)])
def test_step_values_and_zero_gradient(bipolar, low):
    x = ad.Tensor(np.array([-2.0, -0.1, 0.0, 0.3, 5.0], np.float32), requires_grad=True)
    y = F.step(x, bipolar=bipolar)
    np.testing.assert_array_equal(y.data, [low, low, 1.0, 1.0, 1.0])
    assert y.dtype == np.float32
    (y * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.data, 0.0)
    np.testing.assert_array_equal(nn.Step(bipolar=bipolar)(x).data, y.data)


def test_arctan_second_derivative(rng):
    x = ad.Tensor(rng.standard_normal(5), requires_grad=True)
    (g,) = ad.grad(F.arctan(x).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.data, 1 / (1 + x.data ** 2))
    (gg,) = ad.grad(g.sum(), x)
    np.testing.assert_allclose(gg.data, -2 * x.data / (1 + x.data ** 2) ** 2)


@pytest.mark.parametrize("shape,num", [((4, 3), 3), ((2, 3, 5), 3), ((2, 3, 4, 2), 1), ((6,), 1)])
def test_prelu_matches_torch(torch, rng, shape, num):
    x = _away_from_kinks(rng, shape).astype(np.float32)
    g = rng.standard_normal(shape).astype(np.float32)
    layer = nn.PReLU(num)
    layer.weight.data[...] = rng.uniform(0.05, 0.5, num)
    y = layer(ad.Tensor(x))
    y.backward(g)
    ref = torch.nn.PReLU(num)
    with torch.no_grad():
        ref.weight.copy_(torch.tensor(layer.weight.data))
    yr = ref(torch.tensor(x))
    yr.backward(torch.tensor(g))
    np.testing.assert_allclose(y.data, yr.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(layer.weight.grad.data, ref.weight.grad.numpy(), rtol=1e-4, atol=1e-5)
    assert [n for n, _ in layer.named_parameters()] == ["weight"]


def test_prelu_gradcheck_and_errors(rng):
    w = ad.Tensor(np.array([0.1, 0.3, 0.2]), requires_grad=True)
    x = ad.Tensor(_away_from_kinks(rng, (2, 3, 2)), requires_grad=True)
    assert ad.gradcheck(F.prelu, [x, w])
    with pytest.raises(ValueError, match=r"\(2, 4\)"):
        F.prelu(ad.ones(2, 4), w)


MODULES = [
    (nn.Sigmoid(), lambda x: F.sigmoid(x)), (nn.Sigmoid(beta=2.0), lambda x: F.sigmoid(x, 2.0)),
    (nn.Tanh(), F.tanh), (nn.ArcTan(), F.arctan), (nn.ReLU(), F.relu),
    (nn.LeakyReLU(0.3), lambda x: F.leaky_relu(x, 0.3)), (nn.ELU(0.5), lambda x: F.elu(x, 0.5)),
    (nn.Softplus(2.0, 5.0), lambda x: F.softplus(x, 2.0, 5.0)), (nn.Softmax(dim=0), lambda x: F.softmax(x, 0)),
    (nn.LogSoftmax(1), lambda x: F.log_softmax(x, 1)), (nn.Identity(), F.identity),
    (nn.Mish(), F.mish), (nn.Hardtanh(-0.5, 2.0), lambda x: F.hardtanh(x, -0.5, 2.0)), (nn.ReLU6(), F.relu6),
    (nn.Hardsigmoid(), F.hardsigmoid), (nn.Hardswish(), F.hardswish), (nn.Softsign(), F.softsign),
    (nn.LogSigmoid(), F.logsigmoid), (nn.Threshold(0.1, 20.0), lambda x: F.threshold(x, 0.1, 20.0)),
    (nn.CELU(0.5), lambda x: F.celu(x, 0.5)), (nn.SELU(), F.selu), (nn.GLU(), F.glu),
    (nn.GLU(dim=1), lambda x: F.glu(x, 1)), (nn.Softmin(dim=1), lambda x: F.softmin(x, dim=1)),
    (nn.Tanhshrink(), F.tanhshrink), (nn.Softshrink(0.3), lambda x: F.softshrink(x, 0.3)),
    (nn.Hardshrink(0.3), lambda x: F.hardshrink(x, 0.3)),
]


@pytest.mark.parametrize("module,fn", MODULES, ids=[type(m).__name__ for m, _ in MODULES])
def test_module_forms_equal_functions(rng, module, fn):
    x = ad.Tensor(_away_from_kinks(rng, (3, 4)).astype(np.float32))
    np.testing.assert_array_equal(module(x).data, fn(x).data)


def test_reprs():
    assert repr(nn.LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"
    assert repr(nn.Sigmoid()) == "Sigmoid()" and repr(nn.Softmax(dim=1)) == "Softmax(dim=1)"


REPR_CASES = ["Mish()", "Hardtanh(min_val=-1.0, max_val=1.0)", "Hardtanh(min_val=-2.0, max_val=0.5)", "ReLU6()",
              "Hardsigmoid()", "Hardswish()", "Softsign()", "LogSigmoid()", "Threshold(0.5, 2.0)", "CELU()",
              "CELU(alpha=0.5)", "SELU()", "GLU()", "GLU(dim=1)", "Softmin(dim=1)", "Tanhshrink()",
              "Softshrink()", "Hardshrink(lambd=0.2)", "LeakyReLU()", "ELU(alpha=0.5)", "Softplus(beta=2.0)",
              "PReLU(3)", "Softmin()"]


@pytest.mark.parametrize("expr", REPR_CASES)
def test_constructors_and_reprs_match_torch(torch, expr):
    ours, theirs = eval("nn." + expr), eval("torch.nn." + expr)
    assert repr(ours) == repr(theirs)
    assert {n: tuple(p.shape) for n, p in ours.named_parameters()} == \
        {n: tuple(p.shape) for n, p in theirs.named_parameters()}


@pytest.mark.parametrize("shape", [(), (1,), (2, 1, 3)])
@pytest.mark.parametrize("name", ["mish", "hardswish", "logsigmoid", "selu", "softshrink", "threshold"])
def test_size_one_and_scalar_shapes_match_torch(torch, rng, name, shape):
    ours, theirs = CASES[name]
    x = _away_from_kinks(rng, shape)
    xt = ad.Tensor(x.copy(), requires_grad=True)
    ours(xt).sum().backward()
    xr = torch.tensor(x, requires_grad=True)
    theirs(torch, xr).sum().backward()
    assert ours(xt).shape == tuple(theirs(torch, xr).shape)
    np.testing.assert_allclose(xt.grad.data, xr.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_logsigmoid_is_finite_for_extreme_inputs(torch):
    x = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0], np.float32)
    xt = ad.Tensor(x, requires_grad=True)
    y = F.logsigmoid(xt)
    y.sum().backward()
    xr = torch.tensor(x, requires_grad=True)
    yr = torch.nn.functional.logsigmoid(xr)
    yr.sum().backward()
    np.testing.assert_allclose(y.data, yr.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(xt.grad.data, xr.grad.numpy(), rtol=1e-6, atol=1e-30)


def test_activation_errors_name_the_op():
    with pytest.raises(ValueError, match=r"glu.*\(2, 3\)"):
        F.glu(ad.ones(2, 3))
    with pytest.raises(IndexError, match="glu: dim 2"):
        F.glu(ad.ones(2, 4), dim=2)
    with pytest.raises(ValueError, match="hardtanh"):
        F.hardtanh(ad.ones(2), 1.0, -1.0)
    with pytest.raises(ValueError, match="softshrink"):
        F.softshrink(ad.ones(2), -0.1)


@pytest.mark.parametrize("name", ["elu", "softplus_beta_threshold", "sigmoid_beta", "tanh",
                                  "log_softmax", "mish", "hardswish", "softsign", "logsigmoid", "celu", "selu",
                                  "glu", "softmin", "tanhshrink"])
def test_second_derivatives_match_torch(torch, rng, name):
    ours, theirs = CASES[name]
    x0 = _away_from_kinks(rng, (3, 4))
    v = rng.standard_normal((3, 4))
    x = ad.Tensor(x0.copy(), requires_grad=True)
    (g,) = ad.grad(ours(x).sum(), x, create_graph=True)
    (gg,) = ad.grad((g * ad.Tensor(v)).sum(), x)
    xr = torch.tensor(x0, requires_grad=True)
    (gr,) = torch.autograd.grad(theirs(torch, xr).sum(), xr, create_graph=True)
    (ggr,) = torch.autograd.grad((gr * torch.tensor(v)).sum(), xr)
    tol = 1e-7 if name in TORCH_FLOAT32_CONSTANTS else 1e-10
    np.testing.assert_allclose(g.data, gr.detach().numpy(), rtol=tol, atol=tol / 100)
    np.testing.assert_allclose(gg.data, ggr.numpy(), rtol=tol * 100, atol=tol)


# (softplus, prelu, logsigmoid, softshrink and hardshrink are torch builtins without a signature to read)
SIGNATURE_FUNCTIONS = ["relu", "leaky_relu", "elu", "mish", "hardtanh", "relu6", "hardsigmoid", "hardswish",
                       "softsign", "threshold", "celu", "selu", "glu", "tanhshrink", "softmin", "rrelu"]
SIGNATURE_MODULES = ["LeakyReLU", "ELU", "Softplus", "PReLU", "Mish", "Hardtanh", "ReLU6", "Hardsigmoid", "Hardswish",
                     "Softsign", "LogSigmoid", "Threshold", "CELU", "SELU", "GLU", "Softmin", "Tanhshrink",
                     "Softshrink", "Hardshrink"]


def _params(fn):
    import inspect
    return [(p.name, p.default) for p in inspect.signature(fn).parameters.values()
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


@pytest.mark.parametrize("name", SIGNATURE_FUNCTIONS)
def test_function_signatures_match_torch(torch, name):
    ours, theirs = _params(getattr(F, name)), _params(getattr(torch.nn.functional, name))
    assert ours[:len(theirs)] == theirs


@pytest.mark.parametrize("name", SIGNATURE_MODULES)
def test_module_signatures_match_torch(torch, name):
    assert _params(getattr(nn, name).__init__) == _params(getattr(torch.nn, name).__init__)


def test_rrelu_training_draws_slopes_in_range_and_differentiates_through_them(rng):
    x = ad.Tensor(_away_from_kinks(rng, (50, 4)), requires_grad=True)
    layer = nn.RReLU(0.1, 0.3)
    y = layer(x)
    y.sum().backward()
    neg = x.data < 0
    slopes = y.data[neg] / x.data[neg]
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3 and slopes.std() > 0.03
    np.testing.assert_array_equal(y.data[~neg], x.data[~neg])
    np.testing.assert_allclose(x.grad.data[neg], slopes)
    layer.eval()
    np.testing.assert_allclose(layer(x).data[neg], x.data[neg] * 0.2)
