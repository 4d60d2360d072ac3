"""Small helpers shared by the data utilities: array unwrapping and seeded generators."""

from __future__ import annotations

import numpy as np


def is_tensor(x) -> bool:
    """True for autodiff Tensors (anything that is not an ndarray but carries one in ``.data``)."""
    return not isinstance(x, np.ndarray) and isinstance(getattr(x, "data", None), np.ndarray)


def as_array(x) -> np.ndarray:
    """``x`` as an ndarray; a Tensor gives its ``.data`` without copying."""
    return x.data if is_tensor(x) else np.asarray(x)


def to_tensor(array: np.ndarray):
    """Wrap an ndarray in an autodiff Tensor (no copy, no grad)."""
    from autodiff import Tensor  # late import: numpy-only utilities work without the engine

    return Tensor(array)


def like(x, array: np.ndarray):
    """Return ``array`` as the same kind of object as ``x`` (Tensor in, Tensor out)."""
    return to_tensor(array) if is_tensor(x) else array


def make_rng(seed=None) -> np.random.Generator:
    """A numpy Generator from an int seed, a Generator (used as is), a ``torch.Generator`` (its
    ``initial_seed()`` seeds a numpy Generator: reproducible, though not torch's own sequence) or None.

    None takes the engine's default generator (seeded by ``autodiff.manual_seed``) when the
    engine is importable, else a fresh unseeded generator.
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, np.random.RandomState):
        raise TypeError("pass an int seed or a numpy Generator, not a legacy RandomState")
    if callable(getattr(seed, "initial_seed", None)):   # a torch.Generator: its seed starts ours
        return np.random.default_rng(int(seed.initial_seed()))
    if seed is not None:
        return np.random.default_rng(seed)
    try:
        from autodiff import default_generator
    except ImportError:
        return np.random.default_rng()
    return default_generator()
