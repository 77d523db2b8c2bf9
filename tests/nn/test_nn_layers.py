"""nn layers and activations: shapes, initialisation, rng, dtype, validation and gradients."""

from __future__ import annotations

import re

import numpy as np
import pytest

import autograd_lite as ag
import nn


def test_neuron_shapes():
    neuron = nn.Neuron(3, rng=0)
    assert neuron.weights.shape == (3,) and neuron.bias.shape == ()
    assert neuron(np.ones(3)).shape == ()
    assert neuron(np.ones((5, 3))).shape == (5,)


def test_neuron_computes_activation_of_weighted_sum():
    neuron = nn.Neuron(2, activation="tanh", rng=0)
    x = np.array([[0.5, -1.0], [2.0, 3.0]])
    expected = np.tanh(x @ neuron.weights.data + neuron.bias.data)
    np.testing.assert_allclose(neuron(x).data, expected, rtol=1e-15)


def test_dense_shapes_and_formula():
    layer = nn.Dense(3, 4, rng=0)
    assert layer.weights.shape == (3, 4) and layer.bias.shape == (4,)
    x = np.random.default_rng(1).normal(size=(5, 3))
    out = layer(x)
    assert out.shape == (5, 4)
    np.testing.assert_array_equal(out.data, x @ layer.weights.data + layer.bias.data)
    assert layer(np.ones(3)).shape == (4,)


def test_dense_forward_is_one_matmul_then_one_add():
    layer = nn.Dense(3, 2, rng=0)
    out = layer(ag.Tensor(np.ones((4, 3))))
    assert out.op == "add"
    product, bias = out.parents
    assert bias is layer.bias and product.op == "matmul" and product.parents[1] is layer.weights


def test_initialisation_is_uniform_within_one_over_root_n():
    layer = nn.Dense(16, 200, rng=0)
    limit = 1 / np.sqrt(16)
    for parameter in layer.parameters():
        assert parameter.requires_grad
        assert np.all(np.abs(parameter.data) <= limit)
    assert layer.weights.data.std() == pytest.approx(limit / np.sqrt(3), rel=0.05)


