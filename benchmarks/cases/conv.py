"""Convolution, pooling, im2col/col2im and GEMM rows, and the LeNet training step vs PyTorch.

Rows:
    conv.conv2d_20to50_k5_fwd_bwd   Conv 20->50, 5x5 on 64x20x12x12 (LeNet's second conv), forward and
        backward (input, weight and bias gradients), GFLOP/s counted as 3 GEMMs of 2*50*500*4096.
    conv.gemm_50x500x4096           the forward GEMM of that conv alone: the machine's GEMM rate at
        this shape, to read the conv's GF/s against.
    conv.im2col_64x20x12x12_k5 / conv.col2im_...  Numba kernels vs the numpy reference.
    conv.max_pool2d_fwd_bwd / conv.avg_pool2d_fwd_bwd  2x2 pooling of 64x20x24x24 (LeNet's first pool).
    conv.matmul_<m>x<k>x<n>          the dispatcher ``autodiff.kernels.gemm.matmul`` vs plain np.matmul.
    conv.numba_gemm_<s>              the Numba GEMM kernel vs np.matmul on s x s x s: where the ratio
        crosses 1.00x is the crossover encoded as ``NUMBA_MAX_FLOPS``.
    conv.lenet_step                  the course's LeNet, batch 64, cross-entropy, one SGD step, vs PyTorch
        (same weights and data: ``benchmarks.cases.startup.lenet_step``). Its peak memory is the
        ``memory.lenet_step`` row; cold/warm first-step times are the ``startup.lenet_*`` rows.
"""
from __future__ import annotations

import numpy as np

from benchmarks.harness import Case, Skip, optional_import, register, require

_SEED = 55


def _rng():
    return np.random.default_rng(_SEED)


