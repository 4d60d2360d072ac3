"""Backward-view labels read back and checked against the ops' real derivatives (issue 18 item 1).

Value graphs: every outgoing edge says ``formula\\n= g * local = contribution``; the local number must
equal a central finite difference of the op and the contribution must be g times it. Tensor graphs:
every outgoing-gradient formula is evaluated with numpy on the graph's own values and compared with
the gradient the engine computed for that input.
"""
import re

import numpy as np
import pytest

import autodiff as ad
from autodiff import Value
from autodiff.viz import build_graph, to_dot
from autodiff.viz.capture import replay

EDGE = re.compile(r'^\s+(\w+) -> (\w+) \[dir=back, label="((?:[^"\\]|\\.)*)"(.*)\];$', re.M)
NODE = re.compile(r'^\s+(\w+) \[label="((?:[^"\\]|\\.)*)"', re.M)


def out_edges(src):
    """``(target, op_backward, lines)`` of the red edges (gradient sent to an input)."""
    return [(a, b, lab.split("\\n")) for a, b, lab, rest in EDGE.findall(src) if "#c0392b" in rest]


VALUE_OPS = {
    "mul": (lambda x, w: x * w, 2), "add": (lambda x, w: x + w, 2), "sub": (lambda x, w: x - w, 2),
    "div": (lambda x, w: x / w, 2), "pow_const": (lambda x: x ** 3, 1), "pow_value": (lambda x, w: x ** w, 2),
    "tanh": (lambda x: x.tanh(), 1), "sigmoid": (lambda x: x.sigmoid(), 1), "exp": (lambda x: x.exp(), 1),
    "log": (lambda x: x.log(), 1), "relu": (lambda x: x.relu(), 1), "neg": (lambda x: -x, 1),
}


@pytest.mark.parametrize("name", sorted(VALUE_OPS))
def test_value_edge_numbers_are_the_real_local_derivative(name):
    fn, arity = VALUE_OPS[name]
    vals = {"x": 1.3, "w": 0.7}
    leaves = [Value(vals[k], label=k) for k in "xw"[:arity]]
    y = fn(*leaves)
    y.label = "y"
    out = y * 2.5  # an incoming gradient that is not 1
    out.label = "L"
    out.backward()
    src = to_dot(out, view="backward")
    edges = {a: lines for a, b, lines in out_edges(src) if b == f"b_op_{build_graph(out).id_of(y)}"}
    assert len(edges) == arity
    g = build_graph(out)
    for k, leaf in enumerate(leaves):
        lines = edges[f"g_{g.id_of(leaf)}"]
        m = re.match(r"^= (\S+) \* (\S+) = (\S+)$", lines[1])
        g_in, local, contrib = (float(v) for v in m.groups())
        h = 1e-6
        args_p = [Value(vals[c] + (h if i == k else 0)) for i, c in enumerate("xw"[:arity])]
        args_m = [Value(vals[c] - (h if i == k else 0)) for i, c in enumerate("xw"[:arity])]
        numeric = (fn(*args_p).data - fn(*args_m).data) / (2 * h)
        assert g_in == pytest.approx(2.5, abs=1e-4)
        assert local == pytest.approx(numeric, abs=2e-4)
        assert contrib == pytest.approx(g_in * local, abs=2e-4)
        assert contrib == pytest.approx(leaf.grad, abs=2e-4)
        # the formula uses the graph's names, never generic operand letters
        assert not re.search(r"\b[ab]\b", lines[0]), lines[0]


def test_lecture_expression_uses_the_users_names():
    """L = (a*b + c)*f: the node d*f reads dL/dd = f = -2, and no 'b' stands for f."""
    a, b, c, f = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c"), Value(-2.0, label="f")
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    L = d * f
    L.label = "L"
    L.backward()
    src = to_dot(L, view="backward")
    labels = dict(NODE.findall(src))
    last = labels[f"b_op_{build_graph(L).id_of(L)}"]
    assert "dL/dd = f = -2.0000" in last and "dL/df = d = 4.0000" in last
    assert "de/da = b = -3.0000" in labels[f"b_op_{build_graph(L).id_of(e)}"]
    assert "g * g" not in src


def test_sum_of_products_is_bracketed():
    x1, w1, x2, w2 = (Value(v, label=k) for k, v in (("x1", 2.0), ("w1", -3.0), ("x2", 0.0), ("w2", 1.0)))
    s = x1 * w1 + x2 * w2
    o = (s * 2.0).tanh()
    o.backward()
    src = to_dot(o, view="backward")
    assert "d((x1*w1 + x2*w2)*2)/d(x1*w1 + x2*w2) = 2" in src
    assert "d(x1*w1 + x2*w2)/d(x1*w1) = 1" in src and "dL/d(x1*w1 + x2*w2)" in src
    assert "dx1*w1 + x2*w2/d" not in src and "/dx1*w1" not in src


