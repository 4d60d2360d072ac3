"""``autodiff.special``: the ``torch.special`` functions this library has (names as torch spells them)."""
import math

from .function_forms import (digamma, erf, erfc, erfinv, exp2, expm1, log1p, log_softmax, logit, logsumexp,
                             polygamma, round, sigmoid, softmax, xlogy)
from .function_forms import lgamma as gammaln
from .function_forms import sigmoid as expit

psi = digamma

__all__ = ["digamma", "psi", "erf", "erfc", "erfinv", "exp2", "expm1", "log1p", "log_softmax", "logit",
           "logsumexp", "polygamma", "round", "sigmoid", "expit", "softmax", "xlogy", "gammaln", "ndtr"]


def ndtr(input):
    """The standard normal CDF: (1 + erf(x / sqrt 2)) / 2."""
    return (erf(input * (1 / math.sqrt(2.0))) + 1) * 0.5
