"""DOT text for the forward, backward and combined views of a graph (no graphviz program needed).

* forward: data nodes (a Value's data and grad; a Tensor's name, shape, dtype, value and grad
  summaries) and op nodes, edges in data-flow order, ops grouped in one cluster per scope (module).
* backward: the adjoint graph that backward executes. One node per gradient (dL/dx), one node per
  op's backward showing its local derivatives; the edge into it carries the incoming gradient, the
  edges out of it the gradient sent to each input (for scalars ``g x local = contribution``). A value
  used more than once gets a ``+`` node: its gradient is the sum of the contributions.
* both: the two side by side in one picture.

Backward edges are written ``input -> op [dir=back]`` so both views lay out leaves left and the
output right; the arrows of the backward view point from the output towards the leaves.
"""
import numpy as np

from . import labels
from .collapse import limit_graph
from .formulas import wrap
from .graph import build_graph

__all__ = ["to_dot", "VIEWS"]

VIEWS = ("forward", "backward", "both", "chain", "rolled")
_SYMMETRIC = {"+", "*", "add", "mul", "maximum", "minimum", "module"}


def to_dot(root, view="forward", *, params=None, tensors=None, inputs=None, leaf=None, fmt="%.4f",
           rankdir="auto", health=True, vanish=1e-6, explode=1e3, collapse="auto", node_budget=60,
           max_nodes=300, legend=True, title=None, graph=None, max_paths=64, dpi=None, _state=None):
    """DOT source of the graph that produced ``root``.

    Args:
        root: a ``Value`` or ``Tensor`` (or a list of them).
        view: ``'forward'``, ``'backward'``, ``'both'``, ``'chain'`` (needs ``leaf``) or ``'rolled'``
            (a loop body drawn once with "x T", see :mod:`~autodiff.viz.rolled`).
        params: names of the parameters: a module (``params=model``), a dict name -> tensor or
            ``(name, tensor)`` pairs. Parameters of ``nn`` modules are named without it.
        tensors: dict name -> Tensor (or list of named Tensors) for intermediate results to label.
        inputs: dict name -> Tensor (or a list) naming the inputs (else ``input 0``, ``input 1``...).
        leaf: for ``view='chain'``: the Value/Tensor whose chain rule to the root is drawn.
        fmt: printf format of scalar numbers (micrograd's ``'%.4f'`` by default).
        rankdir: graphviz layout direction (``'LR'`` left to right, ``'TB'`` top to bottom);
            ``'auto'``: top to bottom for long chains (a Tensor graph of more than 4 ops, a Value
            graph of more than 12), else left to right.
        health: flag gradients that vanish (largest entry below ``vanish``), explode (above
            ``explode``) or are not finite, in colour and words; in the backward view the other
            gradients are shaded by magnitude (log scale, darker green = larger). Either threshold may
            be None to switch that flag off.
        collapse: ``'auto'`` draws each module (scope) as one box when the graph has more than
            ``node_budget`` nodes; ``'always'`` (or True), ``'never'`` (or False), or an int: collapse
            at that scope depth.
        max_nodes: above this many nodes (after collapsing) the picture is cut to the nodes
            nearest the output, with a note in the picture. None draws everything.
        legend: add a table explaining the colours.
        title: text at the top of the picture.
        graph: a prebuilt :class:`~autodiff.viz.graph.Graph` (skips the walk).
        max_paths: chain view: how many paths are listed.
        dpi: resolution of bitmap output (graph attribute).

    Returns:
        str: the DOT source.
    """
    if view not in VIEWS:
        raise ValueError(f"to_dot: view must be one of {VIEWS}, got {view!r}")
    if graph is None:
        g = build_graph(root, params=params, tensors=tensors, inputs=inputs)
        if g.engine == "tensor" and view != "chain":
            from .capture import replay
            replay(root, g)  # every intermediate gradient, when the graph was kept
    else:
        g = graph
    if view == "rolled":
        from .rolled import rolled_dot
        return rolled_dot(g, fmt=fmt, rankdir=rankdir, health=health, vanish=vanish, explode=explode,
                          legend=legend, title=title, dpi=dpi, max_nodes=max_nodes)
    if view == "chain":
        from .chain import chain_dot
        if leaf is None:
            raise ValueError("to_dot: view='chain' needs leaf= (the Value/Tensor to follow to the root)")
        return chain_dot(g, leaf, fmt=fmt, rankdir="LR" if rankdir == "auto" else rankdir, title=title,
                         max_paths=max_paths, dpi=dpi)
    g, keep, notes = limit_graph(g, collapse, max_nodes, node_budget)
    opts = dict(fmt=fmt, health=health and labels.grads_known(g), vanish=vanish, explode=explode,
                state=_state, keep=keep)
    if rankdir == "auto":
        n_ops = sum(1 for n in g.op_nodes() if keep is None or n.id in keep)
        rankdir = "TB" if n_ops > (4 if g.engine == "tensor" else 12) else "LR"
    out = _header(rankdir, title, notes, dpi)
    if view in ("forward", "both"):
        body = _forward(g, "f" if view == "both" else "", **opts)
        out += _cluster("cluster_forward", "forward", body) if view == "both" else body
    if view in ("backward", "both"):
        body = _backward(g, "b" if view == "both" else "", **opts)
        out += _cluster("cluster_backward", "backward", body) if view == "both" else body
    if keep is not None:
        out += _hidden_note(g, keep, "f" if view == "both" else "")
    if legend and (g.engine == "tensor" or view != "forward") and _state is None:
        out += labels.legend_dot("", ("forward", "backward") if view == "both" else (view,))
    out.append("}")
    return "\n".join(out) + "\n"


