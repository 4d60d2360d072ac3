"""The README's Python examples run and compute what their comments say."""
import pathlib
import re

import numpy as np

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_blocks_run():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert len(blocks) >= 3
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})


def test_readme_ten_line_example_values():
    ns = {}
    exec(compile(re.findall(r"```python\n(.*?)```", README.read_text(), re.S)[0], "README.md", "exec"), ns)
    a = ns["a"]
    assert np.isclose(a.grad, 2 * 2.0 + (1 - np.tanh(2.0) ** 2))
    x, w = ns["x"], ns["w"]
    expected = (1 - np.tanh(x.data @ w.data) ** 2) @ w.data.T
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-5)


def test_readme_setup_commands_are_the_ci_script():
    text = README.read_text()
    assert "bash .ci/run --demo" in text and "\nbash .ci/run " in text
    ci = (README.parent / ".ci" / "run").read_text()
    assert "python3 -m pytest" in ci and "nn.demos" in ci
