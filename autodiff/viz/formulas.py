"""Local derivatives and gradient formulas of every op, written with the graph's own names.

One convention for every edge of the backward view: ``g`` is the incoming gradient (dL/d of the
op's output), the *local derivative* is d(output)/d(input), and the *outgoing gradient* is what the
op sends to that input. For elementwise ops the outgoing gradient is ``g * local`` (summed back to
the input's shape under broadcasting); for the others (matmul, linear, reductions, softmax, conv,
...) it is the vector-Jacobian product written directly in ``g``.

The templates below use ``{0}``, ``{1}``, ... for the op's arguments and ``{y}`` for its output;
:func:`op_formulas` substitutes the display names of the graph's nodes (bracketed where they are not
a plain name), so ``x*w`` reads ``d(x*w)/dw = x``. The notation is the one numpy readers know
(``@``, ``^T``, ``^2``, ``sum(g, axis=0)``) plus ``1[cond]`` (1 where cond holds, else 0).
"""
import re

__all__ = ["LOCAL", "VJP", "wrap", "op_formulas", "local_formula", "outgoing_formula"]

# elementwise ops: d(output)/d(argument i)
LOCAL = {
    "+": ("1", "1"), "add": ("1", "1"),
    "-": ("1", "-1"), "sub": ("1", "-1"),
    "*": ("{1}", "{0}"), "mul": ("{1}", "{0}"),
    "/": ("1/{1}", "-{0}/{1}^2"), "div": ("1/{1}", "-{0}/{1}^2"),
    "**": ("{1}*{0}^({1} - 1)", "{y}*log({0})"), "pow": ("{1}*{0}^({1} - 1)", "{y}*log({0})"),
    "neg": ("-1",), "exp": ("{y}",), "log": ("1/{0}",), "sqrt": ("1/(2*{y})",),
    "abs": ("sign({0})",), "sin": ("cos({0})",), "cos": ("-sin({0})",),
    "tanh": ("1 - {y}^2",), "sigmoid": ("{y}*(1 - {y})",), "softplus": ("sigmoid({0})",),
    "relu": ("1[{0} > 0]",), "clip": ("1[lo < {0} < hi]",),
    "maximum": ("1[{0} >= {1}]", "1[{1} > {0}]"), "minimum": ("1[{0} <= {1}]", "1[{1} < {0}]"),
    "where": (None, "1[{0}]", "1[not {0}]"), "cast": ("1",), "arctan": ("1/(1 + {0}^2)",), "step": ("0",),
    "leaky_relu": ("1[{0} > 0] + slope*1[{0} <= 0]",), "elu": ("1[{0} > 0] + ({y} + alpha)*1[{0} <= 0]",),
    "prelu": ("1[{0} > 0] + {1}*1[{0} <= 0]", "{0}*1[{0} <= 0]"),
    "binary_cross_entropy": ("({0} - {1}) / ({0}*(1 - {0}))", "log(1 - {0}) - log({0})"),
    "not_twice_differentiable": ("1",),
}

# other ops: the outgoing gradient (vector-Jacobian product) for argument i, in terms of g
VJP = {
    "matmul": ("g @ {1}^T", "{0}^T @ g"),
    "linear": ("g @ {1}", "g^T @ {0}", "sum(g, axis=0)"),
    "sum": ("expand(g, {shape0})",), "mean": ("expand(g, {shape0}) / {count}",),
    "var": ("expand(g, {shape0}) * 2*({0} - mean({0})) / {denom}",),
    "max": ("expand(g, {shape0}) * 1[{0} == {y}] / ties",), "min": ("expand(g, {shape0}) * 1[{0} == {y}] / ties",),
    "logsumexp": ("expand(g, {shape0}) * softmax({0})",),
    "softmax": ("{y} * (g - sum(g * {y}, axis={axis}, keepdims=True))",),
    "logsoftmax": ("g - exp({y}) * sum(g, axis={axis}, keepdims=True)",),
    "cross_entropy": ("g * (softmax({0}) - onehot({1})) / {n}",),
    
    "conv": ("conv_transpose(g, {1})", "correlate({0}, g)", "sum(g, over all but channels)"),
    "max_pool": ("g routed to each window's max",), "avg_pool": ("g / window size, spread over each window",),
    "adaptive_avg_pool": ("g / cell size, spread over each cell",),
    "reshape": ("reshape(g, {shape0})",), "transpose": ("transpose(g, inverse axes)",),
    "broadcastto": ("sum_to(g, {shape0})",), "pad": ("g cropped to {shape0}",),
    "pad_mode": ("g folded back to {shape0}",),
    "getitem": ("zeros {shape0} with g at the index",), "setitem": ("g with the index set to 0", "g at the index"),
    "concatenate": (None, "g split along the axis",), "stack": (None, "g unstacked along the axis",),
    "copyslices": ("g outside the view", "g inside the view"),
    "embedding": ("g rows added at the indices",),
    "normalize": ("(g*w - mean(g*w) - x_hat*mean(g*w*x_hat)) / std", "sum(g * x_hat)", "sum(g)"),
    "lstm_cell": ("through the gates",), "gru_cell": ("through the gates",),
    "lstm": ("through T steps (BPTT)",), "gru": ("through T steps (BPTT)",), "rnn": ("through T steps (BPTT)",),
    "chunks": ("g pieces joined",),
}