def _header(rankdir, title, notes, dpi):
    out = ["digraph autodiff {", f"  graph [rankdir={rankdir}, fontname=Helvetica, fontsize=11, nodesep=0.25, "
           "ranksep=0.35];",
           "  node [fontname=Helvetica, fontsize=10];", "  edge [fontname=Helvetica, fontsize=9];"]
    if dpi:
        out.append(f"  graph [dpi={int(dpi)}];")
    text = "\n".join(([title] if title else []) + list(notes))
    if text:
        out.append(f"  graph [label={labels.quote(text)}, labelloc=t, fontsize=12];")
    return out


# where module names sit in their boxes; render.draw tries the others when an edge crosses one
CLUSTER_LABEL_PLACES = ("labeljust=r; labelloc=t;", "labeljust=l; labelloc=t;", "labeljust=r; labelloc=b;",
                        "labeljust=l; labelloc=b;")
_CLUSTER_LABEL = CLUSTER_LABEL_PLACES[0] + " fontcolor=\"#3d5f99\"; fontsize=10;"


def _cluster(name, label, body, color="#bbbbbb", indent="  ", attrs=""):
    return ([f"{indent}subgraph {name} {{",
             f"{indent}  label={labels.quote(label)}; style=rounded; color=\"{color}\"; {attrs}"]
            + [indent + line for line in body] + [f"{indent}}}"])


def _data_attrs(node, fmt, health, vanish, explode, state, zero_ok=False):
    grad, grad_state = node.grad, "final"
    if state is not None and state.get("hide_grads"):
        grad, grad_state = None, "hidden"
    elif state is not None and node.requires_grad:
        grad = state["grads"].get(node.id, state["pending"])
        if grad is state["pending"] or grad is state["ready"]:
            grad_state = "pending" if grad is state["pending"] else "ready"
            grad = None
    if not node.requires_grad and node.value is None:
        return f'label={labels.quote(node.label or "const")}, shape=plaintext, fontcolor="#777777"'
    label = labels.data_label(node, fmt, grad, grad_state)
    record = label.startswith("{")  # a scalar Value: micrograd's { name | data | grad } record
    attrs = [f'label="{label}", shape=record' if record else f"label={labels.quote(label)}, shape=box"]
    flag = (labels.health(grad, vanish, explode, zero_ok=zero_ok) if health and grad_state == "final"
            and node.requires_grad else None)
    fill = labels.HEALTH_COLORS[flag] if flag else (labels.PARAM_COLOR if node.is_leaf and node.requires_grad else None)
    if state is not None and node.id in state.get("highlight", ()):
        fill = labels.HIGHLIGHT_COLOR
    if fill:
        attrs.append(f'style=filled, fillcolor="{fill}"')
    if flag:  # the flag inside the node, so it cannot drift between boxes
        attrs[0] = attrs[0].replace(" }\"", f" | {labels.HEALTH_WORDS[flag]} }}\"") if record else \
            f"label={labels.quote(label + chr(10) + labels.HEALTH_WORDS[flag])}, shape=box"
    return ", ".join(attrs)


