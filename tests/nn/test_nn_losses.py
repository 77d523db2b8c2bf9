"""nn losses: values against NumPy references, gradients, stability at ±1000, validation."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import autograd_lite as ag
import nn

RNG = np.random.default_rng(0)


def reference_sigmoid(z):
    return 1 / (1 + np.exp(-z))


@pytest.mark.parametrize("reduction, combine", [("mean", np.mean), ("sum", np.sum)])
def test_mse_loss_value_and_gradient(reduction, combine):
    pred = ag.Tensor(RNG.normal(size=(4, 3)), requires_grad=True)
    target = RNG.normal(size=(4, 3))
    loss = nn.mse_loss(pred, target, reduction=reduction)
    assert loss.shape == ()
    np.testing.assert_allclose(loss.item(), combine((pred.data - target) ** 2), rtol=1e-14)
    loss.backward()
    scale = pred.size if reduction == "mean" else 1
    np.testing.assert_allclose(pred.grad, 2 * (pred.data - target) / scale, rtol=1e-14)


@pytest.mark.parametrize("reduction, combine", [("mean", np.mean), ("sum", np.sum)])
def test_binary_cross_entropy_value_and_gradient(reduction, combine):
    prob = ag.Tensor(RNG.uniform(0.05, 0.95, size=(6,)), requires_grad=True)
    target = RNG.integers(0, 2, size=6).astype(float)
    p = prob.data
    loss = nn.binary_cross_entropy(prob, target, reduction=reduction)
    expected = combine(-(target * np.log(p) + (1 - target) * np.log(1 - p)))
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-13)
    assert ag.gradcheck(lambda q: nn.binary_cross_entropy(q, target, reduction), prob)


def test_binary_cross_entropy_clamps_log_at_minus_100_like_pytorch():
    prob = ag.Tensor([0.0, 1.0, 0.0, 1.0], requires_grad=True)
    target = [1.0, 0.0, 0.0, 1.0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = nn.binary_cross_entropy(prob, target, reduction="sum")
        loss.backward()
    assert loss.item() == 200.0
    assert np.all(np.isfinite(prob.grad))
    # PyTorch's rule: (p - t) / max(p (1 - p), 1e-12); a right answer at 0 or 1 gets 0.
    np.testing.assert_allclose(prob.grad, [-1e12, 1e12, 0.0, 0.0])


def test_binary_cross_entropy_gradient_reaches_a_target_that_needs_one():
    prob = ag.Tensor([0.3, 0.8])
    target = ag.Tensor([0.2, 0.6], requires_grad=True)
    assert ag.gradcheck(lambda t: nn.binary_cross_entropy(prob, t), target)


def test_binary_cross_entropy_rejects_probabilities_outside_0_1():
    with pytest.raises(ValueError, match=r"binary_cross_entropy: prob must lie in \[0, 1\]"):
        nn.binary_cross_entropy(ag.Tensor([0.5, 1.5]), [1.0, 0.0])


@given(arrays(np.float64, st.integers(1, 6), elements=st.floats(-30, 30)), st.randoms())
@settings(max_examples=50, deadline=None)
def test_logits_loss_equals_bce_of_sigmoid(z, random):
    target = np.array([random.random() for _ in z])
    logits = ag.Tensor(z, requires_grad=True)
    loss = nn.binary_cross_entropy_with_logits(logits, target)
    s = reference_sigmoid(z)
    # -log σ(z) = log(1 + e**-z) and -log(1 - σ(z)) = log(1 + e**z), each exact via logaddexp
    expected = np.mean(target * np.logaddexp(0, -z) + (1 - target) * np.logaddexp(0, z))
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-9, atol=1e-12)
    loss.backward()
    np.testing.assert_allclose(logits.grad, (s - target) / z.size, rtol=1e-12, atol=1e-15)


def test_logits_loss_gradient_is_right_at_zero():
    logits = ag.Tensor([0.0, 0.0], requires_grad=True)
    nn.binary_cross_entropy_with_logits(logits, [1.0, 0.0], reduction="sum").backward()
    np.testing.assert_array_equal(logits.grad, [-0.5, 0.5])
    target = ag.Tensor([0.3, 0.9], requires_grad=True)
    assert ag.gradcheck(lambda t: nn.binary_cross_entropy_with_logits([0.5, -2.0], t), target)


def test_logits_loss_is_stable_at_plus_minus_1000():
    logits = ag.Tensor([1000.0, -1000.0, 1000.0, -1000.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = nn.binary_cross_entropy_with_logits(logits, [1.0, 0.0, 0.0, 1.0], reduction="sum")
        loss.backward()
    assert loss.item() == 2000.0
    np.testing.assert_array_equal(logits.grad, [0.0, 0.0, 1.0, -1.0])


def reference_cross_entropy(z, labels):
    shifted = z - z.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -log_probs[np.arange(len(labels)), labels]


@pytest.mark.parametrize("reduction, combine", [("mean", np.mean), ("sum", np.sum)])
def test_cross_entropy_value_and_gradient(reduction, combine):
    z = RNG.normal(size=(5, 4))
    labels = np.array([0, 3, 1, 1, 2])
    logits = ag.Tensor(z, requires_grad=True)
    loss = nn.cross_entropy(logits, labels, reduction=reduction)
    np.testing.assert_allclose(loss.item(), combine(reference_cross_entropy(z, labels)), rtol=1e-14)
    loss.backward()
    probs = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    expected = probs - np.eye(4)[labels]
    scale = 5 if reduction == "mean" else 1
    np.testing.assert_allclose(logits.grad, expected / scale, atol=1e-15)


def test_cross_entropy_is_stable_at_plus_minus_1000():
    logits = ag.Tensor([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, 1000.0]], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = nn.cross_entropy(logits, [1, 2], reduction="sum")
        loss.backward()
    assert loss.item() == 2000.0
    np.testing.assert_array_equal(logits.grad, [[1.0, -1.0, 0.0], [0.0, 0.0, 0.0]])


def test_cross_entropy_accepts_labels_held_in_a_tensor():
    z = RNG.normal(size=(3, 2))
    loss = nn.cross_entropy(z, ag.Tensor([1, 0, 1]))
    np.testing.assert_allclose(loss.item(), reference_cross_entropy(z, [1, 0, 1]).mean())


@pytest.mark.parametrize("labels, error, words", [
    ([0, 1], ValueError, "labels must have shape (3,), got (2,)"),
    ([0, 1, 4], ValueError, "labels must lie in [0, 4)"),
    ([0, -1, 2], ValueError, "labels must lie in [0, 4)"),
    ([0.5, 1, 2], TypeError, "labels must be integer class indices"),
])
def test_cross_entropy_rejects_bad_labels(labels, error, words):
    with pytest.raises(error) as caught:
        nn.cross_entropy(np.zeros((3, 4)), labels)
    assert words in str(caught.value) and str(caught.value).startswith("cross_entropy:")


@settings(max_examples=150, deadline=None)
@given(
    dtype=st.sampled_from(["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                           "uint64"]),
    classes=st.integers(1, 130),
    data=st.data(),
)
def test_cross_entropy_refuses_exactly_the_labels_outside_the_classes(dtype, classes, data):
    """Every integer dtype, at and past both ends (negative labels of signed dtypes too)."""
    info = np.iinfo(dtype)
    values = data.draw(st.lists(st.integers(int(info.min), int(info.max)), min_size=1,
                                max_size=6))
    labels = np.array(values, dtype=dtype)
    logits = np.zeros((len(values), classes))
    if all(0 <= v < classes for v in values):
        assert np.isfinite(nn.cross_entropy(logits, labels).item())
    else:
        with pytest.raises(ValueError, match=rf"labels must lie in \[0, {classes}\)"):
            nn.cross_entropy(logits, labels)


@pytest.mark.parametrize("dtype", ["int8", "int64", "uint8", "bool"])
def test_cross_entropy_of_integer_logits_is_that_of_their_float_values(dtype):
    logits = np.array([[1, 2, 3, 4], [4, 3, 2, 1], [0, 0, 0, 1]] * 11, dtype=dtype)
    labels = [0, 1, 3] * 11  # 132 logits: the short-row path of the shift as well
    expected = nn.cross_entropy(logits.astype(np.float64), labels).item()
    assert nn.cross_entropy(ag.Tensor(logits, dtype=dtype), labels).item() == expected


def test_cross_entropy_needs_two_dimensional_logits():
    with pytest.raises(ValueError, match=r"logits must have shape \(batch, classes\)"):
        nn.cross_entropy(np.zeros(4), [1])


@pytest.mark.parametrize("loss, first", [
    (nn.mse_loss, "pred"),
    (nn.binary_cross_entropy, "prob"),
    (nn.binary_cross_entropy_with_logits, "logits"),
])
def test_shape_mismatch_names_the_loss_and_both_shapes(loss, first):
    with pytest.raises(ValueError) as caught:
        loss(ag.Tensor(np.full((4, 1), 0.5)), np.zeros(4))
    message = str(caught.value)
    assert message.startswith(f"{loss.__name__}: {first} has shape (4, 1)")
    assert "target has shape (4,)" in message


@pytest.mark.parametrize("loss, args", [
    (nn.mse_loss, ([0.5], [1.0])),
    (nn.binary_cross_entropy, ([0.5], [1.0])),
    (nn.binary_cross_entropy_with_logits, ([0.5], [1.0])),
    (nn.cross_entropy, ([[0.5, 0.1]], [1])),
])
def test_unknown_reduction(loss, args):
    with pytest.raises(ValueError, match="reduction must be 'mean' or 'sum', got 'none'"):
        loss(*args, reduction="none")


def test_float32_losses_stay_float32():
    pred = ag.Tensor(np.array([0.2, 0.7], dtype=np.float32), requires_grad=True)
    for loss in (nn.mse_loss, nn.binary_cross_entropy, nn.binary_cross_entropy_with_logits):
        out = loss(pred, [0, 1])
        assert out.dtype == np.float32
    assert nn.cross_entropy(pred.reshape(1, 2), [1]).dtype == np.float32


@pytest.mark.parametrize("loss, args", [
    (nn.mse_loss, ("abc", [1.0])),
    (nn.mse_loss, ([1.0], "one")),
    (nn.binary_cross_entropy, ([0.5], {"a": 1})),
    (nn.binary_cross_entropy_with_logits, ([[1.0], [2.0, 3.0]], [1.0])),
    (nn.cross_entropy, ("logits", [1])),
    (nn.cross_entropy, ([[0.5, 0.1]], [[0], [1, 2]])),
    (nn.cross_entropy, ([[0.5, 0.1]], ["a"])),
])
def test_junk_operands_name_the_loss(loss, args):
    with pytest.raises(TypeError, match=f"^{loss.__name__}:"):
        loss(*args)


def test_reduction_must_be_a_string():
    with pytest.raises(ValueError, match="^mse_loss: reduction"):
        nn.mse_loss([1.0], [1.0], reduction=np.array(["mean", "sum"]))


def test_cross_entropy_needs_a_class():
    with pytest.raises(ValueError, match="at least one class"):
        nn.cross_entropy(np.zeros((0, 0)), np.zeros(0, dtype=int), reduction="sum")
