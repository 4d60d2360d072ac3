"""DOT structure of the graph pictures (no graphviz program needed): nodes, edges, labels, clusters."""
import math
import re

import numpy as np
import pytest

import autodiff as ad
from autodiff import Value
from autodiff.viz import build_graph, chain_paths, local_formula, to_dot
from autodiff.viz.chain import PENDING, step_states

NODE = re.compile(r"^\s+(\w+) \[label=", re.M)
EDGE = re.compile(r"^\s+(\w+) -> (\w+)", re.M)


def nodes_of(src):
    return [n for n in NODE.findall(src) if n not in ("graph", "node", "edge")]


def edges_of(src):
    return EDGE.findall(src)


def label_of(src, node_id):
    m = re.search(rf"^\s+{node_id} \[label=\"((?:[^\"\\]|\\.)*)\"", src, re.M)
    return m.group(1)


@pytest.fixture
def expr():
    """c = tanh(a*b + a**2): a is used twice (fan-out), 6 values and 4 ops."""
    a, b = Value(0.7, label="a"), Value(-0.4, label="b")
    c = (a * b + a ** 2).tanh()
    c.label = "c"
    c.backward()
    return a, b, c


def test_value_forward_counts_and_labels(expr):
    a, b, c = expr
    src = to_dot(c)
    assert len(nodes_of(src)) == 10  # 6 values + 4 ops
    assert len(edges_of(src)) == 10  # 6 into ops (a twice) + 4 out of ops
    # hand-computed gradient: dc/da = (1 - tanh^2) * (b + 2a)
    t = math.tanh(0.7 * -0.4 + 0.49)
    ga = (1 - t * t) * (-0.4 + 1.4)
    la = label_of(src, "v0")
    assert "a" in la and "data 0.7000" in la and f"grad {ga:.4f}" in la
    assert f"data {t:.4f}" in src and "grad 1.0000" in src
    for op in ("*", "**2", "+", "tanh"):
        assert f'label="{op}"' in src


def test_value_fmt_and_data_flow_order(expr):
    a, b, c = expr
    src = to_dot(c, fmt="%.2f")
    assert "data 0.70" in src and "data 0.7000" not in src
    order = nodes_of(src)
    assert order.index("v0") < order.index("op_v2") < order.index("v2") < order.index("v5")


def test_value_backward_view_is_the_adjoint_graph(expr):
    a, b, c = expr
    src = to_dot(c, view="backward")
    ids = nodes_of(src)
    assert sum(i.startswith("g_") for i in ids) == 6  # one gradient per value
    assert sum(i.startswith("b_") for i in ids) == 4  # one backward per op
    assert ids.count("s_v0") == 1  # a is used twice: its gradient is a sum
    assert "sum of 2" in src
    t = math.tanh(0.7 * -0.4 + 0.49)
    assert f"= 1 - c^2 = {1 - t * t:.4f}" in src
    # the contribution into a through the multiplication: g * b
    g_mul = 1 - t * t
    assert f"g * b\\n= {g_mul:.4f} * -0.4000 = {g_mul * -0.4:.4f}" in src
    # every backward edge points from the output side to the input side
    assert all("dir=back" in line for line in src.splitlines() if "->" in line)


def test_both_view_has_two_clusters(expr):
    src = to_dot(expr[2], view="both")
    assert "subgraph cluster_forward" in src and "subgraph cluster_backward" in src
    assert len(nodes_of(src)) == 10 + 6 + 4 + 1


def test_tensor_forward_shows_names_shapes_dtype_grads():
    x = ad.tensor(np.arange(12.0).reshape(4, 3) / 10)  # float64 input, no grad
    w = ad.tensor(np.full((3, 2), 0.5), requires_grad=True)
    b = ad.tensor(np.zeros(2), requires_grad=True)
    with ad.scope("fc1"):
        h = (x @ w + b).tanh()
    loss = (h * h).mean()
    loss.backward()
    src = to_dot(loss, params={"fc1.weight": w, "fc1.bias": b})
    lw = [label_of(src, n) for n in nodes_of(src) if "fc1.weight" in label_of(src, n)][0]
    assert "(3, 2) float64" in lw
    assert f"grad mean {w.grad.data.mean():.3g}" in lw
    assert "(4, 2) float64" in src and "(4, 3)" not in src  # x is a constant: not kept after backward
    assert "subgraph cluster_f_fc1" in src
    fc1 = src[src.index("subgraph cluster_f_fc1"):]
    assert "matmul" in fc1 and "fc1.bias" in fc1
    for op in ("matmul", "add", "tanh", "mul", "mean"):
        assert f'label="{op}"' in src
    # ops: matmul add tanh mul mean; data: const x, w, b, 4 outputs + root
    g = build_graph(loss)
    assert len(g.op_nodes()) == 5 and len(g.data_nodes()) == 8


