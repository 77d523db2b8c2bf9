"""nn optimizers: SGD, Adam, AdamW and clip_grad_norm against the written formulas (our own
NumPy, sharing nothing with nn.optim) and against PyTorch when installed; skipping, dtypes,
and every refusal leaving everything as it was. State and resuming: test_nn_optim_state.py."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

import autograd_lite as ag
import nn

GRADS = [np.array([0.5, -1.0, 2.0]), np.array([-0.25, 0.5, 1.0]), np.array([1.0, 1.0, -3.0])]
OPTIMIZERS = {
    "SGD": lambda ps: nn.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01),
    "Adam": lambda ps: nn.Adam(ps, lr=0.1, weight_decay=0.01),
    "AdamW": lambda ps: nn.AdamW(ps, lr=0.1),
}


def parameter(values=(1.0, 2.0, -1.0), dtype=np.float64) -> ag.Tensor:
    return ag.Tensor(np.array(values, dtype=dtype), requires_grad=True)


def run(optimizer: nn.Optimizer, p: ag.Tensor, grads=GRADS) -> list[np.ndarray]:
    seen = []
    for grad in grads:
        p.grad = grad.astype(p.dtype)
        optimizer.step()
        seen.append(p.numpy())
    return seen


# --- the written formulas, in plain NumPy --------------------------------------------------
def reference_sgd(w, grads, lr, momentum=0.0, weight_decay=0.0):
    """d = g + λw; v = d at first, then v = μv + d; w -= lr·(v if μ else d)."""
    velocity, seen = None, []
    for g in grads:
        d = g + weight_decay * w
        if momentum:
            velocity = d if velocity is None else momentum * velocity + d
            d = velocity
        w = w - lr * d
        seen.append(w)
    return seen


def reference_adam(w, grads, lr, betas, eps, weight_decay=0.0, decoupled=False):
    """Kingma & Ba with bias correction; L2 (g += λw) or decoupled (w *= 1 - lr·λ)."""
    beta1, beta2 = betas
    m, v, seen = np.zeros_like(w), np.zeros_like(w), []
    for t, g in enumerate(grads, start=1):
        if decoupled:
            w = w * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * w
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
        w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
        seen.append(w)
    return seen


shapes = array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=4)
seeds = st.integers(0, 2**32 - 1)
rates = st.floats(1e-4, 1.0)
decays = st.sampled_from([0.0, 1e-3, 0.1, 0.5])
betas = st.tuples(st.floats(0.0, 0.99), st.floats(0.5, 0.9999))
epsilons = st.sampled_from([1e-8, 1e-6, 1e-3])


def start_and_grads(shape, seed, steps=40):
    rng = np.random.default_rng(seed)
    return rng.normal(size=shape), list(rng.normal(size=(steps, *shape)))


def train(optimizer_for, w, grads):
    p = ag.Tensor(w.copy(), requires_grad=True)
    return run(optimizer_for([p]), p, grads)


@given(shapes, seeds, rates, st.sampled_from([0.0, 0.5, 0.9]), decays)
def test_sgd_follows_its_formula(shape, seed, lr, momentum, weight_decay):
    w, grads = start_and_grads(shape, seed)
    ours = train(lambda ps: nn.SGD(ps, lr, momentum=momentum, weight_decay=weight_decay), w, grads)
    for got, want in zip(ours, reference_sgd(w, grads, lr, momentum, weight_decay)):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@given(shapes, seeds, rates, betas, epsilons, decays, st.booleans())
def test_adam_and_adamw_follow_their_formulas(shape, seed, lr, pair, eps, weight_decay, decoupled):
    w, grads = start_and_grads(shape, seed)
    kind = nn.AdamW if decoupled else nn.Adam
    ours = train(lambda ps: kind(ps, lr, pair, eps, weight_decay=weight_decay), w, grads)
    for got, want in zip(ours, reference_adam(w, grads, lr, pair, eps, weight_decay, decoupled)):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_adamw_default_decay_is_001_and_adam_default_is_none():
    assert nn.AdamW([parameter()]).weight_decay == 0.01
    assert nn.Adam([parameter()]).weight_decay == 0.0
    assert nn.SGD([parameter()], lr=0.1).weight_decay == 0.0


# --- against PyTorch --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch", reason="PyTorch not installed: no cross-check against it")


TORCH_CASES = {
    "SGD+weight_decay": (lambda ps: nn.SGD(ps, 0.05, weight_decay=0.1),
                         lambda t, ps: t.optim.SGD(ps, 0.05, weight_decay=0.1)),
    "SGD momentum+weight_decay": (
        lambda ps: nn.SGD(ps, 0.05, momentum=0.9, weight_decay=0.1),
        lambda t, ps: t.optim.SGD(ps, 0.05, momentum=0.9, weight_decay=0.1)),
    "Adam+weight_decay": (
        lambda ps: nn.Adam(ps, 0.01, (0.8, 0.99), 1e-6, weight_decay=0.1),
        lambda t, ps: t.optim.Adam(ps, 0.01, (0.8, 0.99), 1e-6, weight_decay=0.1)),
    "AdamW": (lambda ps: nn.AdamW(ps, 0.01), lambda t, ps: t.optim.AdamW(ps, 0.01)),
    "AdamW strong decay": (
        lambda ps: nn.AdamW(ps, 0.1, (0.5, 0.6), 1e-3, weight_decay=0.5),
        lambda t, ps: t.optim.AdamW(ps, 0.1, (0.5, 0.6), 1e-3, weight_decay=0.5)),
}


@pytest.mark.parametrize("case", TORCH_CASES)
@given(shape=shapes, seed=seeds)
def test_optimizers_match_pytorch_over_many_steps(torch, case, shape, seed):
    ours_for, theirs_for = TORCH_CASES[case]
    w, grads = start_and_grads(shape, seed, steps=100)
    ours = train(ours_for, w, grads)
    theirs = torch.tensor(w.copy(), requires_grad=True)
    optimizer = theirs_for(torch, [theirs])
    for got, grad in zip(ours, grads):
        theirs.grad = torch.tensor(grad)
        optimizer.step()
        np.testing.assert_allclose(got, theirs.detach().numpy(), rtol=1e-12, atol=1e-14)


grad_lists = st.lists(st.tuples(shapes, st.floats(1e-3, 1e3)), min_size=1, max_size=4)


@given(grad_lists, st.floats(0.0, 10.0), seeds)
def test_clip_grad_norm_matches_pytorch(torch, specs, max_norm, seed):
    rng = np.random.default_rng(seed)
    grads = [rng.normal(size=shape) * scale for shape, scale in specs]
    ours = [ag.Tensor(np.zeros(g.shape), requires_grad=True) for g in grads]
    theirs = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for p, t, g in zip(ours, theirs, grads):
        p.grad, t.grad = g.copy(), torch.tensor(g)
    norm = nn.clip_grad_norm(ours, max_norm)
    assert isinstance(norm, float)
    np.testing.assert_allclose(norm, torch.nn.utils.clip_grad_norm_(theirs, max_norm).item(),
                               rtol=1e-14)
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=1e-14, atol=1e-300)


# --- clip_grad_norm against its formula ----------------------------------------------------
@given(grad_lists, st.floats(0.0, 10.0), seeds)
def test_clip_grad_norm_follows_its_formula(specs, max_norm, seed):
    rng = np.random.default_rng(seed)
    grads = [rng.normal(size=shape) * scale for shape, scale in specs]
    params = [ag.Tensor(np.zeros(g.shape), requires_grad=True) for g in grads]
    olds = []
    for p, g in zip(params, grads):
        p.grad = g.copy()
        olds.append(p.grad)
    total = math.sqrt(sum(float(np.sum(g * g)) for g in grads))
    assert nn.clip_grad_norm(params, max_norm) == pytest.approx(total, rel=1e-12)
    scale = min(1.0, max_norm / (total + 1e-6))
    for p, g, old in zip(params, grads, olds):
        np.testing.assert_allclose(p.grad, g * scale, rtol=1e-12, atol=1e-300)
        np.testing.assert_array_equal(old, g)  # replaced, never edited in place
    assert math.sqrt(sum(float(np.sum(p.grad**2)) for p in params)) <= max_norm + 1e-9


def test_clip_grad_norm_takes_one_tensor_counts_frozen_ones_and_keeps_dtype():
    w = parameter((0.0, 0.0), dtype=np.float32)
    w.grad = np.array([3.0, 4.0], dtype=np.float32)
    frozen = ag.Tensor([0.0], requires_grad=True)
    frozen.grad = np.array([12.0])
    frozen.requires_grad = False
    assert nn.clip_grad_norm([w, frozen, parameter()], 6.5) == 13.0
    assert w.grad.dtype == np.float32
    np.testing.assert_allclose(w.grad, [1.5, 2.0], rtol=1e-6)
    assert nn.clip_grad_norm(w, 100.0) == pytest.approx(2.5, rel=1e-6)
    assert nn.clip_grad_norm([parameter()], 1.0) == 0.0  # no gradients at all


def test_clip_grad_norm_with_zero_gradients_keeps_them_finite():
    w = parameter()
    w.grad = np.zeros(3)
    assert nn.clip_grad_norm([w], 0.0) == 0.0
    np.testing.assert_array_equal(w.grad, np.zeros(3))


@pytest.mark.parametrize("max_norm, error, words", [
    (math.inf, ValueError, "max_norm must be finite"),
    (math.nan, ValueError, "max_norm must be finite"),
    (2**2000, ValueError, "max_norm must be finite"),
    (-1.0, ValueError, "max_norm must be >= 0"),
    ("1", TypeError, "max_norm must be a number"),
])
def test_clip_grad_norm_refuses_bad_max_norm(max_norm, error, words):
    w = parameter()
    w.grad = np.array([3.0, 4.0, 12.0])
    with pytest.raises(error, match="clip_grad_norm") as caught:
        nn.clip_grad_norm([w], max_norm)
    assert words in str(caught.value)
    np.testing.assert_array_equal(w.grad, [3.0, 4.0, 12.0])


def test_clip_grad_norm_refuses_a_misshapen_gradient_before_scaling_any():
    first, second = parameter(), parameter()
    first.grad, second.grad = np.full(3, 10.0), np.ones(2)
    with pytest.raises(ValueError, match=r"clip_grad_norm: params\[1\].grad has shape \(2,\)"):
        nn.clip_grad_norm([first, second], 1.0)
    np.testing.assert_array_equal(first.grad, np.full(3, 10.0))


# --- behaviour shared by every optimizer -----------------------------------------------------
def test_sgd_step_is_w_minus_lr_g():
    p = parameter()
    start = p.numpy()
    seen = run(nn.SGD([p], lr=0.1), p)
    np.testing.assert_array_equal(seen[0], start - 0.1 * GRADS[0])


def test_adam_minimises_a_quadratic():
    target = np.array([3.0, -2.0])
    p = parameter((0.0, 0.0))
    optimizer = nn.Adam([p], lr=0.1)
    for _ in range(500):
        optimizer.zero_grad()
        ((p - target) ** 2).sum().backward()
        optimizer.step()
    np.testing.assert_allclose(p.data, target, atol=1e-3)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_skips_frozen_parameters_and_missing_gradients(name):
    frozen, no_grad, live = parameter(), parameter(), parameter()
    optimizer = OPTIMIZERS[name]([frozen, no_grad, live])
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


@pytest.mark.parametrize("name", OPTIMIZERS)
@pytest.mark.parametrize("grad_dtype", [np.float32, np.float64, np.int64])
def test_a_float32_parameter_stays_float32_whatever_its_gradient(name, grad_dtype):
    p = parameter(dtype=np.float32)
    optimizer = OPTIMIZERS[name]([p])
    for _ in range(3):
        p.grad = np.ones(3, dtype=grad_dtype)
        optimizer.step()
        assert p.dtype == np.float32
        assert p.op is None and p.parents == () and p.requires_grad
    assert all(value.dtype == np.float32 for value in optimizer.state_dict().values()
               if isinstance(value, np.ndarray))


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_a_step_replaces_the_data_and_never_writes_into_old_arrays(name):
    p = parameter()
    mine = np.array([1.0, 2.0, 3.0])
    p.data = mine
    seen = p.data
    gradient = np.ones(3)
    p.grad = gradient
    OPTIMIZERS[name]([p]).step()
    assert np.all(p.data < mine)
    np.testing.assert_array_equal(mine, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(seen, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(gradient, np.ones(3))


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
    for make in (lambda ps: nn.SGD(ps, lr=0.5, momentum=0.9), lambda ps: nn.Adam(ps, lr=0.05),
                 lambda ps: nn.AdamW(ps, lr=0.05)):
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


# --- refusals ------------------------------------------------------------------------------
@pytest.mark.parametrize("make, error, words", [
    (lambda p: nn.SGD([], lr=0.1), ValueError, "empty parameter list"),
    (lambda p: nn.SGD(p, lr=0.1), TypeError, "iterable of Tensors"),
    (lambda p: nn.SGD(3, lr=0.1), TypeError, "SGD: params must be an iterable of Tensors"),
    (lambda p: nn.Adam("w"), TypeError, "Adam: params must be an iterable of Tensors"),
    (lambda p: nn.SGD([p, np.ones(2)], lr=0.1), TypeError, "params[1] is a ndarray"),
    (lambda p: nn.SGD([p, p], lr=0.1), ValueError, "params[1] appears more than once"),
    (lambda p: nn.Adam([p], betas=(0.9, 1.0)), ValueError, "Adam: betas[1] must be in [0, 1.0)"),
    (lambda p: nn.AdamW([p], betas=0.9), TypeError, "AdamW: betas must be a pair"),
    (lambda p: nn.Adam([p], betas=(0.9, math.nan)), ValueError, "Adam: betas[1] must be finite"),
])
def test_bad_arguments(make, error, words):
    with pytest.raises(error) as caught:
        make(parameter())
    assert words in str(caught.value)


HYPERPARAMETERS = [("SGD", "lr"), ("SGD", "momentum"), ("SGD", "weight_decay"),
                   ("Adam", "lr"), ("Adam", "eps"), ("Adam", "weight_decay"),
                   ("AdamW", "lr"), ("AdamW", "eps"), ("AdamW", "weight_decay")]
BAD_NUMBERS = [
    pytest.param(math.inf, ValueError, "must be finite, got inf", id="inf"),
    pytest.param(-math.inf, ValueError, "must be finite, got -inf", id="-inf"),
    pytest.param(math.nan, ValueError, "must be finite, got nan", id="nan"),
    pytest.param(2**2000, ValueError, "must be finite, got a number too large for a float",
                 id="2**2000"),
    pytest.param(np.float64(np.inf), ValueError, "must be finite", id="numpy-inf"),
    pytest.param(-1.0, ValueError, "must be >= 0", id="negative"),
    pytest.param("0.1", TypeError, "must be a number", id="str"),
    pytest.param(True, TypeError, "must be a number", id="bool"),
    pytest.param(None, TypeError, "must be a number", id="None"),
    pytest.param(np.ones(2), TypeError, "must be a number", id="array"),
]


@pytest.mark.parametrize("kind, name", HYPERPARAMETERS)
@pytest.mark.parametrize("value, error, words", BAD_NUMBERS)
def test_hyperparameters_must_be_finite_numbers(kind, name, value, error, words):
    arguments = {"lr": 0.1, name: value}
    with pytest.raises(error, match=f"{kind}: {name} {words}"):
        getattr(nn, kind)([parameter()], **arguments)
    # The same check guards every later assignment, and a refused one changes nothing.
    p = parameter()
    optimizer = getattr(nn, kind)([p], lr=0.1)
    p.grad = np.ones(3)
    optimizer.step()
    before = (getattr(optimizer, name), optimizer.state_dict())
    with pytest.raises(error, match=f"{kind}: {name} {words}"):
        setattr(optimizer, name, value)
    assert getattr(optimizer, name) == before[0]
    after = optimizer.state_dict()
    assert after.keys() == before[1].keys()
    for key in after:
        np.testing.assert_array_equal(after[key], before[1][key])


def test_hyperparameters_accept_numpy_numbers_and_store_python_floats():
    optimizer = nn.Adam([parameter()], lr=np.float32(0.5), betas=(np.float64(0.5), 0),
                        eps=np.array(1e-6), weight_decay=1)
    assert (optimizer.lr, optimizer.betas, optimizer.eps, optimizer.weight_decay) == (
        0.5, (0.5, 0.0), 1e-6, 1.0)
    assert all(type(v) is float for v in (optimizer.lr, *optimizer.betas, optimizer.eps))


@pytest.mark.parametrize("name", OPTIMIZERS)
@pytest.mark.parametrize("grad, error, words", [
    (np.ones(2), ValueError, r"params\[1\].grad has shape \(2,\), the parameter has shape \(3,\)"),
    (np.ones((1, 3)), ValueError, r"params\[1\].grad has shape \(1, 3\)"),
    (np.array(["a", "b", "c"]), TypeError, r"params\[1\].grad has dtype <U1"),
    (np.ones(3, dtype=complex), TypeError, r"params\[1\].grad has dtype complex128"),
])
def test_a_bad_gradient_is_refused_before_any_parameter_moves(name, grad, error, words):
    first, second = parameter(), parameter()
    optimizer = OPTIMIZERS[name]([first, second])
    first.grad = np.ones(3)
    optimizer.step()
    before = [first.numpy(), second.numpy()]
    state = optimizer.state_dict()
    second.grad = grad
    with pytest.raises(error, match=f"{name}: {words}"):
        optimizer.step()
    np.testing.assert_array_equal(first.data, before[0])
    np.testing.assert_array_equal(second.data, before[1])
    for key, value in optimizer.state_dict().items():
        np.testing.assert_array_equal(value, state[key])
