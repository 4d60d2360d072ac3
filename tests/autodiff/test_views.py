"""Views share their base's version counter, so in-place changes through either are caught at backward.

A view (reshape, transpose, broadcast, basic indexing) shares memory with its base; PyTorch gives both
one version counter. Without that, changing a view in place would silently change a value some op saved
for backward through the base (or the other way round) and the gradient would be wrong.
"""
import numpy as np
import pytest

import autodiff as ad

VIEWS = {
    "int index": lambda y: y[0],
    "slices": lambda y: y[1:, ::2],
    "None and Ellipsis": lambda y: y[None, ...],
    "view of a view": lambda y: y[1:][0],
    "reshape": lambda y: y.reshape(12),
    "flatten": lambda y: y.flatten(),
    "unsqueeze": lambda y: y.unsqueeze(0),
    ".T": lambda y: y.T,
    "swapaxes": lambda y: y.swapaxes(0, 1),
    "split piece": lambda y: ad.split(y, 2, axis=0)[1],
}

COPIES = {
    "integer array": lambda y: y[[0, 2]],
    "boolean mask": lambda y: y[y.data > 0],
    "reshape of a transpose": lambda y: y.T.reshape(12),
}


def _x(rng):
    return ad.Tensor(rng.standard_normal((3, 4)), requires_grad=True)


@pytest.mark.parametrize("make", VIEWS.values(), ids=VIEWS.keys())
def test_in_place_change_through_a_view_is_caught(make, rng):
    x = _x(rng)
    y = x.exp()                      # exp saves its output y
    v = make(y)
    assert np.shares_memory(v.data, y.data)
    before = y.data.copy()
    with ad.no_grad():
        v += 1
    assert not np.array_equal(y.data, before)        # the base really changed (numpy view semantics)
    assert v._version[0] == y._version[0] == 1
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.sum().backward()


@pytest.mark.parametrize("make", COPIES.values(), ids=COPIES.keys())
def test_in_place_change_of_a_copy_leaves_the_base_alone(make, rng):
    x = _x(rng)
    y = x.exp()
    c = make(y)
    assert not np.shares_memory(c.data, y.data)
    with ad.no_grad():
        c += 1
    assert y._version[0] == 0
    y.sum().backward()               # nothing saved was touched: d sum(exp x)/dx = exp x
    np.testing.assert_allclose(x.grad.data, np.exp(x.data), rtol=1e-12)


def test_in_place_change_of_the_base_is_seen_by_an_op_that_saved_the_view(rng):
    x = _x(rng)
    w = ad.Tensor(rng.standard_normal(4))
    y = x * 1
    v = y[0]
    z = v * w                        # mul saves v's array, a view of y's
    with ad.no_grad():
        y *= 2
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        z.sum().backward()


def test_detached_view_shares_the_counter(rng):
    x = _x(rng)
    y = x.exp()
    d = y[0].detach()
    d += 1                           # d does not require grad: allowed outside no_grad
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.sum().backward()


def test_recorded_in_place_change_of_a_view_of_a_saved_tensor_is_caught(rng):
    x = _x(rng)
    y = x.exp()
    v = y[0]
    v *= 2                           # recorded (v is not a leaf), and changes y's saved output
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.sum().backward()


def test_views_agree_with_pytorch_on_which_changes_are_errors(rng):
    torch = pytest.importorskip("torch")
    for name, make in {**VIEWS, **COPIES}.items():
        if name in ("split piece", "boolean mask"):
            continue                 # spelled differently in torch; covered above
        x = rng.standard_normal((3, 4))
        outcomes = []
        for lib in ("ours", "torch"):
            if lib == "ours":
                t = ad.Tensor(x, requires_grad=True)
                grad_off = ad.no_grad
            else:
                t = torch.tensor(x, requires_grad=True)
                grad_off = torch.no_grad
            y = t.exp()
            v = make(y)
            with grad_off():
                v += 1
            try:
                y.sum().backward()
                outcomes.append("ok")
            except RuntimeError:
                outcomes.append("error")
        assert outcomes[0] == outcomes[1], f"{name}: ours {outcomes[0]}, torch {outcomes[1]}"


@pytest.mark.parametrize("change", ["+=", "setitem"])
def test_recorded_in_place_change_of_a_view_of_a_leaf_is_refused(change, rng):
    x = _x(rng)
    before = x.data.copy()
    w = ad.Tensor(rng.standard_normal(4), requires_grad=True)
    with ad.no_grad():
        v_no_grad = x[0]             # made without recording: still a view of the leaf
    for v in (x[0], x.reshape(12)[:4], v_no_grad):
        with pytest.raises(RuntimeError, match="view of a leaf tensor that requires grad"):
            if change == "+=":
                v += w
            else:
                v[...] = w
    np.testing.assert_array_equal(x.data, before)    # refused before anything was written
    with ad.no_grad():               # allowed where nothing is recorded (as an optimizer update)
        v = x[0]
        v += 1
    np.testing.assert_allclose(x.data[0], before[0] + 1)
    assert x._version[0] == 1


def test_view_remembers_the_tensor_that_owns_the_memory(rng):
    x = _x(rng)
    y = x * 2
    v = y[1:][0].reshape(2, 2)       # a view of a view of a view
    assert v._base is y
    assert getattr(y, "_base", None) is None
    assert getattr(y[[0, 1]], "_base", None) is None   # a copy is not a view


