"""Text of node and edge labels, gradient-health flags, and DOT escaping (shared by every view)."""
import math

import numpy as np

from .graph import grad_magnitude

HEALTH_COLORS = {"nonfinite": "#ff5c5c", "exploding": "#ffa64d", "vanishing": "#ffe680"}
HEALTH_WORDS = {"nonfinite": "NON-FINITE grad", "exploding": "EXPLODING grad", "vanishing": "vanishing grad"}
PARAM_COLOR = "#dbe7ff"
OP_COLOR = "#f2f2f2"
MODULE_COLOR = "#e6dcf5"
HIGHLIGHT_COLOR = "#ff9ccf"
LETTERS = "abcdefgh"


def quote(text):
    """A DOT double-quoted string; ``text`` lines are joined with centred line breaks."""
    lines = str(text).split("\n")
    esc = [ln.replace("\\", "\\\\").replace('"', '\\"') for ln in lines]
    return '"' + "\\n".join(esc) + '"'


def record_field(text):
    """Escape the characters that structure a record label."""
    out = str(text)
    for ch in "\\{}|<>\"":
        out = out.replace(ch, "\\" + ch)
    return out


def letter(i):
    return LETTERS[i] if i < len(LETTERS) else f"x{i}"


def num(x, fmt):
    """``fmt % x`` for a float, with nan/inf written plainly."""
    if x is None:
        return "?"
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return fmt % x


def shape_text(shape):
    return str(tuple(int(s) for s in shape))


def summary(arr, fmt):
    """One short line about an array: its values when tiny, else mean/std and range."""
    a = np.asarray(arr)
    if a.size == 0:
        return "empty"
    if a.dtype.kind not in "fciub":
        return str(a.dtype)
    if a.size == 1:
        return num(a.reshape(-1)[0], fmt)
    if a.size <= 4:
        return "[" + ", ".join(num(v, fmt) for v in a.reshape(-1)) + "]"
    af = a.astype(np.float64, copy=False)
    finite = np.isfinite(af)
    bad = int(a.size - np.count_nonzero(finite))
    if bad:
        return f"{bad} non-finite of {a.size}"
    return (f"mean {af.mean():.3g} std {af.std():.3g}\n"
            f"min {af.min():.3g} max {af.max():.3g} norm {np.sqrt((af * af).sum()):.3g}")


def health(grad, vanish, explode, zero_ok=False):
    """'nonfinite' | 'exploding' | 'vanishing' | None for a gradient (None when unknown or fine).

    The magnitude is the largest absolute entry: vanishing when it is below ``vanish`` (all of the
    gradient is tiny, e.g. a dead ReLU or a saturated tanh), exploding above ``explode``.
    ``zero_ok``: the gradient is exactly 0 because a factor it is multiplied by is 0 (not vanishing).
    """
    m = grad_magnitude(grad)
    if zero_ok and m == 0:
        return None
    if m is None:
        return None
    if math.isnan(m) or math.isinf(m):
        return "nonfinite"
    if explode is not None and m > explode:
        return "exploding"
    if vanish is not None and m < vanish:
        return "vanishing"
    return None


_PRODUCTS = {"*", "mul", "matmul", "linear"}


def zero_by_input(graph, nid):
    """True when every op reading ``nid`` multiplies it by a value that is all zeros (e.g. x2 = 0 in
    x2*w2), so its gradient is exactly 0 for that reason, not because it vanished."""
    uses = graph.consumers.get(nid, ())
    if not uses:
        return False
    for op_id, i in uses:
        op = graph.nodes[op_id]
        if op.op not in _PRODUCTS:
            return False
        others = [graph.nodes[d].value for k, d in enumerate(op.inputs) if k != i and k < 2]
        if not others or any(v is None or np.any(np.asarray(v) != 0) for v in others):
            return False
    return True


def grads_known(graph):
    """False before any backward: a Value graph whose root grad is still 0, or no Tensor grad at all."""
    if graph.engine == "value":
        return any(graph.nodes[r].grad for r in graph.roots)
    return any(n.grad is not None for n in graph.data_nodes())


def data_label(node, fmt, grad=None, grad_state="final"):
    """Label lines of a data node for the forward view.

    ``grad_state``: 'final' (show ``grad``), 'pending' (step frames: not computed yet).
    """
    if node.dtype == "float" and node.shape == ():  # a scalar Value
        g = "?" if grad_state == "pending" else num(grad, fmt)
        fields = ([record_field(node.name)] if node.name else []) + \
            [f"data {record_field(num(node.value, fmt))}"] + \
            ([f"grad {record_field(g)}"] if grad_state != "hidden" else [])
        return "{ " + " | ".join(fields) + " }"
    if not node.requires_grad and node.value is None:
        return node.name or "const"
    lines = [node.label or node.name or ("input" if node.is_leaf else "tensor")]
    lines.append(f"{shape_text(node.shape)} {node.dtype}")
    if node.value is not None:
        lines.append(summary(node.value, fmt))
    if grad_state == "pending":
        lines.append("grad ?")
    elif grad_state == "ready":
        lines.append("grad (not kept: call backward with retain_graph=True)")
    elif grad is not None:
        lines.append("grad " + summary(grad, fmt).replace("\n", "\ngrad "))
    elif node.requires_grad and node.is_leaf and grad_state != "hidden":
        lines.append("grad None")
    return "\n".join(lines)


def legend_rows(views):
    """``(colour, meaning)`` pairs of the colours used in ``views``."""
    rows = []
    if "forward" in views:
        rows += [(PARAM_COLOR, "parameter / leaf"), (OP_COLOR, "operation"), (MODULE_COLOR, "module (collapsed)")]
    if "backward" in views:
        rows += [("#e3f1e6", "small gradient"), ("#6cb77d", "large gradient (log scale)")]
    rows += [(HEALTH_COLORS["vanishing"], "vanishing grad (max |g| < vanish)"),
             (HEALTH_COLORS["exploding"], "exploding grad (max |g| > explode)"),
             (HEALTH_COLORS["nonfinite"], "non-finite grad (nan / inf)")]
    return rows


def _html(text):
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def legend_dot(prefix, views):
    """A small table node explaining the colours (graphviz HTML-like label)."""
    rows = legend_rows(views)
    cells = "".join(f'<tr><td bgcolor="{c}" width="18"> </td><td align="left">{_html(t)}</td></tr>' for c, t in rows)
    table = ('<<table border="0" cellborder="1" cellspacing="0" cellpadding="3">'
             f'<tr><td colspan="2"><b>legend</b></td></tr>{cells}</table>>')
    return [f"  {prefix}legend [shape=plaintext, fontsize=9, label={table}];"]


def magnitude_colors(graph):
    """Fill colour per data id, shading gradients from pale (smallest) to green (largest) on a log scale."""
    mags = {}
    for n in graph.data_nodes():
        m = grad_magnitude(n.grad) if n.requires_grad else None
        if m is not None and math.isfinite(m) and m > 0:
            mags[n.id] = math.log10(m)
    if not mags:
        return {}
    lo, hi = min(mags.values()), max(mags.values())
    out = {}
    for nid, v in mags.items():
        t = 0.5 if hi == lo else (v - lo) / (hi - lo)
        k = 0.12 + 0.55 * t  # share of the green
        rgb = [round(255 * (1 - k) + c * k) for c in (46, 160, 67)]
        out[nid] = "#%02x%02x%02x" % tuple(rgb)
    return out
