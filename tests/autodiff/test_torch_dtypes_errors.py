"""torch's dtype rules, conversions, bitwise ops, error types and the silent numpy-vs-torch differences,
each compared with torch itself."""
import numpy as np
import pytest

import autodiff as ad

torch = pytest.importorskip("torch")

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]


def _np(tdtype):
    return np.dtype(str(tdtype).replace("torch.", ""))


def _both(values, dtype):
    arr = np.asarray(values).astype(dtype)
    return ad.Tensor(arr), torch.tensor(arr)


@pytest.mark.parametrize("da", DTYPES)
@pytest.mark.parametrize("db", DTYPES)
def test_tensor_tensor_promotion_matches_torch(da, db):
    a, ta = _both([1, 2, 3], da)
    for bshape in ([1, 0, 1], 1):  # dimensioned, then 0-d (which only counts with a higher category)
        b, tb = _both(bshape, db)
        for ours, theirs in ((a * b, ta * tb), (ad.maximum(a, b), torch.maximum(ta, tb)),
                             (ad.where(a > 1, a, b), torch.where(ta > 1, ta, tb))):
            assert ours.dtype == _np(theirs.dtype), (da, db, bshape)


@pytest.mark.parametrize("da", DTYPES)
@pytest.mark.parametrize("scalar", [True, 2, 1.5, np.float64(0.25), np.int64(3)])
def test_tensor_scalar_promotion_matches_torch(da, scalar):
    a, ta = _both([1, 2, 3], da)
    ops = [lambda x, s: x + s, lambda x, s: s * x, lambda x, s: x / s]
    if da != "bool" and not isinstance(scalar, bool):
        ops.append(lambda x, s: x - s)  # torch refuses subtraction with bools
    for op in ops:
        assert op(a, scalar).dtype == _np(op(ta, scalar).dtype), (da, scalar)


@pytest.mark.parametrize("da", ["bool", "uint8", "int32", "int64"])
@pytest.mark.parametrize("op", ["exp", "sqrt", "sin", "log1p", "sigmoid", "tanh", "erf", "reciprocal",
                                "rsqrt", "atan", "mean", "softmax"])
def test_float_ops_on_integers_give_the_default_float(da, op):
    a, ta = _both([1, 2, 3], da)
    if op == "mean":  # torch refuses integer means; here they give the default float as other float ops
        assert a.mean().dtype == np.float32
        return
    args = (0,) if op == "softmax" else ()
    if da == "bool" and op == "softmax":
        pytest.skip("torch has no bool softmax")
    out, tout = getattr(a, op)(*args), getattr(ta.float() if op == "softmax" else ta, op)(*args)
    assert out.dtype == _np(tout.dtype) == np.float32
    np.testing.assert_allclose(out.data, tout.numpy(), rtol=1e-6)


def test_the_silent_differences_of_issue_16():
    xi, ti = _both([1, 2, 3], "int64")
    assert (xi + 1.5).dtype == np.float32 and (xi / 2).dtype == np.float32
    assert xi.exp().dtype == np.float32 and (0.7 ** xi).dtype == np.float32
    assert ad.maximum(xi, 1.2).dtype == np.float32
    np.testing.assert_allclose((0.7 ** xi).data, (0.7 ** ti).numpy())
    # bitwise, not logical
    assert (ad.tensor([32]) & 32).item() == 32 and (ad.tensor([12]) | ad.tensor([3])).item() == 15
    # var/std default correction=1, max(dim) gives (values, indices)
    x = np.arange(8.0).reshape(2, 4) ** 1.5
    a, t = ad.Tensor(x), torch.tensor(x)
    np.testing.assert_allclose(a.var(dim=1).data, t.var(dim=1).numpy())
    np.testing.assert_allclose(a.std().item(), t.std().item())
    v, i = a.max(dim=1)
    tv, tidx = t.max(dim=1)
    np.testing.assert_array_equal(v.data, tv.numpy())
    np.testing.assert_array_equal(i.data, tidx.numpy())
    # linspace to an integer dtype truncates
    np.testing.assert_array_equal(ad.linspace(5, -5, 20, dtype=ad.int32).data,
                                  torch.linspace(5, -5, 20, dtype=torch.int32).numpy())


