"""nn recurrent layers against PyTorch, finite differences and hand-written numpy."""
import math

import numpy as np
import pytest

import autodiff as ad
import nn
from nn.layers.recurrent import truncated_bptt_epoch

KINDS = {"LSTM": {}, "GRU": {}, "RNN": {"nonlinearity": "tanh"}, "RNN_relu": {"nonlinearity": "relu"}}
CONFIGS = [dict(num_layers=1), dict(num_layers=2, bidirectional=True, batch_first=True),
           dict(num_layers=3, bias=False, bidirectional=True), dict(num_layers=2, batch_first=True)]


def _pair(torch, kind, dtype=np.float32, **kw):
    name = kind.split("_")[0]
    ours = getattr(nn, name)(3, 4, dtype=dtype, **KINDS[kind], **kw)
    theirs = getattr(torch.nn, name)(3, 4, **KINDS[kind], **kw)
    if dtype == np.float64:
        theirs = theirs.double()
    assert [(n, tuple(p.shape)) for n, p in ours.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in theirs.named_parameters()]
    theirs.load_state_dict({k: torch.tensor(v.data) for k, v in ours.state_dict().items()})
    return ours, theirs


def _flat(state):
    return list(state) if isinstance(state, tuple) else [state]


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("cfg", range(len(CONFIGS)))
def test_sequence_layers_match_torch(kind, cfg):
    torch = pytest.importorskip("torch")
    kw = CONFIGS[cfg]
    ours, theirs = _pair(torch, kind, **kw)
    rng = np.random.default_rng(cfg)
    seq_len, batch = 5, 2
    x = rng.standard_normal((batch, seq_len, 3) if kw.get("batch_first") else (seq_len, batch, 3))
    x = x.astype(np.float32)
    n_dir = 2 if kw.get("bidirectional") else 1
    h0 = [rng.standard_normal((kw["num_layers"] * n_dir, batch, 4)).astype(np.float32)
          for _ in range(2 if kind == "LSTM" else 1)]
    xo, xt = ad.Tensor(x.copy(), requires_grad=True), torch.tensor(x, requires_grad=True)
    ho = [ad.Tensor(h.copy(), requires_grad=True) for h in h0]
    ht = [torch.tensor(h, requires_grad=True) for h in h0]
    with_state = cfg % 2 == 1
    arg_o = (tuple(ho) if kind == "LSTM" else ho[0]) if with_state else None
    arg_t = (tuple(ht) if kind == "LSTM" else ht[0]) if with_state else None
    out, state = ours(xo, arg_o)
    out_t, state_t = theirs(xt, arg_t)
    results = [out] + _flat(state)
    results_t = [out_t] + _flat(state_t)
    weights = [rng.standard_normal(r.shape).astype(np.float32) for r in results]
    for r, rt in zip(results, results_t):
        assert r.shape == tuple(rt.shape)
        np.testing.assert_allclose(r.data, rt.detach().numpy(), rtol=1e-5, atol=1e-6)
    loss = (results[0] * weights[0]).sum()
    for r, w in zip(results[1:], weights[1:]):
        loss = loss + (r * ad.Tensor(w)).sum()
    loss.backward()
    sum((rt * torch.tensor(w)).sum() for rt, w in zip(results_t, weights)).backward()
    for (name, p), pt in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad.data, pt.grad.numpy(), rtol=1e-4, atol=1e-5, err_msg=name)
    np.testing.assert_allclose(xo.grad.data, xt.grad.numpy(), rtol=1e-4, atol=1e-5)
    if with_state:
        for a, b in zip(ho, ht):
            np.testing.assert_allclose(a.grad.data, b.grad.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
@pytest.mark.parametrize("batched", [True, False])
def test_cells_match_torch(name, batched):
    torch = pytest.importorskip("torch")
    ours, theirs = getattr(nn, name)(3, 5), getattr(torch.nn, name)(3, 5)
    assert [(n, tuple(p.shape)) for n, p in ours.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in theirs.named_parameters()]
    theirs.load_state_dict({k: torch.tensor(v.data) for k, v in ours.state_dict().items()})
    rng = np.random.default_rng(3)
    shape = (2,) if batched else ()
    x = rng.standard_normal(shape + (3,)).astype(np.float32)
    h = [rng.standard_normal(shape + (5,)).astype(np.float32) for _ in range(2 if name == "LSTMCell" else 1)]
    xo, xt = ad.Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ho = [ad.Tensor(a, requires_grad=True) for a in h]
    ht = [torch.tensor(a, requires_grad=True) for a in h]
    res = _flat(ours(xo, tuple(ho) if name == "LSTMCell" else ho[0]))
    res_t = _flat(theirs(xt, tuple(ht) if name == "LSTMCell" else ht[0]))
    for step in range(2):   # a second step from the first one's state exercises the recurrence
        res = _flat(ours(xo, tuple(res) if name == "LSTMCell" else res[0]))
        res_t = _flat(theirs(xt, tuple(res_t) if name == "LSTMCell" else res_t[0]))
    for r, rt in zip(res, res_t):
        np.testing.assert_allclose(r.data, rt.detach().numpy(), rtol=1e-5, atol=1e-6)
    sum((r * r).sum() for r in res).backward()
    sum((r * r).sum() for r in res_t).backward()
    for p, pt in zip(list(ours.parameters()) + [xo] + ho, list(theirs.parameters()) + [xt] + ht):
        np.testing.assert_allclose(p.grad.data, pt.grad.numpy(), rtol=1e-4, atol=1e-6)
    # without a state the cell starts from zeros, like PyTorch
    np.testing.assert_allclose(_flat(ours(xo))[0].data, _flat(theirs(xt))[0].detach().numpy(), rtol=1e-5,
                               atol=1e-6)


def test_init_is_pytorch_uniform_and_names_include_reverse():
    lstm = nn.LSTM(3, 16, num_layers=2, bidirectional=True)
    names = [n for n, _ in lstm.named_parameters()]
    assert names[:8] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_ih_l0_reverse",
                         "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse"]
    assert lstm.weight_ih_l1.shape == (64, 32)
    values = np.concatenate([p.data.ravel() for p in lstm.parameters()])
    assert np.abs(values).max() <= 0.25 and np.abs(values).max() > 0.24
    assert abs(values.std() - 0.25 / math.sqrt(3)) < 0.01     # std of U(-a, a) is a / sqrt(3)


