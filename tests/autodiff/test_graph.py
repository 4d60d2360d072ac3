"""Graph behaviour: fan-out, deep chains, accumulation, hooks, no_grad, retain_graph, higher order, errors."""
import gc
import threading
import weakref

import numpy as np
import pytest

import autodiff as ad


def test_fan_out_accumulates():
    x = ad.tensor([2.0, -1.0], requires_grad=True)
    y = x * x + x * 3 + x.exp()      # x used four times
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, 2 * x.data + 3 + np.exp(x.data), rtol=1e-6)


def test_grads_accumulate_across_backward_calls_and_reset():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    (x * 2).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.data, [5, 5])
    x.grad = None
    (x * 4).sum().backward()
    np.testing.assert_allclose(x.grad.data, [4, 4])


def test_grad_dtype_and_shape_follow_data():
    x = ad.Tensor(np.ones((2, 3), np.float32), requires_grad=True)
    w = ad.Tensor(np.ones((3,), np.float64), requires_grad=True)
    (x * w).sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.shape == (2, 3)
    assert w.grad.dtype == np.float64 and w.grad.shape == (3,)


def test_deep_chain_100k_no_recursion_error():
    x = ad.tensor(1.0, dtype=np.float64, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0001
    y.backward()
    assert x.grad.item() == pytest.approx(1.0001 ** 100_000, rel=1e-9)


def test_leaf_and_grad_fn_attributes():
    x = ad.tensor([1.0], requires_grad=True)
    y = x * 2
    assert x.is_leaf and x.grad_fn is None
    assert not y.is_leaf and y.grad_fn.name == "mul"
    c = ad.tensor([1.0])
    assert c.is_leaf and not c.requires_grad
    d = y.detach()
    assert d.is_leaf and not d.requires_grad and d.data is y.data


def test_no_grad_and_enable_grad_contexts():
    x = ad.tensor([1.0], requires_grad=True)
    with ad.no_grad():
        y = x * 2
        assert not ad.is_grad_enabled()
        with ad.enable_grad():
            z = x * 2
    assert ad.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad

    @ad.no_grad()
    def f(t):
        return t * 3
    assert not f(x).requires_grad


def test_no_grad_is_per_thread():
    seen = {}
    inside = threading.Event()
    release = threading.Event()

    def other():
        inside.wait()
        seen["other"] = ad.is_grad_enabled()
        release.set()

    t = threading.Thread(target=other)
    t.start()
    with ad.no_grad():
        inside.set()
        release.wait()
        seen["main"] = ad.is_grad_enabled()
    t.join()
    assert seen == {"other": True, "main": False}


def test_backward_non_scalar_needs_gradient():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"scalar outputs.*\(2,\)"):
        (x * 2).backward()
    (x * 2).backward(gradient=ad.tensor([1.0, 10.0]))
    np.testing.assert_allclose(x.grad.data, [2, 20])


def test_second_backward_through_freed_graph_mentions_retain_graph():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


def test_retain_graph_allows_second_backward():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.data, 4 * x.data)


def test_saved_arrays_released_after_backward():
    x = ad.Tensor(np.ones(1000), requires_grad=True)
    h = x.exp()
    node = h.grad_fn
    y = (h * 2).sum()
    y.backward()
    assert node.freed  # released (and marked freed)
    del h, y
    gc.collect()


def test_graph_has_no_reference_cycles():
    x = ad.Tensor(np.ones(10), requires_grad=True)
    y = ((x * 2).exp() + x).sum()
    big = y.grad_fn
    ref = weakref.ref(big)
    gc.disable()
    try:
        del y, big
        assert ref() is None   # freed by reference counting alone: no cycle holds the graph
    finally:
        gc.enable()


def test_inplace_modification_of_saved_tensor_is_caught():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1
    y = h.exp()          # exp saves its output
    with ad.no_grad():
        y += 1
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.sum().backward()


def test_inplace_on_input_saved_by_mul_is_caught():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    c = ad.tensor([3.0, 4.0])
    y = x * c           # mul saves c
    c *= 2
    with pytest.raises(RuntimeError, match="version"):
        y.sum().backward()


def test_inplace_on_leaf_requiring_grad_is_refused_outside_no_grad():
    w = ad.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        w += 1
    np.testing.assert_allclose(w.data, [1.0])   # unchanged
    with ad.no_grad():
        w -= 0.5
    np.testing.assert_allclose(w.data, [0.5])


def test_inplace_really_modifies_and_is_differentiable_on_non_leaf():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    buf = h.data
    h += x          # h = 3x, recorded
    h *= 2          # h = 6x
    assert h.data is buf
    np.testing.assert_allclose(h.data, 6 * x.data)
    h.sum().backward()
    np.testing.assert_allclose(x.grad.data, [6, 6])


def test_requires_grad_on_integer_data_is_refused():
    with pytest.raises(TypeError, match="floating point"):
        ad.tensor([1, 2, 3], requires_grad=True)
    with pytest.raises(TypeError, match="int"):
        ad.Tensor(np.arange(3)).requires_grad = True


