"""linalg.inv, det, slogdet, logdet (and the Tensor methods) against torch; gradcheck in float64."""
import numpy as np
import pytest

import autodiff as ad

OPS = {
    "inv": (lambda a: ad.linalg.inv(a), lambda t, x: t.linalg.inv(x)),
    "det": (lambda a: ad.linalg.det(a), lambda t, x: t.linalg.det(x)),
    "slogdet": (lambda a: ad.linalg.slogdet(a).logabsdet, lambda t, x: t.linalg.slogdet(x).logabsdet),
    "logdet": (lambda a: a.logdet(), lambda t, x: x.logdet()),
    "inverse_method": (lambda a: a.inverse(), lambda t, x: x.inverse()),
}


def _spd(rng, shape):
    a = rng.normal(size=shape)
    return a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])  # positive determinant


@pytest.mark.parametrize("name", list(OPS))
@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4), (1, 1)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_values_and_gradients_match_torch(name, shape, dtype, rng):
    torch = pytest.importorskip("torch")
    ours_fn, torch_fn = OPS[name]
    x = _spd(rng, shape).astype(dtype)
    a = ad.tensor(x, requires_grad=True)
    t = torch.tensor(x, requires_grad=True)
    y, ty = ours_fn(a), torch_fn(torch, t)
    w = rng.normal(size=tuple(ty.shape)).astype(dtype)
    (y * ad.tensor(w)).sum().backward()
    (ty * torch.tensor(w)).sum().backward()
    tol = 1e-9 if dtype == np.float64 else 2e-4
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(a.grad.data, t.grad.numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("name", ["inv", "det", "slogdet"])
def test_gradcheck_and_second_order(name, rng):
    fn = OPS[name][0]
    x = ad.tensor(_spd(rng, (3, 3)), requires_grad=True)
    assert ad.gradcheck(lambda a: fn(a).sum(), [x])
    (g,) = ad.grad(fn(x).sum(), x, create_graph=True)
    (gg,) = ad.grad((g * g).sum(), x)
    eps = 1e-6
    num = np.zeros((3, 3))
    for i in range(3):
        for j in range(3):
            d = np.zeros((3, 3))
            d[i, j] = eps
            xp = ad.tensor(x.data + d, requires_grad=True)
            xm = ad.tensor(x.data - d, requires_grad=True)
            fp = (ad.grad(fn(xp).sum(), xp)[0].data ** 2).sum()
            fm = (ad.grad(fn(xm).sum(), xm)[0].data ** 2).sum()
            num[i, j] = (fp - fm) / (2 * eps)
    np.testing.assert_allclose(gg.data, num, rtol=1e-4, atol=1e-6)


def test_det_gradient_of_a_singular_matrix_is_the_cofactor_matrix():
    a = ad.tensor([[1.0, 2.0], [2.0, 4.0]], dtype=np.float64, requires_grad=True)
    ad.linalg.det(a).backward()
    np.testing.assert_allclose(a.grad.data, [[4.0, -2.0], [-2.0, 1.0]])


def test_errors_name_the_op_and_shape():
    with pytest.raises(RuntimeError, match=r"linalg.inv: A must be batches of square matrices.*\(2, 3\)"):
        ad.linalg.inv(ad.ones(2, 3))
    with pytest.raises(RuntimeError, match="linalg.inv: the matrix is singular"):
        ad.linalg.inv(ad.tensor([[1.0, 2.0], [2.0, 4.0]]))
