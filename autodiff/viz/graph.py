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

from . import formulas
from .formulas import local_formula
from .names import normalize_inputs, normalize_params, param_names_from_scopes

__all__ = ["DataNode", "OpNode", "Graph", "build_graph", "local_formula"]

class DataNode:
    """A value in the graph (``kind == 'data'``).

    Attributes:
        id: stable string id, unique in the graph.
        name: the user's name ('' when none): a Value's label, a parameter's qualified name, an
            input's name, a named tensor's name.
        label: the name the pictures print: ``name``, else one made from the graph (a Value's
            expression such as ``x*w`` or its number, ``input 0``, ``classifier.1 linear out``).
        value / grad: float for Value graphs; ndarray or None for Tensor graphs.
        shape, dtype: () and 'float' for scalars.
        is_leaf: made by the user (a parameter or an input), not by an op.
        is_param: a leaf named as a parameter (``params=`` or found through its module).
        requires_grad: False for constant arguments of ops (they get no gradient).
        scope: dotted module path of the producing op (or of the parameter's module).
        obj: the Value or Tensor itself when the walk saw it (None for intermediate tensors).
    """

    kind = "data"

    def __init__(self, id, name="", value=None, grad=None, shape=(), dtype="float", is_leaf=False,
                 requires_grad=True, scope="", obj=None, label=None, is_param=False):
        self.id, self.name, self.value, self.grad = id, name, value, grad
        self.shape, self.dtype, self.is_leaf, self.requires_grad = tuple(shape), str(dtype), is_leaf, requires_grad
        self.scope, self.obj, self.is_param = scope, obj, is_param
        self.label = label if label is not None else name

    def __repr__(self):
        return f"DataNode({self.id!r}, label={self.label!r}, shape={self.shape})"


class OpNode:
    """One operation (``kind == 'op'``).

    Attributes:
        op: op label (``'*'`` or ``'tanh'`` for Values, ``Node.name`` such as ``'matmul'`` for Tensors).
        inputs: data-node id per argument (a constant argument gets a data node too).
        outputs: data-node id per output.
        formulas: local derivative d(output)/d(argument) per argument, written with the graph's
            names (None for ops that are not elementwise: their gradient is a formula in g).
        outgoing: the gradient sent to each argument, written in ``g`` (the incoming gradient).
        locals: local derivative per argument as a float (Value graphs), else None.
        scope: ``Node.scope`` ('' for Values).
        seq: the order backward runs the ops in (larger first), from the engine's creation number.
    """

    kind = "op"

    def __init__(self, id, op, scope=""):
        self.id, self.op, self.scope = id, op, scope
        self.inputs, self.outputs, self.formulas, self.outgoing, self.locals = [], [], [], [], []
        self.seq = 0

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
        self._producer = {}

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

    def backward_order(self):
        """Op ids in the order the engine's backward processes them (newest op first)."""
        ops = self.op_nodes()
        pos = {n.id: k for k, n in enumerate(ops)}
        return [n.id for n in sorted(ops, key=lambda n: (-n.seq, -pos[n.id]))]

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

    def find(self, name):
        """The data-node id whose label is ``name`` (KeyError listing the labels if none)."""
        for n in self.data_nodes():
            if n.label == name or n.name == name:
                return n.id
        labels = ", ".join(sorted({n.label for n in self.data_nodes() if n.label}))
        raise KeyError(f"viz: no value named {name!r} in the graph; names: {labels}")

    def _add(self, node):
        self.nodes[node.id] = node
        return node

    def _finish(self):
        self._producer = {}
        self.consumers = {}
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


def _names(params, tensors, inputs):
    """id(obj) -> name, the set of parameter ids, and the named objects."""
    names, objs, param_ids = {}, [], set()
    groups = [(normalize_inputs(tensors), False), (normalize_inputs(inputs), False),
              (normalize_params(params), True)]  # params win
    for items, is_param in groups:
        for name, t in items:
            names[id(t)] = name
            objs.append(t)
            if is_param:
                param_ids.add(id(t))
    return names, objs, param_ids


