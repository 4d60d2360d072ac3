"""The training recorder (numbers checked by hand) and its plots (real PNG files)."""
import numpy as np
import pytest

import autodiff as ad
from nn.diagnostics import STALLED_RATIO, TrainingRecorder

nn = pytest.importorskip("nn")
PNG = b"\x89PNG\r\n\x1a\n"


def _sgd_step(model, lr):
    with ad.no_grad():
        for _, p in model.named_parameters():
            p.data -= lr * p.grad.data


def _zero(model):
    for _, p in model.named_parameters():
        p.grad = None


def _batch(rng, n=16):
    x = rng.normal(size=(n, 3)).astype(np.float32)
    return ad.tensor(x), ad.tensor((x @ np.array([[1.0], [-2.0], [0.5]], np.float32)))


def test_grad_norms_and_update_ratios_match_hand_computation(rng):
    ad.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    rec = TrainingRecorder(model)
    lr = 0.05
    for step in range(1, 4):
        x, y = _batch(rng)
        _zero(model)
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        before = {n: p.data.astype(np.float64).copy() for n, p in model.named_parameters()}
        grads = {n: p.grad.data.astype(np.float64).copy() for n, p in model.named_parameters()}
        _sgd_step(model, lr)
        rec.on_batch_end(model=model, loss=loss.item(), epoch=0, step=step)
    for name in before:
        s, g = rec.grad_norms[name][-1]
        assert s == 3 and g == pytest.approx(np.linalg.norm(grads[name]), rel=1e-6)
        s, r = rec.update_ratios[name][-1]
        expected = np.linalg.norm(lr * grads[name]) / np.linalg.norm(before[name])
        assert r == pytest.approx(expected, rel=1e-4)
    assert len(rec.update_ratios["0.weight"]) == 2  # no ratio for the first step (no previous weights)
    assert [s for s, _ in rec.batch_loss] == [1, 2, 3]


def test_every_n_steps(rng):
    model = nn.Linear(3, 1)
    rec = TrainingRecorder(model, every=2, activations=False)
    for step in range(1, 7):
        x, y = _batch(rng)
        _zero(model)
        ((model(x) - y) ** 2).mean().backward()
        _sgd_step(model, 0.1)
        rec.on_batch_end(model=model, loss=0.0, step=step)
    assert [s for s, _ in rec.grad_norms["weight"]] == [2, 4, 6]
    assert [s for s, _ in rec.update_ratios["weight"]] == [2, 4, 6]


def test_stalled_and_dead_relu_are_reported(rng):
    ad.manual_seed(1)
    model = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 1))
    with ad.no_grad():
        model[0].bias.data[:3] = -100.0  # units 0..2 never fire: dead ReLUs
    rec = TrainingRecorder(model)
    for step in range(1, 3):
        x, y = _batch(rng)
        _zero(model)
        out = model(x)
        ((out - y) ** 2).mean().backward()
        _sgd_step(model, 1e-9)  # a learning rate far too small: learning stalls
        rec.on_batch_end(model=model, loss=0.0, step=step)
    relu = rec.activations[0][1]["1 ReLU"]
    hidden = np.maximum(x.data @ model[0].weight.data.T + model[0].bias.data, 0)
    assert relu["dead_fraction"] == pytest.approx(np.mean(np.all(hidden == 0, axis=0)))
    assert relu["dead_fraction"] >= 0.6 and relu["zero_fraction"] >= 0.6
    assert len(rec.activations) == 1  # only the first batch of an epoch is captured
    assert "0.weight" in rec.stalled() and rec.update_ratios["0.weight"][-1][1] < STALLED_RATIO
    report = rec.report()
    assert "stalled: 0.weight" in report and "dead units: 1 ReLU" in report


def test_wraps_forward_when_there_is_no_hook_api(rng):
    class Doubler:
        def forward(self, x):
            return x * 2.0

        def __call__(self, x):
            return self.forward(x)

        def children(self):
            return iter(())

    class Model:
        def __init__(self):
            self.w = ad.tensor(np.ones((3, 2), np.float32), requires_grad=True)
            self.double = Doubler()

        def named_parameters(self):
            return [("w", self.w)]

        def named_modules(self):
            return [("", self), ("double", self.double)]

        def children(self):
            return iter([self.double])

        def __call__(self, x):
            return self.double(x @ self.w)

    model = Model()
    rec = TrainingRecorder(model)
    x, _ = _batch(rng)
    out = model(x)
    out.sum().backward()
    rec.on_batch_end(model=model, loss=1.0)
    st = rec.activations[0][1]["double Doubler"]
    assert st["mean"] == pytest.approx(float(out.data.mean()), rel=1e-6)
    assert st["shape"] == (16, 2)
    rec.detach()
    assert "forward" not in vars(model.double)  # the class's forward is back


def test_fit_with_recorder_and_all_plots(tmp_path):
    from PIL import Image
    from nn.diagnostics import example_run
    rec, history, paths = example_run(tmp_path, epochs=2)
    assert rec.history["loss"] == pytest.approx(history["loss"])
    assert rec.history["val_accuracy"] == pytest.approx(history["val_accuracy"])
    assert len(rec.weight_std) == 2
    assert set(rec.weight_std[-1]) == {"0.weight", "2.weight", "4.weight"}
    assert len(rec.activations) == 2 and set(rec.activations[0][1]) == {
        "0 Linear", "1 ReLU", "2 Linear", "3 ReLU", "4 Linear"}
    assert set(paths) == {"curves", "grad_norms", "update_ratios", "weight_std", "activations"}
    for p in paths.values():
        assert open(p, "rb").read(8) == PNG
        with Image.open(p) as im:
            assert im.width >= 300 and im.height >= 200


def test_weight_std_by_depth_is_the_weights_std(rng):
    model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    rec = TrainingRecorder(model, activations=False)
    rec.on_epoch_end(model=model, epoch=0, logs={"loss": 1.5, "val_loss": 1.7, "time": 3.0})
    assert rec.weight_std[0]["0.weight"] == pytest.approx(float(model[0].weight.data.std()))
    assert rec.weight_std[0]["1.weight"] == pytest.approx(float(model[1].weight.data.std()))
    assert rec.history == {"loss": [1.5], "val_loss": [1.7]}
    with pytest.raises(ValueError, match="every must be a positive int"):
        TrainingRecorder(every=0)
