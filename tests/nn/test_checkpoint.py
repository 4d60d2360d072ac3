"""nn.checkpoint: round trips without pickle, atomic writes, clear errors on damaged files."""

import os
import zipfile

import numpy as np
import pytest

from nn import checkpoint
from nn.checkpoint import CheckpointError, load, save


@pytest.fixture
def state(rng):
    return {
        "model": {"0.weight": rng.normal(size=(3, 2)).astype(np.float32),
                  "0.bias": np.zeros(3, np.float32),
                  "bn.num_batches_tracked": np.array(5, dtype=np.int64)},
        "optimizer": {"state": {0: {"step": 3, "exp_avg": rng.normal(size=(3, 2))},
                                1: {"step": 3, "exp_avg": np.ones(3)}},
                      "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "amsgrad": False,
                                        "params": [0, 1], "name": None}]},
        "epoch": 7, "best": float("inf"), "loss": np.float32(0.25),
        "labels": np.array(["cat", "dog"]),
    }


def _assert_same(a, b):
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _assert_same(x, y)
    elif isinstance(a, (np.ndarray, np.generic)):
        assert a.dtype == b.dtype and np.shape(a) == np.shape(b)
        np.testing.assert_array_equal(a, b)
    else:
        assert a == b


def test_round_trip(tmp_path, state):
    path = tmp_path / "ckpt.npz"
    save(state, path)
    _assert_same(load(path), state)
    assert sorted(os.listdir(tmp_path)) == ["ckpt.npz"]  # no temporary files left


def test_plain_numpy_can_read_it_without_pickle(tmp_path, state):
    path = tmp_path / "ckpt.npz"
    save(state, path)
    with np.load(path, allow_pickle=False) as npz:
        np.testing.assert_array_equal(npz["model.0.weight"], state["model"]["0.weight"])
        np.testing.assert_array_equal(npz["optimizer.state.0.exp_avg"],
                                      state["optimizer"]["state"][0]["exp_avg"])
        assert npz["__checkpoint__"].dtype == np.uint8


def test_tensors_are_saved_as_arrays(tmp_path):
    ad = pytest.importorskip("autodiff")
    w = ad.tensor([[1.0, 2.0]], requires_grad=True)
    save({"w": w}, tmp_path / "t.npz")
    out = load(tmp_path / "t.npz")["w"]
    assert isinstance(out, np.ndarray) and out.dtype == np.float32
    np.testing.assert_array_equal(out, w.data)


def test_truncated_file_gives_clear_error(tmp_path, state):
    path = tmp_path / "ckpt.npz"
    save(state, path)
    data = path.read_bytes()
    for cut in (len(data) // 2, len(data) - 10, 30):
        path.write_bytes(data[:cut])
        with pytest.raises(CheckpointError, match="ckpt.npz.*corrupt or truncated"):
            load(path)


def test_corrupted_bytes_give_clear_error(tmp_path, state):
    path = tmp_path / "ckpt.npz"
    save(state, path)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("model.0.weight.npy")
    data[info.header_offset + 120] ^= 0xFF  # flip a byte inside the array data
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="ckpt.npz"):
        load(path)


def test_foreign_or_mismatched_file(tmp_path):
    path = tmp_path / "plain.npz"
    np.savez(path, a=np.zeros(2))
    with pytest.raises(CheckpointError, match="plain.npz.*not a checkpoint"):
        load(path)
    save({"a": np.zeros(2)}, path)
    with zipfile.ZipFile(path, "a") as z:
        z.writestr("extra.npy", b"")
    with pytest.raises(CheckpointError, match="plain.npz"):
        load(path)
    with pytest.raises(FileNotFoundError, match="missing.npz"):
        load(tmp_path / "missing.npz")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(CheckpointError, match="text.npz"):
        load(tmp_path / "text.npz")


def test_crash_mid_write_keeps_previous_file(tmp_path, state, monkeypatch):
    path = tmp_path / "ckpt.npz"
    save(state, path)
    before = path.read_bytes()

    def crashing_writer(f, arrays):
        f.write(b"PK\x03\x04 partial")
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(checkpoint, "_write_arrays", crashing_writer)
    with pytest.raises(KeyboardInterrupt):
        save({"other": np.ones(4)}, path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["ckpt.npz"]
    monkeypatch.undo()
    _assert_same(load(path), state)


def test_unsavable_values_are_refused_before_writing(tmp_path):
    path = tmp_path / "x.npz"
    with pytest.raises(TypeError, match="object array"):
        save({"a": np.array([{}, 1], dtype=object)}, path)
    with pytest.raises(TypeError, match="set"):
        save({"a": {1, 2}}, path)
    with pytest.raises(ValueError, match="same key 'a.b'"):
        save({"a.b": np.zeros(1), "a": {"b": np.zeros(1)}}, path)
    assert not path.exists()
    with pytest.raises(FileNotFoundError, match="no_such_dir"):
        save({"a": 1}, tmp_path / "no_such_dir" / "x.npz")
