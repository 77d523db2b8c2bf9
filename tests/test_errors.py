"""Bad operands: the contract's error type, a message naming the op and shapes, nothing changed."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_lite as ag


def fresh():
    """Tensors with data and gradients already in place, to prove errors change neither."""
    a = ag.Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    b = ag.Tensor(np.arange(4.0), requires_grad=True)
    (a.sum() + b.sum()).backward()
    return a, b


BAD_CALLS = [
    ("add", lambda a, b: a + b, ValueError, ["add", "(2, 3)", "(4,)"]),
    ("sub", lambda a, b: b - a, ValueError, ["sub", "(4,)", "(2, 3)"]),
    ("mul", lambda a, b: ag.mul(a, b), ValueError, ["mul", "(2, 3)", "(4,)"]),
    ("div", lambda a, b: a / b, ValueError, ["div", "(2, 3)", "(4,)"]),
    ("pow", lambda a, b: a**b, ValueError, ["pow", "(2, 3)", "(4,)"]),
    ("matmul", lambda a, b: a @ b, ValueError, ["matmul", "(2, 3)", "(4,)"]),
    ("matmul scalar", lambda a, b: a @ 2.0, ValueError, ["matmul", "(2, 3)", "()"]),
    ("dot", lambda a, b: ag.dot(a, b), ValueError, ["dot", "(2, 3)", "(4,)"]),
    ("dot 3-D", lambda a, b: ag.dot(a.reshape(1, 2, 3), b), ValueError, ["dot", "(1, 2, 3)"]),
    ("maximum", lambda a, b: ag.maximum(a, b), ValueError, ["maximum", "(2, 3)", "(4,)"]),
    ("where", lambda a, b: ag.where(a > 1, a, b), ValueError, ["where", "(2, 3)", "(4,)"]),
    (
        "concatenate",
        lambda a, b: ag.concatenate([a, b]),
        ValueError,
        ["concatenate", "(2, 3)", "(4,)"],
    ),
    ("stack", lambda a, b: ag.stack([a, b]), ValueError, ["stack", "(2, 3)", "(4,)"]),
    ("reshape", lambda a, b: a.reshape(4, 2), ValueError, ["reshape", "(2, 3)", "(4, 2)"]),
    ("transpose", lambda a, b: a.transpose(0, 0), ValueError, ["transpose", "(2, 3)"]),
    ("sum axis", lambda a, b: a.sum(axis=2), ValueError, ["sum", "axis 2"]),
    ("softmax axis", lambda a, b: a.softmax(axis=5), ValueError, ["softmax", "axis 5"]),
    ("squeeze", lambda a, b: a.squeeze(0), ValueError, ["squeeze", "(2, 3)"]),
    ("clip no bounds", lambda a, b: a.clip(), ValueError, ["clip"]),
    ("getitem", lambda a, b: a[5], IndexError, ["getitem", "(2, 3)"]),
    ("getitem zero step", lambda a, b: a[0, ::0], ValueError, ["getitem", "step", "(2, 3)"]),
    ("getitem float index", lambda a, b: a[b[:2]], IndexError, ["getitem", "float64"]),
    ("flatten None", lambda a, b: a.flatten(None), TypeError, ["flatten", "None"]),
    ("flatten list", lambda a, b: a.flatten([0, 1]), TypeError, ["flatten", "[0, 1]"]),
    ("unsqueeze bool", lambda a, b: a.unsqueeze(True), TypeError, ["unsqueeze", "True"]),
    ("sum keepdims", lambda a, b: a.sum(keepdims="yes"), TypeError, ["sum", "keepdims"]),
    ("too large", lambda a, b: a * 2**2000, ValueError, ["mul", "float64"]),
    ("in place", lambda a, b: a.__iadd__(1.0), RuntimeError, ["add", "no_grad"]),
    ("max empty", lambda a, b: ag.max(np.zeros((0,))), ValueError, ["max", "(0,)"]),
    ("string operand", lambda a, b: a + "abc", TypeError, ["add", "str"]),
    ("None operand", lambda a, b: a * None, TypeError, ["mul", "None"]),
    ("string in a list", lambda a, b: b - [1, "x", 2, 3], TypeError, ["sub"]),
    ("object operand", lambda a, b: ag.sigmoid(object()), TypeError, ["sigmoid", "object"]),
    ("complex operand", lambda a, b: ag.exp(1j), TypeError, ["exp", "complex"]),
    ("string threshold", lambda a, b: ag.step(a, "0"), TypeError, ["step", "threshold"]),
    ("backward no grad", lambda a, b: (a * 2).backward(), RuntimeError, ["backward", "(2, 3)"]),
    (
        "backward wrong grad",
        lambda a, b: (a * 2).backward(np.ones(3)),
        ValueError,
        ["backward", "(3,)", "(2, 3)"],
    ),
    ("backward string grad", lambda a, b: (a * 2).backward("x"), TypeError, ["backward"]),
]


@pytest.mark.parametrize(
    ("label", "call", "error", "words"), BAD_CALLS, ids=[c[0] for c in BAD_CALLS]
)
def test_bad_operands_raise_clear_errors_and_change_nothing(label, call, error, words) -> None:
    a, b = fresh()
    before = [(t.data.copy(), t.grad.copy()) for t in (a, b)]
    with pytest.raises(error) as raised:
        call(a, b)
    message = str(raised.value)
    for word in words:
        assert word in message, f"{word!r} missing from {message!r}"
    for tensor, (data, grad) in zip((a, b), before):
        np.testing.assert_array_equal(tensor.data, data)
        np.testing.assert_array_equal(tensor.grad, grad)


def test_backward_on_a_tensor_that_does_not_require_grad() -> None:
    with pytest.raises(RuntimeError, match="does not require grad"):
        ag.Tensor(1.0).backward()
