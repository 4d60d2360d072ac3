"""nn.onnx.export: each model's ONNX file passes onnx.checker and onnxruntime gives our outputs.

Every case exports at one size, checks the model with ``onnx.checker.check_model(full_check=True)``,
runs it in onnxruntime's CPU provider and compares with our forward (1e-5, float32), then runs it
again at a second batch size (and sequence length where the case declares one) through the dynamic axes.
"""
import numpy as np
import pytest

import autodiff as ad
import nn
from nn.models.lenet import LeNet

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
import nn.onnx  # noqa: E402

ATOL = 1e-5


def _outputs(model, arrays):
    with ad.no_grad():
        out = model(*[ad.Tensor(a) for a in arrays])
    return [t.data for t in nn.onnx.trace.flatten(out)]


def roundtrip(tmp_path, model, inputs, dynamic_axes, second, input_names=None, atol=ATOL):
    """Export ``model`` at ``inputs``, check it, and compare onnxruntime with ours at both input sets."""
    model.eval()
    path = tmp_path / "model.onnx"
    nn.onnx.export(model, tuple(ad.Tensor(a) for a in inputs), path, input_names=input_names,
                   dynamic_axes=dynamic_axes)
    proto = onnx.load(path)
    onnx.checker.check_model(proto, full_check=True)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    for arrays in (inputs, second):
        ours = _outputs(model, arrays)
        theirs = session.run(None, dict(zip(names, arrays)))
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            assert a.shape == b.shape
            np.testing.assert_allclose(b, a, rtol=0, atol=atol)
    return proto


def f32(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


def _randomise_stats(model, rng):
    """Give BatchNorm layers running statistics other than 0 and 1 (as after training)."""
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            if m.running_mean is not None:
                m.running_mean.data[...] = rng.standard_normal(m.num_features)
                m.running_var.data[...] = rng.uniform(0.5, 2.0, m.num_features)
            if m.affine:
                m.weight.data[...] = rng.uniform(0.5, 1.5, m.num_features)
                m.bias.data[...] = rng.standard_normal(m.num_features)
    return model


BATCH = {"x": {0: "batch"}}


def test_mlp(tmp_path, rng):
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 8), nn.Tanh(), nn.Linear(8, 3),
                          nn.Softmax(dim=-1))
    proto = roundtrip(tmp_path, model, [f32(rng, 1, 6)], BATCH, [f32(rng, 7, 6)])
    inits = {i.name: onnx.numpy_helper.to_array(i) for i in proto.graph.initializer}
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(inits[key], np.asarray(value))
    assert proto.opset_import[0].version == nn.onnx.DEFAULT_OPSET
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"


def test_lenet(tmp_path, rng):
    roundtrip(tmp_path, LeNet(), [f32(rng, 2, 1, 28, 28)], BATCH, [f32(rng, 5, 1, 28, 28)])


def test_lenet_flat_input(tmp_path, rng):
    """LeNet reshapes (N, 784) input itself: the reshape keeps the batch dynamic."""
    roundtrip(tmp_path, LeNet(), [f32(rng, 2, 784)], BATCH, [f32(rng, 3, 784)])


def test_conv1d_net(tmp_path, rng):
    model = nn.Sequential(
        nn.Conv1d(3, 8, 3, stride=2, padding=1), nn.ReLU(),
        nn.Conv1d(8, 8, 3, padding="same", dilation=2, groups=4, padding_mode="reflect"), nn.ELU(),
        nn.Conv1d(8, 4, 5, padding=2, padding_mode="replicate", bias=False), nn.MaxPool1d(2),
        nn.AvgPool1d(2), nn.Flatten(), nn.Linear(4 * 4, 5))
    roundtrip(tmp_path, model, [f32(rng, 2, 3, 32)], BATCH, [f32(rng, 6, 3, 32)])


