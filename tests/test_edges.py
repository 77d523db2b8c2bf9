"""Edges where the math has a limit or a convention: the numbers PyTorch gives (NumPy's where
PyTorch has none), never a NaN or an error the user did not ask for."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd_lite as ag


def grads(fn, *values):
    leaves = [ag.Tensor(np.asarray(v, dtype=float), requires_grad=True) for v in values]
    out = fn(*leaves)
    out.backward(np.ones(out.shape))
    return [leaf.grad for leaf in leaves]


def test_x_to_the_zero_has_gradient_zero_at_zero() -> None:
    (grad,) = grads(lambda x: x**0, [0.0, 2.0])
    np.testing.assert_array_equal(grad, [0.0, 0.0])
    (grad,) = grads(lambda x: x ** ag.Tensor([0.0, 0.0]), [0.0, -1.5])
    np.testing.assert_array_equal(grad, [0.0, 0.0])


def test_zero_to_the_x_has_gradient_minus_inf_below_zero_and_zero_above() -> None:
    with np.errstate(divide="ignore"):  # 0 ** -1 is inf, as NumPy warns
        (grad,) = grads(lambda e: ag.Tensor(0.0) ** e, [-1.0, 0.0, 2.0])
    np.testing.assert_array_equal(grad, [-np.inf, 0.0, 0.0])


def test_zero_to_the_zero_has_zero_gradients_for_base_and_exponent() -> None:
    grad_base, grad_exponent = grads(lambda x, e: x**e, 0.0, 0.0)
    assert grad_base == 0.0 and grad_exponent == 0.0


@given(st.integers(1, 4), st.integers(0, 3))
def test_mean_var_std_over_a_zero_length_axis_are_nan_like_numpy(rows: int, axis: int) -> None:
    shape = [rows, 2, 3]
    shape[axis % 3] = 0
    data = np.zeros(shape)
    x = ag.Tensor(data, requires_grad=True)
    for name in ("mean", "var", "std"):
        with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):  # NumPy's own warning
            expected = getattr(np, name)(data, axis=axis % 3)
        out = getattr(ag, name)(x, axis=axis % 3)
        np.testing.assert_array_equal(out.data, expected)
        if out.size:
            out.backward(np.ones(out.shape))
            assert x.grad.shape == x.shape


@pytest.mark.parametrize("name", ["var", "std"])
def test_var_and_std_with_ddof_equal_to_the_length_follow_numpy(name: str) -> None:
    data = np.array([[1.0, 2.0, 4.0], [3.0, 3.0, 3.0]])
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):  # NumPy's own warning
        expected = getattr(np, name)(data, axis=1, ddof=3)
    out = getattr(ag, name)(ag.Tensor(data), axis=1, ddof=3)
    np.testing.assert_array_equal(out.data, expected)


def test_std_of_equal_values_has_gradient_zero_not_nan() -> None:
    x = ag.Tensor([2.0, 2.0, 2.0], requires_grad=True)
    x.std().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 0.0])
    y = ag.Tensor([[1.0, 1.0], [1.0, 3.0]], requires_grad=True)
    y.std(axis=1).sum().backward()
    np.testing.assert_allclose(y.grad, [[0.0, 0.0], [-0.5, 0.5]])


def test_a_zero_d_leaf_broadcast_and_reached_twice_sums_both_paths() -> None:
    x0 = ag.Tensor(1.3, requires_grad=True)
    x1 = ag.Tensor([0.5, 2.0, 4.0], requires_grad=True)
    (x0 + x0 / x1).backward(np.ones(3))
    assert type(x0.grad) is np.ndarray and x0.grad.shape == ()
    assert x0.grad == pytest.approx(3 + 2 + 0.5 + 0.25)


def test_a_value_used_directly_and_through_another_op_gets_both_paths() -> None:
    x = ag.Tensor([2.0, 3.0], requires_grad=True)
    (x / (x + 1)).sum().backward()
    np.testing.assert_allclose(x.grad, 1 / (x.data + 1) ** 2)
