"""Tests for nn.data.idx, nn.data.generated and nn.data.text."""

import gzip
import os

import numpy as np
import pytest

from nn.data import generated, text
from nn.data.idx import DEFAULT_DATA_DIR, find_data_dir, load_idx, load_image_set, save_idx


# ---------------------------------------------------------------- IDX
def _write_raw(path, payload: bytes):
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wb") as fh:
        fh.write(payload)


def _idx_header(code, shape):
    return bytes([0, 0, code, len(shape)]) + np.asarray(shape, dtype=">u4").tobytes()


@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.int32, np.float32, np.float64])
def test_idx_round_trip(tmp_path, suffix, dtype):
    rng = np.random.default_rng(0)
    array = (rng.normal(size=(3, 4, 5)) * 50).astype(dtype)
    path = save_idx(array, tmp_path / f"a-idx3-ubyte{suffix}")
    back = load_idx(path)
    assert back.dtype == np.dtype(dtype) and back.shape == (3, 4, 5)
    np.testing.assert_array_equal(back, array)


def test_idx_header_bytes_match_format(tmp_path):
    # hand-written file: uint8 magic 0x00000801, one dim of size 3, big-endian
    path = tmp_path / "labels-idx1-ubyte"
    _write_raw(path, b"\x00\x00\x08\x01\x00\x00\x00\x03" + bytes([7, 0, 9]))
    np.testing.assert_array_equal(load_idx(path), [7, 0, 9])
    # an int32 file stores big-endian values
    path32 = tmp_path / "i32"
    _write_raw(path32, _idx_header(0x0C, (2,)) + np.array([1, -2], ">i4").tobytes())
    np.testing.assert_array_equal(load_idx(path32), [1, -2])


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_truncated_data(tmp_path, suffix):
    path = tmp_path / f"train-images-idx3-ubyte{suffix}"
    _write_raw(path, _idx_header(0x08, (2, 3, 3)) + bytes(10))
    with pytest.raises(ValueError) as info:
        load_idx(path)
    msg = str(info.value)
    assert "truncated" in msg and str(path) in msg
    assert "expected 34 bytes" in msg and "got 26" in msg and "(2, 3, 3)" in msg


def test_idx_truncated_header_and_trailing_bytes(tmp_path):
    short = tmp_path / "short"
    _write_raw(short, b"\x00\x00\x08\x03\x00\x00")
    with pytest.raises(ValueError, match="header needs 16 bytes"):
        load_idx(short)
    long = tmp_path / "long"
    _write_raw(long, _idx_header(0x08, (2,)) + bytes(5))
    with pytest.raises(ValueError, match="too long.*expected 10 bytes, got 13"):
        load_idx(long)


def test_idx_truncated_gzip_stream(tmp_path):
    good = tmp_path / "good.gz"
    save_idx(np.arange(1000, dtype=np.uint8).reshape(10, 100), good)
    bad = tmp_path / "bad.gz"
    bad.write_bytes(good.read_bytes()[:-20])
    with pytest.raises(ValueError, match="cannot read.*bad.gz"):
        load_idx(bad)


@pytest.mark.parametrize("magic", [b"\x01\x00\x08\x01", b"\x00\x00\x07\x01", b"PK\x03\x04"])
def test_idx_bad_magic(tmp_path, magic):
    path = tmp_path / "x-labels-idx1-ubyte"
    _write_raw(path, magic + b"\x00\x00\x00\x01\x05")
    with pytest.raises(ValueError, match="bad magic number 0x" + magic.hex()):
        load_idx(path)


def test_idx_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope"):
        load_idx(tmp_path / "nope")


def _fake_set(directory, prefix, n, gz=True, rows=4, cols=5, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, rows, cols), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    ext = ".gz" if gz else ""
    save_idx(images, directory / f"{prefix}-images-idx3-ubyte{ext}")
    save_idx(labels, directory / f"{prefix}-labels-idx1-ubyte{ext}")
    return images, labels


