"""Feature scaling (the course's four ways) and one-hot encoding.

The course scales real-valued inputs so that no feature dominates a neuron's sum:

=====================  =====================================  ==================
scaler                 formula (per feature, over samples)    scikit-learn twin
=====================  =====================================  ==================
``MinMaxScaler``       (x - min) / (max - min), to a range    ``MinMaxScaler``
``MeanNormalizer``     (x - mean) / (max - min)               --
``StandardScaler``     (x - mean) / std                       ``StandardScaler``
``UnitNormScaler``     x / ||x||   (per *sample*)             ``Normalizer``
=====================  =====================================  ==================

Axis 0 indexes samples; every other axis is a feature axis, so an image set of shape
(n, 28, 28) gets one statistic per pixel. Statistics are computed in float64 and the
output keeps a floating input's dtype (integers become float64). A constant feature
(max == min, or std == 0) is divided by 1 instead of 0, as scikit-learn does.
Inputs may be ndarrays, lists or autodiff Tensors; a Tensor in gives a Tensor out.
Fit on the training set only, then transform the validation and test sets with the
same statistics.
"""

from __future__ import annotations

import numpy as np

from ._common import as_array, like

__all__ = ["MinMaxScaler", "MeanNormalizer", "StandardScaler", "UnitNormScaler", "one_hot"]


def _float_array(X, who: str) -> np.ndarray:
    a = as_array(X)
    if a.ndim == 0:
        raise ValueError(f"{who}: expected an array of shape (n_samples, ...), got a scalar")
    if not np.issubdtype(a.dtype, np.number) or np.iscomplexobj(a):
        raise TypeError(f"{who}: expected real numbers, got dtype {a.dtype}")
    return a


def _out_dtype(a: np.ndarray):
    return a.dtype if np.issubdtype(a.dtype, np.floating) else np.float64


def _nonzero(scale: np.ndarray) -> np.ndarray:
    """Replace (near-)zero scales by 1 so constant features pass through unscaled."""
    scale = np.array(scale, dtype=np.float64, copy=True)
    scale[scale < 10 * np.finfo(np.float64).eps] = 1.0
    return scale


class _FeatureScaler:
    """Shared fit/transform plumbing: ``x' = (x - offset) / scale`` per feature."""

    offset_: np.ndarray
    scale_div_: np.ndarray

    def _fit_stats(self, a: np.ndarray) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def fit(self, X, y=None):
        """Compute the per-feature statistics of ``X`` (shape (n_samples, ...)); returns self."""
        a = _float_array(X, type(self).__name__ + ".fit")
        if a.shape[0] == 0:
            raise ValueError(f"{type(self).__name__}.fit: X has no samples, shape {a.shape}")
        self._fit_stats(a.astype(np.float64, copy=False))
        self.n_samples_seen_ = a.shape[0]
        self.feature_shape_ = a.shape[1:]
        return self

    def _checked(self, X, method: str) -> np.ndarray:
        who = f"{type(self).__name__}.{method}"
        if not hasattr(self, "feature_shape_"):
            raise RuntimeError(f"{who}: the scaler is not fitted; call fit(X) first")
        a = _float_array(X, who)
        if a.shape[1:] != self.feature_shape_:
            raise ValueError(f"{who}: X has shape {a.shape}, but the scaler was fitted on "
                             f"samples of shape {self.feature_shape_}")
        return a

    def transform(self, X):
        """Scale ``X`` with the fitted statistics."""
        a = self._checked(X, "transform")
        out = (a - self.offset_) / self.scale_div_
        return like(X, out.astype(_out_dtype(a), copy=False))

    def inverse_transform(self, X):
        """Undo :meth:`transform`: ``x = x' * scale + offset``."""
        a = self._checked(X, "inverse_transform")
        out = a * self.scale_div_ + self.offset_
        return like(X, out.astype(_out_dtype(a), copy=False))

    def fit_transform(self, X, y=None):
        """``fit(X)`` then ``transform(X)``."""
        return self.fit(X).transform(X)


class MinMaxScaler(_FeatureScaler):
    """Min-max scaling of each feature to ``feature_range``, as ``sklearn.preprocessing.MinMaxScaler``.

    ``x' = (x - min) / (max - min) * (hi - lo) + lo``; the course's form is ``feature_range=(0, 1)``.

    Args:
        feature_range: the (lo, hi) target interval.
        clip: clip transformed values of unseen data to ``feature_range``.

    Attributes:
        data_min_, data_max_, data_range_: per-feature statistics of the fitted data.
    """

    def __init__(self, feature_range=(0, 1), clip: bool = False):
        lo, hi = feature_range
        if not lo < hi:
            raise ValueError(f"MinMaxScaler: feature_range must be (lo, hi) with lo < hi, "
                             f"got {tuple(feature_range)}")
        self.feature_range = (lo, hi)
        self.clip = clip

    def _fit_stats(self, a):
        lo, hi = self.feature_range
        self.data_min_ = a.min(axis=0)
        self.data_max_ = a.max(axis=0)
        self.data_range_ = self.data_max_ - self.data_min_
        self.scale_div_ = _nonzero(self.data_range_) / (hi - lo)
        self.offset_ = self.data_min_ - lo * self.scale_div_

    def transform(self, X):
        out = super().transform(X)
        if self.clip:
            np.clip(as_array(out), *self.feature_range, out=as_array(out))
        return out


class MeanNormalizer(_FeatureScaler):
    """The course's mean normalisation ``x' = (x - mean) / (max - min)`` per feature.

    Values land in [-1, 1] and have zero mean on the fitted data.

    Attributes:
        mean_, data_min_, data_max_, data_range_: per-feature statistics of the fitted data.
    """

    def _fit_stats(self, a):
        self.mean_ = a.mean(axis=0)
        self.data_min_ = a.min(axis=0)
        self.data_max_ = a.max(axis=0)
        self.data_range_ = self.data_max_ - self.data_min_
        self.offset_ = self.mean_
        self.scale_div_ = _nonzero(self.data_range_)


