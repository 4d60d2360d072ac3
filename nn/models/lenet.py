"""The course's LeNet for 28x28 grey images (MNIST / Fashion-MNIST).

Conv(1->20, 5x5) -> ReLU -> MaxPool(2) -> Conv(20->50, 5x5) -> ReLU -> MaxPool(2)
-> Flatten (50*4*4 = 800) -> Linear(800->500) -> ReLU -> Linear(500->classes).
"""

from __future__ import annotations

import nn

__all__ = ["LeNet"]


class LeNet(nn.Module):
    """LeNet as in the course's PyTorch example.

    Args:
        in_channels: image channels (1 for MNIST-style sets).
        num_classes: number of output logits.

    Shape:
        input ``(N, in_channels, 28, 28)`` (``(N, 28, 28)`` and ``(N, 784)`` are reshaped);
        output ``(N, num_classes)``.
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10):
        super().__init__()
        self.in_channels = in_channels
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 20, kernel_size=5), nn.ReLU(), nn.MaxPool2d(2, 2),
            nn.Conv2d(20, 50, kernel_size=5), nn.ReLU(), nn.MaxPool2d(2, 2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(50 * 4 * 4, 500), nn.ReLU(), nn.Linear(500, num_classes),
        )

    def forward(self, x):
        if x.ndim == 2 and x.shape[1] == 28 * 28 * self.in_channels:
            x = x.reshape(x.shape[0], self.in_channels, 28, 28)
        elif x.ndim == 3 and self.in_channels == 1:
            x = x.reshape(x.shape[0], 1, x.shape[1], x.shape[2])
        if x.ndim != 4 or x.shape[1] != self.in_channels or tuple(x.shape[2:]) != (28, 28):
            raise ValueError(f"LeNet: expected input of shape (N, {self.in_channels}, 28, 28), "
                             f"got {tuple(x.shape)}")
        return self.classifier(self.features(x))
