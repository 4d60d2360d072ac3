"""Tests for the course's classic models in nn.models (small and fast)."""

import numpy as np
import pytest

from nn.data import generated
from nn.data.text import build_vocab
from nn.models.adaline import Adaline
from nn.models.perceptron import Perceptron
from nn.models.word2vec import Word2Vec, keep_probability, subsample


# ---------------------------------------------------------------- perceptron
@pytest.mark.parametrize("activation", ["unipolar", "bipolar"])
@pytest.mark.parametrize("gate", ["and", "or"])
def test_perceptron_learns_separable_gates(activation, gate):
    X, y = generated.truth_table(gate, bipolar=activation == "bipolar")
    p = Perceptron(2, activation=activation, lr=0.1, seed=1)
    errors = p.fit(X, y, max_epochs=100)
    assert errors[-1] == 0 and len(errors) < 100
    np.testing.assert_array_equal(p.predict(X), y)


@pytest.mark.parametrize("activation", ["unipolar", "bipolar"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_perceptron_never_separates_xor(activation, seed):
    X, y = generated.xor_gate(bipolar=activation == "bipolar")
    p = Perceptron(2, activation=activation, lr=0.1, seed=seed)
    errors = p.fit(X, y, max_epochs=200)
    assert len(errors) == 200 and min(errors) >= 1
    # and whatever weights it ends with, at least one of the 4 points is wrong
    assert np.sum(p.predict(X) != y) >= 1


def test_perceptron_update_rule_by_hand():
    p = Perceptron(2, activation="unipolar", lr=0.5, seed=0)
    p.weight[:] = [0.0, 0.0]
    p.bias = -0.25
    # pattern (1, 1) desired 1, output step(-0.25) = 0 -> w += 0.5 * (1 - 0) * x
    p.fit(np.array([[1.0, 1.0]]), np.array([1.0]), max_epochs=1)
    np.testing.assert_allclose(p.weight, [0.5, 0.5])
    assert p.bias == pytest.approx(0.25)


def test_perceptron_errors():
    with pytest.raises(ValueError, match="activation"):
        Perceptron(2, activation="sigmoid")
    p = Perceptron(2)
    with pytest.raises(ValueError, match=r"shape \(N, 2\), got \(4, 3\)"):
        p.predict(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="values in"):
        p.fit(np.zeros((2, 2)), np.array([-1.0, 1.0]))


# ---------------------------------------------------------------- adaline
def test_adaline_converges_to_least_squares():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    d = X @ np.array([0.5, -1.0, 2.0]) + 0.3 + rng.normal(0.0, 0.2, size=200)
    model = Adaline(3, mu=0.01, seed=0)
    history = model.fit(X, d, epochs=60, mu_decay=0.2)
    A = np.hstack([X, np.ones((200, 1))])
    w_ls, *_ = np.linalg.lstsq(A, d, rcond=None)
    np.testing.assert_allclose(np.append(model.weight, model.bias), w_ls, atol=5e-3)
    mse_ls = np.mean((A @ w_ls - d) ** 2)
    assert history[0] > history[-1] and history[-1] == pytest.approx(mse_ls, rel=1e-3)


def test_adaline_single_lms_step_by_hand():
    model = Adaline(2, mu=0.1)
    model.weight[:] = [1.0, -1.0]
    model.bias = 0.5
    # y = 1*2 + (-1)*1 + 0.5 = 1.5, d = 0.5 -> eps = -1 -> w += 2*0.1*(-1)*x
    model.fit(np.array([[2.0, 1.0]]), np.array([0.5]), epochs=1, shuffle=False)
    np.testing.assert_allclose(model.weight, [0.6, -1.2])
    assert model.bias == pytest.approx(0.3)


def test_adaline_classifies_bipolar_and_and_diverges_loudly():
    X, y = generated.and_gate(bipolar=True)
    model = Adaline(2, mu=0.05, seed=0)
    model.fit(X, y, epochs=100, mu_decay=0.1)
    np.testing.assert_array_equal(model.predict(X), y)
    with pytest.raises(FloatingPointError, match="diverged in epoch"):
        Adaline(2, mu=50.0).fit(X * 100, y, epochs=20)


# ---------------------------------------------------------------- word2vec
def test_keep_probability_matches_course_formula():
    # hand values: z = 0.001 -> (1 + 1) * 1 = 2 -> capped 1; z = 0.004 -> (2 + 1) * 0.25 = 0.75
    # z = 0.01 -> (sqrt(10) + 1) * 0.1 = 0.41623; z = 0.1 -> (10 + 1) * 0.01 = 0.11
    z = np.array([1e-6, 1e-3, 4e-3, 1e-2, 1e-1])
    np.testing.assert_allclose(keep_probability(z), [1.0, 1.0, 0.75, 0.4162278, 0.11], rtol=1e-6)
    np.testing.assert_allclose(keep_probability(0.09, sample=0.01), (3 + 1) * 0.01 / 0.09)
    with pytest.raises(ValueError, match="in \\(0, 1\\]"):
        keep_probability([0.0])


def test_subsample_keeps_rare_and_drops_frequent_at_the_right_rate():
    counts = np.array([9000, 1000])          # z = 0.9 and 0.1
    idx = np.concatenate([np.zeros(90000, np.int64), np.ones(10000, np.int64)])
    keep = subsample(idx, counts, sample=1e-3, rng=0)
    rate0, rate1 = keep[idx == 0].mean(), keep[idx == 1].mean()
    assert rate0 == pytest.approx(keep_probability(0.9), abs=0.01)
    assert rate1 == pytest.approx(keep_probability(0.1), abs=0.01)


def _toy_corpus(seed=0):
    rng = np.random.default_rng(seed)
    sentences = []
    for _ in range(200):
        a, b = rng.choice(["cat", "dog", "kitten"]), rng.choice(["car", "truck", "bus"])
        sentences.append(f"the {a} eats food and the {a} sleeps")
        sentences.append(f"a {b} drives on road with a {b} engine")
    return sentences


@pytest.mark.parametrize("mode", ["skipgram", "cbow"])
def test_word2vec_puts_cooccurring_words_nearer(mode):
    model, sents = Word2Vec.from_text(_toy_corpus(), min_count=1, dim=16, mode=mode, sample=0,
                                      seed=0)
    history = model.fit(sents, epochs=4 if mode == "skipgram" else 10, lr=0.05, batch_size=64)
    assert history[-1] < history[0]
    for a, b, other in [("cat", "dog", "car"), ("truck", "bus", "kitten"), ("dog", "kitten", "bus")]:
        assert model.similarity(a, b) > model.similarity(a, other) + 0.1
    assert {w for w, _ in model.nearest("cat", 2)} == {"dog", "kitten"}
    word, _ = model.analogy("cat", "dog", "truck", k=1)[0]
    assert word in {"car", "bus"}


def _topic_corpus(seed, topics=4, per_topic=8, n=600):
    """Sentences of 10 words, each drawn from one topic's words or from 4 shared filler words."""
    rng = np.random.default_rng(seed)
    letters = "abcdefghij"
    words = [["w" + letters[t] + letters[i] for i in range(per_topic)] for t in range(topics)]
    fillers = ["the", "a", "and", "of"]
    sentences = []
    for _ in range(n):
        topic = words[rng.integers(topics)]
        sentences.append(" ".join(rng.choice(fillers) if rng.random() < 0.4 else rng.choice(topic)
                                  for _ in range(10)))
    return sentences, words


@pytest.mark.parametrize("mode", ["skipgram", "cbow"])
@pytest.mark.parametrize("seed", [0, 1])
def test_word2vec_vectors_separate_topics_without_collapsing(mode, seed):
    # CBOW once collapsed every vector onto one direction (all neighbours ~1.00): words of
    # different topics must stay apart (mean cosine 0.73-0.82 with the collapse, ~0.25 without),
    # and each word's nearest neighbours must be its own topic's words
    text, words = _topic_corpus(seed)
    model, sents = Word2Vec.from_text(text, min_count=1, dim=16, mode=mode, window=2, negative=5,
                                      sample=0, seed=0)
    history = model.fit(sents, epochs=3, lr=0.05, batch_size=64)
    assert history[-1] < history[0]
    for topic in words:
        for w in topic:
            assert {n for n, _ in model.nearest(w, 5)} <= set(topic), (w, model.nearest(w, 5))
    unit = model._normalised()
    idx = [model.vocab[w] for topic in words for w in topic]
    label = np.repeat(np.arange(len(words)), len(words[0]))
    cos = unit[idx] @ unit[idx].T
    cross = cos[label[:, None] != label[None, :]].mean()
    within = cos[(label[:, None] == label[None, :]) & ~np.eye(len(idx), dtype=bool)].mean()
    assert cross < 0.5 and within > cross + 0.4, (cross, within)


def test_word2vec_loss_gradient_matches_finite_differences():
    vocab = build_vocab(["a", "b", "c", "d", "a"])
    model = Word2Vec(vocab, dim=3, negative=2, sample=0, seed=0)
    model.W_out = np.random.default_rng(1).normal(size=model.W_out.shape).astype(np.float32)
    model.W_in = model.W_in.astype(np.float64)
    model.W_out = model.W_out.astype(np.float64)
    inputs, targets = np.array([0]), np.array([1])
    state = model.rng.bit_generator.state

    def loss_at(w_in):
        model.rng.bit_generator.state = state
        saved = (model.W_in.copy(), model.W_out.copy())
        model.W_in = w_in.copy()
        value = model._step(inputs, targets, lr=0.0)
        model.W_in, model.W_out = saved
        return value

    before, before_out = model.W_in.copy(), model.W_out.copy()
    model.rng.bit_generator.state = state
    model._step(inputs, targets, lr=1.0)      # W_in -= grad
    analytic = before - model.W_in
    model.W_out = before_out
    numeric = np.zeros_like(before)
    for j in range(before.shape[1]):
        e = np.zeros_like(before)
        e[0, j] = 1e-6
        numeric[0, j] = (loss_at(before + e) - loss_at(before - e)) / 2e-6
    np.testing.assert_allclose(analytic, numeric, atol=1e-6)


def test_word2vec_errors():
    with pytest.raises(ValueError, match="mode must be"):
        Word2Vec(build_vocab(["a", "b"]), mode="glove")
    model, _ = Word2Vec.from_text("one two", min_count=1)
    with pytest.raises(KeyError, match="'three' is not in the vocabulary"):
        model.nearest("three")


# ---------------------------------------------------------------- MLP on the Value engine
@pytest.mark.parametrize("seed", [0, 1])
def test_xor_value_engine_mlp_reaches_100_percent(seed):
    from nn.models.mlp import train_xor_value, value_predict
    X, y = generated.xor_gate()
    model, losses, last = train_xor_value(hidden=4, epochs=300, lr=1.0, seed=seed)
    out = value_predict(model, X)
    np.testing.assert_array_equal(out > 0.5, y > 0.5)
    assert losses[-1] < 0.02 < losses[0]
    assert last.data == pytest.approx(losses[-1])
    assert len(model.parameters()) == 2 * 4 + 4 + 4 + 1


def test_value_mlp_gradient_matches_finite_differences():
    from autodiff import Value
    from nn.models.mlp import ValueMLP
    model = ValueMLP(2, [3, 1], seed=3)

    def loss_value():
        out = model([0.3, -0.7])
        return (out - 0.25) ** 2

    loss = loss_value()
    model.zero_grad()
    loss.backward()
    for p in model.parameters():
        old = p.data
        p.data = old + 1e-6
        up = loss_value().data
        p.data = old - 1e-6
        down = loss_value().data
        p.data = old
        assert p.grad == pytest.approx((up - down) / 2e-6, abs=1e-7)
    assert isinstance(loss, Value)


# ---------------------------------------------------------------- MLP / autoencoder / char-rnn
def test_xor_tensor_engine_mlp_reaches_100_percent():
    import autodiff as ad
    from nn.models.mlp import train_xor
    X, y = generated.xor_gate()
    model, losses = train_xor(hidden=4, epochs=300, lr=1.0, seed=1)
    with ad.no_grad():
        logits = model(ad.tensor(X)).data.ravel()
    np.testing.assert_array_equal(logits > 0, y > 0.5)
    assert losses[-1] < 0.05 < 0.6 < losses[0]


def test_mlp_shapes_and_errors():
    import autodiff as ad
    from nn.models.mlp import MLP
    model = MLP(12, [8, 4], 3, activation="tanh", dropout=0.1)
    assert model(ad.tensor(np.zeros((5, 3, 4), np.float32))).shape == (5, 3)
    assert sum(p.data.size for p in model.parameters()) == 12 * 8 + 8 + 8 * 4 + 4 + 4 * 3 + 3
    with pytest.raises(ValueError, match=r"expected 12 input features, got input of shape \(5, 7\)"):
        model(ad.tensor(np.zeros((5, 7), np.float32)))
    with pytest.raises(ValueError, match="activation must be one of"):
        MLP(2, [2], 1, activation="gelu2")


def test_autoencoder_838_learns_distinct_binary_like_codes():
    import autodiff as ad
    from nn.models.autoencoder import train_838
    model, losses, codes = train_838(epochs=800, lr=0.1, seed=0)
    assert codes.shape == (8, 3) and losses[-1] < 0.01 < losses[0]
    rounded = {tuple((c > 0.5).astype(int)) for c in codes}
    assert len(rounded) == 8                        # all 8 corners of the cube: a 3-bit code
    assert np.min(np.abs(codes - 0.5)) > 0.3        # every unit near 0 or near 1
    with ad.no_grad():
        out = model(ad.tensor(np.eye(8, dtype=np.float32))).data
    np.testing.assert_array_equal(out.argmax(axis=1), np.arange(8))


def test_char_rnn_loss_falls_and_sampling_uses_the_vocabulary():
    from nn.models.char_rnn import make_sequences, sample, train_char_rnn
    text = "hello world, hello there. " * 20
    model, chars, losses = train_char_rnn(text, epochs=8, seq_len=16, batch_size=8, hidden_size=24,
                                          embed_dim=8, lr=2e-2, seed=0)
    # 32 windows of 16 characters -> 4 batches per epoch; uniform guessing costs log(11) = 2.4
    assert len(losses) == 8 * 4 and np.mean(losses[-4:]) < 1.2 < 2.2 < losses[0]
    out = sample(model, chars, prime="hel", length=30, temperature=0.5, seed=0)
    assert out.startswith("hel") and len(out) == 33 and set(out) <= set(chars)
    x, y = make_sequences(np.arange(10), 3)
    np.testing.assert_array_equal(x, [[0, 1, 2], [3, 4, 5], [6, 7, 8]])
    np.testing.assert_array_equal(y, [[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    with pytest.raises(ValueError, match="temperature must be > 0"):
        sample(model, chars, temperature=0)


# ---------------------------------------------------------------- LeNet
def test_lenet_shapes_parameters_and_one_step_reduces_loss():
    import autodiff as ad
    import nn
    from nn.models.lenet import LeNet
    ad.manual_seed(0)
    model = LeNet()
    # conv1 20*1*5*5+20, conv2 50*20*5*5+50, fc 800*500+500, out 500*10+10
    assert sum(p.data.size for p in model.parameters()) == 520 + 25050 + 400500 + 5010
    rng = np.random.default_rng(0)
    x = ad.tensor(rng.random((8, 1, 28, 28), dtype=np.float32))
    y = ad.tensor(np.arange(8) % 10)
    assert model(x).shape == (8, 10)
    assert model(ad.tensor(x.data.reshape(8, 784))).shape == (8, 10)
    assert model(ad.tensor(x.data.reshape(8, 28, 28))).shape == (8, 10)
    loss_fn = nn.CrossEntropyLoss()
    opt = nn.optim.SGD(model.parameters(), lr=0.05)
    loss0 = loss_fn(model(x), y)
    assert abs(loss0.item() - np.log(10)) < 0.2
    opt.zero_grad()
    loss0.backward()
    opt.step()
    assert loss_fn(model(x), y).item() < loss0.item() - 1e-3
    with pytest.raises(ValueError, match=r"LeNet: expected input of shape \(N, 1, 28, 28\), got \(2, 1, 32, 32\)"):
        model(ad.tensor(np.zeros((2, 1, 32, 32), np.float32)))