def test_conv1d_dynamic_length(tmp_path, rng):
    """A dynamic length through conv, pooling and a global average."""
    model = nn.Sequential(nn.Conv1d(2, 4, 3, padding=1), nn.ReLU(), nn.MaxPool1d(2),
                          nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(4, 2))
    roundtrip(tmp_path, model, [f32(rng, 2, 2, 16)], {"x": {0: "batch", 2: "length"}}, [f32(rng, 3, 2, 21)])


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
def test_conv2d_padding_modes_and_pools(tmp_path, rng, mode):
    model = nn.Sequential(
        nn.Conv2d(2, 4, 3, stride=(1, 2), padding=(1, 2), padding_mode=mode), nn.LeakyReLU(0.1),
        nn.Conv2d(4, 4, 3, padding=1, dilation=1, groups=2), nn.AvgPool2d(2, stride=1, padding=1),
        nn.MaxPool2d(3, stride=2, padding=1), nn.AdaptiveAvgPool2d((2, 3)), nn.Flatten())
    roundtrip(tmp_path, model, [f32(rng, 2, 2, 12, 12)], BATCH, [f32(rng, 3, 2, 12, 12)])


def test_adaptive_pool_uneven_cells(tmp_path, rng):
    model = nn.Sequential(nn.AdaptiveAvgPool2d((3, 2)), nn.Flatten())
    roundtrip(tmp_path, model, [f32(rng, 2, 3, 7, 5)], BATCH, [f32(rng, 4, 3, 7, 5)])


def test_batchnorm_nets(tmp_path, rng):
    model = _randomise_stats(nn.Sequential(
        nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(2), nn.BatchNorm1d(4),
        nn.Flatten(), nn.Linear(4 * 36, 6), nn.BatchNorm1d(6), nn.Sigmoid()), rng)
    proto = roundtrip(tmp_path, model, [f32(rng, 2, 3, 8, 8)], BATCH, [f32(rng, 5, 3, 8, 8)])
    assert [n.op_type for n in proto.graph.node].count("BatchNormalization") == 3


def test_batchnorm_without_affine_or_running_stats(tmp_path, rng):
    """affine=False uses ones/zeros; track_running_stats=False normalises with the batch's statistics."""
    model = _randomise_stats(nn.Sequential(nn.Linear(4, 5), nn.BatchNorm1d(5, affine=False),
                                           nn.BatchNorm1d(5, track_running_stats=False)), rng)
    roundtrip(tmp_path, model, [f32(rng, 4, 4)], BATCH, [f32(rng, 9, 4)])


def test_layernorm_net(tmp_path, rng):
    model = nn.Sequential(nn.Linear(4, 6), nn.LayerNorm(6), nn.GELU(), nn.Linear(6, 6),
                          nn.LayerNorm(6, elementwise_affine=False), nn.Linear(6, 3), nn.LogSoftmax(dim=-1))
    roundtrip(tmp_path, model, [f32(rng, 2, 5, 4)], {"x": {0: "batch", 1: "seq"}}, [f32(rng, 3, 8, 4)])


class EmbeddingNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(20, 8, padding_idx=0)
        self.fc = nn.Linear(8, 3)

    def forward(self, tokens):
        return self.fc(self.emb(tokens)).mean(axis=1)


def test_embedding_linear(tmp_path, rng):
    roundtrip(tmp_path, EmbeddingNet(), [rng.integers(0, 20, (2, 5))], {"tokens": {0: "batch", 1: "seq"}},
              [rng.integers(0, 20, (4, 9))])


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_recurrent(tmp_path, rng, kind, num_layers, batch_first, bidirectional):
    model = getattr(nn, kind)(3, 5, num_layers=num_layers, batch_first=batch_first, bidirectional=bidirectional)
    batch, seq = (1, 0) if not batch_first else (0, 1)
    dyn = {"input": {batch: "batch", seq: "seq"}}
    proto = roundtrip(tmp_path, model, [f32(rng, 2, 4, 3)], dyn, [f32(rng, 5, 3, 3)])
    onnx_op = "RNN" if kind == "RNN" else kind
    assert [n.op_type for n in proto.graph.node].count(onnx_op) == num_layers * (1 + bidirectional)
    assert {i.name for i in proto.graph.initializer} >= set(model.state_dict())


