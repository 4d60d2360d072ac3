"""A small character-level GPT: a decoder-only Transformer built from ``nn.TransformerEncoderLayer``.

Token and learned position embeddings, ``n_layer`` pre-LayerNorm blocks of causal self-attention and
a GELU MLP (each with a residual connection), a final LayerNorm and a linear head (optionally sharing
the token embedding's weight). Trained with AdamW, a linear warm-up then cosine decay of the learning
rate, and gradient-norm clipping.
"""

from __future__ import annotations

import math
import time

import numpy as np

import autodiff as ad
import nn
from nn.data.text import char_vocab, encode_chars

__all__ = ["GPT", "unigram_entropy", "train_gpt", "generate", "attention_maps", "cosine_warmup",
           "split_codes", "estimate_loss", "get_batch"]


class GPT(nn.Module):
    """Decoder-only Transformer language model.

    Args:
        vocab_size: number of tokens. block_size: longest context (positions).
        n_layer, n_embd, n_head: blocks, width, heads. dropout: dropout in embeddings and blocks.
        tie_weights: the head uses the token embedding's weight.
        activation: the MLP's activation ('gelu', 'relu' or a module; default GELU, tanh form as GPT-2).

    Attributes:
        tok_emb (vocab_size, n_embd), pos_emb (block_size, n_embd), blocks: ModuleList of
        ``TransformerEncoderLayer(norm_first=True, batch_first=True)``, ln_f, head (no bias).

    Shape:
        input (N, T) integer tokens, T <= block_size -> logits (N, T, vocab_size).
    """

    def __init__(self, vocab_size, block_size=64, n_layer=4, n_embd=128, n_head=4, dropout=0.0,
                 tie_weights=False, activation=None):
        super().__init__()
        self.vocab_size, self.block_size = int(vocab_size), int(block_size)
        self.tok_emb = nn.Embedding(vocab_size, n_embd)
        self.pos_emb = nn.Embedding(block_size, n_embd)
        self.drop = nn.Dropout(dropout)
        act = nn.GELU(approximate="tanh") if activation is None else activation
        self.blocks = nn.ModuleList([
            nn.TransformerEncoderLayer(n_embd, n_head, dim_feedforward=4 * n_embd, dropout=dropout,
                                       activation=act, batch_first=True, norm_first=True)
            for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(n_embd)
        self.head = nn.Linear(n_embd, vocab_size, bias=False)
        self._init_weights(n_layer)
        if tie_weights:
            self.head.weight = self.tok_emb.weight

    def _init_weights(self, n_layer):
        """GPT-2's: N(0, 0.02) weights, zero biases, residual projections scaled by 1/sqrt(2 n_layer)."""
        for name, p in self.named_parameters():
            if name.endswith("bias"):
                nn.init.zeros_(p)
            elif "norm" in name or name.startswith("ln_f"):
                nn.init.ones_(p)
            else:
                std = 0.02 / math.sqrt(2 * n_layer) if name.endswith(("out_proj.weight", "linear2.weight")) \
                    else 0.02
                nn.init.normal_(p, 0.0, std)

    def forward(self, idx):
        idx = np.asarray(idx.data if isinstance(idx, ad.Tensor) else idx)
        if idx.ndim != 2:
            raise ValueError(f"GPT: expected (N, T) token indices, got shape {idx.shape}")
        T = idx.shape[1]
        if T > self.block_size:
            raise ValueError(f"GPT: sequence length {T} exceeds block_size={self.block_size}")
        x = self.drop(self.tok_emb(idx) + self.pos_emb(np.arange(T)))
        mask = nn.Transformer.generate_square_subsequent_mask(T, dtype=x.dtype)
        for block in self.blocks:
            x = block(x, src_mask=mask, is_causal=True)
        n, t, d = x.shape
        return self.head(self.ln_f(x).reshape(n * t, d)).reshape(n, t, -1)


def unigram_entropy(codes, vocab_size) -> float:
    """Entropy in nats of the character frequencies: the loss of a model that ignores the context."""
    counts = np.bincount(np.asarray(codes), minlength=vocab_size).astype(np.float64)
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum())


def split_codes(text, val_fraction=0.1):
    """Vocabulary and a contiguous train/validation split of the character codes."""
    chars, stoi = char_vocab(text)
    codes = encode_chars(text, stoi)
    n_val = max(int(len(codes) * val_fraction), 1)
    return chars, codes[:-n_val], codes[-n_val:]


def get_batch(codes, batch_size, block_size, rng):
    """Random windows: inputs (B, T) and next-character targets (B, T)."""
    if len(codes) <= block_size:
        raise ValueError(f"get_batch: {len(codes)} codes are too few for block_size={block_size}")
    start = rng.integers(0, len(codes) - block_size, batch_size)
    offsets = start[:, None] + np.arange(block_size + 1)
    windows = codes[offsets]
    return windows[:, :-1], windows[:, 1:]


def _loss(model, x, y):
    logits = model(x)
    if isinstance(logits, tuple):  # recurrent models return (logits, state)
        logits = logits[0]
    return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))


