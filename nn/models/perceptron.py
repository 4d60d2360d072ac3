"""Rosenblatt's simple perceptron and its learning rule (course, lecture 1).

y = step(w . x + w0); after each pattern w_i <- w_i + alpha * x_i * (d - y), with the
bias w0 on a constant input x0 = 1. Two step functions: unipolar {0, 1} and
bipolar {-1, 1}. Learning stops after the first epoch with no errors; on a set
that is not linearly separable (XOR) that epoch never comes.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Perceptron"]


class Perceptron:
    """A single threshold unit trained with the perceptron learning rule.

    Args:
        n_inputs: number of input features.
        activation: ``'unipolar'`` (outputs 0/1) or ``'bipolar'`` (outputs -1/1).
        lr: learning rate alpha.
        seed: seed of the random initial weights (uniform in [-0.5, 0.5]).

    Attributes:
        weight: array of shape ``(n_inputs,)``. bias: float (w0).
    """

    def __init__(self, n_inputs: int, activation: str = "unipolar", lr: float = 0.1, seed=0):
        if activation not in ("unipolar", "bipolar"):
            raise ValueError(f"Perceptron: activation must be 'unipolar' or 'bipolar', "
                             f"got {activation!r}")
        rng = np.random.default_rng(seed)
        self.activation = activation
        self.lr = float(lr)
        self.weight = rng.uniform(-0.5, 0.5, size=n_inputs)
        self.bias = float(rng.uniform(-0.5, 0.5))

    def step(self, z):
        """The threshold function: 1 if z >= 0 else 0 (unipolar) or -1 (bipolar)."""
        low = 0.0 if self.activation == "unipolar" else -1.0
        return np.where(np.asarray(z) >= 0, 1.0, low)

    def predict(self, X):
        """Outputs for X of shape ``(N, n_inputs)``; returns shape ``(N,)``."""
        X = self._check_x(X)
        return self.step(X @ self.weight + self.bias)

    def _check_x(self, X):
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.weight.shape[0]:
            raise ValueError(f"Perceptron: expected inputs of shape (N, {self.weight.shape[0]}), "
                             f"got {X.shape}")
        return X

    def fit(self, X, y, max_epochs: int = 100, shuffle: bool = False, seed=0):
        """Train pattern by pattern until an epoch has no errors or ``max_epochs`` pass.

        Returns:
            List with the number of misclassified patterns in each epoch.
        """
        X = self._check_x(X)
        y = np.asarray(y, dtype=np.float64).ravel()
        allowed = {0.0, 1.0} if self.activation == "unipolar" else {-1.0, 1.0}
        if y.shape[0] != X.shape[0] or not set(np.unique(y)) <= allowed:
            raise ValueError(f"Perceptron.fit: targets must have shape ({X.shape[0]},) with values in "
                             f"{sorted(allowed)}, got shape {y.shape} values {np.unique(y)[:5]}")
        rng = np.random.default_rng(seed)
        errors_per_epoch = []
        for _ in range(max_epochs):
            order = rng.permutation(len(X)) if shuffle else range(len(X))
            errors = 0
            for i in order:
                out = float(self.step(X[i] @ self.weight + self.bias))
                if out != y[i]:
                    errors += 1
                    delta = self.lr * (y[i] - out)
                    self.weight += delta * X[i]
                    self.bias += delta
            errors_per_epoch.append(errors)
            if errors == 0:
                break
        return errors_per_epoch
