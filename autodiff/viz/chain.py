"""The chain rule made visible: every path from a leaf to the root with its factors, and the
states of a step-by-step backward pass (one frame per node, in reverse topological order)."""
from collections import namedtuple

from . import labels
from .formulas import wrap
from .graph import build_graph

__all__ = ["Factor", "chain_paths", "chain_dot", "step_states", "PENDING", "READY"]

Factor = namedtuple("Factor", "input output op arg formula value")
Factor.__doc__ = """One chain-rule factor d(output)/d(input) along a path: the op, which argument,
its formula and (for Values) its number."""

PENDING = object()  # step frames: gradient not known yet
READY = object()  # step frames: gradient computed, value not kept (intermediate tensors)


def _leaf_id(g, leaf):
    return leaf if isinstance(leaf, str) else g.id_of(leaf)


def path_counts(g):
    """Number of paths from each data node to the first root."""
    counts = {g.root: 1}
    for nid in reversed(g.order):
        n = g.nodes[nid]
        if n.kind != "data" or nid == g.root:
            continue
        counts[nid] = sum(counts.get(o, 0) for op, _ in g.consumers.get(nid, ()) for o in g.nodes[op].outputs)
    return counts


def _enumerate(g, lid, limit):
    paths, stack = [], [(lid, ())]
    while stack:
        d, path = stack.pop()
        if d == g.root:
            paths.append(list(path))
            if limit is not None and len(paths) >= limit:
                return paths, not stack
            continue
        for op_id, i in reversed(g.consumers.get(d, ())):
            op = g.nodes[op_id]
            for o in op.outputs:
                form = op.formulas[i] if op.formulas[i] is not None else op.outgoing[i]
                stack.append((o, path + (Factor(d, o, op.op, i, form, op.locals[i]),)))
    return paths, True


def chain_paths(root, leaf, *, params=None, tensors=None, graph=None, max_paths=10000):
    """Every path from ``leaf`` up to ``root`` as a list of :class:`Factor` (leaf side first).

    For a scalar ``Value`` graph after ``root.backward()``, ``sum(prod(f.value for f in path)) *
    root.grad == leaf.grad``: the chain rule summed over paths.

    Raises:
        ValueError: when there are more than ``max_paths`` paths (their number grows exponentially
            with repeated fan-out; the gradient itself is computed without enumerating them).
    """
    g = graph if graph is not None else build_graph(root, params=params, tensors=tensors)
    lid = _leaf_id(g, leaf)
    n = path_counts(g).get(lid, 0)
    if max_paths is not None and n > max_paths:
        raise ValueError(f"chain_paths: {n} paths from the leaf to the root, more than max_paths={max_paths}")
    return _enumerate(g, lid, None)[0]


def _short_names(g, ids):
    """The graph's own label of each node on the paths (a parameter's name, ``input 0``, ...)."""
    return {nid: g.nodes[nid].label or nid for nid in ids}


