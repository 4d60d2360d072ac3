"""Function forms of the layers, activations and losses (``import nn.functional as F``).

Each takes Tensors (arrays are wrapped) and returns a Tensor recorded in the graph. Names, argument
order and defaults are PyTorch's; where PyTorch says ``dim`` numpy's ``axis`` is accepted too.
"""
import numpy as np

import autodiff
from autodiff import Tensor
# convolution and pooling live in autodiff.ops (Numba kernels); their function forms are re-exported here
from autodiff.ops.conv import conv1d, conv2d
from autodiff.ops.padmode import pad
from autodiff.ops.pool import (adaptive_avg_pool1d, adaptive_avg_pool2d, avg_pool1d, avg_pool2d, max_pool1d,
                               max_pool2d)
# the forms the layers call (layer name for errors, number of spatial axes, one recurrent layer direction);
# public names, but not torch API, so not in __all__
from autodiff.ops.conv import conv_nd, int_tuple, normalize_conv_args
from autodiff.ops.padmode import check_pad_mode, pad_mode
from autodiff.ops.pool import adaptive_avg_pool_nd, avg_pool_nd, max_pool_nd
from autodiff.ops.recurrent import gru_cell_step, gru_sequence, lstm_sequence, rnn_sequence

from autodiff.ops.activation import ELU, ArcTan, LeakyReLU, PReLU, Softplus, Step
from autodiff.ops.embedding import EmbeddingFunction
from autodiff.ops.hooks import with_grad_callback  # Module backward hooks (not torch API)
from autodiff.ops.linear import LinearFunction
from autodiff.ops.loss import BinaryCrossEntropy, CrossEntropy
from autodiff.ops.norm import Normalize

from . import _activation_functions, _distance, _loss_functions, _spatial
from ._activation_functions import (celu, glu, hardshrink, hardsigmoid, hardswish, hardtanh, logsigmoid, mish,
                                    relu6, rrelu, selu, softmin, softshrink, softsign, tanhshrink, threshold)
from ._distance import cosine_similarity, normalize, one_hot, pairwise_distance
from ._loss_functions import (cosine_embedding_loss, gaussian_nll_loss, hinge_embedding_loss, huber_loss, kl_div,
                              margin_ranking_loss, multi_margin_loss, multilabel_margin_loss,
                              multilabel_soft_margin_loss, poisson_nll_loss, smooth_l1_loss, soft_margin_loss,
                              triplet_margin_loss, triplet_margin_with_distance_loss)
from ._spatial import interpolate, pixel_shuffle, pixel_unshuffle
from autodiff.ops.conv_transpose import conv_transpose1d, conv_transpose2d
from autodiff.ops.fold import fold, unfold

__all__ = [
    "linear", "identity", "step", "sigmoid", "tanh", "arctan", "relu", "leaky_relu", "prelu", "elu",
    "softplus", "softmax", "log_softmax", "dropout", "embedding", "batch_norm", "layer_norm",
    "mse_loss", "l1_loss", "sse_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "cross_entropy", "nll_loss", "conv1d", "conv2d", "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d",
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "pad",
]
__all__ += _activation_functions.__all__ + _distance.__all__ + _loss_functions.__all__ + _spatial.__all__
__all__ += ["conv_transpose1d", "conv_transpose2d", "fold", "unfold"]
# 3-d convolution and pooling, adaptive max pooling, max-unpooling and power-average pooling
from autodiff.ops.conv3d import conv3d, conv_transpose3d
from autodiff.ops.pool3d import (adaptive_avg_pool3d, adaptive_max_pool1d, adaptive_max_pool2d, adaptive_max_pool3d,
                                 avg_pool3d, lp_pool1d, lp_pool2d, lp_pool3d, max_pool3d)
from autodiff.ops.unpool import max_unpool1d, max_unpool2d, max_unpool3d
from autodiff.ops.unpool import max_unpool_nd  # the layers' entry (layer name in errors); not torch API

