"""Recurrent ops: whole-sequence Elman/LSTM/GRU layer directions trained by BPTT, and a fused GRU cell step.

A sequence op records a single graph node for a whole layer direction: the input projection of all
time steps is one GEMM, the forward loops over time (one GEMM ``h @ W_hh.T`` and one fused Numba gate
kernel per step), and the backward runs the loop in reverse (backpropagation through time), then forms
the shared-weight gradients as sums over time in one GEMM each. The LSTM has this one op for every
use: plain layers, layers with projections (``w_hr``, PyTorch's ``proj_size``) and ``nn.LSTMCell``
(a sequence of length 1). The GRU cell step takes the two pre-activation GEMM results (``xg = x @
W_ih.T + b_ih``, ``hg = h @ W_hh.T + b_hh``, built by ordinary Tensor ops) and runs the gate arithmetic
in one fused kernel each way. Gate orders are PyTorch's: LSTM ``(i, f, g, o)``, GRU ``(r, z, n)``.

Shape:
    sequences are time-major: ``x`` ``(T, B, I)``, ``output`` ``(T, B, H)``; states ``(B, H)``;
    ``w_ih`` ``(G*H, I)``, ``w_hh`` ``(G*H, H)``, biases ``(G*H,)`` with ``G`` = 1 (RNN), 4 (LSTM), 3 (GRU);
    an LSTM with a projection ``w_hr`` ``(P, H)`` has ``w_hh`` ``(4H, P)``, ``h`` and ``output`` of ``P``.
"""
import sys
import threading

import numpy as np

from ..function import Function
from ..kernels import rnn_gates


# --- GRU cell step -----------------------------------------------------------------------------------

class GRUCellStep(Function):
    """``h`` of one GRU step from ``xg = W_ih x + b_ih``, ``hg = W_hh h_prev + b_hh`` and ``h_prev``."""

    name = "gru_cell"
    once_differentiable = True

    @staticmethod
    def forward(ctx, xg, hg, h_prev):
        h, gates, hg_n = rnn_gates.gru_step_forward(xg, hg, h_prev)
        ctx.save_for_backward(gates, hg_n, h_prev)
        return h

    @staticmethod
    def backward(ctx, gh):
        gates, hg_n, h_prev = ctx.saved_tensors
        dxg, dhg, direct = rnn_gates.gru_step_backward(gh, gates, hg_n, h_prev)
        n_xg, n_hg, n_h = ctx.needs_input_grad
        return (dxg if n_xg else None), (dhg if n_hg else None), (direct if n_h else None)


def gru_cell_step(xg, hg, h_prev):
    """Functional form of :class:`GRUCellStep`; returns ``h``."""
    return GRUCellStep.apply(xg, hg, h_prev)


# --- whole sequences ------------------------------------------------------------------------------

