"""Fused losses: cross-entropy on logits (log-softmax + NLL in one node) and binary cross-entropy."""
import numpy as np

from ..errors import ShapeError
from ..function import Function


def _to_2d(x, ndim):
    """(N, C, d1, ...) -> (N*d1*..., C) with the class axis last; (C,) -> (1, C)."""
    if ndim == 2:
        return x
    if ndim == 1:
        return x.reshape(1, -1)
    perm = (0,) + tuple(range(2, ndim)) + (1,)
    return _permute(x, perm).reshape(-1, x.shape[1])


def _from_2d(g2, shape):
    """Inverse of ``_to_2d``."""
    ndim = len(shape)
    if ndim == 2:
        return g2
    if ndim == 1:
        return g2.reshape(shape)
    moved = (shape[0],) + tuple(shape[2:]) + (shape[1],)
    perm = (0, ndim - 1) + tuple(range(1, ndim - 1))
    return _permute(g2.reshape(moved), perm)


def _permute(x, perm):
    """Axes reordered by ``perm``, for arrays and (under create_graph) Tensors alike."""
    return x.transpose(perm) if isinstance(x, np.ndarray) else x.permute(perm)


def _log_softmax_rows(z):
    """Stable log-softmax over the last axis and the softmax itself, from one exp."""
    shifted = z - z.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    s = e.sum(axis=1, keepdims=True)
    logp = shifted - np.log(s)
    e /= s
    return logp, e


class CrossEntropy(Function):
    """Cross-entropy of logits against class indices or class probabilities, in one node.

    Forward: stable log-softmax, then the (weighted, smoothed) negative log-likelihood. Per sample
    l_i = -sum_c q_ic log p_ic, where q is the one-hot target (or the given probabilities), mixed with
    the uniform distribution by ``label_smoothing`` and multiplied by the class ``weight``.
    Backward: dl_i/dz_ic = p_ic sum_c' q_ic' - q_ic, which is the familiar (p - y) for plain one-hot
    targets. It never goes through log(0). A probability target gets dl_i/dq_ic = -(1 - smoothing) w_c log p_ic.

    Shape:
        logits: (N, C), (C,) or (N, C, d1, ...); target: class indices (N,), () or (N, d1, ...), or
        probabilities of the logits' shape. Output: scalar, or per-sample losses for reduction='none'.
    """

    name = "cross_entropy"

    @staticmethod
    def forward(ctx, logits, target, weight=None, ignore_index=-100, label_smoothing=0.0,
                reduction="mean"):
        shape = logits.shape
        z = _to_2d(logits, logits.ndim)
        n, c = z.shape
        logp, p = _log_softmax_rows(z)
        probs_target = target.dtype.kind == "f"
        fast = weight is None and label_smoothing == 0.0 and not probs_target
        ctx.shape, ctx.reduction, ctx.fast = shape, reduction, fast
        if fast:
            t = target.reshape(-1).astype(np.intp, copy=False)
            valid = t != ignore_index
            all_valid = bool(valid.all())
            if not all_valid:
                t = np.where(valid, t, 0)
            _check_classes(t, c)
            rows = np.arange(n)
            losses = -logp[rows, t]
            if not all_valid:
                losses = np.where(valid, losses, 0)
            denom = float(valid.sum()) if not all_valid else float(n)
            ctx.t, ctx.valid, ctx.rows = t, (None if all_valid else valid), rows
        else:
            if probs_target:
                q = _smoothed_weighted(_to_2d(target, target.ndim).astype(z.dtype, copy=False),
                                       label_smoothing, weight)
                denom = float(n)
                ctx.logp = logp
            else:
                t = target.reshape(-1).astype(np.intp, copy=False)
                valid = t != ignore_index
                t = np.where(valid, t, 0)
                _check_classes(t, c)
                w = np.ones(c, z.dtype) if weight is None else weight.astype(z.dtype, copy=False)
                q = np.zeros((n, c), z.dtype)
                q[np.arange(n), t] = (1 - label_smoothing) * w[t]
                if label_smoothing:
                    q += (label_smoothing / c) * w
                q *= valid[:, None]
                denom = float((w[t] * valid).sum())
            losses = -(q * logp).sum(axis=1)
            ctx.q = q
        ctx.denom = denom
        ctx.probs_target, ctx.label_smoothing, ctx.weight = probs_target, label_smoothing, weight
        ctx.save_for_backward(logits, p, target if probs_target else None)
        if reduction == "none":
            out_shape = (shape[0],) + shape[2:] if len(shape) > 2 else shape[:-1]
            return losses.reshape(out_shape).astype(z.dtype, copy=False)
        total = losses.sum(dtype=np.float64)
        if reduction == "mean":
            total = total / denom if denom else np.nan
        return np.asarray(total, dtype=z.dtype)

    @staticmethod
    def backward(ctx, g):
        logits, p, target = ctx.saved_tensors
        reduction = ctx.reduction
        need_logits, need_target = ctx.needs_input_grad[:2]
        graph = not isinstance(p, np.ndarray)
        if graph:  # create_graph: rebuild the softmax from the logits so it is differentiable again
            logp = _to_2d(logits, logits.ndim).log_softmax(axis=1)
            p = logp.exp()
        if reduction == "none":
            scale = g.reshape(-1, 1)
        elif reduction == "mean":
            scale = g / ctx.denom
        else:
            scale = g
        grad_logits = grad_target = None
        if need_logits:
            if not graph:
                grad = p.copy()
                if ctx.fast:
                    grad[ctx.rows, ctx.t] -= 1
                    if ctx.valid is not None:
                        grad *= ctx.valid[:, None]
                else:
                    q = ctx.q
                    grad *= q.sum(axis=1, keepdims=True)
                    grad -= q
            else:
                if ctx.fast:
                    q = np.zeros(p.shape, p.dtype)
                    q[ctx.rows, ctx.t] = 1
                    if ctx.valid is not None:
                        q *= ctx.valid[:, None]
                elif ctx.probs_target:  # built from the target Tensor: mixed second derivatives flow
                    q = _smoothed_weighted(_to_2d(target, target.ndim), ctx.label_smoothing, ctx.weight)
                else:
                    q = ctx.q
                grad = p * q.sum(axis=1, keepdims=True) - q
            grad_logits = _from_2d(grad * scale, ctx.shape)
        if need_target and ctx.probs_target:
            # dl_i/dq_ic = -(1 - label_smoothing) w_c log p_ic
            dq = (logp if graph else ctx.logp) * -(1.0 - ctx.label_smoothing)
            if ctx.weight is not None:
                dq = dq * ctx.weight
            grad_target = _from_2d(dq * scale, ctx.shape)
        return grad_logits, grad_target


