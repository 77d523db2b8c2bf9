"""Every op in the catalog: forward against NumPy, gradient against central differences."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from catalog import CATALOG, OpCase, drawn_shapes, required_shapes
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import autograd_lite as ag

DIFFERENTIABLE = [case for case in CATALOG if case.differentiable]


def random_operands(case: OpCase, shapes: tuple, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return case.prepare([rng.normal(size=shape) for shape in shapes])


def check_gradient(case: OpCase, shapes: tuple, seed: int, check: Any = ag.gradcheck) -> None:
    """``check`` (gradcheck, or gradgradcheck for the rules run on Tensors) on
    ``sum(op(*xs) * r)`` with fixed random r: every output element counts."""
    operands = random_operands(case, shapes, seed)
    expected = np.asarray(case.reference(*operands))
    projection = np.random.default_rng(seed + 1).normal(size=expected.shape)
    inputs = [ag.Tensor(array, requires_grad=True) for array in operands]
    assert check(lambda *xs: case.ours(*xs) * projection, *inputs)


@pytest.mark.parametrize(
    ("case", "shapes"),
    [(case, shapes) for case in DIFFERENTIABLE for shapes in required_shapes(case)],
    ids=lambda value: repr(value),
)
def test_gradient_on_required_shapes(case: OpCase, shapes: tuple) -> None:
    check_gradient(case, shapes, seed=0)


@pytest.mark.parametrize("case", DIFFERENTIABLE, ids=repr)
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_gradient_on_drawn_shapes(case: OpCase, data: st.DataObject, seed: int) -> None:
    check_gradient(case, data.draw(drawn_shapes(case)), seed)


@pytest.mark.parametrize(
    ("case", "shapes"),
    [(case, shapes) for case in DIFFERENTIABLE for shapes in required_shapes(case)],
    ids=lambda value: repr(value),
)
def test_second_derivative_on_required_shapes(case: OpCase, shapes: tuple) -> None:
    check_gradient(case, shapes, seed=0, check=ag.gradgradcheck)


@pytest.mark.parametrize("case", DIFFERENTIABLE, ids=repr)
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_second_derivative_on_drawn_shapes(
    case: OpCase, data: st.DataObject, seed: int
) -> None:
    check_gradient(case, data.draw(drawn_shapes(case)), seed, check=ag.gradgradcheck)


finite = st.floats(-1e3, 1e3, allow_nan=False, width=64)


@pytest.mark.parametrize("case", CATALOG, ids=repr)
@given(data=st.data())
def test_forward_matches_numpy(case: OpCase, data: st.DataObject) -> None:
    shapes = data.draw(drawn_shapes(case))
    operands = case.prepare(
        [data.draw(arrays(np.float64, shape, elements=finite)) for shape in shapes]
    )
    with np.errstate(all="ignore"):
        expected = np.asarray(case.reference(*operands))
        result = case.ours(*[ag.Tensor(array) for array in operands])
    assert result.shape == expected.shape
    assert result.dtype == expected.dtype
    np.testing.assert_allclose(result.data, expected, rtol=1e-10, atol=1e-9)


@pytest.mark.parametrize("case", CATALOG, ids=repr)
def test_float32_stays_float32(case: OpCase) -> None:
    shapes = required_shapes(case)[-1]
    operands = [array.astype(np.float32) for array in random_operands(case, shapes, seed=3)]
    inputs = [ag.Tensor(array, requires_grad=True) for array in operands]
    out = case.ours(*inputs)
    assert out.dtype == np.float32
    out.backward(np.ones(out.shape, dtype=np.float32))
    for index, tensor in enumerate(inputs):
        if index in case.constant_operands:
            assert tensor.grad is None
            continue
        assert tensor.grad is not None and tensor.grad.dtype == np.float32
        assert tensor.grad.shape == tensor.shape


@pytest.mark.parametrize(
    "make",
    [
        lambda x: x * 2.0,
        lambda x: 2.0 * x,
        lambda x: x + 1,
        lambda x: x / 3.0,
        lambda x: 2.0**x,
        lambda x: x**2.0,
        lambda x: 1 - x,
        lambda x: ag.clip(x, 0.0, 1.0),
        lambda x: ag.maximum(x, 0.5),
        lambda x: ag.where(x > 0, x, 0.0),
    ],
)
def test_python_numbers_never_upcast_float32(make) -> None:
    x = ag.Tensor(np.array([0.25, 0.5], dtype=np.float32), requires_grad=True)
    out = make(x)
    assert out.dtype == np.float32
    out.sum().backward()
    assert x.grad.dtype == np.float32


def test_operands_may_be_arrays_or_numbers_on_either_side() -> None:
    x = ag.Tensor([1.0, 2.0], requires_grad=True)
    array = np.array([3.0, 4.0])
    for out in (array + x, x + array, array * x, array - x, array / x, array @ x, [1.0, 1.0] @ x):
        assert isinstance(out, ag.Tensor) and out.requires_grad
    np.testing.assert_array_equal((array - x).data, [2.0, 2.0])


@pytest.mark.parametrize(
    ("left", "right"), [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)), ((2, 3), (3, 4))]
)
def test_dot_all_four_combinations(left: tuple, right: tuple) -> None:
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=left), rng.normal(size=right)
    out = ag.dot(ag.Tensor(a), ag.Tensor(b))
    np.testing.assert_allclose(out.data, np.dot(a, b))
    assert out.shape == np.dot(a, b).shape
    assert ag.gradcheck(ag.dot, ag.Tensor(a, requires_grad=True), ag.Tensor(b, requires_grad=True))


def test_methods_and_functions_are_the_same() -> None:
    x = ag.Tensor([[0.5, -1.0], [2.0, 0.25]])
    pairs = [
        (x.sigmoid(), ag.sigmoid(x)),
        (x.relu(), ag.relu(x)),
        (x.step(0.3), ag.step(x, 0.3)),
        (x.exp(), ag.exp(x)),
        (x.tanh(), ag.tanh(x)),
        (x.sum(axis=0), ag.sum(x, axis=0)),
        (x.max(), ag.max(x)),
        (x.softmax(), ag.softmax(x)),
        (x.dot(x), ag.dot(x, x)),
        (x.abs(), ag.abs(x)),
        (x.clip(max=1), ag.clip(x, max=1)),
        (x.var(ddof=1), ag.var(x, ddof=1)),
        (x.flatten(), ag.flatten(x)),
        (x.unsqueeze(1), ag.unsqueeze(x, 1)),
        (x.T, ag.transpose(x)),
    ]
    for method_result, function_result in pairs:
        assert method_result.op == function_result.op
        np.testing.assert_array_equal(method_result.data, function_result.data)


def test_op_names() -> None:
    x = ag.Tensor([1.0, 2.0], requires_grad=True)
    y = ag.Tensor(0.5, requires_grad=True)
    names = {
        "add": x + y,
        "sub": x - y,
        "neg": -x,
        "mul": x * y,
        "div": x / y,
        "pow": x**2,
        "matmul": x @ x,
        "dot": x.dot(x),
        "exp": x.exp(),
        "log": x.log(),
        "tanh": x.tanh(),
        "sigmoid": x.sigmoid(),
        "relu": x.relu(),
        "step": x.step(),
        "sum": x.sum(),
        "mean": x.mean(),
        "max": x.max(),
        "reshape": x.reshape(2, 1),
        "transpose": x.transpose(),
        "getitem": x[0],
        "softmax": x.softmax(),
        "log_softmax": x.log_softmax(),
        "abs": abs(x),
        "sqrt": x.sqrt(),
        "clip": x.clip(0, 1),
        "maximum": x.maximum(y),
        "minimum": x.minimum(y),
        "where": ag.where(x > 1, x, y),
        "min": x.min(),
        "var": x.var(),
        "std": x.std(),
        "flatten": x.flatten(),
        "squeeze": x.squeeze(),
        "unsqueeze": x.unsqueeze(0),
        "concatenate": ag.concatenate([x, x]),
        "stack": ag.stack([x, x]),
    }
    for name, tensor in names.items():
        assert tensor.op == name


def test_comparisons_give_unrecorded_bool_tensors() -> None:
    x = ag.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    for mask, expected in [
        (x < 2, [True, False, False]),
        (x <= 2, [True, True, False]),
        (x > 2, [False, False, True]),
        (x >= 2, [False, True, True]),
        (x == 2, [False, True, False]),
        (x != 2, [True, False, True]),
        (2 > x, [True, False, False]),
        (np.array([3.0, 2.0, 1.0]) == x, [False, True, False]),
    ]:
        assert mask.dtype == np.bool_ and not mask.requires_grad and mask.op is None
        assert mask.parents == ()
        np.testing.assert_array_equal(mask.data, expected)
    assert len({x, ag.Tensor(1.0)}) == 2  # still hashable by identity


def test_kinks_follow_pytorch() -> None:
    x = ag.Tensor([0.0, 0.0, 0.0], requires_grad=True)
    (x.relu() + x.abs()).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 0.0])

    x = ag.Tensor([1.0, 1.0, 0.0], requires_grad=True)
    ag.max(x).backward()
    np.testing.assert_array_equal(x.grad, [0.5, 0.5, 0.0])

    a, b = ag.Tensor([1.0, 2.0], requires_grad=True), ag.Tensor([1.0, 1.0], requires_grad=True)
    ag.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad, [0.5, 1.0])
    np.testing.assert_array_equal(b.grad, [0.5, 0.0])

    x = ag.Tensor([0.0, 0.5, 1.0, 2.0], requires_grad=True)
    ag.clip(x, 0.0, 1.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 1.0, 1.0, 0.0])


def test_step_is_straight_through_everywhere() -> None:
    x = ag.Tensor([-2.0, 0.0, 0.5, 3.0], requires_grad=True)
    out = ag.step(x, threshold=0.5)
    np.testing.assert_array_equal(out.data, [0.0, 0.0, 1.0, 1.0])
    out.backward(np.array([1.0, 2.0, 3.0, 4.0]))
    np.testing.assert_array_equal(x.grad, [1.0, 2.0, 3.0, 4.0])
    assert out.attrs == {"threshold": 0.5}


def test_sigmoid_is_stable_and_exact_at_the_limits() -> None:
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        out = ag.sigmoid(ag.Tensor([-1000.0, 1000.0], requires_grad=True))
        out.sum().backward()
    np.testing.assert_array_equal(out.data, [0.0, 1.0])
    x = np.linspace(-30, 30, 61)
    np.testing.assert_array_equal(ag.sigmoid(x).data[x >= 0], 1 / (1 + np.exp(-x[x >= 0])))


def test_softmax_family_is_stable() -> None:
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        x = ag.Tensor([[1000.0, -1000.0, 0.0]], requires_grad=True)
        (ag.softmax(x) * ag.Tensor([[1.0, 2.0, 3.0]])).sum().backward()
        ag.log_softmax(x).sum().backward()
    assert np.all(np.isfinite(x.grad))


def test_getitem_integer_arrays_and_slices() -> None:
    x = ag.Tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    x[1:, ::2].sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 0, 0, 0], [1, 0, 1, 0], [1, 0, 1, 0]])
    x.zero_grad()
    x[[0, 0, 2], [1, 1, 3]].sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 2, 0, 0], [0, 0, 0, 0], [0, 0, 0, 1]])


def test_reshape_forms_and_transpose_default() -> None:
    x = ag.Tensor(np.arange(6.0))
    assert x.reshape(2, 3).shape == x.reshape((2, 3)).shape == x.reshape(-1, 3).shape == (2, 3)
    y = ag.Tensor(np.zeros((2, 3, 4)))
    assert y.transpose().shape == (4, 3, 2)
    assert y.transpose(1, 0, 2).shape == y.transpose((1, 0, 2)).shape == (3, 2, 4)


def test_var_and_std_match_numpy_ddof() -> None:
    data = np.random.default_rng(4).normal(size=(4, 5))
    x = ag.Tensor(data)
    np.testing.assert_allclose(x.var(axis=1, ddof=1).data, data.var(axis=1, ddof=1))
    np.testing.assert_allclose(
        x.std(axis=(0, 1), keepdims=True).data, data.std(axis=(0, 1), keepdims=True)
    )


@given(
    data=arrays(
        st.sampled_from([np.float32, np.float64]),
        st.tuples(st.lists(st.integers(0, 9), max_size=3), st.integers(0, 40)).map(
            lambda drawn: (*drawn[0], drawn[1])
        ),
        elements=st.one_of(
            st.floats(-1e6, 1e6, width=32), st.sampled_from([-np.inf, np.inf, np.nan, -0.0])
        ),
    ),
    axis_draw=st.integers(0, 3),
)
def test_softmax_shift_is_numpys_max_on_every_layout(data, axis_draw) -> None:
    """Softmax, log_softmax and cross_entropy shift by a max that takes a faster route for
    short last axes; the shifted values, and so the results, are NumPy's to the bit."""
    from autograd_lite.ops.reductions import max_kept

    axis = axis_draw % data.ndim
    direct = data.max(axis=axis, keepdims=True, initial=-np.inf)
    kept = max_kept(data, axis)
    assert kept.shape == direct.shape and kept.dtype == direct.dtype
    with np.errstate(invalid="ignore"):  # inf - inf is NaN on both sides
        np.testing.assert_array_equal(data - kept, data - direct)