def test_pow_gradient_at_zero_base_and_zero_exponent_is_zero():
    a = ad.tensor([0.0, 1.0, 0.0], requires_grad=True)
    b = ad.tensor([0.0, 2.0, 3.0], requires_grad=True)
    ta = torch.tensor([0.0, 1.0, 0.0], requires_grad=True)
    tb = torch.tensor([0.0, 2.0, 3.0], requires_grad=True)
    (a ** b).sum().backward()
    (ta ** tb).sum().backward()
    np.testing.assert_array_equal(a.grad.data, ta.grad.numpy())
    np.testing.assert_array_equal(b.grad.data, tb.grad.numpy())


@pytest.mark.parametrize("shape,dim", [((3, 0), 1), ((0,), 0), ((3, 1), 1)])
def test_var_std_over_empty_or_single_axis_give_nan_like_torch(shape, dim):
    x = np.ones(shape)
    for name in ("var", "std"):
        a, t = ad.Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        out, tout = getattr(a, name)(dim=dim), getattr(t, name)(dim=dim)
        np.testing.assert_array_equal(out.data, tout.detach().numpy())
        out.sum().backward()
        tout.sum().backward()
        np.testing.assert_array_equal(a.grad.data, t.grad.numpy())


@pytest.mark.parametrize("d", ["int8", "uint8", "int32", "int64", "bool"])
@pytest.mark.parametrize("op", ["&", "|", "^", "<<", ">>"])
def test_bitwise_ops_match_torch(d, op):
    if d == "bool" and op in ("<<", ">>"):
        pytest.skip("torch has no bool shifts")
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 7, 6), rng.integers(0, 3, 6)
    a, ta = _both(x, d)
    b, tb = _both(y, d)
    f = {"&": lambda p, q: p & q, "|": lambda p, q: p | q, "^": lambda p, q: p ^ q,
         "<<": lambda p, q: p << q, ">>": lambda p, q: p >> q}[op]
    for ours, theirs in ((f(a, b), f(ta, tb)), (f(a, 2), f(ta, 2))):
        assert ours.dtype == _np(theirs.dtype)
        np.testing.assert_array_equal(ours.data, theirs.numpy())
    np.testing.assert_array_equal((~a).data, (~ta).numpy())


def test_bitwise_on_floats_is_refused():
    with pytest.raises(TypeError, match="bitwise_and"):
        ad.tensor([1.0]) & ad.tensor([1.0])


