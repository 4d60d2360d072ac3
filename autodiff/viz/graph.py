"""Walk a computation graph once into plain data nodes, op nodes and edges, for both engines.

The pictures never look at ``Value`` or ``Tensor`` again after this walk: everything they print
(values, gradients, shapes, op names, local-derivative formulas, scopes) is copied into a
:class:`Graph` here.

The model is bipartite: a *data node* is a value (a ``Value``; a leaf ``Tensor``; the output of a
recorded op), an *op node* is one operation. Edges go data -> op (argument ``i`` of the op) and
op -> data (output ``k`` of the op), so the nodes in ``Graph.order`` are children before parents.

Tensor graphs keep no reference to intermediate tensors, only to their producing ``Node``; such a
data node is identified by ``(node, output_index)`` and shows the shape and dtype from
``Node.output_meta``. Its value and gradient are filled in when they can be found: from the saved
arrays of a not-yet-freed node, from tensors that called ``retain_grad()``, or from the tensors the
caller passes as ``tensors=`` (a dict name -> Tensor, or a list of Tensors with ``.name``).
Parameters passed as ``params=`` (e.g. ``dict(model.named_parameters())``) label the leaves.
"""
import math

import numpy as np

__all__ = ["DataNode", "OpNode", "Graph", "build_graph", "local_formula"]

# local derivative d(out)/d(argument i) per op, written with a, b for the arguments and g for
# the incoming gradient where the op is not elementwise
_FORMULAS = {
    "+": ("1", "1"), "add": ("1", "1"),
    "-": ("1", "-1"), "sub": ("1", "-1"),
    "*": ("b", "a"), "mul": ("b", "a"),
    "/": ("1/b", "-a/b^2"), "div": ("1/b", "-a/b^2"),
    "**": ("n a^(n-1)", "a^n ln a"), "pow": ("n a^(n-1)", "a^n ln a"),
    "neg": ("-1",), "exp": ("exp(a)",), "log": ("1/a",), "sqrt": ("1/(2 sqrt(a))",),
    "abs": ("sign(a)",), "sin": ("cos(a)",), "cos": ("-sin(a)",),
    "tanh": ("1 - tanh^2",), "sigmoid": ("s (1 - s)",), "softplus": ("sigmoid(a)",),
    "relu": ("1[a>0]",), "clip": ("1[lo<a<hi]",),
    "maximum": ("1[a>=b]", "1[b>a]"), "minimum": ("1[a<=b]", "1[b<a]"),
    "where": ("-", "1[c]", "1[not c]"), "cast": ("1",),
    "matmul": ("g @ B^T", "A^T @ g"),
    "sum": ("broadcast",), "mean": ("broadcast / n",), "var": ("2 (a - mean) / n",),
    "max": ("1[a = max]",), "min": ("1[a = min]",), "logsumexp": ("softmax(a)",),
    "softmax": ("s * (g - sum(g s))",), "logsoftmax": ("g - softmax * sum(g)",),
    "reshape": ("reshape back",), "transpose": ("transpose back",),
    "broadcastto": ("sum over broadcast",), "pad": ("crop",), "getitem": ("scatter into zeros",),
    "concatenate": ("split",), "stack": ("unstack",), "not_twice_differentiable": ("1",),
    # ops defined in nn (the engine knows them only by name)
    "linear": ("g @ W", "g^T @ x", "sum(g, rows)"), "cross_entropy": ("softmax - onehot",),
    "binary_cross_entropy": ("(x - y) / (x (1 - x))",), "conv": ("col2im(g W)", "g * im2col(x)", "sum(g)"),
    "max_pool": ("g to argmax",), "avg_pool": ("g / window",), "adaptive_avg_pool": ("g / window",),
    "leaky_relu": ("1 or slope",), "elu": ("1 or elu + alpha",), "prelu": ("1 or w", "a 1[a<0]"),
    "arctan": ("1/(1 + a^2)",), "step": ("0",), "normalize": ("(g - mean terms) / std", "g x_hat", "sum(g)"),
    "lstm_cell": ("gates backward",), "gru_cell": ("gates backward",), "lstm": ("BPTT",), "gru": ("BPTT",),
    "rnn": ("BPTT",),
}


_NOT_SHOWN_CONST = {"where"}