def _check_sequence(op, n_gates, x, states, w_ih, w_hh, b_ih, b_hh, w_hr=None):
    """Validate shapes and dtypes; return ``(T, B, I, H)``.

    With a projection ``w_hr`` ``(P, H)`` (LSTM only) the hidden state has ``P`` features: ``w_hh`` is
    ``(G*H, P)`` and ``states`` are ``(h0, c0)`` of ``(B, P)`` and ``(B, H)``.
    """
    if np.ndim(x) != 3:
        raise ValueError(f"{op}: input must be 3-d (seq_len, batch, input_size), got shape "
                         f"{tuple(np.shape(x))}")
    seq_len, batch, n_in = x.shape
    if seq_len == 0:
        raise ValueError(f"{op}: expected sequence length to be larger than 0, got input of shape "
                         f"{tuple(x.shape)}")
    if w_hr is not None:
        if np.ndim(w_hr) != 2 or np.ndim(w_hh) != 2 or w_hh.shape != (n_gates * w_hr.shape[1], w_hr.shape[0]):
            raise ValueError(f"{op}: with a projection weight_hr (proj, hidden) of shape "
                             f"{tuple(np.shape(w_hr))}, weight_hh must have shape ({n_gates} * hidden, proj), "
                             f"got {tuple(np.shape(w_hh))}")
        hidden, h_size = w_hr.shape[1], w_hr.shape[0]
    elif np.ndim(w_hh) != 2 or w_hh.shape[0] != n_gates * w_hh.shape[1]:
        raise ValueError(f"{op}: weight_hh must have shape ({n_gates} * hidden, hidden), got "
                         f"{tuple(np.shape(w_hh))}")
    else:
        hidden = h_size = w_hh.shape[1]
    expect = {"weight_ih": (w_ih, (n_gates * hidden, n_in)), "weight_hh": (w_hh, w_hh.shape),
              "bias_ih": (b_ih, (n_gates * hidden,)),
              "bias_hh": (b_hh, (n_gates * hidden,)), "weight_hr": (w_hr, (h_size, hidden))}
    for k, s in enumerate(states):
        expect[f"state {k}"] = (s, (batch, h_size if k == 0 else hidden))
    for name, (arr, shape) in expect.items():
        if arr is None:
            continue
        if arr.shape != shape:
            raise ValueError(f"{op}: {name} has shape {tuple(arr.shape)}, expected {shape} for input "
                             f"of shape {tuple(x.shape)} and hidden size {hidden}"
                             + (f", proj size {h_size}" if w_hr is not None else ""))
        if arr.dtype != x.dtype:
            raise ValueError(f"{op}: {name} has dtype {arr.dtype} but the input has {x.dtype}")
    if x.dtype not in (np.float32, np.float64):
        raise ValueError(f"{op}: expected float32 or float64 input, got {x.dtype}")
    return seq_len, batch, n_in, hidden


class _WorkArrays(threading.local):
    """Large per-sequence arrays reused between calls (one pool per thread).

    A fresh multi-megabyte ``np.empty`` is new memory each call, and first touching it costs a page
    fault per 4 KB, as much time as the LSTM arithmetic. An array is handed out again only when nothing
    but the pool refers to it (no saved ctx, output Tensor or view keeps it alive), so reuse is safe.
    """

    max_bytes = 64 << 20

    def __init__(self):
        self.arrays = []

    def empty(self, shape, dtype):
        arrays = self.arrays
        for k in range(len(arrays)):
            a = arrays[k]
            if a.shape == shape and a.dtype == dtype and _refcount(a) <= _POOLED_REFS:
                arrays.append(arrays.pop(k))    # most recently used last
                return a
        a = np.empty(shape, dtype)
        arrays.append(a)
        total = sum(b.nbytes for b in arrays)
        k = 0
        while total > self.max_bytes and k < len(arrays) - 1:   # drop least recently used free ones
            b = arrays[k]
            if _refcount(b) <= _POOLED_REFS:
                total -= b.nbytes
                del arrays[k]
            else:
                k += 1
            b = None
        return a


def _refcount(a):
    return sys.getrefcount(a)


def _calibrate():
    arrays = [np.empty(0)]
    a = arrays[0]
    return _refcount(a)     # the same references as in _WorkArrays.empty: list, local, call


_POOLED_REFS = _calibrate()


_work = _WorkArrays()


def _state(s, batch, hidden, dtype):
    if s is None:
        return np.zeros((batch, hidden), dtype)
    return np.ascontiguousarray(s)


def _project(x, w_ih, *biases, out=None):
    """Input projections of all time steps in one GEMM: ``x @ w_ih.T + biases``, ``(T, B, G*H)``."""
    seq_len, batch, n_in = x.shape
    if out is None:
        out = _work.empty((seq_len, batch, w_ih.shape[0]), x.dtype)
    np.matmul(x.reshape(seq_len * batch, n_in), w_ih.T, out=out.reshape(seq_len * batch, w_ih.shape[0]))
    bias = None
    for b in biases:  # summed first: one pass over the projections instead of one per bias
        if b is not None:
            bias = b if bias is None else bias + b
    if bias is not None:
        out += bias
    return out


def _transposed(w):
    """``w.T`` as a C-contiguous copy, made once per sequence: the per-step ``h @ W_hh.T`` GEMM on a
    contiguous right-hand side took 55 us against 73 us on the transposed view (32x128 @ 128x512,
    float32, OpenBLAS, one thread)."""
    return np.ascontiguousarray(w.T)


