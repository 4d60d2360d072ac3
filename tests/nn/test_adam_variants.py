"""Adamax, NAdam and RAdam follow torch.optim's trajectories step by step."""
import numpy as np
import pytest

import autodiff as ad
import nn

CASES = [
    ("Adamax", {}), ("Adamax", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1)), ("Adamax", dict(maximize=True)),
    ("NAdam", {}), ("NAdam", dict(lr=0.01, weight_decay=0.1, momentum_decay=0.01)),
    ("NAdam", dict(weight_decay=0.1, decoupled_weight_decay=True)), ("NAdam", dict(maximize=True)),
    ("RAdam", {}), ("RAdam", dict(lr=0.01, weight_decay=0.1)), ("RAdam", dict(weight_decay=0.1, decoupled_weight_decay=True)),
    ("RAdam", dict(betas=(0.9, 0.9), maximize=True)),
]


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_trajectory_matches_torch(name, kwargs, dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    w0 = rng.normal(size=(4, 3)).astype(dtype)
    grads = [rng.normal(size=(4, 3)).astype(dtype) for _ in range(25)]
    ours = nn.Parameter(w0.copy())
    theirs = torch.nn.Parameter(torch.tensor(w0.copy()))
    opt = getattr(nn.optim, name)([ours], **kwargs)
    topt = getattr(torch.optim, name)([theirs], **kwargs)
    for g in grads:
        ours.grad = ad.tensor(g.copy())
        theirs.grad = torch.tensor(g.copy())
        opt.step()
        topt.step()
    tol = 1e-10 if dtype == np.float64 else 2e-5
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("name", ["Adamax", "NAdam", "RAdam"])
def test_defaults_and_bad_hyperparameters(name):
    torch = pytest.importorskip("torch")
    import inspect
    ours = inspect.signature(getattr(nn.optim, name)).parameters
    theirs = inspect.signature(getattr(torch.optim, name)).parameters
    for k in ("lr", "betas", "eps", "weight_decay"):
        assert ours[k].default == theirs[k].default, (name, k)
    p = nn.Parameter(np.zeros(2))
    with pytest.raises(ValueError, match=f"{name}: invalid betas"):
        getattr(nn.optim, name)([p], betas=(1.0, 0.9))
