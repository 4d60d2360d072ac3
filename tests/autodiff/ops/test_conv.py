"""conv1d/conv2d: values and gradients against PyTorch over a grid, float64 gradcheck, clear errors."""
import numpy as np
import pytest

import autodiff as ad
from autodiff.ops.conv import conv1d, conv2d

pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")  # PyTorch's own note on even kernels

# x shape, weight shape, keyword arguments
CASES_2D = [
    ((2, 3, 8, 8), (4, 3, 3, 3), dict()),
    ((1, 3, 7, 9), (5, 3, 2, 3), dict(stride=2, padding=1)),                       # batch 1, odd, non-square
    ((2, 4, 9, 7), (6, 2, 3, 2), dict(stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2)),
    ((2, 4, 6, 6), (4, 1, 3, 3), dict(padding=1, groups=4)),                       # depthwise
    ((3, 2, 10, 10), (4, 2, 3, 3), dict(stride=3, dilation=2, padding=2)),
    ((1, 3, 5, 6), (4, 3, 2, 2), dict(padding="same")),                             # asymmetric 'same'
    ((2, 3, 6, 5), (2, 3, 1, 1), dict(stride=(1, 2))),
    ((2, 1, 5, 5), (3, 1, 5, 5), dict()),                                           # kernel == input
]

CASES_1D = [
    ((2, 3, 11), (4, 3, 3), dict()),
    ((1, 4, 10), (6, 2, 4), dict(stride=2, padding=2, dilation=2, groups=2)),
    ((3, 2, 7), (2, 2, 2), dict(padding="same")),
]


