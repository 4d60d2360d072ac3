"""Scalar engine ``Value``: gradients vs central finite differences, graph behaviour, local derivatives.

Every gradient is checked against central differences of a float64 reference function written
with ``math`` (so the forward value is checked too), never against hard-coded numbers.
"""
import math
import random
import sys

import pytest

from autodiff.value import Value, topological_order


def central_diff(f, xs, h=1e-6):
    """d f / d xs[i] by central differences, in float64."""
    grads = []
    for i in range(len(xs)):
        up = list(xs)
        down = list(xs)
        up[i] += h
        down[i] -= h
        grads.append((f(*up) - f(*down)) / (2 * h))
    return grads


def sigmoid_ref(x):
    return 1.0 / (1.0 + math.exp(-x))


# (name, Value function, float reference, inputs): inputs away from kinks (ReLU at 0) and poles.
CASES = [
    ("add", lambda a, b: a + b, lambda a, b: a + b, (1.3, -0.7)),
    ("sub", lambda a, b: a - b, lambda a, b: a - b, (1.3, -0.7)),
    ("mul", lambda a, b: a * b, lambda a, b: a * b, (1.3, -0.7)),
    ("div", lambda a, b: a / b, lambda a, b: a / b, (1.3, -0.7)),
    ("neg", lambda a: -a, lambda a: -a, (0.8,)),
    ("pow_int", lambda a: a ** 3, lambda a: a ** 3, (-1.2,)),
    ("pow_half", lambda a: a ** 0.5, lambda a: a ** 0.5, (2.1,)),
    ("pow_neg", lambda a: a ** -2, lambda a: a ** -2, (1.7,)),
    ("pow_zero", lambda a: a ** 0, lambda a: a ** 0, (1.7,)),
    ("pow_value", lambda a, w: a ** w, lambda a, w: a ** w, (1.9, 0.6)),
    ("pow_value_negexp", lambda a, w: a ** w, lambda a, w: a ** w, (0.4, -1.3)),
    ("relu_pos", lambda a: a.relu(), lambda a: max(a, 0.0), (0.9,)),
    ("relu_neg", lambda a: a.relu(), lambda a: max(a, 0.0), (-0.9,)),
    ("tanh", lambda a: a.tanh(), math.tanh, (0.6,)),
    ("sigmoid", lambda a: a.sigmoid(), sigmoid_ref, (0.6,)),
    ("sigmoid_negative", lambda a: a.sigmoid(), sigmoid_ref, (-3.1,)),
    ("exp", lambda a: a.exp(), math.exp, (0.6,)),
    ("log", lambda a: a.log(), math.log, (0.6,)),
    ("radd", lambda a: 2 + a, lambda a: 2 + a, (0.6,)),
    ("rsub", lambda a: 2 - a, lambda a: 2 - a, (0.6,)),
    ("rmul", lambda a: 2.5 * a, lambda a: 2.5 * a, (0.6,)),
    ("rdiv", lambda a: 2 / a, lambda a: 2 / a, (0.6,)),
    ("rpow", lambda a: 2 ** a, lambda a: 2 ** a, (0.6,)),
    ("large_chain_grads", lambda a: (a * 7.0 - 3.0) * 8.0 / 0.5, lambda a: (a * 7.0 - 3.0) * 8.0 / 0.5, (0.6,)),
    ("sub_number", lambda a: a - 1.5, lambda a: a - 1.5, (0.6,)),
    ("div_number", lambda a: a / 4, lambda a: a / 4, (0.6,)),
    ("composite", lambda a, b: (a * b + a.exp() / (1 + b ** 2)).tanh() - (b - a).sigmoid().log(),
     lambda a, b: math.tanh(a * b + math.exp(a) / (1 + b ** 2)) - math.log(sigmoid_ref(b - a)), (0.3, -0.8)),
]


@pytest.mark.parametrize("name, f, ref, xs", CASES, ids=[c[0] for c in CASES])
def test_forward_and_grad_vs_finite_differences(name, f, ref, xs):
    values = [Value(x) for x in xs]
    out = f(*values)
    assert isinstance(out, Value)
    assert out.data == pytest.approx(ref(*xs), rel=1e-12, abs=1e-12)
    out.backward()
    expected = central_diff(ref, xs)
    for v, g in zip(values, expected):
        assert type(v.grad) is float
        assert v.grad == pytest.approx(g, rel=1e-6, abs=1e-8), name


def test_data_and_grad_are_python_floats():
    np = pytest.importorskip("numpy")
    v = Value(np.float32(1.5))
    w = Value(3)
    assert type(v.data) is float and type(w.data) is float and type(v.grad) is float
    assert type((v * w).data) is float
    assert Value(np.int64(2)).data == 2.0


def test_fan_out_same_value_used_twice():
    a = Value(3.0)
    b = a + a  # the classic bug when gradients are assigned instead of accumulated
    b.backward()
    assert a.grad == 2.0
    x = Value(-1.5)
    y = x * x + x * 4.0 + x.tanh()  # dy/dx = 2x + 4 + 1 - tanh(x)^2
    y.backward()
    assert x.grad == pytest.approx(2 * -1.5 + 4 + 1 - math.tanh(-1.5) ** 2, rel=1e-12)


