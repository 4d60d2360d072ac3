"""Recurrent layers: Elman (RNN), LSTM and GRU cells and sequence layers, and a Jordan network.

PyTorch's API: the same parameter names (``weight_ih_l0``, ``bias_hh_l1_reverse``, ...), shapes, gate
orders (LSTM ``i, f, g, o``; GRU ``r, z, n`` with the reset gate applied to ``W_hn h + b_hn``) and
initialisation ``U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))``, so weights load from a PyTorch state
dict. A sequence layer records one graph node per layer and direction (``autodiff.ops.recurrent``,
reached through ``nn.functional``): the forward loops over time with a fused Numba gate kernel per step
and the backward is backpropagation through time, summing the shared weights' gradients over the steps.
Every LSTM runs the one LSTM op: with projections (``proj_size > 0``) it projects each step's ``h``, and
``LSTMCell`` is a sequence of one step.

Truncated BPTT is ``detach()`` of the carried state between chunks; see :func:`truncated_bptt_epoch`.
"""
import math

import numpy as np

import autodiff as ad

from .. import functional as F
from .. import init
from ..utils import clip_grad_norm_
from ..module import Module, Parameter

__all__ = ["RNNCell", "LSTMCell", "GRUCell", "RNN", "LSTM", "GRU", "JordanRNN", "truncated_bptt_epoch"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _zeros(shape, dtype):
    return ad.Tensor(np.zeros(shape, dtype))


def _check_size(layer, what, got, want):
    if tuple(got) != tuple(want):
        raise ValueError(f"{layer}: expected {what} of shape {tuple(want)}, got {tuple(got)}")


# --- cells ----------------------------------------------------------------------------------------

class _CellBase(Module):
    def __init__(self, input_size, hidden_size, bias, n_gates, dtype):
        super().__init__()
        if input_size <= 0 or hidden_size <= 0:
            raise ValueError(f"{type(self).__name__}: input_size and hidden_size must be positive, got "
                             f"({input_size}, {hidden_size})")
        self.input_size, self.hidden_size, self.bias = int(input_size), int(hidden_size), bool(bias)
        dtype = np.dtype(dtype or np.float32)
        g = n_gates * self.hidden_size
        self.weight_ih = Parameter(np.empty((g, self.input_size), dtype))
        self.weight_hh = Parameter(np.empty((g, self.hidden_size), dtype))
        if bias:
            self.bias_ih = Parameter(np.empty(g, dtype))
            self.bias_hh = Parameter(np.empty(g, dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Draw every parameter from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)) like PyTorch."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def _prepare(self, input, hx):
        """Make ``input`` 2-d (PyTorch accepts unbatched ``(input_size,)``) and check shapes."""
        name = type(self).__name__
        input = F._t(input)
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: expected input of shape (batch, {self.input_size}) or "
                             f"({self.input_size},), got {tuple(input.shape)}")
        batched = input.ndim == 2
        if not batched:
            input = input.unsqueeze(0)
        _check_size(name, "input", input.shape, (input.shape[0], self.input_size))
        n_states = 2 if isinstance(self, LSTMCell) else 1
        if n_states == 2 and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise ValueError(f"{name}: expected hx as a tuple (h, c), got {type(hx).__name__}")
        states = []
        for h in (tuple(hx) if n_states == 2 else (hx,)):
            if h is None:
                h = _zeros((input.shape[0], self.hidden_size), self.weight_ih.dtype)
            else:
                h = F._t(h)
                h = h if batched else h.unsqueeze(0)
                _check_size(name, "hidden state", h.shape, (input.shape[0], self.hidden_size))
            states.append(h)
        return input, states, batched

    def _gate_sums(self, input, h):
        return F.linear(input, self.weight_ih, self.bias_ih), F.linear(h, self.weight_hh, self.bias_hh)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        return s if self.bias else s + ", bias=False"


class RNNCell(_CellBase):
    """Elman cell: ``h' = act(W_ih x + b_ih + W_hh h + b_hh)``, ``act`` tanh or relu.

    Shape:
        input ``(B, input_size)`` or ``(input_size,)``, hx same batch ``(B, hidden_size)`` -> ``h'``.
    """

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: unknown nonlinearity {nonlinearity!r} (use 'tanh' or 'relu')")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, 1, dtype)

    def forward(self, input, hx=None):
        input, (h,), batched = self._prepare(input, hx)
        xg, hg = self._gate_sums(input, h)
        h = (xg + hg).tanh() if self.nonlinearity == "tanh" else (xg + hg).relu()
        return h if batched else h.squeeze(0)


