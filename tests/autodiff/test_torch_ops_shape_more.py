"""The index-valued ops (nonzero, argsort, unique, searchsorted ...), namedtuple returns, ties, NaN,
error types, the torch meaning of transpose, torch's indexing placement, in-place forms and second
derivatives, each against PyTorch."""
import numpy as np
import pytest

import autodiff as ad

torch = pytest.importorskip("torch")

X = np.array([[0.5, -1.0, 0.5, 2.0], [0.0, 3.0, -1.0, 0.0], [2.0, 2.0, 0.5, -3.0]])  # ties on purpose


def both(x=X, dtype="float64"):
    return ad.tensor(x.astype(dtype)), torch.tensor(x.astype(dtype))


def same(ours, theirs):
    """Equal values, shape and dtype (tuples compared element by element)."""
    if isinstance(theirs, (tuple, list)):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            same(a, b)
        return
    b = theirs.detach().numpy()
    assert ours.data.dtype == b.dtype, (ours.data.dtype, b.dtype)
    assert ours.data.shape == b.shape, (ours.data.shape, b.shape)
    np.testing.assert_allclose(ours.data, b, rtol=1e-12)


INDEX_CASES = [
    ("sort stable ties", lambda L, t: t.sort(dim=1, stable=True)),
    ("sort descending stable", lambda L, t: L.sort(t, dim=0, descending=True, stable=True)),
    ("argsort", lambda L, t: t.argsort(dim=1, stable=True)),
    ("argsort descending", lambda L, t: L.argsort(t, descending=True, stable=True)),
    ("sort flat", lambda L, t: t.reshape(-1).sort(stable=True)),
    ("topk", lambda L, t: t.topk(2, dim=0)),
    ("nonzero", lambda L, t: t.nonzero()),
    ("nonzero as_tuple", lambda L, t: t.nonzero(as_tuple=True)),
    ("argwhere", lambda L, t: L.argwhere(t)),
    ("where one argument", lambda L, t: L.where(t > 0.4)),
    ("unique", lambda L, t: L.unique(t)),
    ("unique inverse counts", lambda L, t: t.unique(return_inverse=True, return_counts=True)),
    ("unique dim", lambda L, t: L.unique(L.cat([t, t[:1]]), dim=0, return_inverse=True, return_counts=True)),
    ("unique_consecutive", lambda L, t: t.reshape(-1).unique_consecutive(return_inverse=True, return_counts=True)),
    ("searchsorted", lambda L, t: L.searchsorted(L.tensor([-1.0, 0.5, 2.0]), t)),
    ("searchsorted right", lambda L, t: L.searchsorted(L.tensor([-1.0, 0.5, 2.0]), t, right=True)),
    ("searchsorted side", lambda L, t: L.searchsorted(L.tensor([-1.0, 0.5, 2.0]), t, side="right")),
    ("searchsorted nd", lambda L, t: L.searchsorted(t.sort(dim=1).values, L.tensor([[0.0], [1.0], [-5.0]]))),
    ("searchsorted sorter", lambda L, t: L.searchsorted(t[0], L.tensor([0.6, 3.0]), sorter=t[0].argsort(stable=True))),
    ("searchsorted int32", lambda L, t: L.searchsorted(L.tensor([0.0, 1.0]), t, out_int32=True)),
    ("bucketize", lambda L, t: L.bucketize(t, L.tensor([-1.0, 0.5, 2.0]))),
    ("bucketize right", lambda L, t: L.bucketize(t, L.tensor([-1.0, 0.5, 2.0]), right=True)),
    ("chunk sizes", lambda L, t: L.arange(10).chunk(4)),
    ("chunk fewer pieces", lambda L, t: L.arange(6).chunk(4)),
    ("tensor_split sizes", lambda L, t: L.arange(7).tensor_split(3)),
    ("repeat_interleave tensor", lambda L, t: L.repeat_interleave(L.tensor([1, 2, 3]), L.tensor([2, 0, 1]))),
    ("view dtype", lambda L, t: t.view(L.int64)),
    ("new_zeros dtype", lambda L, t: t.new_zeros((2,), dtype=L.int32)),
    ("new_tensor", lambda L, t: t.new_tensor([1, 2])),
    ("int tensor ops", lambda L, t: L.arange(12).reshape(3, 4).flip(1).roll(1, 0).tril().transpose(0, 1)),
    ("bool ops", lambda L, t: (t > 0).T.repeat(1, 2)),
    ("bincount", lambda L, t: L.bincount(L.tensor([0, 1, 1, 4]), minlength=6)),
    ("bincount weights", lambda L, t: L.tensor([2, 0, 2]).bincount(weights=t[0, :3])),
    ("tril_indices", lambda L, t: L.tril_indices(3, 4, 1)),
    ("triu_indices", lambda L, t: L.triu_indices(4, 3, -1)),
    ("broadcast_shapes", lambda L, t: L.tensor(L.broadcast_shapes((2, 1, 3), (4, 1), (3,)))),
]


