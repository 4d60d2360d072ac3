"""nn.init: distributions (mean/std/bounds), fans and gains against torch, seeding."""
import math

import numpy as np
import pytest

import autodiff as ad
import nn
from nn import init


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _w(*shape, dtype=np.float32):
    return nn.Parameter(np.zeros(shape, dtype))


SHAPES = [(30, 20), (16, 8, 3, 3), (10, 4, 5), (7, 1)]


@pytest.mark.parametrize("shape", SHAPES)
def test_fans_match_torch(torch, shape):
    ours = init._calculate_fan_in_and_fan_out(_w(*shape))
    theirs = torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(shape))
    assert ours == theirs


def test_fan_needs_two_dims():
    with pytest.raises(ValueError, match=r"\(5,\)"):
        init.xavier_uniform_(_w(5))


@pytest.mark.parametrize("name,param", [("linear", None), ("sigmoid", None), ("tanh", None), ("relu", None),
                                        ("leaky_relu", None), ("leaky_relu", 0.2), ("selu", None),
                                        ("conv2d", None)])
def test_gains_match_torch(torch, name, param):
    assert init.calculate_gain(name, param) == pytest.approx(torch.nn.init.calculate_gain(name, param))


def test_unknown_gain():
    with pytest.raises(ValueError, match="swish"):
        init.calculate_gain("swish")


def _uniform_ok(data, bound):
    assert np.abs(data).max() <= bound
    assert np.abs(data).max() > 0.97 * bound
    assert abs(data.mean()) < 0.02 * bound
    assert abs(data.std() - bound / math.sqrt(3)) < 0.02 * bound


def _normal_ok(data, std, mean=0.0):
    assert abs(data.mean() - mean) < 0.02 * std + 1e-9
    assert abs(data.std() - std) < 0.02 * std


def test_uniform_and_normal_and_constants():
    w = init.uniform_(_w(200, 100), -0.3, 0.3)
    _uniform_ok(w.data, 0.3)
    _normal_ok(init.normal_(_w(200, 100), 1.5, 0.2).data, 0.2, 1.5)
    assert np.all(init.zeros_(_w(3, 3)).data == 0) and np.all(init.ones_(_w(3)).data == 1)
    assert np.all(init.constant_(_w(2, 2), 0.7).data == np.float32(0.7))
    np.testing.assert_array_equal(init.eye_(_w(3, 4)).data, np.eye(3, 4))


def test_xavier():
    w = _w(300, 200)
    _uniform_ok(init.xavier_uniform_(w, gain=2.0).data, 2.0 * math.sqrt(6 / 500))
    _normal_ok(init.xavier_normal_(w).data, math.sqrt(2 / 500))


def test_kaiming_he():
    w = _w(300, 200)
    _normal_ok(init.kaiming_normal_(w, nonlinearity="relu").data, math.sqrt(2 / 200))  # He: N(0, 2/fan_in)
    _normal_ok(init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu").data, math.sqrt(2 / 300))
    _uniform_ok(init.kaiming_uniform_(w, nonlinearity="relu").data, math.sqrt(6 / 200))
    # PyTorch's Linear default: a = sqrt(5) gives bound 1/sqrt(fan_in)
    _uniform_ok(init.kaiming_uniform_(w, a=math.sqrt(5)).data, 1 / math.sqrt(200))
    with pytest.raises(ValueError, match="fan_avg"):
        init.kaiming_normal_(w, mode="fan_avg")


def test_conv_shaped_kaiming_uses_receptive_field():
    w = _w(64, 16, 3, 3)
    _normal_ok(init.kaiming_normal_(w, nonlinearity="relu").data, math.sqrt(2 / (16 * 9)))


def test_lecun_and_course_rules():
    w = _w(300, 250)
    _normal_ok(init.lecun_normal_(w).data, 1 / math.sqrt(250))
    _uniform_ok(init.lecun_uniform_(w).data, math.sqrt(3 / 250))
    _uniform_ok(init.course_uniform_(w).data, 2.38 / math.sqrt(250))  # the course's a for sigmoid
    _uniform_ok(init.course_uniform_(w, a=2).data, 2 / math.sqrt(250))


def test_trunc_normal_and_orthogonal():
    w = init.trunc_normal_(_w(200, 100), std=1.0, a=-1.0, b=1.5)
    assert w.data.min() >= -1.0 and w.data.max() <= 1.5
    q = init.orthogonal_(_w(5, 8), gain=2.0).data
    np.testing.assert_allclose(q @ q.T, 4 * np.eye(5), atol=1e-5)


def test_seeded_by_manual_seed_and_no_graph():
    ad.manual_seed(11)
    a = init.kaiming_normal_(_w(4, 4)).data.copy()
    ad.manual_seed(11)
    w = _w(4, 4)
    out = init.kaiming_normal_(w)
    assert out is w and w.grad_fn is None and w.requires_grad
    np.testing.assert_array_equal(a, w.data)
    g = np.random.default_rng(5)
    b = init.normal_(_w(3), generator=g).data
    np.testing.assert_array_equal(b, np.random.default_rng(5).normal(0, 1, 3).astype(np.float32))


def test_init_keeps_dtype():
    w = _w(4, 4, dtype=np.float64)
    init.xavier_uniform_(w)
    assert w.dtype == np.float64
