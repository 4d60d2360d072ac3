"""The GPT model: a 2-layer causal LM against the same model in PyTorch (loss and one AdamW step), and a
short run of the demo."""
import argparse

import numpy as np
import pytest

import autodiff as ad
import nn
from nn.models.gpt import GPT, cosine_warmup, get_batch, unigram_entropy


def _torch_gpt(torch, vocab, block, n_layer, d, heads, dtype):
    class TorchGPT(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.tok_emb = torch.nn.Embedding(vocab, d, dtype=dtype)
            self.pos_emb = torch.nn.Embedding(block, d, dtype=dtype)
            self.drop = torch.nn.Dropout(0.0)
            self.blocks = torch.nn.ModuleList([
                torch.nn.TransformerEncoderLayer(d, heads, 4 * d, 0.0, activation=torch.nn.GELU(approximate="tanh"),
                                                 batch_first=True, norm_first=True, dtype=dtype)
                for _ in range(n_layer)])
            self.ln_f = torch.nn.LayerNorm(d, dtype=dtype)
            self.head = torch.nn.Linear(d, vocab, bias=False, dtype=dtype)

        def forward(self, idx):
            T = idx.shape[1]
            x = self.drop(self.tok_emb(idx) + self.pos_emb(torch.arange(T)))
            mask = torch.nn.Transformer.generate_square_subsequent_mask(T, dtype=dtype)
            for block in self.blocks:
                x = block(x, src_mask=mask, is_causal=True)
            return self.head(self.ln_f(x))

    return TorchGPT()


@pytest.mark.parametrize("dtype,tol", [(np.float32, 1e-4), (np.float64, 1e-9)])
def test_two_layer_lm_matches_torch_after_adamw_step(rng, dtype, tol):
    torch = pytest.importorskip("torch")
    vocab, block, d, heads = 11, 8, 16, 2
    ours = GPT(vocab, block_size=block, n_layer=2, n_embd=d, n_head=heads).to(dtype)
    theirs = _torch_gpt(torch, vocab, block, 2, d, heads, getattr(torch, np.dtype(dtype).name))
    state = ours.state_dict()
    assert list(state) == list(theirs.state_dict())
    theirs.load_state_dict({k: torch.tensor(np.asarray(v.data)) for k, v in state.items()})
    x = rng.integers(0, vocab, (3, block))
    y = rng.integers(0, vocab, (3, block))
    kw = dict(lr=3e-3, betas=(0.9, 0.99), weight_decay=0.1)
    opt = nn.optim.AdamW(ours.parameters(), **kw)
    topt = torch.optim.AdamW(theirs.parameters(), **kw)
    losses = []
    for _ in range(2):  # the second loss is computed with the parameters after one step
        opt.zero_grad()
        loss = nn.functional.cross_entropy(ours(x).reshape(-1, vocab), y.reshape(-1))
        loss.backward()
        norm = nn.utils.clip_grad_norm_(ours.parameters(), 0.5)
        opt.step()
        topt.zero_grad()
        tloss = torch.nn.functional.cross_entropy(theirs(torch.tensor(x)).reshape(-1, vocab),
                                                  torch.tensor(y).reshape(-1))
        tloss.backward()
        tnorm = torch.nn.utils.clip_grad_norm_(theirs.parameters(), 0.5)
        topt.step()
        np.testing.assert_allclose(float(loss.item()), tloss.item(), rtol=tol, atol=tol)
        np.testing.assert_allclose(float(np.asarray(getattr(norm, "data", norm))), tnorm.item(), rtol=tol * 10)
        losses.append(float(loss.item()))
        params = dict(theirs.named_parameters())
        for name, p in ours.named_parameters():
            np.testing.assert_allclose(p.data, params[name].detach().numpy(), rtol=tol, atol=tol, err_msg=name)
    assert losses[1] < losses[0]


def test_gpt_is_causal_and_checks_input(rng):
    model = GPT(7, block_size=6, n_layer=1, n_embd=8, n_head=2).double()
    x = rng.integers(0, 7, (2, 6))
    changed = x.copy()
    changed[:, 4:] = (changed[:, 4:] + 1) % 7
    with ad.no_grad():
        a, b = model(x).data, model(changed).data
    np.testing.assert_allclose(a[:, :4], b[:, :4], rtol=1e-12)  # earlier positions never see later ones
    assert not np.allclose(a[:, 4:], b[:, 4:])
    with pytest.raises(ValueError, match="GPT: sequence length 7 exceeds block_size=6"):
        model(rng.integers(0, 7, (1, 7)))
    tied = GPT(7, block_size=6, n_layer=1, n_embd=8, n_head=2, tie_weights=True)
    assert tied.head.weight is tied.tok_emb.weight


def test_helpers():
    assert cosine_warmup(0, 100, 10) == pytest.approx(0.1)
    assert cosine_warmup(9, 100, 10) == pytest.approx(1.0)
    assert cosine_warmup(10, 100, 10) == pytest.approx(1.0)
    assert cosine_warmup(55, 100, 10) == pytest.approx(0.1 + 0.9 * 0.5)
    assert cosine_warmup(100, 100, 10) == pytest.approx(0.1)
    assert unigram_entropy(np.array([0, 1, 0, 1]), 3) == pytest.approx(np.log(2))
    codes = np.arange(100)
    x, y = get_batch(codes, 4, 10, np.random.default_rng(0))
    np.testing.assert_array_equal(y, x + 1)


def test_demo_short_run_loss_falls(tmp_path, monkeypatch, capsys):
    from nn.demos import gpt_demo
    monkeypatch.setattr(gpt_demo, "CONFIG", dict(block_size=32, n_layer=2, n_embd=32, n_head=2, dropout=0.0))
    monkeypatch.setattr(gpt_demo, "SAMPLE_CHARS", (20, 40))
    args = argparse.Namespace(text=None, limit=30000, seconds=60, epochs=40, batch_size=16, lr=1e-2, seed=0,
                              no_progress=True, no_graph=True, compare_charrnn=False, out=str(tmp_path))
    hist = gpt_demo.run(args)
    val = [v[2] for v in hist["val"]]
    assert hist["steps"] == 40
    assert val[-1] < val[0] - 0.8 and val[-1] < hist["unigram"]
    assert (tmp_path / "gpt_loss.png").stat().st_size > 1000
    assert (tmp_path / "gpt_attention.png").stat().st_size > 1000
    out = capsys.readouterr().out
    assert "sample before training" in out and "validation loss" in out
