"""nn.utils: gradient clipping against torch, penalties that skip biases."""
import numpy as np
import pytest

import autodiff as ad
import nn
from nn import utils


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _params_with_grads(rng, scale=3.0):
    ps = [nn.Parameter(rng.standard_normal(s).astype(np.float32)) for s in [(4, 3), (3,), (2, 2)]]
    for p in ps:
        p.grad = ad.Tensor(rng.standard_normal(p.shape).astype(np.float32) * scale)
    return ps


def _torch_params(torch, ps):
    out = []
    for p in ps:
        t = torch.tensor(p.data.copy(), requires_grad=True)
        t.grad = torch.tensor(p.grad.data.copy())
        out.append(t)
    return out


@pytest.mark.parametrize("max_norm,norm_type", [(1.0, 2.0), (100.0, 2.0), (0.5, 1.0), (2.0, float("inf")),
                                                (1.5, 3.0)])
def test_clip_grad_norm_matches_torch(torch, rng, max_norm, norm_type):
    ps = _params_with_grads(rng)
    ts = _torch_params(torch, ps)
    total = utils.clip_grad_norm_(ps, max_norm, norm_type)
    total_ref = torch.nn.utils.clip_grad_norm_(ts, max_norm, norm_type)
    assert float(total) == pytest.approx(float(total_ref), rel=1e-5)
    for p, t in zip(ps, ts):
        np.testing.assert_allclose(p.grad.data, t.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_clip_grad_norm_result_norm_and_nonfinite(rng):
    ps = _params_with_grads(rng)
    utils.clip_grad_norm_(ps, 1.0)
    assert np.sqrt(sum((p.grad.data.astype(np.float64) ** 2).sum() for p in ps)) == pytest.approx(1.0, rel=1e-4)
    ps[0].grad.data[0, 0] = np.nan
    with pytest.raises(RuntimeError, match="non-finite"):
        utils.clip_grad_norm_(ps, 1.0, error_if_nonfinite=True)


def test_clip_grad_value_matches_torch(torch, rng):
    ps = _params_with_grads(rng)
    ts = _torch_params(torch, ps)
    utils.clip_grad_value_(ps, 0.7)
    torch.nn.utils.clip_grad_value_(ts, 0.7)
    for p, t in zip(ps, ts):
        np.testing.assert_array_equal(p.grad.data, t.grad.numpy())
    assert max(np.abs(p.grad.data).max() for p in ps) <= 0.7


def test_clip_skips_params_without_grad(rng):
    p = nn.Parameter(np.ones(3, np.float32))
    assert float(utils.clip_grad_norm_([p], 1.0)) == 0.0
    utils.clip_grad_value_(p, 1.0)
    assert p.grad is None


def test_penalties_skip_biases_and_have_course_gradients(rng):
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    ws = [model[0].weight.data, model[2].weight.data]
    assert [id(p) for p in utils.weight_parameters(model)] == [id(model[0].weight), id(model[2].weight)]
    l2 = utils.l2_penalty(model)
    l1 = utils.l1_penalty(model)
    np.testing.assert_allclose(l2.item(), sum((w.astype(np.float64) ** 2).sum() for w in ws), rtol=1e-5)
    np.testing.assert_allclose(l1.item(), sum(np.abs(w).astype(np.float64).sum() for w in ws), rtol=1e-5)
    lam, P = 0.1, 8
    (lam / (2 * P) * l2 + lam / P * l1).backward()
    np.testing.assert_allclose(model[0].weight.grad.data, lam / P * ws[0] + lam / P * np.sign(ws[0]), rtol=1e-5)
    assert model[0].bias.grad is None  # biases are not regularised


def test_parameters_vector_roundtrip(rng):
    model = nn.Linear(3, 2)
    v = utils.parameters_to_vector(model.parameters())
    assert v.shape == (8,)
    utils.vector_to_parameters(v * 2, model.parameters())
    np.testing.assert_allclose(utils.parameters_to_vector(model.parameters()).data, v.data * 2)
    with pytest.raises(ValueError, match="8"):
        utils.vector_to_parameters(ad.zeros(7), model.parameters())


def test_parameters_to_vector_is_differentiable_and_matches_torch(rng):
    torch = pytest.importorskip("torch")
    ref = torch.nn.Linear(3, 2)
    model = nn.Linear(3, 2)
    model.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    w = rng.standard_normal(8).astype(np.float32)
    v, tv = utils.parameters_to_vector(model.parameters()), torch.nn.utils.parameters_to_vector(ref.parameters())
    np.testing.assert_array_equal(v.data, tv.detach().numpy())
    ((v * ad.tensor(w)) ** 2).sum().backward()
    ((tv * torch.tensor(w)) ** 2).sum().backward()
    np.testing.assert_allclose(model.weight.grad.data, ref.weight.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(model.bias.grad.data, ref.bias.grad.numpy(), rtol=1e-6)
    weight = model.weight
    utils.vector_to_parameters(ad.tensor(w), model.parameters())
    torch.nn.utils.vector_to_parameters(torch.tensor(w), ref.parameters())
    assert model.weight is weight
    np.testing.assert_array_equal(model.weight.data, ref.weight.detach().numpy())
    with pytest.raises(TypeError):
        torch.nn.utils.vector_to_parameters(w, ref.parameters())
    with pytest.raises(TypeError, match="expected vec to be a Tensor"):
        utils.vector_to_parameters(w, model.parameters())
