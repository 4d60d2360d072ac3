"""XOR with a 2-4-1 MLP on both engines: the Tensor engine (nn.Module) and scalar Values."""

from __future__ import annotations

import time

import numpy as np

import autodiff as ad
from nn.data import xor_gate
from nn.demos._common import out_path, save_curves
from nn.demos._graphs import _find_draw
from nn.models.mlp import train_xor, train_xor_value, value_predict


def run(args):
    X, y = xor_gate()
    t0 = time.perf_counter()
    model, losses = train_xor(hidden=4, epochs=args.epochs or 500, lr=args.lr or 1.0, seed=args.seed)
    with ad.no_grad():
        out = model(ad.tensor(X)).sigmoid().data.ravel()
    acc = np.mean((out > 0.5) == (y > 0.5))
    print(f"Tensor engine, MLP 2-4-1 (tanh, BCE, SGD): outputs {np.round(out, 3)} for targets {y}; "
          f"accuracy {100 * acc:.0f}%, final loss {losses[-1]:.4f} ({time.perf_counter() - t0:.2f} s)")
    t0 = time.perf_counter()
    vmodel, vlosses, last = train_xor_value(hidden=4, epochs=args.epochs or 500, lr=args.lr or 1.0,
                                            seed=args.seed)
    vout = value_predict(vmodel, X)
    vacc = np.mean((vout > 0.5) == (y > 0.5))
    print(f"Value engine, MLP 2-4-1 (tanh/sigmoid, MSE, GD): outputs {np.round(vout, 3)}; "
          f"accuracy {100 * vacc:.0f}%, final loss {vlosses[-1]:.4f} ({time.perf_counter() - t0:.2f} s, "
          f"{len(vmodel.parameters())} scalar parameters)")
    path = save_curves(out_path(args, "xor_loss.png"),
                       {"Tensor engine (BCE)": losses, "Value engine (MSE)": vlosses},
                       "XOR: training loss", xlabel="epoch", logy=True)
    print(f"saved {path}")
    if args.no_graph:
        return
    draw = _find_draw()
    if draw is None:
        print("graph picture skipped: autodiff.draw is not available in this checkout")
        return
    # the graph of one forward pass on a single pattern keeps the picture readable
    single = vmodel([1.0, 0.0])
    single.backward()
    path = out_path(args, "xor_value_graph.png")
    try:
        result = draw(single, path, view="forward")
        print(f"saved {result if isinstance(result, str) else path}")
    except Exception as exc:  # optional picture
        print(f"graph picture skipped: {type(exc).__name__}: {exc}")