def _compare(fn, tfn, rng, xs, ws, kw, bias=True):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal(xs).astype(np.float32)
    w = rng.standard_normal(ws).astype(np.float32)
    b = rng.standard_normal(ws[0]).astype(np.float32) if bias else None
    X, W = ad.Tensor(x, requires_grad=True), ad.Tensor(w, requires_grad=True)
    B = ad.Tensor(b, requires_grad=True) if bias else None
    y = fn(X, W, B, **kw)
    g = rng.standard_normal(y.shape).astype(np.float32)
    (y * ad.Tensor(g)).sum().backward()
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    tb = torch.tensor(b, requires_grad=True) if bias else None
    ty = tfn(tx, tw, tb, **kw)
    (ty * torch.tensor(g)).sum().backward()
    assert y.dtype == np.float32 and y.shape == tuple(ty.shape)
    tol = dict(rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(y.data, ty.detach().numpy(), **tol)
    np.testing.assert_allclose(X.grad.data, tx.grad.numpy(), **tol)
    np.testing.assert_allclose(W.grad.data, tw.grad.numpy(), **tol)
    if bias:
        np.testing.assert_allclose(B.grad.data, tb.grad.numpy(), **tol)


@pytest.mark.parametrize("xs, ws, kw", CASES_2D)
def test_conv2d_matches_torch(rng, xs, ws, kw):
    torch = pytest.importorskip("torch")
    _compare(conv2d, torch.nn.functional.conv2d, rng, xs, ws, kw)


@pytest.mark.parametrize("xs, ws, kw", CASES_1D)
def test_conv1d_matches_torch(rng, xs, ws, kw):
    torch = pytest.importorskip("torch")
    _compare(conv1d, torch.nn.functional.conv1d, rng, xs, ws, kw)


@pytest.mark.parametrize("xs, ws, kw", [c for c in CASES_2D if c[2].get("groups", 1) == 1] + [
    ((5, 3, 8, 8), (4, 3, 3, 3), dict(stride=2, padding=1, dilation=2))])
def test_conv2d_by_sample_blocks_matches_torch(rng, monkeypatch, xs, ws, kw):
    """Large columns are not saved: forward and backward remake them a block of samples at a time (blocks of
    one or two samples here, so uneven last blocks too), with the same values and gradients."""
    torch = pytest.importorskip("torch")
    from autodiff.ops import conv as conv_op

    monkeypatch.setattr(conv_op, "SAVE_COLS_MAX_BYTES", 0)
    k = ws[1] * ws[2] * ws[3]
    for per_block in (1, 2):
        y = conv2d(ad.Tensor(np.zeros(xs, np.float32)), ad.Tensor(np.zeros(ws, np.float32)), **kw)
        monkeypatch.setattr(conv_op, "COL_CHUNK", per_block * k * y.shape[2] * y.shape[3])
        _compare(conv2d, torch.nn.functional.conv2d, rng, xs, ws, kw)


def test_conv2d_large_columns_are_not_kept_for_backward():
    """LeNet's conv2: after forward the graph holds the output (0.8 MB) and the saved input, not the 8 MB
    columns, and the forward's transient columns stay at block size (peak well under 8 MB)."""
    import tracemalloc

    x = ad.Tensor(np.ones((64, 20, 12, 12), np.float32), requires_grad=True)
    w = ad.Tensor(np.ones((50, 20, 5, 5), np.float32), requires_grad=True)
    conv2d(x, w)  # compile / warm up outside the trace
    tracemalloc.start()
    try:
        y = conv2d(x, w)
        held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert y.shape == (64, 50, 8, 8)
    assert held < 2 << 20 and peak < 6 << 20, (held, peak)   # full columns alone: 8 MB


def test_conv2d_without_bias_matches_torch(rng):
    torch = pytest.importorskip("torch")
    _compare(conv2d, torch.nn.functional.conv2d, rng, (2, 2, 5, 5), (3, 2, 3, 3), dict(padding=1), bias=False)


def test_conv2d_unbatched_input(rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((3, 6, 6)).astype(np.float32)
    w = rng.standard_normal((2, 3, 3, 3)).astype(np.float32)
    y = conv2d(ad.Tensor(x), ad.Tensor(w), padding=1)
    want = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), padding=1).numpy()
    np.testing.assert_allclose(y.data, want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("xs, ws, kw", [((1, 2, 4, 5), (2, 1, 2, 3), dict(stride=(1, 2), padding=1, groups=2)),
                                        ((2, 1, 5, 4), (2, 1, 3, 2), dict(dilation=(2, 1), padding=(1, 0)))])
def test_conv2d_gradcheck_float64(rng, xs, ws, kw):
    x = ad.Tensor(rng.standard_normal(xs), requires_grad=True)
    w = ad.Tensor(rng.standard_normal(ws), requires_grad=True)
    b = ad.Tensor(rng.standard_normal(ws[0]), requires_grad=True)
    assert ad.gradcheck(lambda x, w, b: conv2d(x, w, b, **kw), (x, w, b))


def test_conv1d_gradcheck_float64(rng):
    x = ad.Tensor(rng.standard_normal((2, 2, 6)), requires_grad=True)
    w = ad.Tensor(rng.standard_normal((3, 2, 3)), requires_grad=True)
    b = ad.Tensor(rng.standard_normal(3), requires_grad=True)
    assert ad.gradcheck(lambda x, w, b: conv1d(x, w, b, stride=2, padding=1), (x, w, b))


def test_float64_stays_float64(rng):
    x = ad.Tensor(rng.standard_normal((1, 2, 5, 5)), requires_grad=True)
    w = ad.Tensor(rng.standard_normal((3, 2, 3, 3)), requires_grad=True)
    y = conv2d(x, w)
    y.sum().backward()
    assert y.dtype == np.float64 and x.grad.dtype == np.float64 and w.grad.dtype == np.float64


def test_only_needed_gradients_are_computed(rng):
    x = ad.Tensor(rng.standard_normal((1, 2, 5, 5)).astype(np.float32))
    w = ad.Tensor(rng.standard_normal((3, 2, 3, 3)).astype(np.float32), requires_grad=True)
    conv2d(x, w).sum().backward()
    assert x.grad is None and w.grad.shape == (3, 2, 3, 3)


def test_double_backward_through_conv_raises(rng):
    """Conv is once-differentiable: a gradient of its gradient fails with an error naming the op."""
    x = ad.Tensor(rng.standard_normal((1, 1, 4, 4)), requires_grad=True)
    w = ad.Tensor(rng.standard_normal((1, 1, 2, 2)), requires_grad=True)
    (gx,) = ad.grad((conv2d(x, w) ** 2).sum(), [x], create_graph=True)
    with pytest.raises(RuntimeError, match="conv"):
        gx.sum().backward()


def test_conv_errors_name_op_and_shapes():
    x = ad.zeros((2, 3, 8, 8))
    with pytest.raises(ValueError, match=r"conv2d: expected input with 4 channels .* got 3 channels \(input \(2, 3, 8, 8\)\)"):
        conv2d(x, ad.zeros((5, 4, 3, 3)))
    with pytest.raises(ValueError, match=r"conv2d: expected a 4-d input \(N, C, H, W\), got shape \(8, 8\)"):
        conv2d(ad.zeros((8, 8)), ad.zeros((5, 3, 3, 3)))
    with pytest.raises(ValueError, match=r"conv2d: kernel size \(9, 9\) .* larger than the padded input \(8, 8\)"):
        conv2d(x, ad.zeros((5, 3, 9, 9)))
    with pytest.raises(ValueError, match=r"conv2d: groups=2 does not divide the input's 3 channels"):
        conv2d(x, ad.zeros((4, 1, 3, 3)), groups=2)
    with pytest.raises(ValueError, match=r"conv2d: groups=3 does not divide out_channels=4"):
        conv2d(x, ad.zeros((4, 1, 3, 3)), groups=3)
    with pytest.raises(ValueError, match=r"conv2d: bias must have shape \(5,\), got \(4,\)"):
        conv2d(x, ad.zeros((5, 3, 3, 3)), ad.zeros(4))
    with pytest.raises(ValueError, match=r"conv1d: stride \(0,\)"):
        conv1d(ad.zeros((1, 3, 8)), ad.zeros((2, 3, 3)), stride=0)
    with pytest.raises(ValueError, match="padding='same' needs stride 1"):
        conv2d(x, ad.zeros((5, 3, 3, 3)), stride=2, padding="same")


def test_input_gradient_in_sample_blocks_matches_torch(rng, monkeypatch):
    """Large batches build the input gradient block by block; the result must not change."""
    import autodiff.ops.conv as conv_module
    monkeypatch.setattr(conv_module, "COL_CHUNK", 60)  # 1-2 samples per block here
    torch = pytest.importorskip("torch")
    _compare(conv2d, torch.nn.functional.conv2d, rng, (5, 2, 6, 7), (3, 2, 3, 2), dict(stride=(1, 2), padding=1))


def test_valid_conv_relu_2x2_pool_gradcheck_float64(rng):
    """LeNet's block (stride-1 unpadded conv, ReLU, 2x2 / stride-2 max pool, odd size): the bounds-free
    im2col/col2im copies and the select-based pool kernels, against finite differences."""
    from autodiff.ops.pool import max_pool2d
    x = ad.Tensor(rng.standard_normal((2, 2, 8, 9)), requires_grad=True)
    w = ad.Tensor(rng.standard_normal((3, 2, 3, 3)), requires_grad=True)
    b = ad.Tensor(rng.standard_normal(3), requires_grad=True)
    assert ad.gradcheck(lambda x, w, b: max_pool2d(conv2d(x, w, b).relu(), 2, 2), (x, w, b))
