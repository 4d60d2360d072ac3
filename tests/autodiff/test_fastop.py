"""The C accelerator of the binary operators records exactly what the Python operator records.

``Tensor.__mul__`` (and +, -, /) is ``autodiff._fastop.BinaryOp`` when the extension was built; its
``.python`` is the pure-Python operator. Each case below builds the same op both ways from the same
inputs and compares every attribute of the recorded Node and output Tensor, then the gradients.
"""
import contextlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import autodiff as ad
from autodiff import function
from autodiff.function import Node

fastop = pytest.importorskip("autodiff._fastop") if function._fastop is not None else None
pytestmark = pytest.mark.skipif(fastop is None, reason="C accelerator not built or disabled")

OPS = {"add": "__add__", "sub": "__sub__", "mul": "__mul__", "div": "__truediv__"}
ROOT = Path(__file__).resolve().parents[2]


class TwoOut(ad.Function):
    """Two outputs, so an input can come from output 1 of a node."""

    @staticmethod
    def forward(ctx, x):
        return x * 2.0, x + 1.0

    @staticmethod
    def backward(ctx, g0, g1):
        return 2.0 * g0 + g1


def _inputs(kind, rng):
    """Fresh (a, b) Tensors for one input pattern (each call makes new leaves and new nodes)."""
    f32 = np.float32
    x = ad.Tensor(rng.standard_normal((3, 4)).astype(f32), requires_grad=True)
    c = ad.Tensor(rng.uniform(0.5, 1.5, (3, 4)).astype(f32))
    if kind == "leaf*const":
        return x, c
    if kind == "const*leaf":
        return c, x
    if kind == "leaf*leaf":
        return x, ad.Tensor(rng.uniform(0.5, 1.5, (3, 4)).astype(f32), requires_grad=True)
    if kind == "node*const":
        return x.exp(), c
    if kind == "node*node":
        return x.exp(), x.sin() + 2.0
    if kind == "same":
        y = x.tanh()
        return y, y
    if kind == "broadcast":
        return x, ad.Tensor(rng.uniform(0.5, 1.5, (4,)).astype(f32), requires_grad=True)
    if kind == "broadcast_node":
        return ad.Tensor(rng.uniform(0.5, 1.5, (4,)).astype(f32), requires_grad=True).exp(), x * 1.0
    if kind == "mixed_dtype":
        return x, ad.Tensor(rng.uniform(0.5, 1.5, (3, 4)), requires_grad=True)  # float64
    if kind == "second_output":
        return TwoOut.apply(x)[1], TwoOut.apply(x)[0]
    if kind == "zero_d":
        return (ad.Tensor(np.array(2.0, f32), requires_grad=True),
                ad.Tensor(np.array(3.0, f32), requires_grad=True))
    raise AssertionError(kind)


KINDS = ["leaf*const", "const*leaf", "leaf*leaf", "node*const", "node*node", "same", "broadcast",
         "broadcast_node", "mixed_dtype", "second_output", "zero_d"]


def _record(op_name, kind, use_c, scope=""):
    rng = np.random.default_rng(7)
    a, b = _inputs(kind, rng)
    uses_before = [t._node._uses if t._node is not None else None for t in (a, b)]
    operator = getattr(ad.Tensor, OPS[op_name])
    if not use_c:
        operator = operator.python
    with ad.scope(scope) if scope else contextlib.nullcontext():
        out = operator(a, b)
    uses_after = [t._node._uses if t._node is not None else None for t in (a, b)]
    return a, b, out, uses_before, uses_after


def _edge_key(e, a, b):
    """An edge described relative to the inputs, so two separately built graphs compare."""
    if e is None:
        return None
    if type(e) is tuple:
        node, idx = e
        return ("node", node.fn, idx, node is (a._node if a._node is not None else None))
    if type(e) is Node:
        return ("node", e.fn, 0, e is a._node, e is b._node)
    return ("leaf", e is a, e is b)


def _describe(a, b, out, uses_before, uses_after):
    node = out._node
    saved = node._saved
    desc = {
        "fn": node.fn,
        "edges": tuple(_edge_key(e, a, b) for e in node._next),
        "input_meta": node.input_meta,
        "output_meta": node.output_meta,
        "needs_input_grad": node.needs_input_grad,
        "scope": node.scope,
        "uses": node._uses,
        "producer_uses": (uses_before, uses_after),
        "saved": tuple(("a" if s is a.data else "b" if s is b.data else "other") for s in saved),
        "out_type": type(out.data),
        "out": out.data.copy(),
        "tensor": (out.grad, out._vbox, out._hooks, out.name, out._out_idx, out._requires_grad,
                   out.is_leaf, type(out)),
    }
    if saved:
        desc["epoch"] = node._epoch == function._clock[0]
        desc["inputs_for_graph"] = tuple(t is a or t is b for t in node._inputs_for_graph), \
            tuple(t is x for t, x in zip(node._inputs_for_graph, (a, b)))
        desc["out_saved"] = node._out_saved
    else:
        desc["epoch"] = desc["inputs_for_graph"] = desc["out_saved"] = None
    return desc


