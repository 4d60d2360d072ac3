"""The one backward engine: newest node first, gradient accumulation, hooks, create_graph.

Scheduling. A node may run once every consumer of it inside this backward's graph has sent its
gradient. Rather than counting consumers with a walk over the whole graph first (Kahn's algorithm),
the engine uses two numbers the forward pass records on each node: ``_seq`` (creation order: a
consumer is always newer than the producers of its inputs) and ``_uses`` (how many recorded edges
point at the node).

- A node used once gets its whole gradient from its one consumer, so it is ready as soon as that
  consumer has run: it goes on a stack together with its gradient (no dictionary, no counting).
  Chains of ops, the common case, run entirely on this stack.
- Every other node, and every root, waits in a heap ordered newest first, its gradients summed in
  ``buffers``. It runs when the stack is empty and nothing newer waits: any consumer still to run
  would be newer than it and would have to be put on the stack or the heap by a node newer still,
  and none is left.
"""
import sys
from heapq import heappop, heappush

import numpy as np

from . import mode
from .function import Function, Node, _fastop

Tensor = None  # set by autodiff.tensor (avoids an import cycle and per-call imports)


def _zeros(meta, like_tensor):
    shape, dtype = meta
    z = np.zeros(shape, dtype)
    return Tensor(z) if like_tensor else z


def _add(a, b):
    return b if a is None else a + b


def run_backward(outputs, grad_outputs, retain_graph=False, create_graph=False, inputs=None):
    """Back-propagate ``grad_outputs`` from ``outputs`` through the recorded graph.

    With ``inputs=None`` gradients accumulate into the ``.grad`` of leaves (and of tensors that called
    ``retain_grad``). With a list of ``inputs`` the gradients with respect to them are returned instead
    and no ``.grad`` is touched (nor is any ``.grad`` written when backward fails part way).
    """
    buffers = {}
    heap = []
    leaf_grads = {}
    leaf_order = []
    plain = not create_graph and inputs is None
    for t, g in zip(outputs, grad_outputs):
        if not t.requires_grad:
            raise RuntimeError(
                "backward: element of outputs does not require grad and has no grad_fn "
                f"(shape {tuple(t.shape)})")
        g = g if create_graph else (g.data if isinstance(g, Tensor) else g)
        if np.shape(g) != t.data.shape:
            raise RuntimeError(f"backward: gradient has shape {tuple(np.shape(g))} but its output has "
                               f"shape {tuple(t.data.shape)}")
        node = t._node
        if node is None:
            _acc_leaf(leaf_grads, leaf_order, t, g)
            continue
        if node._saved is None:
            node.saved_tensors  # raises the retain_graph error before anything runs
        buf = buffers.get(node)
        if buf is None:
            buf = buffers[node] = [None] * len(node.output_meta)
            heappush(heap, (-node._seq, node))
        buf[t._out_idx] = _add(buf[t._out_idx], g)

    capture = None
    captured = None
    if inputs is not None:
        capture = {}
        captured = [None] * len(inputs)
        for k, t in enumerate(inputs):
            if t._node is not None:
                capture.setdefault((id(t._node), t._out_idx), []).append(k)

    single_roots = any(n._uses == 1 for _, n in heap)  # a root used once must still wait in the heap
    grad_ctx = mode.enable_grad() if create_graph else mode.no_grad()
    with grad_ctx:
        if plain:
            for node, buf in buffers.items():  # _run_plain keeps single-output gradients bare
                if len(buf) == 1:
                    buffers[node] = buf[0]
            if _fastop is not None:  # the same loop in C (autodiff/_fastop.c)
                _fastop.run_plain(heap, buffers, leaf_grads, leaf_order, retain_graph, single_roots)
            else:
                _run_plain(heap, buffers, leaf_grads, leaf_order, retain_graph, single_roots)
        else:
            _run_general(heap, buffers, create_graph, capture, captured, leaf_grads, leaf_order,
                         retain_graph, single_roots)

    for leaf in leaf_order:
        g = leaf_grads.pop(id(leaf))
        if leaf._hooks:
            for hook in leaf._hooks:
                new = hook(g if create_graph else Tensor(g))
                if new is not None:
                    g = new if create_graph else (new.data if isinstance(new, Tensor) else new)
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
            _set_grad(leaf, g, create_graph)
    return captured