def test_rng_seed_and_generator_are_reproducible():
    a, b = nn.MLP(3, [4, 4], 2, rng=7), nn.MLP(3, [4, 4], 2, rng=7)
    for (_, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(p.data, q.data)
    c = nn.Dense(3, 4, rng=np.random.default_rng(7))
    d = nn.Dense(3, 4, rng=np.random.default_rng(7))
    np.testing.assert_array_equal(c.weights.data, d.weights.data)
    assert not np.array_equal(nn.Dense(3, 4, rng=1).weights.data, c.weights.data)
    layers = nn.MLP(4, [4], 4, rng=0).layers
    assert not np.array_equal(layers[0].weights.data, layers[1].weights.data)


def test_float32_models_stay_float32():
    model = nn.MLP(3, [4], 1, rng=0, dtype=np.float32)
    assert all(p.dtype == np.float32 for p in model.parameters())
    out = model(np.ones((2, 3), dtype=np.float32))
    assert out.dtype == np.float32
    nn.mse_loss(out, np.zeros((2, 1))).backward()
    assert all(p.grad.dtype == np.float32 for p in model.parameters())
    assert nn.Neuron(3, rng=0, dtype=np.float32).bias.dtype == np.float32


@pytest.mark.parametrize(
    "layer, x, message",
    [
        (nn.Dense(3, 4, rng=0), np.ones((2, 5)),
         "Dense(3→4): expected inputs with 3 features, got shape (2, 5)"),
        (nn.Dense(3, 4, rng=0), 1.0, "Dense(3→4): expected inputs with 3 features, got shape ()"),
        (nn.Neuron(3, rng=0), [1.0, 2.0],
         "Neuron(3): expected inputs with 3 features, got shape (2,)"),
        (nn.MLP(2, [3], 1, rng=0), np.ones((4, 3)),
         "MLP(2→3→1): expected inputs with 2 features, got shape (4, 3)"),
        (nn.Sequential(nn.Dense(2, 3, rng=0)), np.ones((4, 3)),
         "Dense(2→3): expected inputs with 2 features, got shape (4, 3)"),
    ],
)
def test_wrong_width_names_the_layer_and_both_sizes(layer, x, message):
    before = [p.data.copy() for p in layer.parameters()]
    with pytest.raises(ValueError) as caught:
        layer(x)
    assert str(caught.value) == message
    for old, parameter in zip(before, layer.parameters()):
        np.testing.assert_array_equal(old, parameter.data)


@pytest.mark.parametrize("name, function", [
    ("sigmoid", ag.sigmoid), ("relu", ag.relu), ("tanh", ag.tanh), ("step", ag.step),
])
def test_activation_names(name, function):
    x = np.linspace(-2, 2, 12).reshape(4, 3)
    layer = nn.Dense(3, 2, activation=name, rng=0)
    expected = function(x @ layer.weights.data + layer.bias.data).data
    np.testing.assert_array_equal(layer(x).data, expected)


def test_activation_callable_and_module():
    layer = nn.Dense(2, 2, activation=lambda t: t * 2, rng=0)
    x = np.ones((1, 2))
    np.testing.assert_array_equal(layer(x).data, 2 * (x @ layer.weights.data + layer.bias.data))
    stepped = nn.Neuron(2, activation=nn.Step(threshold=2), bias=False)
    stepped.weights.data = np.array([1.0, 1.0])
    np.testing.assert_array_equal(stepped(np.array([[1.0, 0.0], [1.0, 1.0]])).data, [0.0, 1.0])


def test_unknown_activation_lists_the_known_ones():
    with pytest.raises(ValueError) as caught:
        nn.Dense(2, 2, activation="swish")
    for name in ("None", "'sigmoid'", "'relu'", "'step'", "'tanh'", "'gelu'", "callable"):
        assert name in str(caught.value)
    with pytest.raises(TypeError, match="activation must be"):
        nn.Neuron(2, activation=3)  # type: ignore[arg-type]


@pytest.mark.parametrize("make, error, name", [
    (lambda: nn.Dense(0, 2), ValueError, "Dense"),
    (lambda: nn.Dense(2.0, 2), TypeError, "Dense"),
    (lambda: nn.Neuron(True), TypeError, "Neuron"),
    (lambda: nn.Neuron(2, "relu", np.ones(2)), TypeError, "Neuron"),
    (lambda: nn.Neuron(2, 5), TypeError, "Neuron"),
    (lambda: nn.Dense(2, 2, dtype=np.int64), TypeError, "Dense"),
    (lambda: nn.Dense(2, 2, dtype="no such type"), TypeError, "Dense"),
    (lambda: nn.Dense(2, 2, rng="seed"), TypeError, "Dense"),
    (lambda: nn.Dense(2, 2, rng=-1), ValueError, "Dense"),
    (lambda: nn.MLP(2, [3, 0], 1), ValueError, "MLP"),
    (lambda: nn.MLP(2, None, 1), TypeError, "MLP"),
    (lambda: nn.MLP(2, "16", 1), TypeError, "MLP"),
    (lambda: nn.MLP(2, [3], 1, activation="swish"), ValueError, "MLP"),
    (lambda: nn.MLP(2, [3], 1, dtype=int), TypeError, "MLP"),
    (lambda: nn.Sequential(nn.ReLU(), "relu"), TypeError, "Sequential"),
    (lambda: nn.Step("x"), TypeError, "Step"),
])
def test_bad_constructor_arguments_name_the_class(make, error, name):
    with pytest.raises(error, match=f"^{name}"):
        make()


@pytest.mark.parametrize("x, error", [
    ("abc", TypeError), (None, TypeError), ([["a", "b", "c"]], TypeError),
    ([[1.0, 2.0, 3.0], [1.0]], TypeError), (np.ones((1, 3), dtype=complex), TypeError),
    (np.ones((1, 4)), ValueError),
])
def test_junk_inputs_name_the_layer_and_change_nothing(x, error):
    for layer, name in ((nn.Dense(3, 2, rng=0), "Dense(3→2)"), (nn.MLP(3, [4], 2, rng=0),
                                                                 "MLP(3→4→2)")):
        before = [p.numpy() for p in layer.parameters()]
        with pytest.raises(error, match=f"^{re.escape(name)}: "):
            layer(x)
        for old, parameter in zip(before, layer.parameters()):
            np.testing.assert_array_equal(old, parameter.data)


def test_activation_modules():
    x = ag.Tensor([-1.5, 0.0, 2.0])
    np.testing.assert_array_equal(nn.ReLU()(x).data, [0.0, 0.0, 2.0])
    np.testing.assert_array_equal(nn.Sigmoid()(x).data, ag.sigmoid(x).data)
    np.testing.assert_array_equal(nn.Tanh()(x).data, np.tanh(x.data))
    np.testing.assert_array_equal(nn.Step()(x).data, [0.0, 1.0, 1.0])
    np.testing.assert_array_equal(nn.Step(threshold=2.0)(x).data, [0.0, 0.0, 1.0])
    assert nn.Step(0.5)(x).scope == ("Step(0.5)",)


def test_sequential_applies_in_order_and_indexes():
    model = nn.Sequential(nn.Dense(2, 3, rng=0), nn.ReLU(), nn.Dense(3, 1, rng=1))
    assert len(model) == 3 and isinstance(model[1], nn.ReLU) and list(model)[2] is model[2]
    x = np.array([[1.0, -2.0]])
    hidden = np.maximum(x @ model[0].weights.data + model[0].bias.data, 0)
    expected = hidden @ model[2].weights.data + model[2].bias.data
    np.testing.assert_allclose(model(x).data, expected, rtol=1e-15)


def test_mlp_structure_and_output_activation():
    model = nn.MLP(2, [16, 16], 1, output_activation="sigmoid", rng=0)
    labels = [layer.label() for layer in model.layers]
    assert labels == ["Dense(2→16)", "Dense(16→16)", "Dense(16→1)"]
    assert model.label() == "MLP(2→16→16→1)"
    out = model(np.random.default_rng(0).normal(size=(8, 2)))
    assert out.op == "sigmoid" and out.shape == (8, 1)
    assert nn.MLP(3, 5, 2, rng=0).sizes == (3, 5, 2)
    assert nn.MLP(3, [], 2, rng=0).label() == "MLP(3→2)"


def test_gradients_of_a_small_mlp_pass_gradcheck():
    model = nn.MLP(3, [4], 2, activation="tanh", output_activation="sigmoid", rng=0)
    x = ag.Tensor(np.random.default_rng(1).normal(size=(5, 3)), requires_grad=True)
    first, last = model.layers[0], model.layers[1]

    def run(x, w1, b1, w2, b2):
        return ag.sigmoid(ag.tanh(x @ w1 + b1) @ w2 + b2)

    assert ag.gradcheck(run, x, first.weights, first.bias, last.weights, last.bias)
    np.testing.assert_array_equal(
        model(x).data, run(x, first.weights, first.bias, last.weights, last.bias).data
    )


def test_dense_maps_the_last_axis_of_any_batch_shape():
    layer = nn.Dense(3, 4, activation="relu", rng=0)
    x = np.random.default_rng(0).normal(size=(2, 5, 3))
    out = layer(x)
    assert out.shape == (2, 5, 4)
    np.testing.assert_allclose(out.data, np.maximum(x @ layer.weights.data + layer.bias.data, 0))
