"""The graph machinery: fan-in, accumulation, reachability, no_grad, detach, depth, freeing."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

import autograd_lite as ag
from autograd_lite.engine import topological_order, unbroadcast


def test_diamond_sums_both_paths() -> None:
    x = ag.Tensor(2.0, requires_grad=True)
    a, b = x * 3, x.exp()
    (a * b).backward()
    # d/dx (3x * e^x) = 3 e^x + 3x e^x
    assert np.isclose(x.grad, 3 * np.exp(2.0) + 6 * np.exp(2.0))
    assert a.grad == pytest.approx(np.exp(2.0)) and b.grad == pytest.approx(6.0)


def test_input_used_many_times() -> None:
    x = ag.Tensor([1.0, -2.0], requires_grad=True)
    (x + x + x * x + x).sum().backward()
    np.testing.assert_array_equal(x.grad, 3 + 2 * x.data)
    y = ag.Tensor(3.0, requires_grad=True)
    (y + y).backward()  # a + a keeps both edges
    assert y.grad == 2.0


def test_two_backward_calls_accumulate_until_zero_grad() -> None:
    w = ag.Tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    loss.backward()
    loss.backward()
    np.testing.assert_array_equal(w.grad, 4 * w.data)
    w.zero_grad()
    assert w.grad is None
    loss.backward()
    np.testing.assert_array_equal(w.grad, 2 * w.data)


def test_grad_is_kept_on_intermediates() -> None:
    x = ag.Tensor([1.0, 2.0], requires_grad=True)
    hidden = x * 2
    hidden.sigmoid().sum().backward()
    s = 1 / (1 + np.exp(-hidden.data))
    np.testing.assert_allclose(hidden.grad, s * (1 - s))


def test_input_that_does_not_reach_the_output_gets_no_grad() -> None:
    x = ag.Tensor(1.0, requires_grad=True)
    unused = ag.Tensor(5.0, requires_grad=True)
    side = unused * 2
    (x * 3).backward()
    assert unused.grad is None and side.grad is None and x.grad == 3.0


def test_constants_get_no_grad_and_are_not_walked() -> None:
    x = ag.Tensor([1.0], requires_grad=True)
    constant = ag.Tensor([2.0])
    out = (x * constant).sum()
    assert [node.op for node in topological_order(out)] == ["sum", "mul", None]
    out.backward()
    assert constant.grad is None and not constant.requires_grad


def test_no_grad_records_nothing() -> None:
    x = ag.Tensor(1.0, requires_grad=True)
    with ag.no_grad():
        y = x * 2 + 1
        assert not ag.is_grad_enabled()
    assert ag.is_grad_enabled()
    assert not y.requires_grad and y.op is None and y.parents == ()
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


def test_no_grad_restores_state_after_an_error() -> None:
    with pytest.raises(ZeroDivisionError), ag.no_grad():
        raise ZeroDivisionError
    assert ag.is_grad_enabled()


def test_detach_cuts_the_graph_and_shares_data() -> None:
    x = ag.Tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.parents == () and np.shares_memory(d.data, y.data)
    (d * x).sum().backward()
    np.testing.assert_array_equal(x.grad, y.data)


def test_a_detached_copy_stays_a_constant_when_differentiated_twice() -> None:
    """d/dx (c * x**2) with c = x.detach() is 2 c x, and its derivative 2 c: c must not be
    mistaken for x although it shares x's memory."""
    x = ag.Tensor([0.3, 0.7], requires_grad=True)
    for program in (lambda: x.detach() * x * x, lambda: x * x * x.detach()):
        (first,) = ag.grad(program().sum(), x, create_graph=True)
        (second,) = ag.grad(first.sum(), x)
        np.testing.assert_allclose(first.data, 2 * x.data * x.data)
        np.testing.assert_allclose(second.data, 2 * x.data)


def test_million_op_chain_backpropagates() -> None:
    x = ag.Tensor(0.5, requires_grad=True)
    y = x
    for _ in range(1_000_000):
        y = y * 1.0
    y.backward()
    assert x.grad == 1.0


def test_graph_is_freed_by_reference_counting() -> None:
    gc.collect()
    gc.disable()
    try:
        x = ag.Tensor(np.ones(3), requires_grad=True)
        out = ((x * 2).sigmoid() + x).sum()
        out.backward()
        middle = weakref.ref(out.parents[0])
        del out
        assert middle() is None  # freed at once: no reference cycle holds it
    finally:
        gc.enable()


def test_backward_needs_grad_for_non_scalar() -> None:
    x = ag.Tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match=r"one-element.*\(2,\)"):
        y.backward()
    assert x.grad is None
    y.backward(np.array([1.0, 10.0]))
    np.testing.assert_array_equal(x.grad, [2.0, 20.0])
    y.backward(ag.Tensor([1.0, 1.0]))
    np.testing.assert_array_equal(x.grad, [4.0, 22.0])


def test_backward_checks_grad_shape() -> None:
    x = ag.Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"backward: grad has shape \(3,\).*\(2,\)"):
        (x * 2).backward(np.ones(3))
    assert x.grad is None
    z = ag.Tensor([[1.0]], requires_grad=True)
    (z * 3).backward(2.0)  # a number is fine for a one-element tensor
    assert z.grad.shape == (1, 1) and z.grad[0, 0] == 6.0