def build_graph(roots, params=None, tensors=None, inputs=None):
    """Walk the graph that produced ``roots`` (a Value or Tensor, or a list of them) once.

    Args:
        roots: the output(s) whose history is drawn.
        params: names of the leaves: a module (its ``named_parameters()``), a dict name -> tensor, or
            an iterable of ``(name, tensor)`` pairs. Without it the parameters of ``nn`` modules are
            named automatically from the module each op ran in (``features.0.weight``).
        tensors: dict name -> Tensor (or list of named tensors) for intermediate results, so their
            names, values and gradients (after ``retain_grad()``) can be shown.
        inputs: dict name -> Tensor (or a list: ``input 0``, ``input 1``...) naming the inputs.
            Unnamed leaves that are not parameters are called ``input k``.

    Returns:
        Graph
    """
    roots = list(roots) if isinstance(roots, (list, tuple)) else [roots]
    if not roots:
        raise ValueError("viz: nothing to draw (no roots given)")
    names, objs, param_ids = _names(params, tensors, inputs)
    if all(_is_value(r) for r in roots):
        from .value_graph import build_value_graph
        return build_value_graph(roots, names)
    if all(hasattr(r, "grad_fn") and isinstance(getattr(r, "data", None), np.ndarray) for r in roots):
        return _build_tensor(roots, names, objs, param_ids, [t for _, t in normalize_inputs(inputs)])
    kinds = ", ".join(type(r).__name__ for r in roots)
    raise TypeError(f"viz: can draw the graph of a Value or of a Tensor (all roots of one kind), got {kinds}")


# --- Tensor graphs --------------------------------------------------------------------------------
def _tensor_key(t):
    node = t.grad_fn
    return (id(node), t.output_nr) if node is not None else id(t)


def _grad_array(t):
    gr = getattr(t, "grad", None)
    return None if gr is None else np.asarray(gr.data if hasattr(gr, "data") else gr)


def _is_node(obj):
    return obj is not None and hasattr(obj, "next_functions") and hasattr(obj, "output_meta")


def _inputs_of(node):
    """Per positional input: ``None``, ``('node', Node, k)`` or ``('leaf', Tensor)``."""
    out = []
    for entry in node.next_functions:
        obj, k = entry if isinstance(entry, tuple) else (entry, 0)
        obj = getattr(obj, "variable", obj)  # an accumulate-grad wrapper around a leaf
        if obj is None:
            out.append(None)
        elif _is_node(obj):
            out.append(("node", obj, k))
        else:
            out.append(("leaf", obj))
    return out


def _shows_const(op, i):
    """Whether a constant argument i of ``op`` enters its gradient formulas (drawn as a node)."""
    return formulas.references(op, i) or formulas.references(op.lower(), i)


def _short_scope(scope, tops):
    """``LeNet.classifier.1`` -> ``classifier.1`` when ``LeNet`` is the model's own scope."""
    parts = scope.split(".") if scope else []
    if len(parts) > 1 and parts[0] in tops:
        return ".".join(parts[1:])
    return scope


def _formula_extra(node, shapes, shape_y):
    ctx = getattr(node, "ctx", node)  # what the op's forward stored on its ctx (axis, count, ...)
    extra = {"shapes": shapes, "shape_y": shape_y}
    if shapes and shapes[0] is not None:
        extra["shape0"] = tuple(int(s) for s in shapes[0])
    for key in ("count", "denom", "axis"):
        val = getattr(ctx, key, None)
        if isinstance(val, (int, float, np.integer, np.floating)):
            extra[key] = f"{val:g}" if isinstance(val, (float, np.floating)) else int(val)
    if node.name == "cross_entropy":
        red = getattr(ctx, "reduction", "mean")
        extra["n"] = extra.get("denom", "N") if red == "mean" else 1
    return extra


