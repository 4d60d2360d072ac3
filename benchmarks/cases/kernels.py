"""Elementwise ops and reductions on a 1000x1000 float32 tensor (200x200 with --quick), fwd and fwd+bwd.

Each op gives two rows, ``kernels.<op>_fwd`` (no graph: ``no_grad`` on both engines) and
``kernels.<op>_fwd_bwd`` (input requires grad, backward with a fixed random upstream gradient).
References: hand-written numpy (forward formula and its derivative) and PyTorch eager.
Reductions are over axis 1.
"""
from __future__ import annotations

import numpy as np

from benchmarks.harness import Case, Skip, optional_import, register, require

SHAPE = (1000, 1000)
QUICK_SHAPE = (200, 200)  # --quick only checks that every row still runs and is right


def _inputs(shape):
    rng = np.random.default_rng(99)
    x = rng.standard_normal(shape).astype(np.float32)
    w = rng.uniform(0.5, 1.5, shape).astype(np.float32)
    return rng, x, w


def _np_softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _np_max_bwd(x, y, g):
    gx = np.zeros_like(x)
    gx[np.arange(x.shape[0]), x.argmax(axis=1)] = g
    return gx


def _np_var_bwd(x, y, g):
    n = x.shape[1]
    return (g[:, None] * (2.0 / n)) * (x - x.mean(axis=1, keepdims=True))


def _np_lse(x):
    m = x.max(axis=1, keepdims=True)
    return (m + np.log(np.exp(x - m).sum(axis=1, keepdims=True)))[:, 0]


# name: (ours(t, w), torch(t, w), numpy forward(x, w), numpy backward(x, y, g, w) -> dx)
OPS = {
    "add": (lambda t, w: t + w, lambda t, w: t + w, lambda x, w: x + w, lambda x, y, g, w: g),
    "mul": (lambda t, w: t * w, lambda t, w: t * w, lambda x, w: x * w, lambda x, y, g, w: g * w),
    "exp": (lambda t, w: t.exp(), lambda t, w: t.exp(), lambda x, w: np.exp(x), lambda x, y, g, w: g * y),
    "tanh": (lambda t, w: t.tanh(), lambda t, w: t.tanh(), lambda x, w: np.tanh(x),
             lambda x, y, g, w: g * (1 - y * y)),
    "sigmoid": (lambda t, w: t.sigmoid(), lambda t, w: t.sigmoid(), lambda x, w: 1 / (1 + np.exp(-x)),
                lambda x, y, g, w: g * y * (1 - y)),
    "relu": (lambda t, w: t.relu(), lambda t, w: t.relu(), lambda x, w: np.maximum(x, 0),
             lambda x, y, g, w: g * (x > 0)),
    "sum_axis1": (lambda t, w: t.sum(axis=1), lambda t, w: t.sum(dim=1), lambda x, w: x.sum(axis=1),
                  lambda x, y, g, w: np.broadcast_to(g[:, None], x.shape).copy()),
    "mean_axis1": (lambda t, w: t.mean(axis=1), lambda t, w: t.mean(dim=1), lambda x, w: x.mean(axis=1),
                   lambda x, y, g, w: np.broadcast_to(g[:, None] / x.shape[1], x.shape).copy()),
    "var_axis1": (lambda t, w: t.var(axis=1, correction=0), lambda t, w: t.var(dim=1, correction=0),
                  lambda x, w: x.var(axis=1), lambda x, y, g, w: _np_var_bwd(x, y, g)),
    "max_axis1": (lambda t, w: t.amax(axis=1), lambda t, w: t.max(dim=1).values, lambda x, w: x.max(axis=1),
                  lambda x, y, g, w: _np_max_bwd(x, y, g)),
    "logsumexp_axis1": (lambda t, w: t.logsumexp(axis=1), lambda t, w: t.logsumexp(dim=1),
                        lambda x, w: _np_lse(x), lambda x, y, g, w: g[:, None] * np.exp(x - y[:, None])),
    "softmax_axis1": (lambda t, w: t.softmax(axis=1), lambda t, w: t.softmax(dim=1),
                      lambda x, w: _np_softmax(x),
                      lambda x, y, g, w: y * (g - (g * y).sum(axis=1, keepdims=True))),
}


def _make(op: str, backward: bool):
    ours_f, torch_f, np_f, np_b = OPS[op]

    def setup(quick):
        rng, x, w = _inputs(QUICK_SHAPE if quick else SHAPE)
        out_shape = np_f(x, w).shape
        g = rng.standard_normal(out_shape).astype(np.float32)
        refs = {}
        if backward:
            def numpy_side():
                y = np_f(x, w)
                return y, np_b(x, y, g, w).astype(np.float32, copy=False)
        else:
            def numpy_side():
                return np_f(x, w)
        refs["numpy"] = numpy_side

        torch = optional_import("torch")
        if torch is None:
            refs["torch"] = Skip("torch not installed")
        else:
            tx = torch.from_numpy(x.copy()).requires_grad_(backward)
            tw, tg = torch.from_numpy(w), torch.from_numpy(g)
            if backward:
                def torch_side():
                    tx.grad = None
                    y = torch_f(tx, tw)
                    y.backward(tg)
                    return y, tx.grad
            else:
                def torch_side():
                    with torch.no_grad():
                        return torch_f(tx, tw)
            refs["torch"] = torch_side

        ad = require("autodiff", "Tensor", "no_grad")
        ax = ad.Tensor(x.copy(), requires_grad=backward)
        aw, ag = ad.Tensor(w), ad.Tensor(g)
        if backward:
            def ours():
                ax.grad = None
                y = ours_f(ax, aw)
                y.backward(ag)
                return y, ax.grad
        else:
            def ours():
                with ad.no_grad():
                    return ours_f(ax, aw)
        size = "x".join(str(d) for d in x.shape)
        return Case(ours=ours, refs=refs, rtol=1e-4, atol=1e-5,
                    notes=f"kernels.*: {size} float32{' (--quick size)' if quick else ''}; reductions over axis 1; "
                          "_fwd without a graph, _fwd_bwd with backward of a fixed random upstream gradient")

    kind = "fwd_bwd" if backward else "fwd"
    setup.__qualname__ = f"kernels_{op}_{kind}"
    register(f"kernels.{op}_{kind}", group="kernels")(setup)


for _op in OPS:
    _make(_op, backward=False)
    _make(_op, backward=True)
