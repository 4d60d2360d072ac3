"""Samplers, random_split, ConcatDataset and the DataLoader's sampler arguments, against
torch.utils.data where the result is deterministic, by counting where it is random."""
import warnings

import numpy as np
import pytest

import autodiff as ad
from nn.data import (BatchSampler, ConcatDataset, DataLoader, Dataset, RandomSampler, SequentialSampler,
                     Subset, SubsetRandomSampler, TensorDataset, WeightedRandomSampler, random_split)

torch = pytest.importorskip("torch")
tud = torch.utils.data


class _Pairs(Dataset):
    """A map-style dataset that is not a TensorDataset (the loader's general path)."""

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], self.y[i]


def _data(n=10):
    x = np.arange(n * 2, dtype=np.float32).reshape(n, 2)
    return x, np.arange(n)


@pytest.mark.parametrize("n", [1, 7, 10])
@pytest.mark.parametrize("batch_size", [1, 3, 4])
@pytest.mark.parametrize("drop_last", [False, True])
def test_batch_and_sequential_samplers_match_torch(n, batch_size, drop_last):
    ours = BatchSampler(SequentialSampler(range(n)), batch_size, drop_last)
    ref = tud.BatchSampler(tud.SequentialSampler(range(n)), batch_size, drop_last)
    assert list(ours) == list(ref) and len(ours) == len(ref)


@pytest.mark.parametrize("make", [
    lambda m, ds: m.DataLoader(ds, batch_size=4),
    lambda m, ds: m.DataLoader(ds, batch_size=3, drop_last=True),
    lambda m, ds: m.DataLoader(ds, batch_size=None),
    lambda m, ds: m.DataLoader(ds, sampler=[9, 2, 2, 5, 0], batch_size=2),
    lambda m, ds: m.DataLoader(ds, batch_sampler=[[1, 2], [7], [0, 0, 3]]),
    lambda m, ds: m.DataLoader(ds, batch_sampler=m.BatchSampler(m.SequentialSampler(ds), 4, True)),
], ids=["batch4", "drop_last", "no_batching", "sampler", "batch_sampler", "batch_sampler_obj"])
@pytest.mark.parametrize("general", [False, True])
def test_loader_batches_match_torch(make, general):
    x, y = _data()
    ours_ds = _Pairs(x, y) if general else TensorDataset(x, y)
    ref_ds = tud.TensorDataset(torch.tensor(x), torch.tensor(y))
    ours, ref = make(__import__("nn").data, ours_ds), make(tud, ref_ds)
    got, want = list(ours), list(ref)
    assert len(ours) == len(ref) == len(want) and len(got) == len(want)
    for (gx, gy), (wx, wy) in zip(got, want):
        np.testing.assert_array_equal(np.asarray(getattr(gx, "data", gx)), wx.numpy())
        np.testing.assert_array_equal(np.asarray(getattr(gy, "data", gy)), wy.numpy())


def test_loader_argument_conflicts_are_refused_like_torch():
    x, y = _data()
    ds, ref_ds = TensorDataset(x, y), tud.TensorDataset(torch.tensor(x), torch.tensor(y))
    for kwargs, message in [({"sampler": [0, 1], "shuffle": True}, "mutually exclusive with shuffle"),
                            ({"batch_sampler": [[0]], "batch_size": 2}, "mutually exclusive with batch_size"),
                            ({"batch_sampler": [[0]], "drop_last": True}, "mutually exclusive with batch_size"),
                            ({"batch_size": None, "drop_last": True}, "mutually exclusive with drop_last")]:
        with pytest.raises(ValueError):
            tud.DataLoader(ref_ds, **kwargs)
        with pytest.raises(ValueError, match=message):
            DataLoader(ds, **kwargs)


@pytest.mark.parametrize("lengths", [[3, 7], [0.3, 0.3, 0.4], [0.5, 0.5], [0.1, 0.2, 0.7], [1.0]])
@pytest.mark.parametrize("n", [7, 10, 11])
def test_random_split_sizes_match_torch_and_partition(lengths, n):
    if sum(lengths) > 1 and sum(lengths) != n:
        pytest.skip("integer lengths that do not sum to n (the error case is checked below)")
    ds = TensorDataset(np.arange(n))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")             # a split of length 0 warns, in torch too
        parts = random_split(ds, lengths, generator=0)
        ref = tud.random_split(range(n), lengths, generator=torch.Generator().manual_seed(0))
    assert [len(p) for p in parts] == [len(r) for r in ref]
    assert all(isinstance(p, Subset) for p in parts)
    got = np.concatenate([p.indices for p in parts])
    assert sorted(got.tolist()) == list(range(n))
    with pytest.raises(ValueError, match="does not equal the length"):
        random_split(ds, [n, 1])


