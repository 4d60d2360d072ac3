"""Every op: forward against numpy, gradient against float64 central differences, across broadcasting shapes."""
import numpy as np
import pytest

import autodiff as ad


def leaf(rng, shape, low=-2.0, high=2.0, away_from=None):
    x = rng.uniform(low, high, size=shape)
    if away_from is not None:  # keep samples away from kinks
        x = np.where(np.abs(x - away_from) < 0.1, x + 0.3, x)
    return ad.Tensor(x.astype(np.float64), requires_grad=True)


BINARY_SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((), (2, 3)), ((5, 1), (1, 5))]


@pytest.mark.parametrize("sa,sb", BINARY_SHAPES)
@pytest.mark.parametrize("op,npop", [
    (lambda a, b: a + b, np.add),
    (lambda a, b: a - b, np.subtract),
    (lambda a, b: a * b, np.multiply),
    (lambda a, b: a / b, np.divide),
    (lambda a, b: a ** b, np.power),
    (ad.maximum, np.maximum),
    (ad.minimum, np.minimum),
])
def test_binary_ops(rng, sa, sb, op, npop):
    a = leaf(rng, sa, 0.5, 2.0)
    b = leaf(rng, sb, 0.5, 2.0)
    np.testing.assert_allclose(op(a, b).data, npop(a.data, b.data))
    assert ad.gradcheck(lambda x, y: op(x, y), [a, b])


@pytest.mark.parametrize("op,npop,low,kink", [
    ("exp", np.exp, -2, None), ("log", np.log, 0.2, None), ("sqrt", np.sqrt, 0.2, None),
    ("abs", np.abs, -2, 0.0), ("sin", np.sin, -2, None), ("cos", np.cos, -2, None),
    ("tanh", np.tanh, -2, None), ("sigmoid", lambda x: 1 / (1 + np.exp(-x)), -3, None),
    ("relu", lambda x: np.maximum(x, 0), -2, 0.0), ("softplus", lambda x: np.log1p(np.exp(x)), -3, None),
])
def test_unary_ops(rng, op, npop, low, kink):
    a = leaf(rng, (3, 4), low, 2.0, away_from=kink)
    np.testing.assert_allclose(getattr(a, op)().data, npop(a.data), rtol=1e-12)
    np.testing.assert_allclose(getattr(ad, op)(a).data, npop(a.data), rtol=1e-12)
    assert ad.gradcheck(lambda x: getattr(x, op)(), [a])


def test_scalar_forms_and_reflected(rng):
    a = leaf(rng, (2, 3), 0.5, 2.0)
    for f in [lambda x: 2 + x, lambda x: 2 - x, lambda x: 2 * x, lambda x: 2 / x, lambda x: 2 ** x,
              lambda x: x ** 3, lambda x: x ** 0.5, lambda x: -x, lambda x: x - 1.5, lambda x: x / 4]:
        assert ad.gradcheck(f, [a])
    np.testing.assert_allclose((2 ** a).data, 2 ** a.data)
    np.testing.assert_allclose((2 - a).data, 2 - a.data)


def test_clip_and_where(rng):
    a = leaf(rng, (4, 5), -2, 2)
    a.data[np.abs(np.abs(a.data) - 1) < 0.1] = 0.0
    np.testing.assert_allclose(a.clip(-1, 1).data, np.clip(a.data, -1, 1))
    assert ad.gradcheck(lambda x: x.clip(-1, 1), [a])
    b = leaf(rng, (5,))
    cond = a.data > 0
    np.testing.assert_allclose(ad.where(cond, a, b).data, np.where(cond, a.data, b.data))
    assert ad.gradcheck(lambda x, y: ad.where(cond, x, y), [a, b])


AXES = [None, 0, 1, -1, (0, 2), (1, 2)]