def test_broadcast_and_matmul_errors_name_op_and_shapes():
    a, b = ad.ones(2, 3), ad.ones(4)
    with pytest.raises(ValueError, match=r"add.*\(2, 3\).*\(4,\)"):
        a + b
    with pytest.raises(ValueError, match=r"matmul.*\(2, 3\).*\(2, 3\)"):
        a @ a


def test_hooks_on_leaf_and_non_leaf():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(g.data.copy()))
    h = x * 3
    h.register_hook(lambda g: g * 10)      # replaces the gradient flowing into h
    h.sum().backward()
    np.testing.assert_allclose(x.grad.data, [30, 30])
    np.testing.assert_allclose(seen[0], [30, 30])


def test_hook_handle_remove():
    x = ad.tensor([1.0], requires_grad=True)
    handle = x.register_hook(lambda g: g * 0)
    handle.remove()
    (x * 2).sum().backward()
    np.testing.assert_allclose(x.grad.data, [2])


def test_retain_grad_on_non_leaf():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad.data, 2 * h.data)
    y = x * 3
    (y * y).sum().backward()
    assert y.grad is None


def test_autodiff_grad_does_not_touch_dot_grad():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    h = x * x
    gx, gh = ad.grad((h * 3).sum(), [x, h])
    np.testing.assert_allclose(gx.data, 6 * x.data)
    np.testing.assert_allclose(gh.data, [3, 3])
    assert x.grad is None


def test_grad_outputs_and_unused_inputs():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    z = ad.tensor([1.0], requires_grad=True)
    (g,) = ad.grad(x * 2, x, grad_outputs=ad.tensor([1.0, 5.0]))
    np.testing.assert_allclose(g.data, [2, 10])
    with pytest.raises(RuntimeError, match="allow_unused"):
        ad.grad((x * 2).sum(), [x, z])
    gx, gz = ad.grad((x * 2).sum(), [x, z], allow_unused=True)
    assert gz is None


def test_second_derivative_of_cube_is_6x():
    x = ad.tensor([0.5, -2.0, 3.0], dtype=np.float64, requires_grad=True)
    (g,) = ad.grad((x ** 3).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.data, 3 * x.data ** 2)
    (g2,) = ad.grad(g.sum(), x)
    np.testing.assert_allclose(g2.data, 6 * x.data)


def test_backward_create_graph_then_grad_of_grad():
    x = ad.tensor(1.5, dtype=np.float64, requires_grad=True)
    y = x.tanh() * x.exp()
    y.backward(create_graph=True)
    g = x.grad
    assert g.requires_grad
    x.grad = None
    g.backward()
    t, e = np.tanh(1.5), np.exp(1.5)
    expected = e * (-2 * t * (1 - t * t)) + 2 * e * (1 - t * t) + t * e
    np.testing.assert_allclose(x.grad.item(), expected, rtol=1e-10)


def test_hessian_vector_product_matches_explicit_hessian(rng):
    A = rng.normal(size=(4, 4))
    A = A + A.T
    x = ad.Tensor(rng.normal(size=4), requires_grad=True)
    v = rng.normal(size=4)
    f = (x @ ad.Tensor(A) @ x) * 0.5 + (x ** 4).sum()
    (g,) = ad.grad(f, x, create_graph=True)
    (hv,) = ad.grad((g * ad.Tensor(v)).sum(), x)
    H = A + np.diag(12 * x.data ** 2)
    np.testing.assert_allclose(hv.data, H @ v, rtol=1e-10)


@pytest.mark.parametrize("f", [
    lambda x: (x.sigmoid() * x.softmax(0)).sum(),
    lambda x: (x.log_softmax(0) ** 2).sum() + x.logsumexp(),
    lambda x: (x.reshape(2, 2).T @ x.reshape(2, 2)).sum() + x.var() + x.max(),
    lambda x: (x[np.array([0, 0, 3])] * x.sin()[1:]).sum() + ad.stack([x, x.cos()]).sum() ** 2,
    lambda x: (x.abs().sqrt() + ad.where(x.data > 0, x, x * x) + x.clip(-0.5, 0.5)).sum(),
    lambda x: ad.concatenate([x, x.exp()]).mean() * x.tanh().sum() / x.pad((1, 1)).sum(),
])
def test_second_order_matches_finite_differences(rng, f):
    x = ad.Tensor(rng.uniform(0.2, 1.2, size=4) * np.array([1, -1, 1, -1]), requires_grad=True)
    x.data[np.abs(np.abs(x.data) - 0.5) < 0.05] += 0.1

    def first(t):
        (g,) = ad.grad(f(t), t, create_graph=True)
        return g

    assert ad.gradcheck(first, [x], atol=1e-5, rtol=1e-4)


