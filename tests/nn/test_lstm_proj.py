"""nn.LSTM with projections (proj_size > 0) against torch.nn.LSTM, finite differences and hand cases."""
import itertools
import math

import numpy as np
import pytest

import autodiff as ad
import nn

IN, HID, PROJ, T, B = 3, 5, 2, 4, 2

# torch warns once that oneDNN has no projected LSTM and it uses its default implementation
pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections is not supported")


def _pair(torch, dtype=np.float64, input_size=IN, hidden_size=HID, proj_size=PROJ, **kw):
    """Our LSTM and torch's with the same weights (copied ours -> torch through state_dict)."""
    ours = nn.LSTM(input_size, hidden_size, proj_size=proj_size, dtype=dtype, **kw)
    theirs = torch.nn.LSTM(input_size, hidden_size, proj_size=proj_size, **kw)
    if dtype == np.float64:
        theirs = theirs.double()
    theirs.load_state_dict({k: torch.tensor(v.data) for k, v in ours.state_dict().items()})
    return ours, theirs


def _run_both(torch, ours, theirs, x, states, seed):
    """Forward both, backward a random weighting of (output, h_n, c_n); return results and grads."""
    xo = ad.Tensor(x.copy(), requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    so = [ad.Tensor(s.copy(), requires_grad=True) for s in states] if states is not None else None
    st = [torch.tensor(s, requires_grad=True) for s in states] if states is not None else None
    out, (h, c) = ours(xo, tuple(so) if so else None)
    out_t, (h_t, c_t) = theirs(xt, tuple(st) if st else None)
    rng = np.random.default_rng(seed)
    ws = [rng.standard_normal(r.shape).astype(x.dtype) for r in (out, h, c)]
    loss = sum(((r * w).sum() for r, w in zip((out, h, c), ws)), ad.tensor(0.0, dtype=x.dtype))
    loss.backward()
    sum((r * torch.tensor(w)).sum() for r, w in zip((out_t, h_t, c_t), ws)).backward()
    ours_r = {"output": out, "h_n": h, "c_n": c}
    theirs_r = {"output": out_t, "h_n": h_t, "c_n": c_t}
    grads = {"input": (xo.grad, xt.grad)}
    if states is not None:
        grads["h_0"] = (so[0].grad, st[0].grad)
        grads["c_0"] = (so[1].grad, st[1].grad)
    tp = dict(theirs.named_parameters())
    for n, p in ours.named_parameters():
        grads[n] = (p.grad, tp[n].grad)
    return ours_r, theirs_r, grads


def _assert_match(ours_r, theirs_r, grads, rtol=1e-10, atol=1e-12):
    for k in ours_r:
        assert ours_r[k].shape == tuple(theirs_r[k].shape), k
        np.testing.assert_allclose(ours_r[k].data, theirs_r[k].detach().numpy(), rtol=rtol, atol=atol,
                                   err_msg=k)
    for k, (g, gt) in grads.items():
        assert g is not None and gt is not None, k
        assert g.shape == tuple(gt.shape), k
        np.testing.assert_allclose(g.data, gt.numpy(), rtol=rtol, atol=atol, err_msg=f"grad of {k}")


CASES = list(itertools.product([1, 2], [False, True], [False, True], [True, False]))


@pytest.mark.parametrize("num_layers,bidirectional,batch_first,bias", CASES)
def test_matches_torch_values_and_gradients(num_layers, bidirectional, batch_first, bias):
    torch = pytest.importorskip("torch")
    kw = dict(num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first, bias=bias)
    ours, theirs = _pair(torch, **kw)
    seed = CASES.index((num_layers, bidirectional, batch_first, bias))
    rng = np.random.default_rng(seed)
    d = 2 if bidirectional else 1
    x = rng.standard_normal((B, T, IN) if batch_first else (T, B, IN))
    with_state = seed % 2 == 0
    states = [rng.standard_normal((num_layers * d, B, PROJ)),
              rng.standard_normal((num_layers * d, B, HID))] if with_state else None
    ours_r, theirs_r, grads = _run_both(torch, ours, theirs, x, states, seed + 100)
    want_out = (B, T, d * PROJ) if batch_first else (T, B, d * PROJ)
    assert ours_r["output"].shape == want_out
    assert ours_r["h_n"].shape == (num_layers * d, B, PROJ)
    assert ours_r["c_n"].shape == (num_layers * d, B, HID)
    _assert_match(ours_r, theirs_r, grads)


@pytest.mark.parametrize("with_state", [False, True])
def test_unbatched_input_matches_torch(with_state):
    torch = pytest.importorskip("torch")
    ours, theirs = _pair(torch, num_layers=2, bidirectional=True)
    rng = np.random.default_rng(7)
    x = rng.standard_normal((T, IN))
    states = [rng.standard_normal((4, PROJ)), rng.standard_normal((4, HID))] if with_state else None
    ours_r, theirs_r, grads = _run_both(torch, ours, theirs, x, states, 8)
    assert ours_r["output"].shape == (T, 2 * PROJ)
    assert ours_r["h_n"].shape == (4, PROJ) and ours_r["c_n"].shape == (4, HID)
    _assert_match(ours_r, theirs_r, grads)


def test_single_step_sequence_matches_torch():
    torch = pytest.importorskip("torch")
    ours, theirs = _pair(torch, num_layers=2, bidirectional=True, batch_first=True)
    rng = np.random.default_rng(13)
    x = rng.standard_normal((B, 1, IN))
    states = [rng.standard_normal((4, B, PROJ)), rng.standard_normal((4, B, HID))]
    ours_r, theirs_r, grads = _run_both(torch, ours, theirs, x, states, 14)
    assert ours_r["output"].shape == (B, 1, 2 * PROJ)
    _assert_match(ours_r, theirs_r, grads)


def test_float32_matches_torch():
    torch = pytest.importorskip("torch")
    ours, theirs = _pair(torch, dtype=np.float32, num_layers=2, batch_first=True)
    assert all(p.dtype == np.float32 for p in ours.parameters())
    x = np.random.default_rng(3).standard_normal((B, T, IN)).astype(np.float32)
    ours_r, theirs_r, grads = _run_both(torch, ours, theirs, x, None, 4)
    assert ours_r["output"].dtype == np.float32
    _assert_match(ours_r, theirs_r, grads, rtol=1e-4, atol=1e-5)


def test_state_dict_names_shapes_and_loading_both_ways():
    torch = pytest.importorskip("torch")
    for kw in (dict(num_layers=2, bidirectional=True), dict(num_layers=2, bias=False)):
        ours = nn.LSTM(IN, HID, proj_size=PROJ, dtype=np.float64, **kw)
        theirs = torch.nn.LSTM(IN, HID, proj_size=PROJ, **kw).double()
        assert [(n, tuple(p.shape)) for n, p in ours.named_parameters()] == \
            [(n, tuple(p.shape)) for n, p in theirs.named_parameters()]
        assert list(ours.state_dict()) == list(theirs.state_dict())
        # torch -> ours
        ours.load_state_dict({k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()})
        for (n, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
            np.testing.assert_array_equal(p.data, q.detach().numpy(), err_msg=n)
        x = np.random.default_rng(1).standard_normal((T, B, IN))
        out, _ = ours(x)
        np.testing.assert_allclose(out.data, theirs(torch.tensor(x))[0].detach().numpy(), rtol=1e-10, atol=1e-12)
    assert str(ours) == str(theirs)
    assert "weight_hr_l1" in ours.state_dict() and ours.weight_hr_l1.shape == (PROJ, HID)


def test_init_is_uniform_with_hidden_size_bound_including_weight_hr():
    ad.manual_seed(0)
    hidden = 16
    lstm = nn.LSTM(4, hidden, num_layers=2, bidirectional=True, proj_size=3)
    bound = 1.0 / math.sqrt(hidden)
    for n, p in lstm.named_parameters():
        assert np.all(np.abs(p.data) <= bound), n
    hr = np.concatenate([p.data.ravel() for n, p in lstm.named_parameters() if n.startswith("weight_hr")])
    assert hr.size == 4 * 3 * hidden
    # 192 draws from U(-0.25, 0.25): mean near 0, variance near bound**2 / 3 (not zeros, not a narrower law)
    assert abs(hr.mean()) < 0.05 and abs(hr.var() / (bound ** 2 / 3) - 1) < 0.25
    assert hr.max() > 0.9 * bound and hr.min() < -0.9 * bound


def test_matches_hand_written_numpy():
    """One layer, one direction: h_t = W_hr (o * tanh(c_t)) written out with numpy."""
    lstm = nn.LSTM(IN, HID, proj_size=PROJ, dtype=np.float64)
    w = {n: p.data for n, p in lstm.named_parameters()}
    rng = np.random.default_rng(11)
    x, h, c = rng.standard_normal((T, B, IN)), rng.standard_normal((B, PROJ)), rng.standard_normal((B, HID))
    out, (h_n, c_n) = lstm(x, (h[None], c[None]))

    def sig(a):
        return 1 / (1 + np.exp(-a))

    want = []
    for t in range(T):
        g = x[t] @ w["weight_ih_l0"].T + w["bias_ih_l0"] + h @ w["weight_hh_l0"].T + w["bias_hh_l0"]
        i, f, gg, o = np.split(g, 4, axis=1)
        c = sig(f) * c + sig(i) * np.tanh(gg)
        h = (sig(o) * np.tanh(c)) @ w["weight_hr_l0"].T
        want.append(h)
    np.testing.assert_allclose(out.data, np.stack(want), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(h_n.data[0], h, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(c_n.data[0], c, rtol=1e-12, atol=1e-14)


def test_gradcheck_finite_differences():
    lstm = nn.LSTM(2, 3, num_layers=2, bidirectional=True, proj_size=1, dtype=np.float64)
    rng = np.random.default_rng(5)
    x = ad.Tensor(rng.standard_normal((3, 1, 2)), requires_grad=True)
    h0 = ad.Tensor(rng.standard_normal((4, 1, 1)), requires_grad=True)
    c0 = ad.Tensor(rng.standard_normal((4, 1, 3)), requires_grad=True)
    assert ad.gradcheck(lambda a, b, c: lstm(a, (b, c))[0], [x, h0, c0], atol=1e-6, rtol=1e-5)
    assert ad.gradcheck(lambda a, b, c: lstm(a, (b, c))[1][1], [x, h0, c0], atol=1e-6, rtol=1e-5)


def test_create_graph_first_order_matches_torch_and_second_order_is_refused():
    """The projected LSTM runs the fused (once differentiable) LSTM op, as the plain LSTM: under
    create_graph the gradient is right, and differentiating it again raises an error naming the op."""
    torch = pytest.importorskip("torch")
    ours, theirs = _pair(torch, num_layers=2, bidirectional=True)
    x = np.random.default_rng(12).standard_normal((3, B, IN))
    xo, xt = ad.Tensor(x.copy(), requires_grad=True), torch.tensor(x, requires_grad=True)
    (gx,) = ad.grad([(ours(xo)[0] ** 2).sum()], [xo], create_graph=True)
    (gxt,) = torch.autograd.grad((theirs(xt)[0] ** 2).sum(), xt, create_graph=True)
    np.testing.assert_allclose(gx.data, gxt.detach().numpy(), rtol=1e-10, atol=1e-12)
    with pytest.raises(RuntimeError, match="lstm"):
        (gx ** 2).sum().backward()


def test_dropout_between_layers_only_in_training():
    torch = pytest.importorskip("torch")
    ours, theirs = _pair(torch, num_layers=2, bidirectional=True, dropout=0.5)
    x = np.random.default_rng(2).standard_normal((T, B, IN))
    ours.eval()
    theirs.eval()
    out_eval = ours(x)[0].data
    np.testing.assert_allclose(out_eval, theirs(torch.tensor(x))[0].detach().numpy(), rtol=1e-10, atol=1e-12)
    ours.train()
    ad.manual_seed(0)
    a = ours(x)[0].data
    ad.manual_seed(0)
    np.testing.assert_array_equal(a, ours(x)[0].data)
    assert not np.allclose(a, out_eval)
    # p = 1: the second layer sees zeros, so it equals torch's one-layer LSTM with layer 1's weights on zeros
    ours.dropout = 1.0
    out, (h_n, c_n) = ours(x)
    top = torch.nn.LSTM(2 * PROJ, HID, proj_size=PROJ, bidirectional=True).double()
    top.load_state_dict({k.replace("_l1", "_l0"): torch.tensor(v.data)
                         for k, v in ours.state_dict().items() if "_l1" in k})
    out_t, (h_t, c_t) = top(torch.zeros(T, B, 2 * PROJ, dtype=torch.float64))
    np.testing.assert_allclose(out.data, out_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(h_n.data[2:], h_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(c_n.data[2:], c_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(h_n.data[:2], ours.eval()(x)[1][0].data[:2], rtol=1e-12)   # layer 0: no dropout


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match=r"LSTM: proj_size has to be smaller than hidden_size, got "
                                         r"proj_size=5 and hidden_size=5"):
        nn.LSTM(3, 5, proj_size=5)
    with pytest.raises(ValueError, match="LSTM: proj_size has to be smaller than hidden_size"):
        nn.LSTM(3, 5, proj_size=7)
    with pytest.raises(ValueError, match="LSTM: proj_size should be a positive integer or zero to disable "
                                         "projections, got -1"):
        nn.LSTM(3, 5, proj_size=-1)
    with pytest.raises(TypeError, match="LSTM: proj_size must be an integer, got 2.5"):
        nn.LSTM(3, 5, proj_size=2.5)
    assert nn.LSTM(3, 5, proj_size=0).proj_size == 0
    assert nn.LSTM(3, 5, proj_size=np.int64(4)).weight_hr_l0.shape == (4, 5)


def test_bad_states_and_inputs_name_the_layer_and_shapes():
    lstm = nn.LSTM(IN, HID, num_layers=2, proj_size=PROJ, dtype=np.float64)
    x = np.zeros((T, B, IN))
    h_ok, c_ok = np.zeros((2, B, PROJ)), np.zeros((2, B, HID))
    with pytest.raises(ValueError, match=r"LSTM: expected hidden state of shape \(2, 2, 2\), got \(2, 2, 5\)"):
        lstm(x, (np.zeros((2, B, HID)), c_ok))
    with pytest.raises(ValueError, match=r"LSTM: expected cell state of shape \(2, 2, 5\), got \(2, 2, 2\)"):
        lstm(x, (h_ok, np.zeros((2, B, PROJ))))
    # unbatched: the message shows the state with its batch axis of 1 added, as for proj_size=0
    with pytest.raises(ValueError, match=r"LSTM: expected hidden state of shape \(2, 1, 2\), got \(2, 1, 5\)"):
        lstm(np.zeros((T, IN)), (np.zeros((2, HID)), np.zeros((2, HID))))
    with pytest.raises(ValueError, match="LSTM: input.size\\(-1\\) must be equal to input_size. Expected 3, got 4"):
        lstm(np.zeros((T, B, 4)))
    with pytest.raises(ValueError, match="LSTM: input has dtype float32 but the weights have float64"):
        lstm(x.astype(np.float32))
    with pytest.raises(ValueError, match="LSTM: expected sequence length to be larger than 0"):
        lstm(np.zeros((0, B, IN)))
    before = [p.data.copy() for p in lstm.parameters()]
    with pytest.raises(ValueError):
        lstm(x, (h_ok, np.zeros((2, B, PROJ))))
    assert all(np.array_equal(a, p.data) for a, p in zip(before, lstm.parameters()))