def test_rnn_relu_no_bias(tmp_path, rng):
    model = nn.RNN(3, 4, nonlinearity="relu", bias=False)
    roundtrip(tmp_path, model, [f32(rng, 4, 2, 3)], {"input": {1: "batch"}}, [f32(rng, 4, 5, 3)])


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_recurrent_initial_states(tmp_path, rng, kind):
    """Initial states as graph inputs sharing the batch axis with the sequence."""
    model = getattr(nn, kind)(3, 4, num_layers=2, bidirectional=True, batch_first=True)
    n_states = 2 if kind == "LSTM" else 1
    states = [f32(rng, 4, 2, 4) for _ in range(n_states)]
    states2 = [f32(rng, 4, 3, 4) for _ in range(n_states)]
    names = ["x"] + [f"s{k}" for k in range(n_states)]
    dyn = {"x": {0: "batch"}, **{f"s{k}": {1: "batch"} for k in range(n_states)}}

    class Wrapper(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = model

        def forward(self, x, *s):
            return self.rnn(x, s if len(s) == 2 else s[0])

    roundtrip(tmp_path, Wrapper(), [f32(rng, 2, 5, 3)] + states, dyn, [f32(rng, 3, 5, 3)] + states2,
              input_names=names)


@pytest.mark.parametrize("batch_first", [False, True])
def test_lstm_projections_as_scan(tmp_path, rng, batch_first):
    model = nn.LSTM(3, 6, num_layers=2, proj_size=2, bidirectional=True, batch_first=batch_first)
    batch, seq = (0, 1) if batch_first else (1, 0)
    proto = roundtrip(tmp_path, model, [f32(rng, 4, 2, 3)], {"input": {batch: "batch", seq: "seq"}},
                      [f32(rng, 5, 3, 3)])
    assert [n.op_type for n in proto.graph.node].count("Scan") == 4


@pytest.mark.parametrize("cell", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells(tmp_path, rng, cell):
    model = getattr(nn, cell)(3, 4)
    roundtrip(tmp_path, model, [f32(rng, 2, 3)], {"input": {0: "batch"}}, [f32(rng, 5, 3)])


def _activation_modules():
    """Every activation layer nn exports (the classes of its activation modules), with arguments."""
    import inspect
    args = {"PReLU": (4,), "Threshold": (0.1, -2.0)}
    found = []
    for name in sorted(dir(nn)):
        cls = getattr(nn, name)
        if inspect.isclass(cls) and issubclass(cls, nn.Module) and cls.__module__.startswith("nn.layers.activation"):
            found.append(pytest.param(cls, args.get(name, ()), id=name))
    return found


@pytest.mark.parametrize("cls, args", _activation_modules())
def test_every_activation(tmp_path, rng, cls, args):
    x = f32(rng, 2, 4, 6) * 3
    roundtrip(tmp_path, cls(*args), [x], {"input": {0: "batch"}}, [f32(rng, 3, 4, 6) * 3])


class TensorOps(nn.Module):
    """Elementwise ops, reductions and shape ops as they appear in hand-written forwards."""

    def forward(self, x, y):
        a = (x * 0.5 - y / 3 + 1) ** 2
        b = (x.abs() + 1).log() + x.exp() * 0.1 + (y * y + 1).sqrt() - x.sin() * x.cos()
        c = ad.maximum(a, b) - ad.minimum(a, b).clip(-1, 1)
        d = ad.where(np.arange(6) % 2 == 0, c, -c)
        red = d.sum(axis=1, keepdims=True) * 0.1 + d.mean(axis=-1, keepdims=True) + d.var(axis=1, keepdims=True) \
            + d.amax(axis=1, keepdims=True) - d.amin(axis=1, keepdims=True) + d.logsumexp(axis=1, keepdims=True) \
            + d.max() - d.min()
        e = (d - red).reshape(-1, 2, 3).permute(0, 2, 1).reshape(x.shape[0], -1)
        f = ad.cat([e[:, :2], e[:, 2:][:, ::-1]], axis=1)
        g = ad.stack([f, y], axis=1).sum(axis=1).unsqueeze(1).squeeze(1)
        h = (g @ ad.Tensor(np.linspace(-0.5, 0.5, 42, dtype=np.float32).reshape(7, 6)).T)
        parts = h.split(3, axis=1)
        return parts[0].softmax(axis=1), parts[1].log_softmax(axis=-1), h[..., None, 0].pad(((0, 0), (1, 2))), \
            d.sum(), x.sigmoid().broadcast_to((3,) + tuple(x.shape)).mean(axis=0)


def test_tensor_ops(tmp_path, rng):
    dyn = {"x": {0: "batch"}, "y": {0: "batch"}}
    roundtrip(tmp_path, TensorOps(), [f32(rng, 2, 6), f32(rng, 2, 7)[:, :6].copy()], dyn,
              [f32(rng, 5, 6), f32(rng, 5, 6)])


def test_transformer_encoder(tmp_path, rng):
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, batch_first=True)
    model = nn.TransformerEncoder(layer, num_layers=2)
    roundtrip(tmp_path, model, [f32(rng, 2, 5, 8)], {"src": {0: "batch", 1: "seq"}}, [f32(rng, 3, 7, 8)])


class CausalEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, batch_first=True, norm_first=True,
                                                activation="gelu")

    def forward(self, x):
        mask = nn.Transformer.generate_square_subsequent_mask(x.shape[1])
        return self.layer(x, src_mask=mask, is_causal=True)


