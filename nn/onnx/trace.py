"""One forward pass under ``autodiff.tracing()``, read back as an ordered list of op calls.

The engine's recorder is the tracer: inside ``autodiff.tracing()`` every ``Function.apply`` makes a
graph node that keeps its positional ``inputs`` and its ``kwargs``, and each output Tensor points at
it (``grad_fn``, ``output_nr``). :func:`run` calls the model once and walks that graph back from the
outputs into a topological list. A Tensor input without ``grad_fn`` is a leaf: a parameter or buffer
(found by identity in the model), a graph input, or a constant made inside ``forward``.

To learn which dimensions follow a dynamic axis, and whether a value baked into the graph as a
constant secretly depends on the inputs, the exporter traces more than once (with another size on a
dynamic axis, or other input values) and compares the traces op by op (:func:`compare`).
"""
import numpy as np

import autodiff
from autodiff import Tensor

__all__ = ["Trace", "run", "flatten", "Dim", "symbolic_dims", "StructureError"]


class StructureError(RuntimeError):
    """Two traces of the same model made different graphs (control flow that depends on the inputs)."""


def flatten(obj, what="output"):
    """The Tensors in a nested tuple/list/dict (dict values in insertion order), depth first.

    Other values are an error in the model's output, and skipped among its ``"arguments"``.
    """
    out = []
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, Tensor):
            out.append(item)
        elif isinstance(item, (tuple, list)):
            stack.extend(reversed(item))
        elif isinstance(item, dict):
            stack.extend(reversed(list(item.values())))
        elif item is None or what == "arguments":
            continue  # Python values among the arguments are constants of the trace
        else:
            raise TypeError(f"onnx export: the model's {what} contains a {type(item).__name__}; only Tensors "
                            f"(in tuples, lists or dicts) can be exported")
    return out


class Trace:
    """The op calls of one forward pass, in an order where every producer precedes its consumers.

    Attributes:
        inputs: the graph input Tensors (flattened ``args``).
        outputs: the output Tensors (flattened model output).
        nodes: the recorded nodes, producers first.
        args: per node, its positional arguments, each Tensor as the op read it.
        index: ``id(node) -> position in nodes``.
        leaves: ``id(tensor) -> tensor`` for every leaf Tensor an op reads.
        output_shapes: per node, a list of output shapes (from the node's ``output_meta``).
    """

    def __init__(self, inputs, outputs, nodes, args, leaves):
        self.inputs, self.outputs, self.nodes, self.args, self.leaves = inputs, outputs, nodes, args, leaves
        self.index = {id(n): i for i, n in enumerate(nodes)}
        self.output_shapes = [[tuple(m[0]) for m in n.output_meta] for n in nodes]

    def key(self, t):
        """A position-based name of Tensor ``t``: ``("node", i, k)`` or ``("leaf", id)``."""
        node = t.grad_fn
        if node is None:
            return ("leaf", id(t))
        return ("node", self.index[id(node)], t.output_nr)


def run(model, args, kwargs, watch=()):
    """Call ``model(*args, **kwargs)`` under ``autodiff.tracing()`` and collect the graph.

    ``watch``: module classes whose calls are recorded too (``trace.calls``: ``(module, inputs,
    outputs)`` with the Tensors flattened), for the exporter's whole-module forms.
    """
    calls, handles = [], []
    if watch and hasattr(model, "modules"):
        for m in model.modules():
            if isinstance(m, tuple(watch)):
                handles.append(m.register_forward_hook(
                    lambda mod, a, out: calls.append((mod, _tensors(a), _tensors(out)))))
    try:
        with autodiff.tracing():
            out = model(*args, **kwargs)
    finally:
        for h in handles:
            h.remove()
    outputs = flatten(out)
    if not outputs:
        raise ValueError("onnx export: the model returned no Tensor")
    inputs = flatten((args, kwargs), "arguments")
    nodes, node_args, leaves = _collect(outputs)
    trace = Trace(inputs, outputs, nodes, node_args, leaves)
    trace.calls = calls
    return trace, out


def _tensors(obj):
    try:
        return flatten(obj)
    except TypeError:
        return []


def _collect(outputs):
    """Nodes reachable from ``outputs`` in post-order (inputs first, in argument order), iteratively.

    Returns ``(nodes, args, leaves)``: ``args[k]`` are node ``k``'s positional arguments with each Tensor
    as it was when the op ran (see :func:`_as_read`).
    """
    order, seen, leaves, args = [], set(), {}, {}
    for root in outputs:
        if root.grad_fn is None:
            leaves[id(root)] = root
            continue
        stack = [(root.grad_fn, False)]
        while stack:
            node, done = stack.pop()
            if done:
                order.append(node)
                continue
            if id(node) in seen:
                continue
            seen.add(id(node))
            stack.append((node, True))
            args[id(node)] = read = _read_args(node)
            parents = []
            for a in read:
                if not isinstance(a, Tensor):
                    continue
                if a.grad_fn is None:
                    leaves[id(a)] = a
                elif id(a.grad_fn) not in seen:
                    parents.append(a.grad_fn)
            stack.extend((p, False) for p in reversed(parents))
    return order, [args[id(n)] for n in order], leaves


