"""One-hot encoding, p-norm normalisation and distances (``F.one_hot``, ``F.normalize``, ...).

Reached through ``nn.functional``. Built from differentiable Tensor ops; names, argument order and
defaults are PyTorch's.
"""
import math

import numpy as np

import autodiff
from autodiff import Tensor, where
from autodiff.errors import ShapeError

__all__ = ["one_hot", "normalize", "cosine_similarity", "pairwise_distance"]


def _t(x):
    return x if isinstance(x, Tensor) else Tensor(x)


def one_hot(tensor, num_classes=-1):
    """Class indices to one-hot rows: an int64 Tensor of shape ``(*, num_classes)``.

    ``num_classes=-1`` takes one more than the largest index (as PyTorch).

    Raises:
        TypeError: for non-integer input.
        RuntimeError: for negative indices or indices >= num_classes.
    """
    idx = np.asarray(tensor.data if isinstance(tensor, Tensor) else tensor)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expected an integer index tensor, got dtype {idx.dtype}")
    if idx.size and idx.min() < 0:
        raise RuntimeError(f"one_hot: class values must be non-negative, got {int(idx.min())}")
    if num_classes == -1:
        if idx.size == 0:
            raise RuntimeError("one_hot: can not infer the total number of classes from an empty tensor")
        num_classes = int(idx.max()) + 1
    elif idx.size and idx.max() >= num_classes:
        raise RuntimeError(f"one_hot: class values must be smaller than num_classes={num_classes}, "
                           f"got {int(idx.max())}")
    out = np.zeros(idx.shape + (int(num_classes),), np.int64)
    np.put_along_axis(out, idx[..., None].astype(np.intp), 1, axis=-1)
    return Tensor(out)


def vector_norm(x, p, dim, keepdim):
    """The p-norm of ``x`` along ``dim`` with a zero gradient at zero vectors (as PyTorch's norm)."""
    if p <= 0:  # the count of non-zeros (p = 0), and the negative and -inf "norms"
        return autodiff.linalg.vector_norm(x, p, dim, keepdim)
    if p == math.inf:
        peak = x.abs().max(axis=dim, keepdims=keepdim)
        return peak[0] if isinstance(peak, tuple) else peak  # torch's (values, indices) form
    if p == 1:
        return x.abs().sum(axis=dim, keepdims=keepdim)
    if p == 2:
        total = (x * x).sum(axis=dim, keepdims=keepdim)
    else:
        total = (x.abs() ** p).sum(axis=dim, keepdims=keepdim)
    positive = total.data > 0
    # the root of 0 has no derivative: keep it out of the graph there, and return 0
    safe = where(positive, total, np.ones((), total.dtype))
    root = safe.sqrt() if p == 2 else safe ** (1.0 / p)
    return where(positive, root, np.zeros((), total.dtype))


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """v / max(||v||_p, eps) for every vector v along ``dim``.

    Shape:
        any -> same.
    """
    if out is not None:
        raise TypeError("normalize: out= is not supported (tensors are not written in place here)")
    input = _t(input)
    if input.ndim == 0:
        raise IndexError("normalize: dim is out of range for a 0-d tensor")
    return input / vector_norm(input, p, dim, True).maximum(np.asarray(eps, input.dtype))


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """(x1 / max(||x1||, eps)) . (x2 / max(||x2||, eps)) along ``dim``; x1 and x2 broadcast.

    Shape:
        x1 (*, D, *), x2 broadcastable to it -> the broadcast shape without ``dim``.
    """
    x1, x2 = _t(x1), _t(x2)
    try:
        shape = np.broadcast_shapes(x1.shape, x2.shape)
    except ValueError:
        raise ShapeError(f"cosine_similarity: x1 of shape {tuple(x1.shape)} and x2 of shape "
                         f"{tuple(x2.shape)} do not broadcast") from None
    if not -len(shape) <= dim < max(len(shape), 1):
        raise IndexError(f"cosine_similarity: dim {dim} is out of range for shape {shape}")
    x1 = x1 if x1.shape == shape else x1.broadcast_to(shape)
    x2 = x2 if x2.shape == shape else x2.broadcast_to(shape)
    # as PyTorch, the norms are clamped at eps outside the graph: the gradient is that of the unclamped norm
    n1 = _clamp_min_constant(vector_norm(x1, 2, dim, True), eps)
    n2 = _clamp_min_constant(vector_norm(x2, 2, dim, True), eps)
    return ((x1 / n1) * (x2 / n2)).sum(axis=dim)


def _clamp_min_constant(x, low):
    """max(x, low) whose gradient is that of x itself (the shift is added as a constant)."""
    return x + Tensor(np.maximum(x.data, np.asarray(low, x.dtype)) - x.data)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p along the last dim (PyTorch adds ``eps`` to the difference).

    Shape:
        x1 (N, D) or (D,), x2 broadcastable -> (N,) (or (N, 1) with ``keepdim``).
    """
    x1, x2 = _t(x1), _t(x2)
    try:
        diff = x1 - x2
    except ValueError:
        raise ShapeError(f"pairwise_distance: x1 of shape {tuple(x1.shape)} and x2 of shape "
                         f"{tuple(x2.shape)} do not broadcast") from None
    if diff.ndim == 0:
        raise ShapeError("pairwise_distance: inputs must have at least one dimension, got 0-d tensors")
    return vector_norm(diff + eps, p, -1, keepdim)