def test_transformer_causal_mask_dynamic_length(tmp_path, rng):
    """The causal mask made inside forward follows the dynamic sequence length."""
    roundtrip(tmp_path, CausalEncoder(), [f32(rng, 2, 5, 8)], {"x": {0: "batch", 1: "seq"}}, [f32(rng, 3, 7, 8)])


class SelfAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.attention = nn.MultiheadAttention(8, 2)

    def forward(self, x):
        return self.attention(x, x, x)


def test_multihead_attention(tmp_path, rng):
    """Output and the head-averaged attention weights, sequence-first, dynamic batch and length."""
    roundtrip(tmp_path, SelfAttention(), [f32(rng, 5, 2, 8)], {"x": {0: "seq", 1: "batch"}}, [f32(rng, 6, 3, 8)])


def test_conv_transpose_2d(tmp_path, rng):
    model = nn.Sequential(nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
                          nn.ConvTranspose2d(4, 2, (2, 3), groups=2, dilation=2))
    roundtrip(tmp_path, model, [f32(rng, 2, 3, 5, 5)], BATCH, [f32(rng, 3, 3, 5, 5)])


def test_conv_transpose_1d_dynamic_length(tmp_path, rng):
    model = nn.ConvTranspose1d(3, 4, 3, stride=2, padding=1)
    roundtrip(tmp_path, model, [f32(rng, 2, 3, 6)], {"input": {0: "batch", 2: "length"}}, [f32(rng, 3, 3, 9)])


@pytest.mark.parametrize("layer", [
    pytest.param(lambda: nn.Upsample(scale_factor=2, mode="nearest"), id="upsample_nearest"),
    pytest.param(lambda: nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False), id="upsample_bilinear"),
    pytest.param(lambda: nn.Sequential(nn.PixelUnshuffle(2), nn.PixelShuffle(2)), id="pixel_shuffle"),
    pytest.param(lambda: nn.Sequential(nn.Unfold((2, 3), padding=1, stride=2),
                                       nn.Fold((4, 6), (2, 3), padding=1, stride=2)), id="unfold_fold"),
    pytest.param(lambda: nn.Sequential(nn.Flatten(), nn.Unflatten(1, (3, 24))), id="unflatten"),
])
def test_resampling_layers(tmp_path, rng, layer):
    model = layer()
    dyn = {"x" if isinstance(model, nn.Sequential) else "input": {0: "batch"}}
    roundtrip(tmp_path, model, [f32(rng, 2, 3, 4, 6)], dyn, [f32(rng, 3, 3, 4, 6)])


class MathOps(nn.Module):
    """The further math methods (unary functions, rounding, remainders, running sums, selection)."""

    def forward(self, x, y):
        u = x.clip(-0.9, 0.9)
        a = (x.abs() + 0.5).log1p() + x.expm1() * 0.1 + (x.abs() + 1).log2() \
            + (x.abs() + 1).log10() + x.exp2() * 0.1 + (x.abs() + 1).rsqrt() + (x + 3).reciprocal()
        b = u.tan() + x.sinh() * 0.1 + x.cosh() * 0.1 + x.asinh() + (x.abs() + 1).acosh() + u.atanh() \
            + u.asin() + u.acos() + x.atan() + x.erf() + x.erfc() + (u * 0.5 + 0.5).logit(eps=1e-3)
        r = (x * 3).floor() + (x * 3).ceil() + (x * 3).trunc() + (x * 3).round() + x.sign() + (x * 3).frac()
        m = x.remainder(0.7) + x.fmod(0.7) + x.hypot(y) + x.logaddexp(y) + x.copysign(y) + x.atan2(y) \
            + x.div(0.3, rounding_mode="floor") + x.div(0.3, rounding_mode="trunc")
        s = (a + b + r + m).cumsum(1) * 0.01 + x.prod(1, keepdim=True) + x.norm(dim=1, keepdim=True)
        square = s[:, :4].unsqueeze(-1) * s[:, 2:6].unsqueeze(1)
        tri = square.tril() + square.triu(1) * 2 + ad.einsum("bij,bjk->bik", square, square) * 0.01
        best = tri.max(dim=2)
        tri = tri + (tri.diagonal(1, 1, 2).sum(-1, keepdim=True).unsqueeze(-1)
                     + tri.diagonal(-2, 2, 1).unsqueeze(1)[..., :1]) * 0.01
        return tri, best.values, best.indices, tri.min(dim=1, keepdim=True).values


