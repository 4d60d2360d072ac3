"""word2vec: skip-gram and CBOW with negative sampling and frequent-word subsampling.

Following the course (and Mikolov et al.):

* Subsampling keeps each occurrence of word w with probability
  P(w) = (sqrt(z(w) / s) + 1) * s / z(w), where z(w) is the word's share of the
  corpus and s = 0.001 (the ``sample`` parameter); P is capped at 1.
* Negative sampling: for each positive (input, target) pair, ``negative`` random
  words drawn from the unigram distribution raised to 3/4 act as targets that
  should score 0. The loss per pair is
  -log sigma(u_t . h) - sum_k log sigma(-u_k . h),
  with h the input word's vector (skip-gram) or the mean of the context vectors (CBOW).

Training is vectorised numpy mini-batch SGD with hand-written gradients of that
loss (two embedding tables, ``W_in`` and ``W_out``); the learning rate decays
linearly as in the reference implementation. In CBOW each context word is moved by
the full gradient of the mean h, as the reference implementation does.
"""

from __future__ import annotations

import os

import numpy as np

import autodiff
from nn.data.text import Vocab, build_vocab, read_fortunes, tokenize_words

__all__ = ["keep_probability", "subsample", "Word2Vec"]


def keep_probability(z, sample: float = 1e-3):
    """Probability of keeping a word whose corpus frequency share is ``z``.

    ``P(w) = (sqrt(z / sample) + 1) * sample / z``, capped at 1.
    """
    z = np.asarray(z, dtype=np.float64)
    if np.any(z <= 0) or np.any(z > 1):
        raise ValueError("keep_probability: word frequencies z must be in (0, 1]")
    return np.minimum(1.0, (np.sqrt(z / sample) + 1.0) * sample / z)


def subsample(indices, counts, sample: float = 1e-3, rng=None):
    """Drop frequent words at random; returns a boolean keep-mask for ``indices``."""
    rng = np.random.default_rng(rng)
    counts = np.asarray(counts, dtype=np.float64)
    p_keep = keep_probability(counts / counts.sum(), sample) if sample else np.ones(len(counts))
    indices = np.asarray(indices)
    return rng.random(indices.shape[0]) < p_keep[indices]


def _log_sigmoid(x):
    return -np.logaddexp(0.0, -x)


def _sigmoid(x):
    """The engine's logistic function on a numpy array (this model trains on arrays directly)."""
    return autodiff.sigmoid(x).data


