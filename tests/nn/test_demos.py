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