def test_math_ops(tmp_path, rng):
    dyn = {"x": {0: "batch"}, "y": {0: "batch"}}
    roundtrip(tmp_path, MathOps(), [f32(rng, 2, 6), f32(rng, 2, 6)], dyn, [f32(rng, 4, 6), f32(rng, 4, 6)])


class Gather(nn.Module):
    def forward(self, x):
        index = ad.Tensor(np.array([[[2], [0], [1]]], np.int64)).expand(x.shape[0], 3, 1)
        return x.gather(2, index), x[np.array([1, 0]), np.array([[2], [0]])]


def test_gather_and_advanced_indexing(tmp_path, rng):
    """Indexing with several index arrays (a gather included) at a fixed size."""
    roundtrip(tmp_path, Gather(), [f32(rng, 2, 3, 4)], None, [f32(rng, 2, 3, 4)])


def test_transformer_encoder_decoder(tmp_path, rng):
    model = nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=16,
                           batch_first=True)
    dyn = {"src": {0: "batch", 1: "source"}, "tgt": {0: "batch", 1: "target"}}
    roundtrip(tmp_path, model, [f32(rng, 2, 5, 8), f32(rng, 2, 4, 8)], dyn, [f32(rng, 3, 6, 8), f32(rng, 3, 3, 8)])


class CausalDecoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.decoder = nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 16, batch_first=True), 2)

    def forward(self, tgt, memory):
        mask = nn.Transformer.generate_square_subsequent_mask(tgt.shape[1])
        return self.decoder(tgt, memory, tgt_mask=mask, tgt_is_causal=True)


def test_transformer_decoder_causal(tmp_path, rng):
    dyn = {"tgt": {0: "batch", 1: "target"}, "memory": {0: "batch", 1: "source"}}
    roundtrip(tmp_path, CausalDecoder(), [f32(rng, 2, 4, 8), f32(rng, 2, 5, 8)], dyn,
              [f32(rng, 3, 6, 8), f32(rng, 3, 2, 8)])


def test_course_gpt_and_char_rnn(tmp_path, rng):
    """The course's GPT (positions from np.arange(T), causal mask, tied weights) and character LSTM, at a
    context of the full block size (the checking run then uses a shorter one)."""
    from nn.models.char_rnn import CharRNN
    from nn.models.gpt import GPT
    gpt = GPT(20, block_size=8, n_layer=2, n_embd=16, n_head=2, tie_weights=True)
    dyn = {"idx": {0: "batch", 1: "time"}}
    roundtrip(tmp_path, gpt, [rng.integers(0, 20, (2, 8))], dyn, [rng.integers(0, 20, (3, 5))])
    roundtrip(tmp_path, CharRNN(20, 8, 16), [rng.integers(0, 20, (2, 7))], {"x": {0: "batch", 1: "time"}},
              [rng.integers(0, 20, (3, 9))])


class Conv3dNet(nn.Module):
    """3-d convolution and transposed convolution (stride, padding, dilation, groups, output_padding)."""

    def __init__(self, rng):
        super().__init__()
        self.weight = nn.Parameter(f32(rng, 4, 2, 2, 3, 3))
        self.bias = nn.Parameter(f32(rng, 4))
        self.weight_t = nn.Parameter(f32(rng, 4, 3, 3, 2, 2))

    def forward(self, x):
        from autodiff.ops.conv3d import conv3d, conv_transpose3d
        y = conv3d(x, self.weight, self.bias, stride=(1, 2, 1), padding=1, dilation=(1, 1, 2), groups=2)
        return conv_transpose3d(y, self.weight_t, None, stride=2, padding=(1, 0, 1), output_padding=1)


def test_conv3d(tmp_path, rng):
    pytest.importorskip("autodiff.ops.conv3d")
    roundtrip(tmp_path, Conv3dNet(rng), [f32(rng, 2, 4, 5, 6, 7)], BATCH, [f32(rng, 3, 4, 5, 6, 7)], atol=5e-5)