class LSTMCell(_CellBase):
    """LSTM cell (gates i, f, g, o): one step of the LSTM sequence op; returns ``(h', c')``.

    Shape:
        input ``(B, input_size)``, hx ``(h, c)`` each ``(B, hidden_size)`` -> ``(h', c')``.
    """

    def __init__(self, input_size, hidden_size, bias=True, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, dtype)

    def forward(self, input, hx=None):
        input, (h, c), batched = self._prepare(input, hx if hx is not None else (None, None))
        _, h, c = F.lstm_sequence(input.unsqueeze(0), h, c, self.weight_ih, self.weight_hh, self.bias_ih,
                                  self.bias_hh)     # one step of the LSTM op
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(_CellBase):
    """GRU cell (gates r, z, n; ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``; fused kernel).

    Shape:
        input ``(B, input_size)``, hx ``(B, hidden_size)`` -> ``h'`` ``(B, hidden_size)``.
    """

    def __init__(self, input_size, hidden_size, bias=True, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, dtype)

    def forward(self, input, hx=None):
        input, (h,), batched = self._prepare(input, hx)
        h = F.gru_cell_step(*self._gate_sums(input, h), h)
        return h if batched else h.squeeze(0)


# --- sequence layers ------------------------------------------------------------------------------

class _RNNBase(Module):
    mode = None

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, dtype=None):
        super().__init__()
        name = type(self).__name__
        if input_size <= 0 or hidden_size <= 0 or num_layers <= 0:
            raise ValueError(f"{name}: input_size, hidden_size and num_layers must be positive, got "
                             f"({input_size}, {hidden_size}, {num_layers})")
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"{name}: dropout should be a number in range [0, 1], got {dropout}")
        self.input_size, self.hidden_size, self.num_layers = int(input_size), int(hidden_size), int(num_layers)
        self.bias, self.batch_first, self.dropout = bool(bias), bool(batch_first), float(dropout)
        self.bidirectional = bool(bidirectional)
        dtype = np.dtype(dtype or np.float32)
        g = _GATES[self.mode] * self.hidden_size
        directions = 2 if self.bidirectional else 1
        proj = self._proj()
        h_out = proj or self.hidden_size            # size of h (LSTM with projections: proj_size)
        for layer in range(self.num_layers):
            n_in = self.input_size if layer == 0 else h_out * directions
            for sfx in ("", "_reverse")[:directions]:
                setattr(self, f"weight_ih_l{layer}{sfx}", Parameter(np.empty((g, n_in), dtype)))
                setattr(self, f"weight_hh_l{layer}{sfx}", Parameter(np.empty((g, h_out), dtype)))
                if self.bias:
                    setattr(self, f"bias_ih_l{layer}{sfx}", Parameter(np.empty(g, dtype)))
                    setattr(self, f"bias_hh_l{layer}{sfx}", Parameter(np.empty(g, dtype)))
                if proj:
                    setattr(self, f"weight_hr_l{layer}{sfx}",
                            Parameter(np.empty((proj, self.hidden_size), dtype)))
        self.reset_parameters()

    def _proj(self):
        """``proj_size`` of an LSTM with projections, else 0."""
        return getattr(self, "proj_size", 0)

    def reset_parameters(self):
        """Draw every parameter from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)) like PyTorch."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def flatten_parameters(self):
        """Accepted for PyTorch compatibility; parameters are always ready to use."""

    def _weights(self, layer, sfx):
        names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh") if self.bias else ("weight_ih", "weight_hh")
        ws = [getattr(self, f"{n}_l{layer}{sfx}") for n in names]
        ws += [None] * (4 - len(ws))
        return ws + [getattr(self, f"weight_hr_l{layer}{sfx}")] if self._proj() else ws

    def _run_direction(self, x, states, weights, reverse):
        """One layer direction over the whole sequence: ``(output, *final_states)``."""
        if self.mode == "LSTM":
            return F.lstm_sequence(x, states[0], states[1], *weights, reverse=reverse)
        if self.mode == "GRU":
            return F.gru_sequence(x, states[0], *weights, reverse=reverse)
        return F.rnn_sequence(x, states[0], *weights, nonlinearity=self.nonlinearity, reverse=reverse)

    def forward(self, input, hx=None):
        name = type(self).__name__
        input = F._t(input)
        if input.ndim not in (2, 3):
            raise ValueError(f"{name}: expected a 2-d (unbatched) or 3-d input, got shape {tuple(input.shape)}")
        batched = input.ndim == 3
        x = input if batched else input.unsqueeze(1)
        if batched and self.batch_first:
            x = x.swapaxes(0, 1)
        if x.shape[2] != self.input_size:
            raise ValueError(f"{name}: input.size(-1) must be equal to input_size. Expected "
                             f"{self.input_size}, got {x.shape[2]}")
        if x.shape[0] == 0:
            raise ValueError(f"{name}: expected sequence length to be larger than 0, got input of shape "
                             f"{tuple(input.shape)}")
        w_dtype = self.weight_ih_l0.dtype
        if x.dtype not in (np.float32, np.float64) or x.dtype != w_dtype:
            raise ValueError(f"{name}: input has dtype {x.dtype} but the weights have {w_dtype} "
                             f"(float32 or float64 expected)")
        n_states = 2 if self.mode == "LSTM" else 1
        directions = 2 if self.bidirectional else 1
        want = (self.num_layers * directions, x.shape[1], self.hidden_size)
        wants = [(want[:2] + (self._proj() or self.hidden_size,), "hidden state"), (want, "cell state")]
        init_states = [None] * n_states
        if hx is not None:
            hx = tuple(hx) if n_states == 2 else (hx,)
            if len(hx) != n_states:
                raise ValueError(f"{name}: expected the initial state as (h_0, c_0), got {len(hx)} tensors")
            init_states = []
            for h, (shape, what) in zip(hx, wants):
                h = F._t(h)
                h = h if batched else h.unsqueeze(1)
                _check_size(name, what, h.shape, shape)
                init_states.append(h)
        finals = [[] for _ in range(n_states)]
        for layer in range(self.num_layers):
            outs = []
            for d, sfx in enumerate(("", "_reverse")[:directions]):
                k = layer * directions + d
                states = [s[k] if s is not None else None for s in init_states]
                out, *last = self._run_direction(x, states, self._weights(layer, sfx), d == 1)
                outs.append(out)
                for f, s in zip(finals, last):
                    f.append(s)
            x = outs[0] if directions == 1 else ad.concatenate(outs, axis=2)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        finals = [ad.stack(f, axis=0) for f in finals]
        if not batched:
            x = x.squeeze(1)
            finals = [f.squeeze(1) for f in finals]
        elif self.batch_first:
            x = x.swapaxes(0, 1)
        return x, (tuple(finals) if n_states == 2 else finals[0])

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self._proj():
            s += f", proj_size={self._proj()}"
        for key, default in (("num_layers", 1), ("bias", True), ("batch_first", False), ("dropout", 0.0),
                             ("bidirectional", False)):
            if getattr(self, key) != default:
                s += f", {key}={getattr(self, key)}"
        return s


class RNN(_RNNBase):
    """Multi-layer Elman network ``h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)``.

    Args:
        input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional: as PyTorch.
        nonlinearity: ``'tanh'`` (default) or ``'relu'``.

    Shape:
        input ``(T, B, input_size)`` (``(B, T, input_size)`` with ``batch_first``), h_0
        ``(num_layers * D, B, hidden_size)`` -> ``(output (T, B, D * hidden_size), h_n)``; D = 2 if
        bidirectional else 1.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: unknown nonlinearity {nonlinearity!r} (use 'tanh' or 'relu')")
        self.mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, dtype)