class StandardScaler(_FeatureScaler):
    """Standardisation ``x' = (x - mean) / std`` per feature, as ``sklearn.preprocessing.StandardScaler``.

    ``std`` is the population standard deviation (ddof=0), as in scikit-learn.

    Args:
        with_mean: subtract the mean.
        with_std: divide by the standard deviation.

    Attributes:
        mean_, var_, scale_: per-feature mean, variance and the divisor actually used.
    """

    def __init__(self, with_mean: bool = True, with_std: bool = True):
        self.with_mean = with_mean
        self.with_std = with_std

    def _fit_stats(self, a):
        self.mean_ = a.mean(axis=0)
        self.var_ = a.var(axis=0)
        self.scale_ = _nonzero(np.sqrt(self.var_))
        self.offset_ = self.mean_ if self.with_mean else np.zeros_like(self.mean_)
        self.scale_div_ = self.scale_ if self.with_std else np.ones_like(self.scale_)


class UnitNormScaler:
    """Scale each *sample* to unit norm ``x' = x / ||x||`` (the course's "normowanie do 1").

    Like ``sklearn.preprocessing.Normalizer``, this works per sample, so :meth:`fit` learns
    nothing. The norms are not recoverable from the scaled data, so :meth:`transform` keeps
    the norms of the samples it scaled last in ``norms_``, and :meth:`inverse_transform`
    multiplies by those (or by the ``norms`` you pass) -- it can only undo a transform of the
    same samples in the same order. A zero sample stays zero (its norm is taken as 1).

    Args:
        norm: ``'l2'`` (Euclidean, default), ``'l1'`` or ``'max'``.

    Attributes:
        norms_: shape (n_samples,), the norms divided out by the last :meth:`transform`.
    """

    def __init__(self, norm: str = "l2"):
        if norm not in ("l1", "l2", "max"):
            raise ValueError(f"UnitNormScaler: norm must be 'l1', 'l2' or 'max', got {norm!r}")
        self.norm = norm

    def fit(self, X, y=None):
        """Record the sample shape (nothing else to learn); returns self."""
        self.feature_shape_ = _float_array(X, "UnitNormScaler.fit").shape[1:]
        return self

    def _norms(self, a):
        flat = np.abs(a.reshape(a.shape[0], -1).astype(np.float64, copy=False))
        if self.norm == "l2":
            return np.sqrt(np.einsum("ij,ij->i", flat, flat))
        if self.norm == "l1":
            return flat.sum(axis=1)
        return flat.max(axis=1) if flat.shape[1] else np.zeros(flat.shape[0])

    def transform(self, X):
        """Divide every sample by its norm; remembers the norms in ``norms_``."""
        a = _float_array(X, "UnitNormScaler.transform")
        norms = self._norms(a)
        div = _nonzero(norms).reshape((-1,) + (1,) * (a.ndim - 1))
        self.norms_ = norms
        return like(X, (a / div).astype(_out_dtype(a), copy=False))

    def inverse_transform(self, X, norms=None):
        """Multiply every sample by its original norm (``norms`` or the stored ``norms_``)."""
        a = _float_array(X, "UnitNormScaler.inverse_transform")
        if norms is None:
            if not hasattr(self, "norms_"):
                raise RuntimeError("UnitNormScaler.inverse_transform: no norms stored; call "
                                   "transform first or pass norms=")
            norms = self.norms_
        norms = np.asarray(as_array(norms), dtype=np.float64).reshape(-1)
        if norms.shape[0] != a.shape[0]:
            raise ValueError(f"UnitNormScaler.inverse_transform: X has shape {a.shape} but there "
                             f"are {norms.shape[0]} stored norms; inverse_transform only undoes "
                             f"a transform of the same samples")
        mul = _nonzero(norms).reshape((-1,) + (1,) * (a.ndim - 1))
        return like(X, (a * mul).astype(_out_dtype(a), copy=False))

    def fit_transform(self, X, y=None):
        """``fit(X)`` then ``transform(X)``."""
        return self.fit(X).transform(X)


def one_hot(labels, num_classes=None, dtype=np.float32):
    """One-of-n coding of integer class labels (the course's "1 z n").

    Args:
        labels: integer labels of any shape, values in [0, num_classes).
        num_classes: number of classes; None (or -1, PyTorch's spelling) means max(labels) + 1.
        dtype: output dtype. float32 by default (ready to use as a target); PyTorch's
            ``F.one_hot`` returns int64, pass ``dtype=np.int64`` for that.

    Returns:
        array (a Tensor if ``labels`` is one) of shape ``labels.shape + (num_classes,)``.
    """
    a = as_array(labels)
    if a.dtype == np.bool_ or not np.issubdtype(a.dtype, np.integer):
        if np.issubdtype(a.dtype, np.floating) and a.size and np.all(a == np.round(a)):
            a = a.astype(np.int64)
        elif a.size:
            raise TypeError(f"one_hot: labels must be integers, got dtype {a.dtype}")
        else:
            a = a.astype(np.int64)
    if num_classes is None or num_classes == -1:
        num_classes = int(a.max()) + 1 if a.size else 0
    if a.size and (a.min() < 0 or a.max() >= num_classes):
        raise ValueError(f"one_hot: labels must lie in [0, {num_classes}), got values from "
                         f"{int(a.min())} to {int(a.max())}")
    out = np.zeros(a.shape + (int(num_classes),), dtype=dtype)
    np.put_along_axis(out, a[..., None].astype(np.intp), 1, axis=-1)
    return like(labels, out)
