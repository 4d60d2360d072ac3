"""Function forms of PyTorch's further losses (``F.kl_div``, ``F.huber_loss``, ...).

Reached through ``nn.functional``. Each is a composition of differentiable Tensor ops, so gradients reach
every Tensor argument (targets included) and second derivatives work. Names, argument order, defaults
and the legacy ``size_average`` / ``reduce`` arguments are PyTorch's.
"""
import math

import numpy as np

from autodiff import Tensor, where

from . import functional as F
from ._distance import pairwise_distance
from autodiff.errors import ShapeError

__all__ = ["kl_div", "smooth_l1_loss", "huber_loss", "soft_margin_loss", "margin_ranking_loss",
           "cosine_embedding_loss", "poisson_nll_loss", "gaussian_nll_loss", "triplet_margin_loss",
           "hinge_embedding_loss", "multilabel_soft_margin_loss", "multi_margin_loss", "multilabel_margin_loss",
           "triplet_margin_with_distance_loss"]


def _t(x):
    return x if isinstance(x, Tensor) else Tensor(x)


def legacy_reduction(size_average, reduce, reduction):
    """PyTorch's mapping of the deprecated ``size_average`` / ``reduce`` flags to a reduction name."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


def _same_shape(name, *tensors):
    tensors = [_t(t) for t in tensors]
    shape = tensors[0].shape
    for t in tensors[1:]:
        if t.shape != shape:
            raise ShapeError(f"{name}: input shapes {' and '.join(str(tuple(u.shape)) for u in tensors)} differ")
    return tensors


def _broadcast(name, *tensors):
    tensors = [_t(t) for t in tensors]
    try:
        np.broadcast_shapes(*(t.shape for t in tensors))
    except ValueError:
        raise ShapeError(f"{name}: shapes {' and '.join(str(tuple(t.shape)) for t in tensors)} do not "
                         f"broadcast") from None
    return tensors


def _const(value, like):
    return np.asarray(value, like.dtype if like.dtype.kind == "f" else np.float32)


def _xlogy(x):
    """x log x with 0 log 0 = 0; the log's argument is kept away from 0 in the graph."""
    positive = x.data > 0
    return where(positive, x * where(positive, x, _const(1, x)).log(), _const(0, x))


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """KL divergence of log-probabilities ``input`` from ``target``: target (log target - input).

    With ``log_target`` the target holds log-probabilities: e^target (target - input).
    ``reduction='batchmean'`` divides the sum by the batch size (the KL divergence's actual mean);
    ``'mean'`` divides by the number of elements, as PyTorch.
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    if reduction not in ("mean", "batchmean", "sum", "none"):
        raise ShapeError(f"kl_div: reduction must be 'mean', 'batchmean', 'sum' or 'none', got {reduction!r}")
    input, target = _broadcast("kl_div", input, target)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = _xlogy(target) - target * input
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    return F._reduce(loss, reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta, for d = input - target (beta=0: L1)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    F._check_reduction("smooth_l1_loss", reduction)
    if beta < 0:
        raise ShapeError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    input, target = _broadcast("smooth_l1_loss", input, target)
    diff = input - target
    size = diff.abs()
    if beta == 0:
        return F._reduce(size, reduction)
    loss = where(size.data < beta, diff * diff * (0.5 / beta), size - 0.5 * beta)
    return F._reduce(loss, reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """0.5 d^2 where |d| <= delta, else delta (|d| - 0.5 delta); times ``weight`` when given."""
    F._check_reduction("huber_loss", reduction)
    if delta <= 0:
        raise ShapeError(f"huber_loss: delta must be positive, got {delta}")
    input, target = _broadcast("huber_loss", input, target)
    diff = input - target
    size = diff.abs()
    loss = where(size.data <= delta, diff * diff * 0.5, (size - 0.5 * delta) * delta)
    if weight is not None:
        loss = loss * weight
    return F._reduce(loss, reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """log(1 + e^(-y x)) for labels y in {1, -1}, computed stably."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    F._check_reduction("soft_margin_loss", reduction)
    input, target = _broadcast("soft_margin_loss", input, target)
    return F._reduce((-(target * input)).softplus(), reduction)


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    """max(0, -y (x1 - x2) + margin) for y in {1, -1}."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    F._check_reduction("margin_ranking_loss", reduction)
    input1, input2, target = _broadcast("margin_ranking_loss", input1, input2, target)
    return F._reduce((-target * (input1 - input2) + margin).relu(), reduction)


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    """1 - cos(x1, x2) where y = 1, max(0, cos(x1, x2) - margin) where y = -1.

    cos = x1 . x2 / sqrt((|x1|^2 + 1e-12)(|x2|^2 + 1e-12)) along the last dim, as PyTorch.

    Shape:
        input1, input2 (N, D) or (D,); target (N,) or () -> (N,) for reduction='none'.
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    F._check_reduction("cosine_embedding_loss", reduction)
    input1, input2 = _t(input1), _t(input2)
    y = np.asarray(target.data if isinstance(target, Tensor) else target)
    if input1.shape != input2.shape or input1.ndim not in (1, 2):
        raise ShapeError(f"cosine_embedding_loss: inputs must both be (N, D) or (D,), got shapes "
                         f"{tuple(input1.shape)} and {tuple(input2.shape)}")
    if y.shape != tuple(input1.shape[:-1]):
        raise ShapeError(f"cosine_embedding_loss: target of shape {y.shape} does not match inputs of shape "
                         f"{tuple(input1.shape)} (expected {tuple(input1.shape[:-1])})")
    eps = 1e-12
    dot = (input1 * input2).sum(axis=-1)
    square1 = (input1 * input1).sum(axis=-1) + eps
    square2 = (input2 * input2).sum(axis=-1) + eps
    cos = dot / (square1 * square2).sqrt()
    zero = _const(0, cos)
    loss = where(y == 1, 1 - cos, zero) + where(y == -1, (cos - margin).relu(), zero)
    return F._reduce(loss, reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean"):
    """Poisson negative log-likelihood: e^x - y x (``log_input``) or x - y log(x + eps).

    ``full`` adds Stirling's term y log y - y + 0.5 log(2 pi y) where y > 1.
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    F._check_reduction("poisson_nll_loss", reduction)
    input, target = _broadcast("poisson_nll_loss", input, target)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        above = target.data > 1
        safe = where(above, target, _const(1, target))
        stirling = safe * safe.log() - safe + (safe * (2 * math.pi)).log() * 0.5
        loss = loss + where(above, stirling, _const(0, stirling))
    return F._reduce(loss, reduction)


def _broadcasts_to(small, shape):
    try:
        return np.broadcast_shapes(tuple(small), shape) == shape
    except ValueError:
        return False


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """0.5 (log max(var, eps) + (input - target)^2 / max(var, eps)) (+ 0.5 log(2 pi) when ``full``).

    As PyTorch, the clamp at ``eps`` is not differentiated: var's gradient is taken as if unclamped.
    ``var`` has the input's shape, or that shape with the last dim 1 or dropped (one variance per
    sample), or is a float.
    """
    F._check_reduction("gaussian_nll_loss", reduction)
    input, target = _t(input), _t(target)
    if not isinstance(var, Tensor):
        var = Tensor(np.full(input.shape, var, input.dtype))
    shape = tuple(input.shape)
    if tuple(var.shape) != shape:
        if shape[:-1] == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif not (shape[:-1] == tuple(var.shape[:-1]) and var.shape[-1] == 1) and \
                not (input.ndim == var.ndim and _broadcasts_to(var.shape, shape)):
            raise ShapeError(f"gaussian_nll_loss: var of shape {tuple(var.shape)} does not match input of "
                             f"shape {shape}")
    if np.any(var.data < 0):
        raise ShapeError("gaussian_nll_loss: var has negative entry/entries")
    # clamp at eps without a gradient of its own: add the clamp's shift as a constant
    var = var + Tensor(np.maximum(var.data, eps) - var.data)
    diff = input - target
    loss = (var.log() + diff * diff / var) * 0.5
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return F._reduce(loss, reduction)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean"):
    """max(d(a, p) - d(a, n) + margin, 0) with d = ``pairwise_distance`` (p-norm, eps).

    ``swap`` uses min(d(a, n), d(p, n)) as the negative distance.

    Shape:
        anchor, positive, negative (N, D) or (D,) -> (N,) for reduction='none'.
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    F._check_reduction("triplet_margin_loss", reduction)
    anchor, positive, negative = _t(anchor), _t(positive), _t(negative)
    if not (anchor.ndim == positive.ndim == negative.ndim) or anchor.ndim not in (1, 2):
        raise ShapeError(f"triplet_margin_loss: anchor, positive and negative must all be (N, D) or (D,), got "
                         f"shapes {tuple(anchor.shape)}, {tuple(positive.shape)} and {tuple(negative.shape)}")
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = d_neg.minimum(pairwise_distance(positive, negative, p, eps))
    return F._reduce((d_pos - d_neg + margin).relu(), reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    """x where y = 1, max(0, margin - x) where y = -1 (PyTorch adds both terms for other labels)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    F._check_reduction("hinge_embedding_loss", reduction)
    input = _t(input)
    y = np.asarray(target.data if isinstance(target, Tensor) else target)
    _broadcast("hinge_embedding_loss", input, y)
    zero = _const(0, input)
    loss = where(y != 1, (margin - input).relu(), zero) + where(y != -1, input, zero)
    return F._reduce(loss, reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """-(y log sigmoid(x) + (1 - y) log sigmoid(-x)), times ``weight``, averaged over the classes.

    Shape:
        input (N, C) or (C,), target same -> (N,) or () for reduction='none'.
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    F._check_reduction("multilabel_soft_margin_loss", reduction)
    input, target = _same_shape("multilabel_soft_margin_loss", input, target)
    if input.ndim == 0:
        raise ShapeError("multilabel_soft_margin_loss: input must have a class dimension, got a 0-d tensor")
    # log sigmoid(x) = -softplus(-x), log sigmoid(-x) = -softplus(x)
    loss = target * (-input).softplus() + (1 - target) * input.softplus()
    if weight is not None:
        loss = loss * weight
    loss = loss.sum(axis=-1) / input.shape[-1]
    return F._reduce(loss, reduction)


def _class_targets(name, input, target, per_class=False):
    """Integer targets as an array, checked against the (N, C) or (C,) input."""
    y = np.asarray(target.data if isinstance(target, Tensor) else target)
    if y.dtype.kind not in "iu":
        raise TypeError(f"{name}: target must hold integer class indices, got dtype {y.dtype}")
    if input.ndim not in (1, 2):
        raise ShapeError(f"{name}: input must be (N, C) or (C,), got shape {tuple(input.shape)}")
    expected = tuple(input.shape) if per_class else tuple(input.shape[:-1])
    if y.shape != expected:
        raise ShapeError(f"{name}: target of shape {y.shape} does not match input of shape {tuple(input.shape)} "
                         f"(expected {expected})")
    c = input.shape[-1]
    if y.size and (y.max() >= c or y.min() < (-1 if per_class else 0)):
        raise IndexError(f"{name}: target values must be in [0, {c}), got {int(y.max() if y.max() >= c else y.min())}")
    return y


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                      reduction="mean"):
    """Multi-class hinge loss: sum over i != y of w[y] max(0, margin - x[y] + x[i])^p, divided by C.

    Shape:
        input (N, C) or (C,), target (N,) or () class indices -> (N,) or () for reduction='none'.
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    F._check_reduction("multi_margin_loss", reduction)
    if p not in (1, 2):
        raise ShapeError(f"multi_margin_loss: only p = 1 and p = 2 are supported, got p={p}")
    input = _t(input)
    y = _class_targets("multi_margin_loss", input, target)
    x = input.reshape(-1, input.shape[-1])
    rows = y.reshape(-1).astype(np.intp)
    n, c = x.shape
    picked = x[np.arange(n), rows].reshape(n, 1)
    hinge = (x - picked + margin).relu()
    if p == 2:
        hinge = hinge * hinge
    if weight is not None:
        w = np.asarray(weight.data if isinstance(weight, Tensor) else weight)
        hinge = hinge * w[rows].reshape(n, 1).astype(hinge.dtype)
    others = np.ones((n, c), bool)
    others[np.arange(n), rows] = False
    loss = where(others, hinge, _const(0, hinge)).sum(axis=1) / c
    return F._reduce(loss.reshape(y.shape), reduction)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Multi-label hinge loss: sum over target classes j and non-target classes i of max(0, 1 - (x[j] - x[i])) / C.

    ``target`` holds class indices per sample, ended by the first -1 (as PyTorch).

    Shape:
        input (N, C) or (C,), target same shape (int) -> (N,) or () for reduction='none'.
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    F._check_reduction("multilabel_margin_loss", reduction)
    input = _t(input)
    y = _class_targets("multilabel_margin_loss", input, target, per_class=True)
    x = input.reshape(-1, input.shape[-1])
    n, c = x.shape
    counts = np.zeros((n, c))  # how often each class is listed before the first -1
    for row, labels in enumerate(y.reshape(n, c)):
        stop = np.flatnonzero(labels < 0)
        np.add.at(counts[row], labels[:stop[0] if stop.size else c], 1)
    others = (counts == 0).astype(x.dtype)
    pair = (x.reshape(n, 1, c) - x.reshape(n, c, 1) + 1).relu()  # [n, j, i]: 1 - (x_j - x_i)
    weights = (counts.reshape(n, c, 1) * others.reshape(n, 1, c)).astype(x.dtype)
    loss = (pair * weights).sum(axis=(1, 2)) / c
    return F._reduce(loss.reshape(y.shape[:-1]), reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0,
                                      swap=False, reduction="mean"):
    """max(d(a, p) - d(a, n) + margin, 0) with any distance function (default ``pairwise_distance``).

    Shape:
        anchor, positive, negative (N, D) or (D,) -> (N,) or () for reduction='none'.
    """
    F._check_reduction("triplet_margin_with_distance_loss", reduction)
    if margin <= 0:
        raise ShapeError(f"triplet_margin_with_distance_loss: margin must be greater than 0, got {margin}")
    anchor, positive, negative = _t(anchor), _t(positive), _t(negative)
    distance = pairwise_distance if distance_function is None else distance_function
    d_pos = distance(anchor, positive)
    d_neg = distance(anchor, negative)
    if swap:
        d_neg = d_neg.minimum(distance(positive, negative))
    return F._reduce((d_pos - d_neg + margin).relu(), reduction)