class LSTM(_RNNBase):
    """Multi-layer LSTM (gates i, f, g, o); returns ``(output, (h_n, c_n))``.

    Args:
        input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional: as PyTorch.
        proj_size: PyTorch's LSTM with projections when ``> 0`` (must be ``< hidden_size``): each layer
            direction gets ``weight_hr_l{k}`` ``(proj_size, hidden_size)`` and its hidden state is
            ``h_t = W_hr (o_t * tanh(c_t))``; ``weight_hh_l{k}`` is then ``(4 * hidden_size, proj_size)``
            and layers after the first take ``D * proj_size`` inputs. Both run the same fused op, one
            graph node per layer direction (once differentiable, as the plain LSTM).

    Shape:
        input ``(T, B, input_size)`` (``(B, T, input_size)`` with ``batch_first``; ``(T, input_size)``
        unbatched), ``h_0`` ``(num_layers * D, B, H_out)``, ``c_0`` ``(num_layers * D, B, hidden_size)`` ->
        output ``(T, B, D * H_out)``, ``h_n`` ``(num_layers * D, B, H_out)``, ``c_n``
        ``(num_layers * D, B, hidden_size)``; D = 2 if bidirectional else 1, H_out = proj_size if
        proj_size > 0 else hidden_size.
    """

    mode = "LSTM"

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, dtype=None):
        if isinstance(proj_size, bool) or not isinstance(proj_size, (int, np.integer)):
            raise TypeError(f"LSTM: proj_size must be an integer, got {proj_size!r}")
        if proj_size < 0:
            raise ValueError(f"LSTM: proj_size should be a positive integer or zero to disable projections, "
                             f"got {proj_size}")
        if proj_size and hidden_size > 0 and proj_size >= hidden_size:
            raise ValueError(f"LSTM: proj_size has to be smaller than hidden_size, got proj_size={proj_size} "
                             f"and hidden_size={hidden_size}")
        self.proj_size = int(proj_size)
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, dtype)


