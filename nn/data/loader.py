"""DataLoader: iterate over a dataset in batches, for the course's three training regimes.

* online (stochastic) learning: ``batch_size=1``, weights updated after every sample;
* mini-batch learning: ``1 < batch_size < len(dataset)``;
* full batch (batch) learning: ``batch_size=len(dataset)``, one update per epoch.
"""

from __future__ import annotations

import math

import numpy as np

from ._common import as_array, make_rng, to_tensor
from .dataset import Subset, TensorDataset

__all__ = ["DataLoader", "default_collate"]


def _stack(items):
    return to_tensor(np.stack([as_array(x) for x in items]))


def default_collate(samples):
    """Stack a list of samples into a batch along a new first axis.

    Tuples/lists of fields give a tuple of Tensors (one per field), dicts a dict, anything
    else (arrays, Tensors, numbers) one Tensor. Python ints become int64 and floats float64,
    as in PyTorch.
    """
    first = samples[0]
    if isinstance(first, (tuple, list)):
        sizes = {len(s) for s in samples}
        if len(sizes) != 1:
            raise ValueError(f"DataLoader: samples have different numbers of fields {sorted(sizes)}")
        return tuple(_stack(field) for field in zip(*samples))
    if isinstance(first, dict):
        return {k: _stack([s[k] for s in samples]) for k in first}
    return _stack(samples)


def _tensor_source(dataset):
    """(arrays, index map) when batches can be cut straight from arrays, else None."""
    index_map = None
    while isinstance(dataset, Subset):
        index_map = dataset.indices if index_map is None else dataset.indices[index_map]
        dataset = dataset.dataset
    if type(dataset) is TensorDataset:
        return dataset.arrays, index_map
    return None


class DataLoader:
    """Iterate over ``dataset`` in batches of Tensors.

    Each batch is what :func:`default_collate` makes of the samples: for a dataset of
    ``(x, y)`` pairs, a tuple ``(X, Y)`` of Tensors with a leading batch dimension. A
    :class:`TensorDataset` (or a :class:`Subset` of one) is batched by indexing its arrays
    with the batch's indices, with no per-sample work.

    Args:
        dataset: a map-style dataset (``len`` and integer indexing).
        batch_size: samples per batch: 1 for online learning, ``len(dataset)`` for full batch.
        shuffle: visit the samples in a new random order every epoch.
        drop_last: drop the last batch if it is smaller than ``batch_size``.
        seed: int seed or numpy Generator for the shuffling; None uses ``autodiff``'s
            default generator (seeded by ``autodiff.manual_seed``). One generator serves
            all epochs, so epochs differ but a run is reproducible.
        collate_fn: function turning a list of samples into a batch (general path only).
    """

    def __init__(self, dataset, batch_size: int = 1, shuffle: bool = False, drop_last: bool = False,
                 seed=None, collate_fn=None):
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
                or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size!r}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.seed = seed
        self.collate_fn = collate_fn
        self._rng = make_rng(seed) if shuffle and seed is not None else None

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def _batches(self):
        n = len(self.dataset)
        rng = self._rng if self._rng is not None else make_rng(None)  # None: looked up per epoch
        order = rng.permutation(n) if self.shuffle else None
        stop = n - n % self.batch_size if self.drop_last else n
        for start in range(0, stop, self.batch_size):
            end = min(start + self.batch_size, n)
            yield (slice(start, end) if order is None else order[start:end]), start, end

    def __iter__(self):
        source = None if self.collate_fn is not None else _tensor_source(self.dataset)
        if source is not None:
            arrays, index_map = source
            for idx, _, _ in self._batches():
                if index_map is not None:
                    idx = index_map[idx]
                if isinstance(idx, slice):
                    yield tuple(to_tensor(a[idx].copy()) for a in arrays)
                else:
                    yield tuple(to_tensor(a.take(idx, axis=0)) for a in arrays)
            return
        collate = self.collate_fn or default_collate
        for idx, start, end in self._batches():
            positions = range(start, end) if isinstance(idx, slice) else idx
            yield collate([self.dataset[int(i)] for i in positions])

    def __repr__(self):
        return (f"DataLoader(batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"drop_last={self.drop_last}, n_samples={len(self.dataset)})")
