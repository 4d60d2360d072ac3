"""The compiled recorder and loop (autodiff/_engine.c) against the Python ones they compile.

For each case the same ops run twice from the same inputs: once with ``function.record`` and
``backward._loop`` (Python), once with ``_engine.apply`` and ``_engine.loop``. The graphs they record
must be the same node by node (Function, edges, shapes and dtypes, use counts, saved values and their
sources, scope, traced arguments), the tensors the same slot by slot, and the gradients the same.
The whole suite also runs with AUTODIFF_PURE_PYTHON=1 (see .ci/run); this file is what ties the two.
"""
import subprocess
import sys

import numpy as np
import pytest

import autodiff as ad
from autodiff import backward, function
from autodiff.graph import Node
from autodiff.ops import elementwise

_engine = pytest.importorskip("autodiff._engine")

TENSOR_SLOTS = ("data", "grad", "_requires_grad", "_out_idx", "_vbox", "_hooks", "name")


@pytest.fixture(params=["python", "compiled"])
def engine(request, monkeypatch):
    """Run the test with one recorder and loop."""
    if request.param == "python":
        monkeypatch.setattr(ad.Function, "apply", classmethod(function.record))
        monkeypatch.setattr(backward, "_engine", None)
    else:
        monkeypatch.setattr(ad.Function, "apply", classmethod(_engine.apply))
        monkeypatch.setattr(backward, "_engine", _engine)
    return request.param


def _inputs(seed=0):
    rng = np.random.default_rng(seed)
    x = ad.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    w = ad.tensor(rng.standard_normal((4, 2)), requires_grad=True)
    c = ad.tensor(rng.uniform(1, 2, (3, 4)))
    return x, w, c


def _program(x, w, c):
    """A bit of everything the recorder handles: tensors, arrays, numbers, reflected operators,
    kwargs, multi-output, views, ops that save their output, a constant branch, integer results."""
    y = x * c + 2.0
    y = 1.5 - y / (c + 1)
    z = y.exp()                       # saves its output
    v = z.reshape(4, 3).t()           # views
    s = v.sum(dim=0, keepdim=True)    # kwargs
    m, idx = x.max(dim=1)             # two outputs, one an integer tensor
    h = (x @ w).tanh() * np.ones((1, 2))
    parts = ad.split(y, 2, dim=1)     # multi-output through a view op
    with ad.no_grad():
        k = x * 3
    loss = s.mean() + m.sum() + h.pow(2).sum() + parts[1].abs().sum() + (k * x).sum() + (idx * 0).sum()
    return loss, [y, z, v, s, m, idx, h, parts[0], parts[1], k]


def _node_signature(node, seen, leaves):
    """Everything a node records, with leaves and nodes named by their order of discovery."""
    ctx = node.ctx
    edges = []
    for e in node.next:
        if e is None:
            edges.append(None)
        elif type(e) is Node:
            edges.append(("node", _node_id(e, seen), 0))
        elif type(e) is tuple:
            edges.append(("node", _node_id(e[0], seen), e[1]))
        else:
            edges.append(("leaf", leaves.setdefault(id(e), len(leaves))))
    saved = ctx._saved
    return dict(fn=node.fn, edges=edges, input_meta=node.input_meta, output_meta=node.output_meta,
                scope=node.scope, uses=node.uses, needs=ctx.needs_input_grad,
                saved=None if saved is None else [np.asarray(a).tolist() if isinstance(a, np.ndarray) else a
                                                  for a in saved],
                sources=ctx.saved_sources() if saved else (), saved_outputs=getattr(ctx, "_saved_outputs", None),
                free=sorted(getattr(ctx, "__dict__", {})))


def _node_id(node, seen):
    if node not in seen:
        seen[node] = len(seen)
    return seen[node]


def _graph(root):
    seen, leaves, out, todo = {}, {}, {}, [root]
    while todo:
        node = todo.pop()
        i = _node_id(node, seen)
        if i in out:
            continue
        out[i] = _node_signature(node, seen, leaves)
        todo.extend(e for e, _ in node.next_functions if type(e) is Node)
    return out


def _record_both(make_inputs, program):
    graphs = {}
    for which in ("python", "compiled"):
        mp = pytest.MonkeyPatch()
        mp.setattr(ad.Function, "apply", classmethod(function.record if which == "python" else _engine.apply))
        try:
            inputs = make_inputs()
            loss, outs = program(*inputs)
            graphs[which] = (loss, outs, inputs, _graph(loss.grad_fn))
        finally:
            mp.undo()
    return graphs


