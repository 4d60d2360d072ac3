"""A 2-layer MLP built with nn solves XOR (the classic problem a single perceptron cannot)."""
import numpy as np
import pytest

import autodiff as ad
import nn

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
Y = np.array([[0], [1], [1], [0]], np.float32)


class XorNet(nn.Module):
    def __init__(self, hidden=4):
        super().__init__()
        self.hidden = nn.Linear(2, hidden)
        self.act = nn.Tanh()
        self.out = nn.Linear(hidden, 1)

    def forward(self, x):
        return self.out(self.act(self.hidden(x)))


@pytest.mark.parametrize("loss_name", ["bce_logits", "sse"])
def test_mlp_learns_xor(loss_name):
    ad.manual_seed(0)
    model = XorNet()
    opt = nn.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    x, y = ad.Tensor(X), ad.Tensor(Y)
    if loss_name == "bce_logits":
        loss_fn, predict = nn.BCEWithLogitsLoss(), lambda z: nn.functional.sigmoid(z)
    else:
        model.out = nn.Sequential(model.out, nn.Sigmoid())
        loss_fn, predict = nn.SSELoss(), lambda z: z
    first = None
    for _ in range(500):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        first = loss.item() if first is None else first
    model.eval()
    with ad.no_grad():
        p = predict(model(x)).data
    assert loss.item() < 0.05 * first
    np.testing.assert_array_equal(p > 0.5, Y > 0.5)
    assert np.all(np.abs(p - Y) < 0.2)


def test_single_linear_layer_cannot_learn_xor():
    """The control: without a hidden layer the same training cannot separate XOR."""
    ad.manual_seed(0)
    model = nn.Linear(2, 1)
    opt = nn.optim.SGD(model.parameters(), lr=0.5)
    for _ in range(300):
        opt.zero_grad()
        loss = nn.BCEWithLogitsLoss()(model(ad.Tensor(X)), ad.Tensor(Y))
        loss.backward()
        opt.step()
    with ad.no_grad():
        p = nn.functional.sigmoid(model(ad.Tensor(X))).data
    assert not np.array_equal(p > 0.5, Y > 0.5)


def test_mlp_trains_on_fashion_mnist_subset():
    """The example in nn.examples: a 784-256-128-10 MLP learns a real data set (chance is 10%).

    To stay fast it reads only the 10k test file: 3000 images to train on, 1000 other ones to test.
    """
    from nn import examples
    try:
        x, y = nn.data.load_image_set(split="test", scale=True)
    except FileNotFoundError as e:
        pytest.skip(f"Fashion-MNIST not available: {e}")
    result = examples.train_mlp(x[:3000], y[:3000], x[-1000:], y[-1000:], epochs=2, lr=0.1)
    assert result["losses"][1] < result["losses"][0]
    assert result["test_accuracy"] > 0.65
