"""Datasets: the indexable collections of samples a DataLoader batches."""

from __future__ import annotations

import numpy as np

from ._common import as_array, to_tensor

__all__ = ["Dataset", "TensorDataset", "Subset"]


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