def test_both_record_the_same_graph():
    graphs = _record_both(_inputs, _program)
    (lp, op, _, gp), (lc, oc, _, gc) = graphs["python"], graphs["compiled"]
    assert gp.keys() == gc.keys()
    for i in gp:
        assert gp[i] == gc[i], f"node {i} ({gp[i]['fn'].__name__}) differs"
    for a, b in zip([lp] + op, [lc] + oc):
        assert type(a) is type(b)
        for slot in TENSOR_SLOTS:
            va, vb = getattr(a, slot), getattr(b, slot)
            if isinstance(va, np.ndarray):
                assert va.dtype == vb.dtype and va.shape == vb.shape
                np.testing.assert_array_equal(va, vb)
            elif slot == "_vbox":
                assert (va is None) == (vb is None)
            else:
                assert va == vb, slot
        assert (a.grad_fn is None) == (b.grad_fn is None)
        assert getattr(a, "_base", None) is None or getattr(b, "_base", None) is not None


def test_both_record_the_same_trace():
    def traced(*inputs):
        with ad.tracing():
            return _program(*inputs)

    graphs = _record_both(_inputs, traced)
    for which in ("python", "compiled"):
        loss = graphs[which][0]
        assert loss.grad_fn.inputs is not None and loss.grad_fn.kwargs == {}
    sums = [o.grad_fn for o in (graphs["python"][1][3], graphs["compiled"][1][3])]
    assert sums[0].kwargs == sums[1].kwargs
    assert [type(a) for a in sums[0].inputs] == [type(a) for a in sums[1].inputs]
    assert [a for a in sums[0].inputs[1:]] == [a for a in sums[1].inputs[1:]]  # dim, keepdim


@pytest.mark.parametrize("retain", [False, True])
def test_both_loops_give_the_same_gradients(retain):
    grads = {}
    for which, loop_engine in (("python", None), ("compiled", _engine)):
        mp = pytest.MonkeyPatch()
        mp.setattr(backward, "_engine", loop_engine)
        try:
            x, w, c = _inputs()
            loss, outs = _program(x, w, c)
            outs[0].retain_grad()
            seen = []
            outs[2].register_hook(lambda g: seen.append(g.data.copy()) or g * 2)
            loss.backward(retain_graph=retain)
            grads[which] = (x.grad.data, w.grad.data, outs[0].grad.data, seen[0], loss.grad_fn.freed)
            if retain:
                gx, = ad.grad(loss, [x])
                grads[which] += (gx.data,)
        finally:
            mp.undo()
    for a, b in zip(grads["python"], grads["compiled"]):
        np.testing.assert_array_equal(a, b)


def test_both_loops_second_derivatives(engine):
    x = ad.tensor(np.linspace(-1, 1, 5), requires_grad=True)
    y = (x * x * x).sum() + (x.sin() * x).sum()
    g, = ad.grad(y, x, create_graph=True)
    h, = ad.grad(g.sum(), x)
    xs = np.linspace(-1, 1, 5)
    np.testing.assert_allclose(g.data, 3 * xs ** 2 + np.cos(xs) * xs + np.sin(xs))
    np.testing.assert_allclose(h.data, 6 * xs - np.sin(xs) * xs + 2 * np.cos(xs))