@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("op", ["sum", "mean", "var", "amax", "amin", "logsumexp"])
def test_reductions(rng, op, axis, keepdims):
    a = leaf(rng, (2, 3, 4))
    ref = {"logsumexp": lambda x, axis, keepdims: np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims)),
           "var": lambda x, axis, keepdims: np.var(x, axis=axis, keepdims=keepdims, ddof=1)}  # torch's default
    expected = (ref[op] if op in ref else getattr(np, op))(a.data, axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(getattr(a, op)(axis=axis, keepdims=keepdims).data, expected, rtol=1e-12)
    assert ad.gradcheck(lambda x: getattr(x, op)(axis=axis, keepdims=keepdims), [a])


def test_var_ddof_and_dim_aliases(rng):
    a = leaf(rng, (3, 5))
    np.testing.assert_allclose(a.var(axis=1, ddof=1).data, np.var(a.data, axis=1, ddof=1))
    np.testing.assert_allclose(a.sum(dim=1, keepdim=True).data, a.data.sum(1, keepdims=True))
    np.testing.assert_allclose(a.mean(dim=0).data, a.data.mean(0))
    assert ad.gradcheck(lambda x: x.var(axis=1, ddof=1), [a])


def test_max_ties_share_gradient():
    a = ad.tensor([1.0, 3.0, 3.0], requires_grad=True)
    a.max().backward()
    np.testing.assert_allclose(a.grad.data, [0, 0.5, 0.5])


@pytest.mark.parametrize("keepdims", [False, True])
def test_max_min_over_axis_ties_in_some_rows(keepdims):
    # row 0: one maximum; row 1: three-way tie; row 2: two-way tie at the minimum
    x = np.array([[1.0, 5.0, 2.0], [4.0, 4.0, 4.0], [0.0, -1.0, -1.0]])
    g = np.array([1.0, 3.0, 2.0])
    gk = g[:, None] if keepdims else g
    for name, ref in (("amax", np.max), ("amin", np.min)):
        a = ad.Tensor(x.copy(), requires_grad=True)
        getattr(a, name)(axis=1, keepdims=keepdims).backward(gk)
        hits = x == ref(x, axis=1, keepdims=True)
        want = hits * (g[:, None] / hits.sum(axis=1, keepdims=True))
        np.testing.assert_allclose(a.grad.data, want)
    # and with create_graph the gradient is itself differentiable in g
    a = ad.Tensor(x.copy(), requires_grad=True)
    gt = ad.Tensor(gk.copy(), requires_grad=True)
    (ga,) = ad.grad([a.amax(axis=1, keepdims=keepdims)], [a], grad_outputs=[gt], create_graph=True)
    (ga * ad.Tensor(np.arange(9.0).reshape(3, 3))).sum().backward()
    hits = x == x.max(axis=1, keepdims=True)
    want_g = (hits * np.arange(9.0).reshape(3, 3) / hits.sum(axis=1, keepdims=True)).sum(axis=1)
    np.testing.assert_allclose(gt.grad.data.reshape(-1), want_g)


def test_argmax_argmin(rng):
    a = leaf(rng, (3, 4))
    np.testing.assert_array_equal(a.argmax(axis=1).data, a.data.argmax(1))
    np.testing.assert_array_equal(a.argmin().data, a.data.argmin())
    assert not a.argmax().requires_grad


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_softmax_log_softmax(rng, axis):
    a = leaf(rng, (3, 4))
    e = np.exp(a.data - a.data.max(axis, keepdims=True))
    sm = e / e.sum(axis, keepdims=True)
    np.testing.assert_allclose(a.softmax(axis).data, sm, rtol=1e-12)
    np.testing.assert_allclose(a.log_softmax(axis).data, np.log(sm), rtol=1e-10)
    w = ad.Tensor(rng.normal(size=(3, 4)))
    assert ad.gradcheck(lambda x: x.softmax(axis) * w, [a])
    assert ad.gradcheck(lambda x: x.log_softmax(axis) * w, [a])


@pytest.mark.parametrize("sa,sb", [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)),
                                   ((5, 2, 3), (3, 4)), ((5, 2, 3), (1, 3, 4)), ((2, 1, 2, 3), (4, 3, 2))])
def test_matmul(rng, sa, sb):
    a, b = leaf(rng, sa), leaf(rng, sb)
    np.testing.assert_allclose((a @ b).data, np.matmul(a.data, b.data), rtol=1e-12)
    assert ad.gradcheck(lambda x, y: x @ y, [a, b])


