"""nn.data: scalers, one_hot, splits (against scikit-learn / definitions), datasets and loaders."""

import numpy as np
import pytest

from nn.data import (DataLoader, Dataset, KFold, LeaveOneOut, MeanNormalizer, MinMaxScaler,
                     StandardScaler, Subset, TensorDataset, UnitNormScaler, bootstrap, one_hot,
                     train_test_split, train_val_test_split)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture
def X(rng):
    X = rng.normal(size=(30, 4)) * [1, 10, 100, 0.1] + [0, 5, -3, 1]
    X[:, 3] = 7.0  # constant feature
    return X


def _engine():
    ad = pytest.importorskip("autodiff")
    if not hasattr(ad, "Tensor"):
        pytest.skip("autodiff.Tensor not available yet")
    return ad


# ---- scalers -------------------------------------------------------------------------------

@pytest.mark.parametrize("feature_range", [(0, 1), (-1, 1), (2, 5)])
def test_minmax_matches_sklearn(X, feature_range):
    skp = pytest.importorskip("sklearn.preprocessing")
    ours = MinMaxScaler(feature_range).fit(X[:20])
    theirs = skp.MinMaxScaler(feature_range=feature_range).fit(X[:20])
    np.testing.assert_allclose(ours.transform(X), theirs.transform(X), atol=1e-12)
    Z = ours.transform(X)
    np.testing.assert_allclose(ours.inverse_transform(Z), X, atol=1e-10)
    np.testing.assert_allclose(ours.fit_transform(X), theirs.fit_transform(X), atol=1e-12)


def test_minmax_definition_and_clip(X):
    Z = MinMaxScaler().fit_transform(X[:, :3])
    np.testing.assert_allclose(Z, (X[:, :3] - X[:, :3].min(0)) / np.ptp(X[:, :3], 0))
    s = MinMaxScaler(clip=True).fit(X[:10])
    Z = s.transform(X)
    assert Z.min() >= 0 and Z.max() <= 1


@pytest.mark.parametrize("with_mean,with_std", [(True, True), (False, True), (True, False)])
def test_standard_matches_sklearn(X, with_mean, with_std):
    skp = pytest.importorskip("sklearn.preprocessing")
    ours = StandardScaler(with_mean=with_mean, with_std=with_std).fit(X[:20])
    theirs = skp.StandardScaler(with_mean=with_mean, with_std=with_std).fit(X[:20])
    np.testing.assert_allclose(ours.transform(X), theirs.transform(X), atol=1e-12)
    np.testing.assert_allclose(ours.inverse_transform(ours.transform(X)), X, atol=1e-10)


def test_mean_normalizer_definition(X):
    s = MeanNormalizer()
    Z = s.fit_transform(X)
    rng_ = np.ptp(X, 0)
    rng_[rng_ == 0] = 1
    np.testing.assert_allclose(Z, (X - X.mean(0)) / rng_)
    np.testing.assert_allclose(Z.mean(0), 0, atol=1e-12)
    assert np.all(np.abs(Z) <= 1)
    np.testing.assert_allclose(s.inverse_transform(Z), X)


@pytest.mark.parametrize("norm", ["l2", "l1", "max"])
def test_unit_norm_matches_sklearn_and_inverts(X, norm):
    skp = pytest.importorskip("sklearn.preprocessing")
    X = X.copy()
    X[2] = 0.0  # a zero sample stays zero
    s = UnitNormScaler(norm)
    Z = s.fit_transform(X)
    np.testing.assert_allclose(Z, skp.Normalizer(norm=norm).fit_transform(X), atol=1e-12)
    np.testing.assert_allclose(s.inverse_transform(Z), X, atol=1e-12)
    with pytest.raises(ValueError, match="same samples"):
        s.inverse_transform(Z[:5])


