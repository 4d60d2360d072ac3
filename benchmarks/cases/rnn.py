"""Recurrent training steps and the fused gate kernels.

Rows:
    rnn.lstm_step   LSTM(64 -> 128), sequence 32, batch 32, a Linear(128 -> 64) head on every step,
        cross-entropy, backward and one SGD step: ours (nn.LSTM, one graph node per layer with the fused
        Numba gate kernels) vs PyTorch's nn.LSTM. Target: ratio vs torch <= 1.0. Checked: loss
        and all parameters after the first step.
    rnn.gru_step    the same with GRU.
    rnn.lstm_gates_fwd / _bwd, rnn.gru_gates_fwd / _bwd   one time step's gate arithmetic (batch 32,
        hidden 128, float32): the fused Numba kernel vs the numpy reference (autodiff/kernels/reference_rnn).
"""
from __future__ import annotations

import numpy as np

from benchmarks.harness import Case, Skip, optional_import, register, require

SEQ, BATCH, N_IN, HIDDEN, N_OUT = 32, 32, 64, 128, 64
LR = 0.1


def _init(kind):
    """Shared start: PyTorch-style uniform weights for the recurrent layer and head, inputs, labels."""
    rng = np.random.default_rng(6)
    gates = {"LSTM": 4, "GRU": 3}[kind] * HIDDEN
    b = 1.0 / np.sqrt(HIDDEN)
    shapes = {"weight_ih_l0": (gates, N_IN), "weight_hh_l0": (gates, HIDDEN), "bias_ih_l0": (gates,),
              "bias_hh_l0": (gates,)}
    rnn = {k: rng.uniform(-b, b, s).astype(np.float32) for k, s in shapes.items()}
    head = {"weight": rng.uniform(-b, b, (N_OUT, HIDDEN)).astype(np.float32),
            "bias": rng.uniform(-b, b, N_OUT).astype(np.float32)}
    x = rng.standard_normal((SEQ, BATCH, N_IN)).astype(np.float32)
    y = rng.integers(0, N_OUT, (SEQ, BATCH)).astype(np.int64)
    return rnn, head, x, y


def _ours_step(kind):
    ad = require("autodiff", "Tensor")
    nn = require("nn", kind, "Linear", "CrossEntropyLoss", "optim.SGD")
    import nn.optim  # noqa: F401

    rnn_w, head_w, x, y = _init(kind)
    rnn, head = getattr(nn, kind)(N_IN, HIDDEN), nn.Linear(HIDDEN, N_OUT)
    rnn.load_state_dict({k: v.copy() for k, v in rnn_w.items()})
    head.load_state_dict({k: v.copy() for k, v in head_w.items()})
    params = list(rnn.parameters()) + list(head.parameters())
    crit = nn.CrossEntropyLoss()
    opt = nn.optim.SGD(params, lr=LR)
    tx, ty = ad.Tensor(x), ad.Tensor(y.reshape(-1))

    def step():
        opt.zero_grad()
        out, _ = rnn(tx)
        loss = crit(head(out).reshape(-1, N_OUT), ty)
        loss.backward()
        opt.step()
        return [loss] + [p.data for p in params]

    return step


def _torch_step(torch, kind):
    rnn_w, head_w, x, y = _init(kind)
    rnn, head = getattr(torch.nn, kind)(N_IN, HIDDEN), torch.nn.Linear(HIDDEN, N_OUT)
    rnn.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in rnn_w.items()})
    head.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in head_w.items()})
    params = list(rnn.parameters()) + list(head.parameters())
    crit = torch.nn.CrossEntropyLoss()
    opt = torch.optim.SGD(params, lr=LR)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y.reshape(-1))

    def step():
        opt.zero_grad()
        out, _ = rnn(tx)
        loss = crit(head(out).reshape(-1, N_OUT), ty)
        loss.backward()
        opt.step()
        return [loss] + list(params)

    return step


