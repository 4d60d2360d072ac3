"""Scaled dot-product attention as ONE graph node with a hand-written backward.

softmax(q k^T * scale + bias) v, where the bias holds the float mask, and -inf where a boolean mask or
the causal mask excludes a key. The backward of the softmax is the usual
dS = P * (dP - sum(dP * P, last axis)).
"""
import numpy as np

from ..function import Function
from ..kernels.attention import softmax_backward_
from .array_or_tensor import _is_tensor, unbroadcast, where

__all__ = ["ScaledDotProductAttention", "SplitHeads", "causal_mask", "scaled_dot_product_attention", "split_heads"]

_CAUSAL = {}
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def causal_mask(L, S):
    """Boolean (L, S) mask, True on and below the diagonal (top-left aligned, as PyTorch's is_causal)."""
    key = (L, S)
    mask = _CAUSAL.get(key)
    if mask is None:
        mask = np.tril(np.ones((L, S), dtype=bool))
        mask.setflags(write=False)
        if len(_CAUSAL) < 64:
            _CAUSAL[key] = mask
    return mask


def _t(x):
    """Swap the last two axes (arrays and Tensors alike)."""
    return x.swapaxes(-1, -2)


def _scores(q, k, scale, float_mask, keep):
    """q k^T * scale (+ float_mask), -inf where ``keep`` is False; arrays or Tensors."""
    s = (q @ _t(k)) * scale
    if float_mask is not None:
        s = s + float_mask
    if keep is not None:
        s = where(keep, s, -np.inf) if _is_tensor(s) else np.where(keep, s, s.dtype.type(-np.inf))
    return s


def _softmax_numpy(s, scale, float_mask, keep, dtype):
    """softmax(s * scale + float_mask), -inf where ``keep`` is False, in place where shapes allow.

    numpy's vectorised exp makes these six passes faster than a one-pass Numba loop with a scalar
    exp (3.6 against 1.8 ms on a GPT block's 32 x 4 x 64 x 64 scores); the backward is a loop
    (``kernels/attention.py``)."""
    s *= scale
    if float_mask is not None:
        if np.broadcast_shapes(s.shape, float_mask.shape) == s.shape:
            s += float_mask
        else:
            s = s + float_mask.astype(dtype, copy=False)
    if keep is not None:
        if np.broadcast_shapes(s.shape, keep.shape) == s.shape:
            np.copyto(s, dtype.type(-np.inf), where=~keep)
        else:
            s = np.where(keep, s, dtype.type(-np.inf))
    # stable softmax, in place: subtract the row maximum before exp
    p = s
    p -= p.max(axis=-1, keepdims=True)
    np.exp(p, out=p)
    p /= p.sum(axis=-1, keepdims=True)
    return p


