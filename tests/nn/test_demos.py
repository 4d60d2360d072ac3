"""The demos run end to end as `python -m nn.demos NAME` (tiny sizes) and write their files."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from nn.data.idx import find_data_dir

ROOT = Path(__file__).resolve().parents[2]


def run_demo(*args, timeout=240):
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "nn.demos", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_help_lists_every_demo(capsys):
    from nn.demos import DEMOS, main
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for name in ("lenet", "xor", "perceptron", "autoencoder", "word2vec", "charrnn", "mlp"):
        assert name in DEMOS and f"  {name}" in out
    with pytest.raises(SystemExit) as info:
        main(["nosuchdemo"])
    assert info.value.code == 2 and "invalid choice: 'nosuchdemo'" in capsys.readouterr().err


def test_perceptron_demo_writes_plot_and_reports_xor_failure(tmp_path, capsys):
    from nn.demos import main
    assert main(["perceptron", "--out", str(tmp_path), "--epochs", "30"]) == 0
    assert (tmp_path / "perceptron_errors.png").stat().st_size > 1000
    lines = capsys.readouterr().out.splitlines()
    assert any("unipolar AND: converged" in line for line in lines)
    assert any("bipolar  XOR: still" in line for line in lines)


@pytest.mark.skipif(not (find_data_dir() / "train-images-idx3-ubyte.gz").exists(),
                    reason="Fashion-MNIST not installed")
def test_lenet_main_demo_tiny(tmp_path):
    """The README's main command, as a subprocess, on 256 training images."""
    result = run_demo("--out", str(tmp_path), "--limit", "64", "--test-limit", "200",
                      "--batch-size", "32", "--no-progress")
    assert result.returncode == 0, result.stderr
    assert "LeNet test accuracy:" in result.stdout and "on 200 images" in result.stdout
    assert "confusion matrix" in result.stdout and "Ankle boot" in result.stdout
    assert (tmp_path / "lenet_loss.png").stat().st_size > 1000
    graphs = sorted(p.name for p in tmp_path.glob("lenet_*_graph.*"))
    assert graphs == ["lenet_backward_graph.png", "lenet_forward_graph.png"] or \
        "graph pictures skipped" in result.stdout


# ---------------------------------------------------------------- the other demos, run by name

FORTUNES = Path("/usr/share/games/fortunes/songs-poems")   # the demos' default text (nn.data.text)
needs_fashion = pytest.mark.skipif(not (find_data_dir() / "train-images-idx3-ubyte.gz").exists(),
                                   reason="Fashion-MNIST not installed")
needs_fortunes = pytest.mark.skipif(not FORTUNES.is_file(), reason="fortunes text not installed")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def assert_png(path):
    """``path`` is a real PNG: signature, an IHDR chunk first, a nonzero width and height."""
    import struct
    data = Path(path).read_bytes()
    assert len(data) > 100, f"{path} is {len(data)} bytes"
    assert data[:8] == PNG_MAGIC, f"{path} does not start with the PNG signature"
    assert data[12:16] == b"IHDR", f"{path} has no IHDR chunk first"
    width, height = struct.unpack(">II", data[16:24])
    assert width > 0 and height > 0
    assert data[-8:-4] == b"IEND", f"{path} is truncated (no IEND chunk at the end)"


def saved_files(stdout):
    """Paths from the demos' ``saved PATH`` lines."""
    return [line[len("saved "):].strip() for line in stdout.splitlines() if line.startswith("saved ")]


def run_ok(*args):
    result = run_demo(*args)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_xor_demo_reaches_100_percent_on_both_engines(tmp_path):
    import re

    import numpy as np
    out = run_ok("xor", "--out", str(tmp_path), "--no-progress")
    tensor_line = next(line for line in out.splitlines() if line.startswith("Tensor engine"))
    value_line = next(line for line in out.splitlines() if line.startswith("Value engine"))
    targets = np.array([0.0, 1.0, 1.0, 0.0])
    for line in (tensor_line, value_line):
        assert re.search(r"accuracy (\d+)%", line).group(1) == "100", line
        outputs = np.array(re.search(r"outputs \[([^\]]*)\]", line).group(1).split(), dtype=float)
        assert outputs.shape == (4,) and np.all((outputs >= 0) & (outputs <= 1)), line
        assert np.array_equal(outputs > 0.5, targets > 0.5), line   # the printed outputs agree
        loss = float(re.search(r"final loss ([0-9.]+)", line).group(1))
        assert loss < 0.1, line    # well below the start (BCE ln 2 = 0.69, MSE about 0.25)
    assert "17 scalar parameters" in value_line     # 2*4 + 4 weights/biases, 4 + 1 in the output
    saved = saved_files(out)
    assert str(tmp_path / "xor_loss.png") in saved
    if "graph picture skipped" not in out:
        assert str(tmp_path / "xor_value_graph.png") in saved
    assert saved
    for path in saved:
        assert_png(path)