def test_tensor_values_of_intermediates_before_backward():
    x = ad.tensor([[0.5, -1.0]], requires_grad=True)
    y = x.tanh()
    z = (y * 2.0).sum()
    src = to_dot(z, tensors={"y": y})
    assert f"[{np.tanh(0.5):.4f}, {np.tanh(-1.0):.4f}]" in src  # y's values (named via tensors=)
    assert "y\\n(1, 2) float32" in src


def test_retained_grad_is_shown():
    x = ad.tensor([[1.0, 2.0]], requires_grad=True)
    y = x * 3.0
    y.retain_grad()
    (y * y).sum().backward()
    src = to_dot((y * y).sum())  # a fresh graph over the same y
    assert "grad [6.0000, 12.0000]" in src


def test_module_clusters_collapse_and_param_names():
    nn = pytest.importorskip("nn")
    ad.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 3))
    loss = model(ad.randn(8, 5)).sum()
    loss.backward()
    params = dict(model.named_parameters())
    src = to_dot(loss, params=params)
    for name in params:
        assert name in src
    assert src.count("subgraph cluster_f_") >= 3
    col = to_dot(loss, params=params, collapse=True)
    boxes = [n for n in nodes_of(col) if n.startswith("m_")]
    assert len(boxes) == 3  # Linear, ReLU, Linear
    assert "0.weight (4, 5)" in col and 'label="linear"' not in col


def test_node_limit_collapses_and_cuts_with_a_note():
    v = Value(0.1)
    for _ in range(200):
        v = v * 1.01 + 0.001
    src = to_dot(v, max_nodes=50)
    assert len([n for n in nodes_of(src) if n != "hidden"]) == 50
    assert "max_nodes=50" in src and "more nodes not drawn" in src
    assert len(nodes_of(to_dot(v, max_nodes=None))) == 6 * 200 + 1  # 2 constants, 2 ops, 2 results per step


def test_gradient_health_flags_and_thresholds():
    x = Value(1e-9, label="tiny")
    big = Value(2.0, label="big")
    y = x * 1e-3 + big * 1e4
    y.backward()
    src = to_dot(y, vanish=1e-2, explode=1e3)
    assert "vanishing grad" in src and "EXPLODING grad" in src
    assert "vanishing" not in to_dot(y, vanish=None, explode=None)
    t = ad.tensor([1.0, 0.0], requires_grad=True)
    with np.errstate(divide="ignore"):
        z = (t.log() * 1.0).sum()
    with np.errstate(divide="ignore"):
        z.backward()  # d log(0) = inf
    assert "NON-FINITE grad" in to_dot(z)
    assert "#ff5c5c" in to_dot(z)


def test_no_flags_before_backward():
    a = Value(1.0)
    assert "vanishing" not in to_dot(a * 2.0)  # grads are still 0: nothing computed yet


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_chain_paths_multiply_out_to_leaf_grad(seed):
    rng = np.random.default_rng(seed)
    w, x = Value(float(rng.normal()), label="w"), Value(float(rng.normal()), label="x")
    h1 = (w * x).tanh()
    h2 = (w + h1).relu() + w ** 2
    out = (h1 * h2 + w).tanh()
    out.backward()
    paths = chain_paths(out, w)
    assert len(paths) == 5  # via w*x (then h1 directly or through relu), w+h1, w**2, and the final +w
    total = sum(math.prod(f.value for f in p) for p in paths)
    assert total == pytest.approx(w.grad, rel=1e-12)
    eps = 1e-6  # and the gradient itself against a central difference
    def f(wv):
        ww = Value(wv)
        a = (ww * x.data).tanh()
        return ((a * ((ww + a).relu() + ww ** 2)) + ww).tanh().data
    assert w.grad == pytest.approx((f(w.data + eps) - f(w.data - eps)) / (2 * eps), rel=1e-6)
    src = to_dot(out, view="chain", leaf=w)
    assert "5 path(s)" in src and f"grad of w = {w.grad:.4f}" in src
    assert f"= {total:.4f}; grad" in src


def test_chain_errors():
    a, b = Value(1.0), Value(2.0)
    c = a * 3.0
    c.backward()
    with pytest.raises(ValueError, match="leaf="):
        to_dot(c, view="chain")
    with pytest.raises(KeyError, match="not part of this graph"):
        to_dot(c, view="chain", leaf=b)
    with pytest.raises(ValueError, match="view must be one of"):
        to_dot(c, view="sideways")
    with pytest.raises(TypeError, match="Value or of a Tensor"):
        to_dot(3.0)
    v = Value(0.5)
    for _ in range(12):
        v = v * v  # 2**12 paths
    with pytest.raises(ValueError, match="max_paths"):
        chain_paths(v, _first_leaf(v), max_paths=10)


