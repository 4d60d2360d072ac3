"""Loss modules (``nn.MSELoss()`` etc.): thin holders of options around ``nn.functional``.

All take ``(input, target)`` and ``reduction='mean' | 'sum' | 'none'`` as PyTorch.
"""
import numpy as np

from autodiff import Tensor

from . import functional as F
from ._loss_functions import legacy_reduction
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


class _LegacyLoss(_Loss):
    """A loss that also takes PyTorch's deprecated ``size_average`` / ``reduce`` flags."""

    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__(legacy_reduction(size_average, reduce, reduction))


class KLDivLoss(_Loss):
    """KL divergence of log-probabilities from a target distribution: target (log target - input).

    Args:
        reduction: 'mean' (over elements, as PyTorch), 'batchmean' (sum / batch size: the actual KL
            mean), 'sum' or 'none'.
        log_target: the target holds log-probabilities.

    Shape:
        input (*) log-probabilities, target same -> scalar (or (*) for reduction='none').
    """

    def __init__(self, size_average=None, reduce=None, reduction="mean", log_target=False):
        reduction = legacy_reduction(size_average, reduce, reduction)
        super().__init__("mean" if reduction == "batchmean" else reduction)
        self.reduction, self.log_target = reduction, log_target

    def forward(self, input, target):
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class SmoothL1Loss(_LegacyLoss):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta.

    Shape:
        input (*), target same -> scalar (or (*) for reduction='none').
    """

    def __init__(self, size_average=None, reduce=None, reduction="mean", beta=1.0):
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """0.5 d^2 where |d| <= delta, else delta (|d| - 0.5 delta).

    Shape:
        input (*), target same -> scalar (or (*) for reduction='none').
    """

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input, target):
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class SoftMarginLoss(_LegacyLoss):
    """log(1 + e^(-y x)) for labels y in {1, -1}.

    Shape:
        input (*), target same -> scalar (or (*) for reduction='none').
    """

    def forward(self, input, target):
        return F.soft_margin_loss(input, target, reduction=self.reduction)


class MarginRankingLoss(_LegacyLoss):
    """max(0, -y (x1 - x2) + margin).

    Shape:
        input1 (N,), input2 (N,), target (N,) -> scalar (or (N,) for reduction='none').
    """

    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        return F.margin_ranking_loss(input1, input2, target, margin=self.margin, reduction=self.reduction)


class CosineEmbeddingLoss(_LegacyLoss):
    """1 - cos(x1, x2) for y = 1, max(0, cos(x1, x2) - margin) for y = -1.

    Shape:
        input1 (N, D) or (D,), input2 same, target (N,) or () -> scalar (or (N,) for reduction='none').
    """

    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        return F.cosine_embedding_loss(input1, input2, target, margin=self.margin, reduction=self.reduction)


class PoissonNLLLoss(_LegacyLoss):
    """Poisson negative log-likelihood: e^x - y x (``log_input``) or x - y log(x + eps).

    Shape:
        input (*), target same -> scalar (or (*) for reduction='none').
    """

    def __init__(self, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.log_input, self.full, self.eps = log_input, full, eps

    def forward(self, log_input, target):
        return F.poisson_nll_loss(log_input, target, log_input=self.log_input, full=self.full, eps=self.eps,
                                  reduction=self.reduction)


class GaussianNLLLoss(_Loss):
    """Gaussian negative log-likelihood 0.5 (log var + (input - target)^2 / var), var clamped at eps.

    Shape:
        input (N, *), target same, var same or with the last dim 1 or dropped -> scalar
        (or (N, *) for reduction='none').
    """

    def __init__(self, *, full=False, eps=1e-6, reduction="mean"):
        super().__init__(reduction)
        self.full, self.eps = full, eps

    def forward(self, input, target, var):
        return F.gaussian_nll_loss(input, target, var, full=self.full, eps=self.eps, reduction=self.reduction)


class TripletMarginLoss(_LegacyLoss):
    """max(d(a, p) - d(a, n) + margin, 0) with the p-norm distance.

    Shape:
        anchor, positive, negative (N, D) or (D,) -> scalar (or (N,) for reduction='none').
    """

    def __init__(self, margin=1.0, p=2.0, eps=1e-6, swap=False, size_average=None, reduce=None,
                 reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginLoss: margin must be greater than 0, got {margin}")
        self.margin, self.p, self.eps, self.swap = margin, p, eps, swap

    def forward(self, anchor, positive, negative):
        return F.triplet_margin_loss(anchor, positive, negative, margin=self.margin, p=self.p, eps=self.eps,
                                     swap=self.swap, reduction=self.reduction)


class HingeEmbeddingLoss(_LegacyLoss):
    """x for y = 1, max(0, margin - x) for y = -1.

    Shape:
        input (*), target same -> scalar (or (*) for reduction='none').
    """

    def __init__(self, margin=1.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input, target):
        return F.hinge_embedding_loss(input, target, margin=self.margin, reduction=self.reduction)


class MultiLabelSoftMarginLoss(_WeightedLoss):
    """Per-class logistic loss averaged over the C classes: -(y log s(x) + (1 - y) log s(-x)).

    Shape:
        input (N, C), target same -> scalar (or (N,) for reduction='none').
    """

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(weight, legacy_reduction(size_average, reduce, reduction))

    def forward(self, input, target):
        return F.multilabel_soft_margin_loss(input, target, self.weight, reduction=self.reduction)


class MultiMarginLoss(_WeightedLoss):
    """Multi-class hinge loss: sum over i != y of w[y] max(0, margin - x[y] + x[i])^p, divided by C.

    Shape:
        input (N, C) or (C,), target (N,) or () class indices -> scalar (or (N,) for reduction='none').
    """

    def __init__(self, p=1, margin=1.0, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(weight, legacy_reduction(size_average, reduce, reduction))
        if p not in (1, 2):
            raise ValueError(f"MultiMarginLoss: only p = 1 and p = 2 are supported, got p={p}")
        self.p, self.margin = p, margin

    def forward(self, input, target):
        return F.multi_margin_loss(input, target, p=self.p, margin=self.margin, weight=self.weight,
                                   reduction=self.reduction)


class MultiLabelMarginLoss(_LegacyLoss):
    """Multi-label hinge loss over (target class, non-target class) pairs; targets end at the first -1.

    Shape:
        input (N, C) or (C,), target same shape (int) -> scalar (or (N,) for reduction='none').
    """

    def forward(self, input, target):
        return F.multilabel_margin_loss(input, target, reduction=self.reduction)


class TripletMarginWithDistanceLoss(_Loss):
    """max(d(a, p) - d(a, n) + margin, 0) with any distance (default ``PairwiseDistance()``).

    Shape:
        anchor, positive, negative (N, D) or (D,) -> scalar (or (N,) for reduction='none').
    """

    def __init__(self, *, distance_function=None, margin=1.0, swap=False, reduction="mean"):
        super().__init__(reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginWithDistanceLoss: margin must be greater than 0, got {margin}")
        from .layers.distance import PairwiseDistance
        self.distance_function = distance_function if distance_function is not None else PairwiseDistance()
        self.margin, self.swap = margin, swap

    def forward(self, anchor, positive, negative):
        return F.triplet_margin_with_distance_loss(anchor, positive, negative,
                                                   distance_function=self.distance_function, margin=self.margin,
                                                   swap=self.swap, reduction=self.reduction)
