"""Recurrent ops as ONNX's own LSTM / GRU / RNN nodes (one per layer direction), and the GRU cell step.

The engine's sequence ops run one layer direction over ``(T, B, I)`` with PyTorch's weights; ONNX's
ops take the weights stacked per direction with their gates in another order: LSTM ``i, o, f, c``
against PyTorch's ``i, f, g, o``, GRU ``z, r, h`` against ``r, z, n`` (``linear_before_reset=1`` is
PyTorch's GRU). The parameters stay initializers under their own names; a ``Gather`` of whole gate
blocks reorders them in the graph (runtimes fold it when they load the model).

An LSTM with projections (``proj_size``) has no ONNX op; it becomes a ``Scan`` over time steps.
"""
import numpy as np

from autodiff.ops import recurrent

from ..convert import converts_named

# ONNX gate block k is PyTorch's block ORDER[k]
_LSTM_ORDER = (0, 3, 1, 2)
_GRU_ORDER = (1, 0, 2)


def _gate_rows(order, hidden):
    return np.concatenate([np.arange(k * hidden, (k + 1) * hidden) for k in order]).astype(np.int64)


def _stacked(c, name, rows, dtype):
    """Parameter ``name`` with its gate blocks reordered by ``rows`` and a leading direction axis."""
    g = c.g
    w = c.x(c.position(name), dtype) if c.position(name) is not None else c.g.const(c.arg(name))
    return g.unsqueeze(g.op("Gather", w, g.const(rows, hint="gate_order"), axis=0), [0])


def _bias(c, rows, size, dtype):
    """ONNX's ``B``: ``[b_ih, b_hh]`` reordered (zeros for a missing one), or None without biases."""
    g = c.g
    if c.arg("b_ih") is None and c.arg("b_hh") is None:
        return None
    parts = []
    for name in ("b_ih", "b_hh"):
        if c.arg(name) is None:
            parts.append(g.const(np.zeros(size, dtype), hint="zeros"))
        else:
            parts.append(g.op("Gather", c.x(c.position(name), dtype), g.const(rows, hint="gate_order"), axis=0))
    return g.unsqueeze(g.op("Concat", *parts, axis=0), [0])


def _state(c, name, dtype):
    k = c.position(name)
    if k is None or c.args[k] is None:
        return None
    return c.g.unsqueeze(c.x(k, dtype), [0])


def _sequence(c, onnx_op, n_gates, order, states, **attrs):
    """One ONNX recurrent node for the op; returns ``(output, *final states)`` as the op does."""
    g, dtype = c.g, c.out_dtype()
    hidden = int(c.shape(c.position("w_hh"))[1])
    rows = _gate_rows(order, hidden)
    w = _stacked(c, "w_ih", rows, dtype)
    r = _stacked(c, "w_hh", rows, dtype)
    b = _bias(c, rows, n_gates * hidden, dtype)
    initial = [_state(c, s, dtype) for s in states]
    direction = "reverse" if c.arg("reverse", False) else "forward"
    outs = g.op(onnx_op, c.x(0, dtype), w, r, b, None, *initial, outputs=1 + len(states), hidden_size=hidden,
                direction=direction, **attrs)
    return (g.squeeze(outs[0], [1]),) + tuple(g.squeeze(o, [0]) for o in outs[1:])


@converts_named(recurrent, "LSTMSequence")
def _lstm(c):
    if c.arg("w_hr") is not None:
        return _lstm_projected(c)
    return _sequence(c, "LSTM", 4, _LSTM_ORDER, ("h0", "c0"))


@converts_named(recurrent, "GRUSequence")
def _gru(c):
    return _sequence(c, "GRU", 3, _GRU_ORDER, ("h0",), linear_before_reset=1)


@converts_named(recurrent, "RNNSequence")
def _rnn(c):
    act = {"tanh": "Tanh", "relu": "Relu"}[c.arg("nonlinearity", "tanh")]
    return _sequence(c, "RNN", 1, (0,), ("h0",), activations=[act])


def _param(c, name, dtype):
    return c.x(c.position(name), dtype) if c.position(name) is not None else c.g.const(c.arg(name))


def _zeros_state(c, x, size, dtype):
    """Zeros of shape (B, size) with B read from ``x`` (T, B, I) at run time."""
    g = c.g
    shape = g.op("Concat", g.op("Shape", x, start=1, end=2), g.ints([size]), axis=0)
    return g.op("ConstantOfShape", shape, value=np.zeros(1, dtype))


def _lstm_projected(c):
    """LSTM with projections as a Scan over time: gates = x_t W_ih^T + b + h W_hh^T (the x part of all
    steps in one MatMul before the loop), c = f c + i g, h = (o tanh c) W_hr^T."""
    g, dtype = c.g, c.out_dtype()
    x = c.x(0, dtype)
    w_hh_t = g.op("Transpose", _param(c, "w_hh", dtype), perm=[1, 0])
    w_hr_t = g.op("Transpose", _param(c, "w_hr", dtype), perm=[1, 0])
    hidden = int(c.shape(c.position("w_hh"))[0]) // 4
    proj = int(c.shape(c.position("w_hr"))[0])
    xg = g.op("MatMul", x, g.op("Transpose", _param(c, "w_ih", dtype), perm=[1, 0]))
    for name in ("b_ih", "b_hh"):
        if c.arg(name) is not None:
            xg = g.op("Add", xg, _param(c, name, dtype))
    h0 = _state(c, "h0", dtype)
    h0 = g.squeeze(h0, [0]) if h0 is not None else _zeros_state(c, x, proj, dtype)
    c0 = _state(c, "c0", dtype)
    c0 = g.squeeze(c0, [0]) if c0 is not None else _zeros_state(c, x, hidden, dtype)
    body = g.subgraph()
    h, cell, xg_t = (body.unique(f"{g.scope}/step_{n}") for n in ("h", "c", "gates"))
    for name in (h, cell, xg_t):
        body.add_input(name, dtype, [None, None])
    gates = body.op("Add", xg_t, body.op("MatMul", h, w_hh_t))
    i, f, gg, o = body.split(gates, 4, 1)
    new_c = body.op("Add", body.op("Mul", body.op("Sigmoid", f), cell),
                    body.op("Mul", body.op("Sigmoid", i), body.op("Tanh", gg)))
    new_h = body.op("MatMul", body.op("Mul", body.op("Sigmoid", o), body.op("Tanh", new_c)), w_hr_t)
    out_t = body.op("Identity", new_h)
    for name in (new_h, new_c, out_t):
        body.add_output(name, dtype, [None, None])
    reverse = int(bool(c.arg("reverse", False)))
    h_n, c_n, out = g.op("Scan", h0, c0, xg, outputs=3, body=body.graph("lstm_projected_step"),
                         num_scan_inputs=1, scan_input_directions=[reverse], scan_output_directions=[reverse])
    return out, h_n, c_n


@converts_named(recurrent, "GRUCellStep")
def _gru_cell(c):
    """r = s(x_r + h_r), z = s(x_z + h_z), n = tanh(x_n + r h_n), h' = n + z (h - n)."""
    g, dtype = c.g, c.out_dtype()
    xr, xz, xn = g.split(c.x(0, dtype), 3, 1)
    hr, hz, hn = g.split(c.x(1, dtype), 3, 1)
    h = c.x(2, dtype)
    r = g.op("Sigmoid", g.op("Add", xr, hr))
    z = g.op("Sigmoid", g.op("Add", xz, hz))
    n = g.op("Tanh", g.op("Add", xn, g.op("Mul", r, hn)))
    return g.op("Add", n, g.op("Mul", z, g.op("Sub", h, n)))
