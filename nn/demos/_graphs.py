"""Render the forward and backward graph of one training step (needs autodiff's viz module)."""

from __future__ import annotations

import autodiff as ad
import nn
from nn.demos._common import out_path


def _find_draw():
    draw = getattr(ad, "draw", None)
    if draw is None:
        try:
            from autodiff import viz
        except ImportError:
            return None
        draw = getattr(viz, "draw", None)
    return draw


def render_training_step(args, model, x, y, prefix):
    """Draw the graph of ``loss(model(x), y)`` (forward view) and its backward pass to images."""
    draw = _find_draw()
    if draw is None:
        print("graph pictures skipped: autodiff.draw is not available in this checkout")
        return []
    ad.manual_seed(args.seed)
    loss = nn.CrossEntropyLoss()(model(ad.tensor(x)), ad.tensor(y))
    model.zero_grad()
    loss.backward(retain_graph=True)   # gradients to show in the backward picture
    params = dict(model.named_parameters())
    written = []
    for view in ("forward", "backward"):
        path = out_path(args, f"{prefix}_{view}_graph.png")
        try:
            result = draw(loss, path, view=view, params=params)
        except Exception as exc:  # the picture is optional: never fail the demo over it
            print(f"graph picture ({view}) skipped: {type(exc).__name__}: {exc}")
            continue
        written.append(str(result) if isinstance(result, str) else path)
        print(f"saved {written[-1]}")
    return written
