"""Fused gate arithmetic of one LSTM / GRU time step, forward and backward, one Numba kernel each.

The matrix products (``x @ W_ih.T``, ``h @ W_hh.T``) stay BLAS GEMMs done by the caller; these kernels do
everything elementwise between them in a single pass over ``(B, H)`` instead of a dozen numpy passes.
Gate orders follow PyTorch: LSTM ``(i, f, g, o)``, GRU ``(r, z, n)``, each a block of ``H`` columns.

Each kernel comes twice: the raw ``*_kernel`` (all outputs preallocated, no checks: the sequence ops
call it once per time step) and a plain Python wrapper that validates and allocates. Slow numpy twins
live in ``reference_rnn.py``.

Shape:
    ``xg``, ``hg``, ``gates``, ``dgates``: ``(B, 4H)`` for LSTM, ``(B, 3H)`` for GRU; states ``(B, H)``.
    All arrays C-contiguous and of one float dtype.
"""
import numpy as np

from .jit import njit_serial
from .vmath import vsigmoid as _sigmoid
from .vmath import vtanh as _tanh

# The kernels loop over batch rows and, inside a row, run short loops from index 0 over 1-d views of one
# gate block each: LLVM vectorises such loops (the runtime overlap checks stay few), which a single loop
# touching every array at once, or one starting at an offset, defeats.

@njit_serial
def lstm_forward_kernel(gates, hg, c_prev, h_out, c_out, tanh_c_out):
    """``a = xg + hg``; ``c = f*c_prev + i*g``; ``h = o*tanh(c)``.

    ``gates`` holds ``xg`` on entry and the activated gates on exit (in place: no extra array per step).
    """
    batch, hidden = c_prev.shape
    for b in range(batch):
        hr, gr = hg[b], gates[b]
        for k in range(2 * hidden):
            gr[k] = _sigmoid(gr[k] + hr[k])
        i, f, g, o = gr[:hidden], gr[hidden:2 * hidden], gr[2 * hidden:3 * hidden], gr[3 * hidden:]
        hs = hr[2 * hidden:3 * hidden]
        for j in range(hidden):
            g[j] = _tanh(g[j] + hs[j])
        hs = hr[3 * hidden:]
        for j in range(hidden):
            o[j] = _sigmoid(o[j] + hs[j])
        cp, co, tco, ho = c_prev[b], c_out[b], tanh_c_out[b], h_out[b]
        for j in range(hidden):
            co[j] = f[j] * cp[j] + i[j] * g[j]
        for j in range(hidden):
            tco[j] = _tanh(co[j])
        for j in range(hidden):
            ho[j] = o[j] * tco[j]


@njit_serial
def lstm_backward_kernel(dh_a, dh_b, dc, gates, c_prev, tanh_c, dgates_out, dc_prev_out):
    """Gradient w.r.t. the pre-activation sums and ``c_prev``; ``dh = dh_a + dh_b``.

    ``dc_prev_out`` may be the same array as ``dc`` (each element is read before it is written).
    """
    batch, hidden = c_prev.shape
    for b in range(batch):
        gr, dr = gates[b], dgates_out[b]
        i, f, g, o = gr[:hidden], gr[hidden:2 * hidden], gr[2 * hidden:3 * hidden], gr[3 * hidden:]
        di, df, dg, do = dr[:hidden], dr[hidden:2 * hidden], dr[2 * hidden:3 * hidden], dr[3 * hidden:]
        ha, hb, dcr, cp, tc, dcp = dh_a[b], dh_b[b], dc[b], c_prev[b], tanh_c[b], dc_prev_out[b]
        for j in range(hidden):
            dh = ha[j] + hb[j]
            do[j] = dh * tc[j] * o[j] * (1.0 - o[j])
            dcp[j] = dcr[j] + dh * o[j] * (1.0 - tc[j] * tc[j])     # total dc, finished below
        for j in range(hidden):
            dct = dcp[j]
            di[j] = dct * g[j] * i[j] * (1.0 - i[j])
            df[j] = dct * cp[j] * f[j] * (1.0 - f[j])
            dg[j] = dct * i[j] * (1.0 - g[j] * g[j])
            dcp[j] = dct * f[j]


@njit_serial
def gru_forward_kernel(gates, hg, h_prev, h_out, hg_n_out):
    """``r, z = sigmoid(xg + hg)``; ``n = tanh(xg_n + r*hg_n)``; ``h = (1-z)*n + z*h_prev``.

    ``gates`` holds ``xg`` on entry and the activated ``(r, z, n)`` on exit (in place).
    """
    batch, hidden = h_prev.shape
    for b in range(batch):
        hr, gr = hg[b], gates[b]
        for k in range(2 * hidden):
            gr[k] = _sigmoid(gr[k] + hr[k])
        r, z, n = gr[:hidden], gr[hidden:2 * hidden], gr[2 * hidden:]
        hn, hno = hr[2 * hidden:], hg_n_out[b]
        for j in range(hidden):
            hno[j] = hn[j]
        for j in range(hidden):
            n[j] = _tanh(n[j] + r[j] * hno[j])
        hp, ho = h_prev[b], h_out[b]
        for j in range(hidden):
            ho[j] = (1.0 - z[j]) * n[j] + z[j] * hp[j]


