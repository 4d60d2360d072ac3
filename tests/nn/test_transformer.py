"""Transformer layers, stacks and nn.Transformer against PyTorch with its weights loaded; GELU and SiLU."""
import warnings

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F

# torch warns that its nested-tensor fast path is off for these layer settings
pytestmark = pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _close(ours, theirs, tol):
    np.testing.assert_allclose(np.asarray(ours.data if isinstance(ours, ad.Tensor) else ours),
                               theirs.detach().numpy(), rtol=tol, atol=tol)


def _load(ours, theirs):
    state = theirs.state_dict()
    assert list(state) == list(ours.state_dict())
    ours.load_state_dict({k: v.numpy() for k, v in state.items()})


def _torch_activation(torch, name):
    return {"relu": "relu", "gelu": "gelu", "gelu tanh module": torch.nn.GELU(approximate="tanh")}[name]


def _our_activation(name):
    return {"relu": "relu", "gelu": "gelu", "gelu tanh module": nn.GELU(approximate="tanh")}[name]


def _check_grads(ours, theirs, pairs, tol):
    for a, b in pairs:
        _close(a.grad, b.grad, tol)
    params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        _close(p.grad, params[name].grad, tol)


LAYER_CASES = [(nf, act, bf) for nf in (False, True) for act in ("relu", "gelu", "gelu tanh module")
               for bf in (False, True)]


@pytest.mark.parametrize("norm_first,activation,batch_first", LAYER_CASES)
@pytest.mark.parametrize("masks", ["none", "causal", "bool padding"])
def test_encoder_layer_matches_torch(torch, rng, norm_first, activation, batch_first, masks):
    kw = dict(dim_feedforward=16, dropout=0.0, batch_first=batch_first, norm_first=norm_first, dtype=None)
    theirs = torch.nn.TransformerEncoderLayer(8, 2, activation=_torch_activation(torch, activation),
                                              **{**kw, "dtype": torch.float64})
    ours = nn.TransformerEncoderLayer(8, 2, activation=_our_activation(activation), **{**kw, "dtype": np.float64})
    _load(ours, theirs)
    x = rng.standard_normal((3, 5, 8) if batch_first else (5, 3, 8))
    args, targs = {}, {}
    if masks == "causal":
        m = torch.nn.Transformer.generate_square_subsequent_mask(5, dtype=torch.float64)
        args, targs = dict(src_mask=m.numpy(), is_causal=True), dict(src_mask=m, is_causal=True)
    elif masks == "bool padding":
        pad = rng.random((3, 5)) > 0.6
        pad[:, 0] = False
        args, targs = dict(src_key_padding_mask=pad), dict(src_key_padding_mask=torch.tensor(pad))
    tx = ad.Tensor(x, requires_grad=True)
    X = torch.tensor(x, requires_grad=True)
    out, ref = ours(tx, **args), theirs(X, **targs)
    _close(out, ref, 1e-10)
    g = rng.standard_normal(ref.shape)
    (out * ad.Tensor(g)).sum().backward()
    (ref * torch.tensor(g)).sum().backward()
    _check_grads(ours, theirs, [(tx, X)], 1e-9)


