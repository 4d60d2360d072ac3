"""The interactive explorer page, in a real headless chromium (skipped where chromium or playwright is
absent; CI installs both). Also its HTML without a browser: self-contained, every entry point."""
import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

import autodiff as ad
import nn
from autodiff import Value

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROME_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]  # root, no GPU, small /dev/shm
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz program not installed")


def _neuron():
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2, b = Value(-3.0, label="w1"), Value(1.0, label="w2"), Value(6.8813735870195432, label="b")
    o = (x1 * w1 + x2 * w2 + b).tanh()
    o.label = "o"
    o.backward()
    return o, {"x1": x1, "x2": x2, "w1": w1, "w2": w2, "b": b}


def _mlp_step():
    ad.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 2))
    x = ad.randn(3, 2)
    loss = nn.CrossEntropyLoss()(model(x), ad.tensor([0, 1, 1]))
    loss.backward(retain_graph=True)
    return loss, model, x


def _lenet_step():
    from nn.models.lenet import LeNet
    ad.manual_seed(0)
    model = LeNet()
    loss = nn.CrossEntropyLoss()(model(ad.randn(2, 1, 28, 28)), ad.tensor([1, 4]))
    loss.backward(retain_graph=True)
    return loss, model


def _data(page_html):
    m = re.search(r'<script id="data" type="application/json">(.*?)</script>', page_html, re.S)
    return json.loads(m.group(1).replace("<\\/", "</"))


@needs_dot
def test_page_is_self_contained_and_every_entry_point_writes_it(tmp_path):
    loss, model, x = _mlp_step()
    ex = ad.explore(loss, params=model, inputs={"x": x})
    html = ex.html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)  # nothing fetched
    assert "<!DOCTYPE svg" not in html and "<?xml" not in html
    assert "<iframe" in ex._repr_html_()
    data = _data(html)
    assert [d["label"] for d in data["nodes"].values() if d.get("param")] == ["0.weight", "0.bias", "2.weight",
                                                                               "2.bias"]
    assert data["steps"][-1]["node"] is None and len(data["steps"]) == 5  # 4 ops, then the final state
    p1 = ex.save(tmp_path / "a.html")
    p2 = ad.draw(loss, tmp_path / "b.html")
    from autodiff.viz.cli import main
    assert main(["mlp", "-o", str(tmp_path / "c.html")]) == 0
    for p in (p1, p2, tmp_path / "c.html"):
        assert Path(p).read_text().startswith("<!DOCTYPE html>")
    with pytest.raises(ValueError, match="collapse must be"):
        ad.explore(loss, collapse="sometimes")


def _browser():
    """playwright's sync API; skips where it or chromium is missing, except in CI (which installs both)."""
    in_ci = os.environ.get("CI") == "true"
    try:
        import playwright.sync_api as playwright
    except ImportError:
        if in_ci:
            pytest.fail("CI: playwright is not installed (the dev extra of pyproject.toml has it)")
        pytest.skip("playwright is not installed")
    if CHROMIUM is None:
        if in_ci:
            pytest.fail("CI: chromium is not installed (.ci/run installs the Debian package)")
        pytest.skip("chromium is not installed")
    return playwright


def _text_to_grad(text):
    """The numbers a gradient cell shows: a scalar, or the first entries plus the norm."""
    text = text.strip()
    if text.startswith("["):
        first = [float(v) for v in re.findall(r"-?\d[\d.e+-]*|nan|-?inf", text.split("]")[0])]
        norm = float(re.search(r"norm (\S+)", text).group(1))
        return first, norm
    return float(text), None


@pytest.fixture(scope="module")
def browser():
    """One headless chromium for the module's tests (each test opens its own page)."""
    pw = _browser()
    driver = pw.sync_playwright().start()
    chromium = driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROME_ARGS)
    yield chromium
    chromium.close()
    driver.stop()