def test_scaler_keeps_float32_and_images(rng):
    imgs = rng.random((10, 3, 3)).astype(np.float32)
    Z = StandardScaler().fit_transform(imgs)
    assert Z.dtype == np.float32 and Z.shape == (10, 3, 3)
    np.testing.assert_allclose(Z.reshape(10, -1).std(0), 1, rtol=1e-4)
    assert UnitNormScaler().fit_transform(imgs).dtype == np.float32


def test_scaler_errors(X):
    with pytest.raises(RuntimeError, match="not fitted"):
        StandardScaler().transform(X)
    s = MinMaxScaler().fit(X)
    with pytest.raises(ValueError, match=r"\(30, 3\).*\(4,\)"):
        s.transform(X[:, :3])
    with pytest.raises(ValueError, match="lo < hi"):
        MinMaxScaler((1, 0))


def test_scaler_tensor_in_tensor_out(X):
    ad = _engine()
    Z = StandardScaler().fit_transform(ad.Tensor(X))
    assert isinstance(Z, ad.Tensor)
    np.testing.assert_allclose(Z.data, StandardScaler().fit_transform(X))


# ---- one_hot -------------------------------------------------------------------------------

def test_one_hot_matches_torch(rng):
    torch = pytest.importorskip("torch")
    y = rng.integers(0, 5, (4, 3))
    ours = one_hot(y, 6, dtype=np.int64)
    np.testing.assert_array_equal(ours, torch.nn.functional.one_hot(torch.from_numpy(y), 6).numpy())
    assert one_hot(y).shape == (4, 3, int(y.max()) + 1)
    assert one_hot(y).dtype == np.float32
    np.testing.assert_array_equal(one_hot([2, 0], -1), [[0, 0, 1], [1, 0, 0]])


def test_one_hot_errors():
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        one_hot([0, 3], 3)
    with pytest.raises(TypeError, match="integers"):
        one_hot([0.5, 1.0])


# ---- splits --------------------------------------------------------------------------------

@pytest.mark.parametrize("test_size,train_size", [(None, None), (0.3, None), (7, None),
                                                  (None, 0.6), (0.2, 0.5)])
def test_train_test_split_sizes_match_sklearn(test_size, train_size):
    ms = pytest.importorskip("sklearn.model_selection")
    X = np.arange(33).reshape(33, 1)
    y = np.arange(33)
    a = train_test_split(X, y, test_size=test_size, train_size=train_size, random_state=0)
    b = ms.train_test_split(X, y, test_size=test_size, train_size=train_size, random_state=0)
    assert [len(p) for p in a] == [len(p) for p in b]
    Xtr, Xte, ytr, yte = a
    np.testing.assert_array_equal(Xtr[:, 0], ytr)
    np.testing.assert_array_equal(Xte[:, 0], yte)
    assert not set(ytr) & set(yte)


def test_train_test_split_no_shuffle_matches_sklearn():
    ms = pytest.importorskip("sklearn.model_selection")
    X = np.arange(20)
    for a, b in zip(train_test_split(X, shuffle=False, test_size=0.3),
                    ms.train_test_split(X, shuffle=False, test_size=0.3)):
        np.testing.assert_array_equal(a, b)


def test_train_test_split_seeded_and_kinds():
    X = list(range(40))
    a = train_test_split(X, random_state=3)
    b = train_test_split(X, seed=3)
    assert a == b and isinstance(a[0], list)
    assert train_test_split(X, random_state=4) != a
    with pytest.raises(ValueError, match="different numbers of samples"):
        train_test_split(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="test_size=1.5"):
        train_test_split(np.zeros(10), test_size=1.5)


def test_stratified_split_keeps_proportions(rng):
    y = np.repeat([0, 1, 2], [50, 30, 20])
    Xtr, Xte, ytr, yte = train_test_split(np.arange(100), y, test_size=0.2, stratify=y, seed=0)
    np.testing.assert_array_equal(np.bincount(yte), [10, 6, 4])
    np.testing.assert_array_equal(np.bincount(ytr), [40, 24, 16])
    np.testing.assert_array_equal(y[Xtr], ytr)
    assert sorted(np.r_[Xtr, Xte].tolist()) == list(range(100))


