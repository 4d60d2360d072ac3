"""Slow, obvious numpy versions of the fused recurrent gate kernels in ``rnn_gates.py``.

The tests run each Numba kernel and its reference here on the same random inputs. Gate orders follow
PyTorch: LSTM ``(i, f, g, o)`` and GRU ``(r, z, n)`` in blocks of ``H`` columns.

Shape:
    ``B`` batch, ``H`` hidden size; ``xg``/``hg`` are ``(B, 4H)`` (LSTM) or ``(B, 3H)`` (GRU),
    states are ``(B, H)``.
"""
import numpy as np

from .activation import sigmoid  # the one logistic function on arrays


def lstm_step_forward(xg, hg, c_prev):
    """One LSTM step from the pre-activation gate sums.

    ``a = xg + hg``; ``i, f, o = sigmoid(a_i, a_f, a_o)``, ``g = tanh(a_g)``; ``c = f*c_prev + i*g``;
    ``h = o * tanh(c)``.

    Returns:
        ``(h, c, gates, tanh_c)`` where ``gates`` holds the activated ``(i, f, g, o)``, ``(B, 4H)``.
    """
    hidden = c_prev.shape[1]
    a = xg + hg
    i = sigmoid(a[:, :hidden])
    f = sigmoid(a[:, hidden:2 * hidden])
    g = np.tanh(a[:, 2 * hidden:3 * hidden])
    o = sigmoid(a[:, 3 * hidden:])
    c = f * c_prev + i * g
    tanh_c = np.tanh(c)
    h = o * tanh_c
    return h, c, np.concatenate([i, f, g, o], axis=1), tanh_c


def lstm_step_backward(dh, dc, gates, c_prev, tanh_c):
    """Backward of :func:`lstm_step_forward`.

    Args:
        dh: gradient arriving at ``h`` (from the output and from the next step), ``(B, H)``.
        dc: gradient arriving at ``c`` from the next step, ``(B, H)``.
        gates, c_prev, tanh_c: as saved by the forward.

    Returns:
        ``(dgates, dc_prev)``: gradient w.r.t. the pre-activation sums ``(B, 4H)`` and ``c_prev``.
    """
    hidden = c_prev.shape[1]
    i = gates[:, :hidden]
    f = gates[:, hidden:2 * hidden]
    g = gates[:, 2 * hidden:3 * hidden]
    o = gates[:, 3 * hidden:]
    dc_total = dc + dh * o * (1 - tanh_c ** 2)
    d_i = dc_total * g * i * (1 - i)
    d_f = dc_total * c_prev * f * (1 - f)
    d_g = dc_total * i * (1 - g ** 2)
    d_o = dh * tanh_c * o * (1 - o)
    return np.concatenate([d_i, d_f, d_g, d_o], axis=1), dc_total * f


def gru_step_forward(xg, hg, h_prev):
    """One GRU step (PyTorch's placement of the reset gate).

    ``r = sigmoid(xg_r + hg_r)``, ``z = sigmoid(xg_z + hg_z)``, ``n = tanh(xg_n + r * hg_n)``,
    ``h = (1 - z) * n + z * h_prev``; ``xg = W_ih x + b_ih`` and ``hg = W_hh h_prev + b_hh`` separately.

    Returns:
        ``(h, gates, hg_n)``: new state, activated ``(r, z, n)`` ``(B, 3H)`` and ``hg_n`` ``(B, H)``.
    """
    hidden = h_prev.shape[1]
    r = sigmoid(xg[:, :hidden] + hg[:, :hidden])
    z = sigmoid(xg[:, hidden:2 * hidden] + hg[:, hidden:2 * hidden])
    hg_n = hg[:, 2 * hidden:]
    n = np.tanh(xg[:, 2 * hidden:] + r * hg_n)
    h = (1 - z) * n + z * h_prev
    return h, np.concatenate([r, z, n], axis=1), hg_n.copy()


def gru_step_backward(dh, gates, hg_n, h_prev):
    """Backward of :func:`gru_step_forward`.

    Returns:
        ``(dxg, dhg, dh_prev_direct)``: gradients w.r.t. ``xg`` and ``hg`` ``(B, 3H)`` and the part of
        the ``h_prev`` gradient that does not pass through ``hg`` (``z * dh``), ``(B, H)``.
    """
    hidden = h_prev.shape[1]
    r = gates[:, :hidden]
    z = gates[:, hidden:2 * hidden]
    n = gates[:, 2 * hidden:]
    dn_pre = dh * (1 - z) * (1 - n ** 2)
    dz_pre = dh * (h_prev - n) * z * (1 - z)
    dr_pre = dn_pre * hg_n * r * (1 - r)
    dxg = np.concatenate([dr_pre, dz_pre, dn_pre], axis=1)
    dhg = np.concatenate([dr_pre, dz_pre, dn_pre * r], axis=1)
    return dxg, dhg, dh * z
