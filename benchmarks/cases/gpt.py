"""GPT training step: ours vs the same model in PyTorch, each side in its own processes.

Row:
    gpt.train_step   a character-level GPT on the fortunes vocabulary: 4 pre-LayerNorm Transformer blocks
        (nn.TransformerEncoderLayer, GELU tanh), d_model 128, 4 heads, context 64, batch 32; forward,
        cross-entropy, backward, gradient clipping at 1.0 and one AdamW step. Both sides start from the
        same weights and batch; checked: loss and parameters after the first step. Goal: at most
        1.0x PyTorch at 1 and 2 threads.
"""
from __future__ import annotations

import numpy as np

from benchmarks.harness import Case, Skip, optional_import, register, require

BLOCK, LAYERS, D_MODEL, HEADS, BATCH = 64, 4, 128, 4, 32
ADAMW = dict(lr=1e-3, betas=(0.9, 0.99), weight_decay=0.1)


def gpt_init():
    """Shared start: the fortunes vocabulary size, our model's initial weights, one batch."""
    from nn.data.text import read_fortunes
    from nn.models.gpt import GPT, get_batch, split_codes

    import autodiff as ad

    chars, train, _ = split_codes("\n\n".join(read_fortunes()))
    ad.manual_seed(20)
    model = GPT(len(chars), BLOCK, LAYERS, D_MODEL, HEADS)
    state = {k: np.array(v.data, copy=True) for k, v in model.state_dict().items()}
    x, y = get_batch(train, BATCH, BLOCK, np.random.default_rng(20))
    return len(chars), state, x, y


def _ours(vocab, state, x, y):
    import autodiff as ad  # noqa: F401
    import nn
    from nn.models.gpt import GPT

    model = GPT(vocab, BLOCK, LAYERS, D_MODEL, HEADS)
    model.load_state_dict(state)
    params = list(model.parameters())
    opt = nn.optim.AdamW(params, **ADAMW)
    target = y.reshape(-1)

    def step():
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x).reshape(-1, vocab), target)
        loss.backward()
        nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        return [loss] + [p.data for p in params]

    return step


def torch_gpt(torch, vocab):
    """The same architecture from torch.nn modules, with our state_dict keys."""
    class TorchGPT(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.tok_emb = torch.nn.Embedding(vocab, D_MODEL)
            self.pos_emb = torch.nn.Embedding(BLOCK, D_MODEL)
            self.drop = torch.nn.Dropout(0.0)
            self.blocks = torch.nn.ModuleList([
                torch.nn.TransformerEncoderLayer(D_MODEL, HEADS, 4 * D_MODEL, 0.0,
                                                 activation=torch.nn.GELU(approximate="tanh"), batch_first=True,
                                                 norm_first=True) for _ in range(LAYERS)])
            self.ln_f = torch.nn.LayerNorm(D_MODEL)
            self.head = torch.nn.Linear(D_MODEL, vocab, bias=False)

        def forward(self, idx):
            t = idx.shape[1]
            h = self.drop(self.tok_emb(idx) + self.pos_emb(torch.arange(t)))
            mask = torch.nn.Transformer.generate_square_subsequent_mask(t)
            for block in self.blocks:
                h = block(h, src_mask=mask, is_causal=True)
            return self.head(self.ln_f(h))

    return TorchGPT()


def _torch(torch, vocab, state, x, y):
    model = torch_gpt(torch, vocab)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    params = list(model.parameters())
    opt = torch.optim.AdamW(params, **ADAMW)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y.reshape(-1))

    def step():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(tx).reshape(-1, vocab), ty)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        return [loss] + list(params)

    return step


def gpt_step(side: str):
    """Zero-argument training step for ``side`` ("ours" or "torch"), both from :func:`gpt_init`."""
    vocab, state, x, y = gpt_init()
    if side == "ours":
        return _ours(vocab, state, x, y)
    if side == "torch":
        torch = optional_import("torch")
        if torch is None:
            raise Skip("torch not installed")
        return _torch(torch, vocab, state, x, y)
    raise ValueError(f"gpt_step: unknown side {side!r}")


def gpt_flops(vocab=92):
    """2 x multiply-adds of the products in one step (forward products x 3 for forward + backward)."""
    tokens = BATCH * BLOCK
    per_layer = 2 * tokens * D_MODEL * (3 * D_MODEL + D_MODEL + 2 * 4 * D_MODEL) + 2 * 2 * BATCH * BLOCK * BLOCK * D_MODEL
    return 3 * (LAYERS * per_layer + 2 * tokens * D_MODEL * vocab)


@register("gpt.train_step", group="gpt", isolated=True)
def gpt_row(quick):
    require("nn", "TransformerEncoderLayer", "MultiheadAttention", "optim.AdamW")
    return Case(isolated="benchmarks.cases.gpt:gpt_step", sides=("ours", "torch"), rtol=1e-3, atol=2e-4,
                flops=gpt_flops(),
                notes="char-level GPT, 4 blocks, d_model 128, 4 heads, context 64, batch 32, fortunes vocabulary, "
                      "cross-entropy, clip 1.0, AdamW lr 1e-3; checked: loss and parameters after the first step")
