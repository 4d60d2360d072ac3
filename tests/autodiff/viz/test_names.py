"""Automatic names, params= forms, inputs=, collapse=, legend, health flags and LeNet at 1600 px (issue 18)."""
import re
import shutil

import pytest

import autodiff as ad
import nn
from autodiff import Value
from autodiff.viz import build_graph, draw, to_dot
from autodiff.viz.render import step_title
from autodiff.viz.chain import step_states
from autodiff.viz.svgcheck import label_crossings

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz program not installed")


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(3, 4), nn.Tanh())
        self.classifier = nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 2))

    def forward(self, x):
        return self.classifier(self.features(x))


@pytest.fixture
def net_step():
    ad.manual_seed(0)
    model = Net()
    x = ad.randn(5, 3)
    loss = nn.CrossEntropyLoss()(model(x), ad.tensor([0, 1, 1, 0, 1]))
    loss.backward(retain_graph=True)
    return model, x, loss


def _param_labels(g):
    return sorted(n.label for n in g.data_nodes() if n.is_param)


def test_parameters_are_named_by_module_without_params(net_step):
    model, x, loss = net_step
    g = build_graph(loss)
    assert _param_labels(g) == sorted(name for name, _ in model.named_parameters())
    labels = {n.label for n in g.data_nodes()}
    assert "classifier.1 linear out" in labels and "features.1 tanh out" in labels
    assert "input 0" in labels and "loss" in labels
    src = to_dot(loss, view="backward")
    assert "dL/dclassifier.1.weight" in src and "dL/d(.)" not in src and "param\\n" not in src


@pytest.mark.parametrize("form", ["model", "dict", "pairs", "list_named"])
def test_params_forms(net_step, form):
    model, x, loss = net_step
    pairs = [(f"my.{k}", p) for k, p in model.named_parameters()]
    if form == "model":
        params, want = model, sorted(k for k, _ in model.named_parameters())
    elif form == "dict":
        params, want = dict(pairs), sorted(k for k, _ in pairs)
    elif form == "pairs":
        params, want = iter(pairs), sorted(k for k, _ in pairs)
    else:
        tensors = []
        for k, p in pairs:
            t = p
            t.name = k
            tensors.append(t)
        params, want = tensors, sorted(k for k, _ in pairs)
    assert _param_labels(build_graph(loss, params=params)) == want


def test_bad_params_are_refused(net_step):
    _, _, loss = net_step
    with pytest.raises(TypeError, match="params= must be a module, a dict"):
        build_graph(loss, params=3)
    with pytest.raises(TypeError, match=r"\(name, tensor\) pairs"):
        build_graph(loss, params=[ad.tensor([1.0])])


def test_inputs_are_named(net_step):
    model, x, loss = net_step
    g = build_graph(loss, inputs={"images": x})
    assert "images" in {n.label for n in g.data_nodes()}
    assert "g^T @ images" in to_dot(loss, view="backward", inputs={"images": x})


def test_step_titles_name_the_node():
    a, b = Value(-6.0, label="a"), Value(-6.0, label="b")  # two nodes hold -6
    c = a + b
    c.label = "c"
    c.backward()
    g = build_graph(c)
    states = list(step_states(g))
    titles = [step_title(g, nid, k, len(states)) for k, (nid, _) in enumerate(states)]
    assert titles[0].startswith("backward step 1/3: processing c")
    assert any("processing a (leaf)" in t for t in titles) and any("processing b (leaf)" in t for t in titles)
    assert "value -6" not in " ".join(titles) and titles[-1].startswith("backward done")


def test_tensor_steps_end_with_every_leaf_gradient(net_step):
    _, _, loss = net_step
    from autodiff.viz.capture import replay
    g = build_graph(loss)
    states = list(step_states(g, replay(loss, g)))
    final = states[-1][1]
    src = to_dot(None, "forward", graph=g, _state=final)
    for n in g.data_nodes():
        if n.is_param:
            label = re.search(rf'^\s+{n.id} \[label="((?:[^"\\]|\\.)*)"', src, re.M).group(1)
            assert "grad mean" in label or "grad [" in label, label
            assert "grad ?" not in label
    assert "grad computed" not in src


