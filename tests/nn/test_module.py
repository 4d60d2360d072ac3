"""nn.Module, Parameter, Sequential, ModuleList: registration order, state dicts, modes, conversion."""
import copy

import numpy as np
import pytest

import autodiff as ad
import nn


class Affine(nn.Module):
    def __init__(self, n, m):
        super().__init__()
        self.weight = nn.Parameter(np.arange(n * m, dtype=np.float32).reshape(m, n) / 10)
        self.bias = nn.Parameter(np.zeros(m, np.float32))
        self.register_buffer("count", ad.Tensor(np.array(0, np.int64)))
        self.register_buffer("scratch", ad.zeros(m), persistent=False)

    def forward(self, x):
        self.seen_scope = ad.current_scope()
        return x @ self.weight.T + self.bias


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc2 = Affine(3, 2)   # assigned first on purpose: order is assignment order, not by name
        self.fc1 = Affine(2, 3)
        self.scale = nn.Parameter(np.ones(1, np.float32))

    def forward(self, x):
        return self.fc2(self.fc1(x)) * self.scale


def test_parameter_is_a_tensor_that_requires_grad():
    p = nn.Parameter(np.zeros(3, np.float64))
    assert isinstance(p, ad.Tensor) and p.requires_grad and p.is_leaf and p.dtype == np.float64
    assert nn.Parameter([1.0, 2.0]).dtype == np.float32
    assert not nn.Parameter(np.zeros(2), requires_grad=False).requires_grad
    assert repr(p).startswith("Parameter containing:")


def test_registration_order_and_names():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == ["scale", "fc2.weight", "fc2.bias", "fc1.weight", "fc1.bias"]
    assert [n for n, _ in net.named_children()] == ["fc2", "fc1"]
    assert [n for n, _ in net.named_modules()] == ["", "fc2", "fc1"]
    assert [n for n, _ in net.named_buffers()] == ["fc2.count", "fc2.scratch", "fc1.count", "fc1.scratch"]
    assert list(net.state_dict()) == ["scale", "fc2.weight", "fc2.bias", "fc2.count",
                                      "fc1.weight", "fc1.bias", "fc1.count"]
    assert len(list(net.parameters(recurse=False))) == 1
    assert net.get_parameter("fc1.bias") is net.fc1.bias


def test_shared_parameter_listed_once_and_reassignment():
    net = Net()
    net.fc1.bias = None
    assert "fc1.bias" not in dict(net.named_parameters())
    with pytest.raises(TypeError, match="bias"):
        net.fc2.bias = ad.zeros(2)
    shared = nn.Linear(2, 2) if hasattr(nn, "Linear") else Affine(2, 2)
    seq = nn.Sequential(shared, shared)
    assert len(list(seq.parameters())) == 2
    del net.fc1
    assert [n for n, _ in net.named_children()] == ["fc2"]


def test_assign_before_init_is_a_clear_error():
    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(np.zeros(1))

    with pytest.raises(AttributeError, match="super"):
        Bad()


def test_call_enters_scope_of_attribute_path():
    net = Net()
    y = net(ad.ones(4, 2, requires_grad=True))
    assert net.fc1.seen_scope == "Net.fc1" and net.fc2.seen_scope == "Net.fc2"
    assert y.grad_fn.scope == "Net"
    assert y.grad_fn.next_functions[0][0].scope == "Net.fc2"


def test_forward_hooks():
    net = Net()
    seen = []
    h = net.fc1.register_forward_hook(lambda m, args, out: seen.append(out.shape))
    net(ad.ones(4, 2))
    h.remove()
    net(ad.ones(4, 2))
    assert seen == [(4, 3)]


def test_train_eval_propagates():
    net = Net()
    assert net.training and net.fc1.training
    assert net.eval() is net
    assert not net.training and not net.fc1.training and not net.fc2.training
    net.train()
    assert net.fc2.training
    with pytest.raises(ValueError):
        net.train("yes")