@njit_serial
def gru_backward_kernel(dh_a, dh_b, dh_c, gates, hg_n, h_prev, dxg_out, dhg_out, dh_direct_out):
    """Gradients w.r.t. ``xg``, ``hg`` and the direct ``z * dh`` part of ``h_prev``'s; ``dh = a+b+c``.

    ``dh_direct_out`` may be the same array as ``dh_c``.
    """
    batch, hidden = h_prev.shape
    for b in range(batch):
        gr, xr, hr = gates[b], dxg_out[b], dhg_out[b]
        r, z, n = gr[:hidden], gr[hidden:2 * hidden], gr[2 * hidden:]
        dxr, dxz, dxn = xr[:hidden], xr[hidden:2 * hidden], xr[2 * hidden:]
        dhr, dhz, dhn = hr[:hidden], hr[hidden:2 * hidden], hr[2 * hidden:]
        ha, hb, hc, hgn, hp, dd = dh_a[b], dh_b[b], dh_c[b], hg_n[b], h_prev[b], dh_direct_out[b]
        for j in range(hidden):
            dh = ha[j] + hb[j] + hc[j]
            dxn[j] = dh * (1.0 - z[j]) * (1.0 - n[j] * n[j])
            dxz[j] = dh * (hp[j] - n[j]) * z[j] * (1.0 - z[j])
            dd[j] = dh * z[j]
        for j in range(hidden):
            dr = dxn[j] * hgn[j] * r[j] * (1.0 - r[j])
            dxr[j] = dr
            dhr[j] = dr
            dhz[j] = dxz[j]
            dhn[j] = dxn[j] * r[j]


# --- validating wrappers -------------------------------------------------------------------------

def _check(op, n_gates, state, gate_arrays, state_arrays=()):
    """Validate the state ``(B, H)`` and the named ``(B, n_gates*H)`` / ``(B, H)`` arrays.

    Returns the arrays (state first, then gate arrays, then state arrays) as C-contiguous ndarrays.
    """
    state = np.asarray(state)
    if state.ndim != 2:
        raise ValueError(f"{op}: state must be 2-d (batch, hidden), got shape {tuple(state.shape)}")
    if state.dtype not in (np.float32, np.float64):
        raise ValueError(f"{op}: expected float32 or float64 arrays, got {state.dtype}")
    batch, hidden = state.shape
    out = [np.ascontiguousarray(state)]
    for items, want in ((gate_arrays, (batch, n_gates * hidden)), (state_arrays, (batch, hidden))):
        for name, arr in items:
            arr = np.asarray(arr)
            if arr.shape != want:
                raise ValueError(f"{op}: {name} has shape {tuple(arr.shape)}, expected {want} for a "
                                 f"state of shape {(batch, hidden)}")
            if arr.dtype != state.dtype:
                raise ValueError(f"{op}: {name} has dtype {arr.dtype}, the state has {state.dtype}")
            out.append(np.ascontiguousarray(arr))
    return out


def lstm_step_forward(xg, hg, c_prev):
    """Fused LSTM step; see :func:`autodiff.kernels.reference_rnn.lstm_step_forward`.

    Returns:
        ``(h, c, gates, tanh_c)``.
    """
    c_prev, xg, hg = _check("lstm_step_forward", 4, c_prev, (("xg", xg), ("hg", hg)))
    h, c, tanh_c = (np.empty_like(c_prev) for _ in range(3))
    gates = xg.copy()
    lstm_forward_kernel(gates, hg, c_prev, h, c, tanh_c)
    return h, c, gates, tanh_c


def lstm_step_backward(dh, dc, gates, c_prev, tanh_c):
    """Fused LSTM step backward. Returns ``(dgates, dc_prev)``."""
    c_prev, gates, dh, dc, tanh_c = _check("lstm_step_backward", 4, c_prev, (("gates", gates),),
                                           (("dh", dh), ("dc", dc), ("tanh_c", tanh_c)))
    dgates = np.empty_like(gates)
    dc_prev = np.empty_like(c_prev)
    lstm_backward_kernel(dh, np.zeros_like(dh), dc, gates, c_prev, tanh_c, dgates, dc_prev)
    return dgates, dc_prev


def gru_step_forward(xg, hg, h_prev):
    """Fused GRU step; see :func:`autodiff.kernels.reference_rnn.gru_step_forward`.

    Returns:
        ``(h, gates, hg_n)``.
    """
    h_prev, xg, hg = _check("gru_step_forward", 3, h_prev, (("xg", xg), ("hg", hg)))
    h = np.empty_like(h_prev)
    hg_n = np.empty_like(h_prev)
    gates = xg.copy()
    gru_forward_kernel(gates, hg, h_prev, h, hg_n)
    return h, gates, hg_n


def gru_step_backward(dh, gates, hg_n, h_prev):
    """Fused GRU step backward. Returns ``(dxg, dhg, dh_prev_direct)``."""
    h_prev, gates, dh, hg_n = _check("gru_step_backward", 3, h_prev, (("gates", gates),),
                                     (("dh", dh), ("hg_n", hg_n)))
    dxg = np.empty_like(gates)
    dhg = np.empty_like(gates)
    direct = np.empty_like(h_prev)
    zero = np.zeros_like(dh)
    gru_backward_kernel(dh, zero, zero, gates, hg_n, h_prev, dxg, dhg, direct)
    return dxg, dhg, direct
