"""nn.onnx.export: errors, custom Functions' symbolic forms, opsets, files, modes, folding, and the way
back to PyTorch through state_dict."""
import io
import os

import numpy as np
import pytest

import autodiff as ad
import nn
from nn.models.lenet import LeNet

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
import nn.onnx  # noqa: E402
from nn.onnx import ExportError  # noqa: E402


def f32(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


def run_onnx(model_bytes_or_path, feeds):
    src = model_bytes_or_path if isinstance(model_bytes_or_path, bytes) else str(model_bytes_or_path)
    session = ort.InferenceSession(src, providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    return session.run(None, dict(zip(names, feeds)))


class Cube(ad.Function):
    """x^3, without an ONNX form."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x * x


class SymbolicCube(Cube):
    """x^3 with its ONNX form."""

    @staticmethod
    def symbolic(g, x):
        return g.op("Mul", x, g.op("Mul", x, x))


class ScaledLeaky(ad.Function):
    """leaky_relu(x, slope) * scale, with a keyword argument and torch-style typed attributes."""

    @staticmethod
    def forward(ctx, x, scale, slope=0.1):
        return np.where(x > 0, x, slope * x) * scale

    @staticmethod
    def backward(ctx, g):
        raise NotImplementedError("forward-only op used for export")

    @staticmethod
    def symbolic(g, x, scale, slope=0.1):
        y = g.op("LeakyRelu", x, alpha_f=slope)
        return g.op("Mul", y, g.const(np.asarray(scale, np.float32)))


class Apply(nn.Module):
    def __init__(self, fn, *args, **kwargs):
        super().__init__()
        self.fn, self.args, self.kwargs = fn, args, kwargs

    def forward(self, x):
        return self.fn.apply(x, *self.args, **self.kwargs)


def test_function_without_symbolic_is_refused_by_name_and_leaves_no_file(tmp_path, rng):
    model = nn.Sequential(nn.Linear(3, 3), Apply(Cube))
    path = tmp_path / "model.onnx"
    with pytest.raises(ExportError) as err:
        nn.onnx.export(model, ad.Tensor(f32(rng, 2, 3)), path)
    msg = str(err.value)
    assert "'cube'" in msg and "Cube" in msg and "symbolic(g" in msg
    assert "Sequential.1 (Apply)" in msg and "opset 19" in msg
    assert os.listdir(tmp_path) == []
    path.write_bytes(b"old")  # an existing file is left as it was
    with pytest.raises(ExportError):
        nn.onnx.export(model, ad.Tensor(f32(rng, 2, 3)), path)
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["model.onnx"]


def test_function_with_symbolic(tmp_path, rng):
    model = nn.Sequential(nn.Linear(3, 4), Apply(SymbolicCube), Apply(ScaledLeaky, 2.0, slope=0.3))
    x = f32(rng, 2, 3)
    nn.onnx.export(model, ad.Tensor(x), tmp_path / "m.onnx", dynamic_axes={"x": {0: "batch"}})
    for batch in (x, f32(rng, 5, 3)):
        (y,) = run_onnx(tmp_path / "m.onnx", [batch])
        lin = batch @ model[0].weight.data.T + model[0].bias.data
        expect = np.where(lin ** 3 > 0, lin ** 3, 0.3 * lin ** 3) * 2.0
        np.testing.assert_allclose(y, expect, rtol=1e-5, atol=1e-5)


def test_op_missing_at_opset_names_op_module_and_opset(tmp_path, rng):
    model = nn.Sequential(nn.Conv2d(2, 2, 3, padding=1, padding_mode="circular"))
    with pytest.raises(ExportError) as err:
        nn.onnx.export(model, ad.Tensor(f32(rng, 1, 2, 5, 5)), tmp_path / "m.onnx", opset_version=18)
    msg = str(err.value)
    assert "'pad_mode'" in msg and "Sequential.0 (Conv2d)" in msg and "opset 18" in msg and "19" in msg
    assert os.listdir(tmp_path) == []


class MaskFromNumpy(nn.Module):
    def forward(self, x):
        return x * ad.Tensor((x.data > 0).astype(np.float32))


class NumberFromValues(nn.Module):
    def forward(self, x):
        return x / float(np.abs(x.data).max())


@pytest.mark.parametrize("model", [MaskFromNumpy(), NumberFromValues()], ids=["mask", "number"])
def test_constant_computed_from_the_inputs_is_refused(tmp_path, rng, model):
    with pytest.raises(ExportError, match="computed outside the graph.*other input values"):
        nn.onnx.export(model, ad.Tensor(f32(rng, 2, 3)), tmp_path / "m.onnx")
    assert os.listdir(tmp_path) == []


def test_python_loop_over_a_dynamic_axis_is_refused(tmp_path, rng):
    """JordanRNN unrolls its steps in Python: a fixed length exports, a dynamic one cannot."""
    model = nn.JordanRNN(3, 4, 2)
    x = f32(rng, 5, 2, 3)
    nn.onnx.export(model, ad.Tensor(x), tmp_path / "m.onnx", dynamic_axes={"input": {1: "batch"}})
    out, last = run_onnx(tmp_path / "m.onnx", [f32(rng, 5, 3, 3)][:1])
    assert out.shape == (5, 3, 2)
    with pytest.raises(ExportError, match="changes with size .* on dynamic axis 'seq'"):
        nn.onnx.export(model, ad.Tensor(x), tmp_path / "n.onnx", dynamic_axes={"input": {0: "seq"}})


@pytest.mark.parametrize("bad, match", [
    (dict(opset_version=16), "opset_version 16 is not supported"),
    (dict(dynamic_axes={"nope": [0]}), "neither an input"),
    (dict(input_names=["a", "b"]), "2 input_names given for 1 inputs"),
    (dict(dynamic_axes={"x": [3]}), "out of range"),
])
def test_bad_arguments(tmp_path, rng, bad, match):
    with pytest.raises(ValueError, match=match):
        nn.onnx.export(nn.Sequential(nn.Linear(3, 2)), ad.Tensor(f32(rng, 2, 3)), tmp_path / "m.onnx", **bad)


class Mixed(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(2, 4, 3, padding=1, padding_mode="reflect")
        self.norm = nn.LayerNorm(4)
        self.lstm = nn.LSTM(4, 3, bidirectional=True, batch_first=True)
        self.act = nn.GELU()

    def forward(self, x):
        h = self.act(self.norm(self.conv(x).permute(0, 2, 1)))
        return self.lstm(h)[0].softmax(axis=-1)


@pytest.mark.parametrize("opset", list(nn.onnx.SUPPORTED_OPSETS))
def test_every_supported_opset(tmp_path, rng, opset):
    model = Mixed()
    x = f32(rng, 2, 2, 6)
    proto = nn.onnx.export(model, ad.Tensor(x), tmp_path / "m.onnx", opset_version=opset,
                           dynamic_axes={"x": {0: "batch"}})
    assert proto.opset_import[0].version == opset
    onnx.checker.check_model(onnx.load(tmp_path / "m.onnx"), full_check=True)
    for batch in (x, f32(rng, 4, 2, 6)):
        (y,) = run_onnx(tmp_path / "m.onnx", [batch])
        np.testing.assert_allclose(y, model(ad.Tensor(batch)).data, rtol=0, atol=1e-5)


def test_file_object_and_initializer_names(rng):
    model = LeNet()
    buf = io.BytesIO()
    proto = nn.onnx.export(model, ad.Tensor(f32(rng, 1, 1, 28, 28)), buf, input_names=["image"],
                           output_names=["logits"])
    assert buf.getvalue() == proto.SerializeToString()
    loaded = onnx.load_from_string(buf.getvalue())
    assert [i.name for i in loaded.graph.input] == ["image"] and [o.name for o in loaded.graph.output] == ["logits"]
    inits = {i.name: onnx.numpy_helper.to_array(i) for i in loaded.graph.initializer}
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(inits[key], np.asarray(value))


def test_tied_weights_are_one_initializer(tmp_path, rng):
    first = nn.Linear(4, 4)
    model = nn.Sequential(first, nn.Tanh(), first)
    proto = nn.onnx.export(model, ad.Tensor(f32(rng, 2, 4)), tmp_path / "m.onnx")
    names = [i.name for i in proto.graph.initializer]
    assert names.count("0.weight") == 1 and "2.weight" not in names


def test_train_mode_restored_and_dropout_removed(tmp_path, rng):
    model = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.5), nn.BatchNorm1d(8), nn.Linear(8, 2))
    model.train()
    x = f32(rng, 3, 4)
    proto = nn.onnx.export(model, ad.Tensor(x), tmp_path / "m.onnx")
    assert model.training and all(m.training for m in model.modules())
    assert "Dropout" not in [n.op_type for n in proto.graph.node]
    model.eval()
    (y,) = run_onnx(tmp_path / "m.onnx", [x])
    np.testing.assert_allclose(y, model(ad.Tensor(x)).data, rtol=0, atol=1e-5)


class WithTable(nn.Module):
    """Uses a constant table transformed inside forward (folded away, or kept as ops)."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.table = np.linspace(0, 1, 24, dtype=np.float32).reshape(6, 4)

    def forward(self, x):
        offset = (ad.Tensor(self.table)[1:3] * 2.0).sum(axis=0)
        return self.fc(x) + offset


@pytest.mark.parametrize("fold", [True, False])
def test_constant_folding(tmp_path, rng, fold):
    model = WithTable()
    x = f32(rng, 2, 4)
    proto = nn.onnx.export(model, ad.Tensor(x), tmp_path / "m.onnx", do_constant_folding=fold,
                           dynamic_axes={"x": {0: "batch"}})
    ops = [n.op_type for n in proto.graph.node]
    assert ("Slice" in ops and "ReduceSum" in ops) != fold
    for batch in (x, f32(rng, 3, 4)):
        (y,) = run_onnx(tmp_path / "m.onnx", [batch])
        np.testing.assert_allclose(y, model(ad.Tensor(batch)).data, rtol=0, atol=1e-5)


def test_no_tensor_output(tmp_path, rng):
    class Nothing(nn.Module):
        def forward(self, x):
            return None

    with pytest.raises(ValueError, match="returned no Tensor"):
        nn.onnx.export(Nothing(), ad.Tensor(f32(rng, 2, 3)), tmp_path / "m.onnx")


# --- back to PyTorch: the same architecture loads our state_dict --------------------------------------
def _to_torch(torch, ours, theirs):
    """The README recipe: every state_dict entry as a torch tensor, loaded strictly."""
    theirs.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in ours.state_dict().items()})
    return theirs.eval()


