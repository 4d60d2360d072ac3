"""The 8-3-8 autoencoder: learns a 3-unit, nearly binary code for 8 one-hot patterns."""

from __future__ import annotations

import numpy as np

import autodiff as ad
from nn.demos._common import format_table, out_path, save_curves
from nn.models.autoencoder import train_838


def run(args):
    model, losses, codes = train_838(epochs=args.epochs or 1000, lr=args.lr or 0.1, seed=args.seed)
    with ad.no_grad():
        out = model(ad.tensor(np.eye(8, dtype=np.float32))).data
    header = ("pattern", "hidden code (sigmoid)", "rounded", "reconstructed")
    rows = []
    for i in range(8):
        one_hot = "".join("1" if j == i else "0" for j in range(8))
        bits = "".join(str(int(v > 0.5)) for v in codes[i])
        rows.append((one_hot, np.array2string(codes[i], precision=2, floatmode="fixed"), bits,
                     str(int(out[i].argmax()))))
    print(format_table(header, rows))
    distinct = len({tuple((c > 0.5).astype(int)) for c in codes})
    print(f"{distinct} distinct rounded codes of 8; all reconstructed: "
          f"{bool(np.all(out.argmax(1) == np.arange(8)))}; final loss {losses[-1]:.4f}")
    path = save_curves(out_path(args, "autoencoder_loss.png"), {"cross-entropy": losses},
                       "8-3-8 autoencoder", xlabel="epoch", logy=True)
    print(f"saved {path}")
