"""scaled_dot_product_attention and MultiheadAttention against PyTorch (weights loaded), gradcheck."""
import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _ours(*arrays):
    return [ad.Tensor(a, requires_grad=True) for a in arrays]


def _theirs(torch, *arrays):
    return [torch.tensor(a, requires_grad=True) for a in arrays]


def _close(ours, theirs, tol):
    np.testing.assert_allclose(np.asarray(ours.data if isinstance(ours, ad.Tensor) else ours),
                               theirs.detach().numpy(), rtol=tol, atol=tol)


# --- scaled_dot_product_attention -------------------------------------------------------------------
SDPA_SHAPES = {
    "self 4d": ((2, 3, 5, 4), (2, 3, 5, 4), (2, 3, 5, 4)),
    "cross L!=S, Ev!=E": ((2, 3, 5, 4), (2, 3, 7, 4), (2, 3, 7, 6)),
    "3d": ((4, 6, 8), (4, 3, 8), (4, 3, 2)),
    "2d": ((5, 4), (6, 4), (6, 3)),
    "5d leading dims": ((2, 1, 2, 3, 4), (2, 1, 2, 4, 4), (2, 1, 2, 4, 4)),
    "broadcast batch": ((2, 3, 5, 4), (1, 3, 6, 4), (2, 1, 6, 4)),
}


def _mask(rng, kind, q_shape, k_shape):
    L, S = q_shape[-2], k_shape[-2]
    if kind == "none":
        return None
    if kind == "float 2d":
        return rng.standard_normal((L, S))
    if kind == "float full":
        lead = np.broadcast_shapes(q_shape[:-2], k_shape[:-2])
        return rng.standard_normal(lead + (L, S))
    m = rng.random((L, S)) > 0.4
    m[:, 0] = True  # every query keeps one key (an all-False row is NaN, in torch too)
    return m


@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-10), (np.float32, 2e-5)])
@pytest.mark.parametrize("shapes", list(SDPA_SHAPES.values()), ids=list(SDPA_SHAPES))
@pytest.mark.parametrize("variant", ["none", "float 2d", "float full", "bool", "causal", "scale"])
def test_sdpa_matches_torch(torch, rng, shapes, variant, dtype, tol):
    q, k, v = (rng.standard_normal(s).astype(dtype) for s in shapes)
    kw = {}
    mask = _mask(rng, variant if variant not in ("causal", "scale") else "none", shapes[0], shapes[1])
    if variant == "causal":
        kw["is_causal"] = True
    if variant == "scale":
        kw["scale"] = 0.37
    mask_grad = mask is not None and mask.dtype != bool
    tq, tk, tv = _ours(q, k, v)
    Q, K, V = _theirs(torch, q, k, v)
    ours_mask = theirs_mask = None
    if mask is not None:
        mask = mask.astype(dtype) if mask_grad else mask
        ours_mask = ad.Tensor(mask, requires_grad=True) if mask_grad else mask
        theirs_mask = torch.tensor(mask, requires_grad=mask_grad)
    out = F.scaled_dot_product_attention(tq, tk, tv, attn_mask=ours_mask, **kw)
    ref = torch.nn.functional.scaled_dot_product_attention(Q, K, V, attn_mask=theirs_mask, **kw)
    _close(out, ref, tol)
    g = rng.standard_normal(ref.shape).astype(dtype)
    (out * ad.Tensor(g)).sum().backward()
    (ref * torch.tensor(g)).sum().backward()
    for a, b in zip((tq, tk, tv), (Q, K, V)):
        _close(a.grad, b.grad, tol * 10)
    if mask_grad:
        _close(ours_mask.grad, theirs_mask.grad, tol * 10)


@pytest.mark.parametrize("variant", ["none", "float", "bool", "causal"])
def test_sdpa_gradcheck(rng, variant):
    q, k, v = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4)), rng.standard_normal((2, 5, 3))
    mask = None
    kw = {"is_causal": True} if variant == "causal" else {}
    if variant == "float":
        mask = ad.Tensor(rng.standard_normal((3, 5)), requires_grad=True)
    elif variant == "bool":
        mask = _mask(rng, "bool", (3, 4), (5, 4))
    inputs = [ad.Tensor(a, requires_grad=True) for a in (q, k, v)] + ([mask] if variant == "float" else [])

    def fn(q, k, v, m=None):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=m if variant == "float" else mask, **kw)

    assert ad.gradcheck(fn, inputs, eps=1e-6, atol=1e-7, rtol=1e-5)