def _torch_lenet(torch):
    tnn = torch.nn

    class TorchLeNet(tnn.Module):
        def __init__(self):
            super().__init__()
            self.features = tnn.Sequential(tnn.Conv2d(1, 20, 5), tnn.ReLU(), tnn.MaxPool2d(2, 2),
                                           tnn.Conv2d(20, 50, 5), tnn.ReLU(), tnn.MaxPool2d(2, 2))
            self.classifier = tnn.Sequential(tnn.Flatten(), tnn.Linear(800, 500), tnn.ReLU(), tnn.Linear(500, 10))

        def forward(self, x):
            return self.classifier(self.features(x))
    return TorchLeNet()


def test_state_dict_into_torch_lenet(rng):
    torch = pytest.importorskip("torch")
    ours = LeNet().eval()
    theirs = _to_torch(torch, ours, _torch_lenet(torch))
    x = f32(rng, 3, 1, 28, 28)
    with torch.no_grad():
        expect = theirs(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(ours(ad.Tensor(x)).data, expect, rtol=0, atol=1e-5)


def test_state_dict_into_torch_bn_lstm(rng):
    torch = pytest.importorskip("torch")
    ours = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Tanh())
    ours.train()
    for _ in range(3):  # running statistics that are not the initial ones
        ours(ad.Tensor(f32(rng, 8, 3)))
    ours.eval()
    theirs = _to_torch(torch, ours, torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4),
                                                        torch.nn.Tanh()))
    x = f32(rng, 5, 3)
    with torch.no_grad():
        np.testing.assert_allclose(ours(ad.Tensor(x)).data, theirs(torch.from_numpy(x)).numpy(), atol=1e-5)
    lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True)
    tlstm = _to_torch(torch, lstm, torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True))
    seq = f32(rng, 2, 6, 3)
    with torch.no_grad():
        expect, (h, c) = tlstm(torch.from_numpy(seq))
    got, (gh, gc) = lstm(ad.Tensor(seq))
    for a, b in ((got, expect), (gh, h), (gc, c)):
        np.testing.assert_allclose(a.data, b.numpy(), rtol=0, atol=1e-5)


