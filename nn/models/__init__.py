"""The course's classic models.

``from nn.models import LeNet`` works; each name is imported from its module on first
use, so the numpy-only models (perceptron, Adaline, word2vec) do not pull in the rest.
"""

import importlib

_WHERE = {
    "Perceptron": "perceptron",
    "Adaline": "adaline",
    "MLP": "mlp", "train_xor": "mlp", "ValueMLP": "mlp", "train_xor_value": "mlp",
    "Autoencoder": "autoencoder", "train_838": "autoencoder",
    "LeNet": "lenet",
    "Word2Vec": "word2vec", "keep_probability": "word2vec",
    "CharRNN": "char_rnn", "train_char_rnn": "char_rnn", "sample": "char_rnn",
}
__all__ = sorted(_WHERE)


def __getattr__(name):
    if name in _WHERE:
        return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_WHERE))
