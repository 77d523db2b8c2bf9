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


def test_a_result_changed_in_place_under_no_grad_is_differentiated_at_its_new_values() -> None:
    """As in PyTorch: grad with respect to h needs none of h's own rule, and a tensor made under
    no_grad and then marked requires_grad is a leaf, whatever the order of the outputs."""
    x = ag.Tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    with ag.no_grad():
        h += 1
    (g,) = ag.grad((h * h).sum(), h)
    np.testing.assert_array_equal(g.data, [6.0, 10.0])
    with ag.no_grad():
        s = ag.Tensor(3.0, requires_grad=True) * 2
    s.requires_grad = True
    for outputs in ([s * 1, s], [s, s * 1]):
        (g,) = ag.grad(outputs, s)
        assert g.item() == 2.0
    s.backward()
    assert s.grad == 1.0


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