__all__ += ["conv3d", "conv_transpose3d", "max_pool3d", "avg_pool3d", "adaptive_avg_pool3d", "adaptive_max_pool1d",
            "adaptive_max_pool2d", "adaptive_max_pool3d", "max_unpool1d", "max_unpool2d", "max_unpool3d",
            "lp_pool1d", "lp_pool2d", "lp_pool3d"]
# attention and the Transformer activations
from autodiff.ops.attention import scaled_dot_product_attention
from autodiff.ops.attention import split_heads  # MultiheadAttention's head split; not torch API
from autodiff.ops.gelu import GELU as _GELU
from autodiff.ops.gelu import SiLU as _SiLU

__all__ += ["gelu", "silu", "scaled_dot_product_attention"]


def _t(x):
    return x if isinstance(x, Tensor) else Tensor(x)


class FloatInputError(RuntimeError, TypeError):
    """An integer or bool input to a layer with float weights (PyTorch raises RuntimeError; the
    class is also a TypeError, so either ``except`` works)."""


def _require_float(who, input, weight=None):
    """Refuse integer/bool ``input`` of a layer with float parameters, as PyTorch does."""
    kind = input.dtype.kind
    if kind in "biu":
        against = f" but the weight is {weight.dtype}" if weight is not None else ""
        raise FloatInputError(f"{who}: input has dtype {input.dtype}{against}; integer and bool "
                              f"inputs are not converted automatically: call .float() on the input "
                              f"(input shape {tuple(input.shape)})")


def _axis(axis, dim, default=-1):
    if dim is not None:
        return dim
    return default if axis is None else axis


# --- layers --------------------------------------------------------------------------------------
def linear(input, weight, bias=None):
    """y = x W^T + b as one graph node.

    Shape:
        input (*, in_features), weight (out_features, in_features), bias (out_features,)
        -> (*, out_features).
    """
    input = _t(input)
    _require_float("linear", input, weight)
    if input.ndim == 0 or input.shape[-1] != weight.shape[-1]:
        raise ValueError(f"linear: input of shape {tuple(input.shape)} does not match weight of shape "
                         f"{tuple(weight.shape)} (last input dim must be in_features={weight.shape[-1]})")
    return LinearFunction.apply(input, weight, bias)


