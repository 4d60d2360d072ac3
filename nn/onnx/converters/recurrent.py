"""Recurrent ops as ONNX's own LSTM / GRU / RNN nodes (one per layer direction), and the GRU cell step.

The engine's sequence ops run one layer direction over ``(T, B, I)`` with PyTorch's weights; ONNX's
ops take the weights stacked per direction with their gates in another order: LSTM ``i, o, f, c``
against PyTorch's ``i, f, g, o``, GRU ``z, r, h`` against ``r, z, n`` (``linear_before_reset=1`` is
PyTorch's GRU). The parameters stay initializers under their own names; a ``Gather`` of whole gate
blocks reorders them in the graph (runtimes fold it when they load the model).

An LSTM with projections (``proj_size``) has no ONNX op; it is unrolled over its (fixed) time steps.
"""
import numpy as np

from autodiff.ops import recurrent as R

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


@converts_named(R, "LSTMSequence")
def _lstm(c):
    if c.arg("w_hr") is not None:
        return _lstm_projected(c)
    return _sequence(c, "LSTM", 4, _LSTM_ORDER, ("h0", "c0"))


@converts_named(R, "GRUSequence")
def _gru(c):
    return _sequence(c, "GRU", 3, _GRU_ORDER, ("h0",), linear_before_reset=1)


@converts_named(R, "RNNSequence")
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
    """LSTM with projections, unrolled: gates = x_t W_ih^T + b + h W_hh^T, h = (o tanh c) W_hr^T."""
    g, dtype = c.g, c.out_dtype()
    steps = c.dims(0)[0]
    if not isinstance(steps, int):
        c.fail("an LSTM with proj_size is unrolled over its time steps, so its sequence length cannot be a "
               "dynamic axis")
    x = c.x(0, dtype)
    w_ih_t = g.op("Transpose", _param(c, "w_ih", dtype), perm=[1, 0])
    w_hh_t = g.op("Transpose", _param(c, "w_hh", dtype), perm=[1, 0])
    w_hr_t = g.op("Transpose", _param(c, "w_hr", dtype), perm=[1, 0])
    hidden = int(c.shape(c.position("w_hh"))[0]) // 4
    proj = int(c.shape(c.position("w_hr"))[0])
    xg = g.op("MatMul", x, w_ih_t)
    for name in ("b_ih", "b_hh"):
        if c.arg(name) is not None:
            xg = g.op("Add", xg, _param(c, name, dtype))
    h = _state(c, "h0", dtype)
    h = g.squeeze(h, [0]) if h is not None else _zeros_state(c, x, proj, dtype)
    cell = _state(c, "c0", dtype)
    cell = g.squeeze(cell, [0]) if cell is not None else _zeros_state(c, x, hidden, dtype)
    outs = [None] * steps
    order = range(steps - 1, -1, -1) if c.arg("reverse", False) else range(steps)
    for t in order:
        gates = g.op("Add", g.op("Gather", xg, g.const(np.asarray(t, np.int64)), axis=0), g.op("MatMul", h, w_hh_t))
        i, f, gg, o = g.split(gates, 4, 1)
        cell = g.op("Add", g.op("Mul", g.op("Sigmoid", f), cell), g.op("Mul", g.op("Sigmoid", i), g.op("Tanh", gg)))
        h = g.op("MatMul", g.op("Mul", g.op("Sigmoid", o), g.op("Tanh", cell)), w_hr_t)
        outs[t] = g.unsqueeze(h, [0])
    out = outs[0] if steps == 1 else g.op("Concat", *outs, axis=0)
    return out, g.op("Identity", h), g.op("Identity", cell)


@converts_named(R, "GRUCellStep")
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
