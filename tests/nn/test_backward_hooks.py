"""Module.register_full_backward_hook / register_full_backward_pre_hook against PyTorch."""
import numpy as np
import pytest

import autodiff as ad
import nn

torch = pytest.importorskip("torch")


def _pair(seed=0):
    ref = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Tanh(), torch.nn.Linear(3, 2))
    ours = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2))
    ours.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    return ours, ref


def _np(t):
    if t is None:
        return None
    return np.asarray(t.detach().numpy() if hasattr(t, "detach") else t.data)


def _record(log, tag):
    def hook(module, *grads):
        log.append((tag, [[_np(g) for g in group] for group in grads]))
    return hook


def _assert_same_log(ours, ref):
    assert [t for t, _ in ours] == [t for t, _ in ref]
    for (_, a), (_, b) in zip(ours, ref):
        assert len(a) == len(b)
        for ga, gb in zip(a, b):
            assert len(ga) == len(gb)
            for x, y in zip(ga, gb):
                assert (x is None) == (y is None)
                if x is not None:
                    np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("input_grad", [True, False])
@pytest.mark.parametrize("shape", [(5, 4), (4,), (2, 3, 4)])
def test_hooks_see_torchs_grad_input_and_grad_output_in_torchs_order(input_grad, shape):
    ours, ref = _pair()
    logs = {"ours": [], "ref": []}
    for model, key in ((ours, "ours"), (ref, "ref")):
        for i in (0, 2):
            model[i].register_full_backward_pre_hook(_record(logs[key], f"pre{i}"))
            model[i].register_full_backward_hook(_record(logs[key], f"full{i}"))
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    xo, xr = ad.tensor(x, requires_grad=input_grad), torch.tensor(x, requires_grad=input_grad)
    (ours(xo) ** 2).sum().backward()
    (ref(xr) ** 2).sum().backward()
    _assert_same_log(logs["ours"], logs["ref"])
    assert [t for t, _ in logs["ours"]] == ["pre2", "full2", "pre0", "full0"]
    if input_grad:
        np.testing.assert_allclose(xo.grad.data, xr.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_returned_gradients_replace_them_like_torch():
    ours, ref = _pair()
    for model in (ours, ref):
        model[2].register_full_backward_pre_hook(lambda m, go: (go[0] * 3,))
        model[0].register_full_backward_hook(lambda m, gi, go: (gi[0] * -2,))
    x = np.random.default_rng(2).standard_normal((3, 4)).astype(np.float32)
    xo, xr = ad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours(xo).sum().backward()
    ref(xr).sum().backward()
    np.testing.assert_allclose(xo.grad.data, xr.grad.numpy(), rtol=1e-5, atol=1e-6)
    for (name, p), (_, q) in zip(ours.named_parameters(), ref.named_parameters()):
        np.testing.assert_allclose(p.grad.data, q.grad.numpy(), rtol=1e-5, atol=1e-6, err_msg=name)


class _TwoInOut(nn.Module):
    def forward(self, a, scale, b):
        return a * b * scale, a - b


class _TorchTwoInOut(torch.nn.Module):
    def forward(self, a, scale, b):
        return a * b * scale, a - b


def test_several_inputs_and_outputs_non_tensor_arguments_skipped():
    logs = {"ours": [], "ref": []}
    mo, mr = _TwoInOut(), _TorchTwoInOut()
    for m, key in ((mo, "ours"), (mr, "ref")):
        m.register_full_backward_pre_hook(_record(logs[key], "pre"))
        m.register_full_backward_hook(_record(logs[key], "full"))
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    ao, bo = ad.tensor(a, requires_grad=True), ad.tensor(b)             # b needs no gradient
    ar, br = torch.tensor(a, requires_grad=True), torch.tensor(b)
    p, q = mo(ao, 2.0, bo)
    (p.sum() + (q ** 2).sum()).backward()
    p, q = mr(ar, 2.0, br)
    (p.sum() + (q ** 2).sum()).backward()
    _assert_same_log(logs["ours"], logs["ref"])
    gi = logs["ours"][1][1][0]
    assert gi[1] is None and np.all(gi[2] == 0)      # the number 2.0; b (no grad): zeros, as torch
    np.testing.assert_allclose(ao.grad.data, ar.grad.numpy())


def test_removed_hooks_no_longer_run_and_no_grad_skips_them():
    calls = []
    lin = nn.Linear(2, 2)
    h = lin.register_full_backward_hook(lambda m, gi, go: calls.append("full"))
    with ad.no_grad():
        lin(ad.randn(1, 2))
    lin(ad.randn(1, 2, requires_grad=True)).sum().backward()
    assert calls == ["full"]
    h.remove()
    lin(ad.randn(1, 2, requires_grad=True)).sum().backward()
    assert calls == ["full"]


def test_a_hook_returning_the_wrong_number_of_gradients_is_an_error():
    lin = nn.Linear(2, 2)
    lin.register_full_backward_pre_hook(lambda m, go: (go[0], go[0]))
    with pytest.raises(RuntimeError, match="Linear: a backward output \\(pre\\) hook returned 2 "
                                           "gradients, expected 1"):
        lin(ad.randn(1, 2, requires_grad=True)).sum().backward()


def test_prepend_runs_a_hook_first_like_torch():
    order, torder = [], []
    lin, ref = nn.Linear(2, 2), torch.nn.Linear(2, 2)
    for m, log in ((lin, order), (ref, torder)):
        m.register_full_backward_pre_hook(lambda mod, go, log=log: log.append("pre-a"))
        m.register_full_backward_pre_hook(lambda mod, go, log=log: log.append("pre-b"), prepend=True)
        m.register_full_backward_hook(lambda mod, gi, go, log=log: log.append("a"))
        m.register_full_backward_hook(lambda mod, gi, go, log=log: log.append("b"), prepend=True)
    lin(ad.randn(1, 2, requires_grad=True)).sum().backward()
    ref(torch.randn(1, 2, requires_grad=True)).sum().backward()
    assert order == torder == ["pre-b", "pre-a", "b", "a"]