@pytest.mark.parametrize("name,fn", INDEX_CASES, ids=[c[0] for c in INDEX_CASES])
def test_index_valued_ops(name, fn):
    a, t = both()
    same(fn(ad, a), fn(torch, t))


def test_namedtuple_returns():
    a, t = both()
    for ours, theirs in ((a.sort(1), t.sort(1)), (a.topk(2), t.topk(2))):
        v, i = ours
        assert type(ours).__name__ == type(theirs).__name__
        assert v is ours.values and i is ours.indices
        assert i.dtype == np.int64
        same(v, theirs.values)


def test_nan_sorts_as_largest():
    x = np.array([[1.0, np.nan, -2.0, np.nan, 0.5]])
    a, t = both(x)
    for desc in (False, True):
        ours, theirs = a.sort(descending=desc, stable=True), t.sort(descending=desc, stable=True)
        np.testing.assert_array_equal(ours.indices.data, theirs.indices.numpy())
        np.testing.assert_array_equal(ours.values.data, theirs.values.numpy())


def test_integer_and_bool_sort_descending():
    x = np.array([3, -2**62, 7, 3, 2**62, 0])
    for arr in (x, x > 2, x.astype(np.uint8)):
        ours, theirs = ad.tensor(arr).sort(descending=True, stable=True), torch.tensor(arr).sort(descending=True, stable=True)
        np.testing.assert_array_equal(ours.indices.data, theirs.indices.numpy())