def test_leaf_gradients_are_private_arrays() -> None:
    a = ag.Tensor([1.0], requires_grad=True)
    b = ag.Tensor([2.0], requires_grad=True)
    (a + b).sum().backward()
    a.grad *= 0.5  # editing one gradient in place leaves the other alone
    assert b.grad[0] == 1.0


def test_broadcast_gradients_are_reduced_to_each_shape() -> None:
    row = ag.Tensor(np.ones((1, 3)), requires_grad=True)
    column = ag.Tensor(np.ones((2, 1)), requires_grad=True)
    scalar = ag.Tensor(1.0, requires_grad=True)
    (row * column * scalar).sum().backward()
    assert row.grad.shape == (1, 3) and np.all(row.grad == 2)
    assert column.grad.shape == (2, 1) and np.all(column.grad == 3)
    assert scalar.grad.shape == () and scalar.grad == 6


def test_unbroadcast_examples() -> None:
    np.testing.assert_array_equal(unbroadcast(np.ones((4, 2, 3)), (2, 1)), np.full((2, 1), 12.0))
    np.testing.assert_array_equal(unbroadcast(np.ones((2, 3)), ()), np.array(6.0))


def test_name_scope_tags_tensors() -> None:
    x = ag.Tensor(1.0, requires_grad=True)
    with ag.name_scope("outer"), ag.name_scope("inner"):
        y = x * 2
    assert y.scope == ("outer", "inner") and x.scope == ()


def test_requires_grad_switched_on_after_forward_is_not_an_error() -> None:
    x = ag.Tensor([1.0, 2.0])
    w = ag.Tensor([3.0, 4.0], requires_grad=True)
    loss = (x * w).sum()
    x.requires_grad = True  # too late for this graph: mul did not keep a gradient for x
    loss.backward()
    np.testing.assert_array_equal(w.grad, [1.0, 2.0])
    assert x.grad is None


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the infinities are the point
def test_backward_restores_the_garbage_collector() -> None:
    x = ag.Tensor(1.0, requires_grad=True)
    gc.enable()
    (x * 2).backward()
    assert gc.isenabled()
    gc.disable()
    try:
        (x * 2).backward()
        assert not gc.isenabled()
    finally:
        gc.enable()
    zero = ag.Tensor(0.0, requires_grad=True)
    with ag.detect_anomaly(), pytest.raises(ag.AnomalyError):
        ag.sqrt(zero).backward()  # raises inside the pass: infinite gradient at 0
    assert gc.isenabled()


@pytest.mark.parametrize(
    "make",
    [lambda a, b: (a + b).sum(), lambda a, b: (a.reshape(3, 1) + b).sum(),
     lambda a, b: (a.sum() + b.sum()), lambda a, b: (a.T * b).sum(), lambda a, b: (a - b).sum()],
)
def test_every_leaf_gradient_is_its_own_writable_array(make) -> None:
    a = ag.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = ag.Tensor([4.0, 5.0, 6.0], requires_grad=True)
    out = make(a, b)
    out.backward()
    for leaf in (a, b):
        assert leaf.grad.flags.writeable and leaf.grad.flags.owndata
    assert not np.shares_memory(a.grad, b.grad)
    before = b.grad.copy()
    a.grad *= 10.0  # gradient clipping in place touches only a
    np.testing.assert_array_equal(b.grad, before)


def test_one_name_scope_object_can_be_reentered() -> None:
    scope = ag.name_scope("block")
    with scope:
        with scope:
            inner = ag.Tensor(1.0, requires_grad=True) * 2
        outer = ag.Tensor(1.0, requires_grad=True) * 2
    assert inner.scope == ("block", "block") and outer.scope == ("block",)
    assert (ag.Tensor(1.0, requires_grad=True) * 2).scope == ()


def test_fan_in_sums_in_place_without_touching_shared_gradients() -> None:
    w = ag.Tensor([1.0, 2.0], requires_grad=True)
    x = ag.Tensor([3.0, 4.0], requires_grad=True)
    hidden = x + x  # add hands the same gradient array to both of its inputs
    total = hidden * w
    for _ in range(5):
        total = total + hidden * w  # w and hidden are used six times each
    out = total.sum()
    out.backward()
    np.testing.assert_array_equal(w.grad, 6 * (2 * x.data))
    np.testing.assert_array_equal(x.grad, 12 * w.data)
    np.testing.assert_array_equal(hidden.grad, 6 * w.data)
    np.testing.assert_array_equal(total.grad, [1.0, 1.0])  # shared arrays were not summed into
    np.testing.assert_array_equal(out.grad, 1.0)


def test_backward_after_a_parameter_was_rebound_inside_no_grad_says_so() -> None:
    w = ag.Tensor([1.0, 2.0], requires_grad=True, name="w")
    (w * w).sum().backward()
    with ag.no_grad():
        w = w - 0.1 * w.grad  # the habit that makes a new tensor
    loss = (w * 3).sum()
    with pytest.raises(RuntimeError, match=r"'w'.*no_grad\(\).*w -= lr \* w.grad"):
        loss.backward()
    with pytest.raises(RuntimeError, match="create its inputs with requires_grad=True"):
        (ag.Tensor([1.0]) * 2).sum().backward()