def _in_scope_clusters(g, ids, prefix, line_of, node_prefix=""):
    """Node lines grouped into nested clusters by scope (``net`` contains ``net.0``)."""
    members, children = {}, {}
    for nid in ids:
        members.setdefault(g.nodes[nid].scope or "", []).append(nid)
    scopes = set()
    for s in members:
        parts = s.split(".") if s else []
        scopes.update(".".join(parts[:k]) for k in range(1, len(parts) + 1))
    for s in scopes:
        children.setdefault(s.rsplit(".", 1)[0] if "." in s else "", []).append(s)

    def emit(scope):
        body = [line_of(n) for n in members.get(scope, [])]
        for kid in sorted(children.get(scope, [])):
            body += emit(kid)
        if not scope:
            return body
        name = "cluster_" + prefix + "_" + "".join(c if c.isalnum() else "_" for c in scope)
        return _cluster(name, scope, body, color="#6c8ebf", attrs=_CLUSTER_LABEL)

    return emit("")


def _forward(g, prefix, fmt, health, vanish, explode, state, keep):
    ids = [n for n in g.nodes if keep is None or n in keep]
    hl = state.get("highlight", ()) if state else ()
    hot = state.get("hot_edges", ()) if state else ()

    def line_of(nid):
        n = g.nodes[nid]
        if n.kind == "data":
            zero = labels.zero_by_input(g, nid)
            return f"  {prefix}{nid} [{_data_attrs(n, fmt, health, vanish, explode, state, zero)}];"
        style = f'style=filled, fillcolor="{labels.HIGHLIGHT_COLOR if nid in hl else labels.OP_COLOR}"'
        label = n.op if not getattr(n, "box", None) else n.box
        shape = "box, style=\"rounded,filled\"" if getattr(n, "box", None) else "ellipse"
        if getattr(n, "box", None):
            style = f'fillcolor="{labels.HIGHLIGHT_COLOR if nid in hl else labels.MODULE_COLOR}"'
        return f"  {prefix}{nid} [label={labels.quote(label)}, shape={shape}, {style}];"

    out = _in_scope_clusters(g, ids, prefix or "f", line_of, prefix)
    for src, dst, i in _edges(g, keep):
        attrs = []
        n = g.nodes[dst]
        if n.kind == "op" and len(n.inputs) > 1 and n.op not in _SYMMETRIC:
            attrs.append(f"label={labels.quote(str(i))}")  # the argument's position where order matters
        if (src, dst) in hot:
            attrs.append(f'color="{labels.HIGHLIGHT_COLOR}", penwidth=2.5')
        out.append(f"  {prefix}{src} -> {prefix}{dst}" + (f" [{', '.join(attrs)}]" if attrs else "") + ";")
    for r in g.roots:
        if keep is None or r in keep:
            out.append(f"  {prefix}{r} [peripheries=2];")
    return out


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def _root_symbol(g):
    """The name of the loss in dL/dx: the root's own short name, else L."""
    r = g.nodes[g.root]
    return r.name if r.name and len(r.name) <= 8 and " " not in r.name else "L"


def _grad_label(n, fmt, is_root, L_):
    head = f"d{L_}/d{wrap(n.label or ('output' if is_root else n.id))}"
    if n.shape == () and n.dtype == "float":
        return f"{head}\n{labels.num(n.grad, fmt)}"
    lines = [head, labels.shape_text(n.shape)]
    if n.grad is not None:
        lines.append(labels.summary(n.grad, fmt))
    elif is_root and int(np.prod(n.shape)) == 1:
        lines.append("1 (seed)")
    return "\n".join(lines)


def _local_lines(g, op, fmt):
    """``d(y)/d(x) = formula [= number]`` per input that gets a gradient."""
    y = g.nodes[op.outputs[0]].label if op.outputs else "y"
    lines = []
    for d, form, loc in zip(op.inputs, op.formulas, op.locals):
        if not g.nodes[d].requires_grad or form is None:
            continue
        val = f" = {labels.num(loc, fmt)}" if loc is not None and not _is_number(form) else ""
        lines.append(f"d{wrap(y)}/d{wrap(g.nodes[d].label)} = {form}{val}")
    return lines