def local_formula(op, i):
    """Short formula of d(op)/d(argument i), e.g. ``local_formula('tanh', 0) == '1 - tanh^2'``."""
    if op.startswith("**") and len(op) > 2:  # Value's x ** k with a constant k
        try:
            k = float(op[2:])
        except ValueError:
            k = None
        if k is not None:
            return f"{k:g} a^{k - 1:g}" if k - 1 != 1 else f"{k:g} a"
    forms = _FORMULAS.get(op, _FORMULAS.get(op.lower()))
    if forms is None:
        return f"d{op}/d{'abcdefgh'[i] if i < 8 else i}"
    if len(forms) == 1:
        return forms[0]
    return forms[i] if i < len(forms) else forms[-1]


class DataNode:
    """A value in the graph (``kind == 'data'``).

    Attributes:
        id: stable string id, unique in the graph.
        name: label ('' when unknown).
        value / grad: float for Value graphs; ndarray or None for Tensor graphs.
        shape, dtype: () and 'float' for scalars.
        is_leaf: made by the user (a parameter or an input), not by an op.
        requires_grad: False for constant arguments of ops (they get no gradient).
        scope: dotted module path of the producing op (or of the parameter's name).
        obj: the Value or Tensor itself when the walk saw it (None for intermediate tensors).
    """

    kind = "data"

    def __init__(self, id, name="", value=None, grad=None, shape=(), dtype="float", is_leaf=False,
                 requires_grad=True, scope="", obj=None):
        self.id, self.name, self.value, self.grad = id, name, value, grad
        self.shape, self.dtype, self.is_leaf, self.requires_grad = tuple(shape), str(dtype), is_leaf, requires_grad
        self.scope, self.obj = scope, obj

    def __repr__(self):
        return f"DataNode({self.id!r}, name={self.name!r}, shape={self.shape})"


class OpNode:
    """One operation (``kind == 'op'``).

    Attributes:
        op: op label (``'*'`` or ``'tanh'`` for Values, ``Node.name`` such as ``'matmul'`` for Tensors).
        inputs: data-node id per argument (a constant argument gets a data node too).
        outputs: data-node id per output.
        formulas: local-derivative formula per argument.
        locals: local derivative per argument as a float (Value graphs), else None.
        scope: ``Node.scope`` ('' for Values).
    """

    kind = "op"

    def __init__(self, id, op, scope=""):
        self.id, self.op, self.scope = id, op, scope
        self.inputs, self.outputs, self.formulas, self.locals = [], [], [], []

    def __repr__(self):
        return f"OpNode({self.id!r}, {self.op!r}, inputs={self.inputs}, outputs={self.outputs})"


class Graph:
    """Plain nodes and edges of one computation graph.

    Attributes:
        engine: ``'value'`` or ``'tensor'``.
        nodes: dict id -> DataNode | OpNode, in topological order (children before parents).
        roots: data-node ids of the roots.
        consumers: data id -> list of ``(op_id, argument_index)`` that read it (fan-out > 1 is summed
            in backward).
    """

    def __init__(self, engine):
        self.engine = engine
        self.nodes = {}
        self.roots = []
        self.consumers = {}
        self._by_obj = {}

    @property
    def root(self):
        return self.roots[0]

    @property
    def order(self):
        """Node ids, children before parents."""
        return list(self.nodes)

    def data_nodes(self):
        return [n for n in self.nodes.values() if n.kind == "data"]

    def op_nodes(self):
        return [n for n in self.nodes.values() if n.kind == "op"]

    def edges(self):
        """``(src_id, dst_id, index)``: data -> op with the argument index, op -> data with the output index."""
        out = []
        for n in self.nodes.values():
            if n.kind == "op":
                out.extend((d, n.id, i) for i, d in enumerate(n.inputs))
                out.extend((n.id, d, k) for k, d in enumerate(n.outputs))
        return out

    def producer(self, data_id):
        """The op node that made a data node (None for leaves and constants)."""
        return self._producer.get(data_id)

    def id_of(self, obj):
        """The data-node id of a Value or Tensor in this graph (KeyError if it is not in it)."""
        key = _tensor_key(obj) if self.engine == "tensor" else id(obj)
        try:
            return self._by_obj[key]
        except KeyError:
            raise KeyError(f"viz: {type(obj).__name__} is not part of this graph") from None

    def _add(self, node):
        self.nodes[node.id] = node
        return node

    def _finish(self):
        self._producer = {}
        for n in self.nodes.values():
            if n.kind == "op":
                for k, d in enumerate(n.outputs):
                    self._producer[d] = n.id
                for i, d in enumerate(n.inputs):
                    self.consumers.setdefault(d, []).append((n.id, i))
        return self


