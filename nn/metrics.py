"""Classification measures: accuracy, confusion matrix, precision, recall, F1, ROC/AUC.

The course's measures (confusion matrix, precision, recall = sensitivity,
specificity, F1, ROC curve and the area under it) with scikit-learn's argument
order (``y_true`` first, then ``y_pred`` or ``y_score``) and the same numbers on
the same inputs. Every function accepts numpy arrays, lists or autodiff Tensors
and returns plain numpy values; nothing here builds a graph.

Binary counts, for the positive class::

    TP: predicted positive, actually positive     FP: predicted positive, actually negative
    FN: predicted negative, actually positive     TN: predicted negative, actually negative

    precision   = TP / (TP + FP)        recall (sensitivity) = TP / (TP + FN)
    specificity = TN / (TN + FP)        F1 = 2 TP / (2 TP + FP + FN)
"""

from __future__ import annotations

import warnings

import numpy as np

__all__ = ["accuracy", "confusion_matrix", "precision", "recall", "sensitivity", "specificity",
           "f1_score", "roc_curve", "auc", "roc_auc_score", "UndefinedMetricWarning"]


class UndefinedMetricWarning(UserWarning):
    """A ratio had a zero denominator and was replaced by ``zero_division``."""


def _as_array(x, name: str) -> np.ndarray:
    """Return ``x`` as an ndarray (unwrapping autodiff Tensors without copying)."""
    if not isinstance(x, np.ndarray):
        data = getattr(x, "data", None)
        if isinstance(data, np.ndarray):
            x = data
    out = np.asarray(x)
    if out.dtype == object:
        raise TypeError(f"{name}: expected numbers, got an object array")
    return out


def _labels_1d(y_true, y_pred, fn: str):
    """Both label vectors as 1-D arrays of the same length (scores of shape (n, C) -> argmax)."""
    t = _as_array(y_true, "y_true")
    p = _as_array(y_pred, "y_pred")
    if t.ndim == 2 and p.ndim <= 2 and t.shape[1] > 1:
        t = t.argmax(axis=1)  # one-hot targets
    if p.ndim == 2 and p.shape[1] > 1:
        p = p.argmax(axis=1)  # class scores or probabilities
    t = t.reshape(-1) if t.ndim == 2 and t.shape[1] == 1 else t
    p = p.reshape(-1) if p.ndim == 2 and p.shape[1] == 1 else p
    if t.ndim != 1 or p.ndim != 1:
        raise ValueError(f"{fn}: expected 1-D label arrays, got shapes {t.shape} and {p.shape}")
    if t.shape[0] != p.shape[0]:
        raise ValueError(f"{fn}: y_true and y_pred have different lengths: "
                         f"{t.shape} and {p.shape}")
    for name, a in (("y_true", t), ("y_pred", p)):
        if np.issubdtype(a.dtype, np.floating) and not np.all(a == np.round(a)):
            raise ValueError(f"{fn}: {name} holds continuous values, not class labels; "
                             f"threshold scores first, e.g. (y_score > 0.5)")
    return t, p


def _weights(sample_weight, n: int, fn: str) -> np.ndarray | None:
    if sample_weight is None:
        return None
    w = _as_array(sample_weight, "sample_weight").astype(np.float64).reshape(-1)
    if w.shape[0] != n:
        raise ValueError(f"{fn}: sample_weight has shape {w.shape}, expected ({n},)")
    return w


def accuracy(y_true, y_pred, normalize: bool = True, sample_weight=None):
    """Fraction (or count) of correctly classified samples, as ``sklearn.metrics.accuracy_score``.

    Args:
        y_true: true labels, shape (n,); one-hot targets of shape (n, C) are argmax-ed.
        y_pred: predicted labels, shape (n,); scores/logits of shape (n, C) are argmax-ed.
        normalize: return the fraction (True) or the number (False) of correct samples.
        sample_weight: optional weights, shape (n,).

    Returns:
        float: (TP + TN) / all for two classes; in general correct / all.
    """
    t, p = _labels_1d(y_true, y_pred, "accuracy")
    correct = (t == p).astype(np.float64)
    w = _weights(sample_weight, t.shape[0], "accuracy")
    if w is not None:
        correct = correct * w
    if not normalize:
        return float(correct.sum())
    total = t.shape[0] if w is None else w.sum()
    return float(correct.sum() / total) if total else 0.0