def _backward(g, prefix, fmt, health, vanish, explode, state, keep):
    out = []
    ok = (lambda nid: True) if keep is None else (lambda nid: nid in keep)
    scalar = g.engine == "value"
    shades = labels.magnitude_colors(g) if health else {}
    L_ = _root_symbol(g)
    for n in g.data_nodes():
        if not n.requires_grad or not ok(n.id):
            continue
        flag = labels.health(n.grad, vanish, explode, zero_ok=labels.zero_by_input(g, n.id)) if health else None
        fill = labels.HEALTH_COLORS[flag] if flag else shades.get(n.id, "white")
        label = _grad_label(n, fmt, n.id in g.roots, L_) + (f"\n{labels.HEALTH_WORDS[flag]}" if flag else "")
        extra_style = ", penwidth=2" if n.is_leaf and not flag else ""
        out.append(f"  {prefix}g_{n.id} [label={labels.quote(label)}, shape=box, "
                   f"style=filled, fillcolor=\"{fill}\"{extra_style}];")
        uses = [c for c in g.consumers.get(n.id, ()) if ok(c[0])]
        if len(uses) > 1:  # fan-out: the gradient is the sum of what each use sends back
            out.append(f"  {prefix}s_{n.id} [label={labels.quote('+')}, shape=circle, width=0.3, fixedsize=true];")
            out.append(f"  {prefix}g_{n.id} -> {prefix}s_{n.id} [dir=back, label={labels.quote(f'sum of {len(uses)}')}];")
    for op in g.op_nodes():
        if not ok(op.id):
            continue
        head = (getattr(op, "box", None) or op.op).split(chr(10))[0]
        lines = [f"{head} backward"] + _local_lines(g, op, fmt) + list(getattr(op, "box_grads", []))
        out.append(f"  {prefix}b_{op.id} [label={labels.quote(chr(10).join(lines))}, shape=box, style=\"rounded,filled\", "
                   f"fillcolor=\"{labels.OP_COLOR}\"];")
        gin = None
        for o in op.outputs:  # gradient flowing in
            if not ok(o):
                continue
            on = g.nodes[o]
            gin = on.grad
            lab = f"g = d{L_}/d{wrap(on.label)}"
            lab += f"\n= {labels.num(on.grad, fmt)}" if scalar else f"\n{labels.shape_text(on.shape)}"
            out.append(f"  {prefix}b_{op.id} -> {prefix}g_{o} [dir=back, label={labels.quote(lab)}];")
        for i, d in enumerate(op.inputs):  # gradient flowing out to each input
            dn = g.nodes[d]
            if not dn.requires_grad or not ok(d):
                continue
            uses = [c for c in g.consumers.get(d, ()) if ok(c[0])]
            target = f"{prefix}s_{d}" if len(uses) > 1 else f"{prefix}g_{d}"
            lab = op.outgoing[i] if i < len(op.outgoing) else "?"
            if scalar and op.locals[i] is not None and gin is not None:
                lab += f"\n= {labels.num(gin, fmt)} * {labels.num(op.locals[i], fmt)} = {labels.num(gin * op.locals[i], fmt)}"
            elif not scalar:
                lab += f"\n{labels.shape_text(dn.shape)}"
            out.append(f"  {target} -> {prefix}b_{op.id} [dir=back, label={labels.quote(lab)}, color=\"#c0392b\", "
                       f"fontcolor=\"#c0392b\"];")
    return out


def _edges(g, keep):
    """``Graph.edges()`` between kept nodes (all when ``keep`` is None), without a full pass."""
    if keep is None:
        return g.edges()
    out = []
    for nid in g.nodes:
        n = g.nodes[nid]
        if n.kind == "op" and nid in keep:
            out.extend((d, nid, i) for i, d in enumerate(n.inputs) if d in keep)
            out.extend((nid, d, k) for k, d in enumerate(n.outputs) if d in keep)
    return out


def _hidden_note(g, keep, prefix):
    hidden = len(g.nodes) - len(keep)
    edges = set()
    for nid in keep:  # kept nodes with a hidden input
        n = g.nodes[nid]
        srcs = n.inputs if n.kind == "op" else [g.producer(nid)] if g.producer(nid) else []
        if any(s not in keep for s in srcs):
            edges.add(nid)
    out = [f"  {prefix}hidden [label={labels.quote(f'... {hidden} more nodes not drawn')}, shape=note, "
           "fontcolor=\"#555555\"];"]
    out += [f"  {prefix}hidden -> {prefix}{d} [style=dashed, color=\"#999999\"];" for d in sorted(edges)]
    return out

