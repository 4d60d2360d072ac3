"""Embedding lookup: rows of a weight matrix picked by integer indices."""
import numpy as np

from ..function import Function


class EmbeddingFunction(Function):
    """out = weight[idx]; dweight[k] = sum of g over positions where idx == k (0 at padding_idx).

    Shape:
        idx: (*) integers; weight: (num_embeddings, embedding_dim) -> (*, embedding_dim).
    """

    name = "embedding"
    once_differentiable = True

    @staticmethod
    def forward(ctx, weight, idx, padding_idx=None):
        n = weight.shape[0]
        if idx.size:
            low, high = idx.min(), idx.max()
            if low < 0 or high >= n:
                bad = int(low if low < 0 else high)
                raise IndexError(f"embedding: index {bad} is out of range for an embedding with {n} "
                                 f"rows (valid indices 0..{n - 1}; negative indices are not allowed)")
        ctx.idx, ctx.padding_idx, ctx.num = idx, padding_idx, n
        return weight[idx]

    @staticmethod
    def backward(ctx, g):
        dim = g.shape[-1]
        flat = ctx.idx.reshape(-1)
        gw = np.zeros((ctx.num, dim), g.dtype)
        np.add.at(gw, flat, g.reshape(-1, dim))
        if ctx.padding_idx is not None:
            gw[ctx.padding_idx] = 0
        return gw, None