def _assert_same(d_c, d_py):
    assert d_c.keys() == d_py.keys()
    for key in d_c:
        if key == "out":
            np.testing.assert_array_equal(d_c[key], d_py[key])
        elif key == "input_meta" or key == "output_meta":
            assert d_c[key] == d_py[key], key
        else:
            assert d_c[key] == d_py[key], (key, d_c[key], d_py[key])


def test_operators_are_the_accelerated_ones():
    for name in OPS.values():
        op = getattr(ad.Tensor, name)
        assert isinstance(op, fastop.BinaryOp)
        assert callable(op.python) and not isinstance(op.python, fastop.BinaryOp)


@pytest.mark.parametrize("op_name", list(OPS))
@pytest.mark.parametrize("kind", KINDS)
def test_same_graph_as_python(op_name, kind):
    d_c = _describe(*_record(op_name, kind, True))
    d_py = _describe(*_record(op_name, kind, False))
    _assert_same(d_c, d_py)


@pytest.mark.parametrize("op_name", list(OPS))
def test_same_graph_in_a_scope(op_name):
    d_c = _describe(*_record(op_name, "node*node", True, scope="block.layer"))
    d_py = _describe(*_record(op_name, "node*node", False, scope="block.layer"))
    assert d_c["scope"] == "block.layer"
    _assert_same(d_c, d_py)


@pytest.mark.parametrize("op_name", list(OPS))
@pytest.mark.parametrize("kind", ["leaf*leaf", "same", "broadcast", "mixed_dtype", "second_output"])
def test_same_gradients_as_python(op_name, kind):
    grads = []
    for use_c in (True, False):
        a, b, out, _, _ = _record(op_name, kind, use_c)
        leaves = [t for t in (a, b) if t.is_leaf and t.requires_grad]
        (out * out).sum().backward()
        grads.append([t.grad.numpy().copy() for t in leaves])
    for gc_, gp in zip(*grads):
        np.testing.assert_array_equal(gc_, gp)


def test_chain_gradient_matches_numpy():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((16, 16))
    c = rng.uniform(0.9, 1.1, (16, 16))
    d = rng.standard_normal((16, 16))
    t = ad.Tensor(x, requires_grad=True)
    y = t
    for _ in range(50):
        y = y * ad.Tensor(c) + ad.Tensor(d)
    y.sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), c ** 50, rtol=1e-12)


def test_deferred_cases_behave_as_python():
    x = ad.Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    # shape error: the Python operator's message (names the op and both shapes)
    with pytest.raises(ValueError, match=r"mul: incompatible shapes \(2, 3\), \(4,\)"):
        x * ad.Tensor(np.ones(4))
    # Python scalars, no_grad and constants take the Python operator; results as before
    np.testing.assert_array_equal((x * 2.0).numpy(), x.numpy() * 2.0)
    with ad.no_grad():
        y = x * x
    assert y.grad_fn is None and not y.requires_grad
    z = ad.Tensor(np.ones(3)) + ad.Tensor(np.ones(3))
    assert z.grad_fn is None
    # an in-place change of a saved input is still caught at backward
    c = ad.Tensor(np.ones((2, 3)))
    out = x * c
    with ad.no_grad():
        c += 1.0
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        out.sum().backward()


def test_tensor_subclass_records_as_python():
    """A Tensor subclass (nn.Parameter is one) takes the C path and gets the Python path's graph."""
    class MyTensor(ad.Tensor):
        pass

    descs = []
    for use_c in (True, False):
        a = MyTensor(np.arange(3.0), requires_grad=True)
        b = ad.Tensor(np.full(3, 2.0), requires_grad=True).exp()
        op = ad.Tensor.__mul__ if use_c else ad.Tensor.__mul__.python
        out = op(a, b)
        descs.append(_describe(a, b, out, None, None))
        out.sum().backward()
        np.testing.assert_allclose(a.grad.numpy(), np.full(3, np.exp(2.0)))
    _assert_same(*descs)


def test_binary_op_object_binds_like_a_method():
    x = ad.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    bound = x.__mul__
    np.testing.assert_array_equal(bound(x).numpy(), [1.0, 4.0])
    np.testing.assert_array_equal(ad.Tensor.__add__(x, x).numpy(), [2.0, 4.0])
    assert "mul" in repr(ad.Tensor.__mul__).lower()