def confusion_matrix(y_true, y_pred, labels=None, sample_weight=None, normalize=None):
    """Confusion matrix ``C[i, j]``: samples of true class ``labels[i]`` predicted as ``labels[j]``.

    Rows are true classes and columns predicted classes, as in scikit-learn. For the
    labels (0, 1) the binary layout is ``[[TN, FP], [FN, TP]]``.

    Args:
        y_true: true labels, shape (n,).
        y_pred: predicted labels (or scores of shape (n, C), argmax-ed), shape (n,).
        labels: the classes and their order; by default the sorted union of both arrays.
            Samples whose labels are not listed are ignored.
        sample_weight: optional weights, shape (n,).
        normalize: None, ``'true'`` (rows sum to 1), ``'pred'`` (columns) or ``'all'``.

    Returns:
        np.ndarray of shape (len(labels), len(labels)): int64 counts, float64 if weighted
        or normalised.
    """
    t, p = _labels_1d(y_true, y_pred, "confusion_matrix")
    if labels is None:
        labels = np.union1d(t, p)
    else:
        labels = _as_array(labels, "labels").reshape(-1)
        if labels.size == 0:
            raise ValueError("confusion_matrix: 'labels' should contain at least one label")
        if not np.isin(t, labels).any() and t.size:
            raise ValueError("confusion_matrix: none of the given labels occurs in y_true")
    if normalize not in (None, "true", "pred", "all"):
        raise ValueError(f"confusion_matrix: normalize must be None, 'true', 'pred' or 'all', "
                         f"got {normalize!r}")
    k = labels.shape[0]
    order = np.argsort(labels, kind="stable")
    sorted_labels = labels[order]
    ti = np.searchsorted(sorted_labels, t).clip(0, k - 1)
    pi = np.searchsorted(sorted_labels, p).clip(0, k - 1)
    keep = (sorted_labels[ti] == t) & (sorted_labels[pi] == p)
    ti, pi = order[ti[keep]], order[pi[keep]]
    w = _weights(sample_weight, t.shape[0], "confusion_matrix")
    if w is None:
        cm = np.zeros((k, k), dtype=np.int64)
        np.add.at(cm, (ti, pi), 1)
    else:
        cm = np.zeros((k, k), dtype=np.float64)
        np.add.at(cm, (ti, pi), w[keep])
    if normalize is not None:
        cm = cm.astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            if normalize == "true":
                cm = cm / cm.sum(axis=1, keepdims=True)
            elif normalize == "pred":
                cm = cm / cm.sum(axis=0, keepdims=True)
            else:
                cm = cm / cm.sum()
        cm = np.nan_to_num(cm)
    return cm


def _divide(num, den, zero_division, what: str):
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    zero = den == 0
    out = np.divide(num, np.where(zero, 1.0, den))
    if zero.any():
        if isinstance(zero_division, str):
            if zero_division != "warn":
                raise ValueError(f"zero_division must be 'warn', 0, 1 or nan, got {zero_division!r}")
            warnings.warn(f"{what} is ill-defined (zero denominator) and set to 0.0",
                          UndefinedMetricWarning, stacklevel=4)
            fill = 0.0
        else:
            fill = float(zero_division)
        out = np.where(zero, fill, out)
    return out


def _per_class_counts(y_true, y_pred, labels, pos_label, average, sample_weight, fn):
    """Per-class TP, FP, FN, TN for the labels that ``average`` selects."""
    t, p = _labels_1d(y_true, y_pred, fn)
    if average not in ("binary", "macro", "micro", "weighted", None):
        raise ValueError(f"{fn}: average must be 'binary', 'macro', 'micro', 'weighted' or None, "
                         f"got {average!r}")
    present = np.union1d(t, p)
    if average == "binary":
        if present.size > 2:
            raise ValueError(f"{fn}: the targets have {present.size} classes {present.tolist()}; "
                             f"choose average='macro', 'micro', 'weighted' or None")
        if present.size == 2 and pos_label not in present:
            raise ValueError(f"{fn}: pos_label={pos_label!r} is not a valid label; "
                             f"labels are {present.tolist()}")
        labels = np.asarray([pos_label])
    elif labels is None:
        labels = present
    else:
        labels = _as_array(labels, "labels").reshape(-1)
    all_labels = np.concatenate([labels, np.setdiff1d(present, labels)])
    cm = confusion_matrix(t, p, labels=all_labels, sample_weight=sample_weight).astype(np.float64)
    k = labels.shape[0]
    tp = np.diag(cm)[:k]
    fp = cm.sum(axis=0)[:k] - tp
    fn_ = cm.sum(axis=1)[:k] - tp
    tn = cm.sum() - tp - fp - fn_
    return tp, fp, fn_, tn