def _first_leaf(v):
    while v._prev:
        v = v._prev[0]
    return v


def test_tensor_chain_view_lists_formulas():
    w = ad.tensor(np.ones((2, 2)), requires_grad=True)
    y = (ad.tensor(np.ones((3, 2))) @ w).tanh().sum()
    y.backward(retain_graph=True)
    src = to_dot(y, view="chain", leaf=w, params={"w": w})
    assert re.search(r'label="w\\n\(2, 2\) float64\\n\[1\.0000, 1\.0000, 1\.0000, 1\.0000\]\\ngrad \[', src)
    assert not re.search(r'label="n\d+\\n', src)  # named nodes, not n1, n2, ...
    assert "[matmul: (input 0)^T @ g]" in src and "[tanh: 1 - (tanh out)^2]" in src and "1 path(s)" in src


def test_steps_visit_every_value_in_reverse_order_and_accumulate(expr):
    a, b, c = expr
    g = build_graph(c)
    states = list(step_states(g))
    assert len(states) == 7 and states[-1][0] is None  # one frame per value, then the final one
    final = states.pop()[1]["grads"]
    assert all(final[n.id] == n.grad for n in g.data_nodes())
    assert states[0][0] == g.id_of(c)
    assert states[0][1]["grads"].get(g.id_of(a), PENDING) is PENDING
    for nid, state in states:  # when a node is processed its gradient is complete
        assert state["grads"][nid] == pytest.approx(g.nodes[nid].grad, rel=1e-12)
        assert nid in state["highlight"]
    # a's gradient arrives in two parts (fan-out): halfway it holds only one of them
    partial = [s["grads"].get(g.id_of(a)) for _, s in states]
    assert any(isinstance(p, float) and p != pytest.approx(a.grad) for p in partial)


def test_second_order_graph_renders_as_dot():
    x = ad.tensor(np.array([0.5, -1.5]), requires_grad=True)
    (gx,) = ad.grad((x ** 3).sum(), x, create_graph=True)
    z = gx.sum()
    src = to_dot(z, view="both")
    assert "pow" in src and "mul" in src
    z.backward()
    np.testing.assert_allclose(x.grad.data, 6 * x.data)  # d/dx sum(3 x^2)
    assert f"[{6 * 0.5:.4f}, {6 * -1.5:.4f}]" in to_dot(z, params={"x": x})


def test_local_formulas():
    names = {"args": ["x", "w"], "y": "y"}
    assert local_formula("tanh", 0, names) == "1 - y^2"
    assert local_formula("*", 0, names) == "w" and local_formula("mul", 1, names) == "x"
    assert local_formula("+", 1, names) == "1" and local_formula("exp", 0, names) == "y"
    assert local_formula("relu", 0, names) == "1[x > 0]" and local_formula("matmul", 0, names) is None
    assert local_formula("**3", 0, names) == "3*x^2" and local_formula("pow", 0, names) == "w*x^(w - 1)"
    assert local_formula("/", 1, {"args": ["x1*w1", "b"], "y": "q"}) == "-(x1*w1)/b^2"
    assert local_formula("mystery", 1, names) is None


def test_backward_view_shades_gradients_by_magnitude():
    a, b = Value(0.5, label="a"), Value(4.0, label="b")
    c = a * b  # dc/da = 4, dc/db = 0.5: a's gradient is the larger one
    c.backward()
    src = to_dot(c, view="backward")

    def green_share(node_id):
        fill = re.search(rf"^\s+g_{node_id} \[.*fillcolor=\"#(\w\w)(\w\w)(\w\w)\"", src, re.M).groups()
        return 255 - int(fill[0], 16)  # less red = more green

    assert green_share("v0") > green_share("v1")
    assert 'fillcolor="white"' not in src
    assert src.count('fillcolor="white"') == 0 and to_dot(c, view="backward", health=False).count(
        'fillcolor="white"') == 3


def test_micrograd_values_draw_too():
    micrograd = pytest.importorskip("micrograd.engine")
    a, b = micrograd.Value(2.0), micrograd.Value(-3.0)
    c = (a * b + a ** 2).relu()
    c.backward()
    src = to_dot(c, view="both")
    assert "data -6.0000" in src and "grad 1.0000" in src
    relu = [ln for ln in src.splitlines() if "ReLU backward" in ln][0]  # micrograd's operand order varies
    assert "1[(" in relu and "2^2" in relu and ("2*(-3)" in relu or "(-3)*2" in relu), relu
    assert len(chain_paths(c, a)) == 2