def test_zero_gradient_from_a_zero_input_is_not_vanishing():
    x2, w2 = Value(0.0, label="x2"), Value(1.0, label="w2")
    x1, w1 = Value(2.0, label="x1"), Value(-3.0, label="w1")
    o = (x1 * w1 + x2 * w2 + 6.8813735870195432).tanh()
    o.label = "o"
    o.backward()
    assert w2.grad == 0.0
    src = to_dot(o, view="backward")
    line = [ln for ln in src.splitlines() if "do/dw2" in ln][0]
    assert "vanishing" not in line
    dead = (Value(-1.0, label="u") * Value(2.0, label="v")).relu()  # a dead ReLU: vanishing
    dead.backward()
    flagged = to_dot(dead, view="backward")
    assert "vanishing grad" in flagged
    assert "xlabel" not in flagged  # the flag is written inside its node, never floating beside it


def test_collapse_choices(net_step):
    _, _, loss = net_step
    never = to_dot(loss, collapse="never")
    always = to_dot(loss, collapse="always")
    assert "op: linear" not in never and re.search(r"1 op: linear", always)
    assert " 1 ops" not in always
    assert to_dot(loss, collapse="auto", node_budget=1000) == never
    assert "one box per module" in to_dot(loss, collapse="auto", node_budget=5)
    assert "classifier.1.weight" in to_dot(loss, collapse=2)
    with pytest.raises(ValueError, match="collapse must be one of"):
        to_dot(loss, collapse="sometimes")


def test_legend_explains_the_colours(net_step):
    _, _, loss = net_step
    src = to_dot(loss, view="backward")
    assert "legend" in src and "vanishing grad" in src and "large gradient" in src
    assert "legend [" not in to_dot(loss, legend=False)


@needs_dot
@pytest.mark.parametrize("view", ["forward", "backward"])
def test_lenet_step_fits_1600_px_and_no_label_is_crossed(tmp_path, view):
    from PIL import Image
    from nn.models.lenet import LeNet
    ad.manual_seed(0)
    model = LeNet()
    loss = nn.CrossEntropyLoss()(model(ad.randn(2, 1, 28, 28)), ad.tensor([3, 7]))
    loss.backward(retain_graph=True)
    path = draw(loss, tmp_path / f"lenet_{view}.png", view=view, collapse="never")
    with Image.open(path) as im:
        assert im.width <= 1600, im.size
    svg = draw(loss, view=view, collapse="never").svg
    assert label_crossings(svg) == []
    assert "features.0.weight" in svg and "classifier.3.bias" in svg


@needs_dot
def test_cluster_labels_of_a_small_mlp_are_not_crossed(net_step):
    _, _, loss = net_step
    for view in ("forward", "both"):
        assert label_crossings(draw(loss, view=view).svg) == []
    # the check itself finds a crossing when an edge runs through a cluster's label
    svg = ('<svg xmlns="http://www.w3.org/2000/svg"><g class="cluster"><title>cluster_a</title>'
           '<text x="100" y="20" font-size="10" text-anchor="middle">module a</text></g>'
           '<g class="edge"><title>y->z</title><path d="M100,0C100,10 100,30 100,40"/></g>'
           '<g class="edge"><title>u->v</title><path d="M300,0C300,10 300,30 300,40"/></g></svg>')
    assert label_crossings(svg) == [("module a", "y->z")]


def test_names_survive_the_model_object():
    def step():
        model = Net()
        loss = nn.CrossEntropyLoss()(model(ad.randn(2, 3)), ad.tensor([0, 1]))
        return loss, sorted(k for k, _ in model.named_parameters())

    loss, want = step()
    import gc
    gc.collect()  # the model is gone; its parameters live on in the graph
    g = build_graph(loss)
    assert _param_labels(g) == want
    assert "classifier.1 linear out" in {n.label for n in g.data_nodes()}


def test_pictures_do_not_run_the_users_hooks_again():
    calls = []
    model = Net()
    model.classifier.register_full_backward_hook(lambda m, gin, gout: calls.append("module"))
    x = ad.randn(2, 3, requires_grad=True)
    x.register_hook(lambda g: calls.append("leaf"))
    h = model.features(x)
    h.register_hook(lambda g: calls.append("tensor"))
    loss = model.classifier(h).sum()
    loss.backward(retain_graph=True)
    before = list(calls)
    assert sorted(before) == ["leaf", "module", "tensor"]
    src = to_dot(loss, view="backward")  # replays the backward for the intermediate gradients
    ad.explore(loss)
    assert calls == before
    # features was called on its own (names relative to it); the replay gave the gradient
    assert re.search(r"dL/d\(1 tanh out\)\\n\(2, 4\)\\nmean \S+ std", src)
    assert model.features[0].weight.grad is not None and x.grad is not None
