"""Tests for nn.train: history, validation, early stopping, checkpoints, non-finite loss."""

import numpy as np
import pytest

import autodiff as ad
from nn.train import NonFiniteLossError, accuracy_metric, evaluate, fit


class TinyLinear:
    """y = x @ weight + bias; just the Module surface fit needs (independent of nn.Module)."""

    def __init__(self, n_in, n_out, seed=0):
        rng = np.random.default_rng(seed)
        self.weight = ad.Tensor(rng.normal(0, 0.1, (n_in, n_out)), requires_grad=True)
        self.bias = ad.Tensor(np.zeros(n_out), requires_grad=True)
        self.training = True

    def __call__(self, x):
        return x @ self.weight + self.bias

    def named_parameters(self):
        return [("weight", self.weight), ("bias", self.bias)]

    def parameters(self):
        return [self.weight, self.bias]

    def state_dict(self):
        return {"weight": self.weight.data, "bias": self.bias.data}

    def load_state_dict(self, state):
        self.weight.data[...] = state["weight"]
        self.bias.data[...] = state["bias"]

    def train(self, mode=True):
        self.training = mode

    def eval(self):
        self.training = False


class PlainSGD:
    def __init__(self, params, lr):
        self.params, self.lr = list(params), lr

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    def step(self):
        for p in self.params:
            p.data -= self.lr * p.grad.data


def mse(out, target):
    return ((out - target) ** 2).mean()


class Batches:
    """A re-iterable list of (x, y) numpy batches."""

    def __init__(self, x, y, batch_size):
        self.items = [(x[i:i + batch_size], y[i:i + batch_size]) for i in range(0, len(x), batch_size)]

    def __iter__(self):
        return iter(self.items)

    def __len__(self):
        return len(self.items)


def regression(slope, n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 1))
    return x, slope * x


def test_fit_history_and_validation_numbers():
    x, y = regression(2.0)
    xv, yv = regression(2.0, n=32, seed=1)
    model = TinyLinear(1, 1)
    hist = fit(model, mse, PlainSGD(model.parameters(), 0.1), Batches(x, y, 16), Batches(xv, yv, 8),
               epochs=5, progress=False)
    assert len(hist["loss"]) == len(hist["val_loss"]) == len(hist["time"]) == 5
    assert hist["loss"][-1] < hist["loss"][0] / 10
    # the last validation loss is the mean squared error of the final weights, by numpy
    pred = xv @ model.weight.data + model.bias.data
    assert hist["val_loss"][-1] == pytest.approx(np.mean((pred - yv) ** 2), rel=1e-9)
    assert evaluate(model, Batches(xv, yv, 8), mse)["loss"] == pytest.approx(hist["val_loss"][-1])
    assert hist["best_epoch"] == 4 and not hist["stopped_early"]


def test_accuracy_metric_and_named_metrics():
    out = np.array([[0.1, 0.9], [2.0, -1.0], [0.3, 0.2], [0.0, 1.0]])
    assert accuracy_metric(out, np.array([1, 0, 1, 1])) == 0.75
    assert accuracy_metric(np.array([[0.5], [-0.2]]), np.array([[1.0], [1.0]])) == 0.5
    x = np.array([[1.0], [-1.0], [2.0], [-3.0]])
    y = np.array([1, 0, 1, 0])
    model = TinyLinear(1, 2)
    model.weight.data[...] = [[-1.0, 1.0]]
    hist = fit(model, lambda o, t: (o * 0).sum(), PlainSGD(model.parameters(), 0.0),
               Batches(x, y, 3), epochs=1, metrics=["accuracy"], progress=False)
    assert hist["accuracy"] == [1.0]
    with pytest.raises(ValueError, match="unknown metric 'f2'"):
        fit(model, mse, PlainSGD(model.parameters(), 0.0), Batches(x, y, 3), metrics=["f2"],
            progress=False)


class WeightLog:
    def __init__(self):
        self.weights, self.batches = [], 0

    def on_batch_end(self, loss, step):        # no **kwargs: fit passes only these two
        self.batches += 1
        assert step == self.batches and np.isfinite(loss)

    def on_epoch_end(self, model, epoch, logs):
        self.weights.append(model.weight.data.copy())
        assert len(self.weights) == epoch + 1 and "val_loss" in logs


