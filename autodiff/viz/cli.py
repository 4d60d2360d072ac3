"""Command line: render a computation graph to an image or an HTML page (autodiff-draw, python -m autodiff.viz).

    autodiff-draw neuron -o neuron.png                      # a built-in example (--list shows them)
    autodiff-draw neuron --view backward -o neuron_bw.svg
    autodiff-draw mlp --view both --collapse -o mlp.png
    autodiff-draw neuron --view chain --leaf w1 -o chain.png
    autodiff-draw neuron --view steps -o frames/            # numbered PNGs + steps.gif
    autodiff-draw mlp -o graph.html                         # the interactive explorer page
    autodiff-draw my_model.py -o model.png                  # your own graph

A Python file is run and must define one of (checked in this order):

* build() returning the root (a Value or Tensor), or a dict with 'root' and optionally
  'params' (dict name -> tensor), 'tensors' (named intermediate tensors), 'inputs' and 'leaf';
* a variable root (and optionally params, tensors, inputs, leaf);
* model and example_input: the root is model(example_input) (summed to a scalar when it
  is not one) and the parameters are named by model.named_parameters().

Backward is run first (so gradients show) unless the graph already has gradients or --no-backward is given.
"""
import argparse
import math
import runpy
import sys
from pathlib import Path

import numpy as np

from .dot import to_dot
from .graph import build_graph
from .labels import grads_known
from .render import FORMATS, GraphvizNotFoundError, draw, draw_steps

__all__ = ["main", "EXAMPLES"]


def _expr():
    """micrograd's lecture expression L = (a*b + c) * f."""
    from ..value import Value
    a, b, c, f = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c"), Value(-2.0, label="f")
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    out = d * f
    out.label = "L"
    return {"root": out, "leaf": a}


def _neuron():
    """micrograd's neuron o = tanh(x1 w1 + x2 w2 + b)."""
    from ..value import Value
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2, b = Value(-3.0, label="w1"), Value(1.0, label="w2"), Value(6.8813735870195432, label="b")
    x1w1, x2w2 = x1 * w1, x2 * w2
    x1w1.label, x2w2.label = "x1*w1", "x2*w2"
    s = x1w1 + x2w2
    s.label = "x1*w1 + x2*w2"
    n = s + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return {"root": o, "leaf": w1}


def _mlp(sizes=(784, 256, 128, 10), batch=64):
    """A three-layer MLP on a batch of 64 (Tensor engine), one scope per layer."""
    from .. import creation
    from ..grad_mode import scope
    from ..tensor import Tensor
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((batch, sizes[0])).astype(np.float32))
    params, h = {}, x
    for k, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        bound = 1 / math.sqrt(n_in)
        w = Tensor(rng.uniform(-bound, bound, (n_in, n_out)).astype(np.float32), requires_grad=True)
        b = creation.zeros(n_out, requires_grad=True)
        params[f"fc{k + 1}.weight"], params[f"fc{k + 1}.bias"] = w, b
        with scope(f"fc{k + 1}"):
            h = h @ w + b
            if k < len(sizes) - 2:
                h = h.relu()
    target = rng.integers(0, sizes[-1], batch)
    with scope("loss"):
        logp = h.log_softmax(axis=1)
        loss = -(logp[np.arange(batch), target]).mean()
    return {"root": loss, "params": params, "leaf": params["fc1.weight"]}


def _second_order():
    """d/dx of sum(d/dx sum(x^3 * sin x)): a graph made with create_graph=True."""
    from ..backward import grad
    from ..tensor import Tensor
    x = Tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
    (gx,) = grad((x ** 3 * x.sin()).sum(), x, create_graph=True)
    return {"root": gx.sum(), "params": {"x": x}, "leaf": x}


EXAMPLES = {"expr": _expr, "neuron": _neuron, "mlp": _mlp, "second-order": _second_order}


def load_source(source):
    """``{'root', 'params', 'tensors', 'leaf'}`` for an example name or a Python file."""
    if source in EXAMPLES:
        return EXAMPLES[source]()
    path = Path(source)
    if not path.suffix == ".py" or not path.exists():
        raise SystemExit(f"autodiff-draw: {source!r} is neither an example ({', '.join(EXAMPLES)}) "
                         "nor an existing .py file")
    ns = runpy.run_path(str(path), run_name="__autodiff_draw__")
    if callable(ns.get("build")):
        got = ns["build"]()
        spec = dict(got) if isinstance(got, dict) else {"root": got}
    elif "root" in ns:
        spec = {k: ns[k] for k in ("root", "params", "tensors", "inputs", "leaf") if k in ns}
    elif "model" in ns and "example_input" in ns:
        model = ns["model"]
        out = model(ns["example_input"])
        spec = {"root": out if out.data.size == 1 else out.sum(), "params": dict(model.named_parameters())}
    else:
        raise SystemExit(f"autodiff-draw: {path} defines none of build(), root, or model + example_input")
    if "root" not in spec:
        raise SystemExit(f"autodiff-draw: build() in {path} returned a dict without 'root'")
    return spec