def test_sdpa_second_order_matches_torch(torch, rng):
    """create_graph: the gradient of sum(grad_q^2) with respect to k, as torch computes it."""
    q, k, v = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4)), rng.standard_normal((2, 5, 3))
    mask = rng.standard_normal((3, 5))
    tq, tk, tv = _ours(q, k, v)
    out = F.scaled_dot_product_attention(tq, tk, tv, attn_mask=mask)
    (gq,) = ad.grad((out * out).sum(), [tq], create_graph=True)
    (gq * gq).sum().backward()
    Q, K, V = _theirs(torch, q, k, v)
    ref = torch.nn.functional.scaled_dot_product_attention(Q, K, V, attn_mask=torch.tensor(mask))
    (GQ,) = torch.autograd.grad((ref * ref).sum(), [Q], create_graph=True)
    (GQ * GQ).sum().backward()
    for a, b in zip((tk, tv), (K, V)):
        _close(a.grad, b.grad, 1e-9)


def test_sdpa_dropout_uses_one_mask_like_dropout(rng):
    """With the same seed, dropout inside attention equals softmax -> F.dropout -> @ v (values and grads);
    dropout_p=0 is exact attention."""
    q, k, v = (rng.standard_normal((2, 4, 3)) for _ in range(3))
    tq, tk, tv = _ours(q, k, v)
    ad.manual_seed(5)
    out = F.scaled_dot_product_attention(tq, tk, tv, dropout_p=0.4)
    out.sum().backward()
    rq, rk, rv = _ours(q, k, v)
    ad.manual_seed(5)
    weights = F.softmax((rq @ rk.swapaxes(-1, -2)) * (1 / np.sqrt(3)), dim=-1)
    ref = F.dropout(weights, p=0.4) @ rv
    ref.sum().backward()
    np.testing.assert_allclose(out.data, ref.data, rtol=1e-12)
    for a, b in zip((tq, tk, tv), (rq, rk, rv)):
        np.testing.assert_allclose(a.grad, b.grad, rtol=1e-10, atol=1e-12)
    exact = F.scaled_dot_product_attention(q, k, v, dropout_p=0.0)
    assert not np.allclose(exact.data, out.data)
    with ad.no_grad():
        np.testing.assert_allclose(exact.data, (weights @ rv).data, rtol=1e-12)


def test_sdpa_gqa_matches_torch(torch, rng):
    q, k, v = rng.standard_normal((2, 4, 5, 3)), rng.standard_normal((2, 2, 6, 3)), rng.standard_normal((2, 2, 6, 3))
    tq, tk, tv = _ours(q, k, v)
    Q, K, V = _theirs(torch, q, k, v)
    out = F.scaled_dot_product_attention(tq, tk, tv, enable_gqa=True)
    ref = torch.nn.functional.scaled_dot_product_attention(Q, K, V, enable_gqa=True)
    _close(out, ref, 1e-12)
    out.sum().backward()
    ref.sum().backward()
    _close(tk.grad, K.grad, 1e-12)


def test_sdpa_errors(rng):
    q, k, v = rng.standard_normal((2, 5, 4)), rng.standard_normal((2, 6, 4)), rng.standard_normal((2, 6, 3))
    with pytest.raises(ValueError, match=r"scaled_dot_product_attention.*\(2, 6, 3\)"):
        F.scaled_dot_product_attention(q, k[..., :3], v)
    with pytest.raises(ValueError, match=r"attn_mask of shape \(4, 6\).*\(2, 5, 6\)"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=np.ones((4, 6), bool))
    with pytest.raises(ValueError, match="either attn_mask or is_causal"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=np.ones((5, 6), bool), is_causal=True)
    with pytest.raises(ValueError, match=r"leading dims.*\(3, 6, 4\)"):
        F.scaled_dot_product_attention(q, rng.standard_normal((3, 6, 4)), rng.standard_normal((3, 6, 3)))


# --- MultiheadAttention ----------------------------------------------------------------------------
MHA_CONFIGS = {
    "default": {},
    "bias_kv": {"add_bias_kv": True},
    "zero_attn": {"add_zero_attn": True},
    "kdim vdim": {"kdim": 5, "vdim": 7},
    "no bias": {"bias": False},
    "dropout (eval)": {"dropout": 0.3},
}


def _mha_pair(torch, kw, batch_first, dtype=np.float64):
    theirs = torch.nn.MultiheadAttention(8, 2, batch_first=batch_first, dtype=getattr(torch, np.dtype(dtype).name), **kw)
    ours = nn.MultiheadAttention(8, 2, batch_first=batch_first, dtype=dtype, **kw)
    state = theirs.state_dict()
    assert list(state) == list(ours.state_dict())
    assert all(tuple(state[k].shape) == tuple(v.shape) for k, v in ours.state_dict().items())
    ours.load_state_dict({k: v.numpy() for k, v in state.items()})
    if kw.get("dropout"):
        ours.eval()
        theirs.eval()
    return ours, theirs