def test_errors_are_the_same(engine):
    a = ad.tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"add: incompatible shapes \(2, 3\), \(4,\)") as info:
        a + ad.tensor(np.ones(4))
    assert info.value.__suppress_context__

    class Bad(ad.Function):
        @staticmethod
        def forward(ctx, t):
            return t.sum(axis=0)

        @staticmethod
        def backward(ctx, g):
            return g  # wrong shape

    with pytest.raises(RuntimeError, match=r"bad: backward returned a gradient of shape \(3,\) for an input "
                                           r"of shape \(2, 3\)"):
        Bad.apply(a).sum().backward()
    y = (a * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_user_function_with_kwargs_and_two_outputs(engine):
    class SplitScale(ad.Function):
        @staticmethod
        def forward(ctx, t, *, scale=1.0):
            ctx.scale = scale
            return t[:1] * scale, t[1:] * scale

        @staticmethod
        def backward(ctx, g1, g2):
            return np.concatenate([g1, g2]) * ctx.scale

    t = ad.tensor(np.arange(3.0), requires_grad=True)
    a, b = SplitScale.apply(t, scale=3.0)
    assert a.grad_fn is b.grad_fn and (a._out_idx, b._out_idx) == (0, 1)
    b.sum().backward()  # a's gradient is zero: filled in before backward runs
    np.testing.assert_array_equal(t.grad.data, [0.0, 3.0, 3.0])


def test_patch_reaches_the_compiled_recorder(monkeypatch):
    assert ad.Function.apply.__func__ is _engine.apply or function.ENGINE == "python"
    x = ad.tensor(np.ones(3), requires_grad=True)
    original = elementwise.Mul.backward
    monkeypatch.setattr(elementwise.Mul, "backward", staticmethod(
        lambda ctx, g: tuple(None if r is None else r + 7 for r in original(ctx, g))))
    (x * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [9.0, 9.0, 9.0])


def test_pure_python_switch():
    code = "import autodiff.function as f, autodiff.backward as b; print(f.ENGINE, b._engine is None)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**__import__("os").environ, "AUTODIFF_PURE_PYTHON": "1"})
    assert out.stdout.split() == ["python", "True"]


def test_a_class_changed_between_calls_is_read_again():
    """The engine keeps what it reads from a Function class only while the class is unchanged."""

    class Scale(ad.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2.0

        @staticmethod
        def backward(ctx, g):
            return g * 2.0

    class Child(Scale):  # inherits forward and backward
        pass

    x = ad.tensor(np.ones(2), requires_grad=True)
    for _ in range(2):  # the second call reads the kept entry
        np.testing.assert_array_equal(Child.apply(x).data, [2.0, 2.0])
    Scale.forward = staticmethod(lambda ctx, a: a * 5.0)  # a base class changes
    np.testing.assert_array_equal(Child.apply(x).data, [5.0, 5.0])
    y = Child.apply(x)
    Child.backward = staticmethod(lambda ctx, g: g * 7.0)  # after recording, before backward
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [7.0, 7.0])
    del Child.backward
    x.grad = None
    Child.apply(x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0])
    Scale.forward = staticmethod(lambda ctx, a: a[::-1])  # a view of x's array
    assert Child.apply(x)._version is not x._version
    Scale.returns_view = True  # a flag changes too: the output now shares x's version counter
    assert Child.apply(x)._version is x._version


def test_a_broadcast_gradient_is_summed_back_to_its_input(engine):
    """As PyTorch's engine: a gradient of a shape its input broadcasts to is summed to the input's shape."""

    class Plus(ad.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, g):
            return g, 2.0 * g  # both of the output's (broadcast) shape

    rng = np.random.default_rng(3)
    a = ad.tensor(rng.standard_normal((3, 1)), requires_grad=True)
    b = ad.tensor(rng.standard_normal((2, 1, 4)), requires_grad=True)
    w = rng.standard_normal((2, 3, 4))
    (Plus.apply(a, b) * w).sum().backward()
    np.testing.assert_allclose(a.grad.data, w.sum(axis=(0, 2))[:, None])
    np.testing.assert_allclose(b.grad.data, 2.0 * w.sum(axis=1, keepdims=True))
    assert a.grad.shape == (3, 1) and b.grad.shape == (2, 1, 4)
    # the same through the built-in ops, whose backward relies on it
    a.grad = b.grad = None
    ((a + b) * w - b * a).sum().backward()
    np.testing.assert_allclose(a.grad.data, (w - b.data).sum(axis=(0, 2))[:, None])
    np.testing.assert_allclose(b.grad.data, (w - a.data).sum(axis=1, keepdims=True))


@pytest.mark.skipif(function.ENGINE != "compiled", reason="Function.apply is a plain classmethod without it")
def test_apply_is_bound_once_per_class_and_frees_classes():
    import gc
    import weakref

    assert elementwise.Mul.apply is elementwise.Mul.apply  # no bound method made per call
    assert elementwise.Mul.apply.__self__ is elementwise.Mul and elementwise.Add.apply.__self__ is elementwise.Add
    assert ad.Function.apply.__func__ is _engine.apply
    refs = []
    for k in range(200):  # classes made and dropped: the per-class entries let them go
        cls = type(f"Scale{k}", (ad.Function,), {
            "forward": staticmethod(lambda ctx, a, k=k: a * k),
            "backward": staticmethod(lambda ctx, g, k=k: g * k)})
        x = ad.tensor(np.ones(2), requires_grad=True)
        cls.apply(x).sum().backward()
        np.testing.assert_array_equal(x.grad.data, [k, k])
        refs.append(weakref.ref(cls))
        del cls, x
    gc.collect()
    assert sum(r() is not None for r in refs) <= 64