@pytest.mark.parametrize("stratify", [False, True])
def test_train_val_test_split(stratify):
    y = np.repeat([0, 1], [60, 40])
    X = np.arange(100)
    parts = train_val_test_split(X, y, val_size=0.2, test_size=0.1, seed=1,
                                 stratify=y if stratify else None)
    Xtr, Xva, Xte, ytr, yva, yte = parts
    assert (len(Xtr), len(Xva), len(Xte)) == (70, 20, 10)
    assert sorted(np.r_[Xtr, Xva, Xte].tolist()) == list(range(100))
    np.testing.assert_array_equal(y[Xva], yva)
    if stratify:
        np.testing.assert_array_equal(np.bincount(yva), [12, 8])
        np.testing.assert_array_equal(np.bincount(yte), [6, 4])
    Xtr, Xva, Xte = train_val_test_split(X, shuffle=False, val_size=10, test_size=5)
    np.testing.assert_array_equal(Xva, np.arange(85, 95))


@pytest.mark.parametrize("n,k", [(10, 5), (11, 3), (7, 7), (23, 4)])
def test_kfold_matches_sklearn(n, k):
    ms = pytest.importorskip("sklearn.model_selection")
    ours = list(KFold(k).split(np.zeros((n, 2))))
    theirs = list(ms.KFold(k).split(np.zeros((n, 2))))
    assert len(ours) == len(theirs) == KFold(k).get_n_splits()
    for (a_tr, a_te), (b_tr, b_te) in zip(ours, theirs):
        np.testing.assert_array_equal(a_tr, b_tr)
        np.testing.assert_array_equal(a_te, b_te)


def test_kfold_shuffle_partitions_and_is_seeded():
    folds = list(KFold(4, shuffle=True, random_state=0).split(18))
    tests = np.concatenate([te for _, te in folds])
    assert sorted(tests.tolist()) == list(range(18))
    for tr, te in folds:
        assert sorted(np.r_[tr, te].tolist()) == list(range(18))
    again = list(KFold(4, shuffle=True, random_state=0).split(18))
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, again))
    assert not np.array_equal(folds[0][1], np.arange(5))
    with pytest.raises(ValueError, match="n_splits=5 greater"):
        next(KFold(5).split(np.zeros(3)))
    with pytest.raises(ValueError, match=">= 2"):
        KFold(1)


def test_leave_one_out_matches_sklearn():
    ms = pytest.importorskip("sklearn.model_selection")
    X = np.zeros((6, 1))
    ours, theirs = list(LeaveOneOut().split(X)), list(ms.LeaveOneOut().split(X))
    assert LeaveOneOut().get_n_splits(X) == 6 == len(ours)
    for (a_tr, a_te), (b_tr, b_te) in zip(ours, theirs):
        np.testing.assert_array_equal(a_tr, b_tr)
        np.testing.assert_array_equal(a_te, b_te)


def test_bootstrap():
    in_bag, oob = bootstrap(1000, seed=0)
    assert in_bag.shape == (1000,) and in_bag.min() >= 0 and in_bag.max() < 1000
    assert not set(in_bag.tolist()) & set(oob.tolist())
    assert set(in_bag.tolist()) | set(oob.tolist()) == set(range(1000))
    assert abs(len(oob) / 1000 - np.exp(-1)) < 0.05  # P(never drawn) -> 1/e
    again, _ = bootstrap(1000, seed=np.random.default_rng(0))
    np.testing.assert_array_equal(in_bag, again)
    assert bootstrap(10, size=3, seed=1)[0].shape == (3,)


# ---- datasets and loaders -----------------------------------------------------------------

class _Pairs(Dataset):
    def __init__(self, X, y):
        self.X, self.y = X, y

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        return self.X[i], int(self.y[i])