def _mha_inputs(rng, kw, batch_first, batched=True, L=4, S=6, N=3):
    def make(T, d):
        shape = ((N, T, d) if batch_first else (T, N, d)) if batched else (T, d)
        return rng.standard_normal(shape)
    return make(L, 8), make(S, kw.get("kdim", 8)), make(S, kw.get("vdim", 8))


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("kw", list(MHA_CONFIGS.values()), ids=list(MHA_CONFIGS))
@pytest.mark.parametrize("masks", ["none", "float both", "bool both", "bool attn, float kpm"])
@pytest.mark.parametrize("need_weights,average", [(True, True), (True, False), (False, True)])
def test_mha_matches_torch(torch, rng, kw, batch_first, masks, need_weights, average):
    ours, theirs = _mha_pair(torch, kw, batch_first)
    q, k, v = _mha_inputs(rng, kw, batch_first)
    L, S, N = 4, 6, 3
    kpm = attn = None
    if masks != "none":
        pad = rng.random((N, S)) > 0.7
        pad[:, 0] = False
        block = rng.random((L, S)) > 0.7
        block[:, 0] = False
        attn = rng.standard_normal((L, S)) if masks == "float both" else block
        kpm = np.where(pad, -np.inf, 0.0) if masks != "bool both" else pad
    tq, tk, tv = _ours(q, k, v)
    Q, K, V = _theirs(torch, q, k, v)
    args = dict(need_weights=need_weights, average_attn_weights=average)
    out, w = ours(tq, tk, tv, key_padding_mask=kpm, attn_mask=attn, **args)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns about mixed mask types
        ref, W = theirs(Q, K, V, key_padding_mask=None if kpm is None else torch.tensor(kpm),
                        attn_mask=None if attn is None else torch.tensor(attn), **args)
    _close(out, ref, 1e-10)
    if need_weights:
        _close(w, W, 1e-10)
        assert w.shape == ((N, L, S + kw.get("add_bias_kv", 0) + kw.get("add_zero_attn", 0)) if average
                           else (N, 2, L, S + kw.get("add_bias_kv", 0) + kw.get("add_zero_attn", 0)))
    else:
        assert w is None and W is None
    g = rng.standard_normal(ref.shape)
    (out * ad.Tensor(g)).sum().backward()
    (ref * torch.tensor(g)).sum().backward()
    for a, b in zip((tq, tk, tv), (Q, K, V)):
        _close(a.grad, b.grad, 1e-10)
    params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        _close(p.grad, params[name].grad, 1e-10)


@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_self_attention_causal_hint_and_unbatched(torch, rng, need_weights):
    """Self-attention (query is key is value), a causal attn_mask with is_causal=True, and unbatched input
    with a 3-d (num_heads, L, S) mask."""
    ours, theirs = _mha_pair(torch, {}, True)
    x = rng.standard_normal((3, 5, 8))
    mask = torch.nn.Transformer.generate_square_subsequent_mask(5, dtype=torch.float64)
    tx, = _ours(x)
    X, = _theirs(torch, x)
    out, _ = ours(tx, tx, tx, attn_mask=mask.numpy(), is_causal=True, need_weights=need_weights)
    ref, _ = theirs(X, X, X, attn_mask=mask, is_causal=True, need_weights=need_weights)
    _close(out, ref, 1e-10)
    out.sum().backward()
    ref.sum().backward()
    _close(tx.grad, X.grad, 1e-10)
    u = rng.standard_normal((5, 8))
    m3 = rng.standard_normal((2, 5, 5))
    kpm = np.where([False, True, False, False, True], -np.inf, 0.0)  # float, like the float attn_mask
    out, w = ours(u, u, u, attn_mask=m3, key_padding_mask=kpm, average_attn_weights=False)
    U = torch.tensor(u)
    ref, W = theirs(U, U, U, attn_mask=torch.tensor(m3), key_padding_mask=torch.tensor(kpm), average_attn_weights=False)
    _close(out, ref, 1e-10)
    _close(w, W, 1e-10)


def test_mha_float32_matches_torch(torch, rng):
    ours, theirs = _mha_pair(torch, {}, False, dtype=np.float32)
    q, k, v = (a.astype(np.float32) for a in _mha_inputs(rng, {}, False))
    out, w = ours(q, k, v)
    ref, W = theirs(*(torch.tensor(a) for a in (q, k, v)))
    assert out.dtype == np.float32
    _close(out, ref, 1e-5)
    _close(w, W, 1e-5)


