"""Model step: MLP 784-256-128-10 (ReLU), batch 128, float32, cross-entropy, one SGD step.

Rows:
    nn.mlp784_step      ours (nn.Sequential of nn.Linear/nn.ReLU, nn.CrossEntropyLoss, nn.optim.SGD)
        vs PyTorch vs hand-written numpy forward/backward/update. Target: ratio vs torch
        <= 1.0 and vs numpy <= 1.2. Checked: loss and all six parameters after the first step.
    memory.mlp784_step  peak memory allocated within one step (see benchmarks.memprobe).
    memory.lstm_step, memory.gru_step  the same for the recurrent steps of benchmarks.cases.rnn.

:func:`mlp_step` builds one side's step; the timing row and the memory probe both use it.
"""
from __future__ import annotations

import numpy as np

from benchmarks.harness import Case, Skip, optional_import, register, require
from benchmarks.memprobe import memory_case

SIZES = (784, 256, 128, 10)
BATCH = 128
LR = 0.1


def mlp_init():
    """Shared start: PyTorch-style uniform(+-1/sqrt(fan_in)) weights, inputs, integer labels."""
    rng = np.random.default_rng(2024)
    params = {}
    for i, (fan_in, fan_out) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        bound = 1.0 / np.sqrt(fan_in)
        params[f"{2 * i}.weight"] = rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32)
        params[f"{2 * i}.bias"] = rng.uniform(-bound, bound, (fan_out,)).astype(np.float32)
    x = rng.standard_normal((BATCH, SIZES[0])).astype(np.float32)
    y = rng.integers(0, SIZES[-1], BATCH).astype(np.int64)
    return params, x, y


def _numpy_step(params, x, y):
    W1, b1, W2, b2, W3, b3 = (params[k].copy() for k in params)
    n = x.shape[0]
    rows = np.arange(n)

    def step():
        h1 = x @ W1.T + b1
        a1 = np.maximum(h1, 0)
        h2 = a1 @ W2.T + b2
        a2 = np.maximum(h2, 0)
        z = a2 @ W3.T + b3
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        s = e.sum(axis=1, keepdims=True)
        loss = np.mean(np.log(s[:, 0]) - z[rows, y])
        dz = e / s
        dz[rows, y] -= 1
        dz /= n
        gW3, gb3 = dz.T @ a2, dz.sum(0)
        d2 = (dz @ W3) * (h2 > 0)
        gW2, gb2 = d2.T @ a1, d2.sum(0)
        d1 = (d2 @ W2) * (h1 > 0)
        gW1, gb1 = d1.T @ x, d1.sum(0)
        for p, g in ((W1, gW1), (b1, gb1), (W2, gW2), (b2, gb2), (W3, gW3), (b3, gb3)):
            p -= LR * g
        return [loss, W1, b1, W2, b2, W3, b3]

    return step


def _torch_step(torch, params, x, y):
    tnn = torch.nn
    model = tnn.Sequential(tnn.Linear(784, 256), tnn.ReLU(), tnn.Linear(256, 128), tnn.ReLU(), tnn.Linear(128, 10))
    model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in params.items()})
    crit = tnn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)

    def step():
        opt.zero_grad()
        loss = crit(model(tx), ty)
        loss.backward()
        opt.step()
        return [loss] + list(model.parameters())

    return step


def _ours_step(params, x, y):
    ad = require("autodiff", "Tensor")
    nn = require("nn", "Sequential", "Linear", "ReLU", "CrossEntropyLoss", "optim.SGD")
    import nn.optim  # noqa: F401  (require checked it exists)

    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
    model.load_state_dict({k: v.copy() for k, v in params.items()})
    crit = nn.CrossEntropyLoss()
    opt = nn.optim.SGD(model.parameters(), lr=LR)
    tx, ty = ad.Tensor(x), ad.Tensor(y)

    def step():
        opt.zero_grad()
        loss = crit(model(tx), ty)
        loss.backward()
        opt.step()
        return [loss] + [p.data for p in model.parameters()]

    return step


def mlp_step(side: str):
    """Zero-argument step for ``side`` in ("ours", "numpy", "torch"), built from :func:`mlp_init`.

    Raises:
        Skip: when that side's library (or the nn pieces for ours) is missing.
    """
    params, x, y = mlp_init()
    if side == "numpy":
        return _numpy_step(params, x, y)
    if side == "torch":
        torch = optional_import("torch")
        if torch is None:
            raise Skip("torch not installed")
        return _torch_step(torch, params, x, y)
    if side == "ours":
        return _ours_step(params, x, y)
    raise ValueError(f"mlp_step: unknown side {side!r}")


def mlp_flops():
    """Multiply-adds x 2 of one step: forward GEMMs, their weight gradients, input gradients but the first."""
    fwd = [2 * BATCH * a * b for a, b in zip(SIZES[:-1], SIZES[1:])]
    return 3 * sum(fwd) - fwd[0]


@register("nn.mlp784_step", group="nn", isolated=True)
def mlp_time(quick):
    require("nn", "Sequential", "Linear", "ReLU", "CrossEntropyLoss", "optim.SGD")
    return Case(isolated="benchmarks.cases.nn:mlp_step", sides=("ours", "numpy", "torch"), rtol=1e-4, atol=1e-5,
                flops=mlp_flops(),
                notes="MLP 784-256-128-10 ReLU, batch 128, float32, cross-entropy, SGD lr 0.1; "
                      "checked: loss and parameters after the first step")


@register("memory.mlp784_step", group="memory")
def mlp_memory(quick):
    require("nn", "Sequential", "Linear", "ReLU", "CrossEntropyLoss", "optim.SGD")
    return memory_case("benchmarks.cases.nn:mlp_step", ("ours", "numpy", "torch"), quick)


def recurrent_step(side: str, kind: str = "LSTM"):
    """The LSTM/GRU training step of ``benchmarks.cases.rnn``, for the memory rows."""
    from benchmarks.cases import rnn

    if side == "ours":
        return rnn._ours_step(kind)
    if side == "torch":
        torch = optional_import("torch")
        if torch is None:
            raise Skip("torch not installed")
        return rnn._torch_step(torch, kind)
    raise ValueError(f"recurrent_step: unknown side {side!r}")


def lstm_step(side: str):
    return recurrent_step(side, "LSTM")


def gru_step(side: str):
    return recurrent_step(side, "GRU")


@register("memory.lstm_step", group="memory")
def lstm_memory(quick):
    require("nn", "LSTM", "Linear", "CrossEntropyLoss", "optim.SGD")
    return memory_case("benchmarks.cases.nn:lstm_step", ("ours", "torch"), quick)


@register("memory.gru_step", group="memory")
def gru_memory(quick):
    require("nn", "GRU", "Linear", "CrossEntropyLoss", "optim.SGD")
    return memory_case("benchmarks.cases.nn:gru_step", ("ours", "torch"), quick)