class Page:
    """A loaded page that fails the test on any console error or any network request."""

    def __init__(self, browser, path):
        self.errors, self.requests = [], []
        self.page = browser.new_page(viewport={"width": 1400, "height": 900})
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.goto(Path(path).resolve().as_uri())

    def close(self):
        self.page.close()
        network = [u for u in self.requests if not u.startswith("file:")]
        assert network == [], network
        assert self.requests == [self.requests[0]]  # the page itself, nothing else
        assert self.errors == []

    def click_node(self, label_part):
        for g in self.page.query_selector_all(".view.on g.node"):
            if label_part in g.text_content():
                shape = g.query_selector("polygon, ellipse, path")
                shape.scroll_into_view_if_needed()
                box = shape.bounding_box()
                self.page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)  # a real click
                return
        raise AssertionError(f"no node showing {label_part!r}")

    def leaf_grads(self):
        return {r.query_selector("td.k").inner_text(): r.query_selector("td.grad").inner_text()
                for r in self.page.query_selector_all("#leaf-grads tr")}


def test_browser_value_graph(tmp_path, browser):
    o, leaves = _neuron()
    path = ad.explore(o, path=tmp_path / "neuron.html").html and tmp_path / "neuron.html"
    page = Page(browser, path)
    try:
        p = page.page
        assert p.inner_text("#status").startswith("step 1/")
        assert set(page.leaf_grads().values()) == {"?"}  # nothing has arrived at step 1
        # walk to the end with the step button and the slider
        p.click("#next")
        assert p.inner_text("#status").startswith("step 2/")
        n_steps = int(p.get_attribute("#slider", "max")) + 1
        p.eval_on_selector("#slider", "(s, v) => { s.value = v; s.dispatchEvent(new Event('input')); }", n_steps - 1)
        assert "done" in p.inner_text("#status")
        shown = page.leaf_grads()
        assert set(shown) == set(leaves)
        for name, leaf in leaves.items():
            assert float(shown[name]) == pytest.approx(leaf.grad, abs=1e-5), name
        # click a node: the panel shows its gradient and local derivative
        page.click_node("data -3.0000")  # w1
        assert p.inner_text("#p-name") == "w1"
        assert float(p.inner_text("#p-grad")) == pytest.approx(leaves["w1"].grad, abs=1e-5)
        page.click_node("data 0.7071")  # o: made by tanh, with its formula and numbers
        panel = p.inner_text("#p-table")
        assert "1 - o^2" in panel and "0.5" in panel
        # the backward view, find by name
        p.click("#toggle-view")
        assert p.is_visible("#view-backward") and not p.is_visible("#view-forward")
        p.fill("#find", "x2")
        p.click("#find-go")
        assert p.inner_text("#p-name") == "x2"
        png = p.screenshot(path=str(tmp_path / "shot.png"))
    finally:
        page.close()
    _not_blank(png)


def test_browser_lenet_leaf_gradients_equal_the_engine(tmp_path, browser):
    loss, model = _lenet_step()
    path = ad.explore(loss, path=tmp_path / "lenet.html").html and tmp_path / "lenet.html"
    page = Page(browser, path)
    try:
        p = page.page
        assert p.is_visible("#view-forward_collapsed")  # collapsed by default at this size
        p.click("#last")
        shown = page.leaf_grads()
        params = dict(model.named_parameters())
        assert set(shown) == set(params)
        for name, param in params.items():
            first, norm = _text_to_grad(shown[name])
            g = param.grad.data.reshape(-1).astype(np.float64)
            np.testing.assert_allclose(first, g[:len(first)], rtol=1e-4, atol=1e-7, err_msg=name)
            assert norm == pytest.approx(float(np.linalg.norm(g)), rel=1e-4), name
        page.click_node("LeNet.features.3")  # a module box: its ops, and a button to expand
        assert p.inner_text("#p-name") == "LeNet.features.3" and "conv" in p.inner_text("#p-table")
        p.click("#expand-module")
        assert p.is_visible("#view-forward") and not p.is_visible("#view-forward_collapsed")
        p.click("#toggle-collapse")
        assert p.is_visible("#view-forward_collapsed")
        p.click("#toggle-collapse")
        page.click_node("features.3.weight")
        assert p.inner_text("#p-name") == "features.3.weight"
        first, _ = _text_to_grad(p.inner_text("#p-grad"))
        np.testing.assert_allclose(first, params["features.3.weight"].grad.data.reshape(-1)[:len(first)], rtol=1e-4)
        assert p.query_selector("#p-table svg rect") is not None  # the histogram
        png = p.screenshot(path=str(tmp_path / "lenet.png"))
    finally:
        page.close()
    _not_blank(png)


def _not_blank(png):
    import io
    from PIL import Image
    im = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=np.float64)
    assert im.std() > 10 and (im < 128).mean() > 0.005  # drawn lines and text, not an empty page
