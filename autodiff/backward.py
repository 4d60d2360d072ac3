"""The one backward loop: newest node first, gradient accumulation, hooks, create_graph, ``inputs=``.

Scheduling. A node may run once every consumer of it inside this backward's graph has sent its
gradient. Rather than counting consumers with a walk over the whole graph first (Kahn's algorithm),
the loop uses two numbers the recorder keeps on each node: ``seq`` (creation order: a consumer is
always newer than the producers of its inputs) and ``uses`` (how many recorded edges point at it).

- A node used once gets its whole gradient from its one consumer, so it is ready as soon as that
  consumer has run: it goes on a stack together with its gradients (no counting). Chains of ops, the
  common case, run entirely on this stack.
- Every other node, and every root, waits in a heap ordered newest first, its gradients summed in
  ``buffers``. It runs when the stack is empty and nothing newer waits: any consumer still to run
  would be newer than it and would have to be put on the stack or the heap by a node newer still,
  and none is left.

Every variant of backward is an argument of the same loop: ``create_graph`` (the op's backward gets
Tensors and is itself recorded), ``inputs=`` (gradients are captured and returned instead of written to
``.grad``), tensor hooks and ``retain_grad`` (run when a node's output gradients are complete), and
multi-output nodes (one gradient slot per output).
"""
import sys
from heapq import heappop, heappush

import numpy as np

from . import grad_mode
from . import tensor as tensors  # the Tensor class, read at call time (tensor.py imports this module)
from .function import Function, _engine, track
from .graph import Node
from .ops.array_or_tensor import unbroadcast

__all__ = ["run_backward", "grad"]


def run_backward(outputs, grad_outputs, retain_graph=False, create_graph=False, inputs=None):
    """Back-propagate ``grad_outputs`` from ``outputs`` through the recorded graph.

    With ``inputs=None`` gradients accumulate into the ``.grad`` of leaves (and of tensors that called
    ``retain_grad``). With a list of ``inputs`` the gradients with respect to them are returned instead
    and no ``.grad`` is touched (nor is any ``.grad`` written when backward fails part way).
    """
    Tensor = tensors.Tensor
    buffers = {}        # node -> [gradient per output], for nodes waiting in the heap
    heap = []
    leaf_grads = {}     # id(leaf) -> summed gradient, written to .grad at the end
    leaf_order = []
    for t, g in zip(outputs, grad_outputs):
        if not t.requires_grad:
            raise RuntimeError(
                "backward: element of outputs does not require grad and has no grad_fn "
                f"(shape {tuple(t.shape)})")
        if not create_graph and isinstance(g, Tensor):
            g = g.data
        if tuple(np.shape(g)) != t.data.shape:
            raise RuntimeError(f"backward: gradient has shape {tuple(np.shape(g))} but its output has "
                               f"shape {tuple(t.data.shape)}")
        node = t._node
        if node is None:
            _accumulate_leaf(leaf_grads, leaf_order, t, g)
            continue
        if node.ctx.freed:
            node.ctx.saved_tensors  # raises the retain_graph error before anything runs
        _send(node, t._out_idx, g, buffers, heap)

    capture = None
    captured = None
    if inputs is not None:
        capture = {}
        captured = [None] * len(inputs)
        for k, t in enumerate(inputs):
            if t._node is not None:
                capture.setdefault((id(t._node), t._out_idx), []).append(k)

    with grad_mode.enable_grad() if create_graph else grad_mode.no_grad():
        (_loop if _engine is None else _engine.loop)(heap, buffers, leaf_grads, leaf_order, retain_graph,
                                                     create_graph, capture, captured)

    for leaf in leaf_order:
        g = leaf_grads.pop(id(leaf))
        if leaf._hooks:
            g = _run_hooks(leaf._hooks, g, create_graph)
        if capture is not None:
            for k, t in enumerate(inputs):
                if t is leaf:
                    captured[k] = g
        elif (leaf.grad is None and type(g) is np.ndarray and g.base is None
              and sys.getrefcount(g) <= 2 and g.dtype == leaf.data.dtype and g.flags.writeable):
            # nothing but this loop refers to g (PyTorch's AccumulateGrad steals in the same case):
            # it becomes .grad without a copy
            leaf.grad = Tensor(g)
        else:
            set_grad(leaf, g, create_graph)
    return captured