def _steps(seq_len, reverse):
    return range(seq_len - 1, -1, -1) if reverse else range(seq_len)


def _prev(out, h0, t, reverse):
    """The state that step ``t`` started from."""
    if reverse:
        return h0 if t == out.shape[0] - 1 else out[t + 1]
    return h0 if t == 0 else out[t - 1]


def _hh_weight_grad(dg, h0, out, reverse):
    """``sum_t dg[t].T @ h_prev(t)`` in two GEMMs."""
    first = -1 if reverse else 0
    gw = dg[first].T @ h0
    if out.shape[0] > 1:
        rest, prevs = (dg[:-1], out[1:]) if reverse else (dg[1:], out[:-1])
        gw += rest.reshape(-1, dg.shape[2]).T @ prevs.reshape(-1, out.shape[2])
    return gw


def _grad_in(g, shape, dtype):
    return np.ascontiguousarray(g, dtype=dtype) if g is not None else np.zeros(shape, dtype)


def _input_grads(ctx, dxg, dhg, x, h0, out, w_ih, w_hh, reverse, state_grads):
    """Gradients of ``(x, states..., w_ih, w_hh, b_ih, b_hh)`` from the per-step gate gradients."""
    needs = ctx.needs_input_grad
    n_states = len(state_grads)
    seq_len, batch, n_in = x.shape
    flat = dxg.reshape(seq_len * batch, dxg.shape[2])
    gx = (flat @ w_ih).reshape(x.shape) if needs[0] else None
    gw_ih = flat.T @ x.reshape(seq_len * batch, n_in) if needs[1 + n_states] else None
    gw_hh = _hh_weight_grad(dhg, h0, out, reverse) if needs[2 + n_states] else None
    gb_ih = gb_hh = None
    if needs[3 + n_states] or (needs[4 + n_states] and dhg is dxg):
        gb_ih = flat.sum(axis=0)
    if needs[4 + n_states]:
        gb_hh = gb_ih.copy() if dhg is dxg else dhg.reshape(seq_len * batch, dhg.shape[2]).sum(axis=0)
    if not needs[3 + n_states]:
        gb_ih = None
    states = tuple(g if needs[1 + k] else None for k, g in enumerate(state_grads))
    return (gx,) + states + (gw_ih, gw_hh, gb_ih, gb_hh)