# (name, fn): torch raises IndexError or RuntimeError; ours the same kind, naming the op
ERROR_CASES = [
    ("transpose", lambda L, t: t.transpose(0, 2)), ("permute", lambda L, t: t.permute(0, 2)),
    ("permute", lambda L, t: t.permute(0,)), ("movedim", lambda L, t: t.movedim(3, 0)),
    ("squeeze", lambda L, t: t.squeeze(2)), ("unsqueeze", lambda L, t: t.unsqueeze(3)),
    ("flip", lambda L, t: t.flip(2)), ("roll", lambda L, t: t.roll(1, 2)),
    ("gather", lambda L, t: t.gather(2, L.tensor([[0]]))), ("gather", lambda L, t: t.gather(1, L.tensor([[5]]))),
    ("gather", lambda L, t: t.gather(1, L.tensor([5]))), ("gather", lambda L, t: t.gather(1, L.tensor([[0.0]]))),
    ("scatter", lambda L, t: t.scatter(1, L.tensor([[5]]), 1.0)),
    ("index_select", lambda L, t: t.index_select(0, L.tensor([3]))),
    ("index_select", lambda L, t: t.index_select(2, L.tensor([0]))), ("take", lambda L, t: t.take(L.tensor([12]))),
    ("getitem", lambda L, t: t[3]), ("getitem", lambda L, t: t[L.tensor([0, 3])]),
    ("narrow", lambda L, t: t.narrow(0, 2, 2)), ("diagonal", lambda L, t: t.diagonal(0, 0, 2)),
    ("sort", lambda L, t: t.sort(2)), ("topk", lambda L, t: t.topk(5)), ("select", lambda L, t: t.select(0, 3)),
    ("unbind", lambda L, t: t.unbind(2)), ("mm", lambda L, t: L.mm(t, t)), ("bmm", lambda L, t: L.bmm(t, t)),
    ("dot", lambda L, t: L.dot(t[0], t[1, :3])), ("expand", lambda L, t: t.expand(2, 3)),
    ("repeat", lambda L, t: t.repeat(2)), ("reshape", lambda L, t: t.view(5, -1)),
    ("masked_fill", lambda L, t: t.masked_fill(L.tensor([1, 0, 1, 0]), 1.0)),
    ("masked_scatter", lambda L, t: t.masked_scatter(L.tensor([True] * 4), L.tensor([1.0]))),
    ("einsum", lambda L, t: L.einsum("ij,jk->ik", t, t)), ("einsum", lambda L, t: L.einsum("ij,jk->ik", t)),
    ("tril", lambda L, t: t[0].tril()), ("split", lambda L, t: t.split([1, 1], 0)),
    ("concatenate", lambda L, t: L.cat([t, t[:, :2]], 0)), ("stack", lambda L, t: L.stack([t, t[:, :2]])),
    ("index_add", lambda L, t: t.index_add(0, L.tensor([0]), t)), ("unflatten", lambda L, t: t.unflatten(1, (3, 2))),
    ("take_along_dim", lambda L, t: t.take_along_dim(L.tensor([[0]]), 2)), ("cross", lambda L, t: L.cross(t, t, dim=1)),
    ("broadcast_shapes", lambda L, t: L.broadcast_shapes((2, 3), (4,))),
    ("tensordot", lambda L, t: L.tensordot(t, t, dims=([0], [0, 1]))),
    ("trace", lambda L, t: t[0].trace()), ("hsplit", lambda L, t: t.hsplit(3)),
    ("put", lambda L, t: t.put(L.tensor([12]), t[0, :1])), ("bincount", lambda L, t: L.tensor([-1, 2]).bincount()),
]


@pytest.mark.parametrize("k", range(len(ERROR_CASES)), ids=[f"{c[0]}-{i}" for i, c in enumerate(ERROR_CASES)])
def test_error_types_match_torch(k):
    op, fn = ERROR_CASES[k]
    a, t = both()
    with pytest.raises((IndexError, RuntimeError)) as theirs:
        fn(torch, t)
    kind = IndexError if isinstance(theirs.value, IndexError) else RuntimeError
    with pytest.raises(kind) as ours:
        fn(ad, a)
    assert op in str(ours.value), str(ours.value)


def test_transpose_swaps_two_dims():
    x = np.arange(6.0).reshape(2, 3)
    assert ad.tensor(x).transpose(0, 1).shape == (3, 2)  # numpy's meaning is the identity permutation
    y = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(ad.tensor(y).transpose(1, 2).data, torch.tensor(y).transpose(1, 2).numpy())
    np.testing.assert_array_equal(ad.transpose(ad.tensor(y), -1, 0).data, y.swapaxes(-1, 0))
    # kept for numpy-style code: no arguments reverses, a full permutation permutes
    np.testing.assert_array_equal(ad.tensor(y).transpose().data, y.transpose())
    np.testing.assert_array_equal(ad.tensor(y).transpose((2, 0, 1)).data, y.transpose(2, 0, 1))
    np.testing.assert_array_equal(ad.tensor(y).transpose(2, 0, 1).data, y.transpose(2, 0, 1))


@pytest.mark.parametrize("key", [
    (0, slice(None), [1, 3, 3]), (1, slice(1, 4), [0, 5]), (1, Ellipsis, [2, 0]),
    (0, None, slice(None), [5, 4]), ([1, 0], slice(None), [2, 3]), ([1, 0], 0, [2, 3]), (0, [True, False, True, True, False]),
])
def test_integer_is_a_basic_index(key):
    x = np.arange(60.0).reshape(2, 5, 6)
    ours_key = tuple(np.array(k) if isinstance(k, list) else k for k in key)
    theirs_key = tuple(torch.tensor(k) if isinstance(k, list) else k for k in key)
    a, t = ad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours, theirs = a[ours_key], t[theirs_key]
    same(ours, theirs)
    g = np.random.default_rng(0).standard_normal(theirs.shape)
    ours.backward(g)
    theirs.backward(torch.tensor(g))
    np.testing.assert_allclose(a.grad.data, t.grad.numpy())
    if key == (0, slice(None), [1, 3, 3]):
        assert ours.shape == (5, 3)


