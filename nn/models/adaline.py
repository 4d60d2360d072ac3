"""Adaline (ADAptive LINear Element) trained with the LMS (Widrow-Hoff) rule.

The linear output y = w . x + w0 is trained per pattern with
eps_k = d_k - y_k and w <- w + 2 * mu * eps_k * x_k (the bias on x0 = 1), which is
stochastic gradient descent on the squared error eps_k^2. It converges towards the
least-squares solution; the classification output is the bipolar sign of y.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Adaline"]


class Adaline:
    """A linear unit trained by the LMS rule.

    Args:
        n_inputs: number of input features.
        mu: learning rate of ``w <- w + 2 mu eps x``.
        seed: seed of the small random initial weights.

    Attributes:
        weight: array ``(n_inputs,)``. bias: float.
    """

    def __init__(self, n_inputs: int, mu: float = 0.01, seed=0):
        rng = np.random.default_rng(seed)
        self.mu = float(mu)
        self.weight = rng.normal(0.0, 0.01, size=n_inputs)
        self.bias = 0.0

    def _check_x(self, X):
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.weight.shape[0]:
            raise ValueError(f"Adaline: expected inputs of shape (N, {self.weight.shape[0]}), "
                             f"got {X.shape}")
        return X

    def net(self, X):
        """Linear output w . x + w0, shape ``(N,)``."""
        return self._check_x(X) @ self.weight + self.bias

    def predict(self, X):
        """Bipolar decision: 1 where the linear output is >= 0, else -1."""
        return np.where(self.net(X) >= 0, 1.0, -1.0)

    def fit(self, X, d, epochs: int = 50, shuffle: bool = True, mu_decay: float = 0.0, seed=0):
        """Train with the LMS rule, one pattern at a time.

        Args:
            X: inputs ``(N, n_inputs)``. d: desired outputs ``(N,)``.
            epochs: passes over the data.
            shuffle: visit patterns in a new random order each epoch.
            mu_decay: learning rate in epoch t is ``mu / (1 + mu_decay * t)``.

        Returns:
            Mean squared error <eps^2> over the set after each epoch.
        """
        X = self._check_x(X)
        d = np.asarray(d, dtype=np.float64).ravel()
        if d.shape[0] != X.shape[0]:
            raise ValueError(f"Adaline.fit: {X.shape[0]} inputs but targets of shape {d.shape}")
        rng = np.random.default_rng(seed)
        history = []
        for epoch in range(epochs):
            mu = self.mu / (1.0 + mu_decay * epoch)
            order = rng.permutation(len(X)) if shuffle else np.arange(len(X))
            with np.errstate(over="ignore", invalid="ignore"):
                mse = self._epoch(X, d, order, mu)
            if not np.isfinite(mse):
                raise FloatingPointError(f"Adaline.fit: error diverged in epoch {epoch} "
                                         f"(mu={mu} too large for inputs of this scale)")
            history.append(mse)
        return history

    def _epoch(self, X, d, order, mu):
        for k in order:
            eps = d[k] - (X[k] @ self.weight + self.bias)
            self.weight += 2 * mu * eps * X[k]       # w <- w + 2 mu eps x
            self.bias += 2 * mu * eps                # the bias input x0 = 1
        return float(np.mean((d - self.net(X)) ** 2))
