"""Recurrent ops (fused cell steps, whole-sequence BPTT) against PyTorch and finite differences."""
import numpy as np
import pytest

import autodiff as ad
from autodiff.ops import recurrent

GATES = {"lstm": 4, "gru": 3, "rnn_tanh": 1, "rnn_relu": 1}


def _params(rng, kind, n_in, hidden, dtype, bias=True):
    g = GATES[kind]
    w_ih = rng.uniform(-0.6, 0.6, (g * hidden, n_in))
    w_hh = rng.uniform(-0.6, 0.6, (g * hidden, hidden))
    arrs = [w_ih, w_hh]
    if bias:
        arrs += [rng.uniform(-0.5, 0.5, g * hidden), rng.uniform(-0.5, 0.5, g * hidden)]
    return [a.astype(dtype) for a in arrs]


def _run_ours(kind, x, states, params, reverse):
    w = list(params) + [None] * (4 - len(params))
    if kind == "lstm":
        out, h, c = recurrent.lstm_sequence(x, states[0], states[1], *w, reverse=reverse)
        return [out, h, c]
    if kind == "gru":
        return list(recurrent.gru_sequence(x, states[0], *w, reverse=reverse))
    return list(recurrent.rnn_sequence(x, states[0], *w, nonlinearity=kind[4:], reverse=reverse))


def _run_torch(torch, kind, x, states, params, reverse):
    n_in, hidden = x.shape[2], params[1].shape[1]
    cls = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}.get(kind)
    if cls is None:
        m = torch.nn.RNN(n_in, hidden, nonlinearity=kind[4:], bias=len(params) == 4)
    else:
        m = cls(n_in, hidden, bias=len(params) == 4)
    names = ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
    xs = x.flip(0) if reverse else x
    st = tuple(s[None] for s in states)
    out, hn = torch.func.functional_call(m, dict(zip(names, params)), (xs, st if kind == "lstm" else st[0]))
    out = out.flip(0) if reverse else out
    return [out, hn[0][0], hn[1][0]] if kind == "lstm" else [out, hn[0]]


@pytest.mark.parametrize("kind", list(GATES))
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("dtype,tol", [(np.float32, 2e-5), (np.float64, 1e-10)])
def test_sequence_ops_match_torch(kind, reverse, dtype, tol):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(len(kind) + reverse)
    seq_len, batch, n_in, hidden = 6, 3, 4, 5
    bias = kind != "rnn_relu"
    x = rng.standard_normal((seq_len, batch, n_in)).astype(dtype)
    states = [rng.standard_normal((batch, hidden)).astype(dtype) for _ in range(2 if kind == "lstm" else 1)]
    params = _params(rng, kind, n_in, hidden, dtype, bias)
    ours_in = [ad.Tensor(a.copy(), requires_grad=True) for a in [x] + states + params]
    theirs_in = [torch.tensor(a, requires_grad=True) for a in [x] + states + params]
    n_st = len(states)
    ours = _run_ours(kind, ours_in[0], ours_in[1:1 + n_st], ours_in[1 + n_st:], reverse)
    theirs = _run_torch(torch, kind, theirs_in[0], theirs_in[1:1 + n_st], theirs_in[1 + n_st:], reverse)
    weights = [rng.standard_normal(o.shape).astype(dtype) for o in ours]
    loss = None
    for o, t, w in zip(ours, theirs, weights):
        np.testing.assert_allclose(o.data, t.detach().numpy(), rtol=tol, atol=tol)
        term = (o * ad.Tensor(w)).sum()
        loss = term if loss is None else loss + term
    loss.backward()
    sum((t * torch.tensor(w)).sum() for t, w in zip(theirs, weights)).backward()
    for a, b in zip(ours_in, theirs_in):
        assert a.grad.dtype == dtype
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), rtol=10 * tol, atol=10 * tol)