class GRU(_RNNBase):
    """Multi-layer GRU (gates r, z, n, PyTorch's reset-gate placement); returns ``(output, h_n)``.

    Shape:
        input ``(T, B, input_size)`` (``(B, T, input_size)`` with ``batch_first``), h_0
        ``(num_layers * D, B, hidden_size)`` -> output ``(T, B, D * hidden_size)``, ``h_n``.
    """

    mode = "GRU"


# --- Jordan network and truncated BPTT --------------------------------------------------------------

class JordanRNN(Module):
    """Jordan network: the previous *output* (not the hidden state, as in Elman's) is fed back.

    ``h_t = act(W_ih x_t + b_ih + W_yh y_{t-1})``, ``y_t = out_act(W_hy h_t + b_hy)``, ``y_0`` zeros by
    default. Built from Tensor ops one step at a time, so autodiff unrolls it and BPTT is ordinary
    backward.

    Args:
        input_size, hidden_size, output_size: layer sizes.
        nonlinearity: hidden activation, ``'tanh'`` (default) or ``'relu'``.
        output_activation: ``None`` (linear output, default), ``'tanh'`` or ``'sigmoid'``.
        batch_first: input and output as ``(B, T, *)``.

    Shape:
        input ``(T, B, input_size)``, y0 ``(B, output_size)`` -> ``(output (T, B, output_size), y_T)``.
    """

    def __init__(self, input_size, hidden_size, output_size, nonlinearity="tanh", output_activation=None,
                 batch_first=False, dtype=None):
        super().__init__()
        if nonlinearity not in ("tanh", "relu") or output_activation not in (None, "tanh", "sigmoid"):
            raise ValueError(f"JordanRNN: nonlinearity must be 'tanh'/'relu' and output_activation "
                             f"None/'tanh'/'sigmoid', got {nonlinearity!r}, {output_activation!r}")
        self.input_size, self.hidden_size, self.output_size = int(input_size), int(hidden_size), int(output_size)
        self.nonlinearity, self.output_activation, self.batch_first = nonlinearity, output_activation, batch_first
        dtype = np.dtype(dtype or np.float32)
        self.weight_ih = Parameter(np.empty((self.hidden_size, self.input_size), dtype))
        self.bias_ih = Parameter(np.empty(self.hidden_size, dtype))
        self.weight_yh = Parameter(np.empty((self.hidden_size, self.output_size), dtype))
        self.weight_hy = Parameter(np.empty((self.output_size, self.hidden_size), dtype))
        self.bias_hy = Parameter(np.empty(self.output_size, dtype))
        self.reset_parameters()

    def reset_parameters(self):
        """U(-1/sqrt(fan_in), 1/sqrt(fan_in)) per layer (fan_in of the hidden layer: inputs + outputs)."""
        b_h = 1.0 / math.sqrt(self.input_size + self.output_size)
        for p in (self.weight_ih, self.bias_ih, self.weight_yh):
            init.uniform_(p, -b_h, b_h)
        b_y = 1.0 / math.sqrt(self.hidden_size)
        for p in (self.weight_hy, self.bias_hy):
            init.uniform_(p, -b_y, b_y)

    def forward(self, input, y0=None):
        x = F._t(input)
        if x.ndim != 3 or x.shape[2] != self.input_size:
            raise ValueError(f"JordanRNN: expected input of shape (seq_len, batch, {self.input_size}), "
                             f"got {tuple(x.shape)}")
        if self.batch_first:
            x = x.swapaxes(0, 1)
        xp = F.linear(x, self.weight_ih, self.bias_ih)          # all time steps in one GEMM
        y = _zeros((x.shape[1], self.output_size), self.weight_ih.dtype) if y0 is None else F._t(y0)
        _check_size("JordanRNN", "y0", y.shape, (x.shape[1], self.output_size))
        outs = []
        for t in range(x.shape[0]):
            a = xp[t] + F.linear(y, self.weight_yh)
            h = a.tanh() if self.nonlinearity == "tanh" else a.relu()
            y = F.linear(h, self.weight_hy, self.bias_hy)
            if self.output_activation == "tanh":
                y = y.tanh()
            elif self.output_activation == "sigmoid":
                y = y.sigmoid()
            outs.append(y)
        out = ad.stack(outs, axis=0)
        return (out.swapaxes(0, 1) if self.batch_first else out), y