def test_augmented_index_assignment_on_a_non_leaf_matches_pytorch(rng):
    # y[0] *= 3 runs as: tmp = y[0]; tmp *= 3 (through the view); y[0] = tmp (recorded on y)
    torch = pytest.importorskip("torch")
    x0 = rng.standard_normal((3, 4))
    x = ad.Tensor(x0, requires_grad=True)
    y = x * 2
    y[0] *= 3
    y[1:, 1] += x[0, 1:3]
    (y * y).sum().backward()
    tx = torch.tensor(x0, requires_grad=True)
    ty = tx * 2
    ty[0] *= 3
    ty[1:, 1] += tx[0, 1:3]
    (ty * ty).sum().backward()
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-12)


WRITABLE_VIEWS = {name: make for name, make in VIEWS.items() if name != "split piece"}


@pytest.mark.parametrize("make", WRITABLE_VIEWS.values(), ids=WRITABLE_VIEWS.keys())
def test_recorded_in_place_change_of_a_view_reaches_the_base_like_pytorch(make, rng):
    torch = pytest.importorskip("torch")
    x0 = rng.standard_normal((3, 4))
    results = []
    for lib in (ad, torch):
        x = lib.tensor(x0, requires_grad=True)
        y = x * 2                        # mul saves x, not y: only the graph can carry the change
        v = make(y)
        v *= 3
        v += x[1, 2]
        (y * y).sum().backward()
        if lib is ad:
            results.append((y.data.copy(), x.grad.data))
        else:
            results.append((y.detach().numpy(), x.grad.numpy()))
    (ours_y, ours_g), (ref_y, ref_g) = results
    np.testing.assert_allclose(ours_y, ref_y, rtol=1e-12)
    np.testing.assert_allclose(ours_g, ref_g, rtol=1e-12)


def test_view_of_a_buffer_changed_with_grad_puts_the_buffer_in_the_graph(rng):
    torch = pytest.importorskip("torch")
    x0, w0 = rng.standard_normal(3), rng.standard_normal((2, 3))
    grads = []
    for lib in (ad, torch):
        x = lib.tensor(x0, requires_grad=True)
        buf = lib.tensor(w0)             # does not require grad
        v = buf[1]
        v += x * 2
        row = buf[0]
        row[1] = x[2]                    # index assignment into a view, recorded
        assert buf.requires_grad
        (buf * buf).sum().backward()
        grads.append(np.asarray(x.grad.data if lib is ad else x.grad.numpy()))
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12)


def test_second_derivative_through_an_in_place_change_of_a_view(rng):
    torch = pytest.importorskip("torch")
    x0, u0 = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    out = []
    for lib in (ad, torch):
        x = lib.tensor(x0, requires_grad=True)
        y = x * x
        v = y[0]
        v *= x[1]                        # y[0] = x0^2 * x1
        loss = (y * y).sum()
        if lib is ad:
            (g,) = ad.grad(loss, [x], create_graph=True)
        else:
            (g,) = torch.autograd.grad(loss, [x], create_graph=True)
        hvp = (g * lib.tensor(u0)).sum()    # Hessian-vector product
        hvp.backward()
        out.append(np.asarray(x.grad.data if lib is ad else x.grad.numpy()))
    np.testing.assert_allclose(out[0], out[1], rtol=1e-10)


def test_in_place_change_through_a_view_passes_gradcheck(rng):
    x = ad.Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    w = ad.Tensor(rng.standard_normal(4), requires_grad=True)

    def f(x, w):
        y = x.tanh()                     # tanh saves its output: change a copy's view instead
        z = y * 1.5
        row = z[1]
        row *= w
        z.T[2] += w[:3]
        return z * z

    assert ad.gradcheck(f, [x, w])


def test_inplace_through_a_0d_element_view_reaches_the_base_and_the_gradient():
    torch = pytest.importorskip("torch")
    data = np.array([1.0, 2.0, 3.0])
    x = ad.tensor(data, requires_grad=True)
    y = x * 1
    v = y[0]
    v += 10
    (y * ad.tensor([1.0, 2.0, 3.0])).sum().backward()
    tx = torch.tensor(data, requires_grad=True)
    ty = tx * 1
    tv = ty[0]
    tv += 10
    (ty * torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)).sum().backward()
    np.testing.assert_allclose(y.data, ty.detach().numpy())
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy())


def test_inplace_multiply_of_one_element_of_a_2d_tensor():
    torch = pytest.importorskip("torch")
    data = np.arange(6.0).reshape(2, 3) + 1
    w = np.arange(6.0).reshape(2, 3)
    x = ad.tensor(data, requires_grad=True)
    y = x * 2
    y[1, 2] *= 3
    (y * ad.tensor(w)).sum().backward()
    tx = torch.tensor(data, requires_grad=True)
    ty = tx * 2
    ty[1, 2] *= 3
    (ty * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(y.data, ty.detach().numpy())
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy())


def test_element_update_without_autograd_changes_the_tensor():
    t = ad.tensor([1.0, 2.0])
    t[0] += 10
    np.testing.assert_allclose(t.data, [11.0, 2.0])
    v = t[1]
    v *= 3
    np.testing.assert_allclose(t.data, [11.0, 6.0])