def recurrent_flops(kind):
    """Multiply-adds x 2 of one step: per time step the input and recurrent gate GEMMs and the head,
    forward plus weight and input gradients (none for the input projection's input, which needs no grad)."""
    gates = {"LSTM": 4, "GRU": 3}[kind] * HIDDEN
    x_proj = 2 * BATCH * N_IN * gates
    rest = 2 * BATCH * HIDDEN * gates + 2 * BATCH * HIDDEN * N_OUT
    return SEQ * (2 * x_proj + 3 * rest)


def _step_case(kind):
    require("nn", kind, "Linear", "CrossEntropyLoss", "optim.SGD")
    return Case(isolated=f"benchmarks.cases.nn:{kind.lower()}_step", sides=("ours", "torch"), rtol=2e-4,
                atol=2e-5, flops=recurrent_flops(kind),
                notes=f"{kind}(64 -> 128), seq 32, batch 32, Linear(128 -> 64) head on every step, "
                      "cross-entropy, backward, SGD lr 0.1; checked: loss and parameters after the first step")


@register("rnn.lstm_step", group="rnn", isolated=True)
def lstm_step(quick):
    return _step_case("LSTM")


@register("rnn.gru_step", group="rnn", isolated=True)
def gru_step(quick):
    return _step_case("GRU")


def _gate_inputs(n_gates):
    rng = np.random.default_rng(7)
    xg = rng.standard_normal((BATCH, n_gates * HIDDEN)).astype(np.float32)
    hg = rng.standard_normal((BATCH, n_gates * HIDDEN)).astype(np.float32)
    state = rng.standard_normal((BATCH, HIDDEN)).astype(np.float32)
    dh = rng.standard_normal((BATCH, HIDDEN)).astype(np.float32)
    return xg, hg, state, dh


def _kernels():
    try:
        from autodiff.kernels import reference_rnn, rnn_gates
    except ImportError as exc:
        raise Skip(f"rnn gate kernels not importable ({exc})") from None
    return rnn_gates, reference_rnn


@register("rnn.lstm_gates_fwd", group="rnn")
def lstm_gates_fwd(quick):
    k, ref = _kernels()
    xg, hg, c, _ = _gate_inputs(4)
    return Case(ours=lambda: k.lstm_step_forward(xg, hg, c), refs={"numpy": lambda: ref.lstm_step_forward(xg, hg, c)},
                rtol=1e-5, atol=1e-6, notes="one LSTM step's gates, batch 32, hidden 128, float32")


@register("rnn.lstm_gates_bwd", group="rnn")
def lstm_gates_bwd(quick):
    k, ref = _kernels()
    xg, hg, c, dh = _gate_inputs(4)
    _, _, gates, tanh_c = ref.lstm_step_forward(xg, hg, c)
    return Case(ours=lambda: k.lstm_step_backward(dh, c, gates, c, tanh_c),
                refs={"numpy": lambda: ref.lstm_step_backward(dh, c, gates, c, tanh_c)}, rtol=1e-5, atol=1e-6)


@register("rnn.gru_gates_fwd", group="rnn")
def gru_gates_fwd(quick):
    k, ref = _kernels()
    xg, hg, h, _ = _gate_inputs(3)
    return Case(ours=lambda: k.gru_step_forward(xg, hg, h), refs={"numpy": lambda: ref.gru_step_forward(xg, hg, h)},
                rtol=1e-5, atol=1e-6)


@register("rnn.gru_gates_bwd", group="rnn")
def gru_gates_bwd(quick):
    k, ref = _kernels()
    xg, hg, h, dh = _gate_inputs(3)
    _, gates, hg_n = ref.gru_step_forward(xg, hg, h)
    return Case(ours=lambda: k.gru_step_backward(dh, gates, hg_n, h),
                refs={"numpy": lambda: ref.gru_step_backward(dh, gates, hg_n, h)}, rtol=1e-5, atol=1e-6)
