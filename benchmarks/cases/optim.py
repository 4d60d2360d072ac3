"""Optimizer step alone, on the parameters of the MLP 784-256-128-10 (float32, fixed gradients).

Rows:
    optim.sgd_step        nn.optim.SGD(lr=0.1) vs torch.optim.SGD and a numpy ``p -= lr * g``.
    optim.sgd_momentum    SGD with momentum 0.9 and Nesterov.
    optim.adam_step       nn.optim.Adam defaults vs torch.optim.Adam.

The step is the part of a training step the optimizer owns: every parameter updated in
place from its ``.grad``. Checked: parameters after the first step.
"""
from __future__ import annotations

import numpy as np

from benchmarks.harness import Case, Skip, optional_import, register, require

SHAPES = [(256, 784), (256,), (128, 256), (128,), (10, 128), (10,)]


def _arrays():
    rng = np.random.default_rng(11)
    params = [rng.uniform(-0.05, 0.05, s).astype(np.float32) for s in SHAPES]
    grads = [rng.standard_normal(s).astype(np.float32) * 1e-2 for s in SHAPES]
    return params, grads


def _ours(name, kwargs):
    require("nn", "optim.SGD", "optim.Adam")
    import autodiff as ad
    import nn.optim

    params, grads = _arrays()
    ps = [ad.Tensor(p, requires_grad=True) for p in params]
    for p, g in zip(ps, grads):
        p.grad = ad.Tensor(g)
    opt = getattr(nn.optim, name)(ps, **kwargs)

    def step():
        opt.step()
        return [p.data for p in ps]

    return step


def _torch(name, kwargs):
    torch = optional_import("torch")
    if torch is None:
        return Skip("torch not installed")
    params, grads = _arrays()
    ps = [torch.tensor(p, requires_grad=True) for p in params]
    for p, g in zip(ps, grads):
        p.grad = torch.from_numpy(g)
    opt = getattr(torch.optim, name)(ps, **kwargs)

    def step():
        opt.step()
        return [p.detach() for p in ps]

    return step


def _numpy_sgd(lr):
    params, grads = _arrays()

    def step():
        for p, g in zip(params, grads):
            p -= lr * g
        return params

    return step


@register("optim.sgd_step", group="optim")
def sgd_step(quick):
    kwargs = dict(lr=0.1)
    return Case(ours=_ours("SGD", kwargs),
                refs={"numpy": _numpy_sgd(0.1), "torch": _torch("SGD", kwargs)},
                rtol=1e-5, atol=1e-6, notes="SGD step on MLP 784-256-128-10 parameters (235k floats)")


@register("optim.sgd_momentum", group="optim")
def sgd_momentum(quick):
    kwargs = dict(lr=0.1, momentum=0.9, nesterov=True)
    return Case(ours=_ours("SGD", kwargs), refs={"torch": _torch("SGD", kwargs)},
                rtol=1e-5, atol=1e-6)


@register("optim.adam_step", group="optim")
def adam_step(quick):
    return Case(ours=_ours("Adam", {}), refs={"torch": _torch("Adam", {})}, rtol=1e-5, atol=1e-6)
