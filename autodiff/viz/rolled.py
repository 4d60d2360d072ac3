"""The rolled view of a recurrent graph: a loop body drawn once with "x T", as torchlens draws loops.

A Python loop over a cell (``for t in range(T): h = cell(x[t], h)``), or a recurrent layer unrolled
into small ops, records the same ops in the same scopes T times in a row. :func:`roll_graph` finds
the longest such run in the ops' creation order (the block of ops that repeats back to back the
most often), keeps the first repetition, and maps every later one onto it: an input that came from
the previous repetition becomes a "next step" back edge, parameters stay one node whose gradient is
already the sum over the T steps, and each kept value's gradient is the sum over the steps when the
steps' gradients are known (``retain_graph=True``). Fused recurrent ops (``lstm``, ``gru``, ``rnn``)
are one node already; their label says over how many steps they ran.
"""
import copy

import numpy as np

from .graph import Graph

__all__ = ["find_loop", "roll_graph", "rolled_dot"]

_SEQUENCE_OPS = {"lstm", "gru", "rnn"}


def _signature(g, op):
    return (op.op, op.scope, len(op.outputs))


def find_loop(g, min_repeats=2):
    """``(start, period, repeats, ops)`` of the most repeated back-to-back block of ops (by creation
    order), or None. ``ops`` is the op ids in that order."""
    ops = sorted(g.op_nodes(), key=lambda o: o.seq)
    sig = [_signature(g, o) for o in ops]
    n = len(ops)
    best = None
    for period in range(1, n // min_repeats + 1):
        for start in range(0, n - period * min_repeats + 1):
            reps = 1
            while start + (reps + 1) * period <= n and \
                    sig[start + reps * period:start + (reps + 1) * period] == sig[start:start + period]:
                reps += 1
            if reps >= min_repeats and (best is None or reps * period > best[1] * best[2]
                                        or (reps * period == best[1] * best[2] and period < best[1])):
                best = (start, period, reps)
    if best is None:
        return None
    start, period, reps = best
    return start, period, reps, [o.id for o in ops]


def _sum_grads(grads):
    """Sum over the steps; a step whose value nothing read (None) adds 0."""
    grads = [gr for gr in grads if gr is not None]
    if not grads:
        return None
    try:
        return np.sum(np.stack([np.asarray(gr, dtype=np.float64) for gr in grads]), axis=0)
    except ValueError:  # steps of different shapes
        return None


def _name_sequence_ops(g, nodes):
    for op in nodes:
        if op.kind == "op" and op.op in _SEQUENCE_OPS and op.outputs:
            shape = g.nodes[op.outputs[0]].shape
            if len(shape) == 3 and shape[0] > 1:  # a fused layer's output (T, N, hidden)
                op.op = f"{op.op} over T={shape[0]} steps"


def roll_graph(g):
    """A new Graph with the loop body kept once; returns ``(graph, repeats, back_edges)``.

    ``back_edges``: ``(data id, op id, argument index)`` for inputs carried from one step to the next.
    Without a loop the graph is returned unchanged with ``repeats == 1``.
    """
    found = find_loop(g)
    if found is None:
        g = copy.copy(g)
        g.nodes = {k: copy.copy(n) for k, n in g.nodes.items()}
        _name_sequence_ops(g, g.nodes.values())
        return g, 1, []
    start, period, reps, order = found
    body = order[start:start + period]
    to_body = {}  # node id of a later step -> its counterpart in the first step
    for r in range(1, reps):
        for k, oid in enumerate(order[start + r * period:start + (r + 1) * period]):
            to_body[oid] = body[k]
            op, first = g.nodes[oid], g.nodes[body[k]]
            for d, d0 in zip(op.outputs, first.outputs):
                to_body[d] = d0
    produced_in_body = {d for oid in body for d in g.nodes[oid].outputs}
    new, back = {}, []
    step_grads = {}
    for nid, n in g.nodes.items():
        if nid in to_body:
            if n.kind == "data":
                step_grads.setdefault(to_body[nid], []).append(n.grad)
            continue
        new[nid] = copy.copy(n)
        if n.kind == "data" and nid in produced_in_body:
            step_grads.setdefault(nid, []).append(n.grad)
    for k, oid in enumerate(body):
        new[oid].op = f"{new[oid].op} x {reps}"
        second = g.nodes[order[start + period + k]]
        for i, d in enumerate(second.inputs):
            if d in produced_in_body:  # step 2 reads step 1's value: carried around the loop
                back.append((d, oid, i))
    for op in list(new.values()):  # ops after the loop read the last step's values
        if op.kind == "op" and op.id not in body:
            op.inputs = [to_body.get(d, d) for d in op.inputs]
    for did, grads in step_grads.items():
        if did in new and len(grads) == reps:
            new[did].grad = _sum_grads(grads)
            new[did].label = f"{new[did].label} (x {reps}: value of step 1, grad summed over steps)"
    _name_sequence_ops(g, new.values())
    used = {d for n in new.values() if n.kind == "op" for d in list(n.inputs) + list(n.outputs)}
    out = Graph(g.engine)
    out.roots = [to_body.get(r, r) for r in g.roots]
    for nid in g.nodes:  # values only later steps read (their slices of the input) go with them
        if nid in new and (new[nid].kind == "op" or nid in used or nid in out.roots):
            out._add(new[nid])
    out._by_obj = g._by_obj
    out.repeats = reps
    return out._finish(), reps, back


def rolled_dot(g, **kwargs):
    """DOT of the rolled forward view: the loop body once, its ops "x T", back edges dashed."""
    from . import labels
    from .dot import to_dot
    rolled, reps, back = roll_graph(g)
    title = kwargs.pop("title", None)
    fused = [n.op for n in rolled.op_nodes() if " over T=" in n.op]
    note = (f"loop body drawn once: it ran {reps} times" if reps > 1 else
            f"{', '.join(fused)} (fused: one node for the whole sequence)" if fused else
            "no repeated block of ops found")
    src = to_dot(None, "forward", graph=rolled, title="\n".join(t for t in (title, note) if t),
                 collapse="never", **kwargs)
    extra = [f'  {d} -> {op} [style=dashed, color="#8e44ad", fontcolor="#8e44ad", constraint=false, '
             f'label={labels.quote("next step")}];' for d, op, _ in back]
    return src.rstrip().rstrip("}") + "\n".join(extra) + "\n}\n"