@pytest.mark.parametrize("d", ["int64", "float32"])
def test_integer_and_float_division_modes_match_torch(d):
    x, y = np.array([7, -7, 7, -7, 0]), np.array([2, 2, -2, -2, 3])
    a, ta = _both(x, d)
    b, tb = _both(y, d)
    for mode in (None, "trunc", "floor"):
        ours, theirs = a.div(b, rounding_mode=mode), ta.div(tb, rounding_mode=mode)
        assert ours.dtype == _np(theirs.dtype)
        np.testing.assert_array_equal(ours.data, theirs.numpy())
    for ours, theirs in ((a % b, ta % tb), (a // b, ta // tb), (a.fmod(b), ta.fmod(tb)),
                         (ad.floor_divide(a, 2), torch.floor_divide(ta, 2)), (a.remainder(-3), ta.remainder(-3))):
        assert ours.dtype == _np(theirs.dtype)
        np.testing.assert_array_equal(ours.data, theirs.numpy())


def test_comparisons_and_closeness_match_torch():
    x, y = np.array([1.0, 2.0, 3.0 + 1e-9, np.nan]), np.array([1.0, 2.5, 3.0, np.nan])
    a, ta = _both(x, "float64")
    b, tb = _both(y, "float64")
    for name in ("eq", "ne", "lt", "le", "gt", "ge", "greater", "less_equal", "not_equal", "isclose"):
        np.testing.assert_array_equal(getattr(a, name)(b).data, getattr(ta, name)(tb).numpy())
        if name != "isclose":  # torch.isclose takes tensors only
            np.testing.assert_array_equal(getattr(ad, name)(a, 2).data, getattr(torch, name)(ta, 2).numpy())
    np.testing.assert_array_equal(a.isclose(b, equal_nan=True).data, ta.isclose(tb, equal_nan=True).numpy())
    assert ad.allclose(a[:3], b[:3]) is torch.allclose(ta[:3], tb[:3]) is False
    assert ad.allclose(a, a, equal_nan=True) and ad.equal(a[:2], ad.tensor([1.0, 2.0], dtype=ad.float64))
    assert not ad.equal(a[:2], a[:3])


def test_default_dtype_can_be_changed_and_restored():
    assert ad.get_default_dtype() == ad.float32
    ad.set_default_dtype(ad.float64)
    try:
        assert (ad.tensor([1, 2]) / 2).dtype == np.float64
        assert ad.tensor([1.5]).dtype == np.float64 and ad.zeros(2).dtype == np.float64
        assert ad.arange(0.0, 1.0, 0.5).dtype == np.float64 and ad.tensor([1, 2]).exp().dtype == np.float64
    finally:
        ad.set_default_dtype(ad.float32)
    assert ad.zeros(2).dtype == np.float32
    with pytest.raises(TypeError, match="floating"):
        ad.set_default_dtype(ad.int64)


def test_conversions_match_torch():
    a, t = _both([[1.5, -2.0], [0.0, 3.25]], "float32")
    for name in ("half", "long", "int", "bool", "short", "byte", "char", "double", "float"):
        ours, theirs = getattr(a, name)(), getattr(t, name)()
        assert ours.dtype == _np(theirs.dtype), name
        np.testing.assert_array_equal(ours.data, theirs.numpy())
    assert a.type() == t.type() == "torch.FloatTensor"
    assert a.type(ad.float64).dtype == np.float64 and a.type("torch.DoubleTensor").dtype == np.float64
    assert a.long().type() == "torch.LongTensor" and a.to(ad.int64).dtype == np.int64
    assert a.to("cpu") is a and a.to("cpu", ad.float64).dtype == np.float64
    assert a.to(ad.tensor([1], dtype=ad.int16)).dtype == np.int16 and a.to(dtype=ad.float16).dtype == np.float16
    assert a.is_floating_point() and not a.long().is_floating_point()
    with pytest.raises(RuntimeError, match="CPU only"):
        a.to("cuda")
    with pytest.raises(TypeError, match="bfloat16"):
        a.to("torch.bfloat16")
    g = ad.tensor([1.0, 2.0], requires_grad=True)
    g.double().sum().backward()  # differentiable between float types
    assert g.grad.dtype == np.float32 and np.all(g.grad.data == 1)


def test_inference_mode_records_nothing():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    with ad.inference_mode():
        assert ad.is_inference_mode_enabled() and not ad.is_grad_enabled()
        y = x * 2
    assert not y.requires_grad and ad.is_grad_enabled() and not ad.is_inference_mode_enabled()
    with ad.inference_mode(False):
        assert (x * 2).requires_grad

    @ad.inference_mode()
    def f(t):
        return t * 3

    assert not f(x).requires_grad


@pytest.mark.parametrize("call", [
    lambda t: t.sum(dim=2), lambda t: t.max(dim=-3), lambda t: t.var(5), lambda t: t.cumsum(2),
    lambda t: t.argmax(dim=4), lambda t: t.softmax(dim=0) if False else t.amax(dim=(0, 3)),
    lambda t: t.median(dim=2), lambda t: t.kthvalue(1, dim=7)])
def test_dim_out_of_range_is_an_index_error(call):
    a, t = ad.Tensor(np.ones((2, 3))), torch.ones(2, 3)
    with pytest.raises(IndexError):
        call(t)
    with pytest.raises(IndexError, match="out of range"):
        call(a)


def test_shape_mismatch_is_a_runtime_error_that_is_also_a_value_error():
    a, b = ad.ones(2, 3), ad.ones(4)
    for f in (lambda: a + b, lambda: a.remainder(b), lambda: a.atan2(b), lambda: ad.maximum(a, b)):
        with pytest.raises(RuntimeError):
            f()
        with pytest.raises(ValueError, match=r"\(2, 3\)"):
            f()


def test_inplace_errors_match_torch():
    t = torch.ones(3, dtype=torch.long)
    with pytest.raises(RuntimeError, match="can't be cast"):
        t.add_(1.5)
    a = ad.ones(3, dtype=ad.int64)
    for f in (lambda: a.add_(1.5), lambda: a.div_(2), lambda: a.__iadd__(0.5), lambda: a.sqrt_()):
        with pytest.raises(RuntimeError, match="can't be cast to the desired output type int64"):
            f()
    for f in (lambda: ad.ones(3).add_(ad.ones(2, 3)), lambda: ad.ones(3).mul_(ad.ones(2, 3))):
        with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
            f()
    leaf = ad.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        leaf.exp_()


@pytest.mark.parametrize("name,args", [("add_", (2.0,)), ("sub_", (1.0,)), ("mul_", (3.0,)), ("div_", (4.0,)),
                                       ("pow_", (2,)), ("clamp_", (0.2, 0.8)), ("exp_", ()), ("neg_", ()),
                                       ("log1p_", ()), ("round_", ()), ("remainder_", (0.3,))])
def test_inplace_methods_match_torch_and_record(rng, name, args):
    x = rng.uniform(0.1, 1.0, (2, 3))
    w = ad.tensor(x, requires_grad=True)
    tw = torch.tensor(x, requires_grad=True)
    y, ty = w * 1, tw * 1
    out, tout = getattr(y, name)(*args), getattr(ty, name)(*args)
    assert out is y
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-12)
    (y * ad.tensor(x)).sum().backward()
    (ty * torch.tensor(x)).sum().backward()
    np.testing.assert_allclose(w.grad.data, tw.grad.numpy(), rtol=1e-10)
    z = ad.tensor(x)
    getattr(z, name)(*args)  # nothing recorded: the array itself changes
    np.testing.assert_allclose(z.data, ty.detach().numpy(), rtol=1e-12)


