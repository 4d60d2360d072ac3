"""Keep big graphs readable: one box per module (scope), and a node limit with a note."""
import copy
from collections import deque

from . import labels
from .graph import Graph, OpNode, grad_magnitude

__all__ = ["collapse_graph", "limit_graph"]


def _scope_key(scope, depth):
    if not scope:
        return ""
    return scope if depth is None else ".".join(scope.split(".")[:max(1, depth)])


def collapse_graph(g, depth=None):
    """A new Graph where the ops of each scope (cut to ``depth`` levels) are one op box.

    The box's inputs are the values coming from outside the scope, its outputs the values used
    outside it (or the roots); parameters and intermediate values inside it are listed in its label.
    """
    box_of = {n.id: _scope_key(n.scope, depth) for n in g.op_nodes() if n.scope}
    for n in g.data_nodes():  # a parameter or constant goes inside when only its module uses it
        k = _scope_key(n.scope, depth)
        users = {box_of.get(op) for op, _ in g.consumers.get(n.id, ())}
        if k and n.is_leaf and users == {k}:
            box_of[n.id] = k
    for did, op_id in g._producer.items():  # outputs follow their op
        if op_id in box_of:
            box_of[did] = box_of[op_id]
        elif did in box_of:
            del box_of[did]
    if not box_of:
        return g
    boxes = {}
    new = {}
    for n in g.nodes.values():
        k = box_of.get(n.id)
        if k is None:
            new[n.id] = n
            continue
        box = boxes.get(k)
        if box is None:
            box = boxes[k] = OpNode("m_" + "".join(c if c.isalnum() else "_" for c in k), "module",
                                    k.rsplit(".", 1)[0] if "." in k else "")
            box.box_ops, box.box_params, box.box_grads, box.member_ops = [], [], [], []
            new[box.id] = box
        if n.kind == "op":
            box.box_ops.append(n.op)
            box.member_ops.append(n.id)
            for d in n.inputs:
                if box_of.get(d) != k and d not in box.inputs:
                    box.inputs.append(d)
        elif n.is_leaf and n.requires_grad:
            box.box_params.append(f"{n.name or 'param'} {labels.shape_text(n.shape)}")
            m = grad_magnitude(n.grad)
            if m is not None:
                box.box_grads.append(f"{n.name or 'param'}: max |grad| {m:.3g}")
        used_outside = any(box_of.get(op) != k for op, _ in g.consumers.get(n.id, ()))
        if n.kind == "data" and g.producer(n.id) is not None and (used_outside or n.id in g.roots):
            out = copy.copy(n)
            out.scope = box.scope
            new[n.id] = out
            box.outputs.append(n.id)
    for k, box in boxes.items():
        ops = ", ".join(dict.fromkeys(box.box_ops))
        count = len(box.box_ops)
        box.box = "\n".join([k, f"{count} op{'s' if count != 1 else ''}: {ops}"] + box.box_params)
        box.formulas = [None] * len(box.inputs)
        box.outgoing = [f"g back through {k}" for _ in box.inputs]
        box.locals = [None] * len(box.inputs)
        box.arg_pos = list(range(len(box.inputs)))
        box.seq = max((g.nodes[o].seq for o in box.member_ops), default=0)
    out = Graph(g.engine)
    out.roots = list(g.roots)
    for nid in _topo(new, out.roots):
        out._add(new[nid])
    out._by_obj = g._by_obj
    return out._finish()


def _topo(nodes, roots):
    """Ids in children-before-parents order over ``nodes`` (iterative)."""
    producer = {d: n.id for n in nodes.values() if n.kind == "op" for d in n.outputs}

    def children(nid):
        n = nodes[nid]
        if n.kind == "op":
            return [d for d in n.inputs if d in nodes]
        p = producer.get(nid)
        return [p] if p is not None else []

    order, seen = [], set()
    for r in list(roots) + list(nodes):
        if r in seen:
            continue
        seen.add(r)
        stack = [(r, iter(children(r)))]
        while stack:
            nid, it = stack[-1]
            for c in it:
                if c not in seen:
                    seen.add(c)
                    stack.append((c, iter(children(c))))
                    break
            else:
                stack.pop()
                order.append(nid)
    return order


def nearest(g, limit):
    """The ``limit`` node ids closest to the roots (breadth-first against the data flow)."""
    keep, queue = set(), deque(g.roots)
    seen = set(g.roots)
    while queue and len(keep) < limit:
        nid = queue.popleft()
        keep.add(nid)
        n = g.nodes[nid]
        nxt = n.inputs if n.kind == "op" else ([g.producer(nid)] if g.producer(nid) else [])
        for c in nxt:
            if c not in seen:
                seen.add(c)
                queue.append(c)
    return keep


COLLAPSE = ("auto", "always", "never")


def limit_graph(g, collapse="auto", max_nodes=None, node_budget=60):
    """Apply ``collapse`` and the node limit. Returns ``(graph, keep_ids_or_None, notes)``.

    ``collapse``: 'auto' draws one box per module when the graph has more than ``node_budget``
    nodes, 'always' (or True) always, 'never' (or False) never, an int collapses at that scope depth.
    """
    notes = []
    if isinstance(collapse, str) and collapse not in COLLAPSE:
        raise ValueError(f"collapse must be one of {COLLAPSE}, True/False or a depth (int), got {collapse!r}")
    has_scopes = any(n.scope for n in g.op_nodes())
    if collapse is True or collapse == "always":
        g = collapse_graph(g)
    elif collapse == "auto":
        if has_scopes and node_budget is not None and len(g.nodes) > node_budget:
            n_before = len(g.nodes)
            g = collapse_graph(g)
            notes.append(f"{n_before} nodes > {node_budget}: one box per module (collapse='never' draws every op)")
    elif collapse not in (False, None, "never"):
        g = collapse_graph(g, int(collapse))
    if max_nodes is not None and len(g.nodes) > max_nodes:
        keep = nearest(g, max_nodes)
        notes.append(f"showing the {len(keep)} nodes nearest the output of {len(g.nodes)} "
                     f"(max_nodes={max_nodes}; max_nodes=None draws all)")
        return g, keep, notes
    return g, None, notes