def test_readme_leaving_section_runs(tmp_path, monkeypatch):
    """The README's "Leaving" snippets (marked ``py``: they need the optional packages) run in order."""
    import pathlib
    import re
    pytest.importorskip("torch")
    text = (pathlib.Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = text.split("## Leaving: ONNX and back to PyTorch", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```py\n(.*?)```", section, re.S)
    assert len(blocks) == 3
    monkeypatch.chdir(tmp_path)
    namespace = {}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)
    assert (tmp_path / "lenet.onnx").exists()
    cube = namespace["Cube"]
    proto = nn.onnx.export(Apply(cube), ad.Tensor(np.array([[2.0, -1.0]], np.float32)), tmp_path / "c.onnx")
    (y,) = run_onnx(proto.SerializeToString(), [np.array([[2.0, -1.0]], np.float32)])
    np.testing.assert_allclose(y, [[8.0, -1.0]])


class InPlace(nn.Module):
    """In-place changes recorded by the engine: +=, slice assignment, a change through a view."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        y = self.fc(x)
        y += 1
        y[:, 0] = y[:, 1] * 2        # reads y before the assignment changes it
        y[1:, 2:] = 5.0
        view = y[1:]
        view *= 3
        return y


def test_in_place_changes(tmp_path, rng):
    model = InPlace()
    x = f32(rng, 3, 4)
    nn.onnx.export(model, ad.Tensor(x), tmp_path / "m.onnx")
    (y,) = run_onnx(tmp_path / "m.onnx", [x])
    np.testing.assert_allclose(y, model(ad.Tensor(x)).data, rtol=0, atol=1e-5)


class BehindTheRecorder(nn.Module):
    def forward(self, x):
        y = x * 2
        y.data += 1  # changes the values without any op: the graph cannot know
        return y


def test_graph_that_differs_from_the_model_is_refused(tmp_path, rng):
    """The exported model is run on the example input; a difference from our output is an error."""
    with pytest.raises(ExportError, match="does not compute what the model does: output 'output' differs"):
        nn.onnx.export(BehindTheRecorder(), ad.Tensor(f32(rng, 2, 3)), tmp_path / "m.onnx")
    assert os.listdir(tmp_path) == []


class Flags(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 3)

    def forward(self, x, scale=1.0, double=False, extra=None):
        y = self.fc(x) * scale
        return y * 2 if double else y


def test_python_arguments_are_constants(tmp_path, rng):
    """Arrays become graph inputs; Python values among the arguments are passed to forward as given."""
    model, x = Flags(), f32(rng, 2, 3)
    proto = nn.onnx.export(model, (x, 3.0, True, None), tmp_path / "m.onnx", dynamic_axes={"x": [0]})
    assert [i.name for i in proto.graph.input] == ["x"]
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "x_dynamic_axes_1"
    batch = f32(rng, 4, 3)
    (y,) = run_onnx(tmp_path / "m.onnx", [batch])
    np.testing.assert_allclose(y, model(ad.Tensor(batch), 3.0, True).data, rtol=0, atol=1e-5)


# Functions that have no ONNX form on purpose: backward-only adjoints, losses, and ops without an ONNX
# counterpart (the README's "Not exported" list). Any other Function of autodiff.ops needs a converter.
NOT_EXPORTED = {
    "index.ScatterAdd", "select.ScatterAddAlongAxis", "diagonal.DiagScatter", "padmode.PadModeFold",
    "conv3d.ConvNdWeight",
    "loss.CrossEntropy", "loss.BinaryCrossEntropy",
    "cumulative.Cumprod", "cumulative.LogCumSumExp", "norms.SingularValueNorm",
    "reduce.MedianAll", "scatter.ScatterReduce", "unary.Erfinv", "unary.Lgamma", "unary.Digamma",
    "unary.Polygamma", "unary.NanToNum", "matrix.Inverse", "matrix.LogAbsDet",
}


def test_every_engine_op_has_an_onnx_form_or_is_listed():
    import importlib
    import inspect
    import pkgutil

    import autodiff.ops as ops
    from nn.onnx.convert import converter_for
    missing = []
    for info in pkgutil.iter_modules(ops.__path__):
        module = importlib.import_module(f"autodiff.ops.{info.name}")
        for name, cls in vars(module).items():
            if inspect.isclass(cls) and issubclass(cls, ad.Function) and cls.__module__ == module.__name__ \
                    and not name.startswith("_") and converter_for(cls) is None:
                missing.append(f"{info.name}.{name}")
    assert sorted(set(missing) - NOT_EXPORTED) == []


class Picky(nn.Module):
    """Refuses negative inputs, so the checking run with other input values fails."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 2)

    def forward(self, x):
        if (x.data < 0).any():
            raise ValueError("Picky: inputs must be non-negative")
        return self.fc(x).log_softmax(-1)


def test_model_that_refuses_other_values_exports_with_a_warning(tmp_path):
    model, x = Picky(), np.full((2, 3), 0.1, np.float32)
    with pytest.warns(UserWarning, match="Picky: inputs must be non-negative; constants computed"):
        nn.onnx.export(model, ad.Tensor(x), tmp_path / "m.onnx")
    (y,) = run_onnx(tmp_path / "m.onnx", [x])
    np.testing.assert_allclose(y, model(ad.Tensor(x)).data, rtol=0, atol=1e-6)


def test_nn_onnx_after_import_nn():
    """``import nn`` is enough for ``nn.onnx.export`` (loaded on first use, as torch.onnx)."""
    import subprocess
    import sys
    code = "import sys, nn; assert 'nn.onnx' not in sys.modules; print(nn.onnx.export.__module__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "nn.onnx.export"
