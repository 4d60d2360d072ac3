"""The interactive explorer: one self-contained HTML page of a graph (no network, no CDN).

    >>> ex = autodiff.explore(loss)            # doctest: +SKIP
    >>> ex                                     # inline in Jupyter (_repr_html_)   # doctest: +SKIP
    >>> ex.save("graph.html")                  # doctest: +SKIP

The page inlines the forward and backward views as SVG laid out by graphviz (expanded, and one box
per module when the graph has modules), the graph's data as JSON, and the small script in
``explore_page.py``. It offers a forward/backward toggle, a slider and step buttons that walk the
backward pass in the order the engine ran it (a Tensor graph kept with ``retain_graph=True`` is
replayed to get that order and every intermediate gradient), a side panel per clicked node (name,
op, shape, dtype, value and gradient with a histogram and the first entries, the local derivative,
the incoming and outgoing gradients), collapse/expand of modules, find by name, and the legend.
"""
import html
import json
import math
import re

import numpy as np

from . import labels
from .capture import replay
from .chain import PENDING, READY, step_states
from .collapse import collapse_graph
from .dot import to_dot
from .explore_page import PAGE
from .graph import build_graph
from .render import _write, render_dot, uncrossed

__all__ = ["explore", "Explorer"]

FIRST = 8  # entries listed in the panel
BINS = 12  # histogram bins


def _num(x):
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:.6g}"


def describe(arr):
    """JSON-ready description of a value or gradient: scalars as a number, arrays as a summary."""
    if arr is None:
        return None
    if isinstance(arr, float):
        return {"scalar": _num(arr)}
    a = np.asarray(arr)
    if a.dtype.kind not in "fciub":
        return {"text": str(a.dtype)}
    af = a.astype(np.float64, copy=False).reshape(-1)
    if af.size == 1:
        return {"scalar": _num(af[0])}
    out = {"size": int(af.size), "first": [_num(v) for v in af[:FIRST]]}
    finite = af[np.isfinite(af)]
    if finite.size:
        out.update(mean=_num(finite.mean()), std=_num(finite.std()), min=_num(finite.min()),
                   max=_num(finite.max()), norm=_num(np.sqrt((finite * finite).sum())))
        counts, edges = np.histogram(finite, bins=BINS)
        out["hist"] = [int(c) for c in counts]
        out["hist_range"] = [_num(edges[0]), _num(edges[-1])]
    out["nonfinite"] = int(af.size - finite.size)
    return out


def _clean_svg(svg):
    """The <svg> element alone (no XML prolog or DOCTYPE, which name a DTD by URL)."""
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg


def _graph_json(g, order):
    nodes = {}
    scalar = g.engine == "value"
    for n in g.data_nodes():
        prod = g.producer(n.id)
        nodes[n.id] = {"kind": "data", "label": n.label or n.id, "shape": list(n.shape), "dtype": n.dtype,
                       "value": describe(n.value), "grad": describe(n.grad) if n.requires_grad else None,
                       "requires_grad": n.requires_grad, "leaf": n.is_leaf and prod is None,
                       "param": bool(getattr(n, "is_param", False)), "scope": n.scope,
                       "made_by": prod, "used_by": [op for op, _ in g.consumers.get(n.id, ())]}
    for op in g.op_nodes():
        y = g.nodes[op.outputs[0]].label if op.outputs else "y"
        args = []
        for i, d in enumerate(op.inputs):
            dn = g.nodes[d]
            item = {"id": d, "label": dn.label, "requires_grad": dn.requires_grad,
                    "local": op.formulas[i] if i < len(op.formulas) else None,
                    "outgoing": op.outgoing[i] if i < len(op.outgoing) else None}
            if scalar and op.locals[i] is not None and g.nodes[op.outputs[0]].grad is not None:
                gin = g.nodes[op.outputs[0]].grad
                item["local_value"] = _num(op.locals[i])
                item["outgoing_value"] = _num(gin * op.locals[i])
            args.append(item)
        nodes[op.id] = {"kind": "op", "label": getattr(op, "box", None) or op.op, "op": op.op, "scope": op.scope,
                        "output_label": y, "outputs": list(op.outputs), "args": args}
    steps = []
    prev = {}
    for nid, state in step_states(g, order):
        changed = {}
        for did, grad in state["grads"].items():
            if grad is PENDING or grad is READY:
                continue
            text = json.dumps(describe(grad))
            if prev.get(did) != text:
                changed[did] = describe(grad)
                prev[did] = text
        steps.append({"node": nid, "grads": changed, "highlight": sorted(state["highlight"])})
    return {"engine": g.engine, "nodes": nodes, "steps": steps, "roots": list(g.roots)}


