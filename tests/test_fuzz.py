"""A fuzzer over the public API: bad input either works or fails cleanly, and harms nothing.

Every public function and constructor gets Hypothesis-drawn junk for every argument: wrong
shapes, object/string/complex/bool dtypes, empty arrays, NaN and inf, huge numbers, and
values of the wrong type. Each call must either return normally or raise ValueError or
TypeError (IndexError for indexing) with a message naming the function, and no tensor,
gradient or parameter that existed before may change.

Integer and bool tensors meet Python numbers at and past the edges of their dtypes, under every
arithmetic, comparison and bitwise operator: the result must be NumPy's, value and dtype, or a clear
refusal where NumPy refuses too (or a ValueError saying the number does not fit).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

import autograd_lite as ag

SHAPES = array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=3)
FLOATS = st.floats(allow_nan=True, allow_infinity=True, width=64)


def float_arrays(dtype: Any = np.float64) -> st.SearchStrategy[np.ndarray]:
    return arrays(dtype, SHAPES, elements=st.floats(allow_nan=True, allow_infinity=True,
                                                     width=32 if dtype == np.float32 else 64))


JUNK = st.one_of(
    st.none(),
    st.text(max_size=3),
    st.binary(max_size=3),
    st.booleans(),
    st.integers(-(10**30), 10**30),
    FLOATS,
    st.complex_numbers(allow_nan=False, max_magnitude=10),
    float_arrays(),
    float_arrays(np.float32),
    arrays(np.complex128, SHAPES),
    arrays(np.bool_, SHAPES),
    arrays(np.int64, SHAPES, elements=st.integers(-5, 5)),
    st.just(np.array([None, 1.0], dtype=object)),
    st.just(np.array(["a", "b"])),
    st.lists(st.one_of(FLOATS, st.text(max_size=2), st.none()), max_size=3),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
    st.tuples(st.integers(-3, 3), st.integers(-3, 3)),
    float_arrays().map(lambda a: ag.Tensor(a, requires_grad=True)),
    st.just(object()),
)

SMALL_INT_OR_JUNK = st.one_of(st.integers(-4, 4), JUNK)


def _unary(name: str) -> tuple[str, Callable, int]:
    return name, getattr(ag, name), 1


# (name the error must mention, callable, number of junk arguments)
CALLS: list[tuple[str, Callable, int]] = [
    *(_unary(name) for name in ["exp", "log", "tanh", "sigmoid", "relu", "abs", "sqrt", "neg",
                                "softmax", "log_softmax", "flatten", "squeeze"]),
    *((name, getattr(ag, name), 2) for name in ["add", "sub", "mul", "div", "pow", "matmul",
                                                 "dot", "maximum", "minimum"]),
    ("step", ag.step, 2),
    ("where", ag.where, 3),
    ("clip", ag.clip, 3),
    ("sum", ag.sum, 3),
    ("mean", ag.mean, 3),
    ("max", ag.max, 3),
    ("min", ag.min, 3),
    ("var", ag.var, 4),
    ("std", ag.std, 4),
    ("reshape", ag.reshape, 3),
    ("transpose", ag.transpose, 3),
    ("unsqueeze", ag.unsqueeze, 2),
    ("concatenate", ag.concatenate, 2),
    ("stack", ag.stack, 2),
    ("conv2d", ag.conv2d, 5),
    ("max_pool2d", ag.max_pool2d, 3),
    ("avg_pool2d", ag.avg_pool2d, 3),
    ("argmax", ag.argmax, 2),
    ("argmin", ag.argmin, 2),
    ("zeros_like", ag.zeros_like, 1),
    ("ones_like", ag.ones_like, 1),
    ("Tensor", lambda data, requires_grad: ag.tensor(data, requires_grad=requires_grad), 2),
    ("getitem", lambda index: ag.Tensor(np.ones((2, 3)))[index], 1),
    ("Tensor", lambda data, dtype: ag.Tensor(data, dtype=dtype), 2),
    ("backward", lambda grad: (ag.Tensor([[1.0, 2.0]], requires_grad=True) * 2).backward(grad), 1),
    ("to_dot", ag.to_dot, 1),
]


class Bystanders:
    """Tensors made before the call, with data and gradients, that must come out untouched."""

    def __init__(self) -> None:
        self.leaf = ag.Tensor([[1.0, -2.0, 3.0]], requires_grad=True)
        self.other = ag.Tensor(np.arange(4.0, dtype=np.float32), requires_grad=True)
        (self.leaf.sigmoid().sum() + self.other.sum()).backward()
        self.snapshot = self.state()

    def state(self) -> list[np.ndarray]:
        return [array.copy() for t in (self.leaf, self.other) for array in (t.data, t.grad)]

    def assert_untouched(self, extra: list[Any]) -> None:
        for before, now in zip(self.snapshot, self.state()):
            np.testing.assert_array_equal(before, now)
        for value, copy in extra:
            if isinstance(value, ag.Tensor):
                np.testing.assert_array_equal(value.data, copy)
            elif isinstance(value, np.ndarray):
                np.testing.assert_array_equal(value, copy)


def _copies(arguments: list[Any]) -> list[tuple[Any, Any]]:
    out = []
    for value in arguments:
        if isinstance(value, ag.Tensor):
            out.append((value, value.data.copy()))
        elif isinstance(value, np.ndarray) and value.dtype != object:
            out.append((value, value.copy()))
    return out


@pytest.mark.parametrize(("name", "call", "arity"), CALLS, ids=[c[0] for c in CALLS])
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_junk_either_works_or_fails_cleanly(name: str, call: Callable, arity: int, data) -> None:
    bystanders = Bystanders()
    arguments = [data.draw(JUNK if i == 0 else SMALL_INT_OR_JUNK) for i in range(arity)]
    extra = _copies(arguments)
    allowed: tuple[type[Exception], ...] = (ValueError, TypeError)
    if name == "getitem":
        allowed += (IndexError,)
    if name == "backward":
        allowed += (RuntimeError,)  # the contract's error for a missing grad
    with np.errstate(all="ignore"):
        try:
            result = call(*arguments)
        except allowed as error:
            assert name in str(error), f"{type(error).__name__} without {name!r}: {error}"
        else:
            if isinstance(result, ag.Tensor):
                assert result.data.dtype.kind in "biuf"
    bystanders.assert_untouched(extra)


# --- integer and bool tensors against NumPy ----------------------------------------------------
SMALL_DTYPES = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64,
                np.bool_]
BINARY = [
    ("add", lambda a, b: a + b),
    ("sub", lambda a, b: a - b),
    ("mul", lambda a, b: a * b),
    ("div", lambda a, b: a / b),
    ("pow", lambda a, b: a**b),
    ("less", lambda a, b: a < b),
    ("less_equal", lambda a, b: a <= b),
    ("greater", lambda a, b: a > b),
    ("greater_equal", lambda a, b: a >= b),
    ("equal", lambda a, b: a == b),
    ("not_equal", lambda a, b: a != b),
    ("bitwise_and", lambda a, b: a & b),
    ("bitwise_or", lambda a, b: a | b),
    ("bitwise_xor", lambda a, b: a ^ b),
]
MIRRORED = {"less": "greater", "less_equal": "greater_equal", "greater": "less",
            "greater_equal": "less_equal"}  # number < tensor is tensor > number


@st.composite
def edge_numbers(draw: Any, dtype: Any) -> Any:
    """Python numbers at and just past the edges of ``dtype``, and a few that are too large
    for anything."""
    limits = np.iinfo(np.int64 if dtype == np.bool_ else dtype)
    edges = [int(limits.min), int(limits.max), int(limits.min) - 1, int(limits.max) + 1]
    return draw(st.one_of(
        st.sampled_from(edges + [0, 1, -1, 2, 3, 2**64, -(2**63) - 1, 2**2000]),
        st.sampled_from([0.5, -2.5, 1e300, -0.0, float("nan"), float("inf")]),
        st.booleans(),
        st.integers(-300, 300),
    ))


@pytest.mark.parametrize(("name", "operation"), BINARY, ids=[b[0] for b in BINARY])
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_integer_and_bool_tensors_with_numbers_match_numpy_or_fail_cleanly(
    name: str, operation: Callable, data
) -> None:
    dtype = data.draw(st.sampled_from(SMALL_DTYPES))
    values = data.draw(arrays(dtype, array_shapes(min_dims=0, max_dims=2, max_side=3)))
    number = data.draw(edge_numbers(dtype))
    number_first = data.draw(st.booleans())
    bystanders = Bystanders()
    x = ag.Tensor(values, dtype=dtype)
    pair = (number, x) if number_first else (x, number)
    reference_pair = (number, values) if number_first else (values, number)
    with np.errstate(all="ignore"):
        try:
            expected: Any = np.asarray(operation(*reference_pair))
        except (OverflowError, TypeError, ValueError) as error:
            expected = error
        try:
            result = operation(*pair)
        except (ValueError, TypeError) as error:
            names = (name, MIRRORED.get(name, name))
            assert any(n in str(error) for n in names), f"{error!r} does not name {name}"
            assert isinstance(expected, Exception) or "does not fit" in str(error), (
                f"NumPy gives {expected!r} but {name} refused: {error}"
            )
        else:
            assert not isinstance(expected, Exception), f"NumPy: {expected!r}; we: {result}"
            assert result.dtype == expected.dtype and result.shape == expected.shape
            np.testing.assert_array_equal(result.data, expected)
    np.testing.assert_array_equal(x.data, values)
    bystanders.assert_untouched([])