def dropout(input, p=0.5, training=True, inplace=False):
    """Inverted dropout: zero each element with probability p and scale the rest by 1/(1-p).

    Identity when not training (or p == 0). Uses ``autodiff.default_generator()``.

    Shape:
        any -> same.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability has to be between 0 and 1, but got {p}")
    input = _t(input)
    if not training or p == 0.0:
        return input
    dtype = input.dtype if input.dtype.kind == "f" else np.float32
    if p == 1.0:
        mask = np.zeros(input.shape, dtype)
    else:
        keep = autodiff.default_generator().random(input.shape, dtype=np.float32) >= p
        mask = keep.astype(dtype) * dtype.type(1.0 / (1.0 - p))
    return input * mask


def embedding(input, weight, padding_idx=None):
    """Rows of ``weight`` selected by integer ``input``; no gradient reaches row ``padding_idx``.

    Shape:
        input (*) integers, weight (num_embeddings, embedding_dim) -> (*, embedding_dim).
    """
    idx = np.asarray(input.data if isinstance(input, Tensor) else input)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got dtype {idx.dtype}")
    n = weight.shape[0]
    if padding_idx is not None and padding_idx < 0:
        padding_idx += n
    return EmbeddingFunction.apply(weight, idx, padding_idx=padding_idx)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1,
               eps=1e-5):
    """Batch normalisation over every axis except the channel axis 1.

    In training (or without running statistics) it normalises with the batch mean and the biased
    batch variance, and updates the running statistics in place as PyTorch does:
    running = (1 - momentum) running + momentum batch, with the UNBIASED batch variance.
    Otherwise it uses the running statistics.

    Shape:
        input (N, C) or (N, C, *), running stats / weight / bias (C,) -> same as input.
    """
    input = _t(input)
    _require_float("batch_norm", input, weight)
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected input with at least 2 dims (N, C, ...), got shape "
                         f"{tuple(input.shape)}")
    c = input.shape[1]
    pshape = (1, c) + (1,) * (input.ndim - 2)
    axes = (0,) + tuple(range(2, input.ndim))
    x = input.data
    if x.size == 0:  # empty batch: empty output, running statistics unchanged (as PyTorch)
        mean = np.zeros(pshape, x.dtype)
        return Normalize.apply(input, weight, bias, mean=mean, var=np.ones_like(mean), eps=eps, axes=axes,
                               pshape=pshape, through_stats=False)
    if training or running_mean is None:
        count = x.size // c
        if training and count <= 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when training, got input "
                             f"of shape {tuple(input.shape)}")
        mean = x.mean(axis=axes, keepdims=True)
        var = x.var(axis=axes, keepdims=True)
        if training and running_mean is not None:
            rm, rv = running_mean.data, running_var.data
            unbiased = var.reshape(c) * (count / max(count - 1, 1))
            rm *= 1 - momentum
            rm += momentum * mean.reshape(c).astype(rm.dtype)
            rv *= 1 - momentum
            rv += momentum * unbiased.astype(rv.dtype)
            running_mean._version[0] += 1
            running_var._version[0] += 1
        through = True
    else:
        mean = running_mean.data.reshape(pshape)
        var = running_var.data.reshape(pshape)
        through = False
    return Normalize.apply(input, weight, bias, mean=mean, var=var, eps=eps, axes=axes, pshape=pshape,
                           through_stats=through)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the last ``len(normalized_shape)`` dims of each sample, then scale and shift.

    Shape:
        input (*, *normalized_shape), weight/bias normalized_shape -> same as input.
    """
    input = _t(input)
    _require_float("layer_norm", input, weight)
    ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if tuple(input.shape[input.ndim - len(ns):]) != ns:
        raise ValueError(f"layer_norm: input of shape {tuple(input.shape)} does not end with the "
                         f"normalized_shape {ns}")
    axes = tuple(range(input.ndim - len(ns), input.ndim))
    x = input.data
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    return Normalize.apply(input, weight, bias, mean=mean, var=var, eps=eps, axes=axes, pshape=ns,
                           through_stats=True)


# --- activations ---------------------------------------------------------------------------------
def identity(input):
    """f(x) = x."""
    return _t(input)


def step(input, bipolar=False):
    """Binary step for perceptrons: 1 for x >= 0, else 0 ({0, 1}) or -1 ({-1, 1} when ``bipolar``).

    Its gradient is zero.
    """
    return Step.apply(_t(input), bipolar=bipolar)


def sigmoid(input, beta=1.0):
    """The course's logistic function 1 / (1 + e^(-beta x)) (beta=1: PyTorch's sigmoid).

    Its derivative is beta s (1 - s).
    """
    input = _t(input)
    return input.sigmoid() if beta == 1 else (input * beta).sigmoid()


def tanh(input):
    """tanh(x) = 2 sigmoid(2x) - 1; derivative 1 - tanh^2."""
    return _t(input).tanh()


def arctan(input):
    """arctan(x); derivative 1 / (1 + x^2)."""
    return ArcTan.apply(_t(input))


def relu(input, inplace=False):
    """max(x, 0); derivative 1 for x > 0, else 0. ``inplace=True`` computes out of place."""
    return _t(input).relu()


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x for x > 0, else negative_slope * x. ``inplace=True`` computes out of place."""
    return LeakyReLU.apply(_t(input), negative_slope=negative_slope)


def prelu(input, weight):
    """x for x > 0, else a x; ``weight`` holds one a (shared) or one per channel (axis 1)."""
    input = _t(input)
    _require_float("prelu", input, weight)
    if weight.data.size != 1 and (input.ndim == 0 or input.shape[1 if input.ndim >= 2 else 0] != weight.data.size):
        raise ValueError(f"prelu: weight of shape {tuple(weight.shape)} does not match the channels of "
                         f"input of shape {tuple(input.shape)}")
    return PReLU.apply(input, weight)


def elu(input, alpha=1.0, inplace=False):
    """x for x > 0, else alpha (e^x - 1). ``inplace=True`` computes out of place."""
    return ELU.apply(_t(input), alpha=alpha)


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + e^(beta x)) / beta; x itself where beta x > threshold (PyTorch's definition)."""
    return Softplus.apply(_t(input), beta=beta, threshold=threshold)


