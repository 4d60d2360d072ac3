"""An identity op that hands the gradients passing through it to a callback (PyTorch's
``BackwardHookFunction``): what ``nn.Module``'s full backward hooks are built on."""
from ..function import Function

__all__ = ["GradCallback", "with_grad_callback"]


class GradCallback(Function):
    """out_i = x_i; in backward, grads = callback(grads), then passed on unchanged.

    ``callback`` gets the tuple of incoming gradients (one per output; arrays, or Tensors under
    ``create_graph=True``) and returns the tuple to pass on (the same or replacements).

    Shape:
        any number of inputs -> the same number of outputs of the same shapes.
    """

    name = "grad_callback"

    @staticmethod
    def forward(ctx, *arrays, callback=None):
        ctx.callback = callback
        outs = tuple(a.copy() for a in arrays)
        return outs if len(outs) > 1 else outs[0]

    @staticmethod
    def backward(ctx, *grads):
        return tuple(ctx.callback(tuple(grads)))


def with_grad_callback(tensors, callback):
    """``tensors`` (a list of Tensors) passed through one :class:`GradCallback` node; returns a list
    of new Tensors, the graph's path from them back to ``tensors`` running ``callback``."""
    out = GradCallback.apply(*tensors, callback=callback)
    return list(out) if isinstance(out, tuple) else [out]