# --- Tensor graphs: evaluate the printed formula ---------------------------------------------------
def _softmax(z, axis=-1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _sum_to(x, shape):
    x = np.asarray(x)
    while x.ndim > len(shape):
        x = x.sum(axis=0)
    for i, s in enumerate(shape):
        if s == 1 and x.shape[i] != 1:
            x = x.sum(axis=i, keepdims=True)
    return x


def evaluate(formula, env, onehot_classes=None):
    """numpy value of a printed formula: names -> arrays, ^T -> .T, ^ -> **, 1[c] -> (c)."""
    expr = formula
    names = sorted((k for k in env if k != "g"), key=len, reverse=True)
    for k, name in enumerate(names):
        expr = re.sub(rf"(?<![\w.]){re.escape(name)}(?![\w.])", f"V{k}", expr)
    expr = expr.replace("^T", ".T").replace("^", "**")
    expr = re.sub(r"1\[([^\]]+)\]", r"((\1)*1.0)", expr)
    ns = {f"V{k}": env[n] for k, n in enumerate(names)}
    ns.update(g=env["g"], exp=np.exp, log=np.log, sqrt=np.sqrt, sign=np.sign, tanh=np.tanh, sum=np.sum,
              sigmoid=lambda z: 1 / (1 + np.exp(-z)), softmax=_softmax, sum_to=_sum_to,
              expand=lambda a, shape: np.broadcast_to(np.asarray(a).reshape(
                  np.asarray(a).shape + (1,) * 0), shape) if np.ndim(a) == 0 else a,
              onehot=lambda t: np.eye(onehot_classes)[np.asarray(t)])
    return eval(expr, {"__builtins__": {}}, ns)


EVALUABLE = {"add", "sub", "mul", "div", "exp", "log", "tanh", "sigmoid", "sqrt", "relu", "matmul", "softmax",
             "logsoftmax", "linear"}


def _params(rng, *shapes):
    return [ad.tensor(rng.uniform(0.5, 1.5, s), requires_grad=True) for s in shapes]


def _cases():
    import nn.functional as Fn
    return {
        "add": lambda p: p[0] + p[1], "sub": lambda p: p[0] - p[1], "mul": lambda p: p[0] * p[1],
        "div": lambda p: p[0] / p[1], "exp": lambda p: p[0].exp(), "log": lambda p: p[0].log(),
        "tanh": lambda p: p[0].tanh(), "sigmoid": lambda p: p[0].sigmoid(), "sqrt": lambda p: p[0].sqrt(),
        "relu": lambda p: (p[0] - 1.0).relu(), "matmul": lambda p: p[0] @ p[1].T,
        "softmax": lambda p: p[0].softmax(axis=1), "logsoftmax": lambda p: p[0].log_softmax(axis=1),
        "linear": lambda p: Fn.linear(p[0], p[1], p[2][0, :3]),
        "broadcast_mul": lambda p: p[0] * p[2][0],
    }


@pytest.mark.parametrize("case", sorted(_cases()))
def test_tensor_formulas_evaluate_to_the_engines_gradient(case):
    rng = np.random.default_rng(0)
    p = _params(rng, (3, 4), (3, 4), (1, 4))
    names = {"x": p[0], "w": p[1], "b": p[2]}
    y = _cases()[case](p)
    weight = ad.tensor(rng.standard_normal(y.shape))  # a non-uniform incoming gradient
    loss = (y * weight).sum()
    loss.backward(retain_graph=True)
    g = build_graph(loss, params=names)
    assert replay(loss, g) is not None
    checked = 0
    for op in g.op_nodes():
        out = g.nodes[op.outputs[0]]
        if op.op not in EVALUABLE or out.id == g.root:
            continue
        env = {"g": out.grad, out.label: out.value}
        for d in op.inputs:
            env[g.nodes[d].label] = g.nodes[d].value
        for i, d in enumerate(op.inputs):
            dn = g.nodes[d]
            if not dn.requires_grad or len(g.consumers[d]) != 1 or dn.grad is None:
                continue
            got = evaluate(op.outgoing[i], env)
            np.testing.assert_allclose(np.broadcast_to(got, dn.shape), dn.grad, rtol=1e-6, atol=1e-9,
                                       err_msg=f"{op.op}: {op.outgoing[i]}")
            checked += 1
    assert checked >= 1


def test_cross_entropy_formula():
    import nn
    rng = np.random.default_rng(1)
    z = ad.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    t = np.array([0, 2, 1, 2])
    loss = nn.CrossEntropyLoss()(z, ad.tensor(t))
    loss.backward(retain_graph=True)
    g = build_graph(loss, params={"z": z})
    (op,) = [o for o in g.op_nodes() if o.op == "cross_entropy"]
    assert op.outgoing[0] == "g * (softmax(z) - onehot(target)) / 4"
    got = evaluate(op.outgoing[0], {"g": 1.0, "z": z.data, "target": t}, onehot_classes=3)
    np.testing.assert_allclose(got, z.grad.data, rtol=1e-6)


def test_formula_strings_of_other_families():
    """Ops whose gradient cannot be written elementwise carry their vector-Jacobian product."""
    import nn
    rng = np.random.default_rng(2)
    conv = nn.Conv2d(1, 2, 3)
    x = ad.tensor(rng.standard_normal((1, 1, 5, 5)))
    loss = nn.functional.max_pool2d(conv(x), 2).sum()
    loss.backward(retain_graph=True)
    g = build_graph(loss, inputs={"x": x})
    ops = {o.op: o for o in g.op_nodes()}
    assert ops["conv"].outgoing[1:] == ["correlate(x, g)", "sum(g, over all but channels)"]
    assert ops["max_pool"].outgoing == ["g routed to each window's max"]
    assert all("g * g" not in f for o in g.op_nodes() for f in o.outgoing)