def test_engine_tests_pass_without_the_accelerator():
    """The pure-Python operators (AUTODIFF_PURE_PYTHON=1) pass the engine's graph and gradient tests."""
    env = dict(os.environ, AUTODIFF_PURE_PYTHON="1")
    code = "import autodiff.function as f, autodiff; print(f._fastop is None, type(autodiff.Tensor.__mul__).__name__)"
    probe = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert probe.stdout.split() == ["True", "function"], probe.stderr
    files = ["tests/autodiff/test_graph.py", "tests/autodiff/test_views.py",
             "tests/autodiff/test_backward_schedule.py", "tests/autodiff/test_tensor_basics.py"]
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *files],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]


# --- the backward loop: backward._run_plain in Python and _fastop.run_plain in C -----------------

@pytest.fixture(params=["c", "python"])
def loop(request, monkeypatch):
    """Run backward with the C loop or the Python loop (the C one is the default when built)."""
    import autodiff.backward as bw
    if request.param == "python":
        monkeypatch.setattr(bw, "_fastop", None)
    return request.param


class WrongShape(ad.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 1.0

    @staticmethod
    def backward(ctx, g):
        return g.sum(axis=0)


class OneGradForTwoInputs(ad.Function):
    """backward may leave out trailing gradients of inputs that get none (here: a constant)."""

    @staticmethod
    def forward(ctx, x, c):
        return x * c

    @staticmethod
    def backward(ctx, g):
        return (g * 3.0,)


class TooManyGrads(ad.Function):
    @staticmethod
    def forward(ctx, x):
        return x + 0.0

    @staticmethod
    def backward(ctx, g):
        return g, g


class Float64Grad(ad.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2.0

    @staticmethod
    def backward(ctx, g):
        return (g * 2.0).astype(np.float64)


def test_loop_shape_error_names_the_op(loop):
    x = ad.Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"wrongshape: backward returned a gradient of shape \(3,\) "
                                           r"for an input of shape \(2, 3\)"):
        WrongShape.apply(x).sum().backward()
    assert x.grad is None


def test_loop_pads_and_refuses_gradient_counts(loop):
    x = ad.Tensor(np.ones(3), requires_grad=True)
    OneGradForTwoInputs.apply(x, 5.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full(3, 3.0))
    with pytest.raises(RuntimeError, match="toomanygrads: backward returned 2 gradients but the op has 1"):
        TooManyGrads.apply(x).sum().backward()


def test_loop_casts_gradients_to_the_input_dtype(loop):
    x = ad.Tensor(np.ones(3, np.float32), requires_grad=True)
    (Float64Grad.apply(x * 1.0) * 1.0).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.numpy(), np.full(3, 2.0, np.float32))


def test_loop_multi_output_unused_output_and_fan_in(loop):
    x = ad.Tensor(np.arange(3.0), requires_grad=True)
    a, b = TwoOut.apply(x)
    (a * 5.0).sum().backward()  # b unused: its gradient is zeros
    np.testing.assert_array_equal(x.grad.numpy(), np.full(3, 10.0))
    x.grad = None
    a, b = TwoOut.apply(x)
    (a * b + a).sum().backward()  # both outputs, fan-in at the node and at x
    # d/dx sum(2x*(x+1) + 2x) = 2*(2x+1) + 2
    np.testing.assert_allclose(x.grad.numpy(), 2 * (2 * np.arange(3.0) + 1) + 2)


def test_loop_hooks_retain_grad_and_retain_graph(loop):
    x = ad.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x * x
    y.retain_grad()
    seen = []
    y.register_hook(lambda g: seen.append(g.numpy().copy()) or g * 10.0)
    a, b = TwoOut.apply(y)
    b.register_hook(lambda g: g * 0.0)
    z = (a + b).sum()
    z.backward(retain_graph=True)
    np.testing.assert_array_equal(seen[0], [2.0, 2.0])  # d z/d y = 2*1 + 0 (b's hook zeroed its 1)
    np.testing.assert_array_equal(y.grad.numpy(), [20.0, 20.0])  # after y's hook (x10)
    np.testing.assert_array_equal(x.grad.numpy(), [40.0, 80.0])
    z.backward()  # retained graph: a second pass accumulates
    np.testing.assert_array_equal(x.grad.numpy(), [80.0, 160.0])
    with pytest.raises(RuntimeError, match="retain_graph"):
        z.backward()


def test_loop_fan_out_chain_matches_numpy(loop):
    rng = np.random.default_rng(5)
    xv = rng.standard_normal((4, 4))
    x = ad.Tensor(xv, requires_grad=True)
    h = x
    for _ in range(20):
        h = h * 0.9 + h.tanh()  # every h used twice: nodes wait in the heap
    h.sum().backward()
    # reference: the same recursion by hand, derivative accumulated with the chain rule
    hv, ds = xv, np.ones_like(xv)
    for _ in range(20):
        ds = ds * (0.9 + (1 - np.tanh(hv) ** 2))
        hv = hv * 0.9 + np.tanh(hv)
    np.testing.assert_allclose(x.grad.numpy(), ds, rtol=1e-12)