def test_load_image_set_from_directory(tmp_path):
    tr_images, tr_labels = _fake_set(tmp_path, "train", 6, gz=True)
    te_images, te_labels = _fake_set(tmp_path, "t10k", 3, gz=False, seed=1)
    images, labels = load_image_set(tmp_path, split="train")
    assert images.dtype == np.uint8 and images.shape == (6, 4, 5)
    assert labels.dtype == np.int64
    np.testing.assert_array_equal(images, tr_images)
    np.testing.assert_array_equal(labels, tr_labels)
    images, labels = load_image_set(tmp_path, split="test", scale=True)
    assert images.dtype == np.float32
    np.testing.assert_allclose(images, te_images / 255.0, rtol=1e-6)
    assert 0.0 <= images.min() and images.max() <= 1.0
    images, _ = load_image_set(tmp_path, kind="t10k")
    np.testing.assert_array_equal(images, te_images)


def test_load_image_set_env_var(tmp_path, monkeypatch):
    _fake_set(tmp_path, "train", 2)
    monkeypatch.delenv("FASHION_MNIST_DIR", raising=False)
    monkeypatch.setenv("AUTODIFF_DATA_DIR", str(tmp_path))
    assert find_data_dir() == tmp_path
    images, _ = load_image_set()
    assert images.shape == (2, 4, 5)
    monkeypatch.delenv("AUTODIFF_DATA_DIR")
    monkeypatch.setenv("FASHION_MNIST_DIR", str(tmp_path))
    assert find_data_dir() == tmp_path
    monkeypatch.delenv("FASHION_MNIST_DIR")
    assert str(find_data_dir()) == str(os.path.normpath(DEFAULT_DATA_DIR))


def test_load_image_set_errors(tmp_path):
    with pytest.raises(ValueError, match="split must be 'train' or 'test'"):
        load_image_set(tmp_path, split="valid")
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        load_image_set(tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_image_set(tmp_path / "missing")
    save_idx(np.zeros((3, 2, 2), np.uint8), tmp_path / "train-images-idx3-ubyte")
    save_idx(np.zeros(4, np.uint8), tmp_path / "train-labels-idx1-ubyte")
    with pytest.raises(ValueError, match="3 images .* but 4 labels"):
        load_image_set(tmp_path)
    # labels file swapped for an images file
    save_idx(np.zeros((3, 2, 2), np.uint8), tmp_path / "train-labels-idx1-ubyte")
    with pytest.raises(ValueError, match=r"labels of shape \(N,\), got uint8 \(3, 2, 2\)"):
        load_image_set(tmp_path)


@pytest.mark.skipif(not os.path.exists(os.path.join(DEFAULT_DATA_DIR, "t10k-labels-idx1-ubyte.gz")),
                    reason="Fashion-MNIST not installed")
def test_real_fashion_mnist():
    images, labels = load_image_set(DEFAULT_DATA_DIR, split="test")
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert labels.min() == 0 and labels.max() == 9
    np.testing.assert_array_equal(np.bincount(labels), [1000] * 10)   # balanced test set
    images, labels = load_image_set(DEFAULT_DATA_DIR, split="train")
    assert images.shape == (60000, 28, 28) and labels.shape == (60000,)
    np.testing.assert_array_equal(np.bincount(labels), [6000] * 10)


# ---------------------------------------------------------------- generated
@pytest.mark.parametrize("gate,expected", [("and", [0, 0, 0, 1]), ("or", [0, 1, 1, 1]),
                                           ("xor", [0, 1, 1, 0])])
def test_truth_tables(gate, expected):
    X, y = generated.truth_table(gate)
    np.testing.assert_array_equal(X, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(y, expected)
    Xb, yb = generated.truth_table(gate, bipolar=True)
    np.testing.assert_array_equal(Xb, 2 * X - 1)
    np.testing.assert_array_equal(yb, 2 * np.array(expected) - 1)
    fn = {"and": generated.and_gate, "or": generated.or_gate, "xor": generated.xor_gate}[gate]
    np.testing.assert_array_equal(fn(bipolar=True)[1], yb)
    with pytest.raises(ValueError, match="unknown gate 'nand'"):
        generated.truth_table("nand")


@pytest.mark.parametrize("make,kwargs,n_classes", [
    (generated.two_moons, dict(n_samples=101), 2),
    (generated.spirals, dict(n_samples=90, n_classes=3), 3),
    (generated.gaussian_blobs, dict(n_samples=80, centers=4, n_features=3), 4),
])
def test_classification_sets_shapes_labels_seeding(make, kwargs, n_classes):
    X, y = make(seed=3, **kwargs)
    n = kwargs["n_samples"]
    assert X.dtype == np.float32 and X.shape == (n, kwargs.get("n_features", 2))
    assert y.dtype == np.int64 and y.shape == (n,)
    counts = np.bincount(y, minlength=n_classes)
    assert len(counts) == n_classes and counts.max() - counts.min() <= 1
    X2, y2 = make(seed=3, **kwargs)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    X3, _ = make(seed=4, **kwargs)
    assert not np.allclose(X, X3)


def test_two_moons_geometry():
    X, y = generated.two_moons(n_samples=200, noise=0.0, seed=0)
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0, atol=1e-5)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1.0, atol=1e-5)


