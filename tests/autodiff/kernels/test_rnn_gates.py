"""Fused LSTM/GRU gate kernels against their numpy references and against finite differences."""
import numpy as np
from scipy import special as scipy_special
import pytest

from autodiff.kernels import reference_rnn as ref
from autodiff.kernels import rnn_gates

SHAPES = [(1, 1), (3, 5), (4, 17)]
DTYPES = [np.float32, np.float64]


def _tol(dtype):
    return dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-13)


def _lstm_inputs(rng, batch, hidden, dtype, scale=1.5):
    xg = (rng.standard_normal((batch, 4 * hidden)) * scale).astype(dtype)
    hg = (rng.standard_normal((batch, 4 * hidden)) * scale).astype(dtype)
    c_prev = rng.standard_normal((batch, hidden)).astype(dtype)
    return xg, hg, c_prev


def _gru_inputs(rng, batch, hidden, dtype, scale=1.5):
    xg = (rng.standard_normal((batch, 3 * hidden)) * scale).astype(dtype)
    hg = (rng.standard_normal((batch, 3 * hidden)) * scale).astype(dtype)
    h_prev = rng.standard_normal((batch, hidden)).astype(dtype)
    return xg, hg, h_prev


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_lstm_kernels_match_reference(shape, dtype):
    rng = np.random.default_rng(0)
    batch, hidden = shape
    xg, hg, c_prev = _lstm_inputs(rng, batch, hidden, dtype)
    got = rnn_gates.lstm_step_forward(xg, hg, c_prev)
    want = ref.lstm_step_forward(xg, hg, c_prev)
    for g, w in zip(got, want):
        assert g.dtype == dtype and g.shape == w.shape
        np.testing.assert_allclose(g, w, **_tol(dtype))
    _, _, gates, tanh_c = want
    dh = rng.standard_normal((batch, hidden)).astype(dtype)
    dc = rng.standard_normal((batch, hidden)).astype(dtype)
    got = rnn_gates.lstm_step_backward(dh, dc, gates, c_prev, tanh_c)
    want = ref.lstm_step_backward(dh, dc, gates, c_prev, tanh_c)
    for g, w in zip(got, want):
        assert g.dtype == dtype and g.shape == w.shape
        np.testing.assert_allclose(g, w, **_tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_gru_kernels_match_reference(shape, dtype):
    rng = np.random.default_rng(1)
    batch, hidden = shape
    xg, hg, h_prev = _gru_inputs(rng, batch, hidden, dtype)
    got = rnn_gates.gru_step_forward(xg, hg, h_prev)
    want = ref.gru_step_forward(xg, hg, h_prev)
    for g, w in zip(got, want):
        assert g.dtype == dtype and g.shape == w.shape
        np.testing.assert_allclose(g, w, **_tol(dtype))
    _, gates, hg_n = want
    dh = rng.standard_normal((batch, hidden)).astype(dtype)
    got = rnn_gates.gru_step_backward(dh, gates, hg_n, h_prev)
    want = ref.gru_step_backward(dh, gates, hg_n, h_prev)
    for g, w in zip(got, want):
        assert g.dtype == dtype and g.shape == w.shape
        np.testing.assert_allclose(g, w, **_tol(dtype))


def test_raw_backward_kernels_sum_their_gradient_inputs_and_allow_aliasing():
    rng = np.random.default_rng(2)
    batch, hidden = 3, 4
    xg, hg, c_prev = _lstm_inputs(rng, batch, hidden, np.float64)
    _, _, gates, tanh_c = ref.lstm_step_forward(xg, hg, c_prev)
    dh_a, dh_b, dc = (rng.standard_normal((batch, hidden)) for _ in range(3))
    want_dg, want_dc = ref.lstm_step_backward(dh_a + dh_b, dc, gates, c_prev, tanh_c)
    dgates = np.empty_like(gates)
    dc_inplace = dc.copy()
    rnn_gates.lstm_backward_kernel(dh_a, dh_b, dc_inplace, gates, c_prev, tanh_c, dgates, dc_inplace)
    np.testing.assert_allclose(dgates, want_dg, rtol=1e-12)
    np.testing.assert_allclose(dc_inplace, want_dc, rtol=1e-12)

    xg, hg, h_prev = _gru_inputs(rng, batch, hidden, np.float64)
    _, gates, hg_n = ref.gru_step_forward(xg, hg, h_prev)
    dh_c = rng.standard_normal((batch, hidden))
    want = ref.gru_step_backward(dh_a + dh_b + dh_c, gates, hg_n, h_prev)
    outs = (np.empty_like(gates), np.empty_like(gates), np.empty_like(h_prev))
    rnn_gates.gru_backward_kernel(dh_a, dh_b, dh_c, gates, hg_n, h_prev, *outs)
    for g, w in zip(outs, want):
        np.testing.assert_allclose(g, w, rtol=1e-12)


def test_saturated_gates_stay_finite():
    xg = np.array([[800.0, -800.0, 800.0, -800.0]], np.float32)
    hg = np.zeros_like(xg)
    c_prev = np.ones((1, 1), np.float32)
    h, c, gates, _ = rnn_gates.lstm_step_forward(xg, hg, c_prev)
    np.testing.assert_array_equal(gates, [[1.0, 0.0, 1.0, 0.0]])
    np.testing.assert_array_equal(c, [[1.0]])
    np.testing.assert_array_equal(h, [[0.0]])
    h, gates, _ = rnn_gates.gru_step_forward(xg[:, :3], hg[:, :3], c_prev)
    assert np.all(np.isfinite(gates)) and np.all(np.isfinite(h))


def _numeric_grad(f, x, eps=1e-6):
    g = np.zeros_like(x)
    flat, gflat = x.reshape(-1), g.reshape(-1)
    for k in range(flat.size):
        old = flat[k]
        flat[k] = old + eps
        up = f()
        flat[k] = old - eps
        down = f()
        flat[k] = old
        gflat[k] = (up - down) / (2 * eps)
    return g


def test_lstm_backward_matches_finite_differences():
    rng = np.random.default_rng(3)
    batch, hidden = 2, 3
    xg, hg, c_prev = _lstm_inputs(rng, batch, hidden, np.float64)
    wh, wc = rng.standard_normal((batch, hidden)), rng.standard_normal((batch, hidden))

    def loss():
        h, c, _, _ = ref.lstm_step_forward(xg, hg, c_prev)
        return np.sum(wh * h) + np.sum(wc * c)

    _, _, gates, tanh_c = rnn_gates.lstm_step_forward(xg, hg, c_prev)
    dgates, dc_prev = rnn_gates.lstm_step_backward(wh, wc, gates, c_prev, tanh_c)
    np.testing.assert_allclose(dgates, _numeric_grad(loss, xg), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dgates, _numeric_grad(loss, hg), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dc_prev, _numeric_grad(loss, c_prev), rtol=1e-6, atol=1e-8)


def test_gru_backward_matches_finite_differences():
    rng = np.random.default_rng(4)
    batch, hidden = 2, 3
    xg, hg, h_prev = _gru_inputs(rng, batch, hidden, np.float64)
    wh = rng.standard_normal((batch, hidden))

    def loss():
        return np.sum(wh * ref.gru_step_forward(xg, hg, h_prev)[0])

    _, gates, hg_n = rnn_gates.gru_step_forward(xg, hg, h_prev)
    dxg, dhg, direct = rnn_gates.gru_step_backward(wh, gates, hg_n, h_prev)
    np.testing.assert_allclose(dxg, _numeric_grad(loss, xg), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dhg, _numeric_grad(loss, hg), rtol=1e-6, atol=1e-8)
    # h_prev enters only directly here (hg is held fixed), so its gradient is the direct part
    np.testing.assert_allclose(direct, _numeric_grad(loss, h_prev), rtol=1e-6, atol=1e-8)


def test_bad_shapes_and_dtypes_raise_clear_errors():
    xg = np.zeros((2, 8), np.float32)
    with pytest.raises(ValueError, match=r"lstm_step_forward: hg has shape \(2, 7\), expected \(2, 8\)"):
        rnn_gates.lstm_step_forward(xg, np.zeros((2, 7), np.float32), np.zeros((2, 2), np.float32))
    with pytest.raises(ValueError, match="gru_step_forward: xg has shape"):
        rnn_gates.gru_step_forward(xg, xg, np.zeros((2, 2), np.float32))
    with pytest.raises(ValueError, match="lstm_step_forward: hg has dtype float64"):
        rnn_gates.lstm_step_forward(xg, xg.astype(np.float64), np.zeros((2, 2), np.float32))
    with pytest.raises(ValueError, match=r"state must be 2-d .* got shape \(2,\)"):
        rnn_gates.gru_step_backward(xg, xg, xg, np.zeros(2, np.float32))
    with pytest.raises(ValueError, match="expected float32 or float64"):
        rnn_gates.lstm_step_forward(xg, xg, np.zeros((2, 2), np.int64))


@pytest.mark.parametrize("dtype", DTYPES)
def test_gate_functions_accurate_over_a_wide_range_and_propagate_nan(dtype):
    rng = np.random.default_rng(5)
    x = np.concatenate([rng.standard_normal(300) * 3, rng.uniform(-800, 800, 300),
                        [0.0, -0.0, 1e-12, -1e-12, 20.0, -20.0, 40.0, -40.0, np.inf, -np.inf, np.nan]])
    x = x.astype(dtype)
    # with hg = 0 the GRU kernel's gates are sigmoid(x), sigmoid(x), tanh(x)
    xg = np.stack([x, x, x], axis=0).T.reshape(-1, 3)
    _, gates, _ = rnn_gates.gru_step_forward(xg, np.zeros_like(xg), np.zeros((x.size, 1), dtype))
    want_sig = scipy_special.expit(x.astype(np.float64))  # an independent float64 reference
    want_tanh = np.tanh(x.astype(np.float64))
    tol = dict(rtol=2e-7, atol=1e-37) if dtype == np.float32 else dict(rtol=1e-15, atol=1e-300)
    np.testing.assert_allclose(gates[:, 0], want_sig.astype(dtype), **tol)
    np.testing.assert_allclose(gates[:, 2], want_tanh.astype(dtype), **tol)
    assert np.isnan(gates[-1]).all()
