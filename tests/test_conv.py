"""conv2d, max_pool2d and avg_pool2d: forward against loop-by-loop references, gradients
against finite differences, PyTorch's conventions, dtypes and errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from catalog import as_pair, reference_conv2d, reference_pool
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_lite as ag
from autograd_lite import Tensor, gradcheck


# --- random cases ------------------------------------------------------------------------------
def int_or_pair(low: int, high: int) -> st.SearchStrategy:
    single = st.integers(low, high)
    return st.one_of(single, st.tuples(single, single))


@st.composite
def conv_cases(draw: st.DrawFn) -> dict[str, Any]:
    """Small conv2d problems: odd sizes, strides 1-2, padding 0-1, 1-3 channels, bias or not."""
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride = draw(int_or_pair(1, 2))
    padding = draw(int_or_pair(0, 1))
    ph, pw = as_pair(padding)
    height = draw(st.integers(max(1, kh - 2 * ph), 6))
    width = draw(st.integers(max(1, kw - 2 * pw), 6))
    n, channels, out_channels = (
        draw(st.integers(1, 2)),
        draw(st.integers(1, 3)),
        draw(st.integers(1, 3)),
    )
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    return {
        "x": rng.normal(size=(n, channels, height, width)),
        "weight": rng.normal(size=(out_channels, channels, kh, kw)),
        "bias": rng.normal(size=out_channels) if draw(st.booleans()) else None,
        "stride": stride,
        "padding": padding,
    }


@st.composite
def pool_cases(draw: st.DrawFn) -> dict[str, Any]:
    """Small pooling problems with distinct values (so every window has a clear maximum)."""
    kernel = draw(int_or_pair(1, 3))
    stride = draw(st.one_of(st.none(), int_or_pair(1, 3)))
    kh, kw = as_pair(kernel)
    n, channels = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    height, width = draw(st.integers(kh, 7)), draw(st.integers(kw, 7))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    size = n * channels * height * width
    # Spacing 0.1 between values keeps every maximum unique far beyond gradcheck's eps.
    values = rng.permutation(size) * 0.1 + rng.uniform(0, 0.01, size)
    return {"x": values.reshape(n, channels, height, width), "kernel": kernel, "stride": stride}


# --- conv2d ------------------------------------------------------------------------------------
@settings(max_examples=30, deadline=None)
@given(conv_cases())
def test_conv2d_forward_matches_loops(case: dict[str, Any]) -> None:
    out = ag.conv2d(case["x"], case["weight"], case["bias"], case["stride"], case["padding"])
    expected = reference_conv2d(
        case["x"], case["weight"], case["bias"], case["stride"], case["padding"]
    )
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)


@settings(max_examples=20, deadline=None)
@given(conv_cases())
def test_conv2d_gradients_match_finite_differences(case: dict[str, Any]) -> None:
    x = Tensor(case["x"], requires_grad=True)
    weight = Tensor(case["weight"], requires_grad=True)
    inputs = [x, weight]
    if case["bias"] is not None:
        inputs.append(Tensor(case["bias"], requires_grad=True))
    # A random projection of the output, so that every output element weighs differently.
    shape = ag.conv2d(*inputs, stride=case["stride"], padding=case["padding"]).shape
    projection = np.random.default_rng(0).normal(size=shape)

    def fn(*args: Tensor) -> Tensor:
        return ag.conv2d(*args, stride=case["stride"], padding=case["padding"]) * projection

    assert gradcheck(fn, *inputs)


def test_conv2d_known_values_and_graph() -> None:
    x = Tensor(np.arange(16.0).reshape(1, 1, 4, 4), requires_grad=True)
    weight = Tensor([[[[1.0, 0.0], [0.0, -1.0]]]], requires_grad=True)
    bias = Tensor([0.5], requires_grad=True)
    out = ag.conv2d(x, weight, bias)
    # x[r, q] - x[r + 1, q + 1] = -5 everywhere, plus the bias.
    np.testing.assert_array_equal(out.data, np.full((1, 1, 3, 3), -4.5))
    assert out.op == "conv2d"
    assert out.parents == (x, weight, bias)
    out.sum().backward()
    np.testing.assert_array_equal(bias.grad, [9.0])
    expected_x_grad = np.zeros((4, 4))
    expected_x_grad[:3, :3] += 1
    expected_x_grad[1:, 1:] -= 1
    np.testing.assert_array_equal(x.grad[0, 0], expected_x_grad)
    assert ag.conv2d(x, weight).parents == (x, weight)


def test_conv2d_method_matches_function_and_pair_arguments_match_ints() -> None:
    rng = np.random.default_rng(1)
    x = Tensor(rng.normal(size=(2, 3, 7, 5)))
    weight = rng.normal(size=(4, 3, 3, 3))
    by_function = ag.conv2d(x, weight, None, 2, 1)
    by_method = x.conv2d(weight, stride=(2, 2), padding=(1, 1))
    np.testing.assert_array_equal(by_function.data, by_method.data)
    assert by_function.shape == (2, 4, 4, 3)
    uneven = ag.conv2d(x, weight, stride=(1, 2), padding=(0, 1))
    np.testing.assert_allclose(
        uneven.data, reference_conv2d(x.data, weight, None, (1, 2), (0, 1)), atol=1e-12
    )


def test_conv2d_computes_only_the_gradients_asked_for() -> None:
    rng = np.random.default_rng(2)
    x = Tensor(rng.normal(size=(2, 2, 5, 5)))
    weight = Tensor(rng.normal(size=(3, 2, 3, 3)), requires_grad=True)
    bias = Tensor(np.zeros(3))
    ag.conv2d(x, weight, bias, padding=1).sum().backward()
    assert x.grad is None and bias.grad is None
    assert weight.grad is not None and weight.grad.shape == weight.shape

    x.requires_grad = True
    weight.requires_grad = False
    weight.zero_grad()
    ag.conv2d(x, weight, bias, padding=1).sum().backward()
    assert weight.grad is None and x.grad.shape == x.shape


def test_conv2d_under_no_grad_records_nothing() -> None:
    x = Tensor(np.ones((1, 1, 3, 3)), requires_grad=True)
    with ag.no_grad():
        out = ag.conv2d(x, np.ones((1, 1, 2, 2)))
    assert out.op is None and out.parents == () and not out.requires_grad


def test_conv2d_keeps_float32() -> None:
    rng = np.random.default_rng(3)
    x = Tensor(rng.normal(size=(2, 3, 6, 6)).astype(np.float32), requires_grad=True)
    weight = Tensor(rng.normal(size=(4, 3, 3, 3)).astype(np.float32), requires_grad=True)
    bias = Tensor(np.zeros(4, dtype=np.float32), requires_grad=True)
    out = ag.conv2d(x, weight, bias, stride=2, padding=1)
    assert out.dtype == np.float32
    out.sum().backward()
    assert x.grad.dtype == weight.grad.dtype == bias.grad.dtype == np.float32
    expected = reference_conv2d(x.data, weight.data, bias.data, 2, 1)
    np.testing.assert_allclose(out.data, expected, rtol=1e-4, atol=1e-4)


# --- pools -------------------------------------------------------------------------------------
@settings(max_examples=30, deadline=None)
@given(pool_cases())
def test_pools_forward_match_loops(case: dict[str, Any]) -> None:
    x, kernel, stride = case["x"], case["kernel"], case["stride"]
    np.testing.assert_array_equal(
        ag.max_pool2d(x, kernel, stride).data, reference_pool(x, kernel, stride, np.max)
    )
    np.testing.assert_allclose(
        ag.avg_pool2d(x, kernel, stride).data,
        reference_pool(x, kernel, stride, np.mean),
        rtol=1e-12,
    )


@settings(max_examples=20, deadline=None)
@given(pool_cases())
def test_pools_gradients_match_finite_differences(case: dict[str, Any]) -> None:
    kernel, stride = case["kernel"], case["stride"]
    x = Tensor(case["x"], requires_grad=True)
    shape = ag.avg_pool2d(x, kernel, stride).shape
    projection = np.random.default_rng(0).normal(size=shape)
    assert gradcheck(lambda t: ag.max_pool2d(t, kernel, stride) * projection, x)
    assert gradcheck(lambda t: ag.avg_pool2d(t, kernel, stride) * projection, x)


def test_max_pool2d_sends_each_window_gradient_to_its_first_maximum() -> None:
    x = Tensor(
        [
            [
                [
                    [1.0, 3.0, 3.0, 0.0],
                    [3.0, 2.0, 0.0, 3.0],
                    [5.0, 5.0, 1.0, 1.0],
                    [5.0, 5.0, 1.0, 1.0],
                ]
            ]
        ],
        requires_grad=True,
    )
    out = ag.max_pool2d(x, 2)
    np.testing.assert_array_equal(out.data, [[[[3.0, 3.0], [5.0, 1.0]]]])
    out.backward(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]))
    # Row-major order inside each window: the first of the tied maxima gets everything.
    expected = [[0, 1.0, 2.0, 0], [0, 0, 0, 0], [3.0, 0, 4.0, 0], [0, 0, 0, 0]]
    np.testing.assert_array_equal(x.grad[0, 0], expected)


def test_max_pool2d_overlapping_windows_add_up_on_a_shared_maximum() -> None:
    x = Tensor([[[[0.0, 1.0, 0.0], [0.0, 9.0, 0.0], [0.0, 0.0, 0.0]]]], requires_grad=True)
    out = ag.max_pool2d(x, 2, stride=1)
    np.testing.assert_array_equal(out.data, np.full((1, 1, 2, 2), 9.0))
    out.sum().backward()
    np.testing.assert_array_equal(x.grad[0, 0], [[0, 0, 0], [0, 4.0, 0], [0, 0, 0]])


def test_avg_pool2d_known_gradient_and_uncovered_pixels() -> None:
    x = Tensor(np.ones((1, 1, 5, 5)), requires_grad=True)
    out = ag.avg_pool2d(x, 2)  # the last row and column fall outside every window
    assert out.shape == (1, 1, 2, 2)
    out.sum().backward()
    expected = np.zeros((5, 5))
    expected[:4, :4] = 0.25
    np.testing.assert_array_equal(x.grad[0, 0], expected)


def test_pool_stride_defaults_to_kernel_and_methods_match_functions() -> None:
    x = Tensor(np.random.default_rng(4).normal(size=(2, 3, 6, 7)))
    assert ag.max_pool2d(x, 3).shape == (2, 3, 2, 2)
    np.testing.assert_array_equal(x.max_pool2d((3, 3)).data, ag.max_pool2d(x, 3, 3).data)
    np.testing.assert_array_equal(
        x.avg_pool2d(2, (1, 2)).data, ag.avg_pool2d(x, (2, 2), (1, 2)).data
    )
    assert ag.max_pool2d(x, (2, 3)).shape == (2, 3, 3, 2)
    assert ag.max_pool2d(Tensor(x.data, requires_grad=True), 2).op == "max_pool2d"
    assert ag.avg_pool2d(Tensor(x.data, requires_grad=True), 2).op == "avg_pool2d"


def test_pools_keep_float32() -> None:
    x = Tensor(
        np.random.default_rng(5).normal(size=(2, 2, 6, 6)).astype(np.float32), requires_grad=True
    )
    for pool in (ag.max_pool2d, ag.avg_pool2d):
        x.zero_grad()
        out = pool(x, 3, 2)
        assert out.dtype == np.float32
        out.sum().backward()
        assert x.grad.dtype == np.float32


def test_max_pool2d_without_grad_is_a_plain_leaf() -> None:
    x = Tensor(np.arange(16.0).reshape(1, 1, 4, 4))
    out = ag.max_pool2d(x, 2)
    assert out.op is None and not out.requires_grad
    np.testing.assert_array_equal(out.data, [[[[5.0, 7.0], [13.0, 15.0]]]])


# --- errors ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: ag.conv2d(np.ones((3, 5, 5)), np.ones((1, 3, 3, 3))),
            ValueError,
            r"conv2d: input must be 4-D .*\(3, 5, 5\)",
        ),
        (
            lambda: ag.conv2d(np.ones((1, 3, 5, 5)), np.ones((3, 3, 3))),
            ValueError,
            r"conv2d: weight must be 4-D .*\(3, 3, 3\)",
        ),
        (
            lambda: ag.conv2d(np.ones((1, 3, 5, 5)), np.ones((2, 4, 3, 3))),
            ValueError,
            r"conv2d: input of shape \(1, 3, 5, 5\) has 3 channels but weight of shape "
            r"\(2, 4, 3, 3\) expects 4",
        ),
        (
            lambda: ag.conv2d(np.ones((1, 1, 5, 5)), np.ones((2, 1, 3, 3)), np.ones(3)),
            ValueError,
            r"conv2d: bias must have shape \(2,\) .*got \(3,\)",
        ),
        (
            lambda: ag.conv2d(np.ones((1, 1, 2, 5)), np.ones((1, 1, 3, 3))),
            ValueError,
            r"conv2d: kernel 3x3 is larger than the input of shape \(1, 1, 2, 5\)",
        ),
        (
            lambda: ag.conv2d(np.ones((1, 1, 1, 1)), np.ones((1, 1, 4, 4)), padding=1),
            ValueError,
            r"conv2d: kernel 4x4 is larger .*padded by \(1, 1\) to 3x3",
        ),
        (
            lambda: ag.conv2d(np.ones((1, 1, 5, 5)), np.ones((1, 1, 3, 3)), stride=0),
            ValueError,
            r"conv2d: stride must be positive, got 0",
        ),
        (
            lambda: ag.conv2d(np.ones((1, 1, 5, 5)), np.ones((1, 1, 3, 3)), padding=(1, -1)),
            ValueError,
            r"conv2d: padding must be non-negative",
        ),
        (
            lambda: ag.conv2d(np.ones((1, 1, 5, 5)), np.ones((1, 1, 3, 3)), stride=1.5),
            TypeError,
            r"conv2d: stride must be an int or an \(h, w\) pair of ints, got 1.5",
        ),
        (
            lambda: ag.conv2d(np.ones((1, 1, 5, 5)), np.ones((1, 1, 3, 3)), padding=(1, 1, 1)),
            TypeError,
            r"conv2d: padding must be an int or an \(h, w\) pair",
        ),
        (lambda: ag.conv2d(np.ones((1, 1, 5, 5)), "weights"), TypeError, r"conv2d"),
        (
            lambda: ag.max_pool2d(np.ones((5, 5)), 2),
            ValueError,
            r"max_pool2d: input must be 4-D .*\(5, 5\)",
        ),
        (
            lambda: ag.max_pool2d(np.ones((1, 1, 5, 5)), 6),
            ValueError,
            r"max_pool2d: kernel 6x6 is larger than the input of shape \(1, 1, 5, 5\)",
        ),
        (
            lambda: ag.max_pool2d(np.ones((1, 1, 5, 5)), 2, stride=(1, 0)),
            ValueError,
            r"max_pool2d: stride must be positive",
        ),
        (
            lambda: ag.avg_pool2d(np.ones((1, 1, 5, 5)), 0),
            ValueError,
            r"avg_pool2d: kernel_size must be positive",
        ),
        (
            lambda: ag.avg_pool2d(np.ones((1, 1, 5, 5)), True),
            TypeError,
            r"avg_pool2d: kernel_size must be an int",
        ),
    ],
)
def test_bad_arguments_raise_errors_naming_the_op_and_shapes(
    call: Any, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        call()


def test_an_error_changes_no_tensor_or_gradient() -> None:
    x = Tensor(np.ones((1, 2, 4, 4)), requires_grad=True)
    weight = Tensor(np.ones((1, 3, 3, 3)), requires_grad=True)
    x.grad = np.full(x.shape, 7.0)
    with pytest.raises(ValueError):
        ag.conv2d(x, weight)
    np.testing.assert_array_equal(x.data, np.ones((1, 2, 4, 4)))
    np.testing.assert_array_equal(x.grad, np.full(x.shape, 7.0))
    assert weight.grad is None


def test_max_pool2d_propagates_nan_and_sends_its_gradient_to_the_first_nan() -> None:
    data = np.arange(16.0).reshape(1, 1, 4, 4)
    data[0, 0, 0, 3] = data[0, 0, 1, 2] = np.nan
    x = Tensor(data, requires_grad=True)
    out = ag.max_pool2d(x, 2)
    assert np.isnan(out.data[0, 0, 0, 1]) and out.data[0, 0, 1, 1] == 15.0
    out.backward(np.ones((1, 1, 2, 2)))
    expected = np.zeros((4, 4))
    expected[1, 1] = expected[0, 3] = expected[3, 1] = expected[3, 3] = 1.0
    np.testing.assert_array_equal(x.grad[0, 0], expected)