def _run_plain(heap, buffers, leaf_grads, leaf_order, retain_graph, single_roots):
    """The common case (no create_graph, no inputs=): arrays only, the hot loop kept flat.

    Does what ``_run_general`` does, with the per-node work inlined: a chain of small ops spends most
    of its backward time in this loop's bookkeeping, not in numpy. The gradient of a single-output
    node travels bare (no one-element list per node).
    """
    stack = []
    push = stack.append
    pop = stack.pop
    pop_buffer = buffers.pop
    get_buffer = buffers.get
    next_node = next_grads = None  # the first single-use single-output input: runs next, no stack trip
    while True:
        if next_node is not None:
            node = next_node
            grads = next_grads
            next_node = None
        elif stack:
            node, grads = pop()
        elif heap:
            node = heappop(heap)[1]
            grads = pop_buffer(node)
        else:
            return
        saved = node._saved
        if saved is None:
            node.saved_tensors  # raises the retain_graph error
        fn = node.fn
        single = len(node.output_meta) == 1
        if node._tensor_hooks is not None or node._retained is not None:
            if single:
                grads = [grads]
            _hooks_and_retained(node, grads, False, None, None)
            if single:
                grads = grads[0]
        if single:
            result = fn.backward(node, grads)
        else:
            for i in range(len(grads)):
                if grads[i] is None:
                    grads[i] = _zeros(node.output_meta[i], False)
            result = fn.backward(node, *grads)
        edges = node._next
        if type(result) is not tuple:
            result = (result,)
        if len(result) != len(edges):
            result = _pad_result(node, result)
        meta = node.input_meta
        check = not fn.exact_grad_shapes
        k = -1
        for e in edges:
            k += 1
            if e is None:
                continue
            g = result[k]
            if g is None:
                continue
            shape, dtype = meta[k]
            if check and g.shape != shape:
                _raise_shape(node, g, shape)
            if g.dtype is not dtype and g.dtype != dtype:
                g = g.astype(dtype)
            t = type(e)
            if t is Node:
                if len(e.output_meta) == 1:
                    if e._uses == 1 and not (single_roots and e in buffers):
                        if next_node is None:
                            next_node = e
                            next_grads = g
                        else:
                            push((e, g))
                        continue
                    buf = get_buffer(e)
                    if buf is None:
                        buffers[e] = g
                        heappush(heap, (-e._seq, e))
                    else:
                        buffers[e] = buf + g
                    continue
                child, idx = e, 0
            elif t is tuple:
                child, idx = e
            else:
                _acc_leaf(leaf_grads, leaf_order, e, g)
                continue
            _send_to_slot(child, idx, g, buffers, heap, push, single_roots)  # a multi-output node
        if not retain_graph:  # node.release(), inlined
            if saved:
                node._inputs_for_graph = None
            node._saved = None


def _run_general(heap, buffers, create_graph, capture, captured, leaf_grads, leaf_order, retain_graph,
                 single_roots):
    """The general loop (create_graph and/or gradients captured for ``inputs=``): lists everywhere."""
    stack = []
    while stack or heap:
        if stack:
            node, grads = stack.pop()
        else:
            node = heappop(heap)[1]
            grads = buffers.pop(node)
        if node._saved is None:
            node.saved_tensors  # raises the retain_graph error
        _run_node(node, grads, create_graph, capture, captured, buffers, leaf_grads, leaf_order,
                  heap, stack, single_roots)
        if not retain_graph:
            node.release()


def _hooks_and_retained(node, grads, create_graph, capture, captured):
    """Run tensor hooks on a node's output gradients, then capture them (grad()) or fill retained .grad."""
    for i, g in enumerate(grads):
        if g is None:
            continue
        if node._tensor_hooks and i in node._tensor_hooks:
            for hook in node._tensor_hooks[i]:
                new = hook(g if create_graph else Tensor(g))
                if new is not None:
                    g = new if create_graph else (new.data if isinstance(new, Tensor) else new)
            grads[i] = g
        if capture is not None:
            for k in capture.get((id(node), i), ()):
                captured[k] = g
        elif node._retained and i in node._retained:
            t = node._retained[i]()
            if t is not None:
                _set_grad(t, g, create_graph)