def test_autoencoder_demo_learns_eight_distinct_codes(tmp_path):
    import re

    import numpy as np
    out = run_ok("autoencoder", "--out", str(tmp_path), "--no-progress")
    rows = [line.split("   ") for line in out.splitlines() if re.match(r"^[01]{8}   \[", line)]
    assert len(rows) == 8, out
    header = next(line for line in out.splitlines() if line.startswith("pattern"))
    starts = [header.index(h) for h in ("hidden code", "rounded", "reconstructed")]
    for line in (line for line in out.splitlines() if re.match(r"^[01]{8}   \[", line)):
        assert line[starts[0]] == "[" and line[starts[1]] in "01" and line[starts[2]].isdigit(), \
            f"columns do not line up with the header:\n{header}\n{line}"
    codes = set()
    for i, row in enumerate(rows):
        pattern, values, bits, recon = (part.strip() for part in row if part.strip())
        assert pattern == "".join("1" if j == i else "0" for j in range(8))
        values = np.array(values.strip("[]").split(), dtype=float)
        assert values.shape == (3,) and np.all((values >= 0) & (values <= 1))
        assert bits == "".join("1" if v > 0.5 else "0" for v in values)   # rounding as printed
        assert int(recon) == i, f"pattern {i} reconstructed as {recon}"
        codes.add(bits)
    assert len(codes) == 8, f"codes not distinct: {sorted(codes)}"
    summary = next(line for line in out.splitlines() if "distinct rounded codes" in line)
    assert summary.startswith("8 distinct rounded codes of 8; all reconstructed: True")
    assert float(re.search(r"final loss ([0-9.]+)", summary).group(1)) < 0.1   # start: ln 8 = 2.08
    assert saved_files(out) == [str(tmp_path / "autoencoder_loss.png")]
    assert_png(tmp_path / "autoencoder_loss.png")


@needs_fashion
def test_mlp_demo_tiny_beats_chance_and_confusion_matches_accuracy(tmp_path):
    import re

    import numpy as np
    out = run_ok("mlp", "--out", str(tmp_path), "--limit", "512", "--test-limit", "300",
                 "--epochs", "1", "--no-progress")
    assert "data: 512 training and 300 test images" in out
    assert "MLP: 235,146 parameters" in out   # 784*256+256 + 256*128+128 + 128*10+10
    acc = float(re.search(r"MLP test accuracy: ([0-9.]+)% on 300 images", out).group(1))
    assert acc > 25.0, out    # chance is 10%; 512 images and one epoch give about 50%
    lines = out.splitlines()
    start = lines.index("confusion matrix (rows: true class, columns: predicted)") + 3   # 2 header lines
    matrix = np.array([line[13:].split() for line in lines[start:start + 10]], dtype=int)
    assert matrix.shape == (10, 10) and matrix.sum() == 300
    assert abs(100 * np.trace(matrix) / 300 - acc) < 0.01   # the matrix agrees with the accuracy
    assert saved_files(out) == [str(tmp_path / "mlp_loss.png")]
    assert_png(tmp_path / "mlp_loss.png")


@needs_fortunes
def test_word2vec_demo_prints_vocabulary_neighbours(tmp_path):
    import re
    from collections import Counter

    from nn.data.text import read_fortunes, tokenize_words
    out = run_ok("word2vec", "--out", str(tmp_path), "--limit", "300", "--epochs", "1",
                 "--no-progress")
    counts = Counter(tokenize_words(read_fortunes(FORTUNES)))
    vocab = {w for w, c in counts.items() if c >= 5}      # the demo's min_count=5
    for mode in ("skipgram", "cbow"):
        assert re.search(rf"^{mode}: {len(vocab)} words \(min count 5\), 300 texts", out, re.M), out
    nearest = re.findall(r"^  nearest to '([a-z']+)': (.*)$", out, re.M)
    assert len(nearest) >= 2, out          # the query words are common in songs-poems
    for query, listing in nearest:
        assert query in vocab
        pairs = re.findall(r"([a-z']+) \((-?[0-9.]+)\)", listing)
        assert len(pairs) == 5, listing
        words = [w for w, _ in pairs]
        sims = [float(s) for _, s in pairs]
        assert all(w in vocab for w in words), f"not vocabulary words: {listing}"
        assert query not in words and len(set(words)) == 5
        assert all(-1.005 <= s <= 1.005 for s in sims) and sims == sorted(sims, reverse=True)
    assert saved_files(out) == [str(tmp_path / "word2vec_loss.png")]
    assert_png(tmp_path / "word2vec_loss.png")


@needs_fortunes
def test_charrnn_demo_loss_falls_and_samples_are_text(tmp_path):
    import math
    import re

    from nn.data.text import read_fortunes
    limit, batch = 12000, 16
    out = run_ok("charrnn", "--out", str(tmp_path), "--limit", str(limit), "--batch-size", str(batch),
                 "--epochs", "1", "--no-progress")
    text = "\n\n".join(read_fortunes(FORTUNES))[:limit]
    chars = set(text)
    assert f"char-rnn: {limit} characters, {len(chars)} distinct" in out
    first, last, n = re.search(r"^loss ([0-9.]+) -> ([0-9.]+) over (\d+) batches$", out, re.M).groups()
    assert int(n) == math.ceil(((limit - 1) // 64) / batch)    # seq_len 64, one epoch
    assert abs(float(first) - math.log(len(chars))) < 0.3      # untrained: about uniform over chars
    assert float(last) < float(first) - 0.5, (first, last)
    parts = re.split(r"^--- temperature ([0-9.]+) ---\n", out.split("\nloss ", 1)[1], flags=re.M)
    temps = parts[1::2]
    samples = parts[2::2]
    assert temps == ["0.5", "0.8", "1.2"]
    samples[-1] = samples[-1].split("\nsaved ")[0] + "\n"
    for sample in samples:
        sample = sample[:-1]           # print's newline
        assert sample.startswith("The ") and len(sample) == 4 + 200, repr(sample)
        assert set(sample) <= chars, set(sample) - chars
        assert sample[4:].strip()      # not only whitespace
    assert saved_files(out) == [str(tmp_path / "charrnn_loss.png")]
    assert_png(tmp_path / "charrnn_loss.png")
