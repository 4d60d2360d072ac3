"""Channel-wise dropout (Dropout1d/2d/3d) and AlphaDropout, with function forms used by the layers."""
import numpy as np

import autodiff
from autodiff import Tensor

from ..module import Module

__all__ = ["Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "channel_dropout", "alpha_dropout"]

# -scale * alpha of SELU: the value SELU saturates to for very negative inputs
_ALPHA_PRIME = -1.7580993408473766


def _t(x):
    return x if isinstance(x, Tensor) else Tensor(np.asarray(x))


def _check_p(name, p):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{name}: dropout probability has to be between 0 and 1, but got {p}")


def channel_dropout(input, p=0.5, training=True, batched=True, name="channel_dropout"):
    """Zero whole channels with probability ``p`` and scale the rest by ``1 / (1 - p)``.

    Args:
        input: Tensor ``(N, C, *)`` (``batched``) or ``(C, *)``.
        p: probability of zeroing a channel.
        training: identity when False.
        batched: whether axis 0 is the batch axis (one mask entry per sample and channel).
        name: layer named in error messages.

    Returns:
        Tensor of the input's shape.
    """
    _check_p(name, p)
    input = _t(input)
    if not training or p == 0.0:
        return input
    dtype = input.dtype if input.dtype.kind == "f" else np.dtype(np.float32)
    lead = 2 if batched else 1
    mshape = tuple(input.shape[:lead]) + (1,) * (input.ndim - lead)
    if p == 1.0:
        mask = np.zeros(mshape, dtype)
    else:
        keep = autodiff.default_generator().random(mshape, dtype=np.float32) >= p
        mask = keep.astype(dtype) * dtype.type(1.0 / (1.0 - p))
    return input * Tensor(mask)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout (for SELU networks), as ``torch.nn.functional.alpha_dropout``.

    Dropped elements are set to SELU's negative saturation value ``a' = -1.7581``; then the output is
    ``a * x + b`` with ``a = ((1 - p) (1 + p a'^2))^-1/2`` and ``b = -a a' p``, which keeps a zero-mean,
    unit-variance input at zero mean and unit variance.

    Args:
        input: Tensor of any shape.
        p: probability of dropping an element.
        training: identity when False (the default, as in PyTorch).
        inplace: accepted for PyTorch compatibility; the result is a new Tensor.

    Returns:
        Tensor of the input's shape.
    """
    _check_p("alpha_dropout", p)
    input = _t(input)
    if not training or p == 0.0:
        return input
    dtype = input.dtype if input.dtype.kind == "f" else np.dtype(np.float32)
    if p == 1.0:
        return input * Tensor(np.zeros((), dtype))
    keep = autodiff.default_generator().random(input.shape, dtype=np.float32) >= p
    a = ((1.0 - p) * (1.0 + p * _ALPHA_PRIME ** 2)) ** -0.5
    b = -a * _ALPHA_PRIME * p
    scale = Tensor(keep.astype(dtype) * dtype.type(a))
    shift = Tensor(np.where(keep, 0.0, a * _ALPHA_PRIME).astype(dtype) + dtype.type(b))
    return input * scale + shift


class _DropoutNd(Module):
    _spatial = 1

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        _check_p(type(self).__name__, p)
        self.p = float(p)
        self.inplace = inplace

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class _ChannelDropout(_DropoutNd):
    def forward(self, input):
        input = _t(input)
        name, s = type(self).__name__, self._spatial
        if input.ndim not in (s + 1, s + 2):
            raise ValueError(f"{name}: expected {s + 1}D (unbatched) or {s + 2}D (batched) input, got shape "
                             f"{tuple(input.shape)}")
        # Dropout2d, like PyTorch, reads a 3D input as (N, C, L): one mask entry per (axis 0, axis 1)
        batched = input.ndim == s + 2 or s == 2
        return channel_dropout(input, self.p, self.training, batched, name)


class Dropout1d(_ChannelDropout):
    """In training, zero each whole channel of ``(N, C, L)`` / ``(C, L)`` input with probability ``p``
    and scale kept channels by ``1 / (1 - p)``; identity in eval.

    Args:
        p: probability of zeroing a channel (default 0.5).
        inplace: accepted for PyTorch compatibility.
    """
    _spatial = 1


class Dropout2d(_ChannelDropout):
    """Channel-wise dropout of ``(N, C, H, W)`` input (a 3D input is read as ``(N, C, L)``, as PyTorch does).

    Args:
        p: probability of zeroing a channel (default 0.5).
        inplace: accepted for PyTorch compatibility.
    """
    _spatial = 2


class Dropout3d(_ChannelDropout):
    """Channel-wise dropout of ``(N, C, D, H, W)`` / ``(C, D, H, W)`` input.

    Args:
        p: probability of zeroing a channel (default 0.5).
        inplace: accepted for PyTorch compatibility.
    """
    _spatial = 3


class AlphaDropout(_DropoutNd):
    """Alpha dropout for self-normalising (SELU) networks; identity in eval. See ``alpha_dropout``.

    Args:
        p: probability of dropping an element (default 0.5).
        inplace: accepted for PyTorch compatibility.

    Shape:
        any -> same.
    """

    def forward(self, input):
        return alpha_dropout(input, self.p, self.training)