class ScaledDotProductAttention(Function):
    """out = P' v with P = softmax(q k^T * scale + mask), P' = P with dropout applied.

    Backward: dv = P'^T g, dP = (g v^T) * dropout mask, dS = P * (dP - sum(dP * P, -1)),
    dq = dS k * scale, dk = dS^T q * scale, d(float mask) = dS (each summed over broadcast dims).
    Under ``create_graph=True`` the backward recomputes P from the (recorded) q, k and mask with
    Tensor ops, so second derivatives are exact.

    Shape:
        q (..., L, E), k (..., S, E), v (..., S, Ev), float_mask broadcastable to (..., L, S)
        -> (..., L, Ev). ``keep``: boolean, broadcastable to (..., L, S), True = takes part.
    """

    name = "scaled_dot_product_attention"

    @staticmethod
    def forward(ctx, q, k, v, float_mask=None, scale=1.0, keep=None, dropout_p=0.0):
        dtype = np.result_type(q, k, v)
        scale = dtype.type(scale)
        s = np.matmul(q, _t(k))
        p = _softmax_numpy(s, scale, float_mask, keep, dtype)
        drop = None
        if dropout_p > 0.0:
            from ..creation import default_generator
            if dropout_p >= 1.0:
                drop = np.zeros(p.shape, dtype)
            else:
                kept = default_generator().random(p.shape, dtype=np.float32) >= dropout_p
                drop = kept.astype(dtype) * dtype.type(1.0 / (1.0 - dropout_p))
            pd = p * drop
        else:
            pd = p
        out = np.matmul(pd, v)
        ctx.scale, ctx.keep, ctx.drop = scale, keep, drop
        ctx.save_for_backward(q, k, v, float_mask, p)
        return out

    @staticmethod
    def backward(ctx, g):
        q, k, v, float_mask, p = ctx.saved_tensors
        need_q, need_k, need_v, need_m = ctx.needs_input_grad
        scale, drop = ctx.scale, ctx.drop
        if _is_tensor(g):  # create_graph: P as a recorded function of q, k and the mask
            s = _scores(q, k, scale, float_mask, ctx.keep)
            p = s.softmax(axis=-1)
        pd = p if drop is None else p * drop
        gq = gk = gv = gm = None
        if need_v:
            gv = unbroadcast(_t(pd) @ g, v.shape)
        if need_q or need_k or need_m:
            gp = g @ _t(v)
            scaled = False
            if isinstance(gp, np.ndarray) and drop is None and not need_m and gp.flags.c_contiguous \
                    and p.flags.c_contiguous and gp.dtype == p.dtype and gp.dtype in _FLOATS:
                gs = softmax_backward_(gp, p, scale)  # scale * p * (gp - sum(gp * p)): one pass per row
                scaled = True
            elif isinstance(gp, np.ndarray):  # arrays: the same formula in place
                if drop is not None:
                    gp *= drop
                gp -= (gp * p).sum(axis=-1, keepdims=True)
                gp *= p
                gs = gp
            else:
                if drop is not None:
                    gp = gp * drop
                gs = p * (gp - (gp * p).sum(axis=-1, keepdims=True))
            if need_m:
                gm = unbroadcast(gs, float_mask.shape)
            if not scaled:
                gs = gs * scale
            if need_q:
                gq = unbroadcast(gs @ k, q.shape)
            if need_k:
                gk = unbroadcast(_t(gs) @ q, k.shape)
        return gq, gk, gv, gm


