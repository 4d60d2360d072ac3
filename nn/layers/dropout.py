"""Dropout."""
from .. import functional as F
from ..module import Module


class Dropout(Module):
    """Inverted dropout: in training each element is zeroed with probability ``p`` and the survivors
    are multiplied by 1/(1-p); in evaluation the layer is the identity.

    Why this is the course's rule: the course drops neurons during training and, at test time, when all
    neurons are present, halves their outgoing weights (for p=0.5), so that the next layer receives on
    average the same input it saw in training. The expected value of a dropped-out activation a is
    (1-p) a; scaling by 1/(1-p) during training makes that expectation exactly a, so the test-time
    network can use the weights unchanged. For p=0.5: training doubles surviving activations instead of
    testing with halved weights -- the two networks differ only by a constant factor 2 moved from test to
    training, and the expected activation reaching the next layer is the same.

    Args:
        p: probability of zeroing an element (default 0.5).

    Shape:
        any -> same.
    """

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: probability has to be between 0 and 1, but got {p}")
        self.p = float(p)
        self.inplace = inplace

    def forward(self, input):
        return F.dropout(input, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"