class LSTMSequence(Function):
    """One LSTM layer direction over a whole sequence: ``(output, h_n, c_n)``; BPTT in backward.

    Step ``t``: ``gates = x_t W_ih^T + b_ih + b_hh + h_{t-1} W_hh^T`` (the ``x`` part of all steps in one
    GEMM), ``c_t = f c_{t-1} + i g``, ``h_t = o tanh(c_t)``, and with a projection ``w_hr``
    (PyTorch's ``proj_size``) ``h_t = (o tanh(c_t)) W_hr^T``. Backward runs the steps in reverse
    (one ``dgates_t W_hh`` GEMM and one fused kernel per step); the weight gradients are sums over time,
    one GEMM each over all steps.
    """

    name = "lstm"
    once_differentiable = True

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, w_hr=None, reverse=False):
        seq_len, batch, _, hidden = _check_sequence("lstm", 4, x, [h0, c0], w_ih, w_hh, b_ih, b_hh,
                                                    w_hr)
        dtype = x.dtype
        h_size = hidden if w_hr is None else w_hr.shape[0]
        x = np.ascontiguousarray(x)
        h0, c0 = _state(h0, batch, h_size, dtype), _state(c0, batch, hidden, dtype)
        gates = _project(x, w_ih, b_ih, b_hh)    # the kernel turns it into the activated gates
        out = _work.empty((seq_len, batch, h_size), dtype)
        cs = _work.empty((seq_len, batch, hidden), dtype)
        tanh_c = _work.empty(cs.shape, dtype)
        # with a projection the kernel's h (o * tanh c) is kept for backward and projected per step
        h_raw = out if w_hr is None else _work.empty(cs.shape, dtype)
        hg = np.empty((batch, 4 * hidden), dtype)
        w_hh_t = _transposed(w_hh)
        h, c = h0, c0
        kernel = rnn_gates.lstm_forward_kernel
        w_hr_t = None if w_hr is None else _transposed(w_hr)
        for t in _steps(seq_len, reverse):
            np.matmul(h, w_hh_t, out=hg)
            kernel(gates[t], hg, c, h_raw[t], cs[t], tanh_c[t])
            if w_hr is not None:
                np.matmul(h_raw[t], w_hr_t, out=out[t])
            h, c = out[t], cs[t]
        ctx.save_for_backward(x, h0, c0, w_ih, w_hh, out, cs, gates, tanh_c, w_hr, h_raw)
        ctx.reverse = reverse
        return out, h.copy(), c.copy()

    @staticmethod
    def backward(ctx, g_out, g_hn, g_cn):
        x, h0, c0, w_ih, w_hh, out, cs, gates, tanh_c, w_hr, h_raw = ctx.saved_tensors
        reverse = ctx.reverse
        dtype = x.dtype
        g_out = _grad_in(g_out, out.shape, dtype)
        dh = _grad_in(g_hn, h0.shape, dtype).copy()
        dc = _grad_in(g_cn, c0.shape, dtype).copy()
        dc_next = np.empty_like(dc)
        dgates = _work.empty(gates.shape, dtype)
        kernel = rnn_gates.lstm_backward_kernel
        if w_hr is not None:
            g_proj = _work.empty(out.shape, dtype)         # gradient of each step's projected h
            g_raw = np.empty(cs.shape[1:], dtype)
            no_grad = np.zeros_like(g_raw)
        for t in _steps(out.shape[0], not reverse):
            c_prev = _prev(cs, c0, t, reverse)
            if w_hr is None:
                kernel(g_out[t], dh, dc, gates[t], c_prev, tanh_c[t], dgates[t], dc_next)
            else:
                np.add(g_out[t], dh, out=g_proj[t])
                np.matmul(g_proj[t], w_hr, out=g_raw)
                kernel(g_raw, no_grad, dc, gates[t], c_prev, tanh_c[t], dgates[t], dc_next)
            np.matmul(dgates[t], w_hh, out=dh)
            dc, dc_next = dc_next, dc
        grads = _input_grads(ctx, dgates, dgates, x, h0, out, w_ih, w_hh, reverse, (dh, dc))
        gw_hr = None
        if w_hr is not None and ctx.needs_input_grad[7]:
            n = out.shape[0] * out.shape[1]
            gw_hr = g_proj.reshape(n, out.shape[2]).T @ h_raw.reshape(n, h_raw.shape[2])
        return grads + (gw_hr,)


class GRUSequence(Function):
    """One GRU layer direction over a whole sequence: ``(output, h_n)``; BPTT in backward."""

    name = "gru"
    once_differentiable = True

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih=None, b_hh=None, reverse=False):
        seq_len, batch, _, hidden = _check_sequence("gru", 3, x, [h0] if h0 is not None else [],
                                                    w_ih, w_hh, b_ih, b_hh)
        dtype = x.dtype
        x = np.ascontiguousarray(x)
        h0 = _state(h0, batch, hidden, dtype)
        gates = _project(x, w_ih, b_ih)          # the kernel turns it into the activated gates
        out = _work.empty((seq_len, batch, hidden), dtype)
        hg_n = _work.empty(out.shape, dtype)
        hg = np.empty((batch, 3 * hidden), dtype)
        w_hh_t = _transposed(w_hh)
        h = h0
        kernel = rnn_gates.gru_forward_kernel
        for t in _steps(seq_len, reverse):
            np.matmul(h, w_hh_t, out=hg)
            if b_hh is not None:
                hg += b_hh
            kernel(gates[t], hg, h, out[t], hg_n[t])
            h = out[t]
        ctx.save_for_backward(x, h0, w_ih, w_hh, out, gates, hg_n)
        ctx.reverse = reverse
        return out, h.copy()

    @staticmethod
    def backward(ctx, g_out, g_hn):
        x, h0, w_ih, w_hh, out, gates, hg_n = ctx.saved_tensors
        reverse = ctx.reverse
        dtype = x.dtype
        g_out = _grad_in(g_out, out.shape, dtype)
        dh = _grad_in(g_hn, h0.shape, dtype).copy()
        direct = np.zeros_like(dh)
        direct_next = np.empty_like(dh)
        dxg = _work.empty(gates.shape, dtype)
        dhg = _work.empty(gates.shape, dtype)
        kernel = rnn_gates.gru_backward_kernel
        for t in _steps(out.shape[0], not reverse):
            kernel(g_out[t], dh, direct, gates[t], hg_n[t], _prev(out, h0, t, reverse), dxg[t], dhg[t],
                   direct_next)
            np.matmul(dhg[t], w_hh, out=dh)
            direct, direct_next = direct_next, direct
        dh += direct
        return _input_grads(ctx, dxg, dhg, x, h0, out, w_ih, w_hh, reverse, (dh,))


