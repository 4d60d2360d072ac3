"""Rendering DOT text through the graphviz program: files, Jupyter display, step frames and a GIF.

The graphviz Python package and Pillow are imported only when something is rendered, so
``import autodiff`` needs neither, and :func:`~autodiff.viz.dot.to_dot` works without the program.
"""
import os
from collections import namedtuple
from pathlib import Path

from .chain import step_states
from .dot import to_dot
from .graph import build_graph

__all__ = ["draw", "draw_chain", "draw_steps", "Picture", "GraphvizNotFoundError", "render_dot", "Steps"]

FORMATS = ("png", "svg", "pdf")

_INSTALL = (
    "the graphviz program 'dot' was not found on PATH, so the graph cannot be rendered to an image. "
    "Install it: Debian/Ubuntu `sudo apt-get install graphviz`, Fedora `sudo dnf install graphviz`, "
    "macOS `brew install graphviz`, conda `conda install -c conda-forge graphviz`, Windows: the "
    "installer from https://graphviz.org/download/ (tick 'add to PATH'). autodiff.to_dot(...) still "
    "gives the DOT text without it.")


class GraphvizNotFoundError(RuntimeError):
    """The graphviz program (or its Python package) is missing; the message says how to install it."""


def render_dot(source, format="png", engine="dot"):
    """Bytes of ``source`` (DOT text) rendered by graphviz in ``format`` ('png', 'svg' or 'pdf')."""
    if format not in FORMATS:
        raise ValueError(f"draw: format must be one of {FORMATS}, got {format!r}")
    try:
        import graphviz
    except ImportError:
        raise GraphvizNotFoundError("draw: the graphviz Python package is not installed "
                                    "(`pip install graphviz`); " + _INSTALL) from None
    try:
        return graphviz.Source(source, engine=engine).pipe(format=format)
    except graphviz.ExecutableNotFound:
        raise GraphvizNotFoundError("draw: " + _INSTALL) from None


class Picture:
    """A rendered graph: shows itself inline in Jupyter and can be saved.

    Attributes:
        source: the DOT text.
        svg: the SVG text (rendered when the picture is made).
    """

    def __init__(self, source, engine="dot"):
        self.source = source
        self.engine = engine
        self.svg = render_dot(source, "svg", engine).decode("utf-8")

    def pipe(self, format="png"):
        """The picture as bytes in ``format``."""
        if format == "svg":
            return self.svg.encode("utf-8")
        return render_dot(self.source, format, self.engine)

    def save(self, path, format=None):
        """Write the picture to ``path`` (format from the suffix unless given). Returns the path."""
        return _write(path, self.pipe(_format_of(path, format)))

    def _repr_svg_(self):
        return self.svg

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"image/svg+xml": self.svg, "text/plain": repr(self)}

    def __repr__(self):
        return f"<autodiff Picture: {self.source.count(chr(10))} lines of DOT; .save(path) or display in Jupyter>"


def _format_of(path, format):
    if format is not None:
        return format
    suffix = Path(path).suffix.lower().lstrip(".")
    return suffix if suffix in FORMATS else "png"


def _write(path, data):
    path = Path(path)
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return str(path)


def draw(root, path=None, format=None, view="forward", engine="dot", **kwargs):
    """Render the graph of ``root`` (a Value or Tensor) as a picture.

    Args:
        root: the output whose computation is drawn.
        path: file to write; without it a :class:`Picture` is returned (inline in Jupyter).
        format: 'png', 'svg', 'pdf' or 'html' (default: the suffix of ``path``, else png). 'html'
            (or a ``.html`` path) writes the interactive explorer page (see :func:`~autodiff.viz.explore.explore`).
        view: 'forward', 'backward', 'both' or 'chain' (with ``leaf=``).
        engine: graphviz layout program ('dot').
        **kwargs: passed to :func:`~autodiff.viz.dot.to_dot` (params, tensors, fmt, rankdir, health,
            vanish, explode, collapse, max_nodes, title, leaf, dpi...).

    Returns:
        str path of the written file, or a :class:`Picture`.

    Raises:
        GraphvizNotFoundError: the graphviz program is not installed (the message says how).
    """
    if format == "html" or (format is None and path is not None and str(path).lower().endswith((".html", ".htm"))):
        from .explore import explore
        keep = {k: kwargs[k] for k in ("params", "inputs", "tensors", "title", "fmt") if k in kwargs}
        ex = explore(root, **keep)
        return ex if path is None else ex.save(path)
    source = uncrossed(to_dot(root, view, **kwargs), engine)
    if path is None:
        return Picture(source, engine)
    return _write(path, render_dot(source, _format_of(path, format), engine))