def _run_backward(spec):
    root = spec["root"]
    g = build_graph(root, params=spec.get("params"), tensors=spec.get("tensors"))
    if grads_known(g):
        return
    if g.engine == "value":
        root.backward()
    elif root.data.size == 1 and root.requires_grad:
        root.backward(retain_graph=True)


def _pick_leaf(spec, name):
    if name is None:
        if spec.get("leaf") is None:
            raise SystemExit("autodiff-draw: --view chain needs --leaf NAME (a label or parameter name)")
        return spec["leaf"]
    g = build_graph(spec["root"], params=spec.get("params"), tensors=spec.get("tensors"))
    for n in g.data_nodes():
        if n.name == name and n.obj is not None:
            return n.obj
    names = sorted({n.name for n in g.data_nodes() if n.name and n.obj is not None})
    raise SystemExit(f"autodiff-draw: no value named {name!r} in the graph; named values: {', '.join(names)}")


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="autodiff-draw", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    p.add_argument("source", nargs="?", help="example name (see --list) or a Python file")
    p.add_argument("-o", "--output", help="image file (or directory for --view steps); default <source>_<view>.png")
    p.add_argument("--view", default="forward", choices=["forward", "backward", "both", "chain", "rolled", "steps"])
    p.add_argument("--format", choices=FORMATS + ("html",), help="image format (default: from the output suffix)")
    p.add_argument("--leaf", help="chain view: label or parameter name of the leaf")
    p.add_argument("--collapse", default="auto", help="auto (one box per module above the node budget), "
                   "always, never, or a scope depth")
    p.add_argument("--max-nodes", type=int, default=300, help="node limit before collapsing (0: none)")
    p.add_argument("--rankdir", default="auto", choices=["auto", "LR", "TB", "RL", "BT"])
    p.add_argument("--fmt", default="%.4f", help="format of scalar numbers (default %%.4f)")
    p.add_argument("--dpi", type=int, help="resolution of PNG output")
    p.add_argument("--title", help="title written at the top of the picture")
    p.add_argument("--no-backward", action="store_true", help="do not run backward before drawing")
    p.add_argument("--dot", action="store_true", help="print the DOT text instead of rendering")
    p.add_argument("--list", action="store_true", help="list the built-in examples")
    return p.parse_args(argv)


def main(argv=None):
    """Entry point of ``autodiff-draw``; returns the process exit code."""
    args = parse_args(argv)
    if args.list or not args.source:
        for name, fn in EXAMPLES.items():
            print(f"{name:14s} {fn.__doc__.strip()}")
        return 0 if args.list else 2
    spec = load_source(args.source)
    if not args.no_backward:
        _run_backward(spec)
    kw = dict(params=spec.get("params"), tensors=spec.get("tensors"), inputs=spec.get("inputs"), fmt=args.fmt,
              rankdir=args.rankdir)
    collapse = int(args.collapse) if args.collapse.isdigit() else args.collapse
    view_kw = dict(kw, collapse=collapse, max_nodes=args.max_nodes or None, title=args.title, dpi=args.dpi)
    stem = Path(args.source).stem if args.source.endswith(".py") else args.source
    try:
        if args.view == "steps":
            out = draw_steps(spec["root"], args.output or f"{stem}_steps", **kw)
            print(f"wrote {len(out.frames)} frames and {out.gif}")
            return 0
        if args.view == "chain":
            view_kw["leaf"] = _pick_leaf(spec, args.leaf)
        if args.dot:
            sys.stdout.write(to_dot(spec["root"], args.view, **view_kw))
            return 0
        path = args.output or f"{stem}_{args.view}.{args.format or 'png'}"
        if args.format == "html" or path.lower().endswith((".html", ".htm")):
            from .explore import explore
            print(explore(spec["root"], params=spec.get("params"), inputs=spec.get("inputs"),
                          tensors=spec.get("tensors"), title=args.title).save(path))
            return 0
        print(draw(spec["root"], path, format=args.format, view=args.view, **view_kw))
    except GraphvizNotFoundError as e:
        print(f"autodiff-draw: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