@pytest.mark.parametrize("key", [
    (0, slice(None), [1, 3]),
    (slice(None), 1, [0, 4]), ([1, 0], slice(None), [0, 4]),
])
def test_setitem_uses_the_same_placement(key):
    x = np.arange(60.0).reshape(2, 5, 6)
    ours_key = tuple(np.array(k) if isinstance(k, list) else k for k in key)
    theirs_key = tuple(torch.tensor(k) if isinstance(k, list) else k for k in key)
    t = torch.tensor(x)
    value = np.random.default_rng(1).standard_normal(t[theirs_key].shape)
    t[theirs_key] = torch.tensor(value)
    a = ad.tensor(x)
    a[ours_key] = value
    np.testing.assert_array_equal(a.data, t.numpy())


INPLACE_CASES = [
    ("scatter_", lambda L, t, s: t.scatter_(1, L.tensor([[0, 2], [1, 1], [3, 0]]), s)),
    ("scatter_add_", lambda L, t, s: t.scatter_add_(0, L.tensor([[0, 2], [1, 1], [2, 0]]), s)),
    ("scatter_reduce_", lambda L, t, s: t.scatter_reduce_(1, L.tensor([[0, 0], [1, 1], [3, 0]]), s, "amax")),
    ("index_fill_", lambda L, t, s: t.index_fill_(1, L.tensor([1, 3]), -2.0)),
    ("index_add_", lambda L, t, s: t.index_add_(1, L.tensor([1, 3]), s)),
    ("index_copy_", lambda L, t, s: t.index_copy_(1, L.tensor([3, 1]), s)),
    ("masked_fill_", lambda L, t, s: t.masked_fill_(t > 0.4, 7.0)),
    ("masked_scatter_", lambda L, t, s: t.masked_scatter_(t > 0.4, L.cat([s, s]))),
    ("fill_diagonal_", lambda L, t, s: t.fill_diagonal_(9.0)),
]


@pytest.mark.parametrize("name,fn", INPLACE_CASES, ids=[c[0] for c in INPLACE_CASES])
def test_inplace_forms_and_their_gradients(name, fn):
    s = np.random.default_rng(2).standard_normal((3, 2))
    w = np.random.default_rng(3).standard_normal(X.shape)
    results = []
    for L in (ad, torch):
        x = L.tensor(X, requires_grad=True)
        src = L.tensor(s, requires_grad=True)
        y = x * 1.0
        out = fn(L, y, src)
        assert out is y
        (y * L.tensor(w)).sum().backward()
        results.append((y, x.grad, src.grad))
    (y, gx, gs), (ty, tgx, tgs) = results
    np.testing.assert_allclose(y.data, ty.detach().numpy())
    np.testing.assert_allclose(gx.data, tgx.numpy())
    if tgs is not None:
        np.testing.assert_allclose(gs.data, tgs.numpy())


@pytest.mark.parametrize("shape,wrap", [((5, 3), False), ((7, 3), True), ((3, 5), True), ((3, 3, 3), False)])
def test_fill_diagonal(shape, wrap):
    a, t = ad.zeros(*shape), torch.zeros(*shape)
    a.fill_diagonal_(2.0, wrap=wrap)
    t.fill_diagonal_(2.0, wrap=wrap)
    np.testing.assert_array_equal(a.data, t.numpy())


