"""Samplers: the order (and batches) in which a DataLoader visits a dataset, as ``torch.utils.data``.

A sampler is an iterable of sample indices with a ``len``; a batch sampler is an iterable of lists
of indices. Random samplers take ``generator``: an int seed, a numpy Generator, or None for
``autodiff``'s default generator (seeded by ``autodiff.manual_seed``), looked up at every epoch.
"""

from __future__ import annotations

import numpy as np

from ._common import as_array, make_rng

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
           "WeightedRandomSampler", "BatchSampler"]


def _positive_int(value, name, who):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{who}: {name} should be a positive integer value, but got {name}={value!r}")
    return int(value)


class Sampler:
    """Base class: subclasses define ``__iter__`` (indices) and usually ``__len__``."""

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")


class _Seeded(Sampler):
    """A sampler drawing from one generator: a given seed or Generator serves every epoch (epochs
    differ, a run repeats); None takes autodiff's default generator at each epoch."""

    def __init__(self, generator):
        self.generator = generator
        self._rng = make_rng(generator) if generator is not None else None

    def _generator(self):
        return self._rng if self._rng is not None else make_rng(None)


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(_Seeded):
    """A random order of the samples, or ``num_samples`` draws with replacement.

    Args:
        data_source: the dataset.
        replacement: draw with replacement (each draw uniform over the samples).
        num_samples: how many indices per epoch (default ``len(data_source)``); without
            replacement, more than the dataset repeats whole permutations, as PyTorch.
        generator: int seed, numpy Generator or None (see the module docstring).
    """

    def __init__(self, data_source, replacement: bool = False, num_samples=None, generator=None):
        if not isinstance(replacement, bool):
            raise TypeError(f"RandomSampler: replacement should be a boolean value, but got "
                            f"replacement={replacement!r}")
        super().__init__(generator)
        self.data_source, self.replacement, self._num_samples = data_source, replacement, num_samples
        _positive_int(self.num_samples, "num_samples", "RandomSampler")

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def order(self) -> np.ndarray:
        """This epoch's indices as an int64 array."""
        n, k, rng = len(self.data_source), self.num_samples, self._generator()
        if self.replacement:
            return rng.integers(0, n, size=k, dtype=np.int64)
        perms = [rng.permutation(n) for _ in range(k // n)]
        if k % n:
            perms.append(rng.permutation(n)[:k % n])
        return np.concatenate(perms) if perms else np.zeros(0, np.int64)

    def __iter__(self):
        return iter(self.order().tolist())

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(_Seeded):
    """The given ``indices`` in a random order, without replacement."""

    def __init__(self, indices, generator=None):
        super().__init__(generator)
        self.indices = indices

    def __iter__(self):
        perm = self._generator().permutation(len(self.indices))
        return iter([self.indices[i] for i in perm])

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(_Seeded):
    """``num_samples`` indices drawn with probability proportional to ``weights`` (e.g. to
    rebalance classes), as ``torch.utils.data.WeightedRandomSampler``.

    Args:
        weights: one non-negative weight per sample (need not sum to 1).
        num_samples: draws per epoch.
        replacement: with replacement (default); without, each index at most once.
        generator: int seed, numpy Generator or None (see the module docstring).
    """

    def __init__(self, weights, num_samples, replacement: bool = True, generator=None):
        self.num_samples = _positive_int(num_samples, "num_samples", "WeightedRandomSampler")
        if not isinstance(replacement, bool):
            raise ValueError(f"WeightedRandomSampler: replacement should be a boolean value, but got "
                             f"replacement={replacement!r}")
        w = np.asarray(as_array(weights), dtype=np.float64)
        if w.ndim != 1:
            raise ValueError(f"WeightedRandomSampler: weights should be a 1d sequence but given weights "
                             f"have shape {tuple(w.shape)}")
        if w.size == 0 or not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise ValueError("WeightedRandomSampler: weights must be finite, non-negative and not all zero")
        if not replacement and self.num_samples > np.count_nonzero(w):
            raise ValueError(f"WeightedRandomSampler: cannot draw {self.num_samples} samples without "
                             f"replacement from {np.count_nonzero(w)} non-zero weights")
        super().__init__(generator)
        self.weights, self.replacement = w, replacement

    def order(self) -> np.ndarray:
        """This epoch's indices as an int64 array."""
        p = self.weights / self.weights.sum()
        return self._generator().choice(len(p), size=self.num_samples, replace=self.replacement,
                                        p=p).astype(np.int64)

    def __iter__(self):
        return iter(self.order().tolist())

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Group the indices of ``sampler`` into lists of ``batch_size`` (the last one shorter unless
    ``drop_last``), as ``torch.utils.data.BatchSampler``."""

    def __init__(self, sampler, batch_size: int, drop_last: bool):
        self.batch_size = _positive_int(batch_size, "batch_size", "BatchSampler")
        if not isinstance(drop_last, bool):
            raise ValueError(f"BatchSampler: drop_last should be a boolean value, but got "
                             f"drop_last={drop_last!r}")
        self.sampler, self.drop_last = sampler, drop_last

    def __iter__(self):
        batch = []
        for idx in self.sampler:
            batch.append(idx)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