def _box_map(g, collapsed):
    """Node id of the expanded graph -> the id drawn for it in the collapsed graph."""
    out = {}
    for n in collapsed.op_nodes():
        for m in getattr(n, "member_ops", ()):
            out[m] = n.id
    for n in g.data_nodes():
        if n.id not in collapsed.nodes:
            p = g.producer(n.id)
            out[n.id] = out.get(p, n.id) if p else n.id
    return out


class Explorer:
    """A self-contained interactive HTML page of one graph.

    Attributes:
        html: the whole page as text.
    """

    def __init__(self, html_text):
        self.html = html_text

    def _repr_html_(self):
        # Jupyter: the page in an iframe (its script and ids stay apart from the notebook's)
        return (f'<iframe srcdoc="{html.escape(self.html, quote=True)}" style="width:100%;height:720px;'
                'border:1px solid #ccc"></iframe>')

    def save(self, path):
        """Write the page to ``path`` (e.g. ``'graph.html'``). Returns the path."""
        return _write(path, self.html.encode("utf-8"))

    def __repr__(self):
        return f"<autodiff Explorer: {len(self.html)} bytes of HTML; .save('graph.html') or display in Jupyter>"


def explore(root, params=None, path=None, *, inputs=None, tensors=None, collapse="auto", title=None,
            max_nodes=25, fmt="%.4f"):
    """The interactive explorer of the graph of ``root`` (a Value or Tensor).

    Args:
        root: the output whose graph is explored (call ``backward(retain_graph=True)`` first for a
            Tensor graph, so the page can replay the backward and show every intermediate gradient).
        params: names of the parameters (a module, a dict or ``(name, tensor)`` pairs); nn modules
            name their parameters without it.
        path: also write the page there.
        inputs, tensors: names of inputs and intermediate tensors (as for ``build_graph``).
        collapse: 'auto' starts with one box per module above ``max_nodes`` nodes, 'always' always,
            'never' never (the page can switch when the graph has modules).
        title: heading of the page.
        fmt: format of numbers in the pictures.

    Returns:
        Explorer
    """
    if collapse not in ("auto", "always", "never"):
        raise ValueError(f"explore: collapse must be 'auto', 'always' or 'never', got {collapse!r}")
    g = build_graph(root, params=params, tensors=tensors, inputs=inputs)
    order = replay(root, g) if g.engine == "tensor" else None
    data = _graph_json(g, order)
    views = {}
    hide = {"grads": {}, "pending": PENDING, "ready": READY, "hide_grads": True}
    common = dict(graph=g, fmt=fmt, max_nodes=None, legend=False)
    views["forward"] = _clean_svg(render_dot(uncrossed(to_dot(None, "forward", _state=hide, **common)), "svg").decode())
    views["backward"] = _clean_svg(render_dot(to_dot(None, "backward", **common), "svg").decode())
    has_modules = any(n.scope for n in g.op_nodes())
    if has_modules:
        cg = collapse_graph(g)
        cc = dict(common, graph=cg)
        views["forward_collapsed"] = _clean_svg(
            render_dot(uncrossed(to_dot(None, "forward", _state=hide, **cc)), "svg").decode())
        views["backward_collapsed"] = _clean_svg(render_dot(to_dot(None, "backward", **cc), "svg").decode())
        data["box_of"] = _box_map(g, cg)
        for box in cg.op_nodes():
            if getattr(box, "member_ops", None):
                data["nodes"][box.id] = {"kind": "module", "label": box.box.split("\n")[0], "op": "module",
                                         "ops": box.box_ops, "params": box.box_params, "grads": box.box_grads,
                                         "members": box.member_ops, "outputs": list(box.outputs), "args": []}
    start_collapsed = has_modules and (collapse == "always" or (collapse == "auto" and len(g.nodes) > max_nodes))
    data["start_collapsed"] = bool(start_collapsed)
    heading = title or f"autodiff graph: {len(g.op_nodes())} ops, {len(g.data_nodes())} values"
    legend = "".join(f'<div class="lg"><span style="background:{c}"></span>{html.escape(t)}</div>'
                     for c, t in labels.legend_rows(("forward", "backward")))
    page = PAGE.replace("%%TITLE%%", html.escape(heading)).replace("%%LEGEND%%", legend)
    svgs = "".join(f'<div class="view" id="view-{k}" data-view="{k}">{v}</div>' for k, v in views.items())
    page = page.replace("%%SVGS%%", svgs)
    page = page.replace("%%DATA%%", re.sub(r"</", r"<\\/", json.dumps(data)))
    ex = Explorer(page)
    if path is not None:
        ex.save(path)
    return ex