def _detach_state(state):
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(_detach_state(s) for s in state)
    return state.detach()


def truncated_bptt_epoch(model, head, inputs, targets, chunk_len, optimizer, loss_fn, max_norm=None,
                         state=None):
    """One pass over a long sequence with truncated backpropagation through time and clipping.

    The sequence is cut into chunks of ``chunk_len`` steps. Each chunk runs forward from the state the
    previous chunk ended in, then backward, optional gradient-norm clipping and an optimizer step; then the
    carried state is ``detach()``-ed, so the next chunk's backward stops at the chunk boundary (the state's
    values flow on, its gradient does not).

    Example (next value of a sine wave, 2000 steps in chunks of 50; the mean loss falls from about
    0.09 to 1e-4 in three epochs, about a second)::

        t = np.arange(2001, dtype=np.float32) * 0.1
        x, y = np.sin(t[:-1]).reshape(-1, 1, 1), np.sin(t[1:]).reshape(-1, 1, 1)   # (T, B=1, 1)
        lstm, head = nn.LSTM(1, 32), nn.Linear(32, 1)
        opt = nn.optim.Adam(list(lstm.parameters()) + list(head.parameters()), lr=0.01)
        for epoch in range(5):
            losses, norms, _ = truncated_bptt_epoch(lstm, head, x, y, chunk_len=50, optimizer=opt,
                                                    loss_fn=nn.functional.mse_loss, max_norm=1.0)

    Args:
        model: a sequence layer called as ``model(chunk, state) -> (output, state)`` (``RNN``/``LSTM``/
            ``GRU``/``JordanRNN``), time-major unless the model is ``batch_first``.
        head: module applied to the model's output (e.g. ``Linear``) before the loss.
        inputs, targets: arrays or Tensors whose first axis is time (second with ``batch_first``).
        chunk_len: steps per chunk. optimizer: has ``zero_grad()`` and ``step()``.
        loss_fn: ``loss_fn(prediction, target) -> scalar Tensor``.
        max_norm: clip the gradient norm of the model's and head's parameters to this (``None``: no clip).
        state: initial carried state (``None``: zeros).

    Returns:
        ``(losses, grad_norms, state)``: loss and pre-clipping gradient norm per chunk, final state.
    """
    axis = 1 if getattr(model, "batch_first", False) else 0
    inputs, targets = F._t(inputs), F._t(targets)
    params = list(model.parameters()) + list(head.parameters())
    losses, norms = [], []
    for start in range(0, inputs.shape[axis], chunk_len):
        idx = (slice(None),) * axis + (slice(start, start + chunk_len),)
        out, state = model(inputs[idx], state)
        loss = loss_fn(head(out), targets[idx])
        optimizer.zero_grad()
        loss.backward()
        norm = float(clip_grad_norm_(params, math.inf if max_norm is None else max_norm).item())
        optimizer.step()
        state = _detach_state(state)
        losses.append(float(loss.item()))
        norms.append(norm)
    return losses, norms, state
