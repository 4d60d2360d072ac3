"""Multi-head attention (PyTorch's ``nn.MultiheadAttention``: same parameters, masks and outputs)."""
import numpy as np

import autodiff
from autodiff import Tensor

from .. import functional as F
from .. import init
from ..module import Module, Parameter
from .linear import Linear

__all__ = ["MultiheadAttention"]

_NAME = "MultiheadAttention"


def _shape(x):
    return tuple(x.shape)


def _additive(mask, what, dtype):
    """A mask as an additive float array or Tensor: bool True -> -inf (masked out), float as given."""
    data = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
    if data.dtype == np.bool_:
        return np.where(data, dtype.type(-np.inf), dtype.type(0))
    if data.dtype.kind != "f":
        raise TypeError(f"{_NAME}: only bool and floating types of {what} are supported, got {data.dtype}")
    return mask if isinstance(mask, Tensor) and mask.requires_grad else data.astype(dtype, copy=False)


def _linear(x, weight, bias):
    """F.linear on the rows of ``x`` (N, L, in) as one 2-d product, reshaped back to (N, L, out)."""
    n, l, d = _shape(x)
    return F.linear(x.reshape(n * l, d), weight, bias).reshape(n, l, -1)


def _pad_last(mask):
    """Append one column of zeros (a key that takes part) to a float mask."""
    if isinstance(mask, Tensor):
        zeros = Tensor(np.zeros(_shape(mask)[:-1] + (1,), mask.dtype))
        return autodiff.cat([mask, zeros], axis=-1)
    return np.concatenate([mask, np.zeros(mask.shape[:-1] + (1,), mask.dtype)], axis=-1)


