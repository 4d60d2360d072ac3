"""A batch of 0 through every layer: output shapes as PyTorch's, backward works (issue 17 item 9)."""
import numpy as np
import pytest

import autodiff as ad
import nn

# layer name, constructor arguments, input shape with a batch of 0 (batch axis 1 for the sequence layers)
LAYERS = [
    ("Conv2d", (2, 3, 3), (0, 2, 5, 5)),
    ("Conv2d", (2, 4, 3), (0, 2, 5, 5)),
    ("Conv1d", (2, 3, 3), (0, 2, 5)),
    ("MaxPool2d", (2,), (0, 2, 4, 4)),
    ("MaxPool1d", (2,), (0, 2, 4)),
    ("AvgPool2d", (2,), (0, 2, 4, 4)),
    ("AvgPool1d", (2,), (0, 2, 4)),
    ("AdaptiveAvgPool2d", (2,), (0, 2, 5, 5)),
    ("AdaptiveAvgPool1d", (3,), (0, 2, 5)),
    ("BatchNorm1d", (3,), (0, 3)),
    ("BatchNorm2d", (3,), (0, 3, 4, 4)),
    ("LayerNorm", (4,), (0, 4)),
    ("Dropout", (0.5,), (0, 4)),
    ("Linear", (4, 2), (0, 4)),
    ("Flatten", (), (0, 2, 3)),
    ("LSTM", (4, 3), (5, 0, 4)),
    ("GRU", (4, 3), (5, 0, 4)),
    ("RNN", (4, 3), (5, 0, 4)),
    ("LSTMCell", (4, 3), (0, 4)),
    ("GRUCell", (4, 3), (0, 4)),
    ("RNNCell", (4, 3), (0, 4)),
]


def _first(out):
    return out[0] if isinstance(out, tuple) else out


@pytest.mark.parametrize("name, args, shape", LAYERS, ids=[f"{n}{s}" for n, _, s in LAYERS])
def test_empty_batch_shapes_and_backward_match_torch(name, args, shape):
    torch = pytest.importorskip("torch")
    x = np.zeros(shape, np.float32)
    ours = getattr(nn, name)(*args)
    theirs = getattr(torch.nn, name)(*args)
    t = ad.Tensor(x, requires_grad=True)
    tt = torch.from_numpy(x).requires_grad_(True)
    y, ty = _first(ours(t)), _first(theirs(tt))
    assert y.shape == tuple(ty.shape)
    y.sum().backward()
    ty.sum().backward()
    assert t.grad.shape == x.shape
    for (n, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert p.grad is not None and p.grad.shape == tuple(tp.grad.shape), n
        np.testing.assert_array_equal(p.grad.data, np.zeros(p.shape, np.float32))


def test_batch_norm_empty_batch_keeps_running_statistics_like_torch():
    torch = pytest.importorskip("torch")
    ours, theirs = nn.BatchNorm2d(3), torch.nn.BatchNorm2d(3)
    x = np.random.default_rng(0).standard_normal((4, 3, 2, 2)).astype(np.float32)
    ours(ad.Tensor(x))
    theirs(torch.from_numpy(x))
    ours(ad.Tensor(np.zeros((0, 3, 2, 2), np.float32)))
    theirs(torch.zeros(0, 3, 2, 2))
    for key, value in theirs.state_dict().items():
        np.testing.assert_allclose(np.asarray(ours.state_dict()[key].data if hasattr(ours.state_dict()[key], "data")
                                              else ours.state_dict()[key]), value.numpy(), rtol=1e-6, err_msg=key)


def test_lenet_runs_on_an_empty_batch():
    from nn.models.lenet import LeNet

    model = LeNet()
    x = ad.Tensor(np.zeros((0, 1, 28, 28), np.float32), requires_grad=True)
    y = model(x)
    assert y.shape == (0, 10)
    y.sum().backward()
    assert x.grad.shape == x.shape
