"""Constructing tensors and reading them back."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_lite as ag


@pytest.mark.parametrize(
    ("data", "dtype"),
    [
        (1, np.float64),
        (True, np.float64),
        ([1, 2], np.float64),
        (np.arange(3), np.float64),
        (np.float32(1.5), np.float32),
        (np.ones(2, dtype=np.float32), np.float32),
        (2.5, np.float64),
    ],
)
def test_dtypes(data, dtype) -> None:
    assert ag.Tensor(data).dtype == dtype


def test_explicit_dtype_and_scalars() -> None:
    assert ag.Tensor([1, 2], dtype=np.float32).dtype == np.float32
    scalar = ag.Tensor(3.0)
    assert scalar.shape == () and scalar.ndim == 0 and scalar.size == 1 and scalar.item() == 3.0


def test_attributes() -> None:
    t = ag.Tensor(np.zeros((2, 3)), requires_grad=True, name="w")
    assert (t.shape, t.ndim, t.size, t.name, t.op, t.parents, t.grad) == (
        (2, 3),
        2,
        6,
        "w",
        None,
        (),
        None,
    )
    assert t.T.shape == (3, 2)
    assert "name='w'" in repr(t) and "requires_grad=True" in repr(t)


def test_numpy_returns_a_copy_and_input_arrays_are_copied() -> None:
    source = np.array([1.0, 2.0])
    t = ag.Tensor(source)
    source[0] = 100.0
    assert t.data[0] == 1.0
    t.numpy()[1] = 50.0
    assert t.data[1] == 2.0


def test_tensor_from_tensor_copies() -> None:
    a = ag.Tensor([1.0, 2.0])
    b = ag.Tensor(a)
    assert not np.shares_memory(a.data, b.data)
    np.testing.assert_array_equal(a.data, b.data)


def test_item_needs_one_element() -> None:
    with pytest.raises(ValueError, match=r"item.*\(2,\)"):
        ag.Tensor([1.0, 2.0]).item()


@pytest.mark.parametrize("bad", ["abc", None, {"a": 1}, [1, "x"], 1 + 2j, object()])
def test_non_numeric_data_is_refused(bad) -> None:
    with pytest.raises(TypeError, match="Tensor"):
        ag.Tensor(bad)


def test_assigning_data_is_allowed() -> None:
    w = ag.Tensor([1.0, 2.0], requires_grad=True)
    w.data = np.array([3.0, 4.0])
    (w * w).sum().backward()
    np.testing.assert_array_equal(w.grad, [6.0, 8.0])


@pytest.mark.parametrize("dtype", [None, np.float64, np.float32, np.int64])
def test_complex_data_is_refused_even_with_a_real_dtype(dtype) -> None:
    with pytest.raises(TypeError, match="complex"):
        ag.Tensor(np.array([1.0 + 1.0j]), dtype=dtype)


@pytest.mark.parametrize("bad", ["no", 1, 0, None, np.array([True])])
def test_requires_grad_must_be_a_bool(bad) -> None:
    with pytest.raises(TypeError, match="requires_grad"):
        ag.Tensor([1.0], requires_grad=bad)
    t = ag.Tensor([1.0])
    with pytest.raises(TypeError, match="requires_grad"):
        t.requires_grad = bad
    assert t.requires_grad is False
    t.requires_grad = np.True_  # NumPy's bools are bools
    assert t.requires_grad is True


def test_only_float_tensors_require_grad_by_constructor_or_by_assignment() -> None:
    for dtype in (np.int64, np.uint8, np.bool_):
        with pytest.raises(TypeError, match="floating-point"):
            ag.Tensor([1], dtype=dtype, requires_grad=True)
        t = ag.Tensor([1], dtype=dtype)
        with pytest.raises(TypeError, match="floating-point"):
            t.requires_grad = True
        assert t.requires_grad is False
        t.requires_grad = False


@pytest.mark.parametrize("bad", [5, b"w", ["w"], 1.5])
def test_name_must_be_a_string_or_none(bad) -> None:
    with pytest.raises(TypeError, match="name"):
        ag.Tensor(1.0, name=bad)
    t = ag.Tensor(1.0, name="w")
    with pytest.raises(TypeError, match="name"):
        t.name = bad
    assert t.name == "w"
    t.name = None
    assert t.name is None


def test_a_masked_array_is_refused_rather_than_losing_its_mask() -> None:
    masked = np.ma.masked_array([1.0, 2.0], mask=[False, True])
    with pytest.raises(TypeError, match="masked"):
        ag.Tensor(masked)
    t = ag.Tensor([0.0, 0.0])
    with pytest.raises(TypeError, match="masked"):
        t.data = masked
    with pytest.raises(TypeError, match="add.*masked"):
        t + masked
    np.testing.assert_array_equal(t.data, [0.0, 0.0])
    np.testing.assert_array_equal(ag.Tensor(masked.filled(0.0)).data, [1.0, 0.0])
