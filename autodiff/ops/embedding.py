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
        ctx.idx, ctx.padding_idx, ctx.num = idx, padding_idx, weight.shape[0]
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
