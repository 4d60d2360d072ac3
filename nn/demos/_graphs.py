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
    """Draw the graph of ``loss(model(x), y)``: forward and backward pictures (every op, laid out top to
    bottom so a LeNet step stays within 1600 px), and the interactive explorer page.

    Parameters are named by the model's own module paths (``features.0.weight``) without ``params=``.
    """
    draw = _find_draw()
    if draw is None:
        print("graph pictures skipped: autodiff.draw is not available in this checkout")
        return []
    ad.manual_seed(args.seed)
    inputs = ad.tensor(x)
    loss = nn.CrossEntropyLoss()(model(inputs), ad.tensor(y))
    model.zero_grad()
    loss.backward(retain_graph=True)   # gradients to show; the kept graph lets the pictures replay it
    written = []
    for view in ("forward", "backward"):
        path = out_path(args, f"{prefix}_{view}_graph.png")
        try:
            result = draw(loss, path, view=view, collapse="never", inputs={"images": inputs})
        except Exception as exc:  # the picture is optional: never fail the demo over it
            print(f"graph picture ({view}) skipped: {type(exc).__name__}: {exc}")
            continue
        written.append(str(result) if isinstance(result, str) else path)
        print(f"saved {written[-1]}")
    explore = getattr(ad, "explore", None)
    if explore is not None:
        path = out_path(args, f"{prefix}_graph.html")
        try:
            written.append(explore(loss, inputs={"images": inputs}, title=f"{prefix} training step").save(path))
            print(f"saved {written[-1]} (interactive: open it in a browser)")
        except Exception as exc:
            print(f"graph explorer skipped: {type(exc).__name__}: {exc}")
    return written