def test_diamond_graph_matches_finite_differences():
    def ref(a):
        b = a * 2.0
        c = math.tanh(b)
        d = b ** 2
        return c * d + b

    a = Value(0.35)
    b = a * 2.0
    c = b.tanh()
    d = b ** 2
    out = c * d + b
    out.backward()
    assert a.grad == pytest.approx(central_diff(ref, [0.35])[0], rel=1e-7)


def test_pow_with_differentiable_exponent_hand_values():
    a, w = Value(2.0), Value(3.0)
    out = a ** w
    assert out._op == "**" and out._prev == (a, w)
    out.backward()
    assert out.data == 8.0
    assert a.grad == pytest.approx(3.0 * 2.0 ** 2)  # w a^(w-1)
    assert w.grad == pytest.approx(8.0 * math.log(2.0))  # a^w ln a
    zero = Value(0.0)
    (zero ** Value(2.0)).backward()  # d/dw 0**w is 0 for w > 0 (no log(0) blow-up)
    assert zero.grad == 0.0
    with pytest.raises(ValueError, match=r"Value.__pow__: -2.0 \*\* 0.5"):
        Value(-2.0) ** Value(0.5)
    with pytest.raises(ValueError, match="not a real number"):
        Value(-2.0) ** 0.5


def test_reflected_ops_keep_written_operand_order():
    a = Value(4.0)
    for expr, op in ((lambda: 2 + a, "+"), (lambda: 2 - a, "-"), (lambda: 2 * a, "*"),
                     (lambda: 2 / a, "/"), (lambda: 2 ** a, "**")):
        out = expr()
        const, other = out._prev
        assert out._op == op and other is a and const.data == 2.0 and const._prev == ()
    assert (2 - a).data == -2.0 and (2 / a).data == 0.5 and (2 ** a).data == 16.0


def test_local_grads_are_stored_in_forward():
    a, b = Value(0.7), Value(-1.9)
    t = a.tanh()
    assert t._op == "tanh" and t._local_grads == (1 - math.tanh(0.7) ** 2,)
    m = a * b
    assert m._op == "*" and m._prev == (a, b) and m._local_grads == (-1.9, 0.7)
    d = a / b
    assert d._local_grads == pytest.approx((1 / -1.9, -0.7 / (-1.9) ** 2), rel=1e-15)
    assert (a + b)._local_grads == (1.0, 1.0) and (a - b)._local_grads == (1.0, -1.0)
    p = b ** 2
    assert p._op == "**2" and p._local_grads == (2 * -1.9,)
    s = a.sigmoid()
    assert s._local_grads[0] == pytest.approx(sigmoid_ref(0.7) * (1 - sigmoid_ref(0.7)), rel=1e-15)
    assert a.exp()._local_grads == (math.exp(0.7),) and a.log()._local_grads == (1 / 0.7,)
    assert a.relu()._local_grads == (1.0,) and b.relu()._local_grads == (0.0,)
    assert b.relu().data == 0.0 and (-a)._op == "neg" and (-a)._local_grads == (-1.0,)
    assert a._prev == () and a._local_grads == () and a._op == ""


def test_deep_chain_100k_without_recursion_error():
    limit = sys.getrecursionlimit()
    c = 1.00001
    x = Value(0.5)
    y = x
    for _ in range(100_000):
        y = y * c
    y = y + 1.0
    y.backward()
    assert sys.getrecursionlimit() == limit  # default limit, untouched
    assert x.grad == pytest.approx(c ** 100_000, rel=1e-9)
    order = topological_order(y)
    assert len(order) == 200_003 and order[0] is x and order[-1] is y
    del y, order  # freeing a 100k-deep chain must not crash either


def test_repeated_backward_accumulates_exactly():
    a, b = Value(0.4), Value(-1.1)
    out = ((a * b).tanh() + a ** 2) * 3.0  # several ops deep
    out.backward()
    once = (a.grad, b.grad)
    out.backward()
    assert (a.grad, b.grad) == pytest.approx((2 * once[0], 2 * once[1]), rel=1e-15)
    # a fresh graph over the same leaves adds on top, as micrograd does without zero_grad
    (a * 5.0).backward()
    assert a.grad == pytest.approx(2 * once[0] + 5.0, rel=1e-15)
    a.grad = 0  # micrograd's zero_grad writes an int 0
    (a * 5.0).backward()
    assert a.grad == 5.0


def test_backward_seed_gradient():
    a = Value(1.5)
    (a * a).backward(gradient=0.5)
    assert a.grad == pytest.approx(0.5 * 2 * 1.5)
    inner = a * 2.0
    inner.grad = 4.0
    with pytest.raises(TypeError, match="Value.backward: gradient must be a real number, got str"):
        (inner + 1.0).backward(gradient="1")
    assert (a.grad, inner.grad) == (pytest.approx(1.5), 4.0)  # unchanged