def test_mha_dropout_train_eval_switch(rng):
    """Dropout on the attention weights acts in training only: eval equals the dropout=0 layer."""
    layer = nn.MultiheadAttention(8, 2, dropout=0.5, dtype=np.float64)
    plain = nn.MultiheadAttention(8, 2, dropout=0.0, dtype=np.float64)
    plain.load_state_dict(layer.state_dict())
    x = rng.standard_normal((4, 2, 8))
    for need_weights in (True, False):
        train_out, _ = layer(x, x, x, need_weights=need_weights)
        assert not np.allclose(train_out.data, plain(x, x, x)[0].data)
        layer.eval()
        np.testing.assert_allclose(layer(x, x, x, need_weights=need_weights)[0].data, plain(x, x, x)[0].data,
                                   rtol=1e-12)
        layer.train()


def test_mha_parameters_and_init(torch):
    layer = nn.MultiheadAttention(12, 3, add_bias_kv=True, kdim=4, vdim=6)
    names = [n for n, _ in layer.named_parameters()]
    ref = [n for n, _ in torch.nn.MultiheadAttention(12, 3, add_bias_kv=True, kdim=4, vdim=6).named_parameters()]
    assert names == ref
    assert layer.in_proj_weight is None and layer.k_proj_weight.shape == (12, 4)
    assert np.all(layer.in_proj_bias.data == 0) and np.all(layer.out_proj.bias.data == 0)
    same = nn.MultiheadAttention(12, 3)
    bound = np.sqrt(6.0 / (36 + 12))  # xavier_uniform_ on (3E, E)
    assert np.abs(same.in_proj_weight.data).max() <= bound and same.in_proj_weight.data.std() > bound / 3
    assert same.head_dim == 4


def test_mha_errors(rng):
    with pytest.raises(ValueError, match=r"MultiheadAttention: embed_dim=10 must be divisible by num_heads=3"):
        nn.MultiheadAttention(10, 3)
    layer = nn.MultiheadAttention(8, 2, kdim=5, vdim=5)
    q, k = rng.standard_normal((4, 2, 8)), rng.standard_normal((6, 2, 5))
    with pytest.raises(ValueError, match=r"key of shape \(6, 2, 8\).*kdim=5"):
        layer(q, rng.standard_normal((6, 2, 8)), k)
    with pytest.raises(ValueError, match=r"attn_mask of shape \(4, 5\).*expected \(4, 6\) or \(4, 4, 6\)"):
        layer(q, k, k, attn_mask=np.zeros((4, 5)))
    with pytest.raises(ValueError, match=r"key_padding_mask of shape \(2, 6\), got \(6, 2\)"):
        layer(q, k, k, key_padding_mask=np.zeros((6, 2), bool))
    with pytest.raises(ValueError, match="is_causal=True needs attn_mask"):
        layer(q, k, k, is_causal=True)
    with pytest.raises(ValueError, match=r"query of shape \(4, 2, 7\).*embed_dim=8"):
        layer(rng.standard_normal((4, 2, 7)), k, k)


@pytest.mark.parametrize("same", ["self", "kv", "separate"])
def test_mha_second_order_matches_torch(torch, rng, same):
    """Gradient of sum((d sum(out^2) / d query)^2) with respect to the weights, through our one-node
    attention: the head split, projections and attention all record their own backward."""
    ours, theirs = _mha_pair(torch, {}, True)
    x, m = rng.standard_normal((2, 4, 8)), rng.standard_normal((2, 5, 8))
    tx, tm = _ours(x, m)
    X, M = _theirs(torch, x, m)
    args = {"self": lambda a, b: (a, a, a), "kv": lambda a, b: (a, b, b), "separate": lambda a, b: (a, b, b * 1)}[same]
    out, _ = ours(*args(tx, tm), need_weights=False)
    (gx,) = ad.grad((out * out).sum(), [tx], create_graph=True)
    (gx * gx).sum().backward()
    ref, _ = theirs(*args(X, M), need_weights=True)  # torch's math path (its fused one has no double backward)
    (GX,) = torch.autograd.grad((ref * ref).sum(), [X], create_graph=True)
    (GX * GX).sum().backward()
    params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        _close(p.grad, params[name].grad, 1e-9)


def test_split_heads_gradcheck(rng):
    x = ad.Tensor(rng.standard_normal((2, 3, 12)), requires_grad=True)
    weights = [rng.standard_normal((2, 2, 3, 2)) for _ in range(3)]

    def fn(x):
        q, k, v = F.split_heads(x, parts=3, heads=2)
        return (q * weights[0]).sum() + (k * weights[1]).sum() + (v * weights[2]).sum()

    q, k, v = F.split_heads(x, parts=3, heads=2)
    np.testing.assert_array_equal(k.data[1, 0, 2], x.data[1, 2, 4:6])  # part 1, head 0, position 2
    assert ad.gradcheck(fn, [x], eps=1e-6, atol=1e-7, rtol=1e-5)
    with pytest.raises(ValueError, match=r"split_heads: last dim 12 of shape \(2, 3, 12\).*5 \* 2"):
        F.split_heads(x, parts=5, heads=2)
