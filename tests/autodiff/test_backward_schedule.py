"""The backward scheduler (autodiff/backward.py): a node runs only after every consumer in the graph.

Nodes used once travel on a stack; others (and every root) wait in a heap, newest first. These tests
build the graphs where that could go wrong (a root that is also an input of another root, a node used
once by a consumer whose gradient is None, multi-output nodes used once or twice, random DAGs) and
compare with hand-computed values, finite differences and PyTorch.
"""
import numpy as np
import pytest

import autodiff as ad


def test_root_used_once_by_another_root_waits_for_it():
    # y1's node is used once (by y2), but y1 is also a root: its gradient is the sum of both
    x = ad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y1 = x * 3.0
    y2 = y1 + 1.0
    ones = np.ones(3, np.float32)
    (g,) = ad.grad([y2, y1], [x], grad_outputs=[ones, 2 * ones])
    np.testing.assert_allclose(g.data, 3.0 * 1 + 3.0 * 2)
    # and in the other order of the roots
    y1 = x * 3.0
    y2 = y1 + 1.0
    (g,) = ad.grad([y1, y2], [x], grad_outputs=[2 * ones, ones])
    np.testing.assert_allclose(g.data, 9.0)


def test_root_list_through_run_backward_fills_leaf_grad():
    x = ad.tensor([0.5, -1.0], requires_grad=True)
    y1 = x.exp()
    y2 = (y1 * 2.0).sum()
    ad.run_backward([y2, y1], [np.float32(1.0), np.ones(2, np.float32)])
    np.testing.assert_allclose(x.grad.data, 3.0 * np.exp(x.data), rtol=1e-6)


def test_diamond_sums_both_paths():
    x = ad.tensor([2.0], requires_grad=True)
    a = x * 2.0
    b = a * 3.0
    c = a * 4.0
    (b + c).sum().backward()
    np.testing.assert_allclose(x.grad.data, [14.0])


class _HalfNone(ad.Function):
    """f(a, b) = a * b, but reports no gradient for b (as if b were a constant)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(b)
        return a * b

    @staticmethod
    def backward(ctx, g):
        (b,) = ctx.saved_tensors
        return g * b, None


def test_none_gradient_stops_a_branch_and_the_rest_still_runs():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    w = ad.tensor([3.0, 5.0], requires_grad=True)
    b = w * 2.0  # used once, by an op that returns None for it: its node never runs
    y = _HalfNone.apply(x, b) + w
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, [6.0, 10.0])
    np.testing.assert_allclose(w.grad.data, [1.0, 1.0])  # only through "+ w"
    assert not b.grad_fn.freed  # the skipped node was not released: it never ran


def test_multi_output_node_used_once_and_twice():
    x = ad.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    a, _ = ad.split(x, 2)
    (a * 2.0).sum().backward()
    np.testing.assert_allclose(x.grad.data, [2, 2, 0, 0])
    x.grad = None
    a, b = ad.split(x, 2)
    (a * 2.0 + b * 3.0).sum().backward()
    np.testing.assert_allclose(x.grad.data, [2, 2, 3, 3])


def test_second_backward_through_freed_graph_leaves_grad_untouched():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    h = x * x
    h.sum().backward()
    before = x.grad.data.copy()
    with pytest.raises(RuntimeError, match="retain_graph"):
        (h * 2.0).sum().backward()  # the new mul runs, then the freed x*x node stops it
    np.testing.assert_array_equal(x.grad.data, before)


def _random_dag(lib, leaves, rng_seed, n_ops=40):
    """Build the same random DAG of ops with ``lib`` ('ad' or torch) over ``leaves``."""
    rng = np.random.default_rng(rng_seed)
    vals = list(leaves)
    for _ in range(n_ops):
        i, j = rng.integers(len(vals), size=2)
        a, b = vals[i], vals[j]
        op = rng.integers(6)
        if op == 0:
            v = a + b
        elif op == 1:
            v = a * b
        elif op == 2:
            v = a.tanh() if lib == "ad" else a.tanh()
        elif op == 3:
            v = a - 0.5 * b
        elif op == 4:
            v = a.sigmoid() * b if lib == "ad" else a.sigmoid() * b
        else:
            v = (a * a + 1.0).sqrt() if lib == "ad" else (a * a + 1.0).sqrt()
        vals.append(v)
    picks = rng.choice(len(vals), size=4, replace=False)
    return sum(vals[k].sum() for k in picks), [vals[k] for k in picks]


@pytest.mark.parametrize("seed", range(6))
def test_random_dag_matches_finite_differences(seed):
    rng = np.random.default_rng(100 + seed)
    xs = [rng.uniform(-1, 1, (3,)) for _ in range(3)]

    def f(a, b, c):
        return _random_dag("ad", [a, b, c], seed, n_ops=25)[0]

    inputs = [ad.Tensor(x.copy(), requires_grad=True) for x in xs]
    assert ad.gradcheck(f, inputs)


@pytest.mark.parametrize("seed", range(4))
def test_random_dag_matches_torch_including_intermediate_roots(seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(200 + seed)
    xs = [rng.uniform(-1, 1, (4, 3)) for _ in range(3)]
    ours = [ad.Tensor(x.copy(), requires_grad=True) for x in xs]
    theirs = [torch.tensor(x, requires_grad=True) for x in xs]
    loss, mids = _random_dag("ad", ours, seed, n_ops=60)
    tloss, tmids = _random_dag("torch", theirs, seed, n_ops=60)
    # several roots at once, some of them inputs of others
    outs = [loss] + [m for m in mids if m.requires_grad]
    touts = [tloss] + [m for m in tmids if m.requires_grad]
    gos = [np.ones(o.shape) * (k + 1) for k, o in enumerate(outs)]
    got = ad.grad(outs, ours, grad_outputs=gos, retain_graph=True, allow_unused=True)
    want = torch.autograd.grad(touts, theirs, grad_outputs=[torch.tensor(g) for g in gos],
                               allow_unused=True, retain_graph=True)
    for g, w in zip(got, want):
        if w is None:
            assert g is None or np.all(g.data == 0)
        else:
            np.testing.assert_allclose(g.data, w.numpy(), rtol=1e-10, atol=1e-12)
    # and plain backward into .grad
    loss.backward()
    tloss.backward()
    for t, tt in zip(ours, theirs):
        if tt.grad is None:
            assert t.grad is None
        else:
            np.testing.assert_allclose(t.grad.data, tt.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_grad_outputs_of_the_wrong_shape_are_refused():
    x = ad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2.0
    with pytest.raises(RuntimeError, match=r"\(5,\).*\(3,\)"):
        ad.grad([y], [x], grad_outputs=[np.ones(5, np.float32)])
    assert x.grad is None


def test_failed_op_does_not_count_as_a_use():
    x = ad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2.0
    with pytest.raises(ValueError, match=r"\(3,\).*\(5,\)"):
        y * ad.ones(5)
    assert y.grad_fn.uses == 0
    z = y * 3.0
    assert y.grad_fn.uses == 1
    z.sum().backward()
    np.testing.assert_allclose(x.grad.data, [6.0, 6.0, 6.0])
