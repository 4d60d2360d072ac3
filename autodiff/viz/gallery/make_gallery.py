"""Regenerate every picture in this folder: ``python autodiff/viz/gallery/make_gallery.py [OUTDIR]``.

The neuron views go through the command line (``autodiff-draw``), the rest through the Python API,
so the gallery shows what both give today. The explorer screenshot needs playwright and Debian's
chromium; without them it is left out (and said so).
"""
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
CHROME_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]  # root, no GPU, small /dev/shm

# file -> what it shows (the README's gallery table is written from the same list)
PICTURES = {
    "neuron_forward.png": "micrograd's neuron, forward: data and grad in each value",
    "neuron_backward.png": "its backward: g, local derivative with the graph's own names, outgoing gradient",
    "neuron_chain_w1.png": "every chain-rule path from w1 to o with its factors",
    "mlp_modules.png": "a 3-layer MLP step, one box per module (collapse='always')",
    "lenet_forward.png": "a LeNet training step, forward, every op (fits 1600 px)",
    "lenet_backward.png": "the same step's backward: every gradient with shape and summary",
    "lstm_rolled.png": "a Python loop over nn.LSTMCell drawn once ('x 5'), gradients summed over steps",
    "attention_heatmap.png": "nn.MultiheadAttention's weights, one heatmap per head",
    "explorer.png": "the interactive explorer (autodiff.explore) on the LeNet step",
}


def _lenet_step():
    import autodiff as ad
    import nn
    from nn.models.lenet import LeNet
    ad.manual_seed(0)
    model = LeNet()
    x = ad.randn(2, 1, 28, 28)
    loss = nn.CrossEntropyLoss()(model(x), ad.tensor([3, 7]))
    loss.backward(retain_graph=True)
    return loss, x


def _lstm_loop():
    import autodiff as ad
    import nn
    ad.manual_seed(0)
    cell = nn.LSTMCell(3, 4)
    x = ad.randn(5, 2, 3)
    h = c = ad.zeros(2, 4)
    for t in range(5):
        h, c = cell(x[t], (h, c))
    loss = h.sum()
    loss.backward(retain_graph=True)
    return loss


def _attention():
    import autodiff as ad
    import nn
    ad.manual_seed(0)
    mha = nn.MultiheadAttention(8, 2, batch_first=True)
    x = ad.randn(1, 6, 8)
    out, _ = mha(x, x, x, need_weights=True, average_attn_weights=False)
    return out.sum()


def screenshot(html_path, png_path, width=1500, height=900):
    """PNG of an HTML page in headless chromium; False when playwright or chromium is missing."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return False
    if chromium is None:
        return False
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROME_ARGS)
        page = browser.new_page(viewport={"width": width, "height": height})
        page.goto(Path(html_path).resolve().as_uri())
        page.click("#last")
        page.click("#toggle-collapse")
        node = [g for g in page.query_selector_all(".view.on g.node") if "features.3.weight" in g.text_content()]
        if node:
            node[0].dispatch_event("click")
        page.screenshot(path=str(png_path))
        browser.close()
    return True


def make(outdir=HERE, shot=True):
    """Write the gallery to ``outdir``; returns ``{file: path}`` of what was written."""
    import autodiff as ad
    from autodiff.viz.attention import draw_attention
    from autodiff.viz.cli import main
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    out = {}

    def cli(name, *args):
        path = outdir / name
        if main([*args, "-o", str(path)]) != 0:
            raise RuntimeError(f"make_gallery: autodiff-draw {' '.join(args)} failed")
        out[name] = str(path)

    cli("neuron_forward.png", "neuron")
    cli("neuron_backward.png", "neuron", "--view", "backward")
    cli("neuron_chain_w1.png", "neuron", "--view", "chain", "--leaf", "w1")
    cli("mlp_modules.png", "mlp", "--collapse", "always")
    loss, x = _lenet_step()
    for view in ("forward", "backward"):
        name = f"lenet_{view}.png"
        out[name] = ad.draw(loss, outdir / name, view=view, collapse="never", inputs={"images": x})
    out["lstm_rolled.png"] = ad.draw(_lstm_loop(), outdir / "lstm_rolled.png", view="rolled")
    out["attention_heatmap.png"] = draw_attention(_attention(), outdir / "attention_heatmap.png",
                                                  keys=list("abcdef"), queries=list("abcdef"))
    if shot:
        html = outdir / "_explorer.html"
        ad.explore(loss, path=html, inputs={"images": x}, title="LeNet training step")
        if screenshot(html, outdir / "explorer.png"):
            out["explorer.png"] = str(outdir / "explorer.png")
        else:
            print("explorer.png skipped: playwright or chromium is not installed", file=sys.stderr)
        html.unlink()
    return out


if __name__ == "__main__":
    written = make(sys.argv[1] if len(sys.argv) > 1 else HERE)
    for name, path in written.items():
        print(f"{path}: {PICTURES[name]}")