def test_shape_ops(rng):
    a = leaf(rng, (2, 3, 4))
    cases = [
        (lambda x: x.reshape(4, 6), lambda x: x.reshape(4, 6)),
        (lambda x: x.reshape((-1,)), lambda x: x.reshape(-1)),
        (lambda x: x.permute(2, 0, 1), lambda x: x.transpose(2, 0, 1)),
        (lambda x: x.permute(1, 2, 0), lambda x: x.transpose(1, 2, 0)),
        (lambda x: x.T, lambda x: x.T),
        (lambda x: x.swapaxes(0, 2), lambda x: x.swapaxes(0, 2)),
        (lambda x: x.flatten(), lambda x: x.flatten()),
        (lambda x: x.flatten(1), lambda x: x.reshape(2, 12)),
        (lambda x: x.unsqueeze(1), lambda x: x[:, None]),
        (lambda x: x[:, :1].squeeze(1), lambda x: x[:, 0]),
        (lambda x: x.pad(((0, 0), (1, 2), (0, 1))), lambda x: np.pad(x, ((0, 0), (1, 2), (0, 1)))),
        (lambda x: x[None].expand(3, -1, -1, -1), lambda x: np.broadcast_to(x, (3, 2, 3, 4))),
        (lambda x: x[:, :, :1].broadcast_to((2, 3, 5)), lambda x: np.broadcast_to(x[:, :, :1], (2, 3, 5))),
    ]
    for f, g in cases:
        np.testing.assert_allclose(f(a).data, g(a.data))
        assert ad.gradcheck(f, [a])


def test_indexing(rng):
    a = leaf(rng, (4, 5))
    keys = [1, (slice(1, 3), 2), (Ellipsis, 1), (None, 2), np.array([0, 2, 2, 3]),
            (np.array([0, 0, 1]), np.array([1, 1, 4])), a.data > 0, (slice(None), [4, 0, 4])]
    for key in keys:
        np.testing.assert_allclose(a[key].data, a.data[key])
        assert ad.gradcheck(lambda x: x[key] * 1.5, [a])


def test_repeated_indices_accumulate():
    a = ad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    a[np.array([0, 0, 2, 0])].sum().backward()
    np.testing.assert_allclose(a.grad.data, [3, 0, 1])


def test_concatenate_stack_split(rng):
    a, b = leaf(rng, (2, 3)), leaf(rng, (2, 5))
    np.testing.assert_allclose(ad.concatenate([a, b], axis=1).data, np.concatenate([a.data, b.data], 1))
    assert ad.gradcheck(lambda x, y: ad.cat([x, y], dim=1) * 2, [a, b])
    c = leaf(rng, (2, 3))
    np.testing.assert_allclose(ad.stack([a, c], axis=1).data, np.stack([a.data, c.data], 1))
    assert ad.gradcheck(lambda x, y: ad.stack([x, y], axis=-1) ** 2, [a, c])
    x = leaf(rng, (7, 2))
    pieces = x.split(3)
    assert [p.shape[0] for p in pieces] == [3, 3, 1]
    pieces = ad.split(x, [2, 5], axis=0)
    np.testing.assert_allclose(pieces[1].data, x.data[2:])
    assert ad.gradcheck(lambda t: t.split([2, 5])[1] * 3, [x])


def test_cast_is_differentiable(rng):
    a = leaf(rng, (3,))
    y = a.float()
    assert y.dtype == np.float32
    (y * 2).sum().backward()
    assert a.grad.dtype == np.float64
    np.testing.assert_allclose(a.grad.data, 2.0)


def test_comparisons_have_no_grad(rng):
    a = leaf(rng, (3,))
    for r in (a < 0, a <= 0, a > 0, a >= 0, a == a, a != 0):
        assert r.dtype == bool and not r.requires_grad
    np.testing.assert_array_equal((a > 0).data, a.data > 0)


def test_against_torch(rng):
    torch = pytest.importorskip("torch")
    x = rng.normal(size=(4, 6))
    w = rng.normal(size=(6, 3))

    def ours(x, w):
        h = (x @ w).tanh() * 2 + (x.sum(axis=1, keepdims=True) ** 2).sigmoid()
        return (h.log_softmax(axis=1) * h.softmax(axis=0)).sum() + h.logsumexp(axis=1).mean() + h.var()

    def theirs(x, w):
        h = (x @ w).tanh() * 2 + (x.sum(dim=1, keepdim=True) ** 2).sigmoid()
        return (h.log_softmax(dim=1) * h.softmax(dim=0)).sum() + h.logsumexp(dim=1).mean() + h.var()

    a, b = ad.Tensor(x, requires_grad=True), ad.Tensor(w, requires_grad=True)
    ta, tb = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    y, ty = ours(a, b), theirs(ta, tb)
    y.backward()
    ty.backward()
    np.testing.assert_allclose(y.item(), ty.item(), rtol=1e-10)
    np.testing.assert_allclose(a.grad.data, ta.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(b.grad.data, tb.grad.numpy(), rtol=1e-9, atol=1e-12)
