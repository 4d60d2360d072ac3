"""Padding layers vs PyTorch: forward, backward, reprs."""
import numpy as np
import pytest

import autodiff
import nn

torch = pytest.importorskip("torch")

KINDS = ["ZeroPad", "ConstantPad", "ReflectionPad", "ReplicationPad", "CircularPad"]
PADS = {1: [2, (1, 2)], 2: [1, (1, 0, 2, 1)], 3: [1, (1, 0, 0, 1, 1, 1)]}


def _make(lib, kind, d, padding):
    cls = getattr(lib, f"{kind}{d}d")
    return cls(padding, 1.5) if kind == "ConstantPad" else cls(padding)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pad_matches_torch(kind, d, batched, dtype):
    rng = np.random.default_rng(d)
    shape = ((2,) if batched else ()) + (3,) + (4,) * d
    x = rng.standard_normal(shape).astype(dtype)
    for padding in PADS[d]:
        ours, ref = _make(nn, kind, d, padding), _make(torch.nn, kind, d, padding)
        assert repr(ours) == repr(ref)
        xt = autodiff.Tensor(x, requires_grad=True)
        tt = torch.tensor(x, requires_grad=True)
        y, yt = ours(xt), ref(tt)
        g = rng.standard_normal(tuple(yt.shape)).astype(dtype)
        (y * autodiff.Tensor(g)).sum().backward()
        (yt * torch.tensor(g)).sum().backward()
        tol = 1e-6 if dtype == np.float32 else 1e-12
        assert y.data.dtype == dtype
        np.testing.assert_allclose(y.data, yt.detach().numpy(), rtol=tol, atol=tol)
        np.testing.assert_allclose(xt.grad.data if hasattr(xt.grad, "data") else xt.grad,
                                   tt.grad.numpy(), rtol=1e-5, atol=1e-5)


def test_bad_padding_and_input_raise():
    with pytest.raises(ValueError, match="ZeroPad2d"):
        nn.ZeroPad2d((1, 2, 3))
    with pytest.raises(ValueError, match="ReflectionPad2d"):
        nn.ReflectionPad2d(1)(autodiff.Tensor(np.zeros(4)))
    with pytest.raises(ValueError):
        nn.ReflectionPad1d(4)(autodiff.Tensor(np.zeros((1, 2, 3))))
