"""scatter_reduce with a product or an extreme: values reduced into a copy of the input at an index key.

``key`` (from ``dims.dim_key``) names, for every element of ``src``, the element of the output it goes
to. Sums and means are compositions of ``ScatterAdd`` (indexing's adjoint); this op covers the
reductions whose gradient depends on the values: ``prod``, ``amax`` and ``amin``.
"""
import numpy as np

from ..function import Function

__all__ = ["ScatterReduce"]

_UFUNC = {"prod": np.multiply, "amax": np.maximum, "amin": np.minimum}
_START = {"prod": 1, "amax": -np.inf, "amin": np.inf}


class ScatterReduce(Function):
    """out[key[j]] = reduce(self[key[j]] (when include_self), src[j] for all j at that place).

    Gradients as PyTorch's: ``prod`` gives each factor the product of the others (exact with zeros);
    ``amax``/``amin`` share the gradient evenly among the elements equal to the result. Places that no
    ``src`` element reaches keep ``self`` and pass its gradient through.
    """

    name = "scatter_reduce"
    once_differentiable = True

    @staticmethod
    def forward(ctx, a, src, key, reduce, include_self):
        ufunc = _UFUNC[reduce]
        hit = np.zeros(a.shape, bool)
        hit[key] = True
        start = np.asarray(_START[reduce], dtype=a.dtype) if a.dtype.kind == "f" else (
            np.iinfo(a.dtype).min if reduce == "amax" else np.iinfo(a.dtype).max if reduce == "amin" else 1)
        out = a.copy() if include_self else np.where(hit, start, a).astype(a.dtype)
        ufunc.at(out, key, src)
        ctx.save_for_backward(a.copy(), src, out)  # a copy: scatter_reduce_ overwrites the input
        ctx.key, ctx.reduce, ctx.include_self, ctx.hit = key, reduce, include_self, hit
        return out

    @staticmethod
    def backward(ctx, g):
        a, src, out = ctx.saved_tensors
        key, hit, inc = ctx.key, ctx.hit, ctx.include_self
        self_in = ~hit | inc  # places where self's value is one of the reduced values
        if ctx.reduce == "prod":
            # per output place: the number of zero factors and the product of the non-zero ones
            zeros = np.where(self_in & (a == 0), 1, 0)
            np.add.at(zeros, key, (src == 0).astype(int))
            nonzero = np.where(self_in & (a != 0), a, 1).astype(a.dtype)
            nonzero[~hit] = 1
            np.multiply.at(nonzero, key, np.where(src != 0, src, 1).astype(src.dtype))
            nonzero = np.where(hit, nonzero, 1)

            def others(values, z, p, o):  # the product of the other factors at each place
                return np.where(values != 0, np.where(z == 0, o / np.where(values != 0, values, 1), 0),
                                np.where(z == 1, p, 0))
            ga = np.where(hit, others(a, zeros, nonzero, out), 1) * g
            ga = np.where(self_in, ga, 0)
            gsrc = others(src, zeros[key], nonzero[key], out[key]) * g[key]
        else:
            # torch counts self among the ties even when include_self=False (its gradient there is 0
            # all the same), so a src element tied with an excluded self gets half: followed here
            ties = np.where(a == out, 1, 0)
            np.add.at(ties, key, (src == out[key]).astype(int))
            share = g / np.maximum(ties, 1)
            ga = np.where(self_in & (a == out), share, 0)
            gsrc = np.where(src == out[key], share[key], 0)
        return ga.astype(a.dtype), gsrc.astype(src.dtype), None, None, None