@pytest.mark.parametrize("norm_first,activation,batch_first", LAYER_CASES)
def test_decoder_layer_matches_torch(torch, rng, norm_first, activation, batch_first):
    kw = dict(dim_feedforward=16, dropout=0.0, batch_first=batch_first, norm_first=norm_first)
    theirs = torch.nn.TransformerDecoderLayer(8, 2, activation=_torch_activation(torch, activation),
                                              dtype=torch.float64, **kw)
    ours = nn.TransformerDecoderLayer(8, 2, activation=_our_activation(activation), dtype=np.float64, **kw)
    _load(ours, theirs)
    tgt = rng.standard_normal((3, 4, 8) if batch_first else (4, 3, 8))
    mem = rng.standard_normal((3, 6, 8) if batch_first else (6, 3, 8))
    mpad = rng.random((3, 6)) > 0.6
    mpad[:, 0] = False
    causal = torch.nn.Transformer.generate_square_subsequent_mask(4, dtype=torch.float64)
    mmask = rng.standard_normal((4, 6))
    t1, m1 = ad.Tensor(tgt, requires_grad=True), ad.Tensor(mem, requires_grad=True)
    T1, M1 = torch.tensor(tgt, requires_grad=True), torch.tensor(mem, requires_grad=True)
    out = ours(t1, m1, tgt_mask=causal.numpy(), memory_mask=mmask, memory_key_padding_mask=mpad, tgt_is_causal=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = theirs(T1, M1, tgt_mask=causal, memory_mask=torch.tensor(mmask),
                     memory_key_padding_mask=torch.tensor(mpad), tgt_is_causal=True)
    _close(out, ref, 1e-10)
    g = rng.standard_normal(ref.shape)
    (out * ad.Tensor(g)).sum().backward()
    (ref * torch.tensor(g)).sum().backward()
    _check_grads(ours, theirs, [(t1, T1), (m1, M1)], 1e-9)


@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer_matches_torch(torch, rng, batch_first):
    kw = dict(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=16, dropout=0.0,
              batch_first=batch_first)
    theirs = torch.nn.Transformer(**kw, dtype=torch.float64)
    ours = nn.Transformer(**kw, dtype=np.float64)
    _load(ours, theirs)
    src = rng.standard_normal((2, 5, 8) if batch_first else (5, 2, 8))
    tgt = rng.standard_normal((2, 4, 8) if batch_first else (4, 2, 8))
    tmask = nn.Transformer.generate_square_subsequent_mask(4, dtype=np.float64)
    np.testing.assert_array_equal(tmask.data, torch.nn.Transformer.generate_square_subsequent_mask(4).numpy())
    spad = np.zeros((2, 5), bool)
    spad[1, 3:] = True
    s1, t1 = ad.Tensor(src, requires_grad=True), ad.Tensor(tgt, requires_grad=True)
    S1, T1 = torch.tensor(src, requires_grad=True), torch.tensor(tgt, requires_grad=True)
    out = ours(s1, t1, tgt_mask=tmask, src_key_padding_mask=spad, memory_key_padding_mask=spad)
    ref = theirs(S1, T1, tgt_mask=torch.tensor(tmask.data), src_key_padding_mask=torch.tensor(spad),
                 memory_key_padding_mask=torch.tensor(spad))
    _close(out, ref, 1e-10)
    out.sum().backward()
    ref.sum().backward()
    _check_grads(ours, theirs, [(s1, S1), (t1, T1)], 1e-9)


def test_transformer_init_and_stacks(torch):
    model = nn.Transformer(d_model=16, nhead=4, num_encoder_layers=3, num_decoder_layers=2, dim_feedforward=32)
    ref = torch.nn.Transformer(d_model=16, nhead=4, num_encoder_layers=3, num_decoder_layers=2, dim_feedforward=32)
    assert list(model.state_dict()) == list(ref.state_dict())
    layers = model.encoder.layers
    assert len(layers) == 3 and layers[0] is not layers[1]
    assert layers[0].linear1.weight is not layers[1].linear1.weight  # deep copies
    assert not np.array_equal(layers[0].linear1.weight.data, layers[1].linear1.weight.data)  # re-drawn by xavier
    bound = np.sqrt(6.0 / (16 + 32))
    assert np.abs(layers[0].linear1.weight.data).max() <= bound
    layer = nn.TransformerEncoderLayer(16, 4, dim_feedforward=32)
    stack = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(16))
    assert list(stack.state_dict()) == list(torch.nn.TransformerEncoder(
        torch.nn.TransformerEncoderLayer(16, 4, dim_feedforward=32), 2, norm=torch.nn.LayerNorm(16),
        enable_nested_tensor=False).state_dict())
    np.testing.assert_array_equal(stack.layers[1].linear1.weight.data, layer.linear1.weight.data)


@pytest.mark.parametrize("bias", [True, False])
def test_encoder_stack_with_causal_detection_matches_torch(torch, rng, bias):
    theirs_layer = torch.nn.TransformerEncoderLayer(8, 2, 16, 0.0, batch_first=True, bias=bias, dtype=torch.float64)
    theirs = torch.nn.TransformerEncoder(theirs_layer, 2, norm=torch.nn.LayerNorm(8, bias=bias, dtype=torch.float64),
                                         enable_nested_tensor=False)
    ours = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, 0.0, batch_first=True, bias=bias,
                                                            dtype=np.float64), 2,
                                 norm=nn.LayerNorm(8, bias=bias, dtype=np.float64))
    _load(ours, theirs)
    x = rng.standard_normal((2, 5, 8))
    mask = torch.nn.Transformer.generate_square_subsequent_mask(5, dtype=torch.float64)
    _close(ours(x, mask=mask.numpy()), theirs(torch.tensor(x), mask=mask), 1e-10)
    dec_theirs = torch.nn.TransformerDecoder(torch.nn.TransformerDecoderLayer(8, 2, 16, 0.0, dtype=torch.float64), 2)
    dec_ours = nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 16, 0.0, dtype=np.float64), 2)
    _load(dec_ours, dec_theirs)
    t, m = rng.standard_normal((5, 2, 8)), rng.standard_normal((3, 2, 8))
    _close(dec_ours(t, m, tgt_mask=mask.numpy()), dec_theirs(torch.tensor(t), torch.tensor(m), tgt_mask=mask), 1e-10)


@pytest.mark.parametrize("cls", ["encoder", "decoder"])
def test_layer_dropout_train_eval_switch(rng, cls):
    """With dropout > 0 training outputs vary between calls; eval equals the same layer built with dropout 0."""
    make = (lambda p: nn.TransformerEncoderLayer(8, 2, 16, p, dtype=np.float64)) if cls == "encoder" else \
        (lambda p: nn.TransformerDecoderLayer(8, 2, 16, p, dtype=np.float64))
    layer, plain = make(0.3), make(0.0)
    plain.load_state_dict(layer.state_dict())
    x = rng.standard_normal((4, 2, 8))
    args = (x,) if cls == "encoder" else (x, rng.standard_normal((3, 2, 8)))
    a, b = layer(*args).data, layer(*args).data
    assert not np.allclose(a, b)
    layer.eval()
    np.testing.assert_allclose(layer(*args).data, plain(*args).data, rtol=1e-12)


