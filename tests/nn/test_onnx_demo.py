"""``python -m nn.demos onnx``: the trained LeNet in onnxruntime and in PyTorch gives our outputs."""
import re

import pytest

from nn.data.idx import find_data_dir

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")


@pytest.mark.skipif(not (find_data_dir() / "train-images-idx3-ubyte.gz").exists(),
                    reason="Fashion-MNIST not installed")
def test_onnx_demo_tiny(tmp_path, capsys):
    from nn.demos import DEMOS, main
    assert "onnx" in DEMOS
    assert main(["onnx", "--out", str(tmp_path), "--limit", "64", "--test-limit", "100", "--batch-size", "32",
                 "--no-progress", "--no-graph"]) == 0
    out = capsys.readouterr().out
    assert f"saved {tmp_path / 'lenet.onnx'}" in out
    lines = [line for line in out.splitlines() if "max |difference| from ours" in line]
    assert lines and lines[0].startswith("onnxruntime on 100 test images")
    for line in lines:
        assert float(re.search(r"from ours ([0-9.e+-]+)", line).group(1)) < 1e-5, line
        assert "same class for 100.0% of images" in line, line
    import onnx
    onnx.checker.check_model(onnx.load(tmp_path / "lenet.onnx"), full_check=True)
