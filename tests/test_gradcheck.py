"""gradcheck finds wrong backward rules and leaves the caller's tensors alone."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_lite as ag
from autograd_lite.engine import record
from autograd_lite.tensor import Tensor


def wrong_square(x: Tensor) -> Tensor:
    """x**2 with a deliberately wrong derivative: x instead of 2x."""
    data = x.data

    def backward(grad_out: np.ndarray) -> tuple:
        return (grad_out * data,)

    return record("wrong_square", data**2, (x,), backward)


def test_gradcheck_catches_a_wrong_rule() -> None:
    x = Tensor([0.5, -1.5, 2.0], requires_grad=True)
    with pytest.raises(ag.GradcheckError) as raised:
        ag.gradcheck(wrong_square, x)
    message = str(raised.value)
    # the worst element is the largest |x|: backward says x, finite differences say 2x
    assert "input 0" in message and "(2,)" in message
    assert "2.0" in message and "4.0" in message


def test_gradcheck_passes_a_right_rule_and_copies_inputs() -> None:
    x = Tensor(np.array([0.5, -1.5], dtype=np.float32), requires_grad=True)
    assert ag.gradcheck(lambda t: t * t, x)
    assert x.grad is None and x.dtype == np.float32


def test_gradcheck_only_checks_inputs_that_require_grad() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    assert ag.gradcheck(lambda t, c: wrong_square(c) + t, x, Tensor([3.0, 4.0]))
    with pytest.raises(ValueError, match="requires_grad"):
        ag.gradcheck(lambda t: t, Tensor([1.0]))


def test_gradcheck_counts_an_input_that_does_not_reach_the_output() -> None:
    x = Tensor([1.0], requires_grad=True)
    unused = Tensor([2.0], requires_grad=True)
    assert ag.gradcheck(lambda a, b: a * 3, x, unused)