SECOND_ORDER = [
    ("gather", lambda L, x: (x.gather(1, L.tensor([[1, 0], [2, 2]])) ** 3).sum()),
    ("scatter_add", lambda L, x: (x.scatter_add(1, L.tensor([[1, 1]]), x[:1, :2] ** 2) ** 2).sum()),
    ("diagonal", lambda L, x: (x.diagonal() ** 3).sum() + (L.diag_embed(x[0]) ** 3).sum()),
    ("tril/triu", lambda L, x: (x.tril(-1) ** 3).sum() + (L.triu(x) * x).sum()),
    ("einsum", lambda L, x: L.einsum("ij,kj->ik", x, x ** 2).sum()),
    ("sort/topk", lambda L, x: (x.sort(dim=1)[0] ** 3 * L.tensor([1.0, 2.0, 3.0])).sum() + (x.topk(1)[0] ** 3).sum()),
    ("flip/roll/repeat", lambda L, x: (x.flip(0).roll(1, 1).repeat(2, 1) ** 3).sum()),
    ("masked_fill", lambda L, x: (x.masked_fill(x > 0.5, 0.0) ** 3).sum()),
    ("index_select", lambda L, x: (x.index_select(1, L.tensor([2, 2, 0])) ** 3).sum()),
]


@pytest.mark.parametrize("name,fn", SECOND_ORDER, ids=[c[0] for c in SECOND_ORDER])
def test_second_derivatives(name, fn):
    x = np.random.default_rng(4).uniform(-1, 1, (2, 3))
    a, t = ad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (ga,) = ad.grad(fn(ad, a), [a], create_graph=True)
    (gt,) = torch.autograd.grad(fn(torch, t), [t], create_graph=True)
    np.testing.assert_allclose(ga.data, gt.detach().numpy(), rtol=1e-10)
    (gga,) = ad.grad((ga ** 2).sum(), [a])
    (ggt,) = torch.autograd.grad((gt ** 2).sum(), [t])
    np.testing.assert_allclose(gga.data, ggt.numpy(), rtol=1e-10, atol=1e-12)


def test_scatter_reduce_ties_and_zeros():
    """amax shares the gradient among ties (self included); prod's gradient is exact at zeros."""
    x = np.array([[1.0, 0.0, 2.0], [3.0, 3.0, 0.0]])
    s = np.array([[1.0, 2.0, 0.0], [3.0, 0.0, 5.0]])
    idx = np.array([[0, 0, 1], [0, 1, 2]])
    for reduce in ("amax", "amin", "prod"):
        for include_self in (True, False):
            res = []
            for L in (ad, torch):
                a, b = L.tensor(x, requires_grad=True), L.tensor(s, requires_grad=True)
                out = a.scatter_reduce(1, L.tensor(idx), b, reduce, include_self=include_self)
                (out * L.tensor(np.arange(6.0).reshape(2, 3) + 1)).sum().backward()
                res.append([np.asarray(v.data if hasattr(v, "data") and not isinstance(v, torch.Tensor) else v.detach())
                            for v in (out, a.grad, b.grad)])
            for ours, theirs in zip(*res):
                np.testing.assert_allclose(ours, theirs, err_msg=f"{reduce} include_self={include_self}")


EDGE_CASES = [
    ("gather empty", lambda L, t: t.gather(1, L.tensor(np.zeros((2, 0), np.int64)))),
    ("sort empty", lambda L, t: t[:, :0].sort(dim=1)[0]), ("topk 0", lambda L, t: t.topk(0)[0]),
    ("index_select empty", lambda L, t: t.index_select(0, L.tensor(np.zeros(0, np.int64)))),
    ("nonzero none", lambda L, t: (t * 0).nonzero()), ("masked_select none", lambda L, t: t.masked_select(t > 100)),
    ("einsum zero size", lambda L, t: L.einsum("ij,jk->ik", t[:, :0], t[:0])),
    ("unique empty", lambda L, t: L.unique(t[:0])), ("diag_embed empty", lambda L, t: t[:, :0].diag_embed()),
    ("repeat 0", lambda L, t: t.repeat(0, 2)), ("chunk empty", lambda L, t: t[:0].chunk(2)[0]),
    ("unfold one window", lambda L, t: t.unfold(1, 3, 5)), ("tril no rows", lambda L, t: t[:0].tril()),
    ("scatter 0-d", lambda L, t: t.sum().scatter(0, L.tensor(0), 5.0)), ("gather 0-d", lambda L, t: t.sum().gather(0, L.tensor(0))),
    ("sort 0-d", lambda L, t: t.sum().sort()[0]), ("topk 0-d", lambda L, t: t.sum().topk(1)[0]),
    ("squeeze 0-d", lambda L, t: t.sum().squeeze(0)), ("movedim 0-d", lambda L, t: t.sum().movedim(0, 0)),
    ("index_select 0-d", lambda L, t: t.sum().index_select(0, L.tensor([0]))), ("nonzero 0-d", lambda L, t: t.sum().nonzero()),
    ("nonzero 0-d tuple", lambda L, t: t.sum().nonzero(as_tuple=True)),
    ("masked_fill 0-d mask", lambda L, t: t.masked_fill(L.tensor(True), 1.0)),
    ("cartesian_prod one", lambda L, t: L.cartesian_prod(t[0])), ("atleast_2d several", lambda L, t: L.atleast_2d(t[0], t)),
]


