"""Dense layers: Linear, Flatten, Identity."""
import math

import numpy as np

from .. import functional as F
from .. import init
from ..module import Module, Parameter


class Linear(Module):
    """y = x W^T + b, computed as one graph node.

    Args:
        in_features: size of each input sample.
        out_features: size of each output sample.
        bias: learn an additive bias (default True).
        dtype: parameter dtype (float32 by default).

    Attributes:
        weight: (out_features, in_features), initialised as PyTorch does: kaiming_uniform_ with
            a=sqrt(5), i.e. U(-1/sqrt(in_features), 1/sqrt(in_features)).
        bias: (out_features,), U(-1/sqrt(in_features), 1/sqrt(in_features)).

    Shape:
        input (*, in_features) -> output (*, out_features).
    """

    def __init__(self, in_features, out_features, bias=True, dtype=None):
        super().__init__()
        if in_features < 0 or out_features < 0:
            raise ValueError(f"Linear: in_features and out_features must be >= 0, got "
                             f"({in_features}, {out_features})")
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        dtype = np.dtype(dtype or np.float32)
        self.weight = Parameter(np.empty((self.out_features, self.in_features), dtype))
        if bias:
            self.bias = Parameter(np.empty(self.out_features, dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Draw the weights and bias again (PyTorch's default initialisation)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1.0 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Flatten(Module):
    """Merge dims ``start_dim``..``end_dim`` into one (by default all but the batch dim).

    Shape:
        (N, *dims) -> (N, prod(dims)) with the defaults.
    """

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input):
        return F._t(input).flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Identity(Module):
    """Returns its input (arguments are accepted and ignored, as PyTorch).

    Shape:
        any -> same.
    """

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input