class MultiheadAttention(Module):
    """Attention over ``num_heads`` heads of size ``embed_dim // num_heads``, as in PyTorch.

    Args:
        embed_dim: model dimension E (query features and output features).
        num_heads: number of heads H; E must be divisible by H.
        dropout: dropout on the attention weights (training only).
        bias: add biases to the input and output projections.
        add_bias_kv: learn one extra key and value (``bias_k``, ``bias_v``) appended to the sequence.
        add_zero_attn: append a zero key and value to the sequence.
        kdim, vdim: key / value features (default E); when either differs from E the projections are
            ``q_proj_weight``, ``k_proj_weight``, ``v_proj_weight`` instead of ``in_proj_weight``.
        batch_first: inputs and outputs are (N, L, E) instead of (L, N, E).
        dtype: parameter dtype (float32 by default). ``device`` is accepted and ignored.

    Attributes:
        in_proj_weight (3E, E) and in_proj_bias (3E,), xavier-uniform and zeros; or q/k/v_proj_weight
        (E, E), (E, kdim), (E, vdim); out_proj: Linear(E, E) with zero bias; bias_k, bias_v (1, 1, E).

    Shape:
        query (L, N, E), key (S, N, kdim), value (S, N, vdim) (batch_first: N first; unbatched: no N)
        -> output like query, weights (N, L, S) averaged over heads or (N, H, L, S).
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False,
                 kdim=None, vdim=None, batch_first=False, device=None, dtype=None):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"{_NAME}: embed_dim and num_heads must be greater than 0, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads}")
        if embed_dim % num_heads:
            raise ValueError(f"{_NAME}: embed_dim={embed_dim} must be divisible by num_heads={num_heads}")
        dtype = np.dtype(dtype or np.float32)
        self.embed_dim = int(embed_dim)
        self.kdim = int(kdim) if kdim is not None else self.embed_dim
        self.vdim = int(vdim) if vdim is not None else self.embed_dim
        self._qkv_same_embed_dim = self.kdim == self.embed_dim and self.vdim == self.embed_dim
        self.num_heads = int(num_heads)
        self.dropout = float(dropout)
        self.batch_first = batch_first
        self.head_dim = self.embed_dim // self.num_heads
        E = self.embed_dim
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(np.empty((3 * E, E), dtype))
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = Parameter(np.empty((E, E), dtype))
            self.k_proj_weight = Parameter(np.empty((E, self.kdim), dtype))
            self.v_proj_weight = Parameter(np.empty((E, self.vdim), dtype))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(np.empty(3 * E, dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(E, E, bias=bias, dtype=dtype)
        if add_bias_kv:
            self.bias_k = Parameter(np.empty((1, 1, E), dtype))
            self.bias_v = Parameter(np.empty((1, 1, E), dtype))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self):
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def extra_repr(self):
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, batch_first={self.batch_first}"

    # --- forward ---------------------------------------------------------------------------------
    def _project(self, query, key, value):
        """q, k, v = the input projections of (N, L, E), (N, S, kdim), (N, S, vdim)."""
        E = self.embed_dim
        b = self.in_proj_bias
        bq, bk, bv = (None, None, None) if b is None else (b[:E], b[E:2 * E], b[2 * E:])
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            if query is key and key is value:  # self-attention: one product for all three
                return _linear(query, w, b).split(E, axis=-1)
            q = _linear(query, w[:E], bq)
            if key is value:
                k, v = _linear(key, w[E:], None if b is None else b[E:]).split(E, axis=-1)
                return q, k, v
            return q, _linear(key, w[E:2 * E], bk), _linear(value, w[2 * E:], bv)
        return (_linear(query, self.q_proj_weight, bq), _linear(key, self.k_proj_weight, bk),
                _linear(value, self.v_proj_weight, bv))

    def _project_heads(self, query, key, value):
        """q, k, v as (N, H, L, hd) / (N, H, S, hd): packed projections cut into heads by one node."""
        H, E = self.num_heads, self.embed_dim
        w, b = self.in_proj_weight, self.in_proj_bias
        if query is key and key is value:
            return F.split_heads(_linear(query, w, b), parts=3, heads=H)
        q = F.split_heads(_linear(query, w[:E], None if b is None else b[:E]), heads=H)
        if key is value:
            k, v = F.split_heads(_linear(key, w[E:], None if b is None else b[E:]), parts=2, heads=H)
        else:
            k = F.split_heads(_linear(key, w[E:2 * E], None if b is None else b[E:2 * E]), heads=H)
            v = F.split_heads(_linear(value, w[2 * E:], None if b is None else b[2 * E:]), heads=H)
        return q, k, v

    def _project_padded(self, query, key, value, N, L):
        """q, k, v in heads, with ``bias_k``/``bias_v`` and a zero key/value appended when asked."""
        H, hd, E = self.num_heads, self.head_dim, self.embed_dim
        q, k, v = self._project(query, key, value)
        if self.bias_k is not None:
            k = autodiff.cat([k, self.bias_k.expand(N, 1, E)], axis=1)
            v = autodiff.cat([v, self.bias_v.expand(N, 1, E)], axis=1)
        q = q.reshape(N, L, H, hd).permute(0, 2, 1, 3)
        k = k.reshape(N, -1, H, hd).permute(0, 2, 1, 3)
        v = v.reshape(N, -1, H, hd).permute(0, 2, 1, 3)
        if self.add_zero_attn:
            zeros = Tensor(np.zeros((N, H, 1, hd), k.dtype))
            k, v = autodiff.cat([k, zeros], axis=2), autodiff.cat([v, zeros], axis=2)
        return q, k, v

    def _check(self, query, key, value, key_padding_mask, attn_mask):
        """Validate shapes; returns whether the input is batched."""
        qs, ks, vs = _shape(query), _shape(key), _shape(value)
        batched = query.ndim == 3
        n_axis = 0 if self.batch_first else 1
        if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
            raise ValueError(f"{_NAME}: query, key and value must all be 3-d (batched) or all 2-d "
                             f"(unbatched), got shapes {qs}, {ks}, {vs}")
        if qs[-1] != self.embed_dim:
            raise ValueError(f"{_NAME}: query of shape {qs} has {qs[-1]} features, expected "
                             f"embed_dim={self.embed_dim}")
        if ks[-1] != self.kdim or vs[-1] != self.vdim:
            raise ValueError(f"{_NAME}: key of shape {ks} and value of shape {vs} must have kdim={self.kdim} "
                             f"and vdim={self.vdim} features")
        if ks[:-1] != vs[:-1]:
            raise ValueError(f"{_NAME}: key shape {ks} does not match value shape {vs}")
        if batched:
            if qs[n_axis] != ks[n_axis]:
                raise ValueError(f"{_NAME}: query {qs} and key {ks} have different batch sizes "
                                 f"(batch_first={self.batch_first})")
        if key_padding_mask is not None:
            want = (ks[n_axis], ks[1 - n_axis]) if batched else (ks[0],)
            if tuple(np.shape(key_padding_mask)) != want:
                raise ValueError(f"{_NAME}: expected key_padding_mask of shape {want}, got "
                                 f"{tuple(np.shape(key_padding_mask))} (key {ks})")
        if attn_mask is not None:
            L = qs[-2] if not batched else qs[1 - n_axis]
            S = ks[-2] if not batched else ks[1 - n_axis]
            n = ks[n_axis] if batched else 1
            ms = tuple(np.shape(attn_mask))
            if ms not in ((L, S), (n * self.num_heads, L, S)):
                raise ValueError(f"{_NAME}: attn_mask of shape {ms} does not fit query {qs} and key {ks}: "
                                 f"expected {(L, S)} or {(n * self.num_heads, L, S)}")
        return batched

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        """Attend from ``query`` to ``key``/``value``.

        Args:
            query, key, value: see the class's Shape.
            key_padding_mask: (N, S) (unbatched: (S,)); bool True = this key is ignored, float added.
            need_weights: also return the attention weights.
            attn_mask: (L, S) or (N * H, L, S); bool True = not allowed to attend, float added.
            average_attn_weights: average the returned weights over heads.
            is_causal: hint that ``attn_mask`` is the causal mask (it must still be given).

        Returns:
            ``(output, weights)``; ``weights`` is None unless ``need_weights``.
        """
        query, key, value = (x if isinstance(x, Tensor) else Tensor(x) for x in (query, key, value))
        batched = self._check(query, key, value, key_padding_mask, attn_mask)
        if is_causal and attn_mask is None:
            raise ValueError(f"{_NAME}: is_causal=True needs attn_mask too (for example "
                             "Transformer.generate_square_subsequent_mask(L))")
        # internal layout: batch first (N, L, E)
        if not batched or not self.batch_first:
            same_qk, same_kv = query is key, key is value
            to_batch_first = (lambda x: x.unsqueeze(0)) if not batched else (lambda x: x.swapaxes(0, 1))
            query = to_batch_first(query)
            key = query if same_qk else to_batch_first(key)
            value = key if same_kv else to_batch_first(value)
        if not batched and key_padding_mask is not None:
            key_padding_mask = np.asarray(getattr(key_padding_mask, "data", key_padding_mask))[None]
        dtype = np.dtype(self.out_proj.weight.dtype)
        N, L, _ = _shape(query)
        H, hd, E = self.num_heads, self.head_dim, self.embed_dim
        use_causal = is_causal and key_padding_mask is None and not need_weights
        mask = None if use_causal or attn_mask is None else _additive(attn_mask, "attn_mask", dtype)
        if mask is not None and mask.ndim == 3:
            mask = mask.reshape(N, H, L, mask.shape[-1])
        kpm = None if key_padding_mask is None else _additive(key_padding_mask, "key_padding_mask", dtype)
        if self.bias_k is None and not self.add_zero_attn and self._qkv_same_embed_dim:
            q, k, v = self._project_heads(query, key, value)
        else:
            q, k, v = self._project_padded(query, key, value, N, L)
            for appended in (self.bias_k is not None, self.add_zero_attn):  # one mask column per extra key
                if appended:
                    mask = None if mask is None else _pad_last(mask)
                    kpm = None if kpm is None else _pad_last(kpm)
        if kpm is not None:
            kpm = kpm.reshape(N, 1, 1, -1)
            mask = kpm if mask is None else mask + kpm
        p = self.dropout if self.training else 0.0
        weights = None
        if need_weights:
            scores = (q * float(1.0 / np.sqrt(hd))) @ k.swapaxes(-1, -2)
            if mask is not None:
                scores = scores + mask
            attn = F.softmax(scores, dim=-1)
            if p > 0.0:
                attn = F.dropout(attn, p=p)
            out = attn @ v
            weights = attn.mean(axis=1) if average_attn_weights else attn
            if not batched:
                weights = weights.squeeze(0)
        else:
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p, is_causal=use_causal)
        out = self.out_proj(out.permute(0, 2, 1, 3).reshape(N * L, E)).reshape(N, L, E)
        if not batched:
            out = out.squeeze(0)
        elif not self.batch_first:
            out = out.swapaxes(0, 1)
        return out, weights