def _pad_result(node, result):
    """Let a backward omit trailing gradients of inputs that never get one; else a clear error."""
    edges = node._next
    n_edges = len(edges)
    if len(result) < n_edges and all(e is None for e in edges[len(result):]):
        return result + (None,) * (n_edges - len(result))
    raise RuntimeError(f"{node.name}: backward returned {len(result)} gradients but the op has "
                       f"{n_edges} inputs")


def _raise_shape(node, g, shape):
    raise RuntimeError(
        f"{node.name}: backward returned a gradient of shape {tuple(g.shape)} "
        f"for an input of shape {tuple(shape)}")


def _run_node(node, grads, create_graph, capture, captured, buffers, leaf_grads, leaf_order, heap,
              stack, single_roots):
    """One node of the general loop (create_graph and/or gradients captured for ``inputs=``)."""
    if node._tensor_hooks is not None or node._retained is not None or capture is not None:
        _hooks_and_retained(node, grads, create_graph, capture, captured)
    fn = node.fn
    tensor_mode = create_graph and not fn.once_differentiable
    for i in range(len(grads)):
        g = grads[i]
        if g is None:
            grads[i] = _zeros(node.output_meta[i], tensor_mode)
        elif create_graph and not tensor_mode and isinstance(g, Tensor):
            grads[i] = g.data
    if tensor_mode:
        node._as_tensors = True
        result = fn.backward(node, *grads)
        node._as_tensors = False
    else:
        result = fn.backward(node, *grads)
    edges = node._next
    if type(result) is not tuple:
        result = (result,)
    if len(result) != len(edges):
        result = _pad_result(node, result)
    meta = node.input_meta
    for k in range(len(edges)):
        e = edges[k]
        if e is None:
            continue
        g = result[k]
        if g is None:
            continue
        shape, dtype = meta[k]
        if g.shape != shape:
            _raise_shape(node, g, shape)
        if g.dtype is not dtype and g.dtype != dtype:
            g = g.astype(dtype)
        if create_graph and not tensor_mode:
            g = _not_twice_differentiable(node.name, g)
        if type(e) is Node or type(e) is tuple:
            child, idx = (e, 0) if type(e) is Node else e
            _send_to_slot(child, idx, g, buffers, heap, stack.append, single_roots)
        else:
            _acc_leaf(leaf_grads, leaf_order, e, g)


def _send_to_slot(child, idx, g, buffers, heap, push, single_roots):
    """Deliver ``g`` for output ``idx`` of ``child``, whose gradients wait in a list (one slot per output).

    A node used once goes straight onto the stack (``push``) with its list; any other waits in the
    heap, its contributions summed in ``buffers`` (see the module docstring).
    """
    if child._uses == 1 and not (single_roots and child in buffers):
        buf = [None] * len(child.output_meta)
        buf[idx] = g
        push((child, buf))
        return
    buf = buffers.get(child)
    if buf is None:
        buf = buffers[child] = [None] * len(child.output_meta)
        heappush(heap, (-child._seq, child))
        buf[idx] = g
    else:
        old = buf[idx]
        buf[idx] = g if old is None else old + g


def _acc_leaf(leaf_grads, leaf_order, leaf, g):
    key = id(leaf)
    old = leaf_grads.get(key)
    if old is None:
        leaf_grads[key] = g
        leaf_order.append(leaf)
    else:
        leaf_grads[key] = old + g


def _set_grad(t, g, create_graph):
    if create_graph:
        gt = g if isinstance(g, Tensor) else Tensor(g)
        t.grad = gt if t.grad is None else t.grad + gt
        return
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


def _not_twice_differentiable(name, g):
    """Wrap a gradient made by a once-differentiable op so a second backward through it fails clearly."""
    return _NotTwiceDifferentiable.apply(Tensor(g, requires_grad=True), name)


if _fastop is not None:
    _fastop.setup_backward(_hooks_and_retained, _pad_result, _raise_shape, _send_to_slot, _acc_leaf,
                           _zeros, heappush, heappop)