def _smoothed_weighted(q, label_smoothing, weight):
    """The probability target mixed with the uniform distribution, then scaled by the class weights."""
    if label_smoothing:
        q = q * (1 - label_smoothing) + label_smoothing / q.shape[1]
    if weight is not None:
        q = q * weight
    return q


def _check_classes(t, c):
    if t.size and (t.min() < 0 or t.max() >= c):
        bad = t[(t < 0) | (t >= c)][0]
        raise IndexError(f"cross_entropy: target {int(bad)} is out of bounds for {c} classes")


class BinaryCrossEntropy(Function):
    """-w (y log x + (1 - y) log(1 - x)) with the logs clamped at -100 (as PyTorch).

    d/dx = w (x - y) / max(x (1 - x), 1e-12); d/dy = w (log(1 - x) - log x) (clamped logs).

    Shape:
        input: (*) probabilities in [0, 1]; target: same shape; weight: broadcastable.
    """

    name = "binary_cross_entropy"

    @staticmethod
    def forward(ctx, x, y, weight=None):
        if np.any((x < 0) | (x > 1)):
            raise ShapeError("binary_cross_entropy: all input values must be between 0 and 1")
        with np.errstate(divide="ignore"):
            log_x = np.maximum(np.log(x), -100)
            log_1mx = np.maximum(np.log1p(-x), -100)
        out = -(y * log_x + (1 - y) * log_1mx)
        if weight is not None:
            out = out * weight
        ctx.save_for_backward(x, y, weight)
        ctx.logs = (log_x, log_1mx)
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        x, y, weight = ctx.saved_tensors
        need_x, need_y, _ = ctx.needs_input_grad
        if weight is not None:
            g = g * weight
        gx = gy = None
        if need_x:
            gx = g * (x - y) / ((1 - x) * x).clip(1e-12, None) if isinstance(x, np.ndarray) else \
                g * (x - y) / ((1 - x) * x).clip(min=1e-12)
        if need_y:
            log_x, log_1mx = ctx.logs
            gy = g * (log_1mx - log_x)
        return gx, gy, None
