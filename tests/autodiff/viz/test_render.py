"""Rendering through the graphviz program: real PNG/SVG/PDF files, Jupyter display, frames and GIF."""
import shutil

import numpy as np
import pytest

import autodiff as ad
from autodiff import Value
from autodiff.viz import GraphvizNotFoundError, Picture, build_graph, draw, draw_chain, draw_steps, to_dot

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz program 'dot' not installed")
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def neuron():
    """micrograd's neuron: o = tanh(x1 w1 + x2 w2 + b)."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    o = (x1 * w1 + x2 * w2 + b).tanh()
    o.label = "o"
    o.backward()
    return o, w1


def _tensor_graph():
    x = ad.tensor(np.linspace(-1, 1, 6).reshape(2, 3))
    w = ad.tensor(np.full((3, 2), 0.3), requires_grad=True)
    with ad.scope("layer"):
        h = (x @ w).relu()
    loss = (h * h).sum()
    loss.backward()
    return loss, w


@needs_dot
@pytest.mark.parametrize("view", ["forward", "backward", "both"])
def test_png_files_for_every_view(tmp_path, neuron, view):
    from PIL import Image
    o, _ = neuron
    path = draw(o, tmp_path / f"{view}.png", view=view)
    data = open(path, "rb").read()
    assert data.startswith(PNG)
    with Image.open(path) as im:
        assert im.width > 200 and im.height > 50


@needs_dot
def test_svg_and_pdf(tmp_path):
    loss, w = _tensor_graph()
    svg = draw(loss, tmp_path / "g.svg", view="both", params={"layer.weight": w})
    text = open(svg).read()
    assert text.lstrip().startswith("<?xml") and "<svg" in text
    assert "layer.weight" in text and "(3, 2) float64" in text
    pdf = draw(loss, tmp_path / "g.pdf")
    assert open(pdf, "rb").read(5) == b"%PDF-"
    explicit = draw(loss, tmp_path / "noext", format="svg")
    assert "<svg" in open(explicit).read()


@needs_dot
def test_picture_displays_inline_and_saves(tmp_path, neuron):
    o, _ = neuron
    pic = draw(o, view="backward")
    assert isinstance(pic, Picture)
    assert "<svg" in pic._repr_svg_()
    assert "<svg" in pic._repr_mimebundle_()["image/svg+xml"]
    assert "do/dw1" in pic.svg  # the root is called o
    saved = pic.save(tmp_path / "pic.png")
    assert open(saved, "rb").read(8) == PNG


@needs_dot
def test_chain_picture(tmp_path, neuron):
    o, w1 = neuron
    path = draw_chain(o, w1, tmp_path / "chain.svg")
    text = open(path).read()
    assert "chain rule" in text and f"{w1.grad:.4f}" in text


@needs_dot
def test_steps_frames_and_gif(tmp_path, neuron):
    from PIL import Image
    o, _ = neuron
    steps = draw_steps(o, tmp_path / "steps")
    n_values = len(build_graph(o).data_nodes())
    assert n_values == 10
    assert len(steps.frames) == n_values + 1  # and a last frame with every gradient
    assert [p.rsplit("/", 1)[-1] for p in steps.frames[:2]] == ["step_000.png", "step_001.png"]
    sizes = set()
    for p in steps.frames:
        assert open(p, "rb").read(8) == PNG
        with Image.open(p) as im:
            sizes.add(im.size)
    assert len(sizes) == 1  # every frame has the same pixel size
    with Image.open(steps.gif) as gif:
        assert gif.format == "GIF" and gif.n_frames == n_values + 1


@needs_dot
def test_tensor_steps_one_frame_per_op(tmp_path):
    loss, _ = _tensor_graph()
    steps = draw_steps(loss, tmp_path, gif=False)
    assert len(steps.frames) == 5 and steps.gif is None  # matmul, relu, mul, sum, and the final frame
    from PIL import Image
    sizes = set()
    for p in steps.frames:
        with Image.open(p) as im:
            sizes.add(im.size)
    assert len(sizes) == 1


@needs_dot
def test_module_view_of_an_nn_model(tmp_path):
    nn = pytest.importorskip("nn")
    ad.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))
    loss = model(ad.randn(16, 4)).mean()
    loss.backward()
    params = dict(model.named_parameters())
    text = open(draw(loss, tmp_path / "m.svg", view="both", params=params)).read()
    for name in params:
        assert name in text
    boxes = open(draw(loss, tmp_path / "c.svg", params=params, collapse=True)).read()
    assert "2.weight (2, 8)" in boxes


@needs_dot
def test_second_order_graph_renders(tmp_path):
    x = ad.tensor(np.array([0.5, 2.0]), requires_grad=True)
    (gx,) = ad.grad((x.sin() * x).sum(), x, create_graph=True)
    path = draw(gx.sum(), tmp_path / "second.png", view="both")
    assert open(path, "rb").read(8) == PNG


def test_missing_dot_program_gives_one_clear_error(tmp_path, monkeypatch, neuron):
    o, w1 = neuron
    monkeypatch.setenv("PATH", str(tmp_path))  # no 'dot' anywhere on PATH
    assert "digraph" in to_dot(o)  # DOT text needs no program
    for call in (lambda: draw(o, tmp_path / "x.png"), lambda: draw(o),
                 lambda: draw_chain(o, w1, tmp_path / "c.png"), lambda: draw_steps(o, tmp_path / "s")):
        with pytest.raises(GraphvizNotFoundError, match="apt-get install graphviz"):
            call()
    assert not (tmp_path / "x.png").exists()


def test_executable_not_found_is_translated(monkeypatch, neuron):
    graphviz = pytest.importorskip("graphviz")

    def missing(*args, **kwargs):
        raise graphviz.ExecutableNotFound(("dot",))

    monkeypatch.setattr(graphviz.Source, "pipe", missing)
    with pytest.raises(GraphvizNotFoundError, match="not found on PATH"):
        draw(neuron[0])


def test_bad_format(neuron, tmp_path):
    with pytest.raises(ValueError, match="format must be one of"):
        draw(neuron[0], tmp_path / "x.jpg", format="jpg")


@needs_dot
@pytest.mark.parametrize("example, view", [("neuron", "backward"), ("mlp", "both"), ("expr", "chain"),
                                           ("second-order", "forward")])
def test_cli_examples(tmp_path, example, view):
    from autodiff.viz.cli import main
    out = tmp_path / f"{example}.svg"
    assert main([example, "--view", view, "-o", str(out)]) == 0
    text = out.read_text()
    assert "<svg" in text
    if example == "mlp":
        assert "fc3.weight" in text and "(64, 10) float32" in text
    if view == "chain":
        assert "grad of a = 6.0000" in text  # dL/da = b * f = (-3) * (-2)


def test_cli_python_file_conventions(tmp_path, capsys):
    from autodiff.viz.cli import main
    built = tmp_path / "built.py"
    built.write_text("from autodiff import Value\n"
                     "def build():\n"
                     "    w = Value(3.0, label='w')\n"
                     "    return {'root': (w * w).tanh(), 'leaf': w}\n")
    assert main([str(built), "--dot"]) == 0
    src = capsys.readouterr().out
    assert "data 3.0000" in src and "tanh" in src
    assert f"grad {(1 - np.tanh(9.0) ** 2) * 6:.4f}" in src  # backward was run first
    variable = tmp_path / "variable.py"
    variable.write_text("import autodiff as ad\n"
                        "w = ad.tensor([[1.0, 2.0]], requires_grad=True)\n"
                        "params = {'w': w}\n"
                        "root = (w * w).sum()\n")
    assert main([str(variable), "--dot", "--no-backward"]) == 0
    src = capsys.readouterr().out
    assert "w\\n(1, 2) float32" in src and "grad None" in src
    bad = tmp_path / "bad.py"
    bad.write_text("x = 1\n")
    with pytest.raises(SystemExit, match="build\\(\\), root, or model"):
        main([str(bad)])


def test_cli_model_and_example_input(tmp_path, capsys):
    pytest.importorskip("nn")
    from autodiff.viz.cli import main
    f = tmp_path / "model.py"
    f.write_text("import autodiff as ad\nimport nn\n"
                 "model = nn.Sequential(nn.Linear(3, 2), nn.ReLU())\n"
                 "example_input = ad.randn(4, 3)\n")
    assert main([str(f), "--dot"]) == 0
    src = capsys.readouterr().out
    assert "0.weight" in src and "0.bias" in src and "(4, 2) float32" in src


def test_cli_help_is_plain_text(capsys):
    from autodiff.viz.cli import main
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "``" not in out and "autodiff-draw mlp -o graph.html" in out
