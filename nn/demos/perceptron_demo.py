"""Perceptron vs XOR: the learning rule separates AND and OR but never XOR; Adaline (LMS)."""

from __future__ import annotations

import numpy as np

from nn.data import generated
from nn.demos._common import out_path, save_curves
from nn.models.adaline import Adaline
from nn.models.perceptron import Perceptron


def run(args):
    epochs = args.epochs or 50
    curves = {}
    for activation in ("unipolar", "bipolar"):
        for gate in ("and", "or", "xor"):
            X, y = generated.truth_table(gate, bipolar=activation == "bipolar")
            p = Perceptron(2, activation=activation, lr=args.lr or 0.1, seed=args.seed)
            errors = p.fit(X, y, max_epochs=epochs)
            status = (f"converged after {len(errors)} epochs" if errors[-1] == 0
                      else f"still {errors[-1]} error(s) after {len(errors)} epochs "
                           f"(fewest in any epoch: {min(errors)})")
            print(f"perceptron {activation:<8} {gate.upper():<3}: {status}; "
                  f"w = {np.round(p.weight, 3)}, w0 = {p.bias:.3f}; outputs {p.predict(X)} "
                  f"targets {y}")
            curves[f"{gate.upper()} ({activation})"] = errors
    print("XOR is not linearly separable: no line w1 x1 + w2 x2 = -w0 puts (0,1),(1,0) on one "
          "side and (0,0),(1,1) on the other, so some pattern is wrong in every epoch.")
    X, y = generated.and_gate(bipolar=True)
    adaline = Adaline(2, mu=0.05, seed=args.seed)
    mse = adaline.fit(X, y, epochs=epochs, mu_decay=0.1)
    w_ls, *_ = np.linalg.lstsq(np.hstack([X, np.ones((4, 1))]), y, rcond=None)
    print(f"Adaline (LMS, bipolar AND): mse {mse[-1]:.4f}, w = {np.round(adaline.weight, 3)}, "
          f"w0 = {adaline.bias:.3f}; least squares w = {np.round(w_ls[:2], 3)}, w0 = {w_ls[2]:.3f}; "
          f"decisions {adaline.predict(X)}")
    path = save_curves(out_path(args, "perceptron_errors.png"), curves,
                       "perceptron: misclassified patterns per epoch", xlabel="epoch",
                       ylabel="errors")
    print(f"saved {path}")
