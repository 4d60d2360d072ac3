"""Multilayer perceptrons: an ``nn.Module`` MLP, and the same idea on the scalar Value engine.

``MLP(2, [4], 1)`` trained by backprop solves XOR, which no single perceptron can
(see :mod:`nn.models.perceptron`). :class:`ValueMLP` builds every neuron from
scalar :class:`autodiff.Value` nodes, so the whole graph of a forward pass can be
drawn and followed by hand.
"""

from __future__ import annotations

import math
import random

import numpy as np

import autodiff as ad
from autodiff import Value
import nn
from nn.data.generated import xor_gate

__all__ = ["MLP", "train_xor", "ValueNeuron", "ValueLayer", "ValueMLP", "train_xor_value", "value_predict"]

_ACTIVATIONS = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid"}


class MLP(nn.Module):
    """Fully connected network: Linear -> activation (-> Dropout) for each hidden size, then Linear.

    Args:
        in_features: input size (inputs with more dims are flattened from dim 1).
        hidden_sizes: sizes of the hidden layers, e.g. ``[256, 128]``.
        out_features: output size (logits; no final activation).
        activation: ``'relu'``, ``'tanh'`` or ``'sigmoid'``.
        dropout: dropout probability after each hidden activation (0 disables it).

    Shape:
        input ``(N, in_features)`` or ``(N, *)`` with that many features; output ``(N, out_features)``.
    """

    def __init__(self, in_features: int, hidden_sizes, out_features: int, activation: str = "relu",
                 dropout: float = 0.0):
        super().__init__()
        if activation not in _ACTIVATIONS:
            raise ValueError(f"MLP: activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}")
        layers, size = [], in_features
        for h in hidden_sizes:
            layers += [nn.Linear(size, h), getattr(nn, _ACTIVATIONS[activation])()]
            if dropout:
                layers.append(nn.Dropout(dropout))
            size = h
        layers.append(nn.Linear(size, out_features))
        self.in_features = in_features
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        if x.ndim > 2:
            x = x.reshape(x.shape[0], -1)
        if x.shape[-1] != self.in_features:
            raise ValueError(f"MLP: expected {self.in_features} input features, got input of shape "
                             f"{tuple(x.shape)}")
        return self.net(x)


def train_xor(hidden: int = 4, epochs: int = 2000, lr: float = 0.5, seed: int = 0,
              activation: str = "tanh"):
    """Train a 2-hidden-1 MLP on XOR with full-batch SGD and BCE-with-logits.

    Returns:
        ``(model, losses)``; ``model(X) > 0`` is the prediction.
    """
    ad.manual_seed(seed)
    X, y = xor_gate()
    model = MLP(2, [hidden], 1, activation=activation)
    optimizer = nn.optim.SGD(model.parameters(), lr=lr)
    loss_fn = nn.BCEWithLogitsLoss()
    xt, yt = ad.tensor(X), ad.tensor(y.reshape(-1, 1))
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(xt), yt)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.item()))
    return model, losses


# --------------------------------------------------------------------- scalar engine
class ValueNeuron:
    """One neuron of scalar Values: ``act(sum_i w_i x_i + b)``."""

    def __init__(self, n_inputs: int, activation: str = "tanh", rng=None, name: str = "n"):
        rng = rng or random.Random(0)
        bound = 1.0 / math.sqrt(n_inputs)
        self.w = [Value(rng.uniform(-bound, bound), label=f"{name}.w{i}") for i in range(n_inputs)]
        self.b = Value(0.0, label=f"{name}.b")
        self.activation = activation

    def __call__(self, x):
        total = self.b
        for wi, xi in zip(self.w, x):
            total = total + wi * xi
        if self.activation == "tanh":
            return total.tanh()
        if self.activation == "relu":
            return total.relu()
        if self.activation == "sigmoid":
            return total.sigmoid()
        return total

    def parameters(self):
        return self.w + [self.b]


class ValueLayer:
    """A list of :class:`ValueNeuron` sharing the same inputs."""

    def __init__(self, n_inputs: int, n_outputs: int, activation: str = "tanh", rng=None,
                 name: str = "layer"):
        self.neurons = [ValueNeuron(n_inputs, activation, rng, f"{name}.{j}") for j in range(n_outputs)]

    def __call__(self, x):
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self):
        return [p for n in self.neurons for p in n.parameters()]


class ValueMLP:
    """An MLP built from scalar Values (tanh hidden layers, linear or sigmoid output).

    Args:
        n_inputs: input size. sizes: layer sizes, the last one is the output.
        output_activation: ``'sigmoid'`` or ``'linear'``.
        seed: seed of the weight initialisation.
    """

    def __init__(self, n_inputs: int, sizes, activation: str = "tanh",
                 output_activation: str = "sigmoid", seed: int = 0):
        rng = random.Random(seed)
        dims = [n_inputs] + list(sizes)
        self.layers = [ValueLayer(dims[i], dims[i + 1],
                                  activation if i < len(sizes) - 1 else output_activation, rng,
                                  name=f"l{i}") for i in range(len(sizes))]

    def __call__(self, x):
        x = [xi if isinstance(xi, Value) else Value(float(xi)) for xi in x]
        for layer in self.layers:
            x = layer(x)
            if isinstance(x, Value):
                x = [x]
        return x[0] if len(x) == 1 else x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]

    def zero_grad(self):
        for p in self.parameters():
            p.grad = 0.0


def train_xor_value(hidden: int = 4, epochs: int = 500, lr: float = 1.0, seed: int = 0):
    """Train a 2-hidden-1 :class:`ValueMLP` on XOR: MSE loss, full-batch gradient descent.

    Returns:
        ``(model, losses, last_loss_value)``: the last loss is a Value whose graph can be drawn.
    """
    X, y = xor_gate()
    model = ValueMLP(2, [hidden, 1], seed=seed)
    losses, loss = [], None
    for _ in range(epochs):
        preds = [model(row) for row in X.tolist()]
        loss = sum(((p - float(t)) ** 2 for p, t in zip(preds, y.tolist())), Value(0.0)) * (1.0 / len(X))
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= lr * p.grad
        losses.append(loss.data)
    return model, losses, loss


def value_predict(model: ValueMLP, X) -> np.ndarray:
    """Outputs of a :class:`ValueMLP` on rows of ``X`` as a float array."""
    return np.array([model(row).data for row in np.asarray(X).tolist()])