def test_add_sub_alpha_in_place():
    a, t = ad.ones(3), torch.ones(3)
    a.add_(ad.tensor([1.0, 2.0, 3.0]), alpha=2).sub_(1, alpha=0.5)
    t.add_(torch.tensor([1.0, 2.0, 3.0]), alpha=2).sub_(1, alpha=0.5)
    np.testing.assert_allclose(a.data, t.numpy())


def test_integer_division_by_zero_raises_like_torch():
    for f in (lambda t: t // 0, lambda t: t % 0, lambda t: t.div(0, rounding_mode="trunc")):
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            f(torch.tensor([1, 2]))
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            f(ad.tensor([1, 2]))
    with pytest.raises(ZeroDivisionError):
        ad.tensor([3]).fmod(ad.tensor([0]))
    np.testing.assert_array_equal((ad.tensor([1, -1]) / 0).data, (torch.tensor([1, -1]) / 0).numpy())


def test_inplace_bitwise_matches_torch():
    a, t = ad.tensor([12, 5]), torch.tensor([12, 5])
    a &= 6
    t &= 6
    a |= 1
    t |= 1
    a <<= 2
    t <<= 2
    a.bitwise_xor_(3)
    t.bitwise_xor_(3)
    np.testing.assert_array_equal(a.data, t.numpy())
    m, tm = ad.tensor([True, False]), torch.tensor([True, False])
    m.logical_not_()
    tm.logical_not_()
    np.testing.assert_array_equal(m.data, tm.numpy())
    with pytest.raises(RuntimeError, match="can't be cast"):
        m |= ad.tensor([3, 4])


@pytest.mark.parametrize("a,b", [(1.0, 0.0), (1, 0), (1, 0.5), (True, 2)])
def test_where_of_two_python_numbers_has_torchs_dtype(a, b):
    torch = pytest.importorskip("torch")
    cond = np.array([True, False, True])
    ours = ad.where(cond, a, b)
    theirs = torch.where(torch.tensor(cond), a, b)
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
    np.testing.assert_array_equal(ours.data, theirs.numpy())


@pytest.mark.parametrize("op", ["cumsum", "cumprod", "logcumsumexp", "cummax", "cummin"])
@pytest.mark.parametrize("shape,dim", [((), 1), ((20,), 1), ((20,), -2), ((2, 3), 2)])
def test_cumulative_ops_refuse_a_dim_out_of_range_as_torch(op, shape, dim):
    torch = pytest.importorskip("torch")
    with pytest.raises(IndexError):
        getattr(torch.zeros(shape), op)(dim)
    with pytest.raises(IndexError, match=f"{op}: "):
        getattr(ad.zeros(*shape), op)(dim)