def _postorder(roots, children):
    """Iterative depth-first post-order (children before parents), each item once, by identity."""
    order, seen = [], set()
    for root in roots:
        if id(root) in seen:
            continue
        seen.add(id(root))
        stack = [(root, iter(children(root)))]
        while stack:
            item, it = stack[-1]
            for child in it:
                if id(child) not in seen:
                    seen.add(id(child))
                    stack.append((child, iter(children(child))))
                    break
            else:
                stack.pop()
                order.append(item)
    return order


def _is_value(obj):
    return hasattr(obj, "_prev") and hasattr(obj, "data") and not isinstance(obj.data, np.ndarray)


def _names(params, tensors):
    """id(Tensor/Value) -> name from ``params``/``tensors`` (dicts name -> obj, or lists of named objs)."""
    names, objs = {}, []
    for group in (tensors, params):  # params win
        if group is None:
            continue
        items = group.items() if isinstance(group, dict) else ((getattr(t, "name", None), t) for t in group)
        for name, t in items:
            names[id(t)] = name
            objs.append(t)
    return names, objs


def build_graph(roots, params=None, tensors=None):
    """Walk the graph that produced ``roots`` (a Value or Tensor, or a list of them) once.

    Args:
        roots: the output(s) whose history is drawn.
        params: optional dict name -> parameter (``dict(model.named_parameters())``) or list of named
            tensors; their names label the leaves.
        tensors: optional dict name -> Tensor (or list of named tensors) for intermediate results, so
            their names, values and gradients (after ``retain_grad()``) can be shown.

    Returns:
        Graph
    """
    roots = list(roots) if isinstance(roots, (list, tuple)) else [roots]
    if not roots:
        raise ValueError("viz: nothing to draw (no roots given)")
    names, objs = _names(params, tensors)
    if all(_is_value(r) for r in roots):
        return _build_value(roots, names)
    if all(hasattr(r, "grad_fn") and isinstance(getattr(r, "data", None), np.ndarray) for r in roots):
        return _build_tensor(roots, names, objs)
    kinds = ", ".join(type(r).__name__ for r in roots)
    raise TypeError(f"viz: can draw the graph of a Value or of a Tensor (all roots of one kind), got {kinds}")


# --- scalar Value graphs --------------------------------------------------------------------------
def _build_value(roots, names):
    g = Graph("value")
    order = _postorder(roots, lambda v: v._prev)
    ids, formulas = {}, {}
    for n, v in enumerate(order):
        ids[id(v)] = f"v{n}"
    for v in order:
        did = ids[id(v)]
        children = tuple(v._prev)
        if children:
            op = g._add(OpNode(f"op_{did}", str(getattr(v, "_op", "") or "?")))
            op.inputs = [ids[id(c)] for c in children]
            op.outputs = [did]
            key = (op.op, len(children))
            forms = formulas.get(key)
            if forms is None:
                forms = formulas[key] = [local_formula(op.op, i) for i in range(len(children))]
            op.formulas = forms
            local = getattr(v, "_local_grads", None)
            op.locals = [float(x) for x in local] if local else [None] * len(children)
        name = names.get(id(v)) or getattr(v, "label", "") or ""
        g._add(DataNode(did, name, float(v.data), float(v.grad), (), "float", not children, True, "", v))
        g._by_obj[id(v)] = did
    g.roots = [ids[id(r)] for r in roots]
    return g._finish()


# --- Tensor graphs --------------------------------------------------------------------------------
def _tensor_key(t):
    node = t.grad_fn
    return (id(node), t.output_nr) if node is not None else id(t)


def _grad_array(t):
    gr = getattr(t, "grad", None)
    return None if gr is None else np.asarray(gr.data if hasattr(gr, "data") else gr)


