"""Embedding: a lookup table of learnable vectors."""
import numpy as np

from .. import functional as F
from .. import init
from ..module import Module, Parameter


class Embedding(Module):
    """Map integer indices to rows of a learnable matrix.

    Args:
        num_embeddings: size of the vocabulary.
        embedding_dim: size of each vector.
        padding_idx: a row that stays zero and receives no gradient.

    Attributes:
        weight: (num_embeddings, embedding_dim), initialised N(0, 1) (PyTorch's default), with the
            padding row zeroed.

    Shape:
        input (*) integers -> output (*, embedding_dim).
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, dtype=None):
        super().__init__()
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx {padding_idx} must be within num_embeddings "
                                 f"({num_embeddings})")
            padding_idx %= num_embeddings
        self.padding_idx = padding_idx
        self.weight = Parameter(np.empty((self.num_embeddings, self.embedding_dim), dtype or np.float32))
        self.reset_parameters()

    def reset_parameters(self):
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None):
        """An Embedding holding ``embeddings`` (2-D); frozen unless ``freeze=False``."""
        arr = np.asarray(getattr(embeddings, "data", embeddings))
        if arr.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-D, got shape {arr.shape}")
        emb = cls(arr.shape[0], arr.shape[1], padding_idx=padding_idx, dtype=arr.dtype)
        emb.weight.data[...] = arr
        emb.weight.requires_grad = not freeze
        return emb

    def forward(self, input):
        return F.embedding(input, self.weight, self.padding_idx)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        return s + (f", padding_idx={self.padding_idx}" if self.padding_idx is not None else "")
