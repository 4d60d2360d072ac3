"""The torch schedules of nn.optim.lr_scheduler follow torch.optim.lr_scheduler step by step."""
import math

import numpy as np
import pytest

import autodiff as ad
from nn import optim
from nn.optim import lr_scheduler as schedulers

torch = pytest.importorskip("torch")


def _optimizers(kind, lr=0.1):
    """Ours and torch's optimizer of the same kind over two parameter groups (second lr x3)."""
    w, v = (ad.Tensor(np.ones(2), requires_grad=True) for _ in range(2))
    tw, tv = (torch.ones(2, requires_grad=True) for _ in range(2))
    ours, theirs = {"sgd": (optim.SGD, torch.optim.SGD), "adam": (optim.Adam, torch.optim.Adam)}[kind]
    extra = {"momentum": 0.9} if kind == "sgd" else {}
    return (ours([{"params": [w]}, {"params": [v], "lr": lr * 3}], lr=lr, **extra),
            theirs([{"params": [tw]}, {"params": [tv], "lr": lr * 3}], lr=lr, **extra))


def _momenta(opt):
    return [g["betas"][0] if "betas" in g else g.get("momentum") for g in opt.param_groups]


CASES = {
    "lambda": (lambda m, o: m.LambdaLR(o, lambda e: 0.95 ** e), 12),
    "lambda_per_group": (lambda m, o: m.LambdaLR(o, [lambda e: 1 / (e + 1), lambda e: 0.9 ** e]), 12),
    "multistep": (lambda m, o: m.MultiStepLR(o, milestones=[2, 5, 5, 9], gamma=0.5), 14),
    "linear": (lambda m, o: m.LinearLR(o, start_factor=0.25, end_factor=1.0, total_iters=4), 10),
    "linear_down": (lambda m, o: m.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=6), 10),
    "cosine": (lambda m, o: m.CosineAnnealingLR(o, T_max=5, eta_min=0.01), 23),
    "warm_restarts": (lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=0.001), 25),
    "warm_restarts_1": (lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=4), 13),
    "cyclic": (lambda m, o: m.CyclicLR(o, 0.01, 0.1, step_size_up=3), 20),
    "cyclic_tri2": (lambda m, o: m.CyclicLR(o, [0.01, 0.02], 0.1, step_size_up=2, step_size_down=3,
                                            mode="triangular2"), 25),
    "cyclic_exp": (lambda m, o: m.CyclicLR(o, 0.01, 0.1, step_size_up=4, mode="exp_range", gamma=0.9), 20),
    "cyclic_scale_fn": (lambda m, o: m.CyclicLR(o, 0.01, 0.1, step_size_up=2, cycle_momentum=False,
                                                scale_fn=lambda x: 1 / (x + 1), scale_mode="iterations"), 12),
    "onecycle": (lambda m, o: m.OneCycleLR(o, max_lr=0.5, total_steps=20), 19),
    "onecycle_linear_3phase": (lambda m, o: m.OneCycleLR(o, max_lr=[0.5, 1.0], epochs=3, steps_per_epoch=5,
                                                         anneal_strategy="linear", three_phase=True), 14),
    "sequential": (lambda m, o: m.SequentialLR(o, [m.LinearLR(o, start_factor=0.1, total_iters=3),
                                                   m.ExponentialLR(o, gamma=0.8)], milestones=[3]), 10),
    "sequential_cos": (lambda m, o: m.SequentialLR(o, [m.ExponentialLR(o, gamma=0.9),
                                                       m.CosineAnnealingLR(o, T_max=4),
                                                       m.MultiStepLR(o, [1, 3])], milestones=[2, 6]), 14),
}


@pytest.mark.parametrize("kind", ["sgd", "adam"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_schedule_follows_torch_step_by_step(name, kind):
    make, steps = CASES[name]
    opt, topt = _optimizers(kind)
    sched, tsched = make(schedulers, opt), make(torch.optim.lr_scheduler, topt)
    for step in range(steps + 1):
        assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-12, abs=1e-15), step
        assert [g["lr"] for g in opt.param_groups] == pytest.approx(
            [g["lr"] for g in topt.param_groups], rel=1e-12, abs=1e-15), step
        assert _momenta(opt) == pytest.approx(_momenta(topt), rel=1e-12), step
        opt.step()
        topt.step()
        sched.step()
        tsched.step()


@pytest.mark.parametrize("epochs", [[0.5, 1.25, 2.0, 3.9, 7.5, 20.0], [1, 4, 6, 9, 2]])
def test_warm_restarts_fractional_epochs_follow_torch(epochs):
    opt, topt = _optimizers("sgd")
    sched = schedulers.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2)
    tsched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(topt, T_0=2, T_mult=2)
    for e in epochs:
        sched.step(e)
        tsched.step(e)
        assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-12)


def test_cosine_closed_form_by_hand():
    opt, _ = _optimizers("sgd", lr=1.0)
    sched = schedulers.CosineAnnealingLR(opt, T_max=4, eta_min=0.0)
    for e in range(1, 5):
        sched.step()
        assert sched.get_last_lr()[0] == pytest.approx((1 + math.cos(math.pi * e / 4)) / 2)


def test_onecycle_refuses_stepping_past_the_end_and_bad_arguments():
    opt, _ = _optimizers("sgd")
    sched = schedulers.OneCycleLR(opt, max_lr=0.1, total_steps=3)
    for _ in range(3):
        sched.step()
    with pytest.raises(ValueError, match="tried to step 4 times; .* total steps is 3"):
        sched.step()
    with pytest.raises(ValueError, match="total_steps OR"):
        schedulers.OneCycleLR(opt, max_lr=0.1)
    with pytest.raises(ValueError, match="momentum or betas"):
        schedulers.CyclicLR(optim.Adagrad([ad.Tensor(np.ones(1), requires_grad=True)]), 0.01, 0.1)
    with pytest.raises(ValueError, match="start_factor"):
        schedulers.LinearLR(opt, start_factor=0)
    with pytest.raises(ValueError, match="2 milestones for 3 schedulers"):
        schedulers.SequentialLR(opt, [schedulers.LinearLR(opt), schedulers.LinearLR(opt), schedulers.LinearLR(opt)], milestones=[1])


def test_schedules_state_dict_round_trip_through_nn_save(tmp_path):
    import nn
    opt, _ = _optimizers("sgd")
    sched = schedulers.MultiStepLR(opt, milestones=[2, 4])
    for _ in range(3):
        sched.step()
    nn.save(sched.state_dict(), tmp_path / "s.ckpt")
    opt2, _ = _optimizers("sgd")
    for g, g2 in zip(opt.param_groups, opt2.param_groups):
        g2.update(lr=g["lr"], initial_lr=g["initial_lr"])
    again = schedulers.MultiStepLR(opt2, milestones=[7])
    again.load_state_dict(nn.load(tmp_path / "s.ckpt"))
    for _ in range(3):
        sched.step()
        again.step()
        assert again.get_last_lr() == pytest.approx(sched.get_last_lr())
