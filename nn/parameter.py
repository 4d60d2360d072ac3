"""Parameter: a Tensor that a Module registers as learnable (``torch.nn.parameter.Parameter``)."""
import numpy as np

from autodiff import Tensor

__all__ = ["Parameter"]


class Parameter(Tensor):
    """A Tensor that is a module's learnable parameter: it requires grad by default.

    Assigning a Parameter to a Module attribute registers it (``self.weight = Parameter(...)``).

    Args:
        data: a Tensor, ndarray or array-like (float ndarrays keep their dtype, Python floats become
            float32). The array is shared, not copied.
        requires_grad: default True.
    """

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = np.empty(0, np.float32)
        if isinstance(data, Tensor):
            data = data.data
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo):
        p = Parameter(self.data.copy(), requires_grad=self.requires_grad)
        p.name = self.name
        if self.grad is not None:
            p.grad = Tensor(self.grad.data.copy())
        memo[id(self)] = p
        return p

    def __reduce_ex__(self, protocol):
        return (Parameter, (self.data, self.requires_grad))
