"""Plain-text corpora for word2vec and the character model.

Debian's ``fortunes`` package ships collections under ``/usr/share/games/fortunes/``:
entries are separated by lines holding only ``%``. Any other text file works too.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import numpy as np

__all__ = ["DEFAULT_FORTUNES", "read_fortunes", "read_text", "tokenize_words", "Vocab",
           "build_vocab", "char_vocab", "encode_chars", "decode_chars"]

DEFAULT_FORTUNES = "/usr/share/games/fortunes/songs-poems"
_WORD_RE = re.compile(r"[a-z]+(?:'[a-z]+)*")
# backspace overstriking (x\bx) as used in old fortune files for bold/underline
_OVERSTRIKE_RE = re.compile(r".\x08")


def read_text(path) -> str:
    """Read a text file as UTF-8 (undecodable bytes replaced), newlines normalised."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"read_text: no such file {str(path)!r}")
    text = path.read_text(encoding="utf-8", errors="replace")
    return _OVERSTRIKE_RE.sub("", text.replace("\r\n", "\n"))


def read_fortunes(path=DEFAULT_FORTUNES) -> list[str]:
    """Read a fortunes collection into a list of entries.

    Args:
        path: a fortunes file (entries separated by lines containing only ``%``).
            A file without ``%`` lines yields one entry per blank-line-separated paragraph.

    Returns:
        Non-empty entries with surrounding whitespace stripped.
    """
    text = read_text(path)
    lines = text.split("\n")
    if any(line.strip() == "%" for line in lines):
        entries, current = [], []
        for line in lines:
            if line.strip() == "%":
                entries.append("\n".join(current))
                current = []
            else:
                current.append(line)
        entries.append("\n".join(current))
    else:
        entries = re.split(r"\n\s*\n", text)
    return [e.strip() for e in entries if e.strip()]


def tokenize_words(text) -> list[str]:
    """Lowercase word tokens (letters and inner apostrophes) of a string or list of strings."""
    if not isinstance(text, str):
        text = "\n".join(text)
    return _WORD_RE.findall(text.lower())


class Vocab:
    """A word <-> index mapping with counts, most frequent first (ties alphabetical).

    Attributes:
        itos: list of words by index. stoi: dict word -> index. counts: int64 array.
    """

    def __init__(self, counter: Counter, min_count: int = 1, max_size: int | None = None):
        items = sorted(((w, c) for w, c in counter.items() if c >= min_count),
                       key=lambda wc: (-wc[1], wc[0]))
        if max_size is not None:
            items = items[:max_size]
        self.itos = [w for w, _ in items]
        self.stoi = {w: i for i, w in enumerate(self.itos)}
        self.counts = np.array([c for _, c in items], dtype=np.int64)

    def __len__(self):
        return len(self.itos)

    def __contains__(self, word):
        return word in self.stoi

    def __getitem__(self, word):
        try:
            return self.stoi[word]
        except KeyError:
            raise KeyError(f"Vocab: word {word!r} is not in the vocabulary "
                           f"({len(self)} words)") from None

    def encode(self, tokens) -> np.ndarray:
        """Indices of the tokens that are in the vocabulary (unknown ones are dropped)."""
        return np.array([self.stoi[t] for t in tokens if t in self.stoi], dtype=np.int64)


def build_vocab(tokens, min_count: int = 1, max_size: int | None = None) -> Vocab:
    """Build a :class:`Vocab` from a token list."""
    return Vocab(Counter(tokens), min_count=min_count, max_size=max_size)


def char_vocab(text: str):
    """Sorted characters of ``text`` and the char -> index dict."""
    chars = sorted(set(text))
    return chars, {c: i for i, c in enumerate(chars)}


def encode_chars(text: str, stoi: dict) -> np.ndarray:
    """Indices of each character; raises naming the first unknown character."""
    try:
        return np.array([stoi[c] for c in text], dtype=np.int64)
    except KeyError as exc:
        raise KeyError(f"encode_chars: character {exc.args[0]!r} not in the vocabulary") from None


def decode_chars(indices, chars) -> str:
    """Inverse of :func:`encode_chars`."""
    return "".join(chars[int(i)] for i in np.asarray(indices).ravel())
