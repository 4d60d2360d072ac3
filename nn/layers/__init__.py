"""Layers: dense, dropout, embedding, normalisation and activations (conv/pool/recurrent by teammates)."""
from .activation import (ELU, ArcTan, LeakyReLU, LogSoftmax, PReLU, ReLU, Sigmoid, Softmax, Softplus,
                         Step, Tanh)
from .dropout import Dropout
from .embedding import Embedding
from .linear import Flatten, Identity, Linear
from .norm import BatchNorm1d, BatchNorm2d, LayerNorm