def softmax(input, axis=None, dim=None):
    """e^x / sum(e^x) along ``axis`` (default -1), max-shifted so it never overflows."""
    return _t(input).softmax(axis=_axis(axis, dim))


def log_softmax(input, axis=None, dim=None):
    """x - logsumexp(x) along ``axis`` (default -1), computed stably."""
    return _t(input).log_softmax(axis=_axis(axis, dim))


# --- losses --------------------------------------------------------------------------------------
_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(name, reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{name}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _pair(name, input, target):
    input, target = _t(input), _t(target)
    if input.shape != target.shape:
        raise ValueError(f"{name}: input shape {tuple(input.shape)} and target shape "
                         f"{tuple(target.shape)} differ")
    return input, target


def mse_loss(input, target, reduction="mean"):
    """(x - y)^2, averaged (default), summed or per element."""
    _check_reduction("mse_loss", reduction)
    input, target = _pair("mse_loss", input, target)
    diff = input - target
    return _reduce(diff * diff, reduction)


def l1_loss(input, target, reduction="mean"):
    """|x - y|, averaged (default), summed or per element."""
    _check_reduction("l1_loss", reduction)
    input, target = _pair("l1_loss", input, target)
    return _reduce((input - target).abs(), reduction)


def sse_loss(input, target, reduction="sum"):
    """The course's error E = 1/2 sum_p sum_k (y_pk - yhat_pk)^2 (its gradient is yhat - y).

    ``reduction='sum'`` (default) gives E over the whole batch; ``'mean'`` the mean over patterns
    (axis 0) of E_p; ``'none'`` E_p per pattern (for 0-d or 1-d input: per element).
    """
    _check_reduction("sse_loss", reduction)
    input, target = _pair("sse_loss", input, target)
    diff = input - target
    sq = diff * diff
    if reduction == "sum":
        return sq.sum() * 0.5
    per_pattern = sq.reshape(sq.shape[0], -1).sum(axis=1) * 0.5 if sq.ndim > 1 else sq * 0.5
    return per_pattern.mean() if reduction == "mean" else per_pattern


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """-w (y log x + (1 - y) log(1 - x)) for probabilities x; logs are clamped at -100 as PyTorch."""
    _check_reduction("binary_cross_entropy", reduction)
    input, target = _pair("binary_cross_entropy", input, target)
    loss = BinaryCrossEntropy.apply(input, target, weight.data if isinstance(weight, Tensor) else weight)
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean", pos_weight=None):
    """BCE on logits z, stable for any z: (1 - y) z + (1 + (pw - 1) y) softplus(-z), times ``weight``.

    ``pos_weight`` (per class, broadcast over the last axis) weighs the positive term.
    """
    _check_reduction("binary_cross_entropy_with_logits", reduction)
    input, target = _pair("binary_cross_entropy_with_logits", input, target)
    sp = (-input).softplus()
    if pos_weight is not None:
        log_weight = (_t(pos_weight) - 1) * target + 1
        loss = (1 - target) * input + log_weight * sp
    else:
        loss = (1 - target) * input + sp
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """Cross-entropy of logits, fused with log-softmax: its gradient is (softmax - target) / N.

    Args:
        input: logits (N, C), (C,) or (N, C, d1, ...).
        target: class indices (N,) / () / (N, d1, ...), or class probabilities shaped like input.
        weight: per-class weights (C,).
        ignore_index: target value that contributes nothing (class-index targets only).
        reduction: 'mean' (weighted mean over non-ignored samples, as PyTorch), 'sum' or 'none'.
        label_smoothing: mix the target with the uniform distribution by this amount.
    """
    _check_reduction("cross_entropy", reduction)
    input = _t(input)
    tgt = np.asarray(target.data if isinstance(target, Tensor) else target)
    if input.ndim == 0:
        raise ValueError("cross_entropy: input must have a class dimension, got a 0-d tensor")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    if tgt.dtype.kind == "f":
        if tgt.shape != input.shape:
            raise ValueError(f"cross_entropy: probability target of shape {tgt.shape} must match the input "
                             f"shape {tuple(input.shape)}")
    else:
        if tgt.dtype.kind not in "iub":
            raise TypeError(f"cross_entropy: target must hold class indices or probabilities, got {tgt.dtype}")
        expected = input.shape[:1] + input.shape[2:] if input.ndim > 1 else ()
        if tgt.shape != expected:
            raise ValueError(f"cross_entropy: target of shape {tgt.shape} does not match input of shape "
                             f"{tuple(input.shape)} (expected target shape {expected})")
    w = None if weight is None else np.asarray(weight.data if isinstance(weight, Tensor) else weight)
    if w is not None and w.shape != (input.shape[1 if input.ndim > 1 else 0],):
        raise ValueError(f"cross_entropy: weight of shape {w.shape} must have one entry per class")
    # a probability target Tensor goes in as a graph input, so it gets a gradient too
    target_in = target if isinstance(target, Tensor) and tgt.dtype.kind == "f" else tgt
    return CrossEntropy.apply(input, target_in, weight=w, ignore_index=ignore_index,
                              label_smoothing=float(label_smoothing), reduction=reduction)


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """Negative log-likelihood of log-probabilities: -w[t] input[i, t]; mean divides by sum of w[t].

    Shape:
        input (N, C) or (C,) or (N, C, d1, ...); target class indices (N,) / () / (N, d1, ...).
    """
    _check_reduction("nll_loss", reduction)
    input = _t(input)
    tgt = np.asarray(target.data if isinstance(target, Tensor) else target)
    if tgt.dtype.kind not in "iu":
        raise TypeError(f"nll_loss: target must hold integer class indices, got {tgt.dtype}")
    expected = input.shape[:1] + input.shape[2:] if input.ndim > 1 else ()
    if tgt.shape != expected:
        raise ValueError(f"nll_loss: target of shape {tgt.shape} does not match input of shape "
                         f"{tuple(input.shape)} (expected target shape {expected})")
    c = input.shape[1] if input.ndim > 1 else input.shape[0]
    if input.ndim > 2:
        perm = (0,) + tuple(range(2, input.ndim)) + (1,)
        flat = input.permute(perm).reshape(-1, c)
    else:
        flat = input.reshape(-1, c)
    t = tgt.reshape(-1).astype(np.intp)
    valid = t != ignore_index
    t = np.where(valid, t, 0)
    if t.size and (t.min() < 0 or t.max() >= c):
        raise IndexError(f"nll_loss: target {int(t[(t < 0) | (t >= c)][0])} is out of bounds for {c} classes")
    w = np.ones(c, input.dtype) if weight is None else np.asarray(
        weight.data if isinstance(weight, Tensor) else weight, dtype=input.dtype)
    wt = (w[t] * valid).astype(input.dtype)
    picked = flat[np.arange(t.size), t] * wt
    losses = -picked
    if reduction == "none":
        return losses.reshape(expected)
    if reduction == "sum":
        return losses.sum()
    return losses.sum() / float(wt.sum())


def gelu(input, approximate="none"):
    """x Phi(x) with Phi the standard normal CDF; ``approximate='tanh'``:
    x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return _GELU.apply(_t(input), approximate=approximate)


def silu(input, inplace=False):
    """x sigmoid(x) (also called swish)."""
    return _SiLU.apply(_t(input))


# group and instance normalisation (composed from Tensor ops; defined beside their layers)
from .layers.norm_extra import group_norm, instance_norm  # noqa: E402

__all__ += ["group_norm", "instance_norm"]
