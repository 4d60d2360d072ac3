"""Module hooks: the handle every ``register_*_hook`` returns, and the backward hooks with
PyTorch's semantics (``register_full_backward_hook`` and ``register_full_backward_pre_hook``).

When a module with such hooks is called with grad on, its Tensor inputs that require grad and its
Tensor outputs that require grad each pass through one identity node (``F.with_grad_callback``).
In backward the output node sees ``grad_output`` first: the pre-hooks run there and may replace
it. The input node then sees ``grad_input``: the full hooks run there with
``(module, grad_input, grad_output)`` and may replace ``grad_input``. When no input requires grad,
the full hooks run at the output node with ``grad_input`` all None, as in PyTorch.
"""
import autodiff
from autodiff import Tensor

from . import functional as F

__all__ = ["RemovableHandle", "setup_backward_hooks"]


class RemovableHandle:
    """What ``Module.register_*_hook`` returns: ``remove()`` takes the hook out again."""

    _next_id = 0

    def __init__(self, store, hook, prepend=False):
        RemovableHandle._next_id += 1
        self.id = RemovableHandle._next_id
        self._store = store
        store[self.id] = hook
        if prepend:  # run before the hooks registered earlier
            for key in [k for k in store if k != self.id]:
                store[key] = store.pop(key)

    def remove(self):
        """Unregister the hook (a second call does nothing)."""
        self._store.pop(self.id, None)


def _as_tensor(g):
    return g if g is None or isinstance(g, Tensor) else Tensor(g)


def _like(value, incoming):
    """``value`` (from a hook) in the form the engine passed ``incoming`` in: arrays, or Tensors
    under ``create_graph=True``."""
    if value is None or isinstance(incoming, Tensor):
        return value if value is None or isinstance(value, Tensor) else Tensor(value)
    return value.data if isinstance(value, Tensor) else value


def _replaced(module, kind, old, new):
    new = tuple(new) if isinstance(new, (tuple, list)) else (new,)
    if len(new) != len(old):
        raise RuntimeError(f"{type(module).__name__}: a backward {kind} hook returned {len(new)} "
                           f"gradients, expected {len(old)} (one per {kind.split()[0]} Tensor)")
    return new


def setup_backward_hooks(module, args):
    """Route ``args`` through the input node; returns ``(args, finish)`` where ``finish(output)``
    routes the output through the output node (both unchanged when grad mode is off)."""
    full = list(module._backward_hooks.values())
    pre = list(module._backward_pre_hooks.values())
    if not autodiff.is_grad_enabled():
        return args, None
    tensor_pos = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
    grad_pos = [i for i in tensor_pos if args[i].requires_grad]
    # PyTorch's grad_input: one entry per positional argument; None for non-Tensors, and zeros for
    # Tensors that need no gradient while another input does (torch materialises them)
    constant_pos = [i for i in tensor_pos if i not in grad_pos]
    n_args = len(args)
    state = {"grad_output": None}

    def run_full(grad_input):
        for hook in full:
            res = hook(module, grad_input, state["grad_output"])
            if res is not None:
                grad_input = _replaced(module, "input (full)", grad_input, res)
        return grad_input

    def on_input_grads(grads):
        grad_input = [None] * n_args
        for g, i in zip(grads, grad_pos):
            grad_input[i] = _as_tensor(g)
        for i in constant_pos:
            grad_input[i] = autodiff.zeros_like(args[i])
        grad_input = run_full(tuple(grad_input))
        return [_like(grad_input[i], g) for g, i in zip(grads, grad_pos)]

    if full and grad_pos:
        routed = F.with_grad_callback([args[i] for i in grad_pos], on_input_grads)
        args = list(args)
        for i, t in zip(grad_pos, routed):
            args[i] = t
        args = tuple(args)

    def finish(output):
        outs = output if isinstance(output, tuple) else (output,)
        out_pos = [i for i, o in enumerate(outs) if isinstance(o, Tensor) and o.requires_grad]
        if not out_pos:
            return output

        def on_output_grads(grads):
            grad_output = tuple(_as_tensor(g) for g in grads)
            for hook in pre:
                res = hook(module, grad_output)
                if res is not None:
                    grad_output = _replaced(module, "output (pre)", grad_output, res)
            state["grad_output"] = grad_output
            if full and not grad_pos:
                run_full((None,) * n_args)
            return [_like(g, inc) for g, inc in zip(grad_output, grads)]

        routed = F.with_grad_callback([outs[i] for i in out_pos], on_output_grads)
        outs = list(outs)
        for i, t in zip(out_pos, routed):
            outs[i] = t
        return tuple(outs) if isinstance(output, tuple) else outs[0]

    return args, finish
