"""Rolled view of loops (x T, gradient summed over steps) and attention heatmaps (issue 18 item 5)."""

import numpy as np
import pytest

import autodiff as ad
import nn
from autodiff.viz import attention_weights, build_graph, draw_attention, roll_graph, to_dot
from autodiff.viz.capture import replay


def _cell_loop(T=5):
    ad.manual_seed(0)
    cell = nn.LSTMCell(3, 4)
    x = ad.randn(T, 2, 3)
    h = c = ad.zeros(2, 4)
    hs = []
    for t in range(T):
        h, c = cell(x[t], (h, c))
        hs.append(h)
    loss = h.sum()
    loss.backward(retain_graph=True)
    return cell, loss


def test_python_loop_over_a_cell_is_drawn_once_with_x_T():
    cell, loss = _cell_loop(5)
    g = build_graph(loss)
    replay(loss, g)
    rolled, reps, back = roll_graph(g)
    assert reps == 5
    ops = [n.op for n in rolled.op_nodes()]
    assert ops.count("lstm x 5") == 1 and len(ops) == 2  # the cell once, then the sum
    assert len(back) == 2  # h and c go round the loop
    for n in rolled.data_nodes():  # parameters: one node each, gradient = the engine's sum over steps
        if n.is_param:
            np.testing.assert_array_equal(n.grad, dict(cell.named_parameters())[n.label].grad.data)
    src = to_dot(loss, view="rolled")
    assert "loop body drawn once: it ran 5 times" in src and src.count("next step") == 2


def test_unrolled_small_ops_loop_sums_the_step_gradients():
    rng = np.random.default_rng(0)
    Wx = ad.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    Wh = ad.tensor(rng.standard_normal((4, 4)) * 0.3, requires_grad=True)
    x = ad.tensor(rng.standard_normal((4, 2, 3)))
    h = ad.zeros(2, 4)
    steps = []
    for t in range(4):
        with ad.scope("cell"):
            h = (x[t] @ Wx + h @ Wh).tanh()
        h.retain_grad()
        steps.append(h)
    loss = h.sum()
    loss.backward(retain_graph=True)
    g = build_graph(loss, params={"Wx": Wx, "Wh": Wh})
    rolled, reps, back = roll_graph(g)
    assert reps == 4 and [n.op for n in rolled.op_nodes()].count("tanh x 4") == 1
    (tanh_out,) = [rolled.nodes[o] for n in rolled.op_nodes() if n.op == "tanh x 4" for o in n.outputs]
    np.testing.assert_allclose(tanh_out.grad, sum(s.grad.data for s in steps), rtol=1e-12)
    assert "grad summed over steps" in tanh_out.label
    assert back and all(rolled.nodes[op].op == "matmul x 4" for _, op, _ in back)


def test_fused_lstm_says_over_how_many_steps_and_no_loop_is_no_change():
    ad.manual_seed(0)
    out, _ = nn.LSTM(3, 4)(ad.randn(6, 2, 3))
    src = to_dot(out.sum(), view="rolled")
    assert "lstm over T=6 steps" in src
    w = ad.tensor([1.0, 2.0], requires_grad=True)
    assert roll_graph(build_graph((w * w).sum()))[1] == 1


@pytest.mark.parametrize("need_weights", [True, False])
def test_attention_weights_match_the_layer(need_weights):
    ad.manual_seed(0)
    mha = nn.MultiheadAttention(8, 2, batch_first=True)
    x = ad.randn(2, 5, 8)
    _, ref = mha(x, x, x, need_weights=True, average_attn_weights=False)
    out, _ = mha(x, x, x, need_weights=need_weights, average_attn_weights=False)
    (label, w), = attention_weights(out.sum())
    assert w.shape == (2, 2, 5, 5) and "MultiheadAttention" in label
    np.testing.assert_allclose(w, ref.data, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(w.sum(axis=-1), 1.0, rtol=1e-6)


def test_attention_heatmap_image(tmp_path):
    from PIL import Image
    ad.manual_seed(0)
    mha = nn.MultiheadAttention(8, 2, batch_first=True)
    x = ad.randn(1, 4, 8)
    out, _ = mha(x, x, x)
    path = draw_attention(out.sum(), tmp_path / "attn.png", keys=list("abcd"), queries=list("abcd"))
    with Image.open(path) as im:
        a = np.asarray(im.convert("L"), dtype=float)
    assert a.std() > 10
    with pytest.raises(ValueError, match="no attention weights"):
        draw_attention((ad.tensor([1.0], requires_grad=True) * 2).sum())
