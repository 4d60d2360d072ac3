"""Errors that name what went wrong: embedding indices, integer inputs, state dicts, checkpoints,
layers inside Sequential."""
import pickle

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F
from nn.checkpoint import CheckpointError


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


# --- Embedding indices -----------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [-1, -5, 5, 7])
def test_embedding_refuses_out_of_range_index_naming_it(torch, bad):
    idx = np.array([1, bad])
    with pytest.raises(IndexError):
        torch.nn.Embedding(5, 3)(torch.tensor(idx))          # torch refuses the same indices
    emb = nn.Embedding(5, 3)
    with pytest.raises(IndexError, match=rf"index {bad} is out of range .* 5 rows"):
        emb(ad.tensor(idx))
    with pytest.raises(IndexError, match=rf"index {bad}"):
        F.embedding(idx, emb.weight)


def test_embedding_in_range_indices_match_torch(torch):
    ref = torch.nn.Embedding(5, 3)
    emb = nn.Embedding(5, 3)
    emb.load_state_dict({"weight": ref.weight.detach().numpy()})
    idx = np.array([[0, 4], [3, 3]])
    np.testing.assert_array_equal(emb(idx).data, ref(torch.tensor(idx)).detach().numpy())


# --- integer inputs to layers with float weights ---------------------------------------------------
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.bool_])
@pytest.mark.parametrize("make", [
    lambda: (nn.Linear(4, 2), (3, 4), "linear"),
    lambda: (nn.BatchNorm1d(4), (3, 4), "batch_norm"),
    lambda: (nn.LayerNorm(4), (3, 4), "layer_norm"),
    lambda: (nn.PReLU(4), (3, 4), "prelu"),
], ids=["Linear", "BatchNorm1d", "LayerNorm", "PReLU"])
def test_integer_input_to_float_layer_is_refused_like_torch(torch, make, dtype):
    layer, shape, who = make()
    x = np.ones(shape, dtype)
    tlayer = {"linear": torch.nn.Linear(4, 2), "batch_norm": torch.nn.BatchNorm1d(4),
              "layer_norm": torch.nn.LayerNorm(4), "prelu": torch.nn.PReLU(4)}[who]
    with pytest.raises((RuntimeError, NotImplementedError)):
        tlayer(torch.tensor(x))
    with pytest.raises(RuntimeError, match=rf"{who}: input has dtype .*call \.float\(\)"):
        layer(ad.tensor(x))
    with pytest.raises(TypeError):       # also catchable as a TypeError
        layer(x)
    assert layer(ad.tensor(x).float()).shape == shape[:-1] + ((2,) if who == "linear" else (4,))


# --- load_state_dict ---------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [np.full((2, 4), "0.5"), np.full((2, 4), "abc"), "abc",
                                   np.full((2, 4), None, dtype=object)], ids=["str-num", "str", "scalar", "obj"])
def test_load_state_dict_refuses_non_numeric_arrays_and_changes_nothing(value):
    lin = nn.Linear(4, 2)
    before = {k: v.data.copy() for k, v in lin.state_dict().items()}
    state = {"weight": value, "bias": np.zeros(2, np.float32)}
    with pytest.raises(TypeError, match=r"'weight' has dtype .*expected numbers.*nothing was changed"):
        lin.load_state_dict(state)
    for k, v in lin.state_dict().items():
        np.testing.assert_array_equal(v.data, before[k])


# --- nn.load ------------------------------------------------------------------------------------------
def test_load_of_a_directory_says_so(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a directory"):
        nn.load(tmp_path)


@pytest.mark.parametrize("kind", ["pickle", "npz-object"])
def test_load_of_pickled_data_says_it_never_loads_pickles(tmp_path, kind):
    path = tmp_path / "model.ckpt"
    if kind == "pickle":
        path.write_bytes(pickle.dumps({"weight": np.ones(3)}))
    else:
        with open(path, "wb") as f:
            np.savez(f, w=np.array([{"a": 1}], dtype=object))
    with pytest.raises(CheckpointError) as info:
        nn.load(path)
    msg = str(info.value)
    assert "contains pickled objects, which nn.load never loads (safety): save with nn.save" in msg
    assert "allow_pickle" not in msg and str(path) in msg


# --- errors inside Sequential -----------------------------------------------------------------------
class _Boom(nn.Module):
    def __init__(self, error):
        super().__init__()
        self.error = error

    def forward(self, x):
        raise self.error


def test_sequential_names_the_failing_layer_and_keeps_the_error_type():
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(5, 2))
    with pytest.raises(ValueError) as info:
        model(ad.randn(2, 4))
    msg = str(info.value)
    assert msg.startswith("Sequential[2] (Linear): linear: input of shape (2, 3)"), msg
    with pytest.raises(KeyError, match=r"Sequential\[0\] \(_Boom\): missing"):
        nn.Sequential(_Boom(KeyError("missing")))(ad.randn(1))
    with pytest.raises(ZeroDivisionError, match=r"^Sequential\[1\] \(_Boom\): ZeroDivisionError$"):
        nn.Sequential(nn.Identity(), _Boom(ZeroDivisionError()))(ad.randn(1))


def test_nested_sequential_prefixes_each_level():
    inner = nn.Sequential(nn.Identity(), nn.Linear(3, 2))
    model = nn.Sequential(nn.Identity(), inner)
    with pytest.raises(ValueError, match=r"^Sequential\[1\] \(Sequential\): Sequential\[1\] \(Linear\): "
                                         r"linear: input of shape \(2, 4\)"):
        model(ad.randn(2, 4))