class SplitHeads(Function):
    """(N, L, parts * heads * d) -> ``parts`` arrays (N, heads, L, d), each contiguous: packed projections
    (q, k, v side by side) cut into heads. Backward: the heads' gradients put back side by side.

    Shape:
        x (N, L, parts * heads * d) -> ``parts`` x (N, heads, L, d) (one array when parts == 1).
    """

    name = "split_heads"

    @staticmethod
    def forward(ctx, x, parts=1, heads=1):
        n, l, width = x.shape
        if width % (parts * heads):
            raise ValueError(f"split_heads: last dim {width} of shape {x.shape} is not divisible by "
                             f"parts * heads = {parts} * {heads}")
        ctx.shape, ctx.parts = x.shape, parts
        y = x.reshape(n, l, parts, heads, width // (parts * heads)).transpose(2, 0, 3, 1, 4)
        outs = tuple(np.ascontiguousarray(y[i]) for i in range(parts))
        return outs if parts > 1 else outs[0]

    @staticmethod
    def backward(ctx, *grads):
        n, l, width = ctx.shape
        if any(_is_tensor(g) for g in grads):  # create_graph: the inverse with recorded ops
            from .shape import Stack
            return Stack.apply(0, *grads).permute(1, 3, 0, 2, 4).reshape(n, l, width)
        g0 = grads[0]
        out = np.empty((n, l, ctx.parts) + (g0.shape[1], g0.shape[3]), np.result_type(*grads))
        for i, g in enumerate(grads):
            out[:, :, i] = g.transpose(0, 2, 1, 3)
        return out.reshape(n, l, width)


def split_heads(x, parts=1, heads=1):
    """Cut (N, L, parts * heads * d) into ``parts`` Tensors (N, heads, L, d) (a tuple when parts > 1)."""
    return SplitHeads.apply(x, parts=parts, heads=heads)


def _shape(x):
    return tuple(x.shape)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False,
                                 scale=None, enable_gqa=False):
    """softmax(query key^T * scale + mask) value, PyTorch's ``F.scaled_dot_product_attention``.

    Args:
        query: (..., L, E). key: (..., S, E). value: (..., S, Ev). Leading dims broadcast.
        attn_mask: boolean (True = the key takes part) or float (added to the scores), broadcastable
            to (..., L, S). A float mask that requires grad gets a gradient.
        dropout_p: dropout probability on the attention weights (applied whenever > 0, as PyTorch).
        is_causal: mask keys after the query position (top-left aligned when L != S); excludes
            ``attn_mask``.
        scale: score scale, default 1 / sqrt(E).
        enable_gqa: let key/value have fewer heads (dim -3) than query; each key head serves
            ``Hq / Hk`` consecutive query heads.

    Returns:
        Tensor (..., L, Ev).
    """
    from ..tensor import Tensor
    q, k, v = (x if isinstance(x, Tensor) else Tensor(x) for x in (query, key, value))
    name = "scaled_dot_product_attention"
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2:
        raise ValueError(f"{name}: query, key and value need at least 2 dims (..., L, E), got shapes "
                         f"{_shape(q)}, {_shape(k)}, {_shape(v)}")
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ValueError(f"{name}: query {_shape(q)}, key {_shape(k)} and value {_shape(v)} do not fit: "
                         "query and key need the same last dim E, key and value the same length S")
    if enable_gqa and q.ndim >= 3 and k.ndim >= 3 and k.shape[-3] != q.shape[-3]:
        hq, hk = q.shape[-3], k.shape[-3]
        if v.ndim < 3 or v.shape[-3] != hk or hq % hk:
            raise ValueError(f"{name}: with enable_gqa the query heads ({hq}) must be a multiple of the "
                             f"key/value heads (key {_shape(k)}, value {_shape(v)})")
        idx = np.repeat(np.arange(hk), hq // hk)
        k, v = k[..., idx, :, :], v[..., idx, :, :]
    try:
        batch = np.broadcast_shapes(_shape(q)[:-2], _shape(k)[:-2], _shape(v)[:-2])
    except ValueError:
        raise ValueError(f"{name}: the leading dims of query {_shape(q)}, key {_shape(k)} and value "
                         f"{_shape(v)} do not broadcast") from None
    L, S = q.shape[-2], k.shape[-2]
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"{name}: dropout_p must be in [0, 1], got {dropout_p}")
    keep = float_mask = None
    if attn_mask is not None:
        if is_causal:
            raise ValueError(f"{name}: pass either attn_mask or is_causal=True, not both")
        m = attn_mask.data if isinstance(attn_mask, Tensor) else np.asarray(attn_mask)
        try:
            np.broadcast_shapes(m.shape, batch + (L, S))
        except ValueError:
            raise ValueError(f"{name}: attn_mask of shape {m.shape} does not broadcast to the attention "
                             f"scores' shape {batch + (L, S)} (query {_shape(q)}, key {_shape(k)})") from None
        if m.dtype == np.bool_:
            keep = m
        elif m.dtype.kind == "f":
            float_mask = attn_mask if isinstance(attn_mask, Tensor) else Tensor(m)
        else:
            raise TypeError(f"{name}: attn_mask must be bool or float, got dtype {m.dtype}")
    elif is_causal:
        keep = causal_mask(L, S)
    if scale is None:
        scale = 1.0 / np.sqrt(q.shape[-1]) if q.shape[-1] else 1.0
    return ScaledDotProductAttention.apply(q, k, v, float_mask, scale=float(scale), keep=keep,
                                           dropout_p=float(dropout_p))
