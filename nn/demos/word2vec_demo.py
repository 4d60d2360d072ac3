"""word2vec on fortunes text (or --text FILE): training loss, nearest words, an analogy."""

from __future__ import annotations

from nn.data.text import DEFAULT_FORTUNES
from nn.demos._common import out_path, save_curves
from nn.models.word2vec import Word2Vec

QUERIES = ("love", "night", "sun", "heart", "sea", "king", "day", "eyes")


def run(args):
    source = args.text or DEFAULT_FORTUNES
    epochs = args.epochs or 15
    curves = {}
    for mode in ("skipgram", "cbow"):
        model, sentences = Word2Vec.from_text(source, min_count=5, dim=50, mode=mode, window=4,
                                              negative=10, sample=1e-3, seed=args.seed)
        if args.limit:
            sentences = sentences[:args.limit]
        n_tokens = sum(len(s) for s in sentences)
        print(f"{mode}: {len(model.vocab)} words (min count 5), {len(sentences)} texts, "
              f"{n_tokens} tokens from {source}")
        history = model.fit(sentences, epochs=epochs, lr=args.lr or 0.05,
                            batch_size=args.batch_size or 256, progress=not args.no_progress)
        curves[mode] = history
        for word in [w for w in QUERIES if w in model.vocab][:5]:
            near = ", ".join(f"{w} ({s:.2f})" for w, s in model.nearest(word, 5))
            print(f"  nearest to {word!r}: {near}")
        a, b, c = ("man", "king", "woman")
        if all(w in model.vocab for w in (a, b, c)):
            guesses = ", ".join(w for w, _ in model.analogy(a, b, c, k=3))
            print(f"  {a} : {b} = {c} : ?  -> {guesses}  (a small corpus gives rough analogies)")
    path = save_curves(out_path(args, "word2vec_loss.png"), curves,
                       "word2vec negative-sampling loss", xlabel="epoch")
    print(f"saved {path}")
