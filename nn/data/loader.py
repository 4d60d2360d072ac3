"""DataLoader: iterate over a dataset in batches, for the course's three training regimes.

* online (stochastic) learning: ``batch_size=1``, weights updated after every sample;
* mini-batch learning: ``1 < batch_size < len(dataset)``;
* full batch (batch) learning: ``batch_size=len(dataset)``, one update per epoch.

The order comes from a sampler (``nn/data/sampler.py``) and the batches from a batch sampler, as in
``torch.utils.data``.
"""

from __future__ import annotations

import numpy as np

from ._common import as_array, to_tensor
from .dataset import Subset, TensorDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler, WeightedRandomSampler

__all__ = ["DataLoader", "default_collate", "default_convert"]


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


def default_convert(sample):
    """A sample without batching (``batch_size=None``): arrays become Tensors, tuples/lists/dicts are
    converted field by field, numbers and Tensors stay as they are (PyTorch's ``default_convert``)."""
    if isinstance(sample, np.ndarray):
        return to_tensor(sample)
    if isinstance(sample, tuple):
        return tuple(default_convert(s) for s in sample)
    if isinstance(sample, list):
        return [default_convert(s) for s in sample]
    if isinstance(sample, dict):
        return {k: default_convert(v) for k, v in sample.items()}
    return sample


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
    """Iterate over ``dataset`` in batches of Tensors, with ``torch.utils.data.DataLoader``'s
    arguments.

    Each batch is what ``collate_fn`` (default :func:`default_collate`) makes of the samples: for
    a dataset of ``(x, y)`` pairs, a tuple ``(X, Y)`` of Tensors with a leading batch dimension. A
    :class:`TensorDataset` (or a :class:`Subset` of one) is batched by indexing its arrays with the
    batch's indices, with no per-sample work.

    Args:
        dataset: a map-style dataset (``len`` and integer indexing).
        batch_size: samples per batch: 1 for online learning, ``len(dataset)`` for full batch;
            None yields single samples (converted by :func:`default_convert`) with no batch dim.
        shuffle: visit the samples in a new random order every epoch (a :class:`RandomSampler`).
        sampler: the order of the samples (exclusive with ``shuffle``).
        batch_sampler: yields lists of indices, one per batch (exclusive with ``batch_size``,
            ``shuffle``, ``sampler`` and ``drop_last``).
        num_workers, pin_memory, timeout, worker_init_fn, prefetch_factor, persistent_workers:
            accepted for code written for PyTorch; loading always runs in the calling process
            (same batches, same order).
        collate_fn: function turning a list of samples into a batch.
        drop_last: drop the last batch if it is smaller than ``batch_size``.
        generator: int seed or numpy Generator for the shuffling; None uses ``autodiff``'s default
            generator (seeded by ``autodiff.manual_seed``). One generator serves all epochs, so
            epochs differ but a run is reproducible. ``seed=`` is the same argument.
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers: int = 0, collate_fn=None, pin_memory: bool = False, drop_last: bool = False,
                 timeout: float = 0, worker_init_fn=None, generator=None, *, prefetch_factor=None,
                 persistent_workers: bool = False, seed=None):
        if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer))
                                       or batch_size < 1):
            raise ValueError(f"DataLoader: batch_size must be a positive int or None, got {batch_size!r}")
        if num_workers < 0:
            raise ValueError(f"DataLoader: num_workers option should be non-negative, got {num_workers}")
        if seed is not None and generator is not None:
            raise ValueError("DataLoader: pass the generator once, as generator= or as seed=")
        generator = seed if generator is None else generator
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("DataLoader: batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if sampler is None:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, int(batch_size), drop_last)
        self.dataset = dataset
        self.batch_size = None if batch_size is None else int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = drop_last
        self.sampler, self.batch_sampler = sampler, batch_sampler
        self.generator = generator
        self.num_workers, self.pin_memory, self.timeout = num_workers, pin_memory, timeout
        self.worker_init_fn, self.prefetch_factor = worker_init_fn, prefetch_factor
        self.persistent_workers = persistent_workers
        self.collate_fn = collate_fn

    @property
    def seed(self):
        """The ``generator`` argument (its older name)."""
        return self.generator

    def __len__(self) -> int:
        return len(self.batch_sampler) if self.batch_sampler is not None else len(self.sampler)

    def _index_batches(self):
        """Per batch: a slice (in-order batches of the default sampler) or an int64 index array."""
        bs = self.batch_sampler
        if type(bs) is BatchSampler:
            n_batch, sampler = bs.batch_size, bs.sampler
            if type(sampler) is SequentialSampler:
                n = len(sampler)
                stop = n - n % n_batch if bs.drop_last else n
                for start in range(0, stop, n_batch):
                    yield slice(start, min(start + n_batch, n))
                return
            if type(sampler) in (RandomSampler, WeightedRandomSampler):
                order = sampler.order()
                n = len(order)
                stop = n - n % n_batch if bs.drop_last else n
                for start in range(0, stop, n_batch):
                    yield order[start:start + n_batch]
                return
        for batch in bs:
            yield np.asarray(batch, dtype=np.int64).reshape(-1)

    def __iter__(self):
        if self.batch_sampler is None:                    # batch_size=None: one sample at a time
            for i in self.sampler:
                yield default_convert(self.dataset[int(i)])
            return
        source = None if self.collate_fn is not None else _tensor_source(self.dataset)
        if source is not None:
            arrays, index_map = source
            for idx in self._index_batches():
                if index_map is not None:
                    idx = index_map[idx]
                if isinstance(idx, slice):
                    yield tuple(to_tensor(a[idx].copy()) for a in arrays)
                else:
                    yield tuple(to_tensor(a.take(idx, axis=0)) for a in arrays)
            return
        collate = self.collate_fn or default_collate
        for idx in self._index_batches():
            positions = range(idx.start, idx.stop) if isinstance(idx, slice) else idx
            yield collate([self.dataset[int(i)] for i in positions])

    def __repr__(self):
        return (f"DataLoader(batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"drop_last={self.drop_last}, n_samples={len(self.dataset)})")