def _average(scores, support, average):
    if average in (None,):
        return scores
    if average == "weighted":
        total = support.sum()
        return float(np.dot(scores, support) / total) if total else 0.0
    return float(scores.mean()) if scores.size else 0.0


def _ratio_metric(num_fn, den_fn, what, y_true, y_pred, labels, pos_label, average,
                  sample_weight, zero_division, fn):
    tp, fp, fn_, tn = _per_class_counts(y_true, y_pred, labels, pos_label, average,
                                        sample_weight, fn)
    counts = dict(tp=tp, fp=fp, fn=fn_, tn=tn)
    if average == "micro":
        counts = {k: np.atleast_1d(v.sum()) for k, v in counts.items()}
    scores = _divide(num_fn(counts), den_fn(counts), zero_division, what)
    if average in ("binary", "micro"):
        return float(scores[0])
    return _average(scores, tp + fn_, average)


def precision(y_true, y_pred, labels=None, pos_label=1, average="binary", sample_weight=None,
              zero_division="warn"):
    """Precision TP / (TP + FP), as ``sklearn.metrics.precision_score``.

    Args:
        y_true: true labels, shape (n,).
        y_pred: predicted labels, shape (n,) (scores of shape (n, C) are argmax-ed).
        labels: classes to include when averaging (default: all present).
        pos_label: the positive class when ``average='binary'``.
        average: ``'binary'`` (the positive class only), ``'macro'`` (unweighted mean over
            classes), ``'micro'`` (from summed counts), ``'weighted'`` (mean weighted by
            class support) or None (one value per class).
        sample_weight: optional weights, shape (n,).
        zero_division: value used when a denominator is zero; ``'warn'`` means 0 with an
            ``UndefinedMetricWarning``.

    Returns:
        float, or an ndarray of per-class values when ``average=None``.
    """
    return _ratio_metric(lambda c: c["tp"], lambda c: c["tp"] + c["fp"], "Precision",
                         y_true, y_pred, labels, pos_label, average, sample_weight,
                         zero_division, "precision")


def recall(y_true, y_pred, labels=None, pos_label=1, average="binary", sample_weight=None,
           zero_division="warn"):
    """Recall = sensitivity = TP / (TP + FN), as ``sklearn.metrics.recall_score``.

    Arguments as in :func:`precision`.
    """
    return _ratio_metric(lambda c: c["tp"], lambda c: c["tp"] + c["fn"], "Recall",
                         y_true, y_pred, labels, pos_label, average, sample_weight,
                         zero_division, "recall")


sensitivity = recall


def specificity(y_true, y_pred, labels=None, pos_label=1, average="binary", sample_weight=None,
                zero_division="warn"):
    """Specificity TN / (TN + FP): how well the model avoids false positives.

    For two classes this is the recall of the negative class. For several classes each
    class is taken in turn as positive (one-vs-rest) and the values are averaged as in
    :func:`precision` (``'micro'`` sums TN and FP over classes first).
    """
    return _ratio_metric(lambda c: c["tn"], lambda c: c["tn"] + c["fp"], "Specificity",
                         y_true, y_pred, labels, pos_label, average, sample_weight,
                         zero_division, "specificity")


def f1_score(y_true, y_pred, labels=None, pos_label=1, average="binary", sample_weight=None,
             zero_division="warn"):
    """F1 = 2 TP / (2 TP + FP + FN), the harmonic mean of precision and recall.

    As ``sklearn.metrics.f1_score``: ``'macro'`` averages the per-class F1 values,
    ``'micro'`` computes F1 from counts summed over classes (equal to accuracy when all
    classes are included). Arguments as in :func:`precision`.
    """
    return _ratio_metric(lambda c: 2 * c["tp"], lambda c: 2 * c["tp"] + c["fp"] + c["fn"], "F-score",
                         y_true, y_pred, labels, pos_label, average, sample_weight,
                         zero_division, "f1_score")


