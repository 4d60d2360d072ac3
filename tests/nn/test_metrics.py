"""nn.metrics against scikit-learn (when installed) and hand-computed counts."""

import warnings

import numpy as np
import pytest

from nn import metrics


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def _binary(rng, n=60):
    y_true = rng.integers(0, 2, n)
    y_pred = np.where(rng.random(n) < 0.7, y_true, 1 - y_true)
    return y_true, y_pred


def _multi(rng, n=80, k=4):
    y_true = rng.integers(0, k, n)
    y_pred = np.where(rng.random(n) < 0.6, y_true, rng.integers(0, k, n))
    return y_true, y_pred


def test_binary_counts_by_hand():
    y_true = np.array([1, 1, 1, 0, 0, 0, 0, 1])
    y_pred = np.array([1, 0, 1, 0, 1, 0, 0, 1])
    tp, fp, fn, tn = 3, 1, 1, 3
    assert metrics.confusion_matrix(y_true, y_pred).tolist() == [[tn, fp], [fn, tp]]
    assert metrics.accuracy(y_true, y_pred) == (tp + tn) / 8
    assert metrics.precision(y_true, y_pred) == tp / (tp + fp)
    assert metrics.recall(y_true, y_pred) == tp / (tp + fn)
    assert metrics.sensitivity is metrics.recall
    assert metrics.specificity(y_true, y_pred) == tn / (tn + fp)
    assert metrics.f1_score(y_true, y_pred) == 2 * tp / (2 * tp + fp + fn)


def test_accepts_tensors_scores_and_onehot(rng):
    ad = pytest.importorskip("autodiff")
    if not hasattr(ad, "Tensor"):
        pytest.skip("autodiff.Tensor not available yet")
    logits = rng.normal(size=(20, 3))
    y = rng.integers(0, 3, 20)
    expected = np.mean(logits.argmax(1) == y)
    assert metrics.accuracy(ad.Tensor(y), ad.Tensor(logits)) == pytest.approx(expected)
    assert metrics.accuracy(np.eye(3)[y], logits) == pytest.approx(expected)


def test_multiclass_specificity_by_hand(rng):
    y_true, y_pred = _multi(rng)
    spec = []
    for c in range(4):
        tn = np.sum((y_true != c) & (y_pred != c))
        fp = np.sum((y_true != c) & (y_pred == c))
        spec.append(tn / (tn + fp))
    np.testing.assert_allclose(metrics.specificity(y_true, y_pred, average=None), spec)
    assert metrics.specificity(y_true, y_pred, average="macro") == pytest.approx(np.mean(spec))


def test_binary_specificity_is_recall_of_negative_class(rng):
    sk = pytest.importorskip("sklearn.metrics")
    y_true, y_pred = _binary(rng)
    assert metrics.specificity(y_true, y_pred) == pytest.approx(sk.recall_score(y_true, y_pred, pos_label=0))


@pytest.mark.parametrize("average", ["binary", "macro", "micro", "weighted", None])
@pytest.mark.parametrize("kind", ["binary", "multi"])
def test_prf_match_sklearn(rng, average, kind):
    sk = pytest.importorskip("sklearn.metrics")
    y_true, y_pred = _binary(rng) if kind == "binary" else _multi(rng)
    if kind == "multi" and average == "binary":
        with pytest.raises(ValueError, match="classes"):
            metrics.precision(y_true, y_pred, average=average)
        return
    for ours, theirs in [(metrics.precision, sk.precision_score), (metrics.recall, sk.recall_score),
                         (metrics.f1_score, sk.f1_score)]:
        np.testing.assert_allclose(ours(y_true, y_pred, average=average),
                                   theirs(y_true, y_pred, average=average), rtol=1e-12)


def test_pos_label_labels_and_weights_match_sklearn(rng):
    sk = pytest.importorskip("sklearn.metrics")
    y_true, y_pred = _binary(rng)
    w = rng.random(y_true.shape[0])
    assert metrics.f1_score(y_true, y_pred, pos_label=0) == pytest.approx(
        sk.f1_score(y_true, y_pred, pos_label=0))
    assert metrics.precision(y_true, y_pred, sample_weight=w) == pytest.approx(
        sk.precision_score(y_true, y_pred, sample_weight=w))
    y_true, y_pred = _multi(rng)
    for avg in ["macro", "micro"]:
        assert metrics.f1_score(y_true, y_pred, labels=[0, 2], average=avg) == pytest.approx(
            sk.f1_score(y_true, y_pred, labels=[0, 2], average=avg))
    strs = np.array(["cat", "dog"])
    assert metrics.recall(strs[y_true % 2], strs[y_pred % 2], pos_label="dog") == pytest.approx(
        sk.recall_score(strs[y_true % 2], strs[y_pred % 2], pos_label="dog"))