def test_transformer_errors(rng):
    model = nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=8)
    with pytest.raises(ValueError, match=r"batch number of src \(5, 2, 8\) and tgt \(4, 3, 8\)"):
        model(rng.standard_normal((5, 2, 8)), rng.standard_normal((4, 3, 8)))
    with pytest.raises(ValueError, match=r"feature number.*\(4, 2, 6\).*d_model=8"):
        model(rng.standard_normal((5, 2, 8)), rng.standard_normal((4, 2, 6)))
    with pytest.raises(ValueError, match="TransformerEncoderLayer: activation should be relu/gelu, not tanh"):
        nn.TransformerEncoderLayer(8, 2, activation="tanh")
    layer = nn.TransformerEncoderLayer(8, 2, 8)
    with pytest.raises(ValueError, match=r"MultiheadAttention: attn_mask of shape \(3, 3\)"):
        layer(rng.standard_normal((5, 2, 8)), src_mask=np.zeros((3, 3)))


# --- GELU and SiLU -------------------------------------------------------------------------------
ACTS = {
    "gelu": (lambda x: F.gelu(x), lambda t, x: t.nn.functional.gelu(x)),
    "gelu tanh": (lambda x: F.gelu(x, approximate="tanh"), lambda t, x: t.nn.functional.gelu(x, approximate="tanh")),
    "silu": (F.silu, lambda t, x: t.nn.functional.silu(x)),
    "GELU module": (nn.GELU(), lambda t, x: t.nn.GELU()(x)),
    "GELU tanh module": (nn.GELU("tanh"), lambda t, x: t.nn.GELU("tanh")(x)),
    "SiLU module": (nn.SiLU(), lambda t, x: t.nn.SiLU()(x)),
}


@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 1e-5)])
@pytest.mark.parametrize("shape", [(), (7,), (3, 40000)])
@pytest.mark.parametrize("name", list(ACTS))
def test_activation_matches_torch(torch, rng, name, shape, dtype, tol):
    ours_fn, torch_fn = ACTS[name]
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    tx = ad.Tensor(x, requires_grad=True)
    X = torch.tensor(x, requires_grad=True)
    out, ref = ours_fn(tx), torch_fn(torch, X)
    assert out.dtype == dtype and out.shape == shape
    _close(out, ref, tol)
    g = rng.standard_normal(shape).astype(dtype)
    (out * ad.Tensor(g)).sum().backward()
    (ref * torch.tensor(g)).sum().backward()
    _close(tx.grad, X.grad, tol * 4)


@pytest.mark.parametrize("name", ["gelu", "gelu tanh", "silu"])
def test_activation_gradcheck_and_second_order(torch, rng, name):
    ours_fn, torch_fn = ACTS[name]
    x = rng.standard_normal((3, 4)) * 2
    assert ad.gradcheck(ours_fn, [ad.Tensor(x, requires_grad=True)], eps=1e-6, atol=1e-7, rtol=1e-5)
    tx = ad.Tensor(x, requires_grad=True)
    (gx,) = ad.grad(ours_fn(tx).sum(), [tx], create_graph=True)
    gx.sum().backward()
    X = torch.tensor(x, requires_grad=True)
    (GX,) = torch.autograd.grad(torch_fn(torch, X).sum(), [X], create_graph=True)
    GX.sum().backward()
    _close(tx.grad, X.grad, 1e-10)


def test_gelu_errors_and_repr():
    with pytest.raises(ValueError, match="GELU: approximate must be 'none' or 'tanh', got 'fast'"):
        nn.GELU("fast")
    with pytest.raises(ValueError, match="gelu: approximate"):
        F.gelu(np.ones(3), approximate="sigmoid")
    assert repr(nn.GELU("tanh")) == "GELU(approximate='tanh')"
    assert repr(nn.SiLU()) == "SiLU()"


def test_unbatched_transformer_matches_torch(torch, rng):
    kw = dict(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=16, dropout=0.0,
              norm_first=True, activation="gelu")
    theirs = torch.nn.Transformer(**kw, dtype=torch.float64)
    ours = nn.Transformer(**kw, dtype=np.float64)
    _load(ours, theirs)
    src, tgt = rng.standard_normal((5, 8)), rng.standard_normal((4, 8))
    tmask = torch.nn.Transformer.generate_square_subsequent_mask(4, dtype=torch.float64)
    s1, t1 = ad.Tensor(src, requires_grad=True), ad.Tensor(tgt, requires_grad=True)
    S1, T1 = torch.tensor(src, requires_grad=True), torch.tensor(tgt, requires_grad=True)
    out = ours(s1, t1, tgt_mask=tmask.numpy())
    ref = theirs(S1, T1, tgt_mask=tmask)
    assert out.shape == (4, 8)
    _close(out, ref, 1e-10)
    out.sum().backward()
    ref.sum().backward()
    _check_grads(ours, theirs, [(s1, S1), (t1, T1)], 1e-9)
