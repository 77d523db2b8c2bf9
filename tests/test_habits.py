"""What people type from NumPy and PyTorch habit works as there, or fails loudly.

Silent failures first: a mask that selects the wrong elements or sends its gradient elsewhere,
and an in-place update that quietly makes a new tensor, are the bugs nobody would notice.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

import autograd_lite as ag

finite = st.floats(-10, 10, allow_nan=False, width=64)


# --- bool masks -----------------------------------------------------------------------------
@given(
    values=arrays(np.float64, array_shapes(min_dims=0, max_dims=3, max_side=4), elements=finite),
    threshold=finite,
    seed=st.integers(0, 2**32 - 1),
)
def test_mask_selects_what_numpy_selects_and_its_gradient_goes_back_there(
    values: np.ndarray, threshold: float, seed: int
) -> None:
    x = ag.Tensor(values, requires_grad=True)
    picked = x[x > threshold]
    expected = values[values > threshold]
    assert picked.shape == expected.shape
    np.testing.assert_array_equal(picked.data, expected)
    weights = np.random.default_rng(seed).normal(size=expected.shape)
    (picked * weights).sum().backward()
    grad = np.zeros_like(values)
    grad[values > threshold] = weights
    np.testing.assert_array_equal(x.grad, grad)


@pytest.mark.parametrize(
    "make_mask",
    [
        lambda data: data > 1,  # a NumPy bool array
        lambda data: ag.Tensor(data > 1, dtype=bool),  # a bool Tensor built by hand
        lambda data: (data > 1).tolist(),  # a list of bools
    ],
    ids=["array", "tensor", "list"],
)
def test_every_form_of_mask_is_a_mask(make_mask) -> None:
    data = np.array([[0.5, 2.0, 3.0], [4.0, -1.0, 1.5]])
    x = ag.Tensor(data, requires_grad=True)
    picked = x[make_mask(data)]
    np.testing.assert_array_equal(picked.data, [2.0, 3.0, 4.0, 1.5])
    picked.sum().backward()
    np.testing.assert_array_equal(x.grad, (data > 1) * 1.0)


def test_a_mask_over_rows_with_a_slice_and_the_second_derivative() -> None:
    x = ag.Tensor([[1.0, 2.0], [-3.0, 4.0], [5.0, -6.0]], requires_grad=True)
    rows = x[:, 0] > 0
    np.testing.assert_array_equal(x[rows, 1:].data, [[2.0], [-6.0]])
    (slope,) = ag.grad((x[rows, 1:] ** 3).sum(), x, create_graph=True)  # 3 x², picked places
    np.testing.assert_array_equal(slope.data, [[0, 12], [0, 0], [0, 108]])
    slope.sum().backward()  # 6 x
    np.testing.assert_array_equal(x.grad, [[0, 12], [0, 0], [0, -36]])


@pytest.mark.parametrize(
    "index",
    [
        ag.Tensor([0.0, 1.0]),  # Tensors hold float64 unless told otherwise
        np.array([0.0, 1.0]),
        (0, np.array([0.5])),
        [0.0, 1.0],
    ],
    ids=["float tensor", "float array", "float in a tuple", "float list"],
)
def test_float_indices_are_refused_not_truncated(index) -> None:
    x = ag.Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    with pytest.raises(IndexError, match="getitem"):
        x[index]


def test_integer_tensors_index_like_arrays() -> None:
    x = ag.Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    index = ag.Tensor([2, 2, 0], dtype=np.int64)
    x[1, index].sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 0, 0], [1, 0, 2]])


@pytest.mark.parametrize("index", [slice(None, None, 0), (0, slice(None, None, 0))])
def test_a_zero_slice_step_names_getitem(index) -> None:
    x = ag.Tensor(np.ones((2, 3)))
    with pytest.raises((ValueError, IndexError), match="getitem.*step"):
        x[index]


# --- in place --------------------------------------------------------------------------------
def test_in_place_step_under_no_grad_keeps_the_same_leaf() -> None:
    w = ag.Tensor([1.0, -2.0], requires_grad=True, name="w")
    (w * w).sum().backward()
    grad = w.grad.copy()
    before = id(w)
    with ag.no_grad():
        w -= 0.1 * w.grad
    assert id(w) == before and w.requires_grad and w.op is None and w.parents == ()
    assert w.name == "w"
    np.testing.assert_array_equal(w.data, [0.8, -1.6])
    np.testing.assert_array_equal(w.grad, grad)  # the gradient is left for zero_grad()
    w.zero_grad()
    (w * w).sum().backward()  # and it keeps learning
    np.testing.assert_allclose(w.grad, [1.6, -3.2])


@pytest.mark.parametrize(
    ("update", "expected"),
    [
        (lambda x: x.__iadd__(2.0), [3.0, 4.0]),
        (lambda x: x.__isub__(np.array([1.0, 1.0])), [0.0, 1.0]),
        (lambda x: x.__imul__(ag.Tensor([2.0, 3.0])), [2.0, 6.0]),
        (lambda x: x.__itruediv__(2), [0.5, 1.0]),
        (lambda x: x.__ipow__(2), [1.0, 4.0]),
    ],
    ids=["+=", "-=", "*=", "/=", "**="],
)
def test_each_in_place_operator_updates_the_tensor_itself(update, expected) -> None:
    x = ag.Tensor([1.0, 2.0])  # needs no grad: allowed outside no_grad() too
    assert update(x) is x
    np.testing.assert_array_equal(x.data, expected)


def test_in_place_keeps_the_dtype_as_numpy_does() -> None:
    counts = ag.Tensor([1, 2], dtype=np.int64)
    counts += 1
    assert counts.dtype == np.int64 and counts.tolist() == [2, 3]
    x = ag.Tensor([1.0, 2.0], dtype=np.float32)
    x += np.array([0.5, 0.5])  # float64 operand, float32 tensor: NumPy's same-kind cast
    assert x.dtype == np.float32 and x.tolist() == [1.5, 2.5]


def test_in_place_after_use_makes_the_old_graph_stale() -> None:
    w = ag.Tensor([1.0, 2.0], requires_grad=True)
    y = (w * 3).sum()
    with ag.no_grad():
        w += 1
    with pytest.raises(RuntimeError, match="data"):
        y.backward()
    assert w.grad is None


def _refused(x: ag.Tensor, update, error: type[Exception], words: str) -> None:
    before, version, grad = x.data.copy(), x.data_version, x.grad
    with pytest.raises(error, match=words):
        update(x)
    np.testing.assert_array_equal(x.data, before)
    assert x.data_version == version and x.grad is grad


def test_in_place_on_a_tensor_that_requires_grad_says_use_no_grad() -> None:
    w = ag.Tensor([1.0, 2.0], requires_grad=True)
    for update in (
        lambda t: t.__iadd__(1.0),
        lambda t: t.__isub__(1.0),
        lambda t: t.__imul__(2.0),
        lambda t: t.__itruediv__(2.0),
    ):
        _refused(w, update, RuntimeError, "with no_grad")
    intermediate = w * 2
    _refused(intermediate, lambda t: t.__iadd__(1.0), RuntimeError, "with no_grad")


def test_in_place_that_would_lose_a_gradient_is_refused() -> None:
    total = ag.Tensor(0.0)
    term = ag.Tensor(2.0, requires_grad=True)
    _refused(total, lambda t: t.__iadd__(term), RuntimeError, "total = total|x = x \\+ y")


def test_in_place_refuses_a_new_shape_or_kind() -> None:
    x = ag.Tensor([1.0, 2.0])
    _refused(x, lambda t: t.__iadd__(np.ones((3, 2))), ValueError, "add.*shape")
    counts = ag.Tensor([1, 2], dtype=np.int64)
    _refused(counts, lambda t: t.__iadd__(0.5), TypeError, "add.*float64.*int64")
    _refused(counts, lambda t: t.__itruediv__(2), TypeError, "div")


# --- comparisons ---------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_mask_times_values_keeps_the_values_dtype(dtype) -> None:
    x = ag.Tensor(np.array([-1.0, 2.0, 3.0], dtype=dtype), requires_grad=True)
    out = (x > 0) * x
    assert out.dtype == dtype and out.tolist() == [0.0, 2.0, 3.0]
    out.sum().backward()
    assert x.grad.dtype == dtype and x.grad.tolist() == [0.0, 1.0, 1.0]


def test_mean_of_a_mask_is_a_fraction_and_sum_a_count() -> None:
    x = ag.Tensor([-1.0, 2.0, 3.0, 0.0])
    fraction, count = (x > 0).mean(), (x > 0).sum()
    assert fraction.dtype == np.float64 and fraction.item() == 0.5
    assert count.dtype.kind == "i" and count.item() == 2
    assert ag.where(x > 0, x, -x).tolist() == [1.0, 2.0, 3.0, 0.0]


@given(
    values=arrays(np.float64, array_shapes(min_dims=0, max_dims=2, max_side=4), elements=finite),
    low=finite,
    high=finite,
)
def test_masks_combine_with_and_or_xor_not_as_in_numpy(
    values: np.ndarray, low: float, high: float
) -> None:
    x = ag.Tensor(values)
    above, below = values > low, values < high
    for ours, expected in [
        ((x > low) & (x < high), above & below),
        ((x > low) | (x < high), above | below),
        ((x > low) ^ (x < high), above ^ below),
        (~(x > low), ~above),
        (above & (x < high), above & below),  # a NumPy mask on the left
        ((x > low) & True, above),
    ]:
        assert ours.dtype == np.bool_ and ours.op is None
        np.testing.assert_array_equal(ours.data, expected)
    np.testing.assert_array_equal(x[(x > low) & (x < high)].data, values[above & below])


def test_bitwise_operators_refuse_floats_and_name_themselves() -> None:
    x = ag.Tensor([-1.0, 0.5])
    for call, name in [
        (lambda: x & (x > 0), "bitwise_and"),
        (lambda: (x > 0) | 0.5, "bitwise_or"),
        (lambda: (x > 0) ^ "a", "bitwise_xor"),
        (lambda: ~x, "invert"),
    ]:
        with pytest.raises(TypeError, match=f"{name}.*compare first"):
            call()
    assert (ag.Tensor([6], dtype=np.uint8) & 3).tolist() == [2]  # integers: bit by bit


# --- making tensors ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("ours", "numpy"),
    [
        (lambda: ag.zeros((2, 3)), lambda: np.zeros((2, 3))),
        (lambda: ag.zeros(2, 3), lambda: np.zeros((2, 3))),
        (lambda: ag.ones(4, dtype=np.float32), lambda: np.ones(4, dtype=np.float32)),
        (lambda: ag.ones(()), lambda: np.ones(())),
        (lambda: ag.full((2,), 7), lambda: np.full((2,), 7.0)),
        (lambda: ag.full(3, 2.5, dtype=np.int64), lambda: np.full(3, 2.5, dtype=np.int64)),
        (lambda: ag.zeros_like(ag.Tensor([[1, 2]], dtype=np.int8)),
         lambda: np.zeros((1, 2), dtype=np.int8)),
        (lambda: ag.ones_like(np.zeros(3, dtype=np.float32)), lambda: np.ones(3, np.float32)),
        (lambda: ag.ones_like([1, 2], dtype=bool), lambda: np.ones(2, dtype=bool)),
        (lambda: ag.arange(4), lambda: np.arange(4.0)),
        (lambda: ag.arange(1, 2, 0.25), lambda: np.arange(1, 2, 0.25)),
        (lambda: ag.arange(5, 0, -2, dtype=np.int64), lambda: np.arange(5, 0, -2)),
        (lambda: ag.linspace(0, 1, 5), lambda: np.linspace(0, 1, 5)),
        (lambda: ag.linspace(2, -2, 0), lambda: np.linspace(2, -2, 0)),
        (lambda: ag.tensor([1, 2]), lambda: np.array([1.0, 2.0])),
        (lambda: ag.tensor([1, 2], dtype=np.int32), lambda: np.array([1, 2], dtype=np.int32)),
    ],
)
def test_creation_matches_numpy(ours, numpy) -> None:
    made, expected = ours(), numpy()
    assert isinstance(made, ag.Tensor) and made.op is None and not made.requires_grad
    assert made.dtype == expected.dtype and made.shape == expected.shape
    np.testing.assert_array_equal(made.data, expected)


@pytest.mark.parametrize("make", [ag.rand, ag.randn])
def test_random_tensors_are_reproducible_from_a_seed_or_a_generator(make) -> None:
    first, again = make(3, 4, rng=7), make((3, 4), rng=np.random.default_rng(7))
    assert first.shape == (3, 4) and first.dtype == np.float64
    np.testing.assert_array_equal(first.data, again.data)
    assert not np.array_equal(first.data, make(3, 4, rng=8).data)
    generator = np.random.default_rng(0)
    assert not np.array_equal(make(5, rng=generator).data, make(5, rng=generator).data)
    assert make(2, rng=0, dtype=np.float32).dtype == np.float32


def test_rand_is_uniform_on_zero_to_one_and_randn_standard_normal() -> None:
    uniform, normal = ag.rand(20_000, rng=1).data, ag.randn(20_000, rng=1).data
    assert uniform.min() >= 0 and uniform.max() < 1
    assert abs(uniform.mean() - 0.5) < 0.01 and abs(normal.mean()) < 0.03
    assert abs(normal.std() - 1) < 0.03


def test_created_tensors_can_require_grad() -> None:
    for made in (ag.zeros(2, requires_grad=True), ag.randn(2, rng=0, requires_grad=True),
                 ag.tensor([1.0], requires_grad=True), ag.full(2, 1.0, requires_grad=True),
                 ag.linspace(0, 1, 2, requires_grad=True), ag.arange(2, requires_grad=True)):
        assert made.requires_grad
        (made * 2).sum().backward()
        np.testing.assert_array_equal(made.grad, np.full(made.shape, 2.0))


BAD_CREATIONS = [
    ("zeros", lambda: ag.zeros(2.5), TypeError),
    ("zeros", lambda: ag.zeros((2, True)), TypeError),
    ("ones", lambda: ag.ones(-1), ValueError),
    ("ones", lambda: ag.ones(2, dtype="text"), TypeError),
    ("zeros", lambda: ag.zeros(2, dtype=np.int64, requires_grad=True), TypeError),
    ("zeros", lambda: ag.zeros(2, requires_grad="yes"), TypeError),
    ("full", lambda: ag.full(2, "x"), TypeError),
    ("full", lambda: ag.full(2, 300, dtype=np.uint8), ValueError),
    ("full", lambda: ag.full(2, np.nan, dtype=np.int64), ValueError),
    ("full", lambda: ag.full(2, 1e300, dtype=np.float32), ValueError),
    ("zeros_like", lambda: ag.zeros_like("abc"), TypeError),
    ("arange", lambda: ag.arange(0, 1, 0), ValueError),
    ("arange", lambda: ag.arange(np.inf), ValueError),
    ("arange", lambda: ag.arange("3"), TypeError),
    ("arange", lambda: ag.arange(0, 2**2000), ValueError),
    ("linspace", lambda: ag.linspace(0, 1, 2.0), TypeError),
    ("linspace", lambda: ag.linspace(0, 1, -1), ValueError),
    ("linspace", lambda: ag.linspace(0, np.nan, 3), ValueError),
    ("rand", lambda: ag.rand(2, rng="seed"), TypeError),
    ("rand", lambda: ag.rand(2, rng=True), TypeError),
    ("rand", lambda: ag.rand(2, rng=-1), ValueError),
    ("randn", lambda: ag.randn(2, dtype=np.int64), TypeError),
    ("randn", lambda: ag.randn(2, None), TypeError),
    ("Tensor", lambda: ag.tensor([1, 2], requires_grad=1), TypeError),
]


@pytest.mark.parametrize(("name", "call", "error"), BAD_CREATIONS,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(BAD_CREATIONS)])
def test_creation_refuses_bad_arguments_by_name(name, call, error) -> None:
    with pytest.raises(error, match=name):
        call()


# --- methods from NumPy and PyTorch --------------------------------------------------------
@given(
    values=arrays(np.float64, array_shapes(min_dims=1, max_dims=3, max_side=4),
                  elements=st.integers(-2, 2).map(float)),  # small integers: many ties
    data=st.data(),
)
def test_argmax_and_argmin_match_numpy(values: np.ndarray, data: st.DataObject) -> None:
    axis = data.draw(st.one_of(st.none(), st.integers(-values.ndim, values.ndim - 1)))
    x = ag.Tensor(values, requires_grad=True)
    for ours, reference in ((x.argmax(axis), np.argmax), (ag.argmin(x, axis), np.argmin)):
        expected = reference(values, axis=axis)
        assert ours.dtype.kind == "i" and not ours.requires_grad and ours.op is None
        np.testing.assert_array_equal(ours.data, expected)


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda: ag.Tensor(np.zeros((0, 2))).argmax(), ValueError),
        (lambda: ag.Tensor(np.zeros((2, 0))).argmin(axis=1), ValueError),
        (lambda: ag.Tensor(np.zeros(2)).argmax(axis=1), ValueError),
        (lambda: ag.Tensor(np.zeros(2)).argmax(axis=(0,)), TypeError),
        (lambda: ag.Tensor(np.zeros(2)).argmin(axis=True), TypeError),
    ],
)
def test_argmax_and_argmin_refuse_clearly(call, error) -> None:
    with pytest.raises(error, match="arg(max|min)"):
        call()


def test_len_iteration_and_tolist_follow_the_first_axis() -> None:
    x = ag.Tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    assert len(x) == 3 and x.tolist() == [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]
    rows = list(x)
    assert [row.tolist() for row in rows] == x.tolist()
    assert all(row.op == "getitem" for row in rows)
    (rows[0] * 1 + rows[2] * 3).sum().backward()
    np.testing.assert_array_equal(x.grad, [[1, 1], [0, 0], [3, 3]])
    assert ag.Tensor(2.5).tolist() == 2.5


def test_a_0d_tensor_has_no_length_and_cannot_be_iterated() -> None:
    scalar = ag.Tensor(1.0)
    with pytest.raises(TypeError, match="0-d"):
        len(scalar)
    with pytest.raises(TypeError, match="0-d"):
        list(scalar)  # without __iter__, Python would find an empty list here


def test_astype_float_and_double_cast_the_gradient_back() -> None:
    x = ag.Tensor([1.5, -2.0], requires_grad=True)
    low = x.float()
    assert low.dtype == np.float32 and low.op == "astype" and low.attrs == {"dtype": "float32"}
    (low * low).sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad, [3.0, -4.0])
    y = ag.Tensor([1.0], dtype=np.float32, requires_grad=True)
    y.double().sum().backward()
    assert y.double().dtype == np.float64 and y.grad.dtype == np.float32
    whole = x.astype(np.int64)  # integers carry no gradient: not recorded
    assert whole.tolist() == [1, -2] and whole.op is None and not whole.requires_grad
    with pytest.raises(TypeError, match="astype"):
        x.astype("not a dtype")


def test_clone_is_a_recorded_copy() -> None:
    x = ag.Tensor([1.0, 2.0], requires_grad=True)
    copy = x.clone()
    assert copy.op == "clone" and copy.parents == (x,)
    assert not np.shares_memory(copy.data, x.data)
    (copy * 3).sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])


def test_permute_is_transpose_and_swapaxes_is_torch_transpose() -> None:
    data = np.arange(24.0).reshape(2, 3, 4)
    x = ag.Tensor(data)
    np.testing.assert_array_equal(x.permute(2, 0, 1).data, data.transpose(2, 0, 1))
    np.testing.assert_array_equal(x.permute((1, 2, 0)).data, data.transpose(1, 2, 0))
    np.testing.assert_array_equal(x.swapaxes(0, -1).data, np.swapaxes(data, 0, -1))
    with pytest.raises(ValueError, match="swapaxes"):
        x.swapaxes(0, 3)
    with pytest.raises(TypeError, match="swapaxes"):
        x.swapaxes(0, 1.0)


# --- the smaller refusals ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda x: x.flatten(None), "flatten"),
        (lambda x: x.flatten([0, 1]), "flatten"),
        (lambda x: x.flatten(True), "flatten"),
        (lambda x: x.unsqueeze(True), "unsqueeze"),
        (lambda x: x.unsqueeze(None), "unsqueeze"),
        (lambda x: x.softmax(axis=np.True_), "softmax"),
    ],
)
def test_axis_arguments_must_be_ints(call, name) -> None:
    with pytest.raises(TypeError, match=name):
        call(ag.Tensor(np.ones((2, 3))))


@pytest.mark.parametrize("reduce", ["sum", "mean", "max", "min", "var", "std"])
def test_every_reduction_takes_numpy_bools_for_keepdims(reduce) -> None:
    data = np.arange(6.0).reshape(2, 3)
    x = ag.Tensor(data, requires_grad=True)
    out = getattr(x, reduce)(axis=1, keepdims=np.True_)
    np.testing.assert_allclose(out.data, getattr(np, reduce)(data, axis=1, keepdims=True))
    out.sum().backward()
    assert x.grad.shape == (2, 3)
    with pytest.raises(TypeError, match=reduce):
        getattr(x, reduce)(keepdims=1)


def test_explain_html_checks_its_path_before_the_backward_pass(tmp_path) -> None:
    w = ag.Tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    for path, error in [
        (tmp_path / "missing" / "steps.html", FileNotFoundError),
        (tmp_path, IsADirectoryError),
        (3, TypeError),
    ]:
        with pytest.raises(error, match="explain_html"):
            ag.explain_html(loss, path)
        assert w.grad is None and loss.grad is None
    with pytest.raises(TypeError, match="explain_html"):
        ag.explain_html(np.ones(2), tmp_path / "steps.html")