def test_micro_f1_equals_accuracy(rng):
    y_true, y_pred = _multi(rng)
    assert metrics.f1_score(y_true, y_pred, average="micro") == pytest.approx(metrics.accuracy(y_true, y_pred))


def test_zero_division(rng):
    y_true = np.array([0, 0, 1, 1])
    y_pred = np.zeros(4, dtype=int)
    with pytest.warns(metrics.UndefinedMetricWarning):
        assert metrics.precision(y_true, y_pred) == 0.0
    assert metrics.precision(y_true, y_pred, zero_division=1) == 1.0


def test_bad_input_errors():
    with pytest.raises(ValueError, match=r"\(3,\) and \(2,\)"):
        metrics.accuracy([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match="pos_label=5"):
        metrics.precision([0, 1], [1, 0], pos_label=5)
    with pytest.raises(ValueError, match="continuous values"):
        metrics.accuracy([0, 1, 1], [0.2, 0.9, 0.6])
    with pytest.raises(ValueError, match="neither increasing nor decreasing"):
        metrics.auc([0, 1, 0.5], [0, 1, 1])


@pytest.mark.parametrize("normalize", [None, "true", "pred", "all"])
def test_confusion_matrix_matches_sklearn(rng, normalize):
    sk = pytest.importorskip("sklearn.metrics")
    y_true, y_pred = _multi(rng)
    np.testing.assert_allclose(metrics.confusion_matrix(y_true, y_pred, normalize=normalize),
                               sk.confusion_matrix(y_true, y_pred, normalize=normalize))
    labels = [3, 0, 1]
    np.testing.assert_array_equal(metrics.confusion_matrix(y_true, y_pred, labels=labels),
                                  sk.confusion_matrix(y_true, y_pred, labels=labels))
    w = rng.random(y_true.shape[0])
    np.testing.assert_allclose(metrics.confusion_matrix(y_true, y_pred, sample_weight=w),
                               sk.confusion_matrix(y_true, y_pred, sample_weight=w))


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("drop", [True, False])
def test_roc_curve_matches_sklearn(rng, ties, drop):
    sk = pytest.importorskip("sklearn.metrics")
    y_true = rng.integers(0, 2, 200)
    score = y_true * 0.8 + rng.normal(size=200)
    if ties:
        score = np.round(score, 1)
    ours = metrics.roc_curve(y_true, score, drop_intermediate=drop)
    theirs = sk.roc_curve(y_true, score, drop_intermediate=drop)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    assert metrics.auc(ours[0], ours[1]) == pytest.approx(sk.auc(theirs[0], theirs[1]), rel=1e-12)
    assert metrics.roc_auc_score(y_true, score) == pytest.approx(sk.roc_auc_score(y_true, score), rel=1e-12)


def test_roc_pos_label_and_weights(rng):
    sk = pytest.importorskip("sklearn.metrics")
    y_true = rng.choice([2, 7], 100)
    score = (y_true == 7) + rng.normal(size=100)
    w = rng.random(100)
    for a, b in zip(metrics.roc_curve(y_true, score, pos_label=7, sample_weight=w),
                    sk.roc_curve(y_true, score, pos_label=7, sample_weight=w)):
        np.testing.assert_allclose(a, b)
    with pytest.raises(ValueError, match="pos_label"):
        metrics.roc_curve(y_true, score)


def test_roc_auc_by_hand():
    # AUC = probability that a random positive outranks a random negative
    y = np.array([0, 0, 1, 1, 0, 1])
    s = np.array([0.1, 0.4, 0.35, 0.8, 0.2, 0.9])
    pos, neg = s[y == 1], s[y == 0]
    expected = np.mean(pos[:, None] > neg[None, :])
    assert metrics.roc_auc_score(y, s) == pytest.approx(expected)
    fpr, tpr, thr = metrics.roc_curve(y, s)
    assert fpr[0] == 0 and tpr[0] == 0 and thr[0] == np.inf and fpr[-1] == 1 and tpr[-1] == 1


@pytest.mark.parametrize("multi_class", ["ovr", "ovo"])
@pytest.mark.parametrize("average", ["macro", "weighted"])
def test_multiclass_roc_auc_matches_sklearn(rng, multi_class, average):
    sk = pytest.importorskip("sklearn.metrics")
    y = rng.integers(0, 3, 120)
    logits = np.eye(3)[y] + rng.normal(size=(120, 3))
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    assert metrics.roc_auc_score(y, p, multi_class=multi_class, average=average) == pytest.approx(
        sk.roc_auc_score(y, p, multi_class=multi_class, average=average), rel=1e-12)


def test_auc_decreasing_x():
    assert metrics.auc([1, 0.5, 0], [1, 1, 0]) == pytest.approx(0.75)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert metrics.auc([0, 0.5, 1], [0, 1, 1]) == pytest.approx(0.75)
