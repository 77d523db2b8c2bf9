"""Integer and bool tensors promote as NumPy does, in one place, and never overflow silently
on the way in: a Python number too large for the operation is refused by name."""

from __future__ import annotations

import operator

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

import autograd_lite as ag

INTEGER_DTYPES = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32,
                  np.uint64]


@pytest.mark.parametrize(
    ("make", "value", "dtype"),
    [
        (lambda: ag.Tensor([3], dtype="int64") * 0.5, [1.5], np.float64),
        (lambda: ag.Tensor([3], dtype="int64") + 0.7, [3.7], np.float64),
        (lambda: 2.5 ** ag.Tensor([2], dtype="int64"), [6.25], np.float64),
        (lambda: ag.Tensor([True], dtype=bool) + 2, [3], np.int64),
        (lambda: ag.Tensor([200], dtype=np.uint8) + 100, [44], np.uint8),  # wraps, as NumPy
        (lambda: ag.Tensor([7], dtype=np.int16) / 2, [3.5], np.float64),
        (lambda: ag.Tensor([1, 2], dtype=np.int32) * ag.Tensor([0.5], dtype=np.float32),
         [0.5, 1.0], np.float64),
        (lambda: ag.maximum(ag.Tensor([1, 5], dtype=np.int8), 2.5), [2.5, 5.0], np.float64),
        (lambda: ag.clip(ag.Tensor([1, 5], dtype=np.uint8), 2, 4), [2, 4], np.uint8),
        (lambda: ag.Tensor([2.0], dtype=np.float32) * 3, [6.0], np.float32),
    ],
)
def test_numbers_promote_as_in_numpy(make, value, dtype) -> None:
    out = make()
    assert out.dtype == dtype
    np.testing.assert_array_equal(out.data, value)


REAL_FUNCTIONS = [
    ("exp", np.exp),
    ("log", np.log),
    ("sqrt", np.sqrt),
    ("tanh", np.tanh),
    ("sigmoid", lambda x: 1 / (1 + np.exp(-x))),
    ("gelu", lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))),
    ("softmax", lambda x: np.exp(x - x.max()) / np.exp(x - x.max()).sum()),
    ("log_softmax", lambda x: x - x.max() - np.log(np.exp(x - x.max()).sum())),
    ("mean", np.mean),
    ("var", np.var),
    ("std", np.std),
]


@pytest.mark.parametrize(("name", "reference"), REAL_FUNCTIONS, ids=[f[0] for f in REAL_FUNCTIONS])
@pytest.mark.parametrize("dtype", [*INTEGER_DTYPES, np.bool_])
def test_real_valued_functions_compute_integers_in_float64(name, reference, dtype) -> None:
    values = np.array([0, 1, 2, 100] if dtype != np.bool_ else [True, False, True], dtype=dtype)
    with np.errstate(divide="ignore"):  # log(0) is -inf
        out = getattr(ag, name)(ag.Tensor(values, dtype=dtype))
        expected = reference(values.astype(np.float64))
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.data, expected, rtol=1e-12)


def test_the_functions_of_a_small_unsigned_tensor_are_not_float16() -> None:
    out = ag.sigmoid(ag.Tensor([1, 2], dtype=np.uint8))
    np.testing.assert_allclose(out.data, 1 / (1 + np.exp(-np.array([1.0, 2.0]))), rtol=1e-15)


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: ag.Tensor([1], dtype=np.uint8) + 300, "add"),
        (lambda: ag.Tensor([1], dtype=np.uint8) - -1, "sub"),
        (lambda: 2**70 * ag.Tensor([1], dtype=np.int64), "mul"),
        (lambda: ag.Tensor([1.0]) + 2**2000, "add"),
        (lambda: ag.Tensor([1.0], dtype=np.float32) * 1e300, "mul"),
        (lambda: ag.Tensor([1.0]) ** 2**2000, "pow"),
        (lambda: ag.Tensor([2], dtype=np.int64) ** 2**70, "pow"),
        (lambda: ag.maximum(ag.Tensor([1], dtype=np.int8), 1000), "maximum"),
        (lambda: ag.where(ag.Tensor([True], dtype=bool), ag.Tensor([1], dtype=np.int8), 999),
         "where"),
        (lambda: ag.Tensor([1.0]) < 2**2000, "less"),
        (lambda: ag.step(ag.Tensor([1.0]), 2**2000), "step"),
    ],
)
def test_a_number_too_large_for_the_operation_is_a_value_error(call, name) -> None:
    with pytest.raises(ValueError, match=name):
        call()


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda b: b - b, "sub"),
        (lambda b: -b, "neg"),
        (lambda b: True - b, "sub"),
        (lambda b: ag.Tensor([2], dtype=np.int64) ** -1, "pow"),
        (lambda b: ag.Tensor([2], dtype=np.int64) ** ag.Tensor([-1], dtype=np.int64), "pow"),
    ],
)
def test_what_numpy_has_no_loop_for_is_refused_by_name(call, name) -> None:
    flags = ag.Tensor([True, False], dtype=bool)
    with pytest.raises((TypeError, ValueError), match=name):
        call(flags)
    assert flags.tolist() == [True, False]


def test_comparisons_with_out_of_range_numbers_are_exact() -> None:
    small = ag.Tensor([0, 255], dtype=np.uint8)
    assert (small < 300).tolist() == [True, True]
    assert (small == -1).tolist() == [False, False]
    assert (small > -1).tolist() == [True, True]


@given(
    values=arrays(st.sampled_from([*INTEGER_DTYPES, np.bool_]),
                  array_shapes(min_dims=0, max_dims=2, max_side=3)),
    data=st.data(),
)
def test_reductions_of_integers_match_numpy(values: np.ndarray, data: st.DataObject) -> None:
    x = ag.Tensor(values, dtype=values.dtype)
    for name in ("sum", "mean", "max", "min"):
        if name in ("max", "min") and values.size == 0:
            continue
        with np.errstate(all="ignore"):
            expected = np.asarray(getattr(np, name)(values))
            out = getattr(x, name)()
        assert out.dtype == expected.dtype, name
        np.testing.assert_array_equal(out.data, expected)


def test_integer_tensors_cannot_require_grad_however_asked() -> None:
    with pytest.raises(TypeError, match="floating-point"):
        ag.Tensor([1, 2], dtype=np.int64, requires_grad=True)
    counts = ag.Tensor([1, 2], dtype=np.int64)
    with pytest.raises(TypeError, match="floating-point"):
        counts.requires_grad = True
    assert counts.requires_grad is False
    for operation in (operator.add, operator.mul):
        assert not operation(counts, ag.Tensor([1.0, 2.0])).requires_grad
