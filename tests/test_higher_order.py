"""Higher-order gradients: grad with create_graph, the func transforms, and gradgradcheck."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_lite as ag
from autograd_lite import func

small = st.floats(-2.0, 2.0, allow_nan=False)


@given(st.lists(small, min_size=1, max_size=4), small)
def test_third_derivative_of_a_polynomial_is_exact(coefficients: list[float], x: float) -> None:
    """p(x) = Σ c_k x**k; p''' = Σ k (k-1) (k-2) c_k x**(k-3), exactly (no differences)."""

    def p(t):
        return sum((c * t**k for k, c in enumerate(coefficients, start=1)), ag.Tensor(0.0))

    expected = sum(
        k * (k - 1) * (k - 2) * c * x ** (k - 3)
        for k, c in enumerate(coefficients, start=1)
        if k >= 3
    )
    third = func.grad(func.grad(func.grad(p)))(x)
    assert third.shape == ()
    assert third.item() == pytest.approx(expected, rel=1e-12, abs=1e-12)


@given(st.floats(-3.0, 3.0, allow_nan=False))
def test_derivatives_of_tanh_match_their_closed_forms(x: float) -> None:
    t = math.tanh(x)
    closed = [1 - t**2, -2 * t * (1 - t**2), (1 - t**2) * (6 * t**2 - 2)]
    derivative = ag.tanh
    for expected in closed:
        derivative = func.grad(derivative)
        assert derivative(x).item() == pytest.approx(expected, rel=1e-10, abs=1e-12)


def test_grad_leaves_every_dot_grad_untouched() -> None:
    x = ag.Tensor([1.0, 2.0], requires_grad=True)
    w = ag.Tensor([0.5, -1.0], requires_grad=True)
    x.grad = np.array([7.0, 7.0])
    y = (x * w).sigmoid().sum()
    gx, gw = ag.grad(y, [x, w])
    np.testing.assert_array_equal(x.grad, [7.0, 7.0])
    assert w.grad is None and y.grad is None
    assert gx.shape == x.shape and not gx.requires_grad


def test_unused_inputs_get_zeros_of_their_shape() -> None:
    x = ag.Tensor([1.0, 2.0], requires_grad=True)
    unused = ag.Tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    (gx, gu) = ag.grad((x * x).sum(), [x, unused])
    np.testing.assert_array_equal(gx.data, [2.0, 4.0])
    np.testing.assert_array_equal(gu.data, np.zeros((2, 3)))
    assert gu.dtype == np.float32


def test_gradients_of_several_outputs_add_up_and_grad_outputs_seed_them() -> None:
    x = ag.Tensor([1.0, 2.0], requires_grad=True)
    (g,) = ag.grad([x * 3, x * x], x, grad_outputs=[np.ones(2), np.array([1.0, 10.0])])
    np.testing.assert_array_equal(g.data, [3 + 2, 3 + 40])


@pytest.mark.parametrize("create_graph", [False, True])
def test_an_output_listed_twice_gets_the_sum_of_its_seeds(create_graph) -> None:
    x = ag.Tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    (g,) = ag.grad([y, y], x, grad_outputs=[np.ones(2), np.array([1.0, 10.0])],
                   create_graph=create_graph)
    np.testing.assert_array_equal(g.data, [2 * 1 * 2, 2 * 2 * 11])
    assert x.grad is None


def test_a_0d_output_listed_twice_gives_an_array_that_differentiates_again() -> None:
    x = ag.Tensor(2.0, requires_grad=True)
    y = x * x
    (g,) = ag.grad([y, y], x, create_graph=True)  # 2 * 2x
    assert type(g.data) is np.ndarray and g.item() == 8.0
    (h,) = ag.grad([y, y], x)
    assert type(h.data) is np.ndarray and h.item() == 8.0
    g.requires_grad = True
    (third,) = ag.grad(g ** 3, g)  # 3 g**2 at g = 8, g a leaf now
    assert third.item() == 192.0


def test_inputs_that_get_one_gradient_array_get_tensors_of_their_own() -> None:
    """add sends one array to both operands; two tensors must never hold one array object, or a
    later create_graph pass would take one for the other."""
    x = ag.Tensor([1.0, 2.0], requires_grad=True)
    a, b = x * 1, x * 2
    ga, gb = ag.grad((a + b).sum(), [a, b])
    assert ga.data is not gb.data
    np.testing.assert_array_equal(ga.data, [1.0, 1.0])
    ga.requires_grad = gb.requires_grad = True
    (mixed,) = ag.grad(ag.grad((ga * gb).sum(), gb, create_graph=True)[0].sum(), ga)
    np.testing.assert_array_equal(mixed.data, [1.0, 1.0])


def test_create_graph_records_the_backward_pass_so_it_can_be_drawn() -> None:
    x = ag.Tensor(0.7, requires_grad=True)
    (dy,) = ag.grad(ag.tanh(x) * x, x, create_graph=True)
    assert dy.requires_grad and dy.op is not None
    assert "tanh" in ag.to_dot(dy)
    (d2y,) = ag.grad(dy, x)
    t = math.tanh(0.7)
    assert d2y.item() == pytest.approx(2 * (1 - t * t) - 2 * 0.7 * t * (1 - t * t))


def test_func_shapes_follow_the_contract() -> None:
    x = ag.Tensor(np.arange(6.0).reshape(2, 3) / 10)

    def f(t):
        return (t.tanh() * t).sum()

    assert func.grad(f)(x).shape == (2, 3)
    value, gradient = func.value_and_grad(f)(x)
    assert value.shape == () and gradient.shape == (2, 3)
    assert func.jacobian(lambda t: t.sigmoid()[0])(x).shape == (3, 2, 3)
    assert func.hessian(f)(x).shape == (2, 3, 2, 3)
    both = func.grad(lambda a, b: (a * b).sum(), argnums=(0, 1))([1.0, 2.0], [3.0, 4.0])
    np.testing.assert_array_equal(both[0].data, [3.0, 4.0])
    np.testing.assert_array_equal(both[1].data, [1.0, 2.0])


@given(st.lists(small, min_size=2, max_size=4))
@settings(max_examples=25)
def test_hessian_is_the_jacobian_of_the_gradient_and_symmetric(values: list[float]) -> None:
    def f(v):
        return (v.sigmoid() * v[::-1]).sum() + (v * v * v).sum()

    x = np.array(values)
    hessian = func.hessian(f)(x).data
    np.testing.assert_allclose(hessian, hessian.T, atol=1e-12)
    eps = 1e-6
    gradient = func.grad(f)
    for k in range(len(x)):
        shift = np.zeros_like(x)
        shift[k] = eps
        column = (gradient(x + shift).data - gradient(x - shift).data) / (2 * eps)
        np.testing.assert_allclose(hessian[:, k], column, rtol=1e-5, atol=1e-6)


def test_func_errors_name_the_transform() -> None:
    with pytest.raises(ValueError, match="one-element"):
        func.grad(lambda t: t * 2)([1.0, 2.0])
    with pytest.raises(TypeError, match="must return a Tensor"):
        func.jacobian(lambda t: 3.0)(1.0)
    with pytest.raises(ValueError, match="out of range"):
        func.grad(lambda t: t, argnums=2)(1.0)
    with pytest.raises(RuntimeError, match="does not require grad"):
        ag.grad(ag.Tensor(1.0, requires_grad=True) * 2, ag.Tensor(1.0))


def test_gradgradcheck_catches_a_wrong_second_derivative(monkeypatch) -> None:
    from autograd_lite.ops import functions

    # tanh's rule with the derivative of its own output frozen: right once, wrong twice.
    def frozen_tanh_backward(grad_out, out):
        return (grad_out * (1 - ag.ops.dual.values(out) ** 2),)

    x = ag.Tensor([0.3, -0.8], requires_grad=True)
    assert ag.gradcheck(ag.tanh, x)
    assert ag.gradgradcheck(ag.tanh, x)
    monkeypatch.setattr(functions, "tanh_backward", frozen_tanh_backward)
    assert ag.gradcheck(ag.tanh, x)
    with pytest.raises(ag.GradcheckError, match="gradgradcheck"):
        ag.gradgradcheck(ag.tanh, x)


def test_second_derivatives_of_losses_and_convolutions() -> None:
    import nn

    rng = np.random.default_rng(0)
    logits = ag.Tensor(rng.normal(size=(3, 4)), requires_grad=True)
    assert ag.gradgradcheck(lambda z: nn.cross_entropy(z, [0, 3, 1]), logits)
    z = ag.Tensor(rng.normal(size=5), requires_grad=True)
    target = ag.Tensor(rng.uniform(size=5), requires_grad=True)
    assert ag.gradgradcheck(nn.binary_cross_entropy_with_logits, z, target)
    prob = ag.Tensor(rng.uniform(0.1, 0.9, size=5), requires_grad=True)
    assert ag.gradgradcheck(nn.binary_cross_entropy, prob, target)
    image = ag.Tensor(rng.normal(size=(1, 2, 5, 5)), requires_grad=True)
    weight = ag.Tensor(rng.normal(size=(2, 2, 3, 3)), requires_grad=True)
    assert ag.gradgradcheck(
        lambda x, w: ag.conv2d(x, w, stride=2, padding=1).tanh(), image, weight
    )


def test_second_derivatives_equal_torch_double_backward() -> None:
    torch = pytest.importorskip("torch", reason="PyTorch is the reference here when installed")
    rng = np.random.default_rng(1)
    data = rng.normal(size=(3, 4))
    weight_data = rng.normal(size=(4, 2))

    def ours_and_theirs(lib_x, lib_w, tanh, softmax):
        hidden = tanh(lib_x @ lib_w)
        return (softmax(hidden) * hidden).sum() + (lib_x * lib_x * lib_x).mean()

    x = ag.Tensor(data, requires_grad=True)
    w = ag.Tensor(weight_data, requires_grad=True)
    out = ours_and_theirs(x, w, ag.tanh, lambda t: ag.softmax(t, axis=1))
    gx, gw = ag.grad(out, [x, w], create_graph=True)
    hx, hw = ag.grad((gx * gx).sum() + gw.sum(), [x, w])

    tx = torch.tensor(data, requires_grad=True)
    tw = torch.tensor(weight_data, requires_grad=True)
    tout = ours_and_theirs(tx, tw, torch.tanh, lambda t: torch.softmax(t, dim=1))
    tgx, tgw = torch.autograd.grad(tout, [tx, tw], create_graph=True)
    thx, thw = torch.autograd.grad((tgx * tgx).sum() + tgw.sum(), [tx, tw])
    np.testing.assert_allclose(hx.data, thx.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(hw.data, thw.numpy(), rtol=1e-10, atol=1e-12)