def _build_tensor(roots, names, objs, param_ids, input_objs=()):
    from .names import is_module_path
    g = Graph("tensor")
    known = {}  # tensor key -> Tensor object the caller gave us (roots, tensors=, params=)
    for t in list(objs) + roots:
        if hasattr(t, "grad_fn"):
            known[_tensor_key(t)] = t
    nodes = _postorder([r.grad_fn for r in roots if r.grad_fn is not None],
                       lambda node: [e[1] for e in _inputs_of(node) if e is not None and e[0] == "node"])
    scopes = [node.scope or "" for node in nodes]
    leaves = [e[1] for node in nodes for e in _inputs_of(node) if e is not None and e[0] == "leaf"]
    leaves += [r for r in roots if r.grad_fn is None]
    auto = param_names_from_scopes(scopes, leaves)
    tops = {s.split(".")[0] for s in scopes if s and is_module_path(s.split(".")[0])}
    data_ids, n_inputs = {}, [0]
    by_data = {id(t.data): t for t in objs if hasattr(t, "data")}  # inputs that need no gradient
    unclaimed = [names[id(t)] for t in input_objs if not getattr(t, "requires_grad", False)]

    def const_label(value, op, i):
        if value is None:
            roles = formulas.ROLES.get(op, ())
            if i < len(roles) and roles[i]:
                return roles[i]
            if i > 0:
                return "const"
        t = by_data.get(id(value))
        if t is not None and names.get(id(t)):
            if names[id(t)] in unclaimed:
                unclaimed.remove(names[id(t)])
            return names[id(t)]
        if value is not None and value.size == 1:
            return f"{float(value.reshape(-1)[0]):g}"
        if value is None and unclaimed:  # an input the op did not keep: the inputs= names in order
            return unclaimed.pop(0)
        n_inputs[0] += 1
        return f"input {n_inputs[0] - 1}"

    def data_for_tensor(t):  # a leaf tensor, or any tensor the caller handed us
        key = _tensor_key(t)
        did = data_ids.get(key)
        if did is None:
            did = data_ids[key] = f"t{len(data_ids)}"
            name = names.get(id(t)) or auto.get(id(t)) or getattr(t, "name", None) or ""
            is_param = id(t) in param_ids or id(t) in auto
            label = name
            if not label and t.grad_fn is None:
                label = f"input {n_inputs[0]}"
                n_inputs[0] += 1
            scope = name.rsplit(".", 1)[0] if is_param and "." in name else ""
            g._add(DataNode(did, name, t.data, _grad_array(t), t.data.shape, t.data.dtype, t.grad_fn is None,
                            bool(t.requires_grad), scope, t, label=label, is_param=is_param))
            g._by_obj[key] = did
        return did

    for n_op, node in enumerate(nodes):
        op = OpNode(f"op{n_op}", node.name, node.scope or "")
        op.node = node  # the engine's node, for replaying the backward (see capture.py)
        seq = getattr(node, "seq", None)  # the engine's creation number: backward runs newest first
        op.seq = seq if seq is not None else getattr(node, "_seq", n_op)
        saved = _saved_values(node)
        op.arg_pos = []
        for i, e in enumerate(_inputs_of(node)):
            if e is None:  # a constant argument (other None entries are options)
                if not _shows_const(node.name, i):
                    continue
                cid = f"c{n_op}_{i}"
                value = saved.get(("in", i))
                g._add(DataNode(cid, "", value, None, () if value is None else value.shape,
                                "" if value is None else value.dtype, True, False, op.scope,
                                label=const_label(value, node.name, i)))
                op.inputs.append(cid)
            elif e[0] == "node":
                did = data_ids[(id(e[1]), e[2])]
                if g.nodes[did].value is None and ("in", i) in saved:
                    g.nodes[did].value = saved[("in", i)]
                op.inputs.append(did)
            else:
                op.inputs.append(data_for_tensor(e[1]))
            op.arg_pos.append(i)
        g._add(op)
        retained = node.retained or {}
        where = _short_scope(op.scope, tops)
        for k, (shape, dtype) in enumerate(node.output_meta):
            key = (id(node), k)
            t = known.get(key)
            if t is None and k in retained:
                t = retained[k]()
            out_word = "out" if len(node.output_meta) == 1 else f"out {k}"
            auto_label = f"{where} {node.name} {out_word}".strip()
            if t is not None:
                did = data_for_tensor(t)
                g.nodes[did].scope = op.scope
                if not g.nodes[did].label:
                    g.nodes[did].label = auto_label
            else:
                did = data_ids[key] = f"o{n_op}_{k}"
                g._add(DataNode(did, "", saved.get(("out", k)), None, shape, dtype, False, True, op.scope,
                                label=auto_label))
            op.outputs.append(did)
        _fill_formulas(g, op, node)
    g.roots = [data_for_tensor(r) for r in roots]
    for r, rid in zip(roots, g.roots):
        if not g.nodes[rid].name and r.data.size == 1 and len(roots) == 1:
            g.nodes[rid].label = "loss"
            for op in g.op_nodes():  # its producer's formulas name it
                if rid in op.outputs:
                    op.formulas, op.outgoing, op.locals = [], [], []
                    _fill_formulas(g, op, op.node)
    g._finish()
    _place_leaves(g)
    return g


def _fill_formulas(g, op, node):
    """Local derivative and outgoing gradient per drawn argument, named by argument position."""
    n_args = max(op.arg_pos, default=-1) + 1
    labels, shapes = ["const"] * n_args, [None] * n_args
    for d, pos in zip(op.inputs, op.arg_pos):
        dn = g.nodes[d]
        labels[pos] = dn.label or "const"
        shapes[pos] = dn.shape if dn.requires_grad or dn.value is not None else None
    y = g.nodes[op.outputs[0]] if op.outputs else None
    fnames = {"args": labels, "y": y.label if y is not None else "y"}
    gsym = "g" if "g" not in set(labels) | {fnames["y"]} else "dL/dout"
    extra = _formula_extra(node, shapes, y.shape if y is not None else None)
    for pos in op.arg_pos:
        op.formulas.append(formulas.local_formula(op.op, pos, fnames, extra))
        out = formulas.outgoing_formula(op.op, pos, fnames, extra, gsym)
        op.outgoing.append(out[:-4] if out.endswith(" / 1") else out)
        op.locals.append(None)


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
    ctx = node.ctx
    if ctx.freed or not ctx._saved:
        return {}
    out = {}
    for arr, s in zip(ctx._saved, ctx.saved_sources()):
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