def _binary_target(y_true, pos_label, fn):
    t = _as_array(y_true, "y_true").reshape(-1)
    classes = np.unique(t)
    if pos_label is None:
        if classes.size > 2:
            raise ValueError(f"{fn}: y_true has {classes.size} classes {classes.tolist()}; "
                             f"only binary targets are supported")
        if not (np.isin(classes, [0, 1]).all() or np.isin(classes, [-1, 1]).all()):
            raise ValueError(f"{fn}: y_true takes values {classes.tolist()}; pass pos_label "
                             f"explicitly when the labels are not {{0, 1}} or {{-1, 1}}")
        pos_label = 1
    return t == pos_label


def _binary_clf_curve(y_true, y_score, pos_label, sample_weight, fn):
    """Cumulative false/true positive counts at each distinct score, highest first."""
    pos = _binary_target(y_true, pos_label, fn)
    s = _as_array(y_score, "y_score")
    if s.ndim == 2 and s.shape[1] == 2:
        s = s[:, 1]  # probabilities of both classes: use the positive column
    s = s.reshape(-1) if s.ndim == 2 and s.shape[1] == 1 else s
    if s.ndim != 1 or s.shape[0] != pos.shape[0]:
        raise ValueError(f"{fn}: y_score has shape {s.shape}, expected ({pos.shape[0]},)")
    if not np.isfinite(s).all():
        raise ValueError(f"{fn}: y_score contains NaN or infinity")
    w = _weights(sample_weight, pos.shape[0], fn)
    order = np.argsort(s, kind="mergesort")[::-1]
    s = s[order]
    pos = pos[order].astype(np.float64)
    w = np.ones_like(pos) if w is None else w[order]
    # last index of every run of equal scores
    ends = np.r_[np.flatnonzero(np.diff(s)), s.shape[0] - 1]
    tps = np.cumsum(pos * w)[ends]
    fps = np.cumsum((1.0 - pos) * w)[ends]
    return fps, tps, s[ends]


def roc_curve(y_true, y_score, pos_label=None, sample_weight=None, drop_intermediate=True):
    """Receiver operating characteristic, as ``sklearn.metrics.roc_curve``.

    The threshold runs down over the distinct scores; a sample is called positive when
    its score is >= the threshold. The first point is (0, 0) at threshold ``inf``.

    Args:
        y_true: binary labels, shape (n,); {0, 1} or {-1, 1} unless ``pos_label`` is given.
        y_score: scores, probabilities or logits of the positive class, shape (n,).
        pos_label: the label of the positive class.
        sample_weight: optional weights, shape (n,).
        drop_intermediate: drop points that lie on a straight segment between their
            neighbours (they do not change the curve or its area).

    Returns:
        tuple (fpr, tpr, thresholds) of 1-D float arrays of the same length.
    """
    fps, tps, thresholds = _binary_clf_curve(y_true, y_score, pos_label, sample_weight,
                                             "roc_curve")
    if drop_intermediate and fps.shape[0] > 2:
        bend = np.logical_or(np.diff(fps, 2), np.diff(tps, 2))
        keep = np.flatnonzero(np.r_[True, bend, True])
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    fps = np.r_[0.0, fps]
    tps = np.r_[0.0, tps]
    thresholds = np.r_[np.inf, thresholds]
    if fps[-1] <= 0:
        warnings.warn("roc_curve: no negative samples in y_true; the false positive rate is "
                      "undefined", UndefinedMetricWarning, stacklevel=2)
        fpr = np.full(fps.shape, np.nan)
    else:
        fpr = fps / fps[-1]
    if tps[-1] <= 0:
        warnings.warn("roc_curve: no positive samples in y_true; the true positive rate is "
                      "undefined", UndefinedMetricWarning, stacklevel=2)
        tpr = np.full(tps.shape, np.nan)
    else:
        tpr = tps / tps[-1]
    return fpr, tpr, thresholds


