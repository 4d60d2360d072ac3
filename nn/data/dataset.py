"""Datasets: the indexable collections of samples a DataLoader batches."""

from __future__ import annotations

import math
import warnings
from bisect import bisect_right

import numpy as np

from ._common import as_array, make_rng, to_tensor

__all__ = ["Dataset", "TensorDataset", "Subset", "ConcatDataset", "random_split"]


class Dataset:
    """Base class of map-style datasets: ``len(ds)`` samples, ``ds[i]`` the i-th.

    Subclasses implement ``__getitem__(i)`` (returning a sample, usually a tuple such as
    ``(x, y)`` of arrays, Tensors or numbers) and ``__len__``, as in PyTorch.
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")


class TensorDataset(Dataset):
    """Samples are the rows of a few arrays with the same first dimension.

    ``ds[i]`` is ``(x[i], y[i], ...)`` as Tensors (views, no graph). A :class:`DataLoader`
    over a TensorDataset indexes the arrays with a whole batch of indices at once instead
    of stacking samples one by one.

    Args:
        *tensors: Tensors or arrays, shapes ``(n, ...)``. Arrays are used without copying.

    Attributes:
        tensors: the inputs as given. arrays: their ndarrays.
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: at least one tensor is required")
        self.tensors = tensors
        self.arrays = tuple(as_array(t) for t in tensors)
        for a in self.arrays:
            if a.ndim == 0:
                raise ValueError("TensorDataset: every tensor needs a first (sample) dimension, "
                                 "got a scalar")
        shapes = [a.shape for a in self.arrays]
        if len({s[0] for s in shapes}) != 1:
            raise ValueError(f"TensorDataset: size mismatch between tensors, shapes "
                             f"{', '.join(str(tuple(s)) for s in shapes)}: first dimensions differ")

    def __getitem__(self, index):
        return tuple(to_tensor(a[index]) for a in self.arrays)

    def __len__(self) -> int:
        return self.arrays[0].shape[0]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices`` (e.g. one fold from :class:`KFold`).

    Args:
        dataset: the full dataset.
        indices: sequence of sample indices.
    """

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        n = len(dataset)
        if self.indices.size and (self.indices.min() < -n or self.indices.max() >= n):
            raise IndexError(f"Subset: indices out of range for a dataset of {n} samples")

    def __getitem__(self, index):
        if isinstance(index, (int, np.integer)):
            return self.dataset[int(self.indices[index])]
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return self.indices.shape[0]


class ConcatDataset(Dataset):
    """Several datasets one after the other, as ``torch.utils.data.ConcatDataset``.

    Args:
        datasets: map-style datasets (at least one).

    Attributes:
        cumulative_sizes: running totals of the datasets' lengths.
    """

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        n = len(self)
        index = int(index)
        if index < 0:
            if -index > n:
                raise ValueError(f"ConcatDataset: absolute value of index {index} should not exceed "
                                 f"dataset length {n}")
            index += n
        if index >= n:
            raise IndexError(f"ConcatDataset: index {index} is out of range for {n} samples")
        which = bisect_right(self.cumulative_sizes, index)
        offset = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][index - offset]


def random_split(dataset, lengths, generator=None):
    """Split ``dataset`` at random into non-overlapping :class:`Subset` s, as
    ``torch.utils.data.random_split``.

    Args:
        dataset: the dataset to split.
        lengths: the subset sizes (summing to ``len(dataset)``), or fractions summing to 1: each gets
            ``floor(n * fraction)`` and the samples left over go one each to the first subsets.
        generator: int seed, numpy Generator or None (``autodiff``'s default generator).

    Returns:
        A list of :class:`Subset`, one per length.
    """
    n = len(dataset)
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        sizes = [int(math.floor(n * frac)) for frac in lengths]
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
        for i, size in enumerate(sizes):
            if size == 0:
                warnings.warn(f"random_split: length of split at index {i} is 0; this might result "
                              f"in an empty dataset", stacklevel=2)
        lengths = sizes
    if any(int(k) != k or k < 0 for k in lengths):
        raise ValueError(f"random_split: lengths must be non-negative integers or fractions summing "
                         f"to 1, got {lengths}")
    if sum(lengths) != n:
        raise ValueError(f"random_split: sum of input lengths ({sum(lengths)}) does not equal the "
                         f"length of the input dataset ({n})")
    order = make_rng(generator).permutation(n)
    ends = np.cumsum([int(k) for k in lengths])
    return [Subset(dataset, order[end - int(k):end]) for k, end in zip(lengths, ends)]
