"""Normalisation layers: BatchNorm1d, BatchNorm2d, LayerNorm."""
import numpy as np

from autodiff import Tensor

from .. import functional as F
from ..module import Module, Parameter


class RunningStats:
    """The running mean/variance buffers of batch and instance norm (torch's names and start values)."""

    def _register_running_stats(self, dtype):
        if self.track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(self.num_features, dtype)))
            self.register_buffer("running_var", Tensor(np.ones(self.num_features, dtype)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean.data[...] = 0
            self.running_var.data[...] = 1
            self.num_batches_tracked.data[...] = 0


class _BatchNorm(RunningStats, Module):
    _expected_dims = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 dtype=None):
        super().__init__()
        dtype = np.dtype(dtype or np.float32)
        self.num_features, self.eps, self.momentum = int(num_features), eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(np.ones(self.num_features, dtype))
            self.bias = Parameter(np.zeros(self.num_features, dtype))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self._register_running_stats(dtype)

    def reset_parameters(self):
        self.reset_running_stats()
        if self.affine:
            self.weight.data[...] = 1
            self.bias.data[...] = 0

    def forward(self, input):
        input = F._t(input)
        if input.ndim not in self._expected_dims:
            raise ValueError(f"{type(self).__name__}: expected {self._dims_text} input, got shape "
                             f"{tuple(input.shape)}")
        if input.shape[1] != self.num_features:
            raise ValueError(f"{type(self).__name__}: expected {self.num_features} channels (axis 1), got "
                             f"input of shape {tuple(input.shape)}")
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            if input.data.size // input.shape[1] == 1:  # an empty batch passes through, as in PyTorch
                raise ValueError(f"{type(self).__name__}: expected more than 1 value per channel when "
                                 f"training, got input of shape {tuple(input.shape)}")
            self.num_batches_tracked.data += 1
            self.num_batches_tracked._version[0] += 1
            if self.momentum is None:  # cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked.data)
        use_batch = self.training or not self.track_running_stats
        return F.batch_norm(input, self.running_mean, self.running_var, self.weight, self.bias, use_batch,
                            factor, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation per feature over the batch (and length) axes.

    y = (x - mean) / sqrt(var + eps) * weight + bias, with batch statistics in training (biased
    variance) and running statistics in eval. Buffers are kept exactly as PyTorch keeps them:
    running = (1 - momentum) running + momentum batch_stat, with the UNBIASED batch variance for
    ``running_var``; ``momentum=None`` gives the cumulative average; ``num_batches_tracked`` counts
    training batches. Parameters: weight ones, bias zeros.

    Shape:
        (N, C) or (N, C, L) -> same.
    """

    _expected_dims = (2, 3)
    _dims_text = "2-D (N, C) or 3-D (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalisation per channel over the batch and spatial axes (see BatchNorm1d).

    Shape:
        (N, C, H, W) -> same.
    """

    _expected_dims = (4,)
    _dims_text = "4-D (N, C, H, W)"


class LayerNorm(Module):
    """Normalise each sample over its last dims ``normalized_shape`` (biased variance), then
    scale by ``weight`` (ones) and shift by ``bias`` (zeros) when ``elementwise_affine``.

    Shape:
        (*, *normalized_shape) -> same.
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, dtype=None):
        super().__init__()
        ns = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else tuple(normalized_shape)
        self.normalized_shape = tuple(int(s) for s in ns)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        dtype = np.dtype(dtype or np.float32)
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype))
            if bias:
                self.bias = Parameter(np.zeros(self.normalized_shape, dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
