"""ParameterList / ParameterDict vs PyTorch: registration names, state_dict keys, list/dict API, repr."""
from collections import OrderedDict

import numpy as np
import pytest

import autodiff
import nn

torch = pytest.importorskip("torch")

SHAPES = [(3, 4), (2,), (1, 2, 3)]


def _arrays(dtype):
    rng = np.random.default_rng(0)
    return [rng.standard_normal(s).astype(dtype) for s in SHAPES]


class _Holder:
    @staticmethod
    def build(lib, container):
        class M(lib.Module):
            def __init__(self):
                super().__init__()
                self.lin = lib.Linear(2, 2)
                self.ps = container
        return M()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_parameter_list_matches_torch(dtype):
    arrs = _arrays(dtype)
    ours = nn.ParameterList([nn.Parameter(a) for a in arrs[:2]])
    ref = torch.nn.ParameterList([torch.nn.Parameter(torch.tensor(a)) for a in arrs[:2]])
    ours.append(nn.Parameter(arrs[2]))
    ref.append(torch.nn.Parameter(torch.tensor(arrs[2])))
    assert len(ours) == len(ref) == 3
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in ref.named_parameters()]
    assert repr(ours) == repr(ref).replace("torch.", "autodiff.")
    for a, b in zip(ours, ref):
        np.testing.assert_array_equal(a.data, b.detach().numpy())
    assert ours[-1] is list(ours)[2]
    sl = ours[1:]
    assert isinstance(sl, nn.ParameterList) and len(sl) == 2 and sl[0] is ours[1]
    m, mt = _Holder.build(nn, ours), _Holder.build(torch.nn, ref)
    assert list(m.state_dict()) == list(mt.state_dict())
    assert [n for n, _ in m.named_parameters()] == [n for n, _ in mt.named_parameters()]
    # gradients reach the registered parameters
    (ours[0] * 2.0).sum().backward()
    np.testing.assert_allclose(ours[0].grad.data, np.full(SHAPES[0], 2.0))


def test_parameter_list_extend_set_and_wrap():
    pl = nn.ParameterList()
    pl.extend([autodiff.Tensor(np.ones(2)), np.zeros(3)])
    pl += [nn.Parameter(np.ones(1))]
    assert len(pl) == 3 and all(isinstance(p, nn.Parameter) for p in pl)
    new = nn.Parameter(np.full(4, 7.0))
    pl[1] = new
    assert pl[1] is new and dict(pl.named_parameters())["1"] is new
    with pytest.raises(IndexError, match="ParameterList"):
        pl[3]
    with pytest.raises(TypeError, match="ParameterList"):
        pl.append("not a tensor")
    with pytest.raises(TypeError, match="ParameterList"):
        pl.extend(nn.Parameter(np.ones(2)))


@pytest.mark.parametrize("ordered", [True, False])
def test_parameter_dict_matches_torch(ordered):
    arrs = _arrays(np.float32)
    keys = ["zeta", "alpha", "mid"]
    mk = OrderedDict if ordered else dict
    ours = nn.ParameterDict(mk((k, nn.Parameter(a)) for k, a in zip(keys, arrs)))
    ref = torch.nn.ParameterDict(mk((k, torch.nn.Parameter(torch.tensor(a))) for k, a in zip(keys, arrs)))
    assert list(ours.keys()) == list(ref.keys())
    assert list(ours) == list(ref)
    assert repr(ours) == repr(ref).replace("torch.", "autodiff.")
    m, mt = _Holder.build(nn, ours), _Holder.build(torch.nn, ref)
    assert list(m.state_dict()) == list(mt.state_dict())
    for k in keys:
        np.testing.assert_array_equal(ours[k].data, ref[k].detach().numpy())


def test_parameter_dict_api():
    pd = nn.ParameterDict()
    pd["a"] = nn.Parameter(np.ones(2))
    pd.update([("b", np.zeros(3)), ("c", nn.Parameter(np.ones(1)))])
    assert "b" in pd and len(pd) == 3 and isinstance(pd["b"], nn.Parameter)
    assert [k for k, _ in pd.items()] == ["a", "b", "c"]
    c = pd.pop("c")
    assert c.shape == (1,) and "c" not in pd and "c" not in dict(pd.named_parameters())
    assert pd.get("zz") is None
    d = pd.setdefault("d", nn.Parameter(np.ones(5)))
    assert pd["d"] is d
    assert pd.popitem()[0] == "d"
    cp = pd.copy()
    assert cp["a"] is pd["a"] and list(cp) == list(pd)
    del pd["a"]
    assert list(pd) == ["b"]
    pd.clear()
    assert len(pd) == 0 and list(pd.parameters()) == []
    with pytest.raises(KeyError, match="ParameterDict"):
        pd["missing"]
    with pytest.raises(TypeError, match="ParameterDict"):
        pd[1] = nn.Parameter(np.ones(1))
    with pytest.raises(KeyError, match="ParameterDict"):
        pd["a.b"] = nn.Parameter(np.ones(1))
