"""nn optimizers: SGD (with momentum) and Adam against reference formulas, skipping, errors."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_lite as ag
import nn

GRADS = [np.array([0.5, -1.0, 2.0]), np.array([-0.25, 0.5, 1.0]), np.array([1.0, 1.0, -3.0])]


def parameter(values=(1.0, 2.0, -1.0), dtype=np.float64) -> ag.Tensor:
    return ag.Tensor(np.array(values, dtype=dtype), requires_grad=True)


def run(optimizer: nn.Optimizer, p: ag.Tensor, grads=GRADS) -> list[np.ndarray]:
    seen = []
    for grad in grads:
        p.grad = grad.astype(p.dtype)
        optimizer.step()
        seen.append(p.numpy())
    return seen


def test_sgd_step_is_w_minus_lr_g():
    p = parameter()
    start = p.numpy()
    seen = run(nn.SGD([p], lr=0.1), p)
    np.testing.assert_array_equal(seen[0], start - 0.1 * GRADS[0])
    np.testing.assert_allclose(seen[-1], start - 0.1 * sum(GRADS), rtol=1e-15)


def test_sgd_momentum_follows_pytorch():
    p = parameter()
    w, velocity = p.numpy(), None
    seen = run(nn.SGD([p], lr=0.1, momentum=0.9), p)
    for grad, ours in zip(GRADS, seen):
        velocity = grad.copy() if velocity is None else 0.9 * velocity + grad
        w = w - 0.1 * velocity
        np.testing.assert_allclose(ours, w, rtol=1e-15)


def test_adam_follows_the_paper():
    p = parameter()
    w = p.numpy()
    m = np.zeros(3)
    v = np.zeros(3)
    lr, beta1, beta2, eps = 0.01, 0.8, 0.99, 1e-6
    seen = run(nn.Adam([p], lr=lr, betas=(beta1, beta2), eps=eps), p)
    for t, (grad, ours) in enumerate(zip(GRADS, seen), start=1):
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad**2
        m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
        w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
        np.testing.assert_allclose(ours, w, rtol=1e-13)


def test_adam_minimises_a_quadratic():
    target = np.array([3.0, -2.0])
    p = parameter((0.0, 0.0))
    optimizer = nn.Adam([p], lr=0.1)
    for _ in range(500):
        optimizer.zero_grad()
        ((p - target) ** 2).sum().backward()
        optimizer.step()
    np.testing.assert_allclose(p.data, target, atol=1e-3)


@pytest.mark.parametrize("make", [
    lambda ps: nn.SGD(ps, lr=0.1),
    lambda ps: nn.SGD(ps, lr=0.1, momentum=0.5),
    lambda ps: nn.Adam(ps, lr=0.1),
])
def test_skips_frozen_parameters_and_missing_gradients(make):
    frozen, no_grad, live = parameter(), parameter(), parameter()
    optimizer = make([frozen, no_grad, live])
    frozen.grad = np.ones(3)
    frozen.requires_grad = False
    live.grad = np.ones(3)
    before = [t.numpy() for t in (frozen, no_grad, live)]
    optimizer.step()
    np.testing.assert_array_equal(frozen.data, before[0])
    np.testing.assert_array_equal(no_grad.data, before[1])
    assert np.all(live.data < before[2])


def test_adam_counts_steps_per_parameter():
    # A parameter skipped at first gets the same first update later as a fresh Adam would give.
    early, late = parameter(), parameter()
    optimizer = nn.Adam([early, late], lr=0.1)
    early.grad = np.ones(3)
    optimizer.step()
    late.grad = GRADS[0]
    optimizer.step()
    reference = parameter()
    reference.grad = GRADS[0]
    nn.Adam([reference], lr=0.1).step()
    np.testing.assert_array_equal(late.data, reference.data)


def test_zero_grad_sets_gradients_to_none():
    model = nn.MLP(2, [3], 1, rng=0)
    model(np.ones((2, 2))).sum().backward()
    optimizer = nn.SGD(model.parameters(), lr=0.1)
    optimizer.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_updates_are_not_recorded_and_keep_dtype():
    p = parameter(dtype=np.float32)
    for optimizer in (nn.SGD([p], lr=0.1, momentum=0.9), nn.Adam([p])):
        p.grad = np.ones(3, dtype=np.float32)
        optimizer.step()
        assert p.op is None and p.parents == () and p.requires_grad
        assert p.dtype == np.float32


@pytest.mark.parametrize("make", [
    lambda ps: nn.SGD(ps, lr=0.5, momentum=0.9), lambda ps: nn.Adam(ps, lr=0.5),
])
def test_a_step_replaces_the_data_and_never_writes_into_old_arrays(make):
    p = parameter()
    mine = np.array([1.0, 2.0, 3.0])
    p.data = mine
    seen = p.data
    p.grad = np.ones(3)
    make([p]).step()
    np.testing.assert_allclose(p.data, [0.5, 1.5, 2.5], rtol=1e-7)
    np.testing.assert_array_equal(mine, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(seen, [1.0, 2.0, 3.0])


def test_a_graph_recorded_before_a_step_is_not_silently_reused():
    model = nn.Dense(2, 1, rng=0)
    loss = model(np.ones((1, 2))).sum()
    loss.backward()
    nn.SGD(model.parameters(), lr=0.1).step()
    with pytest.raises(RuntimeError):
        loss.backward()


def test_training_a_model_end_to_end_lowers_the_loss():
    X = np.random.default_rng(0).normal(size=(32, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(float).reshape(-1, 1)
    for make in (lambda ps: nn.SGD(ps, lr=0.5, momentum=0.9), lambda ps: nn.Adam(ps, lr=0.05)):
        model = nn.MLP(2, [16], 1, rng=1)
        optimizer = make(model.parameters())
        losses = []
        for _ in range(100):
            optimizer.zero_grad()
            loss = nn.binary_cross_entropy_with_logits(model(X), y)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        assert losses[-1] < 0.5 * losses[0]


@pytest.mark.parametrize("make, error, words", [
    (lambda p: nn.SGD([], lr=0.1), ValueError, "empty parameter list"),
    (lambda p: nn.SGD(p, lr=0.1), TypeError, "iterable of Tensors"),
    (lambda p: nn.SGD(3, lr=0.1), TypeError, "SGD: params must be an iterable of Tensors"),
    (lambda p: nn.Adam("w"), TypeError, "Adam: params must be an iterable of Tensors"),
    (lambda p: nn.SGD([p, np.ones(2)], lr=0.1), TypeError, "params[1] is a ndarray"),
    (lambda p: nn.SGD([p, p], lr=0.1), ValueError, "params[1] appears more than once"),
    (lambda p: nn.SGD([p], lr=-1.0), ValueError, "lr must be >= 0"),
    (lambda p: nn.SGD([p], lr="fast"), TypeError, "lr must be a number"),
    (lambda p: nn.SGD([p], lr=0.1, momentum=-0.5), ValueError, "momentum must be >= 0"),
    (lambda p: nn.Adam([p], betas=(0.9, 1.0)), ValueError, "betas[1] must be in [0, 1.0)"),
    (lambda p: nn.Adam([p], betas=0.9), TypeError, "betas must be a pair"),
    (lambda p: nn.Adam([p], eps=-1e-8), ValueError, "eps must be >= 0"),
])
def test_bad_arguments(make, error, words):
    with pytest.raises(error) as caught:
        make(parameter())
    assert words in str(caught.value)
