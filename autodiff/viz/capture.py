"""Replay a Tensor graph's backward to see every gradient as the engine computes it, in its order.

A Tensor graph keeps the gradients of leaves only (``.grad``); intermediate results keep none unless
``retain_grad()`` was called. When the graph still holds its saved values (the first backward used
``retain_graph=True``, or none ran yet), :func:`replay` runs the engine's backward once more through
``autodiff.grad`` (which changes no ``.grad``), with a temporary hook on every op output: the hooks
record each output's gradient and the order the engine processed the ops in. The user's own tensor
hooks, leaf hooks and module backward-hook callbacks are switched off for that pass and restored.
"""
import numpy as np

__all__ = ["replay"]


def _pass_through(grads):
    return grads


def _leaves(graph):
    return [n.obj for n in graph.data_nodes() if n.is_leaf and n.requires_grad and n.obj is not None]


def replay(root, graph):
    """Fill ``graph``'s intermediate gradients from a second backward; returns the op ids in engine order.

    Returns None (and changes nothing) when the graph's saved values were freed, the root is not a
    single-element tensor, or the engine does not offer per-output hooks.
    """
    from ..backward import grad as engine_grad
    if graph.engine != "tensor" or root is None or getattr(root, "grad_fn", None) is None:
        return None
    if int(np.prod(root.data.shape)) != 1:
        return None
    ops = [op for op in graph.op_nodes() if getattr(op, "node", None) is not None]
    if any(getattr(op.node, "freed", False) for op in ops) or not all(hasattr(op.node, "tensor_hooks") for op in ops):
        return None
    order, grads, installed = [], {}, []
    saved_hooks, saved_callbacks, saved_leaf_hooks = [], [], []
    for op in ops:  # the user's hooks must not run a second time: only ours are installed
        node = op.node
        saved_hooks.append((node, node.tensor_hooks))
        node.tensor_hooks = {}
        ctx = getattr(node, "ctx", None)
        if op.op == "grad_callback" and ctx is not None and hasattr(ctx, "callback"):
            saved_callbacks.append((ctx, ctx.callback))
            ctx.callback = _pass_through
        for k, did in enumerate(op.outputs):
            def hook(g, op_id=op.id, did=did):
                if not order or order[-1] != op_id:
                    order.append(op_id)
                grads[did] = np.array(g.data if hasattr(g, "data") else g, copy=True)
            node.tensor_hooks.setdefault(k, []).append(hook)
            installed.append(hook)
    leaves = _leaves(graph)
    for t in leaves:
        if getattr(t, "_hooks", None):
            saved_leaf_hooks.append((t, t._hooks))
            t._hooks = None
    try:
        engine_grad(root, leaves, retain_graph=True, allow_unused=True)
    except Exception:  # a freed or unusual graph: the pictures go on without the replay
        order.clear()
        grads.clear()
    finally:
        for node, hooks in saved_hooks:
            node.tensor_hooks = hooks
        for ctx, callback in saved_callbacks:
            ctx.callback = callback
        for t, hooks in saved_leaf_hooks:
            t._hooks = hooks
    if not order:
        return None
    for did, g in grads.items():
        n = graph.nodes[did]
        if n.grad is None:
            n.grad = g
    seen = set(order)
    return order + [op.id for op in ops if op.id not in seen]