# what to call a constant argument whose value the op did not keep
ROLES = {"cross_entropy": (None, "target"), "binary_cross_entropy": (None, "target"), "where": ("mask",),
         "clip": (None, "lo", "hi"), "embedding": (None, "indices")}

_PLAIN = re.compile(r"^-?[A-Za-z_0-9][A-Za-z_0-9.]*$")


def wrap(name):
    """``name`` as it may stand inside a formula: bracketed unless it is a plain name or number."""
    name = str(name)
    if _PLAIN.match(name) or _balanced_call(name):
        return name
    return f"({name})"


def _balanced_call(text):
    """True for ``f(...)`` or ``1[...]`` spanning the whole text (an atom in a formula)."""
    m = re.match(r"^(?:[A-Za-z_][A-Za-z_0-9]*\(|1\[|\()", text)
    if not m:
        return False
    depth, start = 0, m.end() - 1
    for k in range(start, len(text)):
        depth += text[k] in "(["
        depth -= text[k] in ")]"
        if depth == 0 and k < len(text) - 1:
            return False
    return depth == 0


def _times_g(local, g="g"):
    if local == "1":
        return g
    if local == "-1":
        return f"-{g}"
    if local == "0":
        return "0"
    return f"{g} * {wrap(local)}"


def _fill(template, names, extra):
    out = template
    for key, val in extra.items():
        out = out.replace("{" + key + "}", str(val))
    subs = {"y": names.get("y", "y")}
    subs.update((str(k), a) for k, a in enumerate(names.get("args", ())))

    def put(m):
        name = subs.get(m.group(2))
        if name is None:
            return m.group(0)
        bare = m.group(1) in ("(", ", ") and m.group(3) in (")", ",")  # a function's whole argument
        return m.group(1) + (str(name) if bare else wrap(name)) + m.group(3)

    return re.sub(r"(\(|, |^|)\{(\w+)\}(\)|,|)", put, out)


def references(op, i):
    """Whether a formula of ``op`` mentions its argument i (so a constant there is drawn)."""
    forms = [f for f in LOCAL.get(op, ()) + VJP.get(op, ()) if f]
    return any("{%d}" % i in f for f in forms)


def _family(op):
    if op.startswith("**") and len(op) > 2:
        return "**k"
    return op if op in LOCAL or op in VJP else op.lower()


def local_formula(op, i, names=None, extra=None):
    """d(op output)/d(argument i) with the graph's names, or None when the op is not elementwise.

    ``local_formula('tanh', 0, {'args': ['n'], 'y': 'o'}) == '1 - o^2'``.
    """
    names = names or {"args": [f"x{k}" for k in range(i + 1)], "y": "y"}
    fam = _family(op)
    if fam == "**k":
        k = op[2:]
        try:
            kf = float(k)
        except ValueError:
            return None
        base = wrap(names["args"][0])
        if kf == 2:
            return f"2*{base}"
        return f"{kf:g}*{base}^{kf - 1:g}"
    forms = LOCAL.get(fam)
    if forms is None or i >= len(forms) or forms[i] is None:
        return None
    return _fill(forms[i], names, extra or {})


def outgoing_formula(op, i, names=None, extra=None, g="g"):
    """The gradient op sends to argument i, in terms of the incoming gradient ``g``."""
    names = names or {"args": [f"x{k}" for k in range(i + 1)], "y": "y"}
    local = local_formula(op, i, names, extra)
    if local is not None:
        out = _times_g(local, g)
        shapes, shape_y = (extra or {}).get("shapes"), (extra or {}).get("shape_y")
        if shapes and i < len(shapes) and shapes[i] is not None and shape_y is not None \
                and tuple(shapes[i]) != tuple(shape_y):
            out = f"sum_to({out}, {tuple(shapes[i])})"
        return out
    forms = VJP.get(_family(op))
    if forms is None:
        return f"{g} * d{wrap(names.get('y', 'y'))}/d{wrap(names['args'][i])}"
    form = forms[min(i, len(forms) - 1)] or forms[-1]
    if g != "g":
        form = re.sub(r"\bg\b", g, form)
    out = _fill(form, names, extra or {})
    return re.sub(r"\{\w+\}", "?", out)  # a detail the node did not keep


def op_formulas(op, names, extra=None, g="g"):
    """Per argument: ``(local derivative or None, outgoing gradient)`` with the graph's names."""
    return [(local_formula(op, i, names, extra), outgoing_formula(op, i, names, extra, g))
            for i in range(len(names["args"]))]
