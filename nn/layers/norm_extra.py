"""GroupNorm and InstanceNorm1d/2d/3d, with their function forms ``group_norm`` / ``instance_norm``.

Both are composed from differentiable Tensor ops (mean, biased variance, reshape), so their gradients
(also second order) come from the engine.
"""
import numpy as np

from autodiff import Tensor

from .. import functional as F  # nn.functional re-exports this file's functions: read at call time
from ..module import Module
from ..parameter import Parameter
from .norm import RunningStats

__all__ = ["GroupNorm", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "group_norm", "instance_norm"]


def _t(x):
    return x if isinstance(x, Tensor) else Tensor(np.asarray(x))


def _affine(out, weight, bias):
    """Per-channel (axis 1) scale and shift."""
    shape = (1, -1) + (1,) * (out.ndim - 2)
    if weight is not None:
        out = out * _t(weight).reshape(shape)
    if bias is not None:
        out = out + _t(bias).reshape(shape)
    return out


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalise each sample over groups of channels, as ``torch.nn.functional.group_norm``.

    Args:
        input: Tensor ``(N, C, *)``.
        num_groups: number of groups; must divide ``C``.
        weight, bias: optional per-channel ``(C,)`` scale and shift.
        eps: added to the variance.

    Returns:
        Tensor of the input's shape.
    """
    input = _t(input)
    F._require_float("group_norm", input)
    if input.ndim < 2:
        raise ValueError(f"group_norm: expected an input of at least 2 dims (N, C, *), got shape "
                         f"{tuple(input.shape)}")
    n, c = input.shape[0], input.shape[1]
    if num_groups <= 0 or c % num_groups:
        raise ValueError(f"group_norm: num_groups={num_groups} must divide the number of channels {c} "
                         f"(input shape {tuple(input.shape)})")
    x = input.reshape(n, num_groups, -1)
    mean = x.mean(axis=2, keepdims=True)
    var = x.var(axis=2, keepdims=True, correction=0)
    out = ((x - mean) / (var + eps).sqrt()).reshape(input.shape)
    return _affine(out, weight, bias)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """Normalise each (sample, channel) over its spatial axes, as ``torch.nn.functional.instance_norm``.

    Args:
        input: Tensor ``(N, C, *spatial)``.
        running_mean, running_var: optional ``(C,)`` buffers; with ``use_input_stats`` they are updated in
            place (``momentum`` blend of the batch average of the instance means / unbiased variances),
            without it they are used for normalisation.
        weight, bias: optional per-channel ``(C,)`` scale and shift.
        use_input_stats: normalise with each instance's own statistics.
        momentum: running-statistics update factor.
        eps: added to the variance.

    Returns:
        Tensor of the input's shape.
    """
    input = _t(input)
    F._require_float("instance_norm", input)
    if input.ndim < 3:
        raise ValueError(f"instance_norm: expected an input of at least 3 dims (N, C, *spatial), got shape "
                         f"{tuple(input.shape)}")
    axes = tuple(range(2, input.ndim))
    pshape = (1, -1) + (1,) * (input.ndim - 2)
    if use_input_stats:
        m = int(np.prod(input.shape[2:]))
        if m <= 1:
            raise ValueError(f"instance_norm: expected more than 1 spatial element per channel when "
                             f"training, got input of shape {tuple(input.shape)}")
        mean = input.mean(axis=axes, keepdims=True)
        var = input.var(axis=axes, keepdims=True, correction=0)
        if running_mean is not None:
            bm = mean.data.reshape(input.shape[:2]).mean(axis=0)
            running_mean.data[...] = (1 - momentum) * running_mean.data + momentum * bm
        if running_var is not None:
            bv = var.data.reshape(input.shape[:2]).mean(axis=0) * (m / (m - 1))
            running_var.data[...] = (1 - momentum) * running_var.data + momentum * bv
    else:
        if running_mean is None or running_var is None:
            raise ValueError("instance_norm: use_input_stats=False needs running_mean and running_var")
        mean = Tensor(running_mean.data.reshape(pshape).astype(input.dtype))
        var = Tensor(running_var.data.reshape(pshape).astype(input.dtype))
    out = (input - mean) / (var + eps).sqrt()
    return _affine(out, weight, bias)


class GroupNorm(Module):
    """Group normalisation: channels split into ``num_groups`` groups, each normalised per sample.

    Args:
        num_groups: number of groups (divides ``num_channels``).
        num_channels: ``C``.
        eps: added to the variance.
        affine: learn per-channel ``weight`` (ones) and ``bias`` (zeros) of shape ``(C,)``.
        device: accepted for PyTorch compatibility (CPU only).
        dtype: parameter dtype (float32 default).
        bias: with ``affine``, also learn ``bias`` (keyword-only).

    Shape:
        ``(N, C, *)`` -> same.
    """

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        if num_groups <= 0 or num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels={num_channels} must be divisible by "
                             f"num_groups={num_groups}")
        dtype = np.dtype(dtype or np.float32)
        self.num_groups, self.num_channels, self.eps, self.affine = int(num_groups), int(num_channels), eps, affine
        self.bias_enabled = bool(affine and bias)
        if affine:
            self.weight = Parameter(np.ones(self.num_channels, dtype))
        else:
            self.register_parameter("weight", None)
        if self.bias_enabled:
            self.bias = Parameter(np.zeros(self.num_channels, dtype))
        else:
            self.register_parameter("bias", None)

    def reset_parameters(self):
        if self.affine:
            self.weight.data[...] = 1
        if self.bias is not None:
            self.bias.data[...] = 0

    def forward(self, input):
        input = _t(input)
        if input.ndim < 2 or input.shape[1] != self.num_channels:
            raise ValueError(f"GroupNorm: expected input (N, {self.num_channels}, *), got shape "
                             f"{tuple(input.shape)}")
        return group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias_enabled}")


class _InstanceNorm(RunningStats, Module):
    _spatial = 1

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False,
                 device=None, dtype=None, *, bias=True):
        super().__init__()
        dtype = np.dtype(dtype or np.float32)
        self.num_features, self.eps, self.momentum = int(num_features), eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.bias_enabled = bool(affine and bias)
        if affine:
            self.weight = Parameter(np.ones(self.num_features, dtype))
        else:
            self.register_parameter("weight", None)
        if self.bias_enabled:
            self.bias = Parameter(np.zeros(self.num_features, dtype))
        else:
            self.register_parameter("bias", None)
        self._register_running_stats(dtype)

    def reset_parameters(self):
        self.reset_running_stats()
        if self.affine:
            self.weight.data[...] = 1
        if self.bias is not None:
            self.bias.data[...] = 0

    def forward(self, input):
        input = _t(input)
        name, s = type(self).__name__, self._spatial
        if input.ndim not in (s + 1, s + 2):
            raise ValueError(f"{name}: expected {s + 1}D (unbatched) or {s + 2}D (batched) input, got shape "
                             f"{tuple(input.shape)}")
        unbatched = input.ndim == s + 1
        if unbatched:
            input = input.unsqueeze(0)
        if self.affine and input.shape[1] != self.num_features:
            raise ValueError(f"{name}: expected {self.num_features} channels, got input of shape "
                             f"{tuple(input.shape)}")
        # as in PyTorch, num_batches_tracked is not advanced and momentum=None leaves the stats unchanged
        momentum = 0.0 if self.momentum is None else self.momentum
        use_input_stats = self.training or not self.track_running_stats
        out = instance_norm(input, self.running_mean, self.running_var, self.weight, self.bias,
                            use_input_stats, momentum, self.eps)
        return out.squeeze(0) if unbatched else out

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias_enabled}, track_running_stats={self.track_running_stats}")


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation of ``(N, C, L)`` or ``(C, L)`` input (each sample and channel over ``L``).

    Args:
        num_features: ``C``.
        eps: added to the variance.
        momentum: running-statistics factor (None: the statistics are not updated, as in PyTorch).
        affine: learn per-channel ``weight``/``bias`` (default False).
        track_running_stats: keep ``running_mean``/``running_var`` and use them in eval (default False).
        device: accepted for PyTorch compatibility (CPU only).
        dtype: parameter and buffer dtype (float32 default).
        bias: with ``affine``, also learn ``bias`` (keyword-only).
    """
    _spatial = 1


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of ``(N, C, H, W)`` or ``(C, H, W)`` input; arguments as InstanceNorm1d."""
    _spatial = 2


class InstanceNorm3d(_InstanceNorm):
    """Instance normalisation of ``(N, C, D, H, W)`` or ``(C, D, H, W)`` input; arguments as InstanceNorm1d."""
    _spatial = 3
