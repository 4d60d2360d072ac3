"""The README's "How it is built" tree names the files a reader looks for (it once omitted some)."""
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _layout_block():
    text = (ROOT / "README.md").read_text()
    section = text.split("## How it is built", 1)[1]
    return re.search(r"```\n(.*?)```", section, re.S).group(1)


@pytest.mark.parametrize("path", ["autodiff/ops/padmode.py", "autodiff/ops/hooks.py", "nn/examples.py",
                                  "nn/callbacks.py", "nn/hooks.py", "nn/parameter.py", "nn/optim/_kernels.py",
                                  "nn/optim/_schedules.py", "nn/data/sampler.py", "benchmarks/memprobe.py"])
def test_layout_names_the_file(path):
    assert (ROOT / path).is_file(), path
    name = pathlib.Path(path).name
    stem = name[:-3]
    block = _layout_block()
    assert name in block or re.search(rf"(?<![\w.]){re.escape(stem)}(?![\w.])", block), \
        f"{path} is not in README's 'How it is built'"