def test_early_stopping_restores_best_weights():
    # training pulls the slope towards 2, validation wants 1: val loss falls, then rises
    x, y = regression(2.0)
    xv, yv = regression(1.0, n=32, seed=1)
    model = TinyLinear(1, 1)
    model.weight.data[...] = 0.0
    log = WeightLog()
    hist = fit(model, mse, PlainSGD(model.parameters(), 0.02), Batches(x, y, 16), Batches(xv, yv, 32),
               epochs=50, patience=3, recorder=log, progress=False)
    best = int(np.argmin(hist["val_loss"]))
    assert hist["stopped_early"] and 0 < best == hist["best_epoch"]
    assert len(hist["val_loss"]) == best + 1 + 3 and log.batches == 4 * len(hist["loss"])
    assert hist["val_loss"][-1] > hist["val_loss"][best]
    np.testing.assert_array_equal(model.weight.data, log.weights[best])
    assert not np.array_equal(log.weights[-1], log.weights[best])


def test_checkpoints_written_each_epoch(tmp_path):
    nn_checkpoint = pytest.importorskip("nn.checkpoint")
    x, y = regression(2.0)
    model = TinyLinear(1, 1)
    log = WeightLog()
    log.on_epoch_end = lambda model, epoch, logs: log.weights.append(model.weight.data.copy())
    fit(model, mse, PlainSGD(model.parameters(), 0.05), Batches(x, y, 16), epochs=3,
        checkpoint_dir=tmp_path / "ckpt", recorder=log, progress=False)
    files = sorted(p.name for p in (tmp_path / "ckpt").iterdir())
    assert files == ["best.ckpt", "epoch_001.ckpt", "epoch_002.ckpt", "epoch_003.ckpt"]
    for epoch in range(3):
        state = nn_checkpoint.load(tmp_path / "ckpt" / f"epoch_{epoch + 1:03d}.ckpt")
        assert state["epoch"] == epoch
        np.testing.assert_array_equal(state["model"]["weight"], log.weights[epoch])
        assert len(state["history"]["loss"]) == epoch + 1
    best = nn_checkpoint.load(tmp_path / "ckpt" / "best.ckpt")
    assert best["epoch"] == 2                      # training loss keeps falling


def test_non_finite_loss_from_inputs_names_epoch_and_batch():
    x, y = regression(2.0)
    x_bad = x.copy()
    x_bad[40] = np.inf                              # third batch of 16
    model = TinyLinear(1, 1)
    before = model.weight.data.copy()
    with pytest.raises(NonFiniteLossError) as info:
        fit(model, mse, PlainSGD(model.parameters(), 0.0), Batches(x_bad, y, 16), epochs=2,
            progress=False)
    msg = str(info.value)
    assert "epoch 1/2, batch 3 (step 3)" in msg
    assert "the inputs of this batch are not finite (1 of 16 values are not finite (first at index " \
           "(8, 0): inf))" in msg
    assert "overflow" not in msg and "parameters" not in msg
    assert "loss is" in msg and ("nan" in msg or "inf" in msg)
    np.testing.assert_array_equal(model.weight.data, before)


@pytest.mark.parametrize("where", ["inputs", "targets"])
def test_nan_in_the_data_is_reported_before_anything_else(where):
    x, y = regression(2.0)
    x, y = x.copy(), y.copy()
    (x if where == "inputs" else y)[17:19] = np.nan          # second batch of 16
    model = TinyLinear(1, 1)
    with pytest.raises(NonFiniteLossError) as info:
        fit(model, mse, PlainSGD(model.parameters(), 0.01), Batches(x, y, 16), progress=False)
    msg = str(info.value)
    assert msg.startswith("fit: loss is nan at epoch 1/1, batch 2 (step 2)"), msg
    assert f"the {where} of this batch are not finite (2 of 16 values are not finite (first at " \
           f"index (1, 0): nan))" in msg
    assert "overflow" not in msg


def test_non_finite_loss_from_divergence_says_it_overflowed():
    x, y = regression(2.0)
    model = TinyLinear(1, 1)
    with np.errstate(all="ignore"), pytest.raises(NonFiniteLossError) as info:
        fit(model, mse, PlainSGD(model.parameters(), 1e3), Batches(x * 1e3, y, 16), epochs=20,
            progress=False)
    assert "inputs, targets and all parameters are finite, so the forward pass overflowed on this " \
           "batch" in str(info.value)


