"""PyTorch's further activation layers: module forms of the functions in ``nn.functional``.

Each has PyTorch's constructor arguments, defaults and ``repr``; ``inplace=True`` is accepted and
computes out of place. Shape: any -> same, unless noted.
"""
from .. import functional as F
from ..module import Module


class _Inplace(Module):
    """A parameter-free activation whose only option is ``inplace``."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class Mish(_Inplace):
    """x tanh(softplus(x)).

    Shape:
        any -> same.
    """

    def forward(self, input):
        return F.mish(input)


class Hardtanh(Module):
    """x clamped to [min_val, max_val].

    Shape:
        any -> same.
    """

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False, min_value=None, max_value=None):
        super().__init__()
        # min_value / max_value: PyTorch's deprecated spellings of min_val / max_val
        min_val = min_val if min_value is None else min_value
        max_val = max_val if max_value is None else max_value
        if min_val > max_val:
            raise ValueError(f"Hardtanh: min_val {min_val} must not be greater than max_val {max_val}")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, input):
        return F.hardtanh(input, self.min_val, self.max_val)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}" + (", inplace=True" if self.inplace else "")


class ReLU6(Hardtanh):
    """min(max(x, 0), 6).

    Shape:
        any -> same.
    """

    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class Hardsigmoid(_Inplace):
    """0 for x <= -3, 1 for x >= 3, x / 6 + 1/2 in between.

    Shape:
        any -> same.
    """

    def forward(self, input):
        return F.hardsigmoid(input)


class Hardswish(_Inplace):
    """x hardsigmoid(x).

    Shape:
        any -> same.
    """

    def forward(self, input):
        return F.hardswish(input)


class Softsign(Module):
    """x / (1 + |x|).

    Shape:
        any -> same.
    """

    def forward(self, input):
        return F.softsign(input)


class LogSigmoid(Module):
    """log(sigmoid(x)), computed as -softplus(-x) (finite for any x).

    Shape:
        any -> same.
    """

    def forward(self, input):
        return F.logsigmoid(input)


class Threshold(Module):
    """x where x > threshold, else ``value``.

    Shape:
        any -> same.
    """

    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, input):
        return F.threshold(input, self.threshold, self.value)

    def extra_repr(self):
        return f"threshold={self.threshold}, value={self.value}" + (", inplace=True" if self.inplace else "")


class CELU(Module):
    """max(0, x) + min(0, alpha (e^(x / alpha) - 1)).

    Shape:
        any -> same.
    """

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input):
        return F.celu(input, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class SELU(_Inplace):
    """scale (max(0, x) + min(0, alpha (e^x - 1))), alpha ~ 1.6733, scale ~ 1.0507.

    Shape:
        any -> same.
    """

    def forward(self, input):
        return F.selu(input)


class GLU(Module):
    """a sigmoid(b) for the two halves a, b of the input along ``dim``.

    Shape:
        (*, 2 M, *) -> (*, M, *), halved along ``dim``.
    """

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.glu(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmin(Module):
    """softmax(-x) along ``dim`` (default -1, as ``Softmax`` here).

    Shape:
        any -> same.
    """

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.softmin(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Tanhshrink(Module):
    """x - tanh(x).

    Shape:
        any -> same.
    """

    def forward(self, input):
        return F.tanhshrink(input)


class Softshrink(Module):
    """x - lambd for x > lambd, x + lambd for x < -lambd, else 0.

    Shape:
        any -> same.
    """

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input):
        return F.softshrink(input, self.lambd)

    def extra_repr(self):
        return str(self.lambd)


class Hardshrink(Softshrink):
    """x where |x| > lambd, else 0.

    Shape:
        any -> same.
    """

    def forward(self, input):
        return F.hardshrink(input, self.lambd)


class RReLU(Module):
    """Randomised leaky ReLU: slope a ~ U(lower, upper) per element in training, (lower + upper) / 2 in eval.

    Shape:
        any -> same.
    """

    def __init__(self, lower=1.0 / 8, upper=1.0 / 3, inplace=False):
        super().__init__()
        self.lower, self.upper, self.inplace = lower, upper, inplace

    def forward(self, input):
        return F.rrelu(input, self.lower, self.upper, self.training)

    def extra_repr(self):
        return f"lower={self.lower}, upper={self.upper}" + (", inplace=True" if self.inplace else "")


class Softmax2d(Module):
    """Softmax over the channels of every pixel: ``(N, C, H, W)`` or ``(C, H, W)``, along dim -3.

    Shape:
        (N, C, H, W) or (C, H, W) -> same.
    """

    def forward(self, input):
        if input.ndim not in (3, 4):
            raise ValueError(f"Softmax2d: expected a 3-d (C, H, W) or 4-d (N, C, H, W) input, got shape "
                             f"{tuple(input.shape)}")
        return F.softmax(input, dim=-3)