class Unpool(nn.Module):
    """Max-unpooling's scatter, with the indices given as a model input."""

    def forward(self, x, indices):
        from autodiff.ops.unpool import MaxUnpool
        return MaxUnpool.apply(x, indices, 9)


def test_max_unpool_scatter(tmp_path, rng):
    pytest.importorskip("autodiff.ops.unpool")
    idx = np.array([[0, 4, 8], [1, 2, 3]])
    roundtrip(tmp_path, Unpool(), [f32(rng, 2, 3), idx], {"x": {0: "rows"}, "indices": {0: "rows"}},
              [f32(rng, 3, 3), np.array([[8, 0, 1], [5, 6, 7], [2, 3, 4]])])


@pytest.mark.parametrize("layer, shape", [
    pytest.param(lambda: nn.MaxPool3d(2, stride=(1, 2, 2), padding=1), (2, 3, 4, 5, 6), id="MaxPool3d"),
    pytest.param(lambda: nn.AvgPool3d(2, stride=1, padding=1), (2, 3, 4, 4, 4), id="AvgPool3d"),
    pytest.param(lambda: nn.AdaptiveAvgPool3d((2, 1, 3)), (2, 3, 4, 4, 6), id="AdaptiveAvgPool3d"),
    pytest.param(lambda: nn.AdaptiveMaxPool1d(3), (2, 3, 7), id="AdaptiveMaxPool1d"),
    pytest.param(lambda: nn.AdaptiveMaxPool2d((3, 2)), (2, 3, 7, 5), id="AdaptiveMaxPool2d_uneven"),
    pytest.param(lambda: nn.AdaptiveMaxPool3d(1), (2, 3, 4, 4, 4), id="AdaptiveMaxPool3d_global"),
    pytest.param(lambda: nn.LPPool2d(2, 2), (2, 3, 6, 6), id="LPPool2d"),
    pytest.param(lambda: nn.Conv3d(3, 4, 3, padding=1, stride=(1, 2, 1)), (2, 3, 4, 5, 6), id="Conv3d"),
    pytest.param(lambda: nn.ConvTranspose3d(3, 2, 2, stride=2), (2, 3, 3, 3, 3), id="ConvTranspose3d"),
])
def test_3d_and_adaptive_max_layers(tmp_path, rng, layer, shape):
    if not hasattr(nn, "MaxPool3d"):
        pytest.skip("nn has no 3-d layers")
    model = layer()
    roundtrip(tmp_path, model, [f32(rng, *shape)], {"input": {0: "batch"}}, [f32(rng, 3, *shape[1:])])


@pytest.mark.parametrize("layer, shape", [
    pytest.param(lambda: nn.MaxPool2d(3, stride=2, ceil_mode=True), (2, 3, 8, 8), id="max_ceil"),
    pytest.param(lambda: nn.AvgPool2d(3, stride=2, ceil_mode=True), (2, 3, 8, 8), id="avg_ceil"),
    pytest.param(lambda: nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
                 (2, 3, 8, 8), id="avg_ceil_exclude_pad"),
    pytest.param(lambda: nn.AvgPool2d(2, divisor_override=3), (2, 3, 8, 8), id="avg_divisor"),
    pytest.param(lambda: nn.MaxPool1d(3, stride=2, padding=1, dilation=2, ceil_mode=True), (2, 3, 10),
                 id="max1d_dilation_ceil"),
])
def test_pooling_options(tmp_path, rng, layer, shape):
    roundtrip(tmp_path, layer(), [f32(rng, *shape)], {"input": {0: "batch"}}, [f32(rng, 3, *shape[1:])])


def test_determinant_exports_as_onnx_det(tmp_path):
    ort = pytest.importorskip("onnxruntime")

    class Dets(nn.Module):
        def forward(self, x):
            return ad.linalg.det(x) * 2

    x = ad.tensor(np.random.default_rng(0).normal(size=(3, 4, 4)).astype(np.float32))
    path = tmp_path / "det.onnx"
    nn.onnx.export(Dets(), (x,), str(path))
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    out = sess.run(None, {sess.get_inputs()[0].name: x.data})[0]
    np.testing.assert_allclose(out, Dets()(x).data, rtol=1e-5, atol=1e-5)
