"""Learning-rate schedules: StepLR and CosineAnnealingLR against their closed forms (our own
formulas), against PyTorch (equal to the last bit) when installed, state and resuming, and
every refusal leaving everything as it was."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd_lite as ag
import nn


def optimizer(lr: float = 0.1) -> nn.SGD:
    return nn.SGD([ag.Tensor(np.zeros(2), requires_grad=True)], lr=lr)


def rates(schedule: nn.LRScheduler, epochs: int) -> list[float]:
    seen = []
    for _ in range(epochs):
        schedule.step()
        assert schedule.get_last_lr() == [schedule.optimizer.lr]
        seen.append(schedule.optimizer.lr)
    return seen


base_rates = st.floats(1e-5, 10.0)
gammas = st.floats(0.0, 1.0)


@given(base_rates, st.integers(1, 7), gammas, st.integers(1, 60))
def test_step_lr_is_base_times_gamma_to_the_completed_steps(base, step_size, gamma, epochs):
    seen = rates(nn.StepLR(optimizer(base), step_size, gamma), epochs)
    for epoch, lr in enumerate(seen, start=1):
        want = base * gamma ** (epoch // step_size)
        assert lr == pytest.approx(want, rel=1e-12, abs=1e-300)


@given(base_rates, st.integers(1, 50), st.floats(0.0, 1.0), st.integers(1, 200))
def test_cosine_is_its_closed_form_to_1e_12(base, period, eta_min, epochs):
    seen = rates(nn.CosineAnnealingLR(optimizer(base), period, eta_min), epochs)
    for epoch, lr in enumerate(seen, start=1):
        want = eta_min + (base - eta_min) * (1 + math.cos(math.pi * epoch / period)) / 2
        assert abs(lr - want) <= 1e-12 * max(base, eta_min)


def test_schedules_start_at_the_optimizers_rate_and_change_only_lr():
    sgd = nn.SGD([ag.Tensor(np.zeros(2), requires_grad=True)], lr=0.5, momentum=0.9)
    schedule = nn.CosineAnnealingLR(sgd, T_max=2)
    assert schedule.get_last_lr() == [0.5] and schedule.last_epoch == 0
    assert rates(schedule, 2) == pytest.approx([0.25, 0.0], abs=1e-15)
    assert sgd.momentum == 0.9 and schedule.base_lr == 0.5
    assert nn.StepLR(optimizer(0.3), step_size=1).get_last_lr() == [0.3]


def test_cosine_reaches_eta_min_at_t_max_and_returns_after_two():
    schedule = nn.CosineAnnealingLR(optimizer(1.0), T_max=10, eta_min=0.1)
    seen = rates(schedule, 20)
    assert seen[9] == pytest.approx(0.1, abs=1e-15)
    assert seen[19] == pytest.approx(1.0, abs=1e-14)
    assert all(a > b for a, b in zip(seen[:9], seen[1:10]))


# --- against PyTorch --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch", reason="PyTorch not installed: no cross-check against it")


def torch_rates(torch, make, base, epochs, edits=()):
    weight = torch.zeros(1, requires_grad=True)
    sgd = torch.optim.SGD([weight], lr=base)
    schedule = make(torch.optim.lr_scheduler, sgd)
    seen = [schedule.get_last_lr()]
    for epoch in range(1, epochs + 1):
        sgd.step()
        if epoch in edits:
            sgd.param_groups[0]["lr"] = edits[epoch]
        schedule.step()
        seen.append(schedule.get_last_lr())
    return seen


def our_rates(make, base, epochs, edits=()):
    sgd = optimizer(base)
    schedule = make(nn, sgd)
    seen = [schedule.get_last_lr()]
    for epoch in range(1, epochs + 1):
        if epoch in edits:
            sgd.lr = edits[epoch]
        schedule.step()
        seen.append(schedule.get_last_lr())
    return seen


@given(base_rates, st.integers(1, 7), gammas, st.integers(1, 80))
def test_step_lr_equals_pytorch_to_the_last_bit(torch, base, step_size, gamma, epochs):
    def make(module, sgd):
        return module.StepLR(sgd, step_size, gamma)

    assert our_rates(make, base, epochs) == torch_rates(torch, make, base, epochs)


@given(base_rates, st.integers(1, 40), st.floats(0.0, 1.0), st.integers(1, 200))
def test_cosine_equals_pytorch_to_the_last_bit(torch, base, period, eta_min, epochs):
    def make(module, sgd):
        return module.CosineAnnealingLR(sgd, period, eta_min)

    assert our_rates(make, base, epochs) == torch_rates(torch, make, base, epochs)


@given(st.integers(1, 30), st.floats(0.0, 1.0))
def test_a_hand_change_of_lr_carries_on_as_in_pytorch(torch, epoch, new_lr):
    # Below eta_min, PyTorch's recursive cosine can go negative; ours refuses that epoch.
    for make in (lambda module, sgd: module.StepLR(sgd, 3, 0.5),
                 lambda module, sgd: module.CosineAnnealingLR(sgd, 7, 1e-3)):
        edits = {epoch: new_lr}
        theirs = torch_rates(torch, make, 0.1, 40, edits)
        negative = next((e for e, (lr,) in enumerate(theirs) if lr < 0), None)
        if negative is None:
            assert our_rates(make, 0.1, 40, edits) == theirs
        else:
            with pytest.raises(ValueError, match=f"refuses the rate for epoch {negative}"):
                our_rates(make, 0.1, 40, edits)
            assert our_rates(make, 0.1, negative - 1, edits) == theirs[:negative]


# --- state and resuming ----------------------------------------------------------------------
SCHEDULES = {
    "StepLR": lambda sgd: nn.StepLR(sgd, step_size=3, gamma=0.5),
    "CosineAnnealingLR": lambda sgd: nn.CosineAnnealingLR(sgd, T_max=5, eta_min=0.01),
}


@pytest.mark.parametrize("name, keys", [
    ("StepLR", ["base_lr", "gamma", "last_epoch", "last_lr", "step_size"]),
    ("CosineAnnealingLR", ["T_max", "base_lr", "eta_min", "last_epoch", "last_lr"]),
])
def test_state_dict_holds_python_numbers(name, keys):
    schedule = SCHEDULES[name](optimizer())
    rates(schedule, 4)
    state = schedule.state_dict()
    assert sorted(state) == keys
    assert state["last_epoch"] == 4 and state["base_lr"] == 0.1
    assert state["last_lr"] == schedule.get_last_lr()[0]
    assert all(type(value) in (int, float) for value in state.values())


@pytest.mark.parametrize("name", SCHEDULES)
@given(before=st.integers(0, 12), after=st.integers(1, 12))
def test_a_resumed_schedule_continues_the_same_rates(name, before, after):
    sgd = optimizer()
    schedule = SCHEDULES[name](sgd)
    rates(schedule, before)
    saved = {key: np.asarray(value) for key, value in schedule.state_dict().items()}  # as an .npz
    saved_optimizer = sgd.state_dict()
    want = rates(schedule, after)

    fresh_sgd = optimizer(lr=3.0)
    fresh = (nn.StepLR(fresh_sgd, step_size=1, gamma=0.9) if name == "StepLR"
             else nn.CosineAnnealingLR(fresh_sgd, T_max=2))
    fresh_sgd.load_state_dict(saved_optimizer)
    fresh.load_state_dict(saved)
    assert fresh.get_last_lr() == [saved_optimizer["lr"]]
    assert rates(fresh, after) == want
    assert fresh.state_dict() == schedule.state_dict()


BAD_STATES = [
    ({"last_epoch": KeyError}, ValueError, "missing 'last_epoch'"),
    ({"milestones": [3]}, ValueError, "unexpected 'milestones'"),
    ({"base_lr": None}, ValueError, "'base_lr' is None"),
    ({"last_epoch": -1}, ValueError, "last_epoch must be >= 0"),
    ({"last_epoch": 2.0}, TypeError, "last_epoch must be an integer"),
    ({"base_lr": math.nan}, ValueError, "base_lr must be finite, got nan"),
    ({"last_lr": np.array(math.inf)}, ValueError, "last_lr must be finite, got inf"),
    ({"step_size": 0}, ValueError, "step_size must be >= 1"),
    ({"gamma": 2**2000}, ValueError, "gamma must be finite"),
    ({"gamma": "0.1"}, TypeError, "gamma must be a number"),
]


@pytest.mark.parametrize("changes, error, words", BAD_STATES)
def test_load_state_dict_refuses_bad_entries_and_changes_nothing(changes, error, words):
    schedule = nn.StepLR(optimizer(), step_size=2)
    rates(schedule, 3)
    before = schedule.state_dict()
    state = dict(before, last_epoch=7)
    for key, value in changes.items():
        if value is KeyError:
            del state[key]
        else:
            state[key] = value
    with pytest.raises(error, match="StepLR.load_state_dict: nothing loaded") as caught:
        schedule.load_state_dict(state)
    assert words in str(caught.value)
    assert schedule.state_dict() == before


def test_load_state_dict_names_every_problem_and_wants_a_mapping():
    schedule = nn.CosineAnnealingLR(optimizer(), T_max=3)
    with pytest.raises(ValueError) as caught:
        schedule.load_state_dict({"T_max": 0, "eta_min": math.inf, "base_lr": 0.1, "x": 1})
    for words in ("missing 'last_epoch', 'last_lr'", "unexpected 'x'", "T_max must be >= 1",
                  "eta_min must be finite"):
        assert words in str(caught.value)
    with pytest.raises(TypeError, match="CosineAnnealingLR.load_state_dict: expected a mapping"):
        schedule.load_state_dict([("T_max", 3)])
    assert schedule.T_max == 3


# --- refusals ------------------------------------------------------------------------------
@pytest.mark.parametrize("make, error, words", [
    (lambda o: nn.StepLR(o, step_size=0), ValueError, "StepLR: step_size must be >= 1"),
    (lambda o: nn.StepLR(o, step_size=1.5), TypeError, "StepLR: step_size must be an integer"),
    (lambda o: nn.StepLR(o, step_size=True), TypeError, "StepLR: step_size must be an integer"),
    (lambda o: nn.StepLR(o, 2, gamma=math.nan), ValueError, "StepLR: gamma must be finite"),
    (lambda o: nn.StepLR(o, 2, gamma=math.inf), ValueError, "StepLR: gamma must be finite"),
    (lambda o: nn.StepLR(o, 2, gamma=2**2000), ValueError, "StepLR: gamma must be finite"),
    (lambda o: nn.StepLR(o, 2, gamma=-0.5), ValueError, "StepLR: gamma must be >= 0"),
    (lambda o: nn.CosineAnnealingLR(o, T_max=0), ValueError,
     "CosineAnnealingLR: T_max must be >= 1"),
    (lambda o: nn.CosineAnnealingLR(o, 5, eta_min=math.nan), ValueError,
     "CosineAnnealingLR: eta_min must be finite"),
    (lambda o: nn.CosineAnnealingLR(o, 5, eta_min=-1.0), ValueError,
     "CosineAnnealingLR: eta_min must be >= 0"),
    (lambda o: nn.StepLR(o.params, 2), TypeError, "StepLR: optimizer must be an nn optimizer"),
])
def test_bad_arguments_change_nothing(make, error, words):
    sgd = optimizer()
    with pytest.raises(error) as caught:
        make(sgd)
    assert words in str(caught.value)
    assert sgd.lr == 0.1


def test_a_rate_the_optimizer_refuses_leaves_the_schedule_where_it_was():
    sgd = optimizer(lr=1e300)
    schedule = nn.StepLR(sgd, step_size=1, gamma=1e10)  # the next rate overflows to inf
    with pytest.raises(ValueError, match="StepLR.step: the optimizer refuses the rate for "
                                         "epoch 1 .SGD: lr must be finite, got inf"):
        schedule.step()
    assert (schedule.last_epoch, schedule.get_last_lr(), sgd.lr) == (0, [1e300], 1e300)


def test_cosine_after_a_hand_change_below_eta_min_refuses_a_negative_rate():
    sgd = optimizer(lr=0.1)
    schedule = nn.CosineAnnealingLR(sgd, T_max=4, eta_min=0.01)
    rates(schedule, 5)
    sgd.lr = 0.0  # the recursive form now gives (0 - 0.01) * 3.4... + 0.01 < 0 (as PyTorch does)
    with pytest.raises(ValueError, match="epoch 6 .SGD: lr must be >= 0, got -0.02"):
        schedule.step()
    assert (schedule.last_epoch, sgd.lr) == (5, 0.0)
