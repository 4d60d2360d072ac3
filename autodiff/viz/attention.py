"""Attention weights of a graph as heatmaps (queries down, keys across), one panel per head.

The weights are found in the graph itself: the output of a ``softmax`` over the last axis of a
tensor with at least 2 axes (``nn.MultiheadAttention`` with ``need_weights=True`` builds them this
way), or recomputed from the saved query and key of a fused ``scaled_dot_product_attention`` node
(softmax(q k^T * scale + mask), with its boolean mask). The graph must not be freed yet (draw
before ``backward``, or after ``backward(retain_graph=True)``).
"""
import numpy as np

from .graph import _saved_values, build_graph

__all__ = ["attention_weights", "draw_attention"]


def _softmax(s):
    s = s - np.max(s, axis=-1, keepdims=True)
    e = np.exp(s)
    return e / e.sum(axis=-1, keepdims=True)


def attention_weights(root, params=None):
    """``[(label, weights)]`` with weights of shape ``(..., L, S)`` (rows sum to 1), in graph order."""
    g = build_graph(root, params=params)
    found = []
    for op in g.op_nodes():
        node = getattr(op, "node", None)
        if op.op == "softmax" and op.outputs:
            out = g.nodes[op.outputs[0]]
            axis = getattr(getattr(node, "ctx", node), "axis", -1)
            if out.value is not None and out.value.ndim >= 2 and axis in (-1, out.value.ndim - 1):
                found.append((f"{op.scope or 'softmax'}: softmax weights", np.asarray(out.value)))
        elif op.op == "scaled_dot_product_attention" and node is not None:
            saved = _saved_values(node)
            q, k = saved.get(("in", 0)), saved.get(("in", 1))
            if q is None or k is None:
                continue
            ctx = getattr(node, "ctx", node)
            s = np.matmul(q.astype(np.float64), np.swapaxes(k, -1, -2)) * float(getattr(ctx, "scale", 1.0))
            mask = saved.get(("in", 3))
            if mask is not None:
                s = s + mask
            keep = getattr(ctx, "keep", None)
            if keep is not None:
                s = np.where(keep, s, -np.inf)
            found.append((f"{op.scope or 'attention'}: attention weights", _softmax(s)))
    return found


def draw_attention(root, path=None, *, which=0, batch=0, queries=None, keys=None, max_heads=8, params=None):
    """Heatmap of the attention weights found in the graph of ``root``.

    Args:
        root: a Tensor whose graph contains attention (see the module docstring).
        path: image file to write (PNG/SVG/PDF by suffix); without it the matplotlib Figure is returned.
        which: index into :func:`attention_weights` when the graph holds several.
        batch: which batch element to show when the weights have a batch axis.
        queries, keys: tick labels (e.g. the tokens) of the rows and columns.
        max_heads: at most this many heads are drawn.

    Raises:
        ValueError: no attention weights in the graph (or a freed graph).
    """
    import matplotlib
    if path is not None:
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    found = attention_weights(root, params=params)
    if not found:
        raise ValueError("draw_attention: no attention weights in this graph (a softmax over the last axis of "
                         "scores, or scaled_dot_product_attention); draw before backward or after "
                         "backward(retain_graph=True)")
    if not 0 <= which < len(found):
        raise ValueError(f"draw_attention: which={which}, but the graph holds {len(found)} attention maps")
    label, w = found[which]
    w = np.asarray(w)
    if w.ndim == 4:  # (N, H, L, S)
        w = w[batch]
    elif w.ndim == 3 and w.shape[0] > max_heads:
        w = w[batch][None]
    if w.ndim == 2:
        w = w[None]
    heads = w[:max_heads]
    fig, axes = plt.subplots(1, len(heads), figsize=(3.2 * len(heads) + 0.8, 3.4), squeeze=False)
    for h, ax in enumerate(axes[0]):
        im = ax.imshow(heads[h], vmin=0.0, vmax=1.0, cmap="viridis")
        ax.set_title(f"head {h}" if len(heads) > 1 else "weights", fontsize=9)
        ax.set_xlabel("key")
        ax.set_ylabel("query")
        if keys is not None:
            ax.set_xticks(range(len(keys)), labels=list(keys), rotation=90, fontsize=7)
        if queries is not None:
            ax.set_yticks(range(len(queries)), labels=list(queries), fontsize=7)
    fig.colorbar(im, ax=axes[0].tolist(), shrink=0.8)
    fig.suptitle(label, fontsize=10)
    if path is None:
        return fig
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return str(path)