def _build_tensor(roots, names, objs):
    g = Graph("tensor")
    known = {}  # tensor key -> Tensor object the caller gave us (roots, tensors=, params=)
    for t in list(objs) + roots:
        if hasattr(t, "grad_fn"):
            known[_tensor_key(t)] = t
    nodes = _postorder([r.grad_fn for r in roots if r.grad_fn is not None],
                       lambda node: [e[0] for e in node.edges if type(e) is tuple])
    data_ids = {}

    def data_for_tensor(t):  # a leaf tensor, or any tensor the caller handed us
        key = _tensor_key(t)
        did = data_ids.get(key)
        if did is None:
            did = data_ids[key] = f"t{len(data_ids)}"
            name = names.get(id(t)) or t.name or ""
            scope = name.rsplit(".", 1)[0] if "." in name else ""
            g._add(DataNode(did, name, t.data, _grad_array(t), t.data.shape, t.data.dtype, t.grad_fn is None,
                            bool(t.requires_grad), scope, t))
            g._by_obj[key] = did
        return did

    op_ids = {}
    for n_op, node in enumerate(nodes):
        op = OpNode(f"op{n_op}", node.name, node.scope or "")
        op_ids[id(node)] = op.id
        saved = _saved_values(node)
        for i, e in enumerate(node.edges):
            if e is None:  # a constant argument of a binary op (other None edges are options)
                if i >= len(_FORMULAS.get(node.name, ())) or node.name in _NOT_SHOWN_CONST:
                    continue
                cid = f"c{n_op}_{i}"
                value = saved.get(("in", i))
                g._add(DataNode(cid, "input (no grad)", value, None, () if value is None else value.shape,
                                "" if value is None else value.dtype, True, False, op.scope))
                op.inputs.append(cid)
            elif type(e) is tuple:
                did = data_ids[(id(e[0]), e[1])]
                if g.nodes[did].value is None and ("in", i) in saved:
                    g.nodes[did].value = saved[("in", i)]
                op.inputs.append(did)
            else:
                op.inputs.append(data_for_tensor(e))
            op.formulas.append(local_formula(node.name, i))
            op.locals.append(None)
        g._add(op)
        retained = node._retained or {}
        for k, (shape, dtype) in enumerate(node.output_meta):
            key = (id(node), k)
            t = known.get(key)
            if t is None and k in retained:
                t = retained[k]()
            if t is not None:
                did = data_for_tensor(t)
                g.nodes[did].scope = op.scope
            else:
                did = data_ids[key] = f"o{n_op}_{k}"
                g._add(DataNode(did, "", saved.get(("out", k)), None, shape, dtype, False, True, op.scope))
            op.outputs.append(did)
    g.roots = [data_for_tensor(r) for r in roots]
    g._finish()
    _place_leaves(g)
    return g


def _place_leaves(g):
    """Put each leaf in the scope of the ops that read it (a parameter in its module's cluster).

    A leaf read by ops of several scopes keeps the scope of its name (``fc1`` for ``fc1.weight``),
    matched to the scope path the ops were recorded in (which may start with the model's name).
    """
    op_scopes = {n.scope for n in g.op_nodes() if n.scope}
    for n in g.data_nodes():
        if not n.is_leaf or g.producer(n.id) is not None:
            continue
        users = {g.nodes[op].scope for op, _ in g.consumers.get(n.id, ())}
        if len(users) == 1:
            n.scope = users.pop()
        elif n.scope and n.scope not in op_scopes:
            matches = sorted((s for s in op_scopes if s.endswith("." + n.scope)), key=len)
            n.scope = matches[0] if matches else ""


def _saved_values(node):
    """Arrays a not-yet-freed node saved that are its inputs' or outputs' values."""
    if not node._saved:  # freed (None) or nothing saved
        return {}
    src = getattr(node, "_saved_src", ())
    out = {}
    for arr, s in zip(node._saved, src):
        if s[0] in ("in", "out") and isinstance(arr, np.ndarray):
            out[s] = arr
    return out


def grad_magnitude(grad):
    """Largest absolute entry of a gradient (inf/nan propagate); None when unknown."""
    if grad is None:
        return None
    if isinstance(grad, float):
        return abs(grad)
    a = np.asarray(grad)
    if a.size == 0:
        return 0.0
    if not np.all(np.isfinite(a)):
        return math.nan
    return float(np.max(np.abs(a)))
