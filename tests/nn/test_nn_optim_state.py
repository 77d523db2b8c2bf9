"""Optimizer state: what state_dict holds, resuming bit for bit (through an .npz), and
load_state_dict refusing bad entries while changing nothing."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd_lite as ag
import nn

OPTIMIZERS = {
    "SGD": lambda ps: nn.SGD(ps, lr=0.05, momentum=0.9, weight_decay=0.01),
    "Adam": lambda ps: nn.Adam(ps, lr=0.01, weight_decay=0.01),
    "AdamW": lambda ps: nn.AdamW(ps, lr=0.01),
}
# The same kinds with other hyper-parameters: loading must bring the saved ones back.
OTHERS = {
    "SGD": lambda ps: nn.SGD(ps, lr=1.0),
    "Adam": lambda ps: nn.Adam(ps, lr=0.5, betas=(0.1, 0.2), eps=0.1),
    "AdamW": lambda ps: nn.AdamW(ps, lr=0.5, weight_decay=0.0),
}
X = np.random.default_rng(0).normal(size=(8, 3))
Y = np.random.default_rng(1).normal(size=(8, 2))


def two_parameters() -> tuple[ag.Tensor, ag.Tensor]:
    return ag.Tensor(np.ones((2, 3)), requires_grad=True), ag.Tensor(0.5, requires_grad=True)


def through_npz(state: dict) -> dict:
    buffer = io.BytesIO()
    np.savez(buffer, **state)
    buffer.seek(0)
    with np.load(buffer, allow_pickle=False) as archive:
        return {key: archive[key] for key in archive.files}


def train(model, optimizer, schedule, steps: int) -> None:
    for _ in range(steps):
        optimizer.zero_grad()
        nn.mse_loss(model(X), Y).backward()
        optimizer.step()
        schedule.step()


def bits(arrays) -> list[bytes]:
    return [np.asarray(a).tobytes() for a in arrays]


def assert_same_state(got: dict, want: dict) -> None:
    assert got.keys() == want.keys()
    for key in want:
        assert type(got[key]) is type(want[key]), key
        assert bits([got[key]]) == bits([want[key]]), key


@pytest.mark.parametrize("name", OPTIMIZERS)
@given(before=st.integers(0, 5), after=st.integers(1, 5))
def test_a_resumed_run_equals_an_uninterrupted_one_bit_for_bit(name, before, after):
    model = nn.MLP(3, [5], 2, rng=0)
    optimizer = OPTIMIZERS[name](model.parameters())
    schedule = nn.CosineAnnealingLR(optimizer, T_max=4, eta_min=1e-3)
    train(model, optimizer, schedule, before)
    saved = [through_npz(model.state_dict()), through_npz(optimizer.state_dict()),
             through_npz(schedule.state_dict())]
    train(model, optimizer, schedule, after)

    resumed = nn.MLP(3, [5], 2, rng=99)
    resumed_optimizer = OTHERS[name](resumed.parameters())
    resumed_schedule = nn.CosineAnnealingLR(resumed_optimizer, T_max=9)
    resumed.load_state_dict(saved[0])
    resumed_optimizer.load_state_dict(saved[1])
    resumed_schedule.load_state_dict(saved[2])
    train(resumed, resumed_optimizer, resumed_schedule, after)

    assert bits(resumed.state_dict().values()) == bits(model.state_dict().values())
    assert_same_state(resumed_optimizer.state_dict(), optimizer.state_dict())
    assert resumed_schedule.state_dict() == schedule.state_dict()


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_a_parameter_that_starts_after_the_resume_starts_as_in_an_uninterrupted_run(name):
    # Before the save only `first` has had gradients; `late` starts afterwards, from a
    # gradient with signed zeros on a weight with signed zeros (so momentum's first v = d must
    # hold exactly, -0.0 included).
    def fresh():
        first = ag.Tensor([1.0, -2.0], requires_grad=True)
        late = ag.Tensor([-0.0, 0.0, -0.0, 1.5], requires_grad=True)
        return first, late, OPTIMIZERS[name]([first, late])

    def steps(first, late, optimizer, with_late):
        for grad in ([0.5, 1.0], [-0.5, 2.0]):
            first.grad = np.array(grad)
            late.grad = np.array([-0.0, -0.0, 0.0, 2.0]) if with_late else None
            optimizer.step()

    first, late, optimizer = fresh()
    steps(first, late, optimizer, with_late=False)
    saved_data = [first.numpy(), late.numpy()]
    saved = through_npz(optimizer.state_dict())
    steps(first, late, optimizer, with_late=True)

    first_again, late_again, resumed = fresh()
    first_again.data, late_again.data = saved_data
    resumed.load_state_dict(saved)
    steps(first_again, late_again, resumed, with_late=True)
    assert bits([first_again.data, late_again.data]) == bits([first.data, late.data])
    assert_same_state(resumed.state_dict(), optimizer.state_dict())


# --- what state_dict holds -------------------------------------------------------------------
@pytest.mark.parametrize("name, keys", [
    ("SGD", ["lr", "momentum", "momentum_buffer.0", "momentum_buffer.1", "weight_decay"]),
    ("Adam", ["betas.0", "betas.1", "eps", "exp_avg.0", "exp_avg.1", "exp_avg_sq.0",
              "exp_avg_sq.1", "lr", "step.0", "step.1", "weight_decay"]),
    ("AdamW", ["betas.0", "betas.1", "eps", "exp_avg.0", "exp_avg.1", "exp_avg_sq.0",
               "exp_avg_sq.1", "lr", "step.0", "step.1", "weight_decay"]),
])
def test_state_dict_is_flat_names_to_arrays_and_python_numbers(name, keys):
    weights, bias = two_parameters()
    optimizer = OPTIMIZERS[name]([weights, bias])
    weights.grad = np.full((2, 3), 0.25)
    optimizer.step()
    state = optimizer.state_dict()
    assert sorted(state) == keys
    for key, value in state.items():
        if key.split(".")[0] in ("momentum_buffer", "exp_avg", "exp_avg_sq"):
            assert isinstance(value, np.ndarray)
            assert value.shape == (weights if key.endswith(".0") else bias).shape
        else:
            assert type(value) is (int if key.startswith("step.") else float), key
    assert state["lr"] == optimizer.lr
    if name != "SGD":
        assert (state["step.0"], state["step.1"]) == (1, 0)
        assert (state["betas.0"], state["betas.1"]) == optimizer.betas


def copied(state: dict) -> dict:
    return {key: np.copy(v) if isinstance(v, np.ndarray) else v for key, v in state.items()}


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_state_dict_arrays_are_copies_both_ways(name):
    p = ag.Tensor([1.0, 2.0], requires_grad=True)
    optimizer = OPTIMIZERS[name]([p])
    p.grad = np.ones(2)
    optimizer.step()
    saved = optimizer.state_dict()
    kept = copied(saved)
    optimizer.step()  # later steps do not reach into what was returned
    assert_same_state(saved, kept)
    optimizer.load_state_dict(saved)
    for value in saved.values():
        if isinstance(value, np.ndarray):
            value += 100.0  # nor does the caller reach into what was loaded
    assert_same_state(optimizer.state_dict(), kept)


# --- load_state_dict refuses, naming every bad entry, and changes nothing ------------------
def stepped(name: str):
    weights, bias = two_parameters()
    optimizer = OPTIMIZERS[name]([weights, bias])
    weights.grad, bias.grad = np.full((2, 3), 0.25), np.array(-1.0)
    optimizer.step()
    return optimizer


def with_entries(state: dict, **changes) -> dict:
    changed = copied(state)
    for key, value in changes.items():
        key = key.replace("__", ".")
        if value is KeyError:
            del changed[key]
        else:
            changed[key] = value
    return changed


BAD_STATES = [
    ("SGD", {"lr": KeyError}, ValueError, "missing 'lr'"),
    ("Adam", {"exp_avg_sq__1": KeyError, "step__0": KeyError}, ValueError,
     "missing 'step.0', 'exp_avg_sq.1'"),
    ("SGD", {"nesterov": 1.0}, ValueError, "unexpected 'nesterov'"),
    ("AdamW", {"momentum_buffer__0": np.zeros((2, 3))}, ValueError,
     "unexpected 'momentum_buffer.0'"),
    ("SGD", {"momentum_buffer__0": np.zeros(3)}, ValueError,
     "'momentum_buffer.0' has shape (3,), params[0] has shape (2, 3)"),
    ("Adam", {"exp_avg__1": np.zeros(1)}, ValueError,
     "'exp_avg.1' has shape (1,), params[1] has shape ()"),
    ("Adam", {"lr": None}, ValueError, "'lr' is None"),
    ("SGD", {"momentum_buffer__1": None}, ValueError, "'momentum_buffer.1' is None"),
    ("SGD", {"lr": math.nan}, ValueError, "lr must be finite, got nan"),
    ("Adam", {"eps": np.array(math.inf)}, ValueError, "eps must be finite, got inf"),
    ("AdamW", {"weight_decay": 2**2000}, ValueError, "weight_decay must be finite"),
    ("SGD", {"momentum": -0.5}, ValueError, "momentum must be >= 0"),
    ("Adam", {"betas__1": 1.0}, ValueError, "betas.1 must be in [0, 1.0)"),
    ("Adam", {"step__0": -1}, ValueError, "step.0 must be >= 0"),
    ("Adam", {"step__0": 1.5}, TypeError, "step.0 must be an integer, got 1.5"),
    ("AdamW", {"lr": "0.01"}, TypeError, "lr must be a number, got '0.01'"),
    ("Adam", {"exp_avg__0": np.ones((2, 3), dtype=int)}, TypeError,
     "'exp_avg.0' has dtype int64, not a float dtype"),
    ("SGD", {"momentum_buffer__0": "fast"}, TypeError, "'momentum_buffer.0' has dtype <U4"),
]


@pytest.mark.parametrize("name, changes, error, words", BAD_STATES)
def test_load_state_dict_refuses_bad_entries_and_changes_nothing(name, changes, error, words):
    optimizer, twin = stepped(name), stepped(name)
    before = copied(optimizer.state_dict())
    with pytest.raises(error) as caught:
        optimizer.load_state_dict(with_entries(twin.state_dict(), **changes))
    assert f"{type(optimizer).__name__}.load_state_dict: nothing loaded" in str(caught.value)
    assert words in str(caught.value)
    assert_same_state(optimizer.state_dict(), before)
    for p, q in zip(optimizer.params, twin.params):  # and the next step is the untouched one
        p.grad = q.grad = np.ones(p.shape)
    optimizer.step()
    twin.step()
    assert bits(p.data for p in optimizer.params) == bits(q.data for q in twin.params)


def test_load_state_dict_names_every_problem_at_once():
    optimizer = stepped("Adam")
    state = with_entries(optimizer.state_dict(), lr=math.inf, step__1=None, exp_avg__0=np.ones(4),
                         eps="small", extra=0.0, weight_decay=KeyError)
    with pytest.raises(ValueError) as caught:
        optimizer.load_state_dict(state)
    message = str(caught.value)
    for words in ("missing 'weight_decay'", "unexpected 'extra'", "lr must be finite",
                  "'step.1' is None", "'exp_avg.0' has shape (4,)", "eps must be a number"):
        assert words in message


@pytest.mark.parametrize("state", [None, [("lr", 0.1)], "state.npz"])
def test_load_state_dict_wants_a_mapping(state):
    with pytest.raises(TypeError, match="SGD.load_state_dict: expected a mapping"):
        stepped("SGD").load_state_dict(state)


def test_a_state_for_other_parameters_is_refused():
    small = stepped("SGD").state_dict()
    other = nn.SGD([ag.Tensor(np.ones(4), requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="unexpected 'momentum_buffer.1'") as caught:
        other.load_state_dict(small)
    assert "'momentum_buffer.0' has shape (2, 3), params[0] has shape (4,)" in str(caught.value)


def test_loaded_arrays_take_the_parameters_dtype():
    saved = stepped("Adam").state_dict()
    weights = ag.Tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    bias = ag.Tensor(np.float32(0.5), requires_grad=True)
    optimizer = nn.Adam([weights, bias])
    optimizer.load_state_dict(saved)
    weights.grad, bias.grad = np.ones((2, 3)), np.array(1.0)
    optimizer.step()
    assert weights.dtype == bias.dtype == np.float32
    assert optimizer.state_dict()["exp_avg.0"].dtype == np.float32
