"""Small generated data sets for the course's examples; every random one is seeded.

All functions return ``(X, y)`` numpy arrays: ``X`` float32 of shape
``(n_samples, n_features)``; ``y`` int64 class labels of shape ``(n_samples,)``
(or float32 targets for the regression and truth-table sets).
"""

from __future__ import annotations

import numpy as np

__all__ = ["truth_table", "and_gate", "or_gate", "xor_gate", "two_moons", "spirals",
           "gaussian_blobs", "noisy_sine"]

_GATES = {
    "and": lambda a, b: a & b,
    "or": lambda a, b: a | b,
    "xor": lambda a, b: a ^ b,
}


def truth_table(gate: str, bipolar: bool = False):
    """Truth table of a two-input logic gate.

    Args:
        gate: ``'and'``, ``'or'`` or ``'xor'``.
        bipolar: if True inputs and outputs use {-1, 1} instead of {0, 1}.

    Returns:
        ``(X, y)``: X float32 of shape ``(4, 2)`` in the order 00, 01, 10, 11; y float32
        of shape ``(4,)``.
    """
    key = gate.lower()
    if key not in _GATES:
        raise ValueError(f"truth_table: unknown gate {gate!r}; choose from {sorted(_GATES)}")
    bits = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.int64)
    out = _GATES[key](bits[:, 0], bits[:, 1])
    X, y = bits.astype(np.float32), out.astype(np.float32)
    if bipolar:
        X, y = 2 * X - 1, 2 * y - 1
    return X, y


def and_gate(bipolar: bool = False):
    """AND truth table, see :func:`truth_table`."""
    return truth_table("and", bipolar)


def or_gate(bipolar: bool = False):
    """OR truth table, see :func:`truth_table`."""
    return truth_table("or", bipolar)


def xor_gate(bipolar: bool = False):
    """XOR truth table (not linearly separable), see :func:`truth_table`."""
    return truth_table("xor", bipolar)


def _check_n(name, n_samples, minimum=1):
    if int(n_samples) != n_samples or n_samples < minimum:
        raise ValueError(f"{name}: n_samples must be an integer >= {minimum}, got {n_samples!r}")
    return int(n_samples)


def two_moons(n_samples: int = 200, noise: float = 0.1, seed: int = 0):
    """Two interleaving half circles, labels 0 and 1 (class 0 gets the extra point if odd).

    Returns:
        ``(X, y)`` with X float32 ``(n_samples, 2)`` and y int64 ``(n_samples,)``.
    """
    n = _check_n("two_moons", n_samples, 2)
    rng = np.random.default_rng(seed)
    n0, n1 = n - n // 2, n // 2
    t0, t1 = np.linspace(0, np.pi, n0), np.linspace(0, np.pi, n1)
    upper = np.stack([np.cos(t0), np.sin(t0)], axis=1)
    lower = np.stack([1 - np.cos(t1), 0.5 - np.sin(t1)], axis=1)
    X = np.concatenate([upper, lower]) + rng.normal(0.0, noise, size=(n, 2))
    y = np.concatenate([np.zeros(n0, np.int64), np.ones(n1, np.int64)])
    order = rng.permutation(n)
    return X[order].astype(np.float32), y[order]


def spirals(n_samples: int = 300, n_classes: int = 2, noise: float = 0.2, turns: float = 1.0,
            seed: int = 0):
    """Interleaved spiral arms, one per class (the classic hard toy problem).

    Returns:
        ``(X, y)`` with X float32 ``(n_samples, 2)`` and y int64 in ``[0, n_classes)``.
    """
    n = _check_n("spirals", n_samples, n_classes)
    if n_classes < 2:
        raise ValueError(f"spirals: n_classes must be >= 2, got {n_classes}")
    rng = np.random.default_rng(seed)
    y = np.arange(n) % n_classes
    r = rng.uniform(0.05, 1.0, size=n)
    theta = r * turns * 2 * np.pi + y * (2 * np.pi / n_classes)
    theta = theta + rng.normal(0.0, noise, size=n) * (1 - r * 0.5)
    X = np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1)
    order = rng.permutation(n)
    return X[order].astype(np.float32), y[order].astype(np.int64)


def gaussian_blobs(n_samples: int = 300, centers=3, n_features: int = 2, cluster_std: float = 1.0,
                   center_box=(-8.0, 8.0), seed: int = 0):
    """Isotropic Gaussian clusters.

    Args:
        centers: number of clusters, or an array of shape ``(k, n_features)`` of centres.

    Returns:
        ``(X, y)`` with X float32 ``(n_samples, n_features)`` and y int64 cluster index.
    """
    n = _check_n("gaussian_blobs", n_samples)
    rng = np.random.default_rng(seed)
    if np.ndim(centers) == 0:
        k = int(centers)
        if k < 1:
            raise ValueError(f"gaussian_blobs: centers must be >= 1, got {centers}")
        centre_array = rng.uniform(center_box[0], center_box[1], size=(k, n_features))
    else:
        centre_array = np.asarray(centers, dtype=np.float64)
        if centre_array.ndim != 2:
            raise ValueError(f"gaussian_blobs: centers array must be 2-D (k, n_features), "
                             f"got shape {centre_array.shape}")
        k, n_features = centre_array.shape
    y = np.arange(n) % k
    X = centre_array[y] + rng.normal(0.0, cluster_std, size=(n, n_features))
    order = rng.permutation(n)
    return X[order].astype(np.float32), y[order].astype(np.int64)


def noisy_sine(n_samples: int = 200, noise: float = 0.1, x_range=(-np.pi, np.pi), seed: int = 0):
    """Regression set y = sin(x) + N(0, noise^2), x uniform in ``x_range``.

    Returns:
        ``(X, y)`` float32 arrays of shape ``(n_samples, 1)`` each.
    """
    n = _check_n("noisy_sine", n_samples)
    rng = np.random.default_rng(seed)
    x = rng.uniform(x_range[0], x_range[1], size=(n, 1))
    y = np.sin(x) + rng.normal(0.0, noise, size=(n, 1))
    return x.astype(np.float32), y.astype(np.float32)
