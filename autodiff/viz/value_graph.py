"""The walk of a scalar ``Value`` graph (micrograd's engine and ours) into a :class:`~autodiff.viz.graph.Graph`.

An unlabelled value is named by its expression when that is short (``x1*w1``, brackets where
precedence asks for them), by its number when it is a constant, else ``sum #7`` and the like.
"""
from . import formulas
from .graph import DataNode, Graph, OpNode, _postorder

__all__ = ["build_value_graph"]


_INFIX = {"+": "+", "-": "-", "*": "*", "/": "/", "**": "^"}
_MAX_EXPR = 24
_OP_WORDS = {"+": "sum", "-": "difference", "*": "product", "/": "quotient", "**": "power", "neg": "negation"}


def _value_label(op, child_labels, n):
    """A name for an unlabelled Value: its expression when short (``x1*w1``), else ``op #n``."""
    if op in _INFIX and len(child_labels) == 2:
        tight = op in ("*", "/", "**")  # binds tighter than + and -: children with a sum get brackets
        def needs_brackets(k, c):
            weak = c.startswith("-") or " " in c or (op == "**" and not c.isalnum())
            return weak and (tight or (k == 1 and op == "-"))

        a, b = ((f"({c})" if c.startswith("-") else formulas.wrap(c)) if needs_brackets(k, c) else c
                for k, c in enumerate(child_labels))
        text = f"{a}{_INFIX[op]}{b}" if tight else f"{a} {op} {b}"
    elif op.startswith("**") and len(child_labels) == 1:
        text = f"{formulas.wrap(child_labels[0])}^{op[2:]}"
    elif len(child_labels) == 1:
        text = f"-{formulas.wrap(child_labels[0])}" if op == "neg" else f"{op}({child_labels[0]})"
    else:
        text = ""
    return text if text and len(text) <= _MAX_EXPR else f"{_OP_WORDS.get(op, op)} #{n}"


def build_value_graph(roots, names):
    """The Graph of scalar Values (``names``: id -> user name)."""
    g = Graph("value")
    order = _postorder(roots, lambda v: v._prev)
    ids, labels = {}, {}
    for n, v in enumerate(order):
        ids[id(v)] = f"v{n}"
    for n, v in enumerate(order):
        did = ids[id(v)]
        children = tuple(v._prev)
        op_name = str(getattr(v, "_op", "") or "?")
        name = names.get(id(v)) or getattr(v, "label", "") or ""
        if name:
            label = name
        elif not children:
            label = f"{float(v.data):g}"
        else:
            label = _value_label(op_name, [labels[id(c)] for c in children], n)
        labels[id(v)] = label
        if children:
            op = g._add(OpNode(f"op_{did}", op_name))
            op.inputs = [ids[id(c)] for c in children]
            op.outputs = [did]
            op.seq = n
            fnames = {"args": [labels[id(c)] for c in children], "y": label}
            for i in range(len(children)):
                op.formulas.append(formulas.local_formula(op_name, i, fnames))
                op.outgoing.append(formulas.outgoing_formula(op_name, i, fnames))
            local = getattr(v, "_local_grads", None)
            op.locals = [float(x) for x in local] if local else [None] * len(children)
        g._add(DataNode(did, name, float(v.data), float(v.grad), (), "float", not children, True, "", v,
                        label=label))
        g._by_obj[id(v)] = did
    g.roots = [ids[id(r)] for r in roots]
    return g._finish()