@pytest.mark.parametrize("name,fn", EDGE_CASES, ids=[c[0] for c in EDGE_CASES])
def test_empty_and_0d(name, fn):
    a, t = both(X[:2, :3])
    same(fn(ad, a), fn(torch, t))


def test_zero_dim_integer_tensor_is_an_integer_index():
    x = np.arange(60.0).reshape(2, 5, 6)
    ours = ad.tensor(x)[ad.tensor(1), :, ad.tensor([1, 2, 3])]
    theirs = torch.tensor(x)[torch.tensor(1), :, torch.tensor([1, 2, 3])]
    same(ours, theirs)
    assert ours.shape == (5, 3)


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_on_integers(reduce, include_self):
    x = np.arange(12).reshape(3, 4) - 5
    idx = np.array([[0, 0, 1], [2, 2, 2], [3, 0, 1]])
    s = np.array([[3, -7, 2], [5, 1, -9], [4, 4, 4]])
    ours = ad.tensor(x).scatter_reduce(1, ad.tensor(idx), ad.tensor(s), reduce, include_self=include_self)
    theirs = torch.tensor(x).scatter_reduce(1, torch.tensor(idx), torch.tensor(s), reduce, include_self=include_self)
    same(ours, theirs)


@pytest.mark.filterwarnings("ignore:The reduce argument of torch.scatter")
@pytest.mark.parametrize("reduce", ["add", "multiply"])
def test_scatter_with_reduce_argument(reduce):
    x, idx = X, np.array([[0, 0, 1], [2, 2, 2], [3, 0, 1]])
    s = np.arange(9.0).reshape(3, 3) - 4
    same(ad.tensor(x).scatter(1, ad.tensor(idx), ad.tensor(s), reduce=reduce),
         torch.tensor(x).scatter(1, torch.tensor(idx), torch.tensor(s), reduce=reduce))
    same(ad.tensor(x).scatter(1, ad.tensor(idx), 2.0, reduce=reduce),
         torch.tensor(x).scatter(1, torch.tensor(idx), 2.0, reduce=reduce))


@pytest.mark.parametrize("name", ["t_", "transpose_", "swapdims_", "swapaxes_", "squeeze_", "unsqueeze_"])
def test_inplace_shape_ops(name):
    args = {"t_": (), "transpose_": (0, 1), "swapdims_": (1, 0), "swapaxes_": (0, 1), "squeeze_": (), "unsqueeze_": (0,)}[name]
    x = np.random.default_rng(5).standard_normal((3, 1))
    w = np.random.default_rng(6).standard_normal(6).reshape(-1)
    out = []
    for L in (ad, torch):
        leaf = L.tensor(x, requires_grad=True)
        y = leaf * 2.0
        assert getattr(y, name)(*args) is y
        (y.reshape(-1) * L.tensor(w[:y.reshape(-1).shape[0]])).sum().backward()
        out.append((y, leaf.grad))
        with pytest.raises(RuntimeError):
            getattr(leaf, name)(*args)
    same(out[0][0], out[1][0])
    same(out[0][1], out[1][1])
