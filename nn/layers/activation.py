"""Activation layers (module forms of ``nn.functional``). Each: Shape: any -> same, unless noted."""
import numpy as np

from .. import functional as F
from ..module import Module, Parameter


class Step(Module):
    """Binary step (perceptron threshold): 1 for x >= 0, else 0, or -1 when ``bipolar``. Zero gradient.

    Shape:
        any -> same.
    """

    def __init__(self, bipolar=False):
        super().__init__()
        self.bipolar = bipolar

    def forward(self, input):
        return F.step(input, self.bipolar)

    def extra_repr(self):
        return f"bipolar={self.bipolar}"


class Sigmoid(Module):
    """The course's sigmoid 1 / (1 + e^(-beta x)); beta=1 is PyTorch's Sigmoid.

    Shape:
        any -> same.
    """

    def __init__(self, beta=1.0):
        super().__init__()
        self.beta = beta

    def forward(self, input):
        return F.sigmoid(input, self.beta)

    def extra_repr(self):
        return "" if self.beta == 1 else f"beta={self.beta}"


class Tanh(Module):
    """tanh(x).

    Shape:
        any -> same.
    """

    def forward(self, input):
        return F.tanh(input)


class ArcTan(Module):
    """arctan(x), derivative 1/(1 + x^2).

    Shape:
        any -> same.
    """

    def forward(self, input):
        return F.arctan(input)


class ReLU(Module):
    """max(x, 0).

    Shape:
        any -> same.
    """

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.relu(input)


class LeakyReLU(Module):
    """x for x > 0, else negative_slope x.

    Shape:
        any -> same.
    """

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class PReLU(Module):
    """x for x > 0, else a x with learnable a: one shared (default) or one per channel (axis 1).

    Attributes:
        weight: (num_parameters,) initialised to ``init`` (0.25).

    Shape:
        (N, C, *) or any shape when num_parameters=1 -> same.
    """

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters = int(num_parameters)
        self.weight = Parameter(np.full(self.num_parameters, init, dtype or np.float32))

    def forward(self, input):
        return F.prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class ELU(Module):
    """x for x > 0, else alpha (e^x - 1).

    Shape:
        any -> same.
    """

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha = alpha

    def forward(self, input):
        return F.elu(input, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}"


class Softplus(Module):
    """log(1 + e^(beta x)) / beta, linear where beta x > threshold.

    Shape:
        any -> same.
    """

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input):
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Softmax(Module):
    """Softmax along ``axis`` (alias ``dim``; default -1).

    Shape:
        any -> same.
    """

    def __init__(self, axis=None, dim=None):
        super().__init__()
        self.dim = F._axis(axis, dim)

    def forward(self, input):
        return F.softmax(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """Log-softmax along ``axis`` (alias ``dim``; default -1).

    Shape:
        any -> same.
    """

    def forward(self, input):
        return F.log_softmax(input, self.dim)


class GELU(Module):
    """x Phi(x), Phi the standard normal CDF; ``approximate='tanh'`` uses the tanh form.

    Shape:
        any -> same.
    """

    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """x sigmoid(x) (swish).

    Shape:
        any -> same.
    """

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.silu(input)