def test_dropout_between_layers():
    torch = pytest.importorskip("torch")
    ours, theirs = _pair(torch, "LSTM", num_layers=2, dropout=1.0)
    x = np.random.default_rng(4).standard_normal((4, 2, 3)).astype(np.float32)
    ours.eval()
    theirs.eval()
    np.testing.assert_allclose(ours(x)[0].data, theirs(torch.tensor(x))[0].detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    ours.train()
    # p=1 zeroes the first layer's output, so the second layer sees zeros
    top = torch.nn.LSTM(4, 4)
    top.load_state_dict({k.replace("l1", "l0"): torch.tensor(v.data) for k, v in ours.state_dict().items()
                         if k.endswith("l1")})
    want = top(torch.zeros(4, 2, 4))[0].detach().numpy()
    np.testing.assert_allclose(ours(x)[0].data, want, rtol=1e-5, atol=1e-6)


def test_lstm_float64_gradcheck_input_and_states():
    lstm = nn.LSTM(2, 2, num_layers=2, bidirectional=True, batch_first=True, dtype=np.float64)
    rng = np.random.default_rng(5)
    x = ad.Tensor(rng.standard_normal((2, 3, 2)), requires_grad=True)
    h0 = ad.Tensor(rng.standard_normal((4, 2, 2)), requires_grad=True)
    c0 = ad.Tensor(rng.standard_normal((4, 2, 2)), requires_grad=True)

    def fn(x, h0, c0):
        out, (h, c) = lstm(x, (h0, c0))
        return out, h, c

    assert ad.gradcheck(fn, [x, h0, c0], atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN"])
def test_parameter_gradients_match_finite_differences(name):
    model = getattr(nn, name)(2, 2, num_layers=2, bidirectional=True, dtype=np.float64)
    rng = np.random.default_rng(6)
    x = rng.standard_normal((3, 2, 2))
    w = rng.standard_normal((3, 2, 4))

    def loss():
        return float((model(x)[0].data * w).sum())

    (model(x)[0] * ad.Tensor(w)).sum().backward()
    for pname, p in model.named_parameters():
        num = np.zeros_like(p.data)
        for k in range(p.data.size):
            old = p.data.flat[k]
            p.data.flat[k] = old + 1e-6
            up = loss()
            p.data.flat[k] = old - 1e-6
            down = loss()
            p.data.flat[k] = old
            num.flat[k] = (up - down) / 2e-6
        np.testing.assert_allclose(p.grad.data, num, rtol=1e-5, atol=1e-7, err_msg=pname)


def _grad_norm(model, seq_len):
    x = np.ones((seq_len, 1, 1), np.float64)
    model.zero_grad()
    out, _ = model(x)
    out[-1].sum().backward()
    return math.sqrt(sum(float((p.grad.data ** 2).sum()) for p in model.parameters()))


def test_exploding_gradients_visible_and_tamed_by_clipping():
    rnn = nn.RNN(1, 4, nonlinearity="relu", dtype=np.float64)
    with ad.no_grad():
        rnn.weight_hh_l0.data[...] = 1.5 * np.eye(4)     # spectral radius 1.5: the state grows 1.5x per step
        rnn.weight_ih_l0.data[...] = 0.1
        rnn.bias_ih_l0.data[...] = 0.0
        rnn.bias_hh_l0.data[...] = 0.0
    n10, n20, n40 = (_grad_norm(rnn, t) for t in (10, 20, 40))
    assert n20 / n10 > 1.5 ** 10 / 2 and n40 / n20 > 1.5 ** 20 / 2     # geometric growth with length
    head = nn.Linear(4, 1, dtype=np.float64)
    with ad.no_grad():
        rnn.weight_hh_l0.data[...] = 1.3 * np.eye(4)
    x = np.ones((30, 1, 1))
    y = np.zeros((30, 1, 1))
    state = {k: v.data.copy() for k, v in list(rnn.state_dict().items()) + list(head.state_dict().items())}
    results = {}
    for max_norm in (None, 1.0):
        rnn.load_state_dict({k: v for k, v in state.items() if "_l0" in k})
        head.load_state_dict({k: v for k, v in state.items() if "_l0" not in k})
        opt = nn.optim.SGD(list(rnn.parameters()) + list(head.parameters()), lr=0.01)
        losses = []
        for _ in range(8):
            with np.errstate(over="ignore", invalid="ignore"):      # the unclipped run blows up
                loss, norm, _ = truncated_bptt_epoch(rnn, head, x, y, 30, opt, nn.functional.mse_loss,
                                                     max_norm=max_norm)
            losses.append(loss[0])
            if max_norm is not None:
                total = math.sqrt(sum(float((p.grad.data ** 2).sum())
                                      for p in list(rnn.parameters()) + list(head.parameters())))
                assert total <= max_norm * (1 + 1e-6)
        results[max_norm] = losses
    unclipped, clipped = np.array(results[None]), np.array(results[1.0])
    assert unclipped[0] == clipped[0]
    assert not np.all(np.isfinite(unclipped)) or unclipped[1:].min() > 1e50 * unclipped[0]   # one step: ruined
    assert np.all(np.isfinite(clipped)) and clipped[-1] < clipped[0] / 10                  # clipped: learns


def test_truncated_bptt_matches_torch_detach_loop():
    torch = pytest.importorskip("torch")
    ours, theirs = _pair(torch, "GRU", dtype=np.float64)
    head, head_t = nn.Linear(4, 2, dtype=np.float64), torch.nn.Linear(4, 2).double()
    head_t.load_state_dict({k: torch.tensor(v.data) for k, v in head.state_dict().items()})
    rng = np.random.default_rng(7)
    x = rng.standard_normal((12, 3, 3))
    y = rng.standard_normal((12, 3, 2))
    opt = nn.optim.SGD(list(ours.parameters()) + list(head.parameters()), lr=0.1)
    losses, _, state = truncated_bptt_epoch(ours, head, x, y, 5, opt, nn.functional.mse_loss, max_norm=0.5)
    opt_t = torch.optim.SGD(list(theirs.parameters()) + list(head_t.parameters()), lr=0.1)
    h, losses_t = None, []
    for s in range(0, 12, 5):
        out, h = theirs(torch.tensor(x[s:s + 5]), h)
        loss = torch.nn.functional.mse_loss(head_t(out), torch.tensor(y[s:s + 5]))
        opt_t.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(theirs.parameters()) + list(head_t.parameters()), 0.5)
        opt_t.step()
        h = h.detach()
        losses_t.append(loss.item())
    assert len(losses) == 3
    np.testing.assert_allclose(losses, losses_t, rtol=1e-10)
    np.testing.assert_allclose(state.data, h.numpy(), rtol=1e-10)
    for p, pt in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.data, pt.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_jordan_network_matches_numpy_and_finite_differences():
    net = nn.JordanRNN(2, 3, 2, output_activation="tanh", dtype=np.float64)
    rng = np.random.default_rng(8)
    x = rng.standard_normal((4, 2, 2))
    w = {n: p.data for n, p in net.named_parameters()}
    y = np.zeros((2, 2))
    want = []
    for t in range(4):
        h = np.tanh(x[t] @ w["weight_ih"].T + w["bias_ih"] + y @ w["weight_yh"].T)
        y = np.tanh(h @ w["weight_hy"].T + w["bias_hy"])
        want.append(y)
    out, last = net(x)
    np.testing.assert_allclose(out.data, np.stack(want), rtol=1e-12)
    np.testing.assert_allclose(last.data, want[-1], rtol=1e-12)
    xt = ad.Tensor(x, requires_grad=True)
    y0 = ad.Tensor(rng.standard_normal((2, 2)), requires_grad=True)
    assert ad.gradcheck(lambda a, b: net(a, b)[0], [xt, y0], atol=1e-6, rtol=1e-5)


def test_bad_inputs_raise_clear_errors():
    lstm = nn.LSTM(3, 4, num_layers=2)
    with pytest.raises(ValueError, match="LSTM: input.size\\(-1\\) must be equal to input_size. Expected 3, got 5"):
        lstm(np.zeros((2, 1, 5), np.float32))
    with pytest.raises(ValueError, match=r"LSTM: expected hidden state of shape \(2, 1, 4\), got \(1, 1, 4\)"):
        lstm(np.zeros((2, 1, 3), np.float32), (np.zeros((1, 1, 4), np.float32),) * 2)
    with pytest.raises(ValueError, match="GRU: expected a 2-d \\(unbatched\\) or 3-d input"):
        nn.GRU(3, 4)(np.zeros(3, np.float32))
    with pytest.raises(ValueError, match="LSTM: proj_size has to be smaller than hidden_size"):
        nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="unknown nonlinearity 'sigmoid'"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match=r"GRUCell: expected hidden state of shape \(2, 4\), got \(3, 4\)"):
        nn.GRUCell(3, 4)(np.zeros((2, 3), np.float32), np.zeros((3, 4), np.float32))


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_unbatched_input_matches_torch(kind):
    torch = pytest.importorskip("torch")
    ours, theirs = _pair(torch, kind, num_layers=2, bidirectional=True)
    rng = np.random.default_rng(9)
    x = rng.standard_normal((5, 3)).astype(np.float32)
    h0 = [rng.standard_normal((4, 4)).astype(np.float32) for _ in range(2 if kind == "LSTM" else 1)]
    out, state = ours(x, tuple(h0) if kind == "LSTM" else h0[0])
    h0t = [torch.tensor(h) for h in h0]
    out_t, state_t = theirs(torch.tensor(x), tuple(h0t) if kind == "LSTM" else h0t[0])
    assert out.shape == (5, 8)
    for a, b in zip([out] + _flat(state), [out_t] + _flat(state_t)):
        assert a.shape == tuple(b.shape)
        np.testing.assert_allclose(a.data, b.detach().numpy(), rtol=1e-5, atol=1e-6)
