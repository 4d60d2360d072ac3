"""One definition of every op: patching a Function's forward or backward at run time changes what
the operators compute on every path (Tensor with Tensor, with an array, with a Python number, grad on
or off, ``.backward()`` or ``autodiff.grad``)."""
import operator

import numpy as np
import pytest

import autodiff as ad
from autodiff.ops import elementwise, linalg

BINARY = [
    (elementwise.Mul, operator.mul),
    (elementwise.Add, operator.add),
    (elementwise.Sub, operator.sub),
    (elementwise.Div, operator.truediv),
    (linalg.MatMul, operator.matmul),
]


def _operands(kind, rng):
    x = ad.tensor(rng.uniform(1, 2, (3, 3)), dtype=np.float64, requires_grad=True)
    other = rng.uniform(1, 2, (3, 3))
    if kind == "tensor":
        return x, ad.tensor(other, dtype=np.float64, requires_grad=True)
    if kind == "constant tensor":
        return x, ad.tensor(other, dtype=np.float64)
    if kind == "array":
        return x, other
    return x, 1.5  # a Python number


KINDS = ["tensor", "constant tensor", "array", "number"]


@pytest.mark.parametrize("fn,op", BINARY, ids=[f.__name__ for f, _ in BINARY])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("grad_on", [True, False])
@pytest.mark.parametrize("reflected", [False, True])
def test_patched_forward_changes_the_operator(monkeypatch, fn, op, kind, grad_on, reflected, rng):
    if fn is linalg.MatMul and kind == "number":
        pytest.skip("matmul takes no scalar")
    a, b = _operands(kind, rng)
    if reflected:
        a, b = b, a
    if not isinstance(a, ad.Tensor) and not isinstance(b, ad.Tensor):
        pytest.skip("needs a tensor operand")
    plain = op(a, b).data.copy()
    original = fn.forward

    def patched(ctx, *args):
        return original(ctx, *args) + 1000.0

    monkeypatch.setattr(fn, "forward", staticmethod(patched))
    with ad.set_grad_enabled(grad_on):
        out = op(a, b)
    np.testing.assert_allclose(out.data, plain + 1000.0)


@pytest.mark.parametrize("fn,op", BINARY, ids=[f.__name__ for f, _ in BINARY])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("via", ["backward", "grad"])
def test_patched_backward_changes_the_gradient(monkeypatch, fn, op, kind, via, rng):
    if fn is linalg.MatMul and kind == "number":
        pytest.skip("matmul takes no scalar")
    x, other = _operands(kind, rng)

    def patched(ctx, g):
        return tuple(None if not need else np.full_like(np.asarray(getattr(s, "data", s), dtype=float), 7.0)
                     for need, s in zip(ctx.needs_input_grad, shapes))

    shapes = (x.data, getattr(other, "data", np.asarray(other)))
    monkeypatch.setattr(fn, "backward", staticmethod(patched))
    loss = op(x, other).sum()
    if via == "backward":
        loss.backward()
        gx = x.grad.data
    else:
        (gx,) = ad.grad(loss, [x])
        gx = gx.data
    np.testing.assert_allclose(gx, 7.0)


def test_patched_unary_method_and_user_function(monkeypatch, rng):
    x = ad.tensor(rng.normal(size=4), dtype=np.float64, requires_grad=True)
    monkeypatch.setattr(elementwise.Exp, "forward", staticmethod(lambda ctx, a: np.full_like(a, 3.0)))
    np.testing.assert_allclose(x.exp().data, 3.0)
    np.testing.assert_allclose(ad.exp(x).data, 3.0)

    class Twice(ad.Function):
        @staticmethod
        def forward(ctx, a):
            return 2 * a

        @staticmethod
        def backward(ctx, g):
            return 2 * g

    y = Twice.apply(x)
    monkeypatch.setattr(Twice, "backward", staticmethod(lambda ctx, g: 5 * g))
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, 5.0)