def _loop(heap, buffers, leaf_grads, leaf_order, retain_graph, create_graph, capture, captured):
    """Run every node reachable from the roots in ``heap``; leaves' gradients go to ``leaf_grads``.

    The compiled engine (``_engine.loop``, when built) is this same loop statement by statement; the
    rare branches (hooks, create_graph, padding, errors) are the helpers below, called by both.
    """
    stack = []
    while stack or heap:
        if stack:
            node, grads = stack.pop()
        else:
            node = heappop(heap)[1]
            grads = buffers.pop(node)
        ctx = node.ctx
        if ctx._saved is None:
            ctx.saved_tensors  # raises the retain_graph error
        if node.tensor_hooks is not None or node.retained is not None or capture is not None:
            _hooks_and_retained(node, grads, create_graph, capture, captured)
        fn = node.fn
        tensor_mode = create_graph and not fn.once_differentiable
        if len(grads) > 1 or create_graph:
            _complete_grads(node, grads, create_graph, tensor_mode)
        if tensor_mode:
            ctx._node = node  # saved_tensors hands back Tensors connected to this node
            try:
                result = fn.backward(ctx, *grads)
            finally:
                ctx._node = None
        else:
            result = fn.backward(ctx, *grads)
        if type(result) is not tuple:
            result = (result,)
        edges = node.next
        if len(result) != len(edges):
            result = _pad_result(node, result)
        check = not fn.exact_grad_shapes
        meta = node.input_meta
        # a gradient passed on unchanged to an input described like the output needs no check
        passed = grads[0] if len(grads) == 1 and len(node.output_meta) == 1 else None
        k = -1
        for e in edges:
            k += 1
            if e is None:
                continue
            g = result[k]
            if g is None:
                continue
            if g is passed and meta[k] is node.output_meta[0]:
                pass
            else:
                shape, dtype = meta[k]
                if check and g.shape != shape:
                    g = _sum_to_shape(node, g, shape)
                if g.dtype is not dtype and g.dtype != dtype:
                    g = g.astype(dtype)
            if create_graph and not tensor_mode:
                g = _once_differentiable(node, g)
            if type(e) is Node:
                child, idx = e, 0
            elif type(e) is tuple:
                child, idx = e
            else:
                _accumulate_leaf(leaf_grads, leaf_order, e, g)
                continue
            if child.uses == 1 and child not in buffers:  # its only consumer: ready now
                child_grads = [None] * len(child.output_meta)
                child_grads[idx] = g
                stack.append((child, child_grads))
            else:
                _send(child, idx, g, buffers, heap)
        if not retain_graph:
            ctx._saved = None  # ctx.release()


def _complete_grads(node, grads, create_graph, tensor_mode):
    """Before a multi-output node's backward (or any under create_graph): zeros for outputs no consumer
    used, Tensors in tensor mode, arrays for a once-differentiable op."""
    Tensor = tensors.Tensor
    for i, g in enumerate(grads):
        if g is None:  # an output no consumer used: its gradient is zero
            shape, dtype = node.output_meta[i]
            grads[i] = Tensor(np.zeros(shape, dtype)) if tensor_mode else np.zeros(shape, dtype)
        elif create_graph and not tensor_mode and isinstance(g, Tensor):
            grads[i] = g.data


def _sum_to_shape(node, g, shape):
    """A gradient of another shape than its input: summed back to the input's shape when the input
    broadcasts to it (an op whose input was broadcast may return the broadcast gradient, as PyTorch's
    engine allows); any other shape is the op's error."""
    gshape = tuple(g.shape)
    if len(gshape) >= len(shape) and all(s == 1 or s == t for s, t in zip(shape[::-1], gshape[::-1])):
        return unbroadcast(g, shape)
    raise RuntimeError(f"{node.name}: backward returned a gradient of shape {gshape} "
                       f"for an input of shape {tuple(shape)}")


def _once_differentiable(node, g):
    """Under create_graph, the gradient from a once-differentiable op: a Tensor whose own backward
    raises a clear error."""
    return _NotTwiceDifferentiable.apply(tensors.Tensor(g, requires_grad=True), node.name)


def _send(node, idx, g, buffers, heap):
    """Add ``g`` for output ``idx`` of ``node`` to its buffer in the heap (a node used more than once,
    or a root: it runs when every consumer has sent its gradient)."""
    grads = buffers.get(node)
    if grads is None:
        grads = buffers[node] = [None] * len(node.output_meta)
        heappush(heap, (-node.seq, node))
    old = grads[idx]
    grads[idx] = g if old is None else old + g