def _f32(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


@register("conv.conv2d_20to50_k5_fwd_bwd", group="conv")
def conv_fwd_bwd(quick):
    ad = require("autodiff", "Tensor")
    from autodiff.ops.conv import conv2d

    rng = _rng()
    x, w, b = _f32(rng, 64, 20, 12, 12), _f32(rng, 50, 20, 5, 5) * 0.05, _f32(rng, 50)
    g = _f32(rng, 64, 50, 8, 8)
    X, W, B, G = ad.Tensor(x, requires_grad=True), ad.Tensor(w, requires_grad=True), \
        ad.Tensor(b, requires_grad=True), ad.Tensor(g)

    def ours():
        X.grad = W.grad = B.grad = None
        y = conv2d(X, W, B)
        y.backward(G)
        return y.data, X.grad.data, W.grad.data, B.grad.data

    refs = {}
    torch = optional_import("torch")
    if torch is not None:
        tx, tw, tb = (torch.from_numpy(a.copy()).requires_grad_() for a in (x, w, b))
        tg = torch.from_numpy(g)

        def ref():
            tx.grad = tw.grad = tb.grad = None
            y = torch.nn.functional.conv2d(tx, tw, tb)
            y.backward(tg)
            return y.detach(), tx.grad, tw.grad, tb.grad
        refs["torch"] = ref
    else:
        refs["torch"] = Skip("torch not installed")
    return Case(ours=ours, refs=refs, flops=3 * 2 * 50 * 500 * 4096, rtol=1e-3, atol=1e-3,
                notes="conv 20->50 5x5 on 64x20x12x12: forward + backward (dx, dW, db); "
                      "GF/s counts the 3 GEMMs (2*50*500*4096 each)")


@register("conv.gemm_50x500x4096", group="conv")
def conv_gemm(quick):
    from autodiff.kernels.gemm import matmul

    rng = _rng()
    a, b = _f32(rng, 50, 500), _f32(rng, 500, 4096)
    torch = optional_import("torch")
    refs = {"numpy": lambda: np.matmul(a, b)}
    if torch is not None:
        ta, tb = torch.from_numpy(a), torch.from_numpy(b)
        refs["torch"] = lambda: torch.mm(ta, tb)
    return Case(ours=lambda: matmul(a, b), refs=refs, flops=2 * 50 * 500 * 4096, rtol=1e-3, atol=1e-3,
                notes="the conv's forward GEMM alone (weights (50, 500) @ columns (500, 4096)): the GEMM rate "
                      "to compare the conv row's GF/s with")


def _im2col_inputs():
    rng = _rng()
    return _f32(rng, 64, 20, 12, 12)


@register("conv.im2col_64x20x12x12_k5", group="conv")
def im2col_row(quick):
    from autodiff.kernels import im2col
    from autodiff.kernels import reference

    x = _im2col_inputs()
    return Case(ours=lambda: im2col.im2col(x, (5, 5)), refs={"numpy": lambda: reference.im2col(x, (5, 5))}, rtol=0, atol=0,
                notes="im2col (Numba; one thread below 16M elements, prange over channel x sample blocks above) "
                      "vs the numpy reference "
                      "(25 strided slice copies); output (500, 4096) float32")


@register("conv.col2im_64x20x12x12_k5", group="conv")
def col2im_row(quick):
    from autodiff.kernels import im2col
    from autodiff.kernels import reference

    cols = _f32(_rng(), 500, 4096)
    shape = (64, 20, 12, 12)
    return Case(ours=lambda: im2col.col2im(cols, shape, (5, 5)), refs={"numpy": lambda: reference.col2im(cols, shape, (5, 5))},
                rtol=1e-5, atol=1e-5, notes="col2im (scatter-add) vs the numpy reference (25 strided slice adds)")


def _pool_case(kind):
    ad = require("autodiff", "Tensor")
    from autodiff.kernels import reference
    from autodiff.ops import pool as pool_ops

    rng = _rng()
    x = (rng.permutation(64 * 20 * 24 * 24).reshape(64, 20, 24, 24) / 1000.0).astype(np.float32)
    g = _f32(rng, 64, 20, 12, 12)
    X, G = ad.Tensor(x, requires_grad=True), ad.Tensor(g)
    fn = pool_ops.max_pool2d if kind == "max" else pool_ops.avg_pool2d

    def ours():
        X.grad = None
        y = fn(X, 2)
        y.backward(G)
        return y.data, X.grad.data

    if kind == "max":
        def numpy_ref():
            y, idx = reference.max_pool2d(x, (2, 2), (2, 2))
            return y, reference.max_pool2d_backward(g, idx, x.shape)
    else:
        def numpy_ref():
            return reference.avg_pool2d(x, (2, 2), (2, 2)), reference.avg_pool2d_backward(g, x.shape, (2, 2), (2, 2))
    refs = {"numpy": numpy_ref}
    torch = optional_import("torch")
    if torch is not None:
        tx, tg = torch.from_numpy(x.copy()).requires_grad_(), torch.from_numpy(g)
        tfn = torch.nn.functional.max_pool2d if kind == "max" else torch.nn.functional.avg_pool2d

        def torch_ref():
            tx.grad = None
            y = tfn(tx, 2)
            y.backward(tg)
            return y.detach(), tx.grad
        refs["torch"] = torch_ref
    return Case(ours=ours, refs=refs, rtol=1e-5, atol=1e-6,
                notes=f"{kind} pooling 2x2 of 64x20x24x24 (LeNet's first pool), forward + backward")


@register("conv.max_pool2d_fwd_bwd", group="conv")
def max_pool_row(quick):
    return _pool_case("max")


@register("conv.avg_pool2d_fwd_bwd", group="conv")
def avg_pool_row(quick):
    return _pool_case("avg")


_DISPATCH_SHAPES = [(8, 8, 8), (64, 800, 500), (20, 25, 36864), (50, 500, 4096), (512, 512, 512)]


def _matmul_row(m, k, n):
    def setup(quick):
        if quick and m * k * n > 2 ** 26:
            raise Skip("--quick leaves out the large product")
        from autodiff.kernels.gemm import matmul

        rng = _rng()
        a, b = _f32(rng, m, k), _f32(rng, k, n)
        refs = {"numpy": lambda: np.matmul(a, b)}
        torch = optional_import("torch")
        if torch is not None:
            ta, tb = torch.from_numpy(a), torch.from_numpy(b)
            refs["torch"] = lambda: torch.mm(ta, tb)
        return Case(ours=lambda: matmul(a, b), refs=refs, flops=2 * m * k * n, rtol=1e-3, atol=1e-3,
                    notes="autodiff.kernels.gemm.matmul picks: Numba kernel for tiny products, one-thread BLAS "
                          "for thin ones (a dim < 128), all-thread BLAS for large ones; vs plain np.matmul")
    return setup


for _m, _k, _n in _DISPATCH_SHAPES:
    register(f"conv.matmul_{_m}x{_k}x{_n}", group="conv")(_matmul_row(_m, _k, _n))


_QUICK_GEMM_SIZES = (4, 16, 64)  # --quick only checks a few sizes still run and agree


def _numba_gemm_row(s):
    def setup(quick):
        if quick and s not in _QUICK_GEMM_SIZES:
            raise Skip(f"--quick runs only sizes {_QUICK_GEMM_SIZES}")
        from autodiff.kernels import gemm

        rng = _rng()
        a, b = _f32(rng, s, s), _f32(rng, s, s)
        zero = np.zeros(s, np.float32)

        def ours():
            out = np.empty((s, s), np.float32)
            gemm._gemm_kernel(a, b, zero, 0, out)
            return out
        return Case(ours=ours, refs={"numpy": lambda: np.matmul(a, b)}, flops=2 * s ** 3, rtol=1e-4, atol=1e-4,
                    notes=f"Numba GEMM kernel vs BLAS on square products; the crossover (ratio 1.00x) is encoded "
                          f"as NUMBA_MAX_FLOPS = {gemm.NUMBA_MAX_FLOPS} multiply-adds")
    return setup


for _s in (4, 8, 16, 24, 32, 64):
    register(f"conv.numba_gemm_{_s}", group="conv")(_numba_gemm_row(_s))


def lenet_flops(batch=64):
    """Multiply-adds x 2 of one LeNet step: forward, weight gradients, input gradients except conv1's."""
    conv1 = 2 * batch * 20 * 24 * 24 * 25
    fwd = conv1 + 2 * batch * 50 * 8 * 8 * 500 + 2 * batch * 800 * 500 + 2 * batch * 500 * 10
    return 3 * fwd - conv1


@register("conv.lenet_step", group="conv", isolated=True)
def lenet_step_row(quick):
    require("nn", "Conv2d", "MaxPool2d", "Linear")
    return Case(isolated="benchmarks.cases.startup:lenet_step", sides=("ours", "torch"), rtol=1e-4, atol=1e-5,
                flops=lenet_flops(),
                notes="the course's LeNet (Conv 1->20 5x5, ReLU, MaxPool 2, Conv 20->50 5x5, ReLU, MaxPool 2, "
                      "FC 800->500, ReLU, FC 500->10), batch 64 of 1x28x28 float32, cross-entropy, one SGD step; "
                      "checked on the first step's loss (same weights and data). Threads: Numba's kernels use the "
                      "workqueue layer with --threads workers (parallel drivers only for large inputs); "
                      "thin GEMMs use one BLAS thread")