def uncrossed(source, engine="dot"):
    """``source`` with its module names placed where no edge crosses them (the first placement of
    :data:`~autodiff.viz.dot.CLUSTER_LABEL_PLACES` that the laid-out SVG shows free; else the one
    with the fewest crossings)."""
    from .dot import CLUSTER_LABEL_PLACES
    from .svgcheck import label_crossings
    first = CLUSTER_LABEL_PLACES[0]
    if first not in source:
        return source
    best = None
    for place in CLUSTER_LABEL_PLACES:
        candidate = source.replace(first, place)
        n = len(label_crossings(render_dot(candidate, "svg", engine).decode("utf-8")))
        if n == 0:
            return candidate
        if best is None or n < best[0]:
            best = (n, candidate)
    return best[1]


def draw_chain(root, leaf, path=None, format=None, **kwargs):
    """Render every path from ``leaf`` to ``root`` with each chain-rule factor labelled.

    For Values the factors are numbers and their products, summed over the paths, give ``leaf.grad``.
    Same return value as :func:`draw`.
    """
    return draw(root, path, format, view="chain", leaf=leaf, **kwargs)


Steps = namedtuple("Steps", "frames gif")


def step_title(g, nid, k, total):
    """Frame title naming the node processed: ``backward step 3/7: n = x1*w1 + b (op +)``."""
    if nid is None:
        return f"backward done ({total - 1} steps): every gradient, leaves included"
    n = g.nodes[nid]
    if n.kind == "op":
        outs = ", ".join(g.nodes[o].label for o in n.outputs)
        where = f" in {n.scope}" if n.scope else ""
        what = f"op {n.op}{where} -> {outs}"
    else:
        op = g.producer(nid)
        what = n.label + (f" (made by {g.nodes[op].op})" if op else " (leaf)")
    return f"backward step {k + 1}/{total - 1}: processing {what}"


def draw_steps(root, directory, *, gif=True, duration=700, dpi=72, max_frames=200, prefix="step",
               params=None, tensors=None, inputs=None, **kwargs):
    """Frames of the backward pass: one per node, in the order backward processes them, then a last
    frame with every gradient.

    Value graphs get one frame per Value (reverse topological order), Tensor graphs one per op in
    the engine's order (replayed when the graph was kept with ``retain_graph=True``, which also
    shows each intermediate gradient). Each frame highlights the node being processed and is titled
    with its name; the gradients known so far are written in the nodes (``grad ?`` where none has
    arrived yet). All frames are padded to the same pixel size.

    Args:
        root: the output (call ``backward()`` first for Values whose local derivatives are unknown).
        directory: where ``step_000.png``, ``step_001.png``, ... and ``steps.gif`` are written.
        gif: also write an animated GIF (Pillow) of all the frames.
        duration: milliseconds per GIF frame.
        dpi: resolution of the frames.
        max_frames: refuse graphs with more frames than this (the node limit of the other views).
        params, tensors, inputs: names, as for :func:`~autodiff.viz.graph.build_graph`.
        **kwargs: passed to :func:`~autodiff.viz.dot.to_dot` (fmt, rankdir, ...).

    Returns:
        Steps(frames=[png paths], gif=gif path or None)
    """
    from .capture import replay
    g = build_graph(root, params=params, tensors=tensors, inputs=inputs)
    order = replay(root, g) if g.engine == "tensor" else None
    states = list(step_states(g, order))
    if len(states) > max_frames:
        raise ValueError(f"draw_steps: {len(states)} frames for this graph, more than max_frames={max_frames}; "
                         "draw a smaller graph or raise max_frames")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    frames = []
    for k, (nid, state) in enumerate(states):
        title = step_title(g, nid, k, len(states))
        source = to_dot(None, "forward", graph=g, _state=state, title=title, dpi=dpi, max_nodes=None, **kwargs)
        frames.append(_write(directory / f"{prefix}_{k:03d}.png", render_dot(source, "png")))
    pad_frames(frames)
    gif_path = None
    if gif and frames:
        gif_path = str(directory / f"{prefix}s.gif")
        write_gif(frames, gif_path, duration)
    return Steps(frames, gif_path)


def pad_frames(png_paths):
    """Pad every PNG (white, centred) to the largest width and height among them, in place."""
    from PIL import Image
    sizes = []
    for p in png_paths:
        with Image.open(p) as im:
            sizes.append(im.size)
    if not sizes:
        return
    w, h = max(s[0] for s in sizes), max(s[1] for s in sizes)
    for p, size in zip(png_paths, sizes):
        if size == (w, h):
            continue
        with Image.open(p) as im:
            canvas = Image.new("RGB", (w, h), "white")
            canvas.paste(im.convert("RGB"), ((w - size[0]) // 2, (h - size[1]) // 2))
        canvas.save(p)


def write_gif(png_paths, path, duration=700):
    """Animated GIF of PNG frames (each padded to the largest frame, white background)."""
    from PIL import Image
    images = [Image.open(p).convert("RGB") for p in png_paths]
    w = max(im.width for im in images)
    h = max(im.height for im in images)
    padded = []
    for im in images:
        canvas = Image.new("RGB", (w, h), "white")
        canvas.paste(im, (0, 0))
        padded.append(canvas)
    padded[0].save(path, save_all=True, append_images=padded[1:], duration=duration, loop=0,
                   optimize=False, disposal=1)
    return os.fspath(path)