class Word2Vec:
    """Word vectors learned by skip-gram or CBOW with negative sampling.

    Args:
        vocab: a :class:`nn.data.text.Vocab` (words and counts).
        dim: vector size.
        mode: ``'skipgram'`` (predict each context word from the centre word) or
            ``'cbow'`` (predict the centre word from the mean of its context).
        window: context words on each side.
        negative: negative samples per positive pair.
        sample: subsampling threshold s (0 disables subsampling).
        seed: seed for initialisation, subsampling, negatives and shuffling.

    Attributes:
        W_in: input vectors ``(V, dim)`` (the word vectors). W_out: output vectors ``(V, dim)``.
    """

    def __init__(self, vocab: Vocab, dim: int = 50, mode: str = "skipgram", window: int = 2,
                 negative: int = 5, sample: float = 1e-3, seed=0):
        if mode not in ("skipgram", "cbow"):
            raise ValueError(f"Word2Vec: mode must be 'skipgram' or 'cbow', got {mode!r}")
        if len(vocab) < 2:
            raise ValueError(f"Word2Vec: need at least 2 words in the vocabulary, got {len(vocab)}")
        self.vocab, self.dim, self.mode = vocab, int(dim), mode
        self.window, self.negative, self.sample = int(window), int(negative), float(sample)
        self.rng = np.random.default_rng(seed)
        V = len(vocab)
        self.W_in = ((self.rng.random((V, dim)) - 0.5) / dim).astype(np.float32)
        self.W_out = np.zeros((V, dim), dtype=np.float32)
        noise = vocab.counts.astype(np.float64) ** 0.75
        self.noise_cdf = np.cumsum(noise / noise.sum())

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_text(cls, source=None, min_count: int = 3, **kwargs):
        """Build the vocabulary and return ``(model, sentences)`` ready for :meth:`fit`.

        Args:
            source: path of a text/fortunes file, a string, or a list of strings;
                default the fortunes collection ``songs-poems``.
            min_count: words seen fewer times are dropped.
        """
        if source is None:
            entries = read_fortunes()
        elif isinstance(source, os.PathLike) or (isinstance(source, str) and os.path.isfile(source)):
            entries = read_fortunes(source)
        elif isinstance(source, str):
            entries = [source]
        else:
            entries = list(source)
        sentences = [tokenize_words(e) for e in entries]
        vocab = build_vocab([w for s in sentences for w in s], min_count=min_count)
        model = cls(vocab, **kwargs)
        return model, [vocab.encode(s) for s in sentences]

    # ------------------------------------------------------------------ training data
    def _positions(self, sentences):
        """Subsample each sentence; return the token array and sentence ids."""
        tokens, ids = [], []
        for sid, sent in enumerate(sentences):
            sent = np.asarray(sent, dtype=np.int64)
            if self.sample:
                sent = sent[subsample(sent, self.vocab.counts, self.sample, self.rng)]
            tokens.append(sent)
            ids.append(np.full(len(sent), sid))
        if not tokens:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return np.concatenate(tokens), np.concatenate(ids)

    def _pairs(self, tokens, ids):
        """(inputs, targets) for skip-gram; (context matrix, mask, centres) for CBOW."""
        n = len(tokens)
        offsets = [o for o in range(-self.window, self.window + 1) if o != 0]
        ctx = np.full((n, len(offsets)), -1, dtype=np.int64)
        for j, off in enumerate(offsets):
            src = np.arange(n) + off
            ok = (src >= 0) & (src < n)
            ok[ok] &= ids[src[ok]] == ids[ok]
            ctx[ok, j] = tokens[src[ok]]
        if self.mode == "skipgram":
            centre, col = np.nonzero(ctx >= 0)
            return tokens[centre], ctx[centre, col]
        keep = (ctx >= 0).any(axis=1)
        return ctx[keep], tokens[keep]

    def _negatives(self, shape):
        draws = np.searchsorted(self.noise_cdf, self.rng.random(shape))
        return np.minimum(draws, len(self.vocab) - 1)

    # ------------------------------------------------------------------ training
    def _step(self, inputs, targets, lr):
        """One SGD step on a batch; returns the mean loss."""
        neg = self._negatives((len(targets), self.negative))
        if self.mode == "skipgram":
            h = self.W_in[inputs]
        else:
            mask = (inputs >= 0).astype(np.float32)
            count = mask.sum(axis=1, keepdims=True)
            h = (self.W_in[np.maximum(inputs, 0)] * mask[..., None]).sum(axis=1) / count
        u_pos, u_neg = self.W_out[targets], self.W_out[neg]
        s_pos = np.einsum("bd,bd->b", h, u_pos)
        s_neg = np.einsum("bkd,bd->bk", u_neg, h)
        loss = -(_log_sigmoid(s_pos) + _log_sigmoid(-s_neg).sum(axis=1))
        g_pos = _sigmoid(s_pos) - 1.0                  # dL/ds_pos
        g_neg = _sigmoid(s_neg)                        # dL/ds_neg
        grad_h = g_pos[:, None] * u_pos + np.einsum("bk,bkd->bd", g_neg, u_neg)
        np.add.at(self.W_out, targets, (-lr * g_pos[:, None] * h).astype(self.W_out.dtype))
        np.add.at(self.W_out, neg, (-lr * g_neg[..., None] * h[:, None, :]).astype(self.W_out.dtype))
        if self.mode == "skipgram":
            np.add.at(self.W_in, inputs, (-lr * grad_h).astype(self.W_in.dtype))
        else:
            # every context word receives the whole gradient of h (word2vec.c's CBOW update), not
            # h's gradient divided by the context size: with the division the vectors collapse onto
            # one shared direction (songs-poems, 15 epochs: mean cosine between words 0.96, every
            # neighbour 0.98-1.00; without it 0.35)
            share = (-lr * grad_h)[:, None, :] * mask[..., None]
            np.add.at(self.W_in, np.maximum(inputs, 0), share.astype(self.W_in.dtype))
        return float(loss.mean())

    def fit(self, sentences, epochs: int = 5, lr: float = 0.025, batch_size: int = 256,
            min_lr_ratio: float = 1e-4, progress: bool = False):
        """Train on sentences (lists/arrays of word indices).

        Returns:
            Mean loss per epoch.
        """
        history = []
        est_pairs = sum(len(s) for s in sentences) * (2 * self.window if self.mode == "skipgram" else 1)
        total = max(1, epochs * max(1, est_pairs // batch_size))
        step = 0
        iterator = range(epochs)
        if progress:
            from tqdm.auto import tqdm
            iterator = tqdm(iterator, desc=f"word2vec {self.mode}", unit="epoch")
        for _ in iterator:
            inputs, targets = self._pairs(*self._positions(sentences))
            if len(targets) == 0:
                raise ValueError("Word2Vec.fit: no training pairs (sentences too short or all "
                                 "words subsampled away)")
            order = self.rng.permutation(len(targets))
            losses, weights = [], []
            for start in range(0, len(order), batch_size):
                batch = order[start:start + batch_size]
                cur_lr = lr * max(min_lr_ratio, 1.0 - step / total)
                losses.append(self._step(inputs[batch], targets[batch], cur_lr))
                weights.append(len(batch))
                step += 1
            history.append(float(np.average(losses, weights=weights)))
            if progress:
                iterator.set_postfix(loss=f"{history[-1]:.4f}")
        return history

    # ------------------------------------------------------------------ queries
    def vector(self, word) -> np.ndarray:
        """The learned (input) vector of ``word``."""
        return self.W_in[self.vocab[word]]

    def _normalised(self):
        norms = np.linalg.norm(self.W_in, axis=1, keepdims=True)
        return self.W_in / np.maximum(norms, 1e-12)

    def similarity(self, a, b) -> float:
        """Cosine similarity of two words."""
        unit = self._normalised()
        return float(unit[self.vocab[a]] @ unit[self.vocab[b]])

    def _closest(self, query, exclude, k):
        unit = self._normalised()
        query = query / max(np.linalg.norm(query), 1e-12)
        sims = unit @ query
        sims[list(exclude)] = -np.inf
        top = np.argsort(-sims)[:k]
        return [(self.vocab.itos[i], float(sims[i])) for i in top]

    def nearest(self, word, k: int = 5):
        """The ``k`` words with the highest cosine similarity to ``word``."""
        i = self.vocab[word]
        return self._closest(self._normalised()[i], {i}, k)

    def analogy(self, a, b, c, k: int = 1):
        """Words x with a : b = c : x, i.e. closest to b - a + c (e.g. man:king = woman:queen)."""
        unit = self._normalised()
        ia, ib, ic = self.vocab[a], self.vocab[b], self.vocab[c]
        return self._closest(unit[ib] - unit[ia] + unit[ic], {ia, ib, ic}, k)
