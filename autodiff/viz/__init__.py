"""Pictures of computation graphs: DOT text first (:func:`to_dot`), rendering second (:func:`draw`).

    >>> import autodiff as ad
    >>> a, b = ad.Value(2.0, label="a"), ad.Value(-3.0, label="b")
    >>> c = (a * b).tanh(); c.backward()
    >>> src = ad.to_dot(c, view="both")           # DOT text, no graphviz program needed
    >>> ad.draw(c, "c.png", view="backward")       # doctest: +SKIP
    >>> ad.draw_chain(c, a, "chain.svg")           # doctest: +SKIP
    >>> ad.draw_steps(c, "frames/")                # doctest: +SKIP

Views: ``forward`` (data and op nodes), ``backward`` (the adjoint graph: incoming gradient, local
derivative, gradient sent to each input, sums at fan-out), ``both``, ``chain`` (every path from a
leaf to the root with its factors), ``rolled`` (a loop body once, "x T"). Tensor graphs show names
(parameters by their module path without any argument; ``params=`` overrides), shapes, dtypes and
value/grad summaries, grouped in one cluster per module scope; ``collapse=`` draws modules as boxes.
:func:`explore` writes an interactive HTML page, :func:`draw_attention` attention heatmaps. The
command line: ``python -m autodiff.viz --help`` (``autodiff-draw``).
"""
from .chain import Factor, chain_paths
from .dot import VIEWS, to_dot
from .attention import attention_weights, draw_attention
from .explore import Explorer, explore
from .graph import Graph, build_graph, local_formula
from .rolled import roll_graph
from .render import GraphvizNotFoundError, Picture, Steps, draw, draw_chain, draw_steps, render_dot

__all__ = ["explore", "Explorer", "draw_attention", "attention_weights", "roll_graph", "to_dot", "draw",
           "draw_chain", "draw_steps", "chain_paths", "build_graph", "local_formula",
           "Graph", "Factor", "Picture", "Steps", "GraphvizNotFoundError", "render_dot", "VIEWS"]
