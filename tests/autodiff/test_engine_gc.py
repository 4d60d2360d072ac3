"""The recorded graph and Python's cycle collector.

The compiled recorder keeps a node, its ctx and its edge tuples out of the collector when they cannot
be part of a reference cycle (see autodiff/engine_c/visible.c), and a ctx keeps arrays and
version counters, never the tensors the op was called with. These tests check both halves: an
ordinary graph is hidden and frees its tensors as it goes, and every way a graph can link back to
something newer (hooks on a node, a ctx keeping a container, ``create_graph`` gradients in
``.grad``) or that once did (in-place ops on a tensor the op took, in-place shape changes) leaves
nothing the collector cannot free, with either recorder.
"""
import gc
import weakref

import numpy as np
import pytest

import autodiff as ad
from autodiff.function import ENGINE

compiled = pytest.mark.skipif(ENGINE != "compiled", reason="the Python recorder hides nothing")


def _collected(make):
    """Build a graph with ``make()`` (returns a tensor to watch), drop it, collect: is it gone?"""
    gc.collect()
    ref = weakref.ref(make())
    gc.collect()
    return ref() is None


def _leaf():
    return ad.Tensor(np.arange(1.0, 5.0), requires_grad=True)


@compiled
def test_an_ordinary_graph_is_hidden_from_the_collector():
    x = _leaf()
    y = (x * 2.0 + 1.0).exp().sum()
    node = y.grad_fn
    seen = 0
    stack = [node]
    while stack:  # every node, its ctx and its edges tuple
        n = stack.pop()
        seen += 1
        assert not gc.is_tracked(n), n
        assert not gc.is_tracked(n.ctx), n
        assert not gc.is_tracked(n.next), n
        stack.extend(e for e in n.next if isinstance(e, type(node)))
    assert seen == 4
    assert gc.is_tracked(y)  # tensors stay visible: hooks and .grad can hang anything on them
    y.backward()
    np.testing.assert_allclose(x.grad.data, 2.0 * np.exp(2.0 * x.data + 1.0))


@compiled
def test_nodes_that_could_close_a_cycle_stay_or_become_visible():
    x = _leaf()
    y = x * 3.0
    assert not gc.is_tracked(y.grad_fn)
    y.retain_grad()
    assert gc.is_tracked(y.grad_fn) and gc.is_tracked(y.grad_fn.ctx)
    z = x * 4.0
    z.register_hook(lambda g: g)
    assert gc.is_tracked(z.grad_fn)
    with ad.tracing():  # the trace keeps the arguments on the node
        w = x * 5.0
    assert gc.is_tracked(w.grad_fn)

    class Keep(ad.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.box = []  # a container: anything can be put in it later
            return a * 2.0

        @staticmethod
        def backward(ctx, g):
            return g * 2.0

    k = Keep.apply(x)
    assert gc.is_tracked(k.grad_fn) and gc.is_tracked(k.grad_fn.ctx)


def test_a_chain_frees_its_intermediate_tensors():
    x = _leaf()
    y = x * 1.0
    first = weakref.ref(y)
    for _ in range(5):
        y = y * 1.5 + 1.0  # Mul saves y's array, not y
    assert first() is None  # freed by reference counting, no collection needed
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, np.full(4, 1.5 ** 5))


def test_saved_input_modified_in_place_is_still_caught():
    x = _leaf()
    h = x * 2.0
    y = h * h  # saves h's array and h's version counter, not h
    h.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.sum().backward()


def test_in_place_op_on_itself_is_collected():
    def make():
        y = _leaf() * 1.0
        y *= y  # the Mul node keeps y itself (for its backward); y moves onto that node
        return y
    assert _collected(make)


def test_in_place_change_of_a_view_is_collected():
    def make():
        base = _leaf() * 1.0
        v = base[1:3]
        v.mul_(base[0:2].detach() * 0 + 2.0)  # carried into the base's graph (CopySlices takes the view)
        return base
    assert _collected(make)


def test_in_place_shape_change_is_collected():
    def make():
        y = _leaf() * 1.0
        y.unsqueeze_(0)  # y moves onto the node of the op that took y
        return y
    assert _collected(make)


def test_hook_that_refers_to_its_tensor_is_collected():
    def make():
        y = _leaf() * 2.0
        y.register_hook(lambda g: g * y.data)
        return y
    assert _collected(make)


def test_ctx_container_that_refers_to_the_output_is_collected():
    class Keep(ad.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.box = []
            return a * 2.0

        @staticmethod
        def backward(ctx, g):
            return g * 2.0

    def make():
        y = Keep.apply(_leaf())
        y.grad_fn.ctx.box.append(y)
        return y
    assert _collected(make)


def test_create_graph_gradient_in_grad_is_collected():
    def make():
        x = _leaf()
        ((x * x).exp() * 3.0).sum().backward(create_graph=True)  # x.grad's graph leads back to x
        assert x.grad.grad_fn is not None
        return x
    assert _collected(make)


def test_create_graph_gradients_still_give_second_derivatives():
    x = ad.Tensor(np.array([0.3, -0.7]), requires_grad=True)
    (g,) = ad.grad((x ** 3).sum(), [x], create_graph=True)
    (h,) = ad.grad(g.sum(), [x])
    np.testing.assert_allclose(h.data, 6.0 * x.data)


def test_repeated_training_steps_leave_nothing_behind():
    w = ad.Tensor(np.full((3, 3), 0.1), requires_grad=True)
    x = ad.Tensor(np.ones((2, 3)))

    def step():
        h = (x @ w).tanh()
        h.retain_grad()
        h.register_hook(lambda g: g * 1.0)
        loss = (h * h).sum()
        loss.backward()
        w.grad = None

    for _ in range(3):
        step()
    gc.collect()
    before = len(gc.get_objects())
    for _ in range(50):
        step()
    gc.collect()
    assert len(gc.get_objects()) - before < 25