def test_blobs_centres_and_sine():
    centres = np.array([[0.0, 0.0], [10.0, 10.0]])
    X, y = generated.gaussian_blobs(n_samples=2000, centers=centres, cluster_std=0.5, seed=1)
    np.testing.assert_allclose(X[y == 1].mean(axis=0), [10, 10], atol=0.1)
    np.testing.assert_allclose(X[y == 0].std(axis=0), [0.5, 0.5], atol=0.05)
    x, t = generated.noisy_sine(n_samples=5000, noise=0.1, seed=2)
    assert x.shape == t.shape == (5000, 1)
    assert abs(np.std(t - np.sin(x)) - 0.1) < 0.01
    with pytest.raises(ValueError, match="noisy_sine: n_samples"):
        generated.noisy_sine(n_samples=0)


# ---------------------------------------------------------------- text
def test_read_fortunes_and_tokens(tmp_path):
    path = tmp_path / "fort"
    path.write_text("The cat sat.\nOn the MAT!\n%\nDon't panic\n%\n\n%\nlast one")
    entries = text.read_fortunes(path)
    assert entries == ["The cat sat.\nOn the MAT!", "Don't panic", "last one"]
    assert text.tokenize_words(entries) == ["the", "cat", "sat", "on", "the", "mat", "don't",
                                            "panic", "last", "one"]
    plain = tmp_path / "plain.txt"
    plain.write_text("para one\n\npara two\n")
    assert text.read_fortunes(plain) == ["para one", "para two"]


def test_vocab_and_chars():
    vocab = text.build_vocab(["b", "a", "b", "c", "b", "a", "d"], min_count=2)
    assert vocab.itos == ["b", "a"] and list(vocab.counts) == [3, 2]
    np.testing.assert_array_equal(vocab.encode(["a", "zz", "b"]), [1, 0])
    with pytest.raises(KeyError, match="'zz' is not in the vocabulary"):
        vocab["zz"]
    chars, stoi = text.char_vocab("hello")
    assert chars == ["e", "h", "l", "o"]
    codes = text.encode_chars("hole", stoi)
    assert text.decode_chars(codes, chars) == "hole"
    with pytest.raises(KeyError, match="'z' not in the vocabulary"):
        text.encode_chars("z", stoi)


@pytest.mark.skipif(not os.path.exists(text.DEFAULT_FORTUNES), reason="fortunes not installed")
def test_real_fortunes():
    entries = text.read_fortunes()
    assert len(entries) > 100
    assert not any(line.strip() == "%" for e in entries for line in e.split("\n"))
    assert "the" in text.tokenize_words(entries[:50])
