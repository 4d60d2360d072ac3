"""Character-level 2-layer LSTM on fortunes text (or --text FILE), sampled at several temperatures."""

from __future__ import annotations

from nn.data.text import DEFAULT_FORTUNES, read_fortunes
from nn.demos._common import out_path, save_curves
from nn.models.char_rnn import sample, train_char_rnn


def run(args):
    source = args.text or DEFAULT_FORTUNES
    text = "\n\n".join(read_fortunes(source))
    if args.limit:
        text = text[:args.limit]
    print(f"char-rnn: {len(text)} characters, {len(set(text))} distinct, from {source}")
    model, chars, losses = train_char_rnn(text, epochs=args.epochs or 1, seq_len=64,
                                          batch_size=args.batch_size or 32, hidden_size=128,
                                          lr=args.lr or 3e-3, seed=args.seed,
                                          progress=not args.no_progress)
    print(f"loss {losses[0]:.3f} -> {losses[-1]:.3f} over {len(losses)} batches")
    for t in (0.5, 0.8, 1.2):
        print(f"--- temperature {t} ---")
        print(sample(model, chars, prime="The ", length=200, temperature=t, seed=args.seed))
    path = save_curves(out_path(args, "charrnn_loss.png"), {"cross-entropy per char": losses},
                       "char-level LSTM", xlabel="batch")
    print(f"saved {path}")