class RNNSequence(Function):
    """One Elman layer direction: ``h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)``, act tanh/relu."""

    name = "rnn"
    once_differentiable = True

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity="tanh", reverse=False):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"rnn: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        seq_len, batch, _, hidden = _check_sequence("rnn", 1, x, [h0] if h0 is not None else [],
                                                    w_ih, w_hh, b_ih, b_hh)
        x = np.ascontiguousarray(x)
        h0 = _state(h0, batch, hidden, x.dtype)
        out = _project(x, w_ih, b_ih, b_hh)      # filled in place with the states
        w_hh_t = _transposed(w_hh)
        h = h0
        for t in _steps(seq_len, reverse):
            a = out[t]
            a += h @ w_hh_t
            if nonlinearity == "tanh":
                np.tanh(a, out=a)
            else:
                np.maximum(a, 0, out=a)
            h = a
        ctx.save_for_backward(x, h0, w_ih, w_hh, out)
        ctx.reverse = reverse
        ctx.nonlinearity = nonlinearity
        return out, h.copy()

    @staticmethod
    def backward(ctx, g_out, g_hn):
        x, h0, w_ih, w_hh, out = ctx.saved_tensors
        reverse = ctx.reverse
        g_out = _grad_in(g_out, out.shape, x.dtype)
        dh = _grad_in(g_hn, h0.shape, x.dtype).copy()
        da = _work.empty(out.shape, x.dtype)
        for t in _steps(out.shape[0], not reverse):
            if ctx.nonlinearity == "tanh":
                np.multiply(g_out[t] + dh, 1 - out[t] * out[t], out=da[t])
            else:
                np.multiply(g_out[t] + dh, out[t] > 0, out=da[t])
            np.matmul(da[t], w_hh, out=dh)
        return _input_grads(ctx, da, da, x, h0, out, w_ih, w_hh, reverse, (dh,))


def lstm_sequence(x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, w_hr=None, reverse=False):
    """Functional form of :class:`LSTMSequence`: ``(output, h_n, c_n)`` Tensors.

    Shape:
        ``x`` ``(T, B, I)``, ``h0`` ``(B, P)``, ``c0`` ``(B, H)`` (None: zeros), ``w_hr`` ``(P, H)`` or None
        (then ``P = H``) -> ``output`` ``(T, B, P)``, ``h_n`` ``(B, P)``, ``c_n`` ``(B, H)``.
    """
    return LSTMSequence.apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, reverse=reverse)


def gru_sequence(x, h0, w_ih, w_hh, b_ih=None, b_hh=None, reverse=False):
    """Functional form of :class:`GRUSequence`: ``(output, h_n)`` Tensors."""
    return GRUSequence.apply(x, h0, w_ih, w_hh, b_ih, b_hh, reverse=reverse)


def rnn_sequence(x, h0, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity="tanh", reverse=False):
    """Functional form of :class:`RNNSequence`: ``(output, h_n)`` Tensors."""
    return RNNSequence.apply(x, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity=nonlinearity, reverse=reverse)