def _read_args(node):
    if node.inputs is None:
        raise RuntimeError(f"onnx export: op {node.name} was recorded outside autodiff.tracing() (a graph "
                           f"built before export, e.g. a cached Tensor reused in forward)")
    return [_as_read(a, node) for a in node.inputs]


def _as_read(a, node):
    """The Tensor ``node`` read as argument ``a``.

    ``node.inputs`` keeps the Tensor objects themselves. A Tensor changed in place later (``+=``,
    ``t[i] = v``, a change through a view) points at the newer op, which the engine records with the
    previous version as its first argument; following those first arguments back to an op older than
    ``node`` gives the value ``node`` saw.
    """
    while isinstance(a, Tensor) and a.grad_fn is not None and a.grad_fn.seq > node.seq:
        newer = a.grad_fn.inputs
        if not newer or not isinstance(newer[0], Tensor):
            raise RuntimeError(f"onnx export: op {node.name} reads a tensor that op {a.grad_fn.name} changed in "
                               f"place afterwards, and its earlier value cannot be found")
        a = newer[0]
    return a


def compare(base, other, what):
    """Check that ``other`` is the same graph as ``base`` (same ops in the same order, same wiring)."""
    if len(base.nodes) != len(other.nodes):
        raise StructureError(f"onnx export: the traced graph changes with {what} ({len(base.nodes)} ops "
                             f"against {len(other.nodes)}): the model's control flow depends on it, so one "
                             f"graph cannot represent it")
    for i, (a, b) in enumerate(zip(base.nodes, other.nodes)):
        ka = [base.key(t) if isinstance(t, Tensor) else None for t in base.args[i]]
        kb = [other.key(t) if isinstance(t, Tensor) else None for t in other.args[i]]
        same = a.fn is b.fn and len(ka) == len(kb) and all(
            (x is None) == (y is None) and (x is None or x[0] == "leaf" or x == y) for x, y in zip(ka, kb))
        if not same:
            raise StructureError(f"onnx export: the traced graph changes with {what} at op {i} ({a.name} in "
                                 f"module {a.scope or '<top>'} against {b.name} in {b.scope or '<top>'}): the "
                                 f"model's control flow depends on it")


class Dim:
    """A dimension that follows dynamic axes: ``coef * prod(symbols)``, or unknown (``coef`` None).

    ``value`` is its size in the first trace.
    """

    __slots__ = ("coef", "symbols", "value")

    def __init__(self, coef, symbols, value):
        self.coef, self.symbols, self.value = coef, tuple(symbols), int(value)

    @property
    def known(self):
        return self.coef is not None

    def __eq__(self, other):
        return isinstance(other, Dim) and (self.coef, self.symbols) == (other.coef, other.symbols) and \
            self.known

    def __hash__(self):
        return hash((self.coef, self.symbols))

    def param(self):
        """The ``dim_param`` text of this dimension (``None`` if it has no simple name)."""
        if self.coef == 1 and len(self.symbols) == 1:
            return self.symbols[0]
        if self.known:
            return "*".join(([str(self.coef)] if self.coef != 1 else []) + list(self.symbols))
        return None

    def __repr__(self):
        return f"Dim({self.param() or '?'}={self.value})"


def symbolic_dims(base_shape, varied, base_sizes, other_sizes):
    """The dimensions of one value: ints, or :class:`Dim` for those that changed with a symbol.

    Args:
        base_shape: its shape in the first trace.
        varied: ``{symbol: shape in the trace where only that symbol's size changed}``.
        base_sizes, other_sizes: ``{symbol: size}`` in the first trace and in that symbol's trace.
    """
    dims = []
    for a, d0 in enumerate(base_shape):
        deps = [s for s, shape in varied.items() if shape[a] != d0]
        if not deps:
            dims.append(int(d0))
            continue
        prod = int(np.prod([base_sizes[s] for s in deps]))
        coef = d0 // prod if prod and d0 % prod == 0 else None
        if coef is not None:
            for s in deps:
                expect = coef * prod // base_sizes[s] * other_sizes[s]
                if varied[s][a] != expect:
                    coef = None
                    break
        dims.append(Dim(coef, sorted(deps), d0))
    return dims
