"""The engine tests of micrograd and tinygrad, written against our API.

micrograd checks two scalar expressions against PyTorch; their numbers are PyTorch's float64
results, kept here so the test runs without it. tinygrad checks small matrix models (a layer
with log_softmax, a diamond) against PyTorch; here they are checked against gradients derived
by hand in NumPy, and against PyTorch too when it is installed.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd_lite as ag

FLOATS = [(np.float64, 1e-12), (np.float32, 1e-5)]


@pytest.mark.parametrize(("dtype", "rel"), FLOATS)
def test_micrograd_sanity_check(dtype: type, rel: float) -> None:
    x = ag.Tensor(-4.0, requires_grad=True, dtype=dtype)
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()
    # PyTorch, float64: y = -20 and dy/dx = 46 (z = -10, so relu(z) is cut and z * z is not).
    assert y.item() == pytest.approx(-20.0, rel=rel)
    assert x.grad == pytest.approx(46.0, rel=rel)
    assert x.grad.dtype == dtype


@pytest.mark.parametrize(("dtype", "rel"), FLOATS)
def test_micrograd_more_ops(dtype: type, rel: float) -> None:
    a = ag.Tensor(-4.0, requires_grad=True, dtype=dtype)
    b = ag.Tensor(2.0, requires_grad=True, dtype=dtype)
    c = a + b
    d = a * b + b**3
    c = c + (c + 1)  # micrograd's `c += c + 1`: our += refuses tensors that require grad
    c = c + (1 + c + (-a))
    d = d + (d * 2 + (b + a).relu())
    d = d + (3 * d + (b - a).relu())
    e = c - d
    f = e**2
    g = f / 2.0
    g = g + 10.0 / f
    g.backward()
    # PyTorch, float64 (micrograd's reference).
    assert g.item() == pytest.approx(24.70408163265306, rel=rel)
    assert a.grad == pytest.approx(138.83381924198252, rel=rel)
    assert b.grad == pytest.approx(645.5772594752186, rel=rel)


@pytest.mark.parametrize(
    ("function", "value", "derivative"),
    [
        (ag.tanh, math.tanh, lambda x: 1 - math.tanh(x) ** 2),
        (ag.exp, math.exp, math.exp),
    ],
)
@pytest.mark.parametrize("x", [-1.0, 0.123, 2.0])
def test_micrograd_unary_functions(function, value, derivative, x: float) -> None:
    t = ag.Tensor(x, requires_grad=True)
    out = function(t)
    out.backward()
    assert out.item() == pytest.approx(value(x), rel=1e-12)
    assert t.grad == pytest.approx(derivative(x), rel=1e-12)


# --- tinygrad's small models -------------------------------------------------------------------
# tinygrad draws these from randn; here the signs are set so that both sides of every relu
# are used: x W is positive but in its last column, u * v is positive, u * z of mixed sign.
RNG = np.random.default_rng(1337)
X, W, M = np.abs(RNG.normal(size=(1, 3))), np.abs(RNG.normal(size=(3, 3))), RNG.normal(size=(1, 3))
W[:, -1] *= -1
U, V, Z = np.abs(RNG.normal(size=(3, 3))), np.abs(RNG.normal(size=(3, 3))), RNG.normal(size=(3, 3))


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def layer_ours() -> tuple[float, np.ndarray, np.ndarray]:
    """tinygrad's test_backward_pass: sum(log_softmax(relu(x W)) * m + m)."""
    x, w = ag.Tensor(X, requires_grad=True), ag.Tensor(W, requires_grad=True)
    m = ag.Tensor(M)
    out = (x.dot(w).relu().log_softmax() * m + m).sum()
    out.backward()
    return out.item(), x.grad, w.grad


def layer_by_hand() -> tuple[float, np.ndarray, np.ndarray]:
    pre = X @ W
    hidden = np.maximum(pre, 0)
    log_probs = hidden - np.log(np.exp(hidden).sum(axis=-1, keepdims=True))
    # d/dh sum(m * log_softmax(h)) = m - softmax(h) * sum(m); relu passes it where pre > 0.
    grad_pre = (M - softmax(hidden) * M.sum(axis=-1, keepdims=True)) * (pre > 0)
    return float((log_probs * M + M).sum()), grad_pre @ W.T, X.T @ grad_pre


def diamond_ours() -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """tinygrad's test_backward_pass_diamond_model: u reaches the output by two paths."""
    u, v, w = (ag.Tensor(array, requires_grad=True) for array in (U, V, Z))
    x = (u * v).relu()
    y = (u * w).relu()
    out = ((x + y) * y).relu().log_softmax().sum()
    out.backward()
    return out.item(), u.grad, v.grad, w.grad


def diamond_by_hand() -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    x, y = np.maximum(U * V, 0), np.maximum(U * Z, 0)
    c = (x + y) * y
    d = np.maximum(c, 0)
    log_probs = d - np.log(np.exp(d).sum(axis=-1, keepdims=True))
    grad_c = (1 - softmax(d) * d.shape[-1]) * (c > 0)  # d/dd sum(log_softmax(d)), then relu
    grad_x, grad_y = grad_c * y, grad_c * (x + 2 * y)  # c = x y + y**2
    grad_x, grad_y = grad_x * (U * V > 0), grad_y * (U * Z > 0)
    return float(log_probs.sum()), grad_x * V + grad_y * Z, grad_x * U, grad_y * U


@pytest.mark.parametrize(
    ("ours", "by_hand"), [(layer_ours, layer_by_hand), (diamond_ours, diamond_by_hand)]
)
def test_tinygrad_models_match_gradients_by_hand(ours, by_hand) -> None:
    for got, expected in zip(ours(), by_hand()):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_tinygrad_models_match_pytorch() -> None:
    torch = pytest.importorskip(
        "torch", reason="PyTorch is not installed: it is an optional oracle"
    )
    x, w = (torch.tensor(array, requires_grad=True) for array in (X, W))
    m = torch.tensor(M)
    out = (torch.log_softmax(torch.relu(x @ w), dim=-1) * m + m).sum()
    out.backward()
    for got, expected in zip(layer_ours(), (out.item(), x.grad, w.grad)):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)

    u, v, z = (torch.tensor(array, requires_grad=True) for array in (U, V, Z))
    first, second = torch.relu(u * v), torch.relu(u * z)
    out = torch.log_softmax(torch.relu((first + second) * second), dim=-1).sum()
    out.backward()
    for got, expected in zip(diamond_ours(), (out.item(), u.grad, v.grad, z.grad)):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_tinygrad_no_grad_reaches_only_what_requires_it() -> None:
    """tinygrad's test_nograd: x and m do not require grad, so neither does x * m."""
    x, m = ag.Tensor(X), ag.Tensor(M)
    w = ag.Tensor(W, requires_grad=True)
    product = x * m
    hidden = product @ w
    hidden.relu().sum().backward()
    assert x.grad is None and m.grad is None and product.grad is None
    assert hidden.grad is not None and w.grad is not None
    np.testing.assert_allclose(w.grad, (X * M).T @ (hidden.data > 0).astype(float), rtol=1e-12)
