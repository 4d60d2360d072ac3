"""No kernel reads or writes outside its arrays: random pool/conv/im2col configurations under Numba's
bounds checks, and max pooling over windows that hold no input element (-inf, as PyTorch)."""
import os
import subprocess
import sys

import numpy as np
import pytest

import autodiff as ad
import nn.functional as F
from autodiff.kernels import jit

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))


def test_random_configurations_with_bounds_checks(tmp_path):
    """In a fresh process (bounds-checked code is compiled there and never cached, so this process and the
    on-disk cache keep the unchecked kernels): sizes 0 and 1, dilation, padding, ceil_mode, strides."""
    env = dict(os.environ, AUTODIFF_NUMBA_BOUNDSCHECK="1", NUMBA_CACHE_DIR=str(tmp_path),
               PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, os.path.join(HERE, "kernel_sweep.py"), "17", "150"], env=env,
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    status, cases, empty = proc.stdout.split()[-3:]
    assert status == "ok" and int(cases) == 150 and int(empty) > 0   # some windows had no real element


def test_this_process_runs_unchecked_cached_kernels():
    assert not jit.BOUNDSCHECK


CASES_WITHOUT_ELEMENTS = [
    # input shape, kernel_size, padding, dilation (stride = kernel_size, ceil_mode=True)
    ((2, 2, 1, 8), (3, 3), (1, 1), (2, 1)),     # issue 17: rows -1, 1, 3 of a height-1 plane
    ((1, 3, 6, 1), (2, 3), (1, 1), (1, 2)),     # the same along the width
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, kernel, padding, dilation", CASES_WITHOUT_ELEMENTS)
def test_max_pool_window_without_input_element_gives_minus_inf_like_torch(dtype, shape, kernel, padding, dilation):
    """Windows that cover only padding and positions past the end of the plane (possible with dilation and
    ceil_mode; in one axis either every window or none is empty): output -inf, as torch, and backward
    routes their gradient nowhere (torch's backward writes outside its buffer here)."""
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(3).standard_normal(shape).astype(dtype)
    args = dict(kernel_size=kernel, padding=padding, dilation=dilation, ceil_mode=True)
    t = ad.Tensor(x, requires_grad=True)
    y = F.max_pool2d(t, **args)
    ty = torch.nn.functional.max_pool2d(torch.from_numpy(x), **args)
    assert y.shape == tuple(ty.shape)
    np.testing.assert_array_equal(y.data, ty.numpy())
    assert np.isneginf(y.data).all()
    y.sum().backward()
    np.testing.assert_array_equal(t.grad.data, np.zeros_like(x))
    _, idx = F.max_pool2d(t, **args, return_indices=True)
    assert (idx.data == -1).all()
