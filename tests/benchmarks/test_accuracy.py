"""The accuracy benchmark compares like with like: PyTorch's model starts from our initial weights.

Checks, on a few Fashion-MNIST images (synthetic images when the data set is missing):
the copied torch model gives our forward output; the first training step gives the same
loss and gradients and, after one Adam step, the same weights; the next steps' losses agree
(all to float32 rounding, which Adam amplifies for near-zero gradients). No timing is asserted.
"""
from __future__ import annotations

import re

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from benchmarks.cases import accuracy  # noqa: E402
from benchmarks.harness import Skip  # noqa: E402


@pytest.fixture(scope="module")
def images():
    """256 training images (N, 28, 28) float32 in [0, 1] and their int64 labels."""
    try:
        from nn.data.idx import load_image_set
        x, y = load_image_set(split="train", scale=True)
        return np.ascontiguousarray(x[:256]), np.ascontiguousarray(y[:256])
    except FileNotFoundError:
        rng = np.random.default_rng(0)
        return rng.random((256, 28, 28), dtype=np.float32), rng.integers(0, 10, 256).astype(np.int64)


def _params(model):
    return [np.array(p.data) for _, p in model.named_parameters()]


def _torch_params(model):
    return [p.detach().numpy() for p in model.parameters()]


@pytest.mark.parametrize("model_name", ["mlp", "lenet"])
def test_shared_init_copies_every_parameter(model_name):
    ours, tmodel = accuracy.paired_models(model_name, seed=3, init="shared")
    a, b = _params(ours), _torch_params(tmodel)
    assert len(a) == len(b) == (6 if model_name == "mlp" else 8)
    for pa, pb in zip(a, b):
        assert pa.shape == pb.shape
        np.testing.assert_array_equal(pa, pb)


def test_own_init_differs_and_bad_init_is_rejected():
    ours, tmodel = accuracy.paired_models("mlp", seed=0, init="own")
    assert not np.allclose(_params(ours)[0], _torch_params(tmodel)[0])
    with pytest.raises(ValueError, match="init must be one of"):
        accuracy.paired_models("mlp", init="mine")


def test_copy_weights_names_mismatched_shapes():
    ours = accuracy.build_ours("mlp")
    tmodel = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 64),
                                 torch.nn.ReLU(), torch.nn.Linear(64, 10))
    before = [p.detach().clone() for p in tmodel.parameters()]
    with pytest.raises(ValueError, match=r"\(128, 256\).*\(64, 256\)"):
        accuracy.copy_weights(ours, tmodel)
    for b, p in zip(before, tmodel.parameters()):  # the layers before the mismatch are untouched too
        assert torch.equal(b, p)


@pytest.mark.parametrize("model_name", ["mlp", "lenet"])
def test_forward_and_training_steps_match_torch(model_name, images):
    import autodiff as ad
    x, y = images
    x = accuracy.shape_input(model_name, x)
    ours, tmodel = accuracy.paired_models(model_name, seed=1, init="shared")
    with ad.no_grad():
        out = ours(ad.Tensor(x[:64])).data
    with torch.no_grad():
        tout = tmodel(torch.from_numpy(x[:64])).numpy()
    np.testing.assert_allclose(out, tout, rtol=1e-4, atol=1e-5)

    opt, loss_fn = accuracy.recipe_ours(ours)
    topt, tloss_fn = accuracy.recipe_torch(tmodel)
    initial = _params(ours)
    order = np.random.default_rng(0).permutation(len(x))
    for k in range(3):
        idx = order[k * 64:(k + 1) * 64]
        loss = accuracy.step_ours(ours, opt, loss_fn, x[idx], y[idx])
        tloss = accuracy.step_torch(tmodel, topt, tloss_fn, torch.from_numpy(x[idx]),
                                    torch.from_numpy(y[idx]))
        assert abs(loss - tloss) < 1e-4, f"step {k}: loss {loss} vs torch {tloss}"
        assert loss > 0.5  # a real cross-entropy of an untrained 10-class model, not a constant
        if k > 0:
            continue
        # same weights, same batch: gradients agree to float32 rounding
        for (name, p), tp in zip(ours.named_parameters(), tmodel.parameters()):
            g, tg = np.asarray(p.grad.data), tp.grad.numpy()
            np.testing.assert_allclose(g, tg, rtol=0, atol=1e-4 * np.abs(tg).max(), err_msg=name)
        # Adam's first step moves a weight by about lr = 1e-3. Its g / (sqrt(v) + eps) turns the
        # rounding noise of near-zero gradients (|g| ~ eps = 1e-8) into differences of up to ~1e-5
        # in a few weights, so: a tight bound on the bulk, a loose one on the worst weight.
        for (name, p), tp in zip(ours.named_parameters(), _torch_params(tmodel)):
            d = np.abs(np.asarray(p.data) - tp)
            assert np.quantile(d, 0.99) < 1e-7, f"{name}: 99th percentile |dw| {np.quantile(d, 0.99):.2e}"
            assert d.max() < 5e-5, f"{name}: max |dw| {d.max():.2e}"
    # later steps: only the losses are compared. A weight difference of 1e-6 can flip a ReLU or a
    # max-pool choice near a tie and change a gradient by percents (PyTorch with 1 and with 2
    # threads part ways the same way), so weights are not compared after several steps.
    moved = np.abs(_params(ours)[0] - initial[0]).max()
    assert moved > 5e-4  # the steps did update the weights


def test_missing_torch_is_a_skip(monkeypatch):
    monkeypatch.setattr(accuracy, "optional_import", lambda name: None)
    with pytest.raises(Skip, match="torch not installed"):
        accuracy.paired_models("mlp")


def test_command_line_reports_per_seed_and_mean_gap(capsys):
    try:
        accuracy._data(128)
    except Skip as exc:
        pytest.skip(exc.reason)
    accuracy.main(["--model", "mlp", "--epochs", "1", "--limit", "128", "--seeds", "2", "--seed", "4"])
    out = capsys.readouterr().out  # accuracies on 10,000 test images: exact to 2 decimals
    finals = {(side, int(seed)): float(acc) for side, seed, acc in
              re.findall(r"RESULT (ours|torch) mlp seed=(\d+) init=shared epochs=1: final test acc ([\d.]+)%", out)}
    assert sorted(finals) == [("ours", 4), ("ours", 5), ("torch", 4), ("torch", 5)]
    gaps = [finals[("ours", s)] - finals[("torch", s)] for s in (4, 5)]
    line = next(ln for ln in out.splitlines() if "gap ours - torch per seed" in ln)
    assert f"mean {np.mean(gaps):+.2f} pp" in line
    ours_line = next(ln for ln in out.splitlines() if ln.strip().startswith("ours  acc per seed"))
    assert f"mean {np.mean([finals[('ours', 4)], finals[('ours', 5)]]):.2f}%" in ours_line
