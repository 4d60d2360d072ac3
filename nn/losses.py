"""Loss modules (``nn.MSELoss()`` etc.): thin holders of options around ``nn.functional``.

All take ``(input, target)`` and ``reduction='mean' | 'sum' | 'none'`` as PyTorch.
"""
import numpy as np

from autodiff import Tensor

from . import functional as F
from .module import Module


class _Loss(Module):
    def __init__(self, reduction="mean"):
        super().__init__()
        F._check_reduction(type(self).__name__, reduction)
        self.reduction = reduction

    def extra_repr(self):
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, reduction="mean"):
        super().__init__(reduction)
        self.register_buffer("weight", None if weight is None else
                             (weight if isinstance(weight, Tensor) else Tensor(np.asarray(weight))))


class MSELoss(_Loss):
    """Mean squared error (x - y)^2.

    Shape:
        input (*), target same shape -> scalar (or (*) for reduction='none').
    """

    def forward(self, input, target):
        return F.mse_loss(input, target, self.reduction)


class L1Loss(_Loss):
    """Mean absolute error |x - y|.

    Shape:
        input (*), target same shape -> scalar (or (*) for reduction='none').
    """

    def forward(self, input, target):
        return F.l1_loss(input, target, self.reduction)


class SSELoss(_Loss):
    """The course's error E = 1/2 sum_p sum_k (y_pk - yhat_pk)^2, whose gradient is simply yhat - y.

    Default ``reduction='sum'``: E over the batch (the course sums E_p over patterns p). ``'mean'``:
    mean over patterns (axis 0) of E_p; ``'none'``: E_p per pattern.

    Shape:
        input (N, *), target same shape -> scalar (or (N,) for reduction='none').
    """

    def __init__(self, reduction="sum"):
        super().__init__(reduction)

    def forward(self, input, target):
        return F.sse_loss(input, target, self.reduction)

    def extra_repr(self):
        return "" if self.reduction == "sum" else f"reduction={self.reduction!r}"


HalfSSE = SSELoss


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities: -w (y log x + (1 - y) log(1 - x)); logs clamped at -100.

    Shape:
        input (*) in [0, 1], target same shape -> scalar (or (*) for reduction='none').
    """

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, self.weight, self.reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    """Sigmoid + binary cross-entropy in one stable formula (safe for logits of any size).

    Args:
        weight: rescales each element's loss.
        reduction: 'mean' | 'sum' | 'none'.
        pos_weight: weight of positive examples, one per class (broadcast over the last axis).

    Shape:
        input (*) logits, target same shape -> scalar (or (*) for reduction='none').
    """

    def __init__(self, weight=None, reduction="mean", pos_weight=None):
        super().__init__(weight, reduction)
        self.register_buffer("pos_weight", None if pos_weight is None else
                             (pos_weight if isinstance(pos_weight, Tensor) else Tensor(np.asarray(pos_weight))))

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, self.weight, self.reduction, self.pos_weight)


class CrossEntropyLoss(_WeightedLoss):
    """Softmax + negative log-likelihood fused in one node: gradient (softmax - target) / N.

    Targets are class indices or class probabilities. See ``nn.functional.cross_entropy``.

    Args:
        weight: per-class weights (C,).
        ignore_index: class-index target value to skip (default -100).
        reduction: 'mean' | 'sum' | 'none'.
        label_smoothing: amount of uniform distribution mixed into the target (0 to 1).

    Shape:
        input (N, C) logits or (N, C, d1, ...); target (N,) / (N, d1, ...) integers or probabilities
        shaped like input -> scalar (or (N,) / (N, d1, ...) for reduction='none').
    """

    def __init__(self, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
        super().__init__(weight, reduction)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, self.weight, self.ignore_index, self.reduction,
                               self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of log-probabilities (put ``LogSoftmax`` before it).

    Shape:
        input (N, C) log-probabilities; target (N,) integers -> scalar (or (N,) for reduction='none').
    """

    def __init__(self, weight=None, ignore_index=-100, reduction="mean"):
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, self.weight, self.ignore_index, self.reduction)
