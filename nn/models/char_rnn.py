"""Character-level language model: Embedding -> 2-layer LSTM -> Linear, with temperature sampling.

Trained to predict the next character of a text (fortunes by default); sampling
divides the logits by a temperature before the softmax: below 1 the text gets
safer and more repetitive, above 1 more random.
"""

from __future__ import annotations

import numpy as np

import autodiff as ad
import nn
from nn.data.text import char_vocab, encode_chars

__all__ = ["CharRNN", "make_sequences", "train_char_rnn", "sample"]


class CharRNN(nn.Module):
    """Next-character model.

    Args:
        vocab_size: number of distinct characters.
        embed_dim: embedding size. hidden_size: LSTM units per layer. num_layers: LSTM layers.
        dropout: dropout between LSTM layers.

    Shape:
        input ``(N, T)`` int character indices; output logits ``(N, T, vocab_size)`` and the
        LSTM state ``(h, c)``, each ``(num_layers, N, hidden_size)``.
    """

    def __init__(self, vocab_size: int, embed_dim: int = 32, hidden_size: int = 128,
                 num_layers: int = 2, dropout: float = 0.0):
        super().__init__()
        self.vocab_size = vocab_size
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.lstm = nn.LSTM(embed_dim, hidden_size, num_layers=num_layers, batch_first=True,
                            dropout=dropout)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, x, state=None):
        out, state = self.lstm(self.embed(x), state)
        return self.head(out), state


def make_sequences(codes: np.ndarray, seq_len: int):
    """Cut a code array into (input, next-char target) windows of ``seq_len``, non-overlapping."""
    codes = np.asarray(codes, dtype=np.int64)
    n = (len(codes) - 1) // seq_len
    if n < 1:
        raise ValueError(f"make_sequences: text of {len(codes)} characters is too short for "
                         f"seq_len={seq_len}")
    x = codes[: n * seq_len].reshape(n, seq_len)
    y = codes[1: n * seq_len + 1].reshape(n, seq_len)
    return x, y


class _SequenceLoss:
    """Cross-entropy over every time step of ``(N, T, V)`` logits against ``(N, T)`` targets."""

    def __init__(self):
        self.ce = nn.CrossEntropyLoss()

    def __call__(self, output, target):
        logits = output[0] if isinstance(output, tuple) else output
        return self.ce(logits.reshape(-1, logits.shape[-1]), target.reshape(-1))


def train_char_rnn(text: str, epochs: int = 1, seq_len: int = 64, batch_size: int = 32,
                   hidden_size: int = 128, embed_dim: int = 32, num_layers: int = 2, lr: float = 3e-3,
                   seed: int = 0, progress: bool = False, max_batches=None, clip: float = 5.0):
    """Train a :class:`CharRNN` on ``text`` with Adam and gradient-norm clipping.

    Returns:
        ``(model, chars, losses)``: chars is the index -> character list, losses one per batch.
    """
    ad.manual_seed(seed)
    chars, stoi = char_vocab(text)
    x, y = make_sequences(encode_chars(text, stoi), seq_len)
    model = CharRNN(len(chars), embed_dim, hidden_size, num_layers)
    optimizer = nn.optim.Adam(model.parameters(), lr=lr)
    loss_fn = _SequenceLoss()
    rng = np.random.default_rng(seed)
    losses = []
    iterator = range(epochs)
    for _ in iterator:
        order = rng.permutation(len(x))
        batches = range(0, len(order), batch_size)
        if progress:
            from tqdm.auto import tqdm
            batches = tqdm(batches, desc="char-rnn", unit="batch")
        for b, start in enumerate(batches):
            if max_batches is not None and b >= max_batches:
                break
            idx = order[start:start + batch_size]
            optimizer.zero_grad()
            logits, _ = model(ad.tensor(x[idx]))
            loss = loss_fn(logits, ad.tensor(y[idx]))
            loss.backward()
            if clip:
                nn.utils.clip_grad_norm_(model.parameters(), clip)
            optimizer.step()
            losses.append(float(loss.item()))
            if progress:
                batches.set_postfix(loss=f"{losses[-1]:.3f}", refresh=False)
    return model, chars, losses


def sample(model: CharRNN, chars, prime: str = "The ", length: int = 200, temperature: float = 1.0,
           seed: int = 0) -> str:
    """Generate ``length`` characters after ``prime``, sampling from softmax(logits / temperature)."""
    if temperature <= 0:
        raise ValueError(f"sample: temperature must be > 0, got {temperature}")
    stoi = {c: i for i, c in enumerate(chars)}
    prime = "".join(c for c in prime if c in stoi) or chars[0]
    rng = np.random.default_rng(seed)
    out = list(prime)
    was_training = model.training
    model.eval()
    try:
        with ad.no_grad():
            logits, state = model(ad.tensor(encode_chars(prime, stoi)[None, :]))
            for _ in range(length):
                z = np.asarray(logits.data[0, -1], dtype=np.float64) / temperature
                p = np.exp(z - z.max())
                p /= p.sum()
                nxt = int(rng.choice(len(p), p=p))
                out.append(chars[nxt])
                logits, state = model(ad.tensor(np.array([[nxt]])), state)
    finally:
        if was_training:
            model.train()
    return "".join(out)
