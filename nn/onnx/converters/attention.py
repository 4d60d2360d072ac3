"""Scaled dot-product attention as primitive ops: softmax(q k^T * scale + mask) v."""
import numpy as np

from ..convert import converts_named

try:
    from autodiff.ops import attention as At
except ImportError:  # pragma: no cover - engine without attention
    At = None


def _keep_mask(c, q, k):
    """The boolean ``keep`` mask as a graph value: an input's data, a causal mask, or a constant."""
    g = c.g
    keep = c.kwargs.get("keep")
    if keep is None:
        return None
    if id(keep) in c.ex.data_owner:
        return c.ex.value_name(c.ex.data_owner[id(keep)], c, None)
    key = (c.index, "keep")
    size_dependent = key in c.ex.varying_kwargs and "dynamic axis" in c.ex.varying_kwargs[key]
    if keep.ndim == 2 and np.array_equal(keep, np.tril(np.ones(keep.shape, bool))):
        if not size_dependent:
            return g.const(keep, hint="causal_mask")
        # the causal mask of (L, S) at run time: ones, lower triangle kept
        shape = g.op("Concat", g.op("Shape", q, start=-2, end=-1), g.op("Shape", k, start=-2, end=-1), axis=0)
        ones = g.op("ConstantOfShape", shape, value=np.ones(1, np.int64))
        return g.cast(g.op("Trilu", ones, upper=0), np.bool_)
    return g.const(np.asarray(c.kwarg("keep"), bool), hint="attention_mask")


if At is not None:
    @converts_named(At, "ScaledDotProductAttention")
    def _attention(c):
        g, dtype = c.g, c.out_dtype()
        if float(c.kwargs.get("dropout_p", 0.0)) > 0:
            c.fail("attention dropout is random; export the model in eval mode (dropout_p=0)")
        q, k, v = c.x(0, dtype), c.x(1, dtype), c.x(2, dtype)
        rank = c.rank(1)
        perm = list(range(rank - 2)) + [rank - 1, rank - 2]
        scores = g.op("Mul", g.op("MatMul", q, g.op("Transpose", k, perm=perm)),
                      g.scalar(float(c.kwargs.get("scale", 1.0)), dtype))
        if len(c.args) > 3 and c.args[3] is not None:
            scores = g.op("Add", scores, c.x(3, dtype))
        keep = _keep_mask(c, q, k)
        if keep is not None:
            scores = g.op("Where", keep, scores, g.scalar(-np.inf, dtype))
        return g.op("MatMul", g.op("Softmax", scores, axis=-1), v)


if At is not None and getattr(At, "SplitHeads", None) is not None:
    @converts_named(At, "SplitHeads")
    def _split_heads(c):
        """(N, L, parts heads d) -> parts x (N, heads, L, d): Reshape (N and L copied), Transpose, Split."""
        g = c.g
        parts, heads = int(c.kwargs.get("parts", 1)), int(c.kwargs.get("heads", 1))
        width = int(c.shape(0)[2])
        y = g.op("Reshape", c.x(0), g.ints([0, 0, parts, heads, width // (parts * heads)]))
        y = g.op("Transpose", y, perm=[2, 0, 3, 1, 4])
        pieces = tuple(g.squeeze(p, [0]) for p in g.split(y, parts, 0))
        return pieces if parts > 1 else pieces[0]
