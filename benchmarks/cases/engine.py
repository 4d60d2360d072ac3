"""Engine overhead: a chain of tiny tensor ops, and the scalar engine on micrograd's two-moons step.

Rows:
    engine.chain1000_16x16_fwd_bwd  1,000 x ``y = y * c + d`` on a 16x16 float32 tensor, forward
        and backward (ours vs PyTorch eager vs hand-written numpy). Target: ratio vs torch <= 0.5.
    engine.value_two_moons_step     micrograd's demo step (MLP 2-16-16-1, 100 points, SVM max-margin
        loss + L2 alpha=1e-4, backward, SGD; 20 points with --quick). Ours = autodiff.Value driving micrograd's own nn.py
        source, unchanged. Target: ratio vs micrograd <= 0.33.
"""
from __future__ import annotations

import builtins
import inspect
import random
import types

import numpy as np

from benchmarks.harness import Case, Skip, optional_import, register, require

CHAIN_LEN = 1000
CHAIN_SHAPE = (16, 16)


def _chain_inputs():
    rng = np.random.default_rng(1234)
    x = rng.standard_normal(CHAIN_SHAPE).astype(np.float32)
    c = rng.uniform(0.995, 1.005, CHAIN_SHAPE).astype(np.float32)  # keeps 1,000 products near 1
    d = (0.01 * rng.standard_normal(CHAIN_SHAPE)).astype(np.float32)
    return x, c, d


def chain_step(side: str):
    """Zero-argument chain step (forward + backward) for ``side`` in ("ours", "numpy", "torch").

    Raises:
        Skip: when that side's library is missing.
    """
    x, c, d = _chain_inputs()
    n = CHAIN_LEN
    if side == "numpy":
        def numpy_step():
            y = x
            for _ in range(n):  # forward
                y = y * c + d
            g = np.ones_like(y)  # d(sum y)/dy
            for _ in range(n):  # backward: dy_i/dy_{i-1} = c
                g = g * c
            return y, g

        return numpy_step
    if side == "torch":
        torch = optional_import("torch")
        if torch is None:
            raise Skip("torch not installed")
        tx = torch.from_numpy(x.copy()).requires_grad_(True)
        tc, td = torch.from_numpy(c), torch.from_numpy(d)

        def torch_step():
            tx.grad = None
            y = tx
            for _ in range(n):
                y = y * tc + td
            y.sum().backward()
            return y, tx.grad

        return torch_step
    if side == "ours":
        ad = require("autodiff", "Tensor")
        ax = ad.Tensor(x.copy(), requires_grad=True)
        ac, adt = ad.Tensor(c), ad.Tensor(d)

        def ours_step():
            ax.grad = None
            y = ax
            for _ in range(n):
                y = y * ac + adt
            y.sum().backward()
            return y, ax.grad

        return ours_step
    raise ValueError(f"chain_step: unknown side {side!r}")


@register("engine.chain1000_16x16_fwd_bwd", group="engine", isolated=True)
def chain(quick):
    require("autodiff", "Tensor")
    return Case(isolated="benchmarks.cases.engine:chain_step", sides=("ours", "numpy", "torch"), rtol=1e-4,
                atol=1e-5, notes="chain: x requires grad; c, d constant 16x16 float32; loss = y.sum()")


# ------------------------------------------------------------------ two moons, scalar engine

def _two_moons(n=100, noise=0.1, seed=7):
    """Two interleaved half circles (like sklearn.datasets.make_moons), labels in {-1, +1}."""
    rng = np.random.default_rng(seed)
    n_out = n // 2
    n_in = n - n_out
    t_out = np.linspace(0, np.pi, n_out)
    t_in = np.linspace(0, np.pi, n_in)
    X = np.concatenate([np.stack([np.cos(t_out), np.sin(t_out)], 1),
                        np.stack([1 - np.cos(t_in), 1 - np.sin(t_in) - 0.5], 1)])
    X += noise * rng.standard_normal(X.shape)
    y = np.concatenate([-np.ones(n_out), np.ones(n_in)])
    return X.tolist(), y.tolist()


def _micrograd_nn_with(value_cls):
    """micrograd's nn.py source, executed unchanged, with ``micrograd.engine.Value`` = value_cls."""
    import micrograd.nn as mg_nn

    source = inspect.getsource(mg_nn)
    fake_engine = types.SimpleNamespace(Value=value_cls)
    real_import = builtins.__import__

    def importer(name, globals=None, locals=None, fromlist=(), level=0):
        if name == "micrograd.engine":
            return fake_engine
        return real_import(name, globals, locals, fromlist, level)

    namespace = {"__name__": "micrograd_nn_on_autodiff",
                 "__builtins__": {**vars(builtins), "__import__": importer}}
    exec(compile(source, mg_nn.__file__, "exec"), namespace)
    return namespace


def _moons_step(nn_ns, X, y, seed=1337, alpha=1e-4, lr=0.05):
    """Build micrograd's MLP(2, [16, 16, 1]) with a seeded init and return one training step."""
    random.seed(seed)
    model = nn_ns["MLP"](2, [16, 16, 1])
    Value = type(model.parameters()[0])
    inputs = [[Value(a) for a in row] for row in X]  # as micrograd's demo: Values, built once

    def step():
        scores = list(map(model, inputs))
        losses = [(1 + -yi * si).relu() for yi, si in zip(y, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = alpha * sum(p * p for p in model.parameters())
        total = data_loss + reg_loss
        model.zero_grad()
        total.backward()
        for p in model.parameters():
            p.data -= lr * p.grad
        return [total.data] + [p.data for p in model.parameters()]

    return step


@register("engine.value_two_moons_step", group="engine")
def two_moons(quick):
    X, y = _two_moons(n=20 if quick else 100)
    mg_nn = optional_import("micrograd.nn")
    if mg_nn is None:
        raise Skip("micrograd not installed (its nn.py is what ours runs)")
    refs = {"micrograd": _moons_step(vars(mg_nn), X, y)}
    ad = require("autodiff", "Value")
    ours = _moons_step(_micrograd_nn_with(ad.Value), X, y)
    return Case(ours=ours, refs=refs, rtol=1e-9, atol=1e-12, repeat=2 if quick else 7, number=1, warmup=0 if quick else 1,
                notes="two moons: micrograd's nn.py run unchanged on autodiff.Value; "
                      "checked: loss and all 337 parameters after the first step, float64, rtol 1e-9")
