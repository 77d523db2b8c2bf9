"""The cross-check: autograd's SGD steps against the hand-written classic rules in nn.rules.

One step on 0.5 * (y - step(w·x + b))**2 must be Rosenblatt's perceptron update exactly, and
one step on 0.5 * sum((y - sigmoid(X @ w))**2) the sigmoid delta rule to 1e-12; so must
every update of the tutorials' whole training runs.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import autograd_lite as ag
import nn
from nn import rules

SETTINGS = settings(max_examples=50, deadline=None)
values = st.floats(-10, 10, allow_nan=False, allow_subnormal=False)
rates = st.floats(1e-3, 2.0)


def autograd_perceptron_step(w, b, x, y, lr):
    neuron = nn.Neuron(len(w), activation="step")
    neuron.weights.data = w
    neuron.bias.data = np.array(b)
    loss = 0.5 * (y - neuron(x)) ** 2
    loss.backward()
    nn.SGD(neuron.parameters(), lr=lr).step()
    return neuron.weights.numpy(), neuron.bias.item()


def autograd_delta_step(w, X, y, lr):  # noqa: N803
    neuron = nn.Neuron(len(w), activation="sigmoid", bias=False)
    neuron.weights.data = w
    loss = 0.5 * ((y - neuron(X)) ** 2).sum()
    loss.backward()
    nn.SGD(neuron.parameters(), lr=lr).step()
    return neuron.weights.numpy()


@st.composite
def perceptron_cases(draw):
    n = draw(st.integers(1, 6))
    w = draw(arrays(np.float64, n, elements=values))
    x = draw(arrays(np.float64, n, elements=values))
    return w, draw(values), x, float(draw(st.sampled_from([0, 1]))), draw(rates)


@given(perceptron_cases())
@SETTINGS
def test_one_sgd_step_on_the_step_loss_is_the_perceptron_rule_exactly(case):
    w, b, x, y, lr = case
    expected_w, expected_b = rules.perceptron_update(w, b, x, y, lr)
    got_w, got_b = autograd_perceptron_step(w, b, x, y, lr)
    np.testing.assert_array_equal(got_w, expected_w)
    assert got_b == expected_b


def test_the_perceptron_rule_fires_at_the_threshold_itself():
    # score exactly 0: step gives 1, so a target of 0 is an error of -1
    w, b = rules.perceptron_update(np.array([1.0]), -1.0, np.array([1.0]), 0.0, 0.5)
    np.testing.assert_array_equal(w, [0.5])
    assert b == -1.5
    got_w, got_b = autograd_perceptron_step(np.array([1.0]), -1.0, np.array([1.0]), 0.0, 0.5)
    np.testing.assert_array_equal(got_w, w)
    assert got_b == b


@st.composite
def delta_cases(draw):
    m, n = draw(st.integers(1, 6)), draw(st.integers(1, 4))
    w = draw(arrays(np.float64, n, elements=st.floats(-5, 5)))
    X = draw(arrays(np.float64, (m, n), elements=st.floats(-5, 5)))  # noqa: N806
    y = draw(arrays(np.float64, m, elements=st.floats(0, 1)))
    return w, X, y, draw(rates)


@given(delta_cases())
@SETTINGS
def test_one_sgd_step_on_the_squared_error_is_the_sigmoid_delta_rule(case):
    w, X, y, lr = case  # noqa: N806
    expected = rules.sigmoid_delta_update(w, X, y, lr)
    np.testing.assert_allclose(autograd_delta_step(w, X, y, lr), expected, rtol=0, atol=1e-12)


def test_the_rules_leave_their_inputs_alone():
    w, x, X, y = np.array([0.5, -0.5]), np.array([1.0, 2.0]), np.eye(2), np.array([1.0, 0.0])
    rules.perceptron_update(w, 0.0, x, 1.0, 0.1)
    rules.sigmoid_delta_update(w, X, y, 0.1)
    np.testing.assert_array_equal(w, [0.5, -0.5])


def test_the_delta_rule_takes_column_vectors_like_the_tutorial():
    X = np.array([[0.0, 0.0, 1.0], [1.0, 1.0, 1.0]])  # noqa: N806
    w, y = np.array([0.1, -0.2, 0.3]), np.array([0.0, 1.0])
    flat = rules.sigmoid_delta_update(w, X, y, 1.0)
    column = rules.sigmoid_delta_update(w[:, None], X, y[:, None], 1.0)
    np.testing.assert_array_equal(column[:, 0], flat)


def test_rules_import_nothing_from_autograd_lite():
    source = Path(rules.__file__).read_text()
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert imported <= {"__future__", "typing", "numpy"}


def test_whole_or_gate_run_matches_the_rule_after_every_update():
    # The tutorial: zero weights, lr 0.1, 1000 epochs over the four OR examples, bias held at -1.
    inputs = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    targets = [0.0, 1.0, 1.0, 1.0]
    neuron = nn.Neuron(2, activation="step")
    neuron.weights.data = np.zeros(2)
    neuron.bias.data = np.array(0.0)
    optimizer = nn.SGD(neuron.parameters(), lr=0.1)
    w, b = np.zeros(2), 0.0
    for _ in range(1000):
        for x, y in zip(inputs, targets):
            optimizer.zero_grad()
            (0.5 * (y - neuron(x)) ** 2).backward()
            optimizer.step()
            neuron.bias.data = np.array(-1.0)
            w, b = rules.perceptron_update(w, b, x, y, 0.1)
            b = -1.0
            np.testing.assert_array_equal(neuron.weights.data, w)
    np.testing.assert_allclose(w, [1.1, 1.1], rtol=1e-14)


def test_whole_sigmoid_neuron_run_matches_the_rule_after_every_update():
    # The tutorial: legacy NumPy seed 15, 2 * random((3, 1)) - 1, 10,000 full-batch updates.
    X = np.array([[0, 0, 1], [1, 1, 1], [1, 0, 1], [0, 1, 1]], dtype=float)  # noqa: N806
    y = np.array([0.0, 1.0, 1.0, 0.0])
    w = 2 * np.random.RandomState(15).random_sample(3) - 1
    neuron = nn.Neuron(3, activation="sigmoid", bias=False)
    neuron.weights.data = w
    optimizer = nn.SGD(neuron.parameters(), lr=1.0)
    for _ in range(10_000):
        optimizer.zero_grad()
        (0.5 * ((y - neuron(X)) ** 2).sum()).backward()
        optimizer.step()
        w = rules.sigmoid_delta_update(w, X, y, 1.0)
        np.testing.assert_allclose(neuron.weights.data, w, rtol=0, atol=1e-12)
    np.testing.assert_allclose(w, [9.67341006, -0.20852727, -4.62943754], atol=5e-9)
    with ag.no_grad():
        assert round(neuron(np.array([1.0, 0.0, 0.0])).item(), 8) == 0.99993707
