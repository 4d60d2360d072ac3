"""nn.optim.lr_scheduler against torch.optim.lr_scheduler and the course's rule by hand."""

import numpy as np
import pytest

import autodiff as ad
from nn import optim
from nn.optim import lr_scheduler as schedulers

torch = pytest.importorskip("torch")


def _pair(lr=0.1, groups=False):
    w = ad.Tensor(np.ones(2), requires_grad=True)
    v = ad.Tensor(np.ones(2), requires_grad=True)
    tw = torch.ones(2, requires_grad=True)
    tv = torch.ones(2, requires_grad=True)
    if groups:
        return (optim.SGD([{"params": [w]}, {"params": [v], "lr": lr * 3}], lr=lr),
                torch.optim.SGD([{"params": [tw]}, {"params": [tv], "lr": lr * 3}], lr=lr))
    return optim.SGD([w, v], lr=lr), torch.optim.SGD([tw, tv], lr=lr)


@pytest.mark.parametrize("make", [
    lambda m, o: m.StepLR(o, step_size=3),
    lambda m, o: m.StepLR(o, step_size=2, gamma=0.5),
    lambda m, o: m.ExponentialLR(o, gamma=0.9),
])
def test_epoch_schedulers_match_torch(make):
    opt, topt = _pair(groups=True)
    sched, tsched = make(schedulers, opt), make(torch.optim.lr_scheduler, topt)
    assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr())
    for _ in range(12):
        opt.step()
        topt.step()
        sched.step()
        tsched.step()
        assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-12)
        assert [g["lr"] for g in opt.param_groups] == pytest.approx(
            [g["lr"] for g in topt.param_groups], rel=1e-12)


def test_step_lr_closed_form():
    opt, _ = _pair(lr=1.0)
    sched = schedulers.StepLR(opt, step_size=4, gamma=0.1)
    for epoch in range(1, 13):
        sched.step()
        assert opt.param_groups[0]["lr"] == pytest.approx(0.1 ** (epoch // 4))


@pytest.mark.parametrize("kwargs", [
    dict(), dict(patience=2, factor=0.5), dict(mode="max", patience=1, threshold_mode="abs",
                                               threshold=0.05),
    dict(patience=1, cooldown=2, min_lr=0.02, factor=0.3), dict(patience=0, min_lr=[0.0, 0.1]),
])
def test_reduce_on_plateau_matches_torch(kwargs):
    rng = np.random.default_rng(0)
    metrics = np.r_[np.linspace(1, 0.5, 6), 0.5 + 0.02 * rng.random(30), np.linspace(0.5, 0.3, 5)]
    opt, topt = _pair(groups=True)
    sched = schedulers.ReduceLROnPlateau(opt, **kwargs)
    tsched = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kwargs)
    for m in metrics:
        sched.step(m)
        tsched.step(m)
        assert [g["lr"] for g in opt.param_groups] == pytest.approx(
            [g["lr"] for g in topt.param_groups], rel=1e-12)
        assert sched.num_bad_epochs == tsched.num_bad_epochs
    assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr())
    assert opt.param_groups[0]["lr"] < 0.1 or kwargs.get("mode") == "max"


def test_reduce_on_plateau_accepts_tensor_metric():
    opt, _ = _pair()
    sched = schedulers.ReduceLROnPlateau(opt, patience=0)
    sched.step(ad.tensor(1.0))
    sched.step(np.float32(2.0))
    assert opt.param_groups[0]["lr"] == pytest.approx(0.01)


def test_adaptive_lr_by_hand():
    opt, _ = _pair(lr=0.1)
    sched = schedulers.AdaptiveLR(opt)
    errors = [10.0, 9.0, 9.3, 9.8, 5.0, 5.2, 5.5]
    lr, prev = 0.1, None
    for e in errors:
        accepted = sched.step(e)
        if prev is not None:
            ok = e <= 1.04 * prev
            lr *= 1.05 if ok else 0.7
            assert accepted == ok
        prev = e
        assert opt.param_groups[0]["lr"] == pytest.approx(lr, rel=1e-12)
        assert sched.get_last_lr() == pytest.approx([lr])
    # 9.3 <= 1.04 * 9.0 (speed up), 9.8 > 1.04 * 9.3 (slow down), 5.5 > 1.04 * 5.2
    assert lr == pytest.approx(0.1 * 1.05 ** 4 * 0.7 ** 2)


def test_adaptive_lr_restores_weights_of_rejected_epoch():
    w = ad.Tensor(np.zeros(2), requires_grad=True)
    opt = optim.SGD([w], lr=1.0)
    sched = schedulers.AdaptiveLR(opt, params=[w])
    history = []
    for epoch, error in enumerate([5.0, 4.0, 9.0, 4.1, 4.5]):
        w.data[...] = epoch + 1.0  # "training" moved the weights
        history.append(sched.step(error))
        if epoch == 2:  # 9 > 1.04 * 4: rejected, back to the weights of epoch 1
            np.testing.assert_array_equal(w.data, [2.0, 2.0])
    # epoch 3 is compared with 4.0 (the rejected 9.0 is forgotten); epoch 4: 4.5 > 1.04 * 4.1
    assert history == [True, True, False, True, False]
    np.testing.assert_array_equal(w.data, [4.0, 4.0])
    assert opt.param_groups[0]["lr"] == pytest.approx(1.05 ** 2 * 0.7 ** 2)
    assert "_saved" not in sched.state_dict()


def test_adaptive_lr_bounds_and_args():
    opt, _ = _pair(lr=0.1)
    sched = schedulers.AdaptiveLR(opt, rho_i=2.0, max_lr=0.3, min_lr=0.05, rho_d=0.1)
    for e in [1.0, 0.5, 0.4, 0.3]:
        sched.step(e)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.3)
    sched.step(10.0)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.05)
    with pytest.raises(ValueError, match="rho_d"):
        schedulers.AdaptiveLR(opt, rho_d=1.5)


def test_scheduler_state_dict_round_trip():
    opt, _ = _pair()
    sched = schedulers.StepLR(opt, step_size=2, gamma=0.5)
    for _ in range(3):
        sched.step()
    sd = sched.state_dict()
    assert sd["last_epoch"] == 3 and "optimizer" not in sd
    opt2, _ = _pair()
    opt2.load_state_dict(opt.state_dict())
    sched2 = schedulers.StepLR(opt2, step_size=2, gamma=0.5)
    sched2.load_state_dict(sd)
    for _ in range(5):
        sched.step()
        sched2.step()
        assert sched2.get_last_lr() == sched.get_last_lr()


def test_errors():
    opt, _ = _pair()
    with pytest.raises(ValueError, match="factor should be < 1.0"):
        schedulers.ReduceLROnPlateau(opt, factor=2.0)
    with pytest.raises(ValueError, match=r"single number.*\(2,\)"):
        schedulers.ReduceLROnPlateau(opt).step(np.zeros(2))
    with pytest.raises(ValueError, match="step_size"):
        schedulers.StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="one per parameter group"):
        schedulers.ReduceLROnPlateau(opt, min_lr=[0.1, 0.2])