def test_custom_function_with_save_for_backward():
    class Cube(ad.Function):
        @staticmethod
        def forward(ctx, x, scale=1.0):
            ctx.save_for_backward(x)
            ctx.scale = scale
            return scale * x ** 3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * ctx.scale * 3 * x ** 2

    x = ad.tensor([1.0, 2.0], dtype=np.float64, requires_grad=True)
    y = Cube.apply(x, scale=2.0)
    np.testing.assert_allclose(y.data, [2, 16])
    assert y.grad_fn.name == "cube"
    assert ad.gradcheck(lambda t: Cube.apply(t, scale=2.0), [x])
    (g,) = ad.grad(Cube.apply(x).sum(), x, create_graph=True)   # backward written with operators: twice differentiable
    (g2,) = ad.grad(g.sum(), x)
    np.testing.assert_allclose(g2.data, 6 * x.data)


def test_once_differentiable_op_refuses_double_backward():
    class Kernelish(ad.Function):
        once_differentiable = True

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            assert isinstance(x, np.ndarray)
            return grad * 2 * x

    x = ad.tensor([1.0, 3.0], requires_grad=True)
    (g,) = ad.grad(Kernelish.apply(x).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.data, [2, 6])
    with pytest.raises(RuntimeError, match="not differentiable twice"):
        g.sum().backward()


def test_scope_is_recorded_on_nodes():
    x = ad.tensor([1.0], requires_grad=True)
    with ad.scope("encoder"):
        with ad.scope("fc1"):
            y = x * 2
    assert y.grad_fn.scope == "encoder.fc1"
    assert (y + 1).grad_fn.scope == ""


def test_setitem_is_recorded_and_in_place(rng):
    x = ad.Tensor(rng.normal(size=(3, 4)), requires_grad=True)
    v = ad.Tensor(rng.normal(size=(4,)), requires_grad=True)

    def f(x, v):
        h = x * 2
        buf = h.data
        h[1] = v * 3
        assert h.data is buf
        return h * h

    assert ad.gradcheck(f, [x, v])
    w = ad.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        w[0] = 5.0
    with ad.no_grad():
        w[0] = 5.0
    np.testing.assert_allclose(w.data, [5, 2])


def test_fill_zero_copy_are_recorded_like_index_assignment(rng):
    torch = pytest.importorskip("torch")
    x0, s0 = rng.normal(size=(2, 3)), rng.normal(size=(3,))
    for name in ("fill_", "zero_", "copy_"):
        grads = []
        for lib in (ad, torch):
            x = lib.tensor(x0, requires_grad=True)
            src = lib.tensor(s0, requires_grad=True)
            y = x * 2
            buf = y.data if lib is ad else None
            if name == "fill_":
                y.fill_(1.5)
            elif name == "zero_":
                y.zero_()
            else:
                y.copy_(src)        # src broadcast over the rows; the gradient flows to it
            if lib is ad:
                assert y.data is buf and y._version[0] == 1
            (y * x + y * y).sum().backward()
            grads.append([None if t.grad is None else np.asarray(t.grad.detach() if lib is torch
                                                                    else t.grad.data) for t in (x, src)])
            values = y.detach().numpy() if lib is torch else y.data
            grads[-1].append(np.array(values))
        for ours, ref in zip(*grads):
            if ref is None:
                assert ours is None, name
            else:
                np.testing.assert_allclose(ours, ref, rtol=1e-12, err_msg=name)


def test_fill_zero_copy_refuse_a_leaf_that_requires_grad_outside_no_grad():
    w = ad.tensor([1.0, 2.0], requires_grad=True)
    for change in (lambda: w.fill_(0.5), lambda: w.zero_(), lambda: w.copy_(ad.tensor([3.0, 4.0]))):
        with pytest.raises(RuntimeError, match="leaf"):
            change()
        np.testing.assert_allclose(w.data, [1.0, 2.0])
    with ad.no_grad():
        w.copy_(ad.tensor([3.0, 4.0]))
    np.testing.assert_allclose(w.data, [3.0, 4.0])
    (w * w).sum().backward()
    w.grad.zero_()                          # a gradient never requires grad: allowed anywhere
    np.testing.assert_allclose(w.grad.data, [0.0, 0.0])
    with pytest.raises(ValueError, match="setitem"):
        with ad.no_grad():
            w.copy_(ad.tensor([1.0, 2.0, 3.0]))   # cannot be broadcast to (2,)


def test_grad_storage_never_aliases_other_arrays():
    a = ad.tensor([1.0, 2.0], requires_grad=True)
    b = ad.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()             # add hands the same gradient array to both inputs
    (a * 2).sum().backward()             # accumulation into a must not touch b
    np.testing.assert_allclose(a.grad.data, [3, 3])
    np.testing.assert_allclose(b.grad.data, [1, 1])
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    user = np.ones(2, np.float32)
    (x * 1).backward(gradient=user)
    (x * 1).backward(gradient=user)
    np.testing.assert_allclose(user, [1, 1])   # the caller's array is left alone
    np.testing.assert_allclose(x.grad.data, [2, 2])
    w = ad.tensor([1.0, 2.0], requires_grad=True)
    kept = []
    w.register_hook(lambda g: kept.append(g) or None)
    (w * 3).sum().backward()
    (w * 3).sum().backward()
    np.testing.assert_allclose(kept[0].data, [3, 3])   # a gradient a hook kept is not accumulated into
    np.testing.assert_allclose(w.grad.data, [6, 6])
