"""Each course demo runs by name as ``python -m nn.demos NAME`` (the way a user runs it), small.

What they print is checked against what it must be: XOR's accuracy on both engines, eight distinct
autoencoder codes, a confusion matrix that agrees with the printed accuracy, nearest words that
occur in the text and exclude the query, a character model whose first loss is about ln(vocabulary)
and then falls; every picture they promise is a real PNG.
"""
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nn.data.idx import find_data_dir

ROOT = Path(__file__).resolve().parents[2]
FORTUNES = Path("/usr/share/games/fortunes/songs-poems")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def run_demo(*args, timeout=300):
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-m", "nn.demos", *args, "--no-progress"], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def assert_png(path):
    data = Path(path).read_bytes()
    assert data[:8] == PNG_MAGIC and len(data) > 2000, path


def test_xor_demo_solves_xor_on_both_engines(tmp_path):
    out = run_demo("xor", "--out", str(tmp_path))
    tensor_line = next(line for line in out.splitlines() if line.startswith("Tensor engine"))
    value_line = next(line for line in out.splitlines() if line.startswith("Value engine"))
    for line in (tensor_line, value_line):
        assert "accuracy 100%" in line
    # the printed outputs really separate the classes (targets 0 1 1 0)
    outs = [float(v) for v in re.search(r"outputs \[([^\]]*)\]", tensor_line).group(1).split()]
    assert outs[0] < 0.5 < outs[1] and outs[2] > 0.5 > outs[3]
    assert_png(tmp_path / "xor_loss.png")
    if "graph picture skipped" not in out:
        assert_png(tmp_path / "xor_value_graph.png")


def test_autoencoder_demo_learns_eight_distinct_codes(tmp_path):
    out = run_demo("autoencoder", "--out", str(tmp_path))
    rows = re.findall(r"^([01]{8})\s+\[[^\]]*\]\s+([01]{3})\s+(\d)$", out, flags=re.M)
    assert len(rows) == 8
    patterns = [p for p, _, _ in rows]
    assert sorted(patterns) == sorted("".join("1" if i == k else "0" for i in range(8)) for k in range(8))
    assert len({code for _, code, _ in rows}) == 8  # a binary-like code: all different
    assert all(p.index("1") == int(r) for p, _, r in rows)  # each pattern reconstructed
    assert "8 distinct rounded codes of 8; all reconstructed: True" in out
    assert_png(tmp_path / "autoencoder_loss.png")


@pytest.mark.skipif(not (find_data_dir() / "train-images-idx3-ubyte.gz").exists(),
                    reason="Fashion-MNIST not installed")
def test_mlp_demo_confusion_matrix_agrees_with_accuracy(tmp_path):
    out = run_demo("mlp", "--out", str(tmp_path), "--limit", "2000", "--test-limit", "500",
                   "--epochs", "1")
    acc = float(re.search(r"MLP test accuracy: ([\d.]+)% on 500 images", out).group(1))
    assert acc > 40  # chance is 10 %; one epoch on 2,000 images reaches about 60 %
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("confusion matrix")) + 2
    matrix = np.array([[int(v) for v in line.split()[-10:]] for line in lines[start:start + 10]])
    assert matrix.shape == (10, 10) and matrix.sum() == 500
    assert math.isclose(100 * np.trace(matrix) / 500, acc, abs_tol=0.01)
    assert_png(tmp_path / "mlp_loss.png")


@pytest.mark.skipif(not FORTUNES.exists(), reason="fortunes not installed")
def test_word2vec_demo_prints_neighbours_from_the_text(tmp_path):
    out = run_demo("word2vec", "--out", str(tmp_path), "--limit", "3000", "--epochs", "1")
    words = set(re.findall(r"[a-z']+", FORTUNES.read_text(errors="replace").lower()))
    found = re.findall(r"nearest to '([^']+)': (.*)$", out, flags=re.M)
    assert len(found) >= 10  # five queries for each of skip-gram and CBOW
    for query, neighbours in found:
        names = re.findall(r"([^\s,]+) \((-?[\d.]+)\)", neighbours)
        assert len(names) == 5
        for name, sim in names:
            assert name in words and name != query
            assert -1.0 <= float(sim) <= 1.0
    assert out.count("man : king = woman : ?") == 2
    assert "skipgram:" in out and "cbow:" in out
    assert_png(tmp_path / "word2vec_loss.png")


@pytest.mark.skipif(not FORTUNES.exists(), reason="fortunes not installed")
def test_charrnn_demo_loss_starts_near_log_vocab_and_falls(tmp_path):
    out = run_demo("charrnn", "--out", str(tmp_path), "--limit", "3000", "--epochs", "1")
    vocab = int(re.search(r"(\d+) distinct", out).group(1))
    first, last = (float(v) for v in re.search(r"loss ([\d.]+) -> ([\d.]+)", out).groups())
    assert abs(first - math.log(vocab)) < 0.3  # an untrained softmax over the characters
    assert last < first
    samples = re.split(r"^--- temperature [\d.]+ ---$", out, flags=re.M)[1:]
    assert len(samples) == 3 and all(len(s.strip()) > 50 for s in samples)
    assert_png(tmp_path / "charrnn_loss.png")