def auc(x, y):
    """Area under a curve by the trapezoidal rule; ``x`` must be monotonic (either direction).

    Args:
        x: x coordinates, e.g. the false positive rates from :func:`roc_curve`.
        y: y coordinates, e.g. the true positive rates.

    Returns:
        float: the area (positive for a decreasing ``x`` too, as in scikit-learn).
    """
    x = _as_array(x, "x").astype(np.float64).reshape(-1)
    y = _as_array(y, "y").astype(np.float64).reshape(-1)
    if x.shape != y.shape:
        raise ValueError(f"auc: x and y have different shapes {x.shape} and {y.shape}")
    if x.shape[0] < 2:
        raise ValueError(f"auc: at least 2 points are needed, got shape {x.shape}")
    dx = np.diff(x)
    direction = 1.0
    if np.any(dx < 0):
        if np.all(dx <= 0):
            direction = -1.0
        else:
            raise ValueError("auc: x is neither increasing nor decreasing")
    return float(direction * np.sum(dx * (y[1:] + y[:-1]) / 2.0))


def _binary_auc(pos, score, sample_weight, fn):
    if np.unique(pos).size != 2:
        raise ValueError(f"{fn}: only one class is present in y_true; ROC AUC is not defined")
    fpr, tpr, _ = roc_curve(pos.astype(np.int64), score, pos_label=1, sample_weight=sample_weight)
    return auc(fpr, tpr)


def roc_auc_score(y_true, y_score, average="macro", sample_weight=None, multi_class="raise",
                  labels=None):
    """Area under the ROC curve, as ``sklearn.metrics.roc_auc_score``.

    Args:
        y_true: labels, shape (n,).
        y_score: binary case: scores of the greater label, shape (n,) (or (n, 2), whose
            second column is used); multi-class: probabilities, shape (n, C), rows summing to 1.
        average: ``'macro'`` or ``'weighted'`` (by class prevalence) for multi-class.
        sample_weight: optional weights, shape (n,) (binary and ``'ovr'`` only).
        multi_class: ``'ovr'`` (each class against the rest) or ``'ovo'`` (Hand & Till's
            mean over class pairs); ``'raise'`` refuses multi-class input.
        labels: the classes that the columns of ``y_score`` stand for (default: sorted
            unique labels of ``y_true``).

    Returns:
        float: 1.0 for a perfect ranking, 0.5 for a random one.
    """
    t = _as_array(y_true, "y_true").reshape(-1)
    s = _as_array(y_score, "y_score")
    classes = np.unique(t) if labels is None else _as_array(labels, "labels").reshape(-1)
    if s.ndim == 1 or (s.ndim == 2 and s.shape[1] <= 2 and classes.size <= 2):
        if classes.size > 2:
            raise ValueError(f"roc_auc_score: y_true has {classes.size} classes; pass y_score of "
                             f"shape (n, {classes.size}) and multi_class='ovr' or 'ovo'")
        if s.ndim == 2:
            s = s[:, -1]
        return _binary_auc(t == classes.max(), s, sample_weight, "roc_auc_score")
    if multi_class not in ("ovr", "ovo"):
        raise ValueError("roc_auc_score: multi-class targets need multi_class='ovr' or 'ovo'")
    if average not in ("macro", "weighted"):
        raise ValueError(f"roc_auc_score: average must be 'macro' or 'weighted', got {average!r}")
    if s.ndim != 2 or s.shape != (t.shape[0], classes.size):
        raise ValueError(f"roc_auc_score: y_score has shape {s.shape}, expected "
                         f"({t.shape[0]}, {classes.size})")
    if not np.allclose(s.sum(axis=1), 1.0):
        raise ValueError("roc_auc_score: multi-class y_score must be probabilities whose rows sum to 1")
    if multi_class == "ovr":
        aucs = np.array([_binary_auc(t == c, s[:, i], sample_weight, "roc_auc_score")
                         for i, c in enumerate(classes)])
        support = np.array([(t == c).sum() for c in classes], dtype=np.float64)
        return _average(aucs, support, average)
    if sample_weight is not None:
        raise ValueError("roc_auc_score: sample_weight is not supported with multi_class='ovo'")
    pair_aucs, pair_weights = [], []
    for i in range(classes.size):
        for j in range(i + 1, classes.size):
            in_pair = (t == classes[i]) | (t == classes[j])
            a = _binary_auc(t[in_pair] == classes[i], s[in_pair, i], None, "roc_auc_score")
            b = _binary_auc(t[in_pair] == classes[j], s[in_pair, j], None, "roc_auc_score")
            pair_aucs.append((a + b) / 2.0)
            pair_weights.append(in_pair.sum())
    return _average(np.array(pair_aucs), np.array(pair_weights, dtype=np.float64), average)
