"""The 8-3-8 autoencoder from the course: eight one-hot patterns squeezed through three units.

Input and target are the same one-hot vector; the three sigmoid hidden units have
to find a code that tells the eight patterns apart, and after training they come
close to a 3-bit binary code (each unit near 0 or 1).
"""

from __future__ import annotations

import numpy as np

import autodiff as ad
import nn

__all__ = ["Autoencoder", "train_838"]


class Autoencoder(nn.Module):
    """``encoder: Linear(n, k) -> Sigmoid``, ``decoder: Linear(k, n)`` (logits).

    Args:
        n_inputs: input/output size (8 in the course). n_hidden: code size (3).

    Shape:
        input ``(N, n_inputs)``; output logits ``(N, n_inputs)``; :meth:`encode` gives ``(N, n_hidden)``.
    """

    def __init__(self, n_inputs: int = 8, n_hidden: int = 3):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(n_inputs, n_hidden), nn.Sigmoid())
        self.decoder = nn.Linear(n_hidden, n_inputs)

    def encode(self, x):
        return self.encoder(x)

    def forward(self, x):
        return self.decoder(self.encoder(x))


def train_838(n: int = 8, hidden: int = 3, epochs: int = 3000, lr: float = 0.05, seed: int = 0):
    """Train the n-hidden-n autoencoder on the n one-hot patterns.

    Softmax cross-entropy on the decoder's logits (the target is the pattern's index),
    full batch, Adam.

    Returns:
        ``(model, losses, codes)``: codes is the ``(n, hidden)`` array of hidden activations.
    """
    ad.manual_seed(seed)
    X = np.eye(n, dtype=np.float32)
    target = ad.tensor(np.arange(n))
    model = Autoencoder(n, hidden)
    optimizer = nn.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    xt = ad.tensor(X)
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(xt), target)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.item()))
    with ad.no_grad():
        codes = np.asarray(model.encode(xt).data)
    return model, losses, codes
