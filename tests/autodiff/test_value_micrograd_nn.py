"""micrograd's own nn.py (Neuron, Layer, MLP), run unchanged on ``autodiff.Value``.

The source text of the installed micrograd/nn.py is executed in a fresh module namespace in which
``micrograd.engine`` is a stand-in module exposing our ``Value``. The same network, with the same
weights, is then run on micrograd's own ``Value``; every parameter gradient must agree to 1e-9.
"""
import importlib.util
import math
import pathlib
import random
import sys
import types

import pytest

from autodiff.value import Value

micrograd = pytest.importorskip("micrograd")


def micrograd_nn_on_our_value(monkeypatch):
    """Execute micrograd/nn.py's source unchanged with ``micrograd.engine.Value`` = our Value."""
    spec = importlib.util.find_spec("micrograd")
    path = pathlib.Path(spec.submodule_search_locations[0]) / "nn.py"
    source = path.read_text()
    fake_engine = types.ModuleType("micrograd.engine")
    fake_engine.Value = Value
    monkeypatch.setitem(sys.modules, "micrograd.engine", fake_engine)
    module = types.ModuleType("micrograd_nn_on_autodiff")
    module.__file__ = str(path)
    exec(compile(source, str(path), "exec"), module.__dict__)
    monkeypatch.undo()  # micrograd.engine is the real one again for the reference
    return module


def two_moons_like(n=8, seed=3):
    rng = random.Random(seed)
    X = [[rng.uniform(-1.5, 2.5), rng.uniform(-1.0, 1.5)] for _ in range(n)]
    y = [1.0 if x1 > 0.25 else -1.0 for _, x1 in X]
    return X, y


def loss_and_step(nn, model, X, y, value_cls):
    """micrograd's demo loss: SVM max-margin + L2, then zero_grad and backward."""
    inputs = [list(map(value_cls, row)) for row in X]
    scores = list(map(model, inputs))
    losses = [(1 + -yi * si).relu() for yi, si in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = 1e-4 * sum(p * p for p in model.parameters())
    total = data_loss + reg_loss
    model.zero_grad()
    total.backward()
    return total, scores


def test_micrograd_nn_source_runs_unchanged_and_grads_match(monkeypatch):
    from micrograd import nn as mg_nn
    from micrograd.engine import Value as MicrogradValue

    ours_nn = micrograd_nn_on_our_value(monkeypatch)
    assert ours_nn.Value is Value
    assert sys.modules["micrograd.engine"].Value is MicrogradValue

    random.seed(1337)
    ours = ours_nn.MLP(2, [16, 16, 1])
    ref = mg_nn.MLP(2, [16, 16, 1])
    ours_params, ref_params = ours.parameters(), ref.parameters()
    assert len(ours_params) == len(ref_params) == 337
    assert all(isinstance(p, Value) for p in ours_params)
    for p, q in zip(ours_params, ref_params):
        q.data = p.data  # same weights in both

    X, y = two_moons_like()
    for step in range(2):  # two SGD steps: zero_grad, accumulation and updates all take part
        loss_ours, scores_ours = loss_and_step(ours_nn, ours, X, y, Value)
        loss_ref, scores_ref = loss_and_step(mg_nn, ref, X, y, MicrogradValue)
        assert loss_ours.data == pytest.approx(loss_ref.data, rel=1e-12)
        assert [s.data for s in scores_ours] == pytest.approx([s.data for s in scores_ref], rel=1e-12, abs=1e-12)
        grads_ours = [p.grad for p in ours_params]
        grads_ref = [q.grad for q in ref_params]
        assert sum(g != 0 for g in grads_ref) > 100  # the test exercises real gradients
        for g_ours, g_ref in zip(grads_ours, grads_ref):
            assert g_ours == pytest.approx(g_ref, rel=1e-9, abs=1e-12)
        for p, q in zip(ours_params, ref_params):
            p.data -= 0.1 * p.grad
            q.data -= 0.1 * q.grad


def test_micrograd_nn_grad_vs_finite_differences(monkeypatch):
    """Independent of micrograd's engine: one weight's gradient by central differences."""
    ours_nn = micrograd_nn_on_our_value(monkeypatch)
    random.seed(7)
    model = ours_nn.MLP(2, [4, 1])
    X, y = two_moons_like(n=5, seed=11)

    def loss_at(w):
        p.data = w
        total, _ = loss_and_step(ours_nn, model, X, y, Value)
        return total.data

    p = model.layers[0].neurons[1].w[0]
    w0 = p.data
    h = 1e-6
    numeric = (loss_at(w0 + h) - loss_at(w0 - h)) / (2 * h)
    loss_at(w0)
    assert math.isfinite(p.grad) and p.grad != 0.0
    assert p.grad == pytest.approx(numeric, rel=1e-6, abs=1e-9)
    assert repr(model.layers[0]) == "Layer of [ReLUNeuron(2), ReLUNeuron(2), ReLUNeuron(2), ReLUNeuron(2)]"


def test_repeated_backward_accumulates_like_micrograd_on_a_one_op_graph():
    """Both engines add a second backward's gradients onto the first (micrograd has no zero_grad on Value)."""
    from micrograd.engine import Value as MicrogradValue

    grads = []
    for cls in (Value, MicrogradValue):
        a, b = cls(1.5), cls(-2.0)
        out = a * b
        out.backward()
        out.backward()
        grads.append((a.grad, b.grad))
    assert grads[0] == grads[1] == (2 * -2.0, 2 * 1.5)


def test_numpy_scalars_mix_with_value():
    np = pytest.importorskip("numpy")
    v = Value(3.0)
    out = np.float64(2.0) * v + np.int64(1) - v / np.float32(4.0)
    assert isinstance(out, Value) and out.data == pytest.approx(2 * 3 + 1 - 3 / 4)
    out.backward()
    assert v.grad == pytest.approx(2.0 - 0.25)
