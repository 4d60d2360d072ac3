"""Splitting data for generalisation checks: hold-out, k-fold cross-validation, bootstrap.

The course's ways of measuring generalisation: a test set, a validation (hold-out) set
that tells when the network starts to overfit, k-fold cross-validation (train on k-1
folds, test on the k-th, k times), leave-one-out (k = n; the notes call it
"hold-one-out") and bootstrap samples drawn with replacement. Names and arguments
follow scikit-learn. Randomness comes from a numpy Generator: ``random_state`` / ``seed``
may be an int or a Generator; None draws from ``autodiff``'s default generator (seeded by
``autodiff.manual_seed``). Permutations therefore differ from scikit-learn's (which uses
the legacy RandomState); sizes and un-shuffled folds are identical.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from ._common import as_array, is_tensor, like, make_rng

__all__ = ["train_test_split", "train_val_test_split", "KFold", "LeaveOneOut", "bootstrap"]


def _n_samples(arrays, who: str) -> int:
    if not arrays:
        raise ValueError(f"{who}: at least one array is required")
    lengths = [len(a) for a in arrays]
    if len(set(lengths)) != 1:
        raise ValueError(f"{who}: arrays have different numbers of samples {lengths}")
    if lengths[0] == 0:
        raise ValueError(f"{who}: the arrays are empty")
    return lengths[0]


def _take(x, idx: np.ndarray):
    """Rows ``idx`` of an ndarray, Tensor (as a new Tensor, no graph) or list."""
    if isinstance(x, np.ndarray) or is_tensor(x):
        return like(x, as_array(x)[idx])
    if isinstance(x, (list, tuple)):
        return [x[i] for i in idx]
    return np.asarray(x)[idx]


def _size(value, n: int, name: str, who: str, round_up: bool) -> int | None:
    if value is None:
        return None
    if isinstance(value, (float, np.floating)):
        if not 0.0 < value < 1.0:
            raise ValueError(f"{who}: {name}={value} should be a fraction in (0, 1) or a count")
        return math.ceil(value * n) if round_up else math.floor(value * n)
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        if not 0 < value < n:
            raise ValueError(f"{who}: {name}={value} should be between 1 and n_samples - 1 = {n - 1}")
        return int(value)
    raise TypeError(f"{who}: {name} must be a float fraction or an int count, got {value!r}")


def _rng_arg(random_state, seed, who):
    if random_state is not None and seed is not None:
        raise ValueError(f"{who}: give random_state or seed, not both (they are aliases)")
    return make_rng(seed if random_state is None else random_state)


def _stratified_counts(class_sizes: np.ndarray, n_draw: int) -> np.ndarray:
    """Split ``n_draw`` among classes in proportion to their sizes (largest remainders)."""
    exact = class_sizes * (n_draw / class_sizes.sum())
    counts = np.floor(exact).astype(np.int64)
    remainder = n_draw - counts.sum()
    order = np.argsort(-(exact - counts), kind="stable")
    for c in order:
        if remainder == 0:
            break
        if counts[c] < class_sizes[c]:
            counts[c] += 1
            remainder -= 1
    return counts


def _stratified_split(labels, n_first: int, n_second: int, rng):
    """Indices (first, second) drawn per class so both keep the class proportions."""
    labels = as_array(labels)
    if labels.ndim > 1:
        labels = labels.reshape(labels.shape[0], -1)
        _, labels = np.unique(labels, axis=0, return_inverse=True)
    classes, y = np.unique(labels, return_inverse=True)
    y = y.reshape(-1)
    sizes = np.bincount(y, minlength=classes.size)
    if sizes.min() < 2:
        raise ValueError("stratified split: the least populated class has only 1 member; "
                         "every class needs at least 2")
    first_counts = _stratified_counts(sizes, n_first)
    second_counts = _stratified_counts(sizes - first_counts, n_second)
    first, second = [], []
    for c in range(classes.size):
        members = rng.permutation(np.flatnonzero(y == c))
        first.append(members[:first_counts[c]])
        second.append(members[first_counts[c]:first_counts[c] + second_counts[c]])
    return rng.permutation(np.concatenate(first)), rng.permutation(np.concatenate(second))


def train_test_split(*arrays, test_size=None, train_size=None, random_state=None, shuffle=True,
                     stratify=None, seed=None):
    """Split arrays into a training and a test part, as ``sklearn.model_selection.train_test_split``.

    Args:
        *arrays: arrays, Tensors or lists with the same first dimension.
        test_size: fraction (rounded up) or number of test samples; 0.25 if neither size is given.
        train_size: fraction (rounded down) or number of training samples; the rest by default.
        random_state: int seed or numpy Generator for the shuffle (``seed`` is an alias).
        shuffle: shuffle before splitting; if False the first samples are the training part.
        stratify: labels whose class proportions both parts keep (needs ``shuffle=True``).

    Returns:
        list ``[a_train, a_test, b_train, b_test, ...]``, two entries per input array, each of
        the input's kind (a Tensor input gives new Tensors).
    """
    who = "train_test_split"
    n = _n_samples(arrays, who)
    if test_size is None and train_size is None:
        test_size = 0.25
    n_test = _size(test_size, n, "test_size", who, round_up=True)
    n_train = _size(train_size, n, "train_size", who, round_up=False)
    n_test = n - n_train if n_test is None else n_test
    n_train = n - n_test if n_train is None else n_train
    if n_train + n_test > n or n_train == 0 or n_test == 0:
        raise ValueError(f"{who}: with n_samples={n}, test_size={test_size} and "
                         f"train_size={train_size} a part would be empty or too large "
                         f"({n_train} train + {n_test} test)")
    if not shuffle:
        if stratify is not None:
            raise ValueError(f"{who}: stratify requires shuffle=True")
        train, test = np.arange(n_train), np.arange(n_train, n_train + n_test)
    else:
        rng = _rng_arg(random_state, seed, who)
        if stratify is not None:
            if len(stratify) != n:
                raise ValueError(f"{who}: stratify has {len(stratify)} labels for {n} samples")
            test, train = _stratified_split(stratify, n_test, n_train, rng)
        else:
            perm = rng.permutation(n)
            test, train = perm[:n_test], perm[n_test:n_test + n_train]
    out = []
    for a in arrays:
        out += [_take(a, train), _take(a, test)]
    return out


def train_val_test_split(*arrays, val_size=0.15, test_size=0.15, random_state=None, shuffle=True,
                         stratify=None, seed=None):
    """Split arrays into training, validation (hold-out) and test parts.

    Sizes are fractions of the whole set (rounded up) or counts; the training part gets
    the rest. The validation part watches for overfitting (early stopping, choosing
    hyper-parameters); the test part is looked at once, at the end.

    Args:
        *arrays: arrays, Tensors or lists with the same first dimension.
        val_size: fraction or number of validation samples.
        test_size: fraction or number of test samples.
        random_state: int seed or numpy Generator (``seed`` is an alias).
        shuffle: shuffle first; if False the parts are consecutive (train, val, test).
        stratify: labels whose class proportions all three parts keep.

    Returns:
        list ``[a_train, a_val, a_test, b_train, b_val, b_test, ...]``.
    """
    who = "train_val_test_split"
    n = _n_samples(arrays, who)
    n_val = _size(val_size, n, "val_size", who, round_up=True)
    n_test = _size(test_size, n, "test_size", who, round_up=True)
    if n_val is None or n_test is None or n_val + n_test >= n:
        raise ValueError(f"{who}: with n_samples={n}, val_size={val_size} and test_size="
                         f"{test_size} nothing is left for training")
    n_train = n - n_val - n_test
    if not shuffle:
        if stratify is not None:
            raise ValueError(f"{who}: stratify requires shuffle=True")
        idx = np.arange(n)
        train, val, test = idx[:n_train], idx[n_train:n_train + n_val], idx[n_train + n_val:]
    else:
        rng = _rng_arg(random_state, seed, who)
        if stratify is not None:
            if len(stratify) != n:
                raise ValueError(f"{who}: stratify has {len(stratify)} labels for {n} samples")
            test, rest = _stratified_split(stratify, n_test, n - n_test, rng)
            val, train = _stratified_split(as_array(stratify)[rest], n_val, n_train, rng)
            val, train = rest[val], rest[train]
        else:
            perm = rng.permutation(n)
            test, val, train = perm[:n_test], perm[n_test:n_test + n_val], perm[n_test + n_val:]
    out = []
    for a in arrays:
        out += [_take(a, train), _take(a, val), _take(a, test)]
    return out


def _length(X, who) -> int:
    if isinstance(X, (int, np.integer)):
        return int(X)
    try:
        return len(X)
    except TypeError:
        raise TypeError(f"{who}: X must have a length (or be the number of samples), "
                        f"got {type(X).__name__}") from None


class KFold:
    """k-fold cross-validation indices, as ``sklearn.model_selection.KFold``.

    The samples are cut into ``n_splits`` consecutive folds (the first ``n % n_splits``
    folds one sample larger); each fold is the test part once while the others train.
    Without shuffling the folds equal scikit-learn's exactly.

    Args:
        n_splits: number of folds k, at least 2.
        shuffle: shuffle the samples before cutting folds.
        random_state: int seed or numpy Generator used when ``shuffle`` is True.

    Example:
        >>> for train_idx, test_idx in KFold(5).split(X):
        ...     fit(X[train_idx]); evaluate(X[test_idx])
    """

    def __init__(self, n_splits: int = 5, shuffle: bool = False, random_state=None):
        if not isinstance(n_splits, (int, np.integer)) or isinstance(n_splits, bool) or n_splits < 2:
            raise ValueError(f"KFold: n_splits must be an int >= 2, got {n_splits!r}")
        self.n_splits = int(n_splits)
        self.shuffle = shuffle
        self.random_state = random_state

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        """Number of folds."""
        return self.n_splits

    def split(self, X, y=None, groups=None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(train_idx, test_idx)`` index arrays (both sorted) for each fold.

        Args:
            X: the data (only its length is used) or the number of samples.
        """
        n = _length(X, "KFold.split")
        if self.n_splits > n:
            raise ValueError(f"KFold.split: cannot have n_splits={self.n_splits} greater than "
                             f"the number of samples n_samples={n}")
        order = np.arange(n)
        if self.shuffle:
            order = make_rng(self.random_state).permutation(n)
        sizes = np.full(self.n_splits, n // self.n_splits, dtype=np.int64)
        sizes[: n % self.n_splits] += 1
        start = 0
        for size in sizes:
            in_test = np.zeros(n, dtype=bool)
            in_test[order[start:start + size]] = True
            start += size
            yield np.flatnonzero(~in_test), np.flatnonzero(in_test)

    def __repr__(self):
        return (f"KFold(n_splits={self.n_splits}, random_state={self.random_state!r}, "
                f"shuffle={self.shuffle})")


class LeaveOneOut:
    """Leave-one-out cross-validation: k-fold with k = n, each sample is the test set once."""

    def get_n_splits(self, X, y=None, groups=None) -> int:
        """Number of folds, which is the number of samples."""
        return _length(X, "LeaveOneOut.get_n_splits")

    def split(self, X, y=None, groups=None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(train_idx, test_idx)`` with ``test_idx == [i]`` for i = 0 .. n-1."""
        n = _length(X, "LeaveOneOut.split")
        if n < 2:
            raise ValueError(f"LeaveOneOut.split: needs at least 2 samples, got {n}")
        yield from KFold(n).split(n)

    def __repr__(self):
        return "LeaveOneOut()"


def bootstrap(n: int, size: int | None = None, seed=None) -> tuple[np.ndarray, np.ndarray]:
    """Draw a bootstrap sample: ``size`` indices from range(n) with replacement.

    Args:
        n: number of samples in the data set.
        size: number of draws (default ``n``).
        seed: int seed, numpy Generator (``rng``) or None (engine default generator).

    Returns:
        tuple (in_bag, out_of_bag): the drawn indices (with repeats, shape (size,)) for
        training, and the sorted indices never drawn (about 36.8% of n for size=n) for testing.
    """
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"bootstrap: n must be a positive int, got {n!r}")
    size = n if size is None else size
    if not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"bootstrap: size must be a positive int, got {size!r}")
    in_bag = make_rng(seed).integers(0, n, size=int(size))
    drawn = np.zeros(n, dtype=bool)
    drawn[in_bag] = True
    return in_bag, np.flatnonzero(~drawn)
