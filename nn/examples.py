"""A small end-to-end example: an MLP trained on Fashion-MNIST with nothing but the nn API.

    python -m nn.examples            # 10k training images, 3 epochs, prints the test accuracy

The full demo with plots is ``python -m nn.demos mlp``.
"""
import numpy as np

import autodiff as ad
import nn


def make_mlp(sizes=(784, 256, 128, 10), dropout=0.0):
    """Flatten -> [Linear -> ReLU (-> Dropout)] * hidden -> Linear (logits).

    Shape:
        input (N, 28, 28) or (N, 784) -> logits (N, sizes[-1]).
    """
    layers = [nn.Flatten()]
    for fan_in, fan_out in zip(sizes[:-2], sizes[1:-1]):
        layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
        if dropout:
            layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(sizes[-2], sizes[-1]))
    return nn.Sequential(*layers)


def train_mlp(x_train, y_train, x_test, y_test, epochs=3, batch_size=128, lr=0.05, momentum=0.9, seed=0,
              verbose=False):
    """Train ``make_mlp()`` with cross-entropy and mini-batch SGD with momentum.

    Args:
        x_train, x_test: float images (N, 28, 28) or (N, 784); y_train, y_test: int labels (N,).

    Returns:
        dict with ``model``, ``losses`` (mean training loss per epoch) and ``test_accuracy``.
    """
    ad.manual_seed(seed)
    model = make_mlp()
    loss_fn = nn.CrossEntropyLoss()
    opt = nn.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    rng = np.random.default_rng(seed)
    losses = []
    for epoch in range(epochs):
        model.train()
        order = rng.permutation(len(x_train))
        total, count = 0.0, 0
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            opt.zero_grad()
            loss = loss_fn(model(ad.Tensor(x_train[idx])), y_train[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
            count += len(idx)
        losses.append(total / count)
        if verbose:
            print(f"epoch {epoch + 1}: training loss {losses[-1]:.4f}")
    model.eval()
    with ad.no_grad():
        pred = model(ad.Tensor(x_test)).data.argmax(axis=1)
    return {"model": model, "losses": losses, "test_accuracy": float(nn.metrics.accuracy(y_test, pred))}


def train_mlp_fashion_mnist(n_train=10000, n_test=2000, data_dir=None, **kwargs):
    """``train_mlp`` on the first ``n_train`` Fashion-MNIST training images, tested on the first
    ``n_test`` test images (pixels scaled to [0, 1]). Extra keyword arguments go to ``train_mlp``."""
    x_train, y_train = nn.data.load_image_set(data_dir, "train", scale=True)
    x_test, y_test = nn.data.load_image_set(data_dir, "test", scale=True)
    return train_mlp(x_train[:n_train], y_train[:n_train], x_test[:n_test], y_test[:n_test], **kwargs)


if __name__ == "__main__":  # pragma: no cover
    result = train_mlp_fashion_mnist(verbose=True)
    print(f"test accuracy: {result['test_accuracy']:.2%}")