def test_topological_order_matches_recursive_reference():
    def build_topo(root):  # micrograd's recursive walk, over ordered children
        topo, visited = [], set()

        def visit(v):
            if v not in visited:
                visited.add(v)
                for child in v._prev:
                    visit(child)
                topo.append(v)
        visit(root)
        return topo

    rng = random.Random(5)
    leaves = [Value(rng.uniform(0.5, 1.5), label=f"x{i}") for i in range(5)]
    nodes = list(leaves)
    for _ in range(60):  # a random DAG with lots of sharing
        a, b = rng.choice(nodes), rng.choice(nodes)
        op = rng.choice(["+", "*", "-", "tanh"])
        nodes.append({"+": lambda: a + b, "*": lambda: a * b, "-": lambda: a - b, "tanh": lambda: a.tanh()}[op]())
    root = nodes[-1] + nodes[-2] + nodes[-7]
    order = topological_order(root)
    assert order == build_topo(root)
    position = {id(v): i for i, v in enumerate(order)}
    assert len(position) == len(order)
    assert all(position[id(c)] < position[id(v)] for v in order for c in v._prev)


def test_hash_is_identity_and_values_work_in_sets():
    a, b = Value(1.0), Value(1.0)
    assert a != b and a == a and len({a, b, a}) == 2
    assert hash(a) == object.__hash__(a)


def test_repr_label_and_micrograd_constructor():
    v = Value(2.0, label="w")
    assert repr(v) == "Value(data=2.0, grad=0.0)"
    assert v.label == "w" and Value(1.0).label == ""
    import weakref
    assert weakref.ref(v)() is v
    v.label = "renamed"
    v.note = "anything"  # ad-hoc attributes work, as on micrograd's Value
    assert v.label == "renamed" and v.note == "anything"


def test_hand_built_node_with_backward_closure():
    # micrograd lecture style: a new op written outside the class with a _backward closure
    x = Value(0.3)
    t = math.sin(x.data)
    out = Value(t, (x,), "sin", label="s")
    assert out._prev == (x,) and out._op == "sin" and out._local_grads is None

    def _backward():
        x.grad += math.cos(x.data) * out.grad
    out._backward = _backward
    (out * 2.0).backward()
    assert x.grad == pytest.approx(2 * math.cos(0.3), rel=1e-15)
    bare = Value(1.0, (x,), "mystery")
    with pytest.raises(RuntimeError, match="'mystery'.*_backward"):
        (bare * 1.0).backward()


def test_bad_input_errors_name_the_op():
    with pytest.raises(TypeError, match=r"Value\(data\).*str"):
        Value("1.5")
    with pytest.raises(TypeError, match=r"children must be Values, got float"):
        Value(1.0, (Value(2.0), 3.0), "+")
    with pytest.raises(TypeError):
        Value(1.0) + "a"
    with pytest.raises(TypeError):
        "a" * Value(1.0)
    with pytest.raises(ZeroDivisionError, match=r"Value.__truediv__: division by zero \(1.0 / 0.0\)"):
        Value(1.0) / 0
    with pytest.raises(ValueError, match=r"Value.log: log\(0.0\)"):
        Value(0.0).log()
    with pytest.raises(OverflowError, match=r"Value.exp: exp\(1000.0\)"):
        Value(1000.0).exp()
    with pytest.raises(ZeroDivisionError, match=r"Value.__pow__"):
        Value(0.0) ** -1


def test_manual_backward_node_by_node_as_in_micrograds_lecture():
    x1, w1, x2, w2, b = Value(2.0), Value(-3.0), Value(0.0), Value(1.0), Value(6.8813735870195432)
    x1w1 = x1 * w1
    x2w2 = x2 * w2
    n = x1w1 + x2w2 + b
    o = n.tanh()
    o.grad = 1.0
    for node in (o, n, n._prev[0], x1w1, x2w2):  # the lecture's hand-driven chain rule
        node._backward()
    b._backward()  # a leaf: nothing to do
    manual = [v.grad for v in (x1, w1, x2, w2, b)]
    for v in (x1, w1, x2, w2, b):
        v.grad = 0.0
    o.backward()
    assert manual == [v.grad for v in (x1, w1, x2, w2, b)]
    local = 1 - math.tanh(n.data) ** 2
    assert w1.grad == pytest.approx(x1.data * local, rel=1e-12)


def test_grad_none_counts_as_zero():
    a = Value(1.5)
    a.grad = None  # PyTorch's zero_grad(set_to_none=True) habit
    (a * a).backward()
    assert a.grad == 3.0


def test_failed_backward_leaves_every_grad_unchanged():
    x, y = Value(0.5), Value(2.0)
    x.grad, y.grad = 0.25, -1.0
    inner = x * y
    inner.grad = 7.0  # left over from an earlier pass

    def broken():
        raise ArithmeticError("boom")
    odd = Value(inner.data, (inner,), "odd")
    odd._backward = broken
    root = odd * y + x
    with pytest.raises(ArithmeticError, match="boom"):
        root.backward()
    assert (x.grad, y.grad, inner.grad, odd.grad, root.grad) == (0.25, -1.0, 7.0, 0.0, 0.0)