def test_tensor_dataset(rng):
    ad = _engine()
    X, y = rng.normal(size=(7, 3)), np.arange(7)
    ds = TensorDataset(ad.Tensor(X), y)
    assert len(ds) == 7
    xi, yi = ds[2]
    assert isinstance(xi, ad.Tensor) and np.array_equal(xi.data, X[2]) and yi.item() == 2
    with pytest.raises(ValueError, match=r"\(7, 3\), \(6,\)"):
        TensorDataset(X, np.arange(6))


@pytest.mark.parametrize("batch_size,drop_last,expected", [
    (1, False, [1] * 10), (4, False, [4, 4, 2]), (4, True, [4, 4]), (10, False, [10]),
    (32, False, [10])])
def test_loader_regimes(rng, batch_size, drop_last, expected):
    ad = _engine()
    X, y = rng.normal(size=(10, 3)).astype(np.float32), np.arange(10)
    for ds in (TensorDataset(X, y), _Pairs(X, y)):
        loader = DataLoader(ds, batch_size=batch_size, drop_last=drop_last)
        batches = list(loader)
        assert len(loader) == len(batches) and [len(b[1]) for b in batches] == expected
        for xb, yb in batches:
            assert isinstance(xb, ad.Tensor) and xb.dtype == np.float32 and yb.dtype == np.int64
            np.testing.assert_array_equal(xb.data, X[yb.data])
        assert np.concatenate([b[1].data for b in batches]).tolist() == list(range(sum(expected)))


def test_loader_shuffle_fast_and_general_paths_agree(rng):
    _engine()
    X, y = rng.normal(size=(23, 2)), np.arange(23)
    fast = DataLoader(TensorDataset(X, y), batch_size=5, shuffle=True, seed=7)
    slow = DataLoader(_Pairs(X, y), batch_size=5, shuffle=True, seed=7)
    seen = []
    for epoch in range(2):
        order_fast = np.concatenate([b[1].data for b in fast])
        order_slow = np.concatenate([b[1].data for b in slow])
        np.testing.assert_array_equal(order_fast, order_slow)
        assert sorted(order_fast.tolist()) == list(range(23))
        seen.append(order_fast)
    assert not np.array_equal(seen[0], seen[1])  # a new order every epoch


def test_loader_subset_and_collate(rng):
    _engine()
    X, y = rng.normal(size=(12, 2)), np.arange(12)
    ds = TensorDataset(X, y)
    train_idx, test_idx = next(KFold(3).split(X))
    sub = Subset(Subset(ds, train_idx), [1, 0, 2])
    (xb, yb), = list(DataLoader(sub, batch_size=3))
    np.testing.assert_array_equal(yb.data, train_idx[[1, 0, 2]])
    single = list(DataLoader(Subset(ds, test_idx), batch_size=4, collate_fn=lambda s: len(s)))
    assert single == [len(test_idx)]
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(ds, batch_size=0)


def test_loader_unseeded_follows_manual_seed(rng):
    ad = _engine()
    ds = TensorDataset(np.arange(20))
    loader = DataLoader(ds, batch_size=20, shuffle=True)
    ad.manual_seed(3)
    first = next(iter(loader))[0].data
    ad.manual_seed(3)
    np.testing.assert_array_equal(next(iter(loader))[0].data, first)


def test_loader_dict_samples(rng):
    _engine()

    class Dicts(Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return {"x": np.full(2, float(i)), "y": i}

    batch = next(iter(DataLoader(Dicts(), batch_size=3)))
    np.testing.assert_array_equal(batch["y"].data, [0, 1, 2])
    assert batch["x"].shape == (3, 2) and batch["y"].dtype == np.int64


def test_loader_does_not_alias_dataset(rng):
    _engine()
    X = rng.normal(size=(4, 2))
    xb, = next(iter(DataLoader(TensorDataset(X), batch_size=4)))
    xb.data[...] = 0
    assert np.all(X != 0)