@pytest.mark.parametrize("kind", list(GATES))
@pytest.mark.parametrize("reverse", [False, True])
def test_sequence_ops_gradcheck(kind, reverse):
    rng = np.random.default_rng(7)
    seq_len, batch, n_in, hidden = 3, 2, 2, 3
    x = ad.Tensor(rng.standard_normal((seq_len, batch, n_in)), requires_grad=True)
    states = [ad.Tensor(rng.standard_normal((batch, hidden)), requires_grad=True)
              for _ in range(2 if kind == "lstm" else 1)]
    params = [ad.Tensor(p, requires_grad=True) for p in _params(rng, kind, n_in, hidden, np.float64)]
    n_st = len(states)

    def fn(*ins):
        return tuple(_run_ours(kind, ins[0], ins[1:1 + n_st], ins[1 + n_st:], reverse))

    assert ad.gradcheck(fn, [x] + states + params, atol=1e-6, rtol=1e-5)


def test_sequence_without_initial_state_or_bias_and_unused_outputs():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(8)
    x = rng.standard_normal((4, 2, 3))
    w_ih, w_hh = _params(rng, "lstm", 3, 2, np.float64, bias=False)
    tx, tw_ih, tw_hh = (ad.Tensor(a.copy(), requires_grad=True) for a in (x, w_ih, w_hh))
    out, h_n, c_n = recurrent.lstm_sequence(tx, None, None, tw_ih, tw_hh)
    out.sum().backward()          # h_n, c_n unused: their gradients arrive as zeros
    m = torch.nn.LSTM(3, 2, bias=False, dtype=torch.float64)
    with torch.no_grad():
        m.weight_ih_l0.copy_(torch.tensor(w_ih))
        m.weight_hh_l0.copy_(torch.tensor(w_hh))
    xt = torch.tensor(x, requires_grad=True)
    o, (hn, cn) = m(xt)
    o.sum().backward()
    np.testing.assert_allclose(out.data, o.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(c_n.data, cn[0].detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(tx.grad.data, xt.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(tw_hh.grad.data, m.weight_hh_l0.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_gru_cell_step_matches_torch_and_gradcheck():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(9)
    batch, hidden = 3, 4
    xg, hg = (rng.standard_normal((batch, 3 * hidden)) for _ in range(2))
    s = rng.standard_normal((batch, hidden))
    ours = [ad.Tensor(a.copy(), requires_grad=True) for a in (xg, hg, s)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (xg, hg, s)]
    h = recurrent.gru_cell_step(*ours)
    xr, xz, xn = theirs[0].chunk(3, 1)
    hr, hz, hn = theirs[1].chunk(3, 1)
    r, z = (xr + hr).sigmoid(), (xz + hz).sigmoid()
    ht = (1 - z) * (xn + r * hn).tanh() + z * theirs[2]
    (h * h).sum().backward()
    (ht * ht).sum().backward()
    np.testing.assert_allclose(h.data, ht.detach().numpy(), rtol=1e-12)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), rtol=1e-10, atol=1e-12)
    assert ad.gradcheck(recurrent.gru_cell_step, [ad.Tensor(a, requires_grad=True) for a in (xg, hg, s)],
                        atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("reverse", [False, True])
def test_lstm_sequence_with_projection_matches_torch_and_gradcheck(reverse):
    """The one LSTM op with ``w_hr`` is torch's LSTM with proj_size (values and every gradient)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(11)
    seq, batch, n_in, hidden, proj = 4, 3, 2, 5, 2
    arrs = [rng.standard_normal((seq, batch, n_in)), rng.standard_normal((batch, proj)),
            rng.standard_normal((batch, hidden)), rng.uniform(-0.6, 0.6, (4 * hidden, n_in)),
            rng.uniform(-0.6, 0.6, (4 * hidden, proj)), rng.uniform(-0.5, 0.5, 4 * hidden),
            rng.uniform(-0.5, 0.5, 4 * hidden), rng.uniform(-0.6, 0.6, (proj, hidden))]
    ours = [ad.Tensor(a.copy(), requires_grad=True) for a in arrs]
    out, h_n, c_n = recurrent.lstm_sequence(*ours[:7], ours[7], reverse=reverse)
    m = torch.nn.LSTM(n_in, hidden, proj_size=proj, dtype=torch.float64)
    names = ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_hr_l0"]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrs]
    xs = theirs[0].flip(0) if reverse else theirs[0]
    to, (th, tc) = torch.func.functional_call(m, dict(zip(names, theirs[3:])),
                                              (xs, (theirs[1][None], theirs[2][None])))
    to = to.flip(0) if reverse else to
    np.testing.assert_allclose(out.data, to.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(c_n.data, tc[0].detach().numpy(), rtol=1e-10, atol=1e-12)
    ((out * out).sum() + (h_n * 2).sum() + (c_n * c_n).sum()).backward()
    ((to * to).sum() + (th[0] * 2).sum() + (tc[0] * tc[0]).sum()).backward()
    for a, b, name in zip(ours, theirs, ["x", "h0", "c0"] + names):
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)
    small = [ad.Tensor(a, requires_grad=True) for a in arrs]
    assert ad.gradcheck(lambda *a: recurrent.lstm_sequence(*a, reverse=reverse)[0], small, atol=1e-6, rtol=1e-5)


def test_bad_shapes_raise_errors_naming_the_op():
    x = ad.Tensor(np.zeros((3, 2, 4), np.float32))
    w_ih, w_hh = np.zeros((8, 4), np.float32), np.zeros((8, 2), np.float32)
    with pytest.raises(ValueError, match=r"lstm: weight_ih has shape \(8, 4\), expected \(8, 5\)"):
        recurrent.lstm_sequence(ad.Tensor(np.zeros((3, 2, 5), np.float32)), None, None, w_ih, w_hh)
    with pytest.raises(ValueError, match=r"gru: input must be 3-d .* got shape \(2, 4\)"):
        recurrent.gru_sequence(ad.Tensor(np.zeros((2, 4), np.float32)), None, w_ih[:6], w_hh[:6])
    with pytest.raises(ValueError, match=r"lstm: state 0 has shape \(3, 2\), expected \(2, 2\)"):
        recurrent.lstm_sequence(x, np.zeros((3, 2), np.float32), None, w_ih, w_hh)
    with pytest.raises(ValueError, match="lstm: weight_hh has dtype float64 but the input has float32"):
        recurrent.lstm_sequence(x, None, None, w_ih, w_hh.astype(np.float64))
    with pytest.raises(ValueError, match=r"gru: expected sequence length to be larger than 0.*\(0, 2, 4\)"):
        recurrent.gru_sequence(ad.Tensor(np.zeros((0, 2, 4), np.float32)), None, w_ih[:6], w_hh[:6])
    with pytest.raises(ValueError, match="nonlinearity must be 'tanh' or 'relu'"):
        recurrent.rnn_sequence(x, None, w_ih[:2], w_hh[:2], nonlinearity="sigmoid")


def test_reused_work_arrays_never_clobber_live_outputs_or_saved_values():
    rng = np.random.default_rng(10)
    x1, x2 = (ad.Tensor(rng.standard_normal((4, 2, 3)), requires_grad=True) for _ in range(2))
    w = [ad.Tensor(p, requires_grad=True) for p in _params(rng, "lstm", 3, 5, np.float64)]
    out1, h1, c1 = recurrent.lstm_sequence(x1, None, None, *w)
    kept = out1.data.copy()
    out2, _, _ = recurrent.lstm_sequence(x2, None, None, *w)     # same shapes: must not reuse out1's arrays
    assert out1.data is not out2.data
    np.testing.assert_array_equal(out1.data, kept)
    loss1 = (out1 * out1).sum()
    loss1.backward(retain_graph=True)
    g_first = [p.grad.data.copy() for p in [x1] + w]
    for p in [x1] + w:
        p.grad = None
    del out2
    recurrent.lstm_sequence(x2, None, None, *w)                  # a third call while graph 1 is still alive
    loss1.backward()
    for p, g in zip([x1] + w, g_first):
        np.testing.assert_array_equal(p.grad.data, g)