def chain_dot(g, leaf, fmt="%.4f", rankdir="LR", title=None, max_paths=64, dpi=None):
    """DOT of the chain-rule view: the nodes on leaf -> root paths, each edge labelled with its factor."""
    from .dot import _header
    lid = _leaf_id(g, leaf)
    counts = path_counts(g)
    if counts.get(lid, 0) == 0:
        raise ValueError("draw_chain: the root does not depend on this leaf (no path between them)")
    on = set()
    stack = [lid]
    while stack:  # nodes reachable from the leaf that reach the root
        d = stack.pop()
        if d in on or counts.get(d, 0) == 0:
            continue
        on.add(d)
        stack.extend(o for op, _ in g.consumers.get(d, ()) for o in g.nodes[op].outputs)
    names = _short_names(g, on)
    scalar = g.engine == "value"
    paths, complete = _enumerate(g, lid, max_paths)
    notes = [title] if title else []
    leaf_n, root_n = g.nodes[lid], g.nodes[g.root]
    notes.append(f"chain rule: dL/d{names[lid]} = sum over {counts[lid]} path(s) of the product of the factors")
    total = 0.0
    for k, path in enumerate(paths):
        if scalar and all(f.value is not None for f in path):
            prod = 1.0
            for f in path:
                prod *= f.value
            total += prod * root_n.grad
            factors = " x ".join(labels.num(f.value, fmt) for f in path) or "1"
            notes.append(f"path {k + 1}: {factors} = {labels.num(prod, fmt)}")
        else:
            notes.append(f"path {k + 1}: " + " -> ".join(f"[{f.op}: {f.formula}]" for f in path))
    if not complete:
        notes.append(f"... {counts[lid] - len(paths)} more paths not listed (max_paths={max_paths})")
    if scalar and complete:
        notes.append(f"sum x dL/dL ({labels.num(root_n.grad, fmt)}) = {labels.num(total, fmt)}; "
                     f"grad of {names[lid]} = {labels.num(leaf_n.grad, fmt)}")
    out = _header(rankdir, None, [], dpi)
    out.append(f"  graph [label={labels.quote(chr(10).join(notes))}, labelloc=b, labeljust=l, fontsize=11];")
    for nid in g.order:
        if nid not in on:
            continue
        n = g.nodes[nid]
        lines = [names[nid]]
        if scalar:
            lines += [f"data {labels.num(n.value, fmt)}", f"grad {labels.num(n.grad, fmt)}"]
        else:
            lines.append(f"{labels.shape_text(n.shape)} {n.dtype}")
            if n.value is not None:
                lines.append(labels.summary(n.value, fmt))
            if n.grad is not None:
                lines.append("grad " + labels.summary(n.grad, fmt).replace(chr(10), chr(10) + "grad "))
        fill = labels.PARAM_COLOR if nid == lid else ("#e6ffe6" if nid == g.root else "white")
        per = ", peripheries=2" if nid == g.root else ""
        out.append(f"  {nid} [label={labels.quote(chr(10).join(lines))}, shape=box, style=filled, "
                   f"fillcolor=\"{fill}\"{per}];")
    for op in g.op_nodes():
        for i, d in enumerate(op.inputs):
            if d not in on:
                continue
            for o in op.outputs:
                if o not in on:
                    continue
                if op.formulas[i] is not None:
                    lab = [f"{op.op}: d{wrap(names[o])}/d{wrap(names[d])}", f"= {op.formulas[i]}"]
                else:
                    lab = [f"{op.op}: grad sent = {op.outgoing[i]}"]
                if op.locals[i] is not None:
                    lab.append(f"= {labels.num(op.locals[i], fmt)}")
                out.append(f"  {d} -> {o} [label={labels.quote(chr(10).join(lab))}];")
    out.append("}")
    return "\n".join(out) + "\n"


def step_states(g, order=None):
    """``(node_id, state)`` per frame of a backward pass, in the order backward processes nodes.

    Value graphs: one frame per Value (reverse topological order); the gradients shown are the sums
    accumulated so far, recomputed from the local derivatives. Tensor graphs: one frame per op node,
    in ``order`` (the engine's, from :func:`~autodiff.viz.capture.replay`) or newest op first. A
    last frame (node id None) shows every gradient, leaves included.
    """
    scalar = g.engine == "value"
    known = {}
    for r in g.roots:
        n = g.nodes[r]
        known[r] = (n.grad if n.grad else 1.0) if scalar else (n.grad if n.grad is not None else READY)
    pending_inputs = {d: len(g.consumers.get(d, ())) for d in g.nodes}
    if scalar:
        order = [nid for nid in reversed(g.order) if g.nodes[nid].kind == "data"]
    elif order is None:
        order = g.backward_order()
    for nid in order:
        op = g.nodes[g.producer(nid)] if scalar and g.producer(nid) else (None if scalar else g.nodes[nid])
        highlight = {nid} | ({op.id} if op is not None else set())
        hot = set()
        if op is not None:
            hot = {(d, op.id) for d in op.inputs} | {(op.id, o) for o in op.outputs}
            highlight |= set(op.outputs)
        yield nid, {"grads": dict(known), "pending": PENDING, "ready": READY, "highlight": highlight,
                    "hot_edges": hot}
        if op is None:
            continue
        gin = known.get(op.outputs[0]) if op.outputs else None
        for i, d in enumerate(op.inputs):
            dn = g.nodes[d]
            if not dn.requires_grad:
                continue
            pending_inputs[d] -= 1
            if scalar:
                if op.locals[i] is not None and isinstance(gin, float):
                    known[d] = known.get(d, 0.0) + op.locals[i] * gin
                else:
                    known[d] = dn.grad
            elif pending_inputs[d] == 0:
                known[d] = dn.grad if dn.grad is not None else READY
    final = {n.id: n.grad for n in g.data_nodes() if n.requires_grad}
    yield None, {"grads": final, "pending": PENDING, "ready": READY, "highlight": set(), "hot_edges": set()}