def test_random_split_repeats_with_the_same_generator_seed():
    ds = TensorDataset(np.arange(20))
    a = [p.indices for p in random_split(ds, [0.5, 0.5], generator=np.random.default_rng(4))]
    b = [p.indices for p in random_split(ds, [0.5, 0.5], generator=np.random.default_rng(4))]
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], np.arange(10))


def test_concat_dataset_matches_torch():
    parts = [np.arange(3), np.arange(10, 15), np.arange(20, 22)]
    ours = ConcatDataset([TensorDataset(p) for p in parts])
    ref = tud.ConcatDataset([tud.TensorDataset(torch.tensor(p)) for p in parts])
    assert len(ours) == len(ref) and ours.cumulative_sizes == ref.cumulative_sizes
    for i in list(range(-len(ref), len(ref))):
        assert ours[i][0].item() == ref[i][0].item()
    with pytest.raises(ValueError, match="should not exceed"):
        ours[-11]
    with pytest.raises(IndexError):
        ours[10]
    with pytest.raises(ValueError, match="empty"):
        ConcatDataset([])
    batches = list(DataLoader(ours, batch_size=4))
    np.testing.assert_array_equal(np.concatenate([b[0].data for b in batches]), np.concatenate(parts))


@pytest.mark.parametrize("num_samples", [None, 4, 23])
def test_random_sampler_without_replacement_gives_permutations(num_samples):
    sampler = RandomSampler(range(10), num_samples=num_samples, generator=1)
    order = list(sampler)
    k = 10 if num_samples is None else num_samples
    assert len(order) == len(sampler) == k
    for start in range(0, k - k % 10, 10):
        assert sorted(order[start:start + 10]) == list(range(10))
    assert len(set(order[k - k % 10:])) == k % 10
    assert list(sampler) != order                      # a new order every epoch


def test_random_sampler_with_replacement_is_uniform():
    counts = np.bincount(list(RandomSampler(range(5), replacement=True, num_samples=50000, generator=0)),
                         minlength=5)
    np.testing.assert_allclose(counts / 50000, 0.2, atol=0.01)


def test_weighted_sampler_draws_in_proportion_to_weights():
    w = np.array([1.0, 0.0, 3.0, 6.0])
    counts = np.bincount(list(WeightedRandomSampler(w, 60000, generator=0)), minlength=4)
    np.testing.assert_allclose(counts / 60000, w / w.sum(), atol=0.01)
    once = list(WeightedRandomSampler(ad.tensor(w), 3, replacement=False, generator=0))
    assert sorted(once) == [0, 2, 3]
    with pytest.raises(ValueError, match="without replacement from 3 non-zero"):
        WeightedRandomSampler(w, 4, replacement=False)
    with pytest.raises(ValueError, match="1d sequence"):
        WeightedRandomSampler(np.ones((2, 2)), 2)
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        WeightedRandomSampler(w, 0)


def test_loader_generator_and_samplers_repeat_a_run():
    x, y = _data(23)
    a = DataLoader(TensorDataset(x, y), batch_size=5, shuffle=True, generator=7)
    b = DataLoader(_Pairs(x, y), batch_size=5, shuffle=True, seed=7)
    for _ in range(2):
        np.testing.assert_array_equal(np.concatenate([t[1].data for t in a]),
                                      np.concatenate([t[1].data for t in b]))
    w = WeightedRandomSampler(np.linspace(1, 2, 23), 40, generator=3)
    fast = np.concatenate([t[1].data for t in DataLoader(TensorDataset(x, y), batch_size=6, sampler=w)])
    w2 = WeightedRandomSampler(np.linspace(1, 2, 23), 40, generator=3)
    slow = np.concatenate([t[1].data for t in DataLoader(_Pairs(x, y), batch_size=6, sampler=w2)])
    np.testing.assert_array_equal(fast, slow)
    sub = SubsetRandomSampler([2, 4, 6], generator=0)
    assert sorted(sub) == [2, 4, 6] and len(sub) == 3


def test_a_torch_generator_seeds_the_shuffle_reproducibly():
    x, y = _data(23)
    orders = []
    for _ in range(2):
        loader = DataLoader(TensorDataset(x, y), batch_size=5, shuffle=True,
                            generator=torch.Generator().manual_seed(11))
        orders.append(np.concatenate([b[1].data for b in loader]))
    np.testing.assert_array_equal(orders[0], orders[1])
    assert sorted(orders[0].tolist()) == list(range(23))
    parts = random_split(TensorDataset(x), [0.5, 0.5], generator=torch.Generator().manual_seed(2))
    again = random_split(TensorDataset(x), [0.5, 0.5], generator=torch.Generator().manual_seed(2))
    np.testing.assert_array_equal(parts[0].indices, again[0].indices)