def _run_hooks(hooks, g, create_graph):
    Tensor = tensors.Tensor
    for hook in hooks:
        new = hook(g if create_graph else Tensor(g))
        if new is not None:
            g = new if create_graph else (new.data if isinstance(new, Tensor) else new)
    return g


def _hooks_and_retained(node, grads, create_graph, capture, captured):
    """Run tensor hooks on a node's output gradients, then capture them (grad()) or fill retained .grad."""
    for i, g in enumerate(grads):
        if g is None:
            continue
        if node.tensor_hooks and i in node.tensor_hooks:
            g = grads[i] = _run_hooks(node.tensor_hooks[i], g, create_graph)
        if capture is not None:
            for k in capture.get((id(node), i), ()):
                captured[k] = g
        elif node.retained and i in node.retained:
            t = node.retained[i]()
            if t is not None:
                set_grad(t, g, create_graph)


def _pad_result(node, result):
    """Let a backward omit trailing gradients of inputs that never get one; else a clear error."""
    edges = node.next
    if len(result) < len(edges) and all(e is None for e in edges[len(result):]):
        return result + (None,) * (len(edges) - len(result))
    raise RuntimeError(f"{node.name}: backward returned {len(result)} gradients but the op has "
                       f"{len(edges)} inputs")


def _accumulate_leaf(leaf_grads, leaf_order, leaf, g):
    key = id(leaf)
    old = leaf_grads.get(key)
    if old is None:
        leaf_grads[key] = g
        leaf_order.append(leaf)
    else:
        leaf_grads[key] = old + g


def set_grad(t, g, create_graph):
    """Accumulate ``g`` into ``t.grad`` (a Tensor that joins the graph under ``create_graph``)."""
    Tensor = tensors.Tensor
    if create_graph:
        gt = g if isinstance(g, Tensor) else Tensor(g)
        t.grad = gt if t.grad is None else t.grad + gt
        if t.grad._node is not None:
            track(t.grad._node)  # t -> .grad -> its graph -> t: a cycle the collector must see
        return
    if isinstance(g, Tensor):
        g = g.data
    if t.grad is None:
        t.grad = Tensor(np.array(g, dtype=t.data.dtype, copy=True))
    elif t.grad.data.flags.writeable:
        t.grad.data += g
    else:
        t.grad.data = t.grad.data + g


class _NotTwiceDifferentiable(Function):
    """Identity that stands for the gradient of a once-differentiable op in a create_graph pass."""

    name = "not_twice_differentiable"

    @staticmethod
    def forward(ctx, g, op_name):
        ctx.op_name = op_name
        return g

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError(
            f"{ctx.op_name}: its backward is computed by a kernel and is not differentiable twice; "
            "create_graph=True cannot go through this op")


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    """Gradients of ``outputs`` with respect to ``inputs``, without touching any ``.grad``.

    Returns a tuple with one Tensor per input (None for an unused input when ``allow_unused``).
    """
    Tensor = tensors.Tensor
    single_in = isinstance(inputs, Tensor)
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if single_in else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    gos = []
    for o, g in zip(outputs, grad_outputs):
        if g is None:
            if o.data.size != 1:
                raise RuntimeError(f"grad: grad can be implicitly created only for scalar outputs "
                                   f"(got shape {tuple(o.shape)}); pass grad_outputs")
            g = np.ones_like(o.data)
        if create_graph:
            g = g if isinstance(g, Tensor) else Tensor(g)
        else:
            g = g.data if isinstance(g, Tensor) else np.asarray(g, dtype=o.data.dtype)
        gos.append(g)
    if retain_graph is None:
        retain_graph = create_graph
    for t in inputs:
        if not t.requires_grad:
            raise RuntimeError(f"grad: one of the inputs (shape {tuple(t.shape)}) does not require grad")
    res = run_backward(outputs, gos, retain_graph, create_graph, inputs=inputs)
    out = []
    for t, g in zip(inputs, res):
        if g is None:
            if not allow_unused:
                raise RuntimeError(f"grad: one of the inputs (shape {tuple(t.shape)}) was not used to "
                                   "compute the outputs; pass allow_unused=True to get None for it")
            out.append(None)
        else:
            out.append(g if isinstance(g, Tensor) else Tensor(np.asarray(g, dtype=t.dtype)))
    return tuple(out)
