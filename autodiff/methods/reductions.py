"""Tensor's reductions and softmax: each one calls its op's ``apply`` (``dim``/``keepdim`` accepted)."""
import numpy as np

from .. import tensor as tensors  # the Tensor class, read at call time (tensor.py imports this module)
from ..ops import reduce


def _axis(axis, dim):
    return axis if dim is None else dim


def _keep(keepdims, keepdim):
    return bool(keepdims or keepdim)


class ReductionMethods:
    """sum, mean, var, std, max, min, logsumexp, argmax, argmin, softmax, log_softmax."""

    __slots__ = ()

    def sum(self, axis=None, keepdims=False, dim=None, keepdim=False):
        return reduce.Sum.apply(self, _axis(axis, dim), _keep(keepdims, keepdim))

    def mean(self, axis=None, keepdims=False, dim=None, keepdim=False):
        return reduce.Mean.apply(self, _axis(axis, dim), _keep(keepdims, keepdim))

    def var(self, axis=None, keepdims=False, ddof=0, dim=None, keepdim=False):
        return reduce.Var.apply(self, _axis(axis, dim), _keep(keepdims, keepdim), ddof)

    def std(self, axis=None, keepdims=False, ddof=0, dim=None, keepdim=False):
        return self.var(axis, keepdims, ddof, dim, keepdim).sqrt()

    def max(self, axis=None, keepdims=False, dim=None, keepdim=False):
        return reduce.Max.apply(self, _axis(axis, dim), _keep(keepdims, keepdim))

    def min(self, axis=None, keepdims=False, dim=None, keepdim=False):
        return reduce.Min.apply(self, _axis(axis, dim), _keep(keepdims, keepdim))

    def logsumexp(self, axis=None, keepdims=False, dim=None, keepdim=False):
        return reduce.LogSumExp.apply(self, _axis(axis, dim), _keep(keepdims, keepdim))

    def argmax(self, axis=None, keepdims=False, dim=None, keepdim=False):
        return tensors.Tensor._make(np.argmax(self.data, axis=_axis(axis, dim), keepdims=_keep(keepdims, keepdim)))

    def argmin(self, axis=None, keepdims=False, dim=None, keepdim=False):
        return tensors.Tensor._make(np.argmin(self.data, axis=_axis(axis, dim), keepdims=_keep(keepdims, keepdim)))

    def softmax(self, axis=-1, dim=None):
        return reduce.Softmax.apply(self, _axis(axis, dim))

    def log_softmax(self, axis=-1, dim=None):
        return reduce.LogSoftmax.apply(self, _axis(axis, dim))