def test_zero_grad_default_sets_none_and_zeros_option():
    net = Net()
    net(ad.ones(4, 2)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(np.all(p.grad.data == 0) for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_gradients_match_hand_computation(rng):
    net = Net()
    x = rng.standard_normal((5, 2)).astype(np.float32)
    net(ad.Tensor(x)).sum().backward()
    w1, w2 = net.fc1.weight.data, net.fc2.weight.data
    h = x @ w1.T
    np.testing.assert_allclose(net.fc2.weight.grad.data, np.ones((5, 2)).T @ h, rtol=1e-5)
    np.testing.assert_allclose(net.fc1.weight.grad.data, (np.ones((5, 2)) @ w2).T @ x, rtol=1e-5)
    np.testing.assert_allclose(net.fc2.bias.grad.data, [5, 5])


def test_state_dict_roundtrip_shares_memory_and_casts():
    a, b = Net(), Net()
    sd = a.state_dict()
    assert np.shares_memory(sd["fc1.weight"].data, a.fc1.weight.data)
    assert not sd["fc1.weight"].requires_grad
    new = {k: np.asarray(v, dtype=np.float64) + 1 if v.dtype.kind == "f" else np.asarray(v) + 3
           for k, v in sd.items()}
    w_before = b.fc1.weight
    res = b.load_state_dict(new)
    assert res == ([], [])
    assert b.fc1.weight is w_before and b.fc1.weight.dtype == np.float32
    np.testing.assert_allclose(b.fc1.weight.data, a.fc1.weight.data + 1)
    assert b.fc1.count.item() == 3 and b.fc1.count.dtype == np.int64
    b.load_state_dict(a.state_dict())  # Tensors are accepted too
    np.testing.assert_array_equal(b.fc1.weight.data, a.fc1.weight.data)


def test_load_state_dict_is_atomic_and_lists_every_problem():
    net = Net()
    before = {k: np.array(v.data) for k, v in net.state_dict().items()}
    bad = {k: np.asarray(v) + 1 for k, v in net.state_dict().items()}
    del bad["fc1.bias"]
    bad["fc2.weight"] = np.zeros((5, 5))
    bad["extra"] = np.zeros(1)
    with pytest.raises(RuntimeError) as e:
        net.load_state_dict(bad)
    msg = str(e.value)
    assert "'fc1.bias'" in msg and "'extra'" in msg and "fc2.weight" in msg and "(5, 5)" in msg
    for k, v in net.state_dict().items():
        np.testing.assert_array_equal(v.data, before[k])
    # strict=False skips missing/unexpected but still refuses wrong shapes
    bad["fc2.weight"] = np.zeros((2, 3))
    missing, unexpected = net.load_state_dict(bad, strict=False)
    assert missing == ["fc1.bias"] and unexpected == ["extra"]
    np.testing.assert_array_equal(net.fc2.weight.data, 0)


def test_to_double_float_keeps_identity():
    net = Net()
    w = net.fc1.weight
    net.double()
    assert net.fc1.weight is w and w.dtype == np.float64 and net.fc1.scratch.dtype == np.float64
    assert net.fc1.count.dtype == np.int64
    assert net(ad.ones(2, 2, dtype=np.float64)).dtype == np.float64
    net.float()
    assert w.dtype == np.float32
    with pytest.raises(TypeError):
        net.to(np.int32)


def test_apply_visits_children_first():
    net = Net()
    order = []
    assert net.apply(lambda m: order.append(type(m).__name__)) is net
    assert order == ["Affine", "Affine", "Net"]


def test_deepcopy_is_independent():
    net = Net()
    twin = copy.deepcopy(net)
    assert isinstance(twin.fc1.weight, nn.Parameter)
    twin.fc1.weight.data += 1
    assert not np.allclose(twin.fc1.weight.data, net.fc1.weight.data)
    assert [n for n, _ in twin.named_parameters()] == [n for n, _ in net.named_parameters()]


def test_sequential_indexing_len_append_slice():
    a, b, c = Affine(2, 3), Affine(3, 3), Affine(3, 1)
    seq = nn.Sequential(a, b)
    assert len(seq) == 2 and seq[0] is a and seq[-1] is b
    seq.append(c)
    assert len(seq) == 3 and list(seq) == [a, b, c]
    assert [n for n, _ in seq.named_parameters()][:2] == ["0.weight", "0.bias"]
    tail = seq[1:]
    assert isinstance(tail, nn.Sequential) and list(tail) == [b, c]
    x = np.ones((4, 2), np.float32)
    expected = c(b(a(ad.Tensor(x)))).data
    np.testing.assert_allclose(seq(ad.Tensor(x)).data, expected)
    with pytest.raises(IndexError, match="out of range"):
        seq[3]
    from collections import OrderedDict
    named = nn.Sequential(OrderedDict([("enc", Affine(2, 2)), ("dec", Affine(2, 2))]))
    assert [n for n, _ in named.named_parameters()][0] == "enc.weight"


def test_modulelist():
    layers = nn.ModuleList([Affine(2, 2) for _ in range(3)])
    assert len(layers) == 3
    layers.append(Affine(2, 2))
    layers.insert(0, Affine(2, 5))
    assert len(layers) == 5 and layers[0].weight.shape == (5, 2)
    assert [n for n, _ in layers.named_parameters()][-1] == "4.bias"
    holder = Net()
    holder.blocks = layers
    assert "blocks.2.weight" in dict(holder.named_parameters())


def test_repr_nested_like_pytorch():
    seq = nn.Sequential(Affine(2, 3), nn.Sequential(Affine(3, 3)))
    assert repr(seq) == ("Sequential(\n  (0): Affine()\n  (1): Sequential(\n    (0): Affine()\n  )\n)")


def test_moduledict_registers_in_insertion_order():
    d = nn.ModuleDict({"enc": Affine(2, 3), "dec": Affine(3, 2)})
    d["head"] = Affine(2, 1)
    assert list(d) == ["enc", "dec", "head"] and len(d) == 3 and "dec" in d
    assert [n for n, _ in d.named_parameters()][::2] == ["enc.weight", "dec.weight", "head.weight"]
    d.pop("dec")
    assert list(d.keys()) == ["enc", "head"]


def test_to_cpu_is_a_no_op_and_other_devices_fail():
    net = Net()
    assert net.to("cpu") is net and net.to(device="cpu") is net and net.fc1.weight.dtype == np.float32
    with pytest.raises(ValueError, match="cuda"):
        net.to("cuda")


def test_state_dict_survives_nn_save_and_load(tmp_path):
    a, b = Net(), Net()
    for p in b.parameters():
        p.data[...] = 0
    nn.save(a.state_dict(), tmp_path / "net.npz")
    b.load_state_dict(nn.load(tmp_path / "net.npz"))
    for (k, va), (_, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        np.testing.assert_array_equal(va.data, vb.data, err_msg=k)


def test_replacing_a_module_or_parameter_keeps_its_position():
    seq = nn.Sequential(Affine(2, 3), Affine(3, 3), Affine(3, 1))
    new = Affine(3, 3)
    seq[1] = new
    assert list(seq)[1] is new and [n for n, _ in seq.named_children()] == ["0", "1", "2"]
    layers = nn.ModuleList([Affine(2, 2), Affine(2, 2)])
    layers[0] = Affine(2, 5)
    assert [m.weight.shape for m in layers] == [(5, 2), (2, 2)]
    net = Net()
    net.fc2 = Affine(3, 2)
    assert [n for n, _ in net.named_children()] == ["fc2", "fc1"]
    net.fc2.weight = nn.Parameter(np.zeros((2, 3), np.float32))
    assert list(net.fc2.state_dict())[:2] == ["weight", "bias"]