class NaNAfterTwoSteps(PlainSGD):
    def step(self):
        super().step()
        self.calls = getattr(self, "calls", 0) + 1
        if self.calls == 2:
            self.params[1].data[...] = np.nan


def test_non_finite_loss_names_the_broken_parameter():
    x, y = regression(2.0)
    model = TinyLinear(1, 1)
    with pytest.raises(NonFiniteLossError) as info:
        fit(model, mse, NaNAfterTwoSteps(model.parameters(), 0.01), Batches(x, y, 16), epochs=3,
            progress=False)
    msg = str(info.value)
    assert "loss is nan at epoch 1/3, batch 3" in msg and "parameters not finite: bias (values)" in msg


def test_fit_argument_errors():
    x, y = regression(2.0)
    model = TinyLinear(1, 1)
    opt = PlainSGD(model.parameters(), 0.1)
    with pytest.raises(ValueError, match="epochs must be >= 1"):
        fit(model, mse, opt, Batches(x, y, 16), epochs=0)
    with pytest.raises(ValueError, match="monitor='val_loss' needs a val_loader"):
        fit(model, mse, opt, Batches(x, y, 16), monitor="val_loss")
    with pytest.raises(ValueError, match=r"\(inputs, targets\) pair"):
        fit(model, mse, opt, [x], progress=False)


def test_progress_bar_is_tqdm(capsys):
    x, y = regression(2.0)
    model = TinyLinear(1, 1)
    fit(model, mse, PlainSGD(model.parameters(), 0.1), Batches(x, y, 16), epochs=2, progress=True)
    err = capsys.readouterr().err + capsys.readouterr().out
    assert "epoch 2/2" in err and "4/4" in err and "loss=" in err


def test_fit_with_real_nn_layers_loader_and_early_stopping(tmp_path):
    import nn
    from nn.data import DataLoader, TensorDataset
    ad.manual_seed(0)
    x, y = regression(2.0)
    xv, yv = regression(1.0, n=32, seed=1)
    model = nn.Linear(1, 1)
    with ad.no_grad():
        model.weight.data[...] = 0.0
    log = WeightLog()
    train = DataLoader(TensorDataset(x.astype(np.float32), y.astype(np.float32)), batch_size=16)
    val = DataLoader(TensorDataset(xv.astype(np.float32), yv.astype(np.float32)), batch_size=32)
    hist = fit(model, nn.MSELoss(), nn.optim.SGD(model.parameters(), lr=0.02), train, val, epochs=50,
               patience=3, recorder=log, checkpoint_dir=tmp_path, progress=False)
    best = hist["best_epoch"]
    assert hist["stopped_early"] and best == int(np.argmin(hist["val_loss"]))
    np.testing.assert_array_equal(model.weight.data, log.weights[best])
    state = nn.checkpoint.load(tmp_path / "best.ckpt")
    np.testing.assert_array_equal(state["model"]["weight"], log.weights[best])


def test_fit_passes_the_epochs_error_to_plateau_schedulers():
    import autodiff as ad
    import nn
    from nn.optim.lr_scheduler import AdaptiveLR, ReduceLROnPlateau, StepLR
    from nn.train import fit

    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 3)).astype(np.float32)
    y = (x @ np.array([1.0, -2.0, 0.5], np.float32))[:, None]
    loader = nn.data.DataLoader(nn.data.TensorDataset(x, y), batch_size=8)
    for make, check in [
        (lambda opt: StepLR(opt, step_size=1, gamma=0.5), lambda lrs: np.allclose(lrs, [0.01 * 0.5 ** k for k in range(3)])),
        (lambda opt: ReduceLROnPlateau(opt, patience=100), lambda lrs: np.allclose(lrs, 0.01)),
        (lambda opt: AdaptiveLR(opt), lambda lrs: np.isclose(lrs[2], 0.01 * 1.05)),
    ]:
        ad.manual_seed(0)
        model = nn.Linear(3, 1)
        opt = nn.optim.SGD(model.parameters(), lr=0.01)
        hist = fit(model, nn.MSELoss(), opt, loader, epochs=3, scheduler=make(opt), progress=False)
        assert check(hist["lr"]), hist["lr"]