def estimate_loss(model, codes, block_size, n_windows=64, batch_size=32):
    """Mean cross-entropy (nats per character) on ``n_windows`` evenly spaced windows of ``codes``."""
    n_windows = max(1, min(n_windows, len(codes) - block_size - 1))
    starts = np.linspace(0, len(codes) - block_size - 1, n_windows).astype(np.int64)
    was_training = model.training
    model.eval()
    total = 0.0
    try:
        with ad.no_grad():
            for i in range(0, n_windows, batch_size):
                s = starts[i:i + batch_size]
                w = codes[s[:, None] + np.arange(block_size + 1)]
                total += float(_loss(model, w[:, :-1], w[:, 1:]).item()) * len(s)
    finally:
        model.train(was_training)
    return total / n_windows


def cosine_warmup(step, total_steps, warmup_steps, min_ratio=0.1):
    """Learning-rate factor: linear warm-up to 1 over ``warmup_steps``, then cosine decay to ``min_ratio``."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
    return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))


def train_gpt(text, block_size=64, n_layer=4, n_embd=128, n_head=4, dropout=0.0, batch_size=32,
              lr=2e-3, weight_decay=0.1, max_steps=2000, time_budget=None, warmup_steps=100, clip=1.0,
              eval_every=100, seed=0, progress=False, val_fraction=0.1, model=None):
    """Train a :class:`GPT` on ``text`` for ``max_steps`` steps or ``time_budget`` seconds.

    The cosine schedule runs over ``max_steps``, or with a ``time_budget`` over the number of steps
    that fit in it at the pace measured so far; the warm-up takes ``warmup_steps`` but at most a tenth
    of that. The validation loss is measured every ``eval_every`` steps, and with a ``time_budget`` also
    every twentieth of it. AdamW decays only weights with two or more dimensions.

    Args:
        model: a :class:`GPT` to train (its vocabulary must be ``split_codes(text)``'s); by default a new
            one from the size arguments.

    Returns:
        ``(model, chars, history)``: history has ``step_loss`` and ``step_seconds`` (cumulative training
        time) per step, ``val`` ((step, seconds, loss) triples, also at step 0), ``seconds`` (training
        time, evaluation excluded), ``steps`` and ``unigram`` (entropy of the training characters).
    """
    ad.manual_seed(seed)
    rng = np.random.default_rng(seed)
    chars, train, val = split_codes(text, val_fraction)
    if model is None:
        model = GPT(len(chars), block_size, n_layer, n_embd, n_head, dropout)
    elif model.vocab_size != len(chars):
        raise ValueError(f"train_gpt: the model has {model.vocab_size} tokens, the text {len(chars)} characters")
    block_size = model.block_size
    params = list(model.parameters())
    decay = [p for p in params if p.ndim >= 2]
    no_decay = [p for p in params if p.ndim < 2]
    optimizer = nn.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                                {"params": no_decay, "weight_decay": 0.0}], lr=lr, betas=(0.9, 0.99))
    history = {"step_loss": [], "step_seconds": [], "val": [(0, 0.0, estimate_loss(model, val, block_size))],
               "seconds": 0.0,
               "unigram": unigram_entropy(train, len(chars))}
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=max_steps if time_budget is None else int(time_budget), unit="step" if
                   time_budget is None else "s", desc="gpt")
    elapsed, step = 0.0, 0
    eval_interval = next_eval = time_budget / 20 if time_budget is not None else float("inf")
    while step < max_steps and (time_budget is None or elapsed < time_budget):
        t0 = time.perf_counter()
        total = max_steps
        if time_budget is not None and elapsed > 0:  # steps that fit in the budget at the pace so far
            total = min(max_steps, max(step + 1, int(step * time_budget / elapsed)))
        factor = cosine_warmup(step, total, min(warmup_steps, max(1, total // 10)))
        for group in optimizer.param_groups:
            group["lr"] = lr * factor
        x, y = get_batch(train, batch_size, block_size, rng)
        optimizer.zero_grad()
        loss = _loss(model, x, y)
        loss.backward()
        if clip:
            nn.utils.clip_grad_norm_(params, clip)
        optimizer.step()
        history["step_loss"].append(float(loss.item()))
        step += 1
        dt = time.perf_counter() - t0
        elapsed += dt
        history["step_seconds"].append(elapsed)
        if bar is not None:
            bar.update(1 if time_budget is None else min(dt, max(0.0, time_budget - bar.n)))
            bar.set_postfix(loss=f"{history['step_loss'][-1]:.3f}", refresh=False)
        if (eval_every and step % eval_every == 0) or (time_budget is not None and elapsed >= next_eval):
            history["val"].append((step, elapsed, estimate_loss(model, val, block_size)))
            next_eval = elapsed + eval_interval
    if bar is not None:
        bar.close()
    if history["val"][-1][0] != step:
        history["val"].append((step, elapsed, estimate_loss(model, val, block_size)))
    history["seconds"], history["steps"] = elapsed, step
    return model, chars, history


def generate(model, chars, prime="The ", length=200, temperature=1.0, seed=0):
    """Sample ``length`` characters after ``prime`` from softmax(logits / temperature), feeding back
    the last ``block_size`` characters each step."""
    if temperature <= 0:
        raise ValueError(f"generate: temperature must be > 0, got {temperature}")
    stoi = {c: i for i, c in enumerate(chars)}
    codes = [stoi[c] for c in prime if c in stoi] or [0]
    rng = np.random.default_rng(seed)
    was_training = model.training
    model.eval()
    try:
        with ad.no_grad():
            for _ in range(length):
                ctx = np.array([codes[-model.block_size:]])
                z = np.asarray(model(ctx).data[0, -1], dtype=np.float64) / temperature
                p = np.exp(z - z.max())
                codes.append(int(rng.choice(len(p), p=p / p.sum())))
    finally:
        model.train(was_training)
    return "".join(chars[i] for i in codes)


def attention_maps(model, idx):
    """Each block's attention weights for one input, (n_layer, N, n_head, T, T), computed with the
    blocks' own ``self_attn`` (``need_weights=True``, not averaged) on their normalised input."""
    idx = np.asarray(idx)
    T = idx.shape[1]
    maps = []
    was_training = model.training
    model.eval()
    try:
        with ad.no_grad():
            x = model.tok_emb(idx) + model.pos_emb(np.arange(T))
            mask = nn.Transformer.generate_square_subsequent_mask(T, dtype=x.dtype)
            for block in model.blocks:
                h = block.norm1(x)
                _, w = block.self_attn(h, h, h, attn_mask=mask, need_weights=True, average_attn_weights=False)
                maps.append(w.data)
                x = block(x, src_mask=mask, is_causal=True)
    finally:
        model.train(was_training)
    return np.stack(maps)
