"""Silent wrong gradients are caught: edited saved arrays, replaced data, NaN and inf."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_lite as ag


def test_saved_arrays_cannot_be_edited_in_place() -> None:
    w = ag.Tensor([1.0, 2.0], requires_grad=True)
    y = (w * w).sum()
    with pytest.raises(ValueError, match="read-only"):
        w.data[0] = 100.0
    with pytest.raises(ValueError, match="read-only"):
        w.data -= 1.0
    y.backward()
    np.testing.assert_array_equal(w.grad, [2.0, 4.0])


def test_intermediate_outputs_are_read_only_too() -> None:
    x = ag.Tensor([0.5], requires_grad=True)
    s = x.sigmoid()  # sigmoid keeps its output for backward
    with pytest.raises(ValueError, match="read-only"):
        s.data[0] = 0.0


def test_arrays_the_user_hands_in_are_copied() -> None:
    weights = np.array([1.0, 2.0])
    inputs = np.array([3.0, 4.0])
    w = ag.Tensor(weights, requires_grad=True)
    y = (w * inputs).sum()
    weights[0] = inputs[0] = -50.0  # edits after the forward pass do not reach the graph
    y.backward()
    np.testing.assert_array_equal(w.grad, [3.0, 4.0])
    np.testing.assert_array_equal(w.data, [1.0, 2.0])
    assert weights.flags.writeable and inputs.flags.writeable


@pytest.mark.parametrize("when", ["assignment", "optimizer-like step"])
def test_backward_refuses_data_replaced_after_forward(when: str) -> None:
    w = ag.Tensor([1.0, 2.0], requires_grad=True, name="w")
    x = ag.Tensor([3.0, 4.0])
    loss = ag.sigmoid(ag.dot(w, x))
    if when == "assignment":
        w.data = np.array([5.0, 6.0])
    else:
        w.data = w.data - 0.1 * np.ones(2)
    with pytest.raises(RuntimeError, match=r"'w' got new data after dot used it"):
        loss.backward()
    assert w.grad is None  # refused before any gradient was written


@pytest.mark.parametrize("replace", ["assignment", "in place under no_grad"])
@pytest.mark.parametrize("start", ["itself", "a later consumer", "grad()"])
def test_backward_refuses_a_result_whose_own_values_were_replaced(replace, start) -> None:
    """Its operation's gradient belongs to the values it computed, not to the new ones: from the
    result itself, or from an operation that used the new values, backward is refused."""
    x = ag.Tensor([0.5, -1.0], requires_grad=True)
    s = ag.sigmoid(x)
    if replace == "assignment":
        s.data = np.zeros(2)
    else:
        with ag.no_grad():
            s += 1.0
    run = {
        "itself": lambda: s.backward(np.ones(2)),
        "a later consumer": lambda: (s * 3).sum().backward(),
        "grad()": lambda: ag.grad((s * 3).sum(), x),
    }[start]
    with pytest.raises(RuntimeError, match="new values assigned after sigmoid computed it"):
        run()
    assert x.grad is None and s.grad is None  # refused before any gradient was written
    s.detach().sum()  # its values can still start a new graph


def test_data_replaced_before_forward_is_fine() -> None:
    w = ag.Tensor([1.0, 2.0], requires_grad=True)
    w.data = np.array([3.0, 4.0])
    (w * w).sum().backward()
    np.testing.assert_array_equal(w.grad, [6.0, 8.0])


def test_numpy_gives_an_editable_copy() -> None:
    w = ag.Tensor([1.0, 2.0])
    copy = w.numpy()
    copy[0] = 9.0
    assert w.data[0] == 1.0


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the infinities are the point
def test_anomaly_mode_names_the_forward_operation_and_the_line() -> None:
    x = ag.Tensor([1.0, 0.0], requires_grad=True)
    with pytest.raises(ag.AnomalyError) as raised, ag.detect_anomaly():
        y = x * 2
        ag.log(y - 2)  # log(0) and log(-2): the line named in the error
    message = str(raised.value)
    assert message.startswith("log: forward output holds nan and -inf")
    assert "(2,)" in message and "test_safety.py" in message and "ag.log(y - 2)" in message


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the infinities are the point
def test_anomaly_mode_names_the_backward_operation() -> None:
    x = ag.Tensor([0.0, 4.0], requires_grad=True)
    with ag.detect_anomaly():
        y = ag.sqrt(x).sum()  # finite forward, but d sqrt/dx at 0 is inf
        with pytest.raises(ag.AnomalyError) as raised:
            y.backward()
    message = str(raised.value)
    assert message.startswith("sqrt: backward gives inf")
    assert "ag.sqrt(x).sum()" in message


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the infinities are the point
def test_anomaly_mode_is_off_by_default_and_restored() -> None:
    x = ag.Tensor([0.0], requires_grad=True)
    with np.errstate(divide="ignore"):
        y = ag.log(x)
    assert np.isneginf(y.data[0]) and y.origin is None
    with pytest.raises(ag.AnomalyError), ag.detect_anomaly():
        ag.log(x)
    with np.errstate(divide="ignore"):
        ag.log(x)  # off again
