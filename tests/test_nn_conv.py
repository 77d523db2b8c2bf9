"""nn.conv: Conv2d, MaxPool2d, AvgPool2d, Flatten and Dropout as modules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import autograd_lite as ag
import nn
from autograd_lite import Tensor
from nn.conv import AvgPool2d, Conv2d, Dropout, Flatten, MaxPool2d


def small_cnn(seed: int) -> nn.Sequential:
    rng = np.random.default_rng(seed)
    return nn.Sequential(
        Conv2d(2, 4, 3, padding=1, rng=rng),
        nn.ReLU(),
        MaxPool2d(2),
        Conv2d(4, 3, (2, 3), stride=(1, 2), bias=False, rng=rng),
        Flatten(),
        Dropout(0.5, rng=rng),
        nn.Dense(6, 2, rng=rng),
    )


# --- Conv2d ------------------------------------------------------------------------------------
def test_conv2d_parameter_and_output_shapes() -> None:
    layer = Conv2d(3, 5, (3, 2), stride=2, padding=(1, 0), rng=0)
    assert layer.weights.shape == (5, 3, 3, 2)
    assert layer.bias is not None and layer.bias.shape == (5,)
    assert layer(np.zeros((4, 3, 7, 6))).shape == (4, 5, 4, 3)
    assert [name for name, _ in layer.named_parameters()] == ["weights", "bias"]
    no_bias = Conv2d(3, 5, 3, bias=False, rng=0)
    assert no_bias.bias is None and no_bias.parameters() == [no_bias.weights]


def test_conv2d_forward_is_the_conv2d_op_with_its_parameters() -> None:
    layer = Conv2d(2, 3, 3, stride=(2, 1), padding=1, rng=1)
    x = np.random.default_rng(2).normal(size=(2, 2, 5, 6))
    expected = ag.conv2d(x, layer.weights, layer.bias, (2, 1), 1)
    np.testing.assert_array_equal(layer(x).data, expected.data)
    layer(x).sum().backward()
    assert layer.weights.grad is not None and layer.bias is not None
    np.testing.assert_allclose(layer.bias.grad, np.full(3, 2 * 3 * 6))


def test_conv2d_init_is_uniform_within_the_fan_in_bound_and_reproducible() -> None:
    layer = Conv2d(8, 64, 3, rng=3)
    bound = 1 / np.sqrt(8 * 3 * 3)
    assert layer.bias is not None
    for values in (layer.weights.data, layer.bias.data):
        assert np.abs(values).max() <= bound
    # A uniform draw on [-b, b] has standard deviation b / √3.
    assert layer.weights.data.std() == pytest.approx(bound / np.sqrt(3), rel=0.05)
    np.testing.assert_array_equal(Conv2d(8, 64, 3, rng=3).weights.data, layer.weights.data)
    assert not np.array_equal(Conv2d(8, 64, 3, rng=4).weights.data, layer.weights.data)


def test_conv2d_float32_parameters_keep_the_computation_in_float32() -> None:
    layer = Conv2d(1, 2, 3, rng=0, dtype=np.float32)
    assert layer.weights.dtype == np.float32 and layer.bias is not None
    assert layer.bias.dtype == np.float32
    out = layer(np.ones((1, 1, 4, 4), dtype=np.float32))
    assert out.dtype == np.float32
    out.sum().backward()
    assert layer.weights.grad is not None and layer.weights.grad.dtype == np.float32


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ({"in_channels": 0}, ValueError, r"Conv2d: in_channels must be a positive int"),
        ({"out_channels": 2.0}, TypeError, r"Conv2d: out_channels must be a positive int"),
        ({"kernel_size": 0}, ValueError, r"Conv2d: kernel_size must be positive"),
        ({"kernel_size": (3, 3, 3)}, TypeError, r"Conv2d: kernel_size must be an int or an"),
        ({"stride": (1, 0)}, ValueError, r"Conv2d: stride must be positive"),
        ({"padding": -1}, ValueError, r"Conv2d: padding must be non-negative"),
        ({"padding": 0.5}, TypeError, r"Conv2d: padding must be an int"),
        ({"dtype": np.int32}, TypeError, r"Conv2d: dtype must be a float dtype"),
        ({"rng": "seed"}, TypeError, r"rng must be an int seed"),
    ],
)
def test_conv2d_rejects_bad_arguments(
    arguments: dict[str, Any], error: type[Exception], message: str
) -> None:
    settings: dict[str, Any] = {"in_channels": 1, "out_channels": 2, "kernel_size": 3}
    with pytest.raises(error, match=message):
        Conv2d(**{**settings, **arguments})


def test_conv2d_names_itself_when_the_input_does_not_fit() -> None:
    layer = Conv2d(3, 4, 3, rng=0)
    with pytest.raises(
        ValueError,
        match=r"Conv2d\(3→4, 3x3\): expected input of shape "
        r"\(batch, 3, height, width\), got shape \(2, 1, 5, 5\)",
    ):
        layer(np.zeros((2, 1, 5, 5)))
    with pytest.raises(ValueError, match=r"got shape \(3, 5, 5\)"):
        layer(np.zeros((3, 5, 5)))


# --- pooling and flattening ------------------------------------------------------------------
def test_pool_layers_apply_the_ops_and_default_stride_to_the_kernel() -> None:
    x = np.random.default_rng(5).normal(size=(2, 3, 7, 6))
    np.testing.assert_array_equal(MaxPool2d(2)(x).data, ag.max_pool2d(x, 2, 2).data)
    np.testing.assert_array_equal(
        AvgPool2d((3, 2), stride=1)(x).data, ag.avg_pool2d(x, (3, 2), 1).data
    )
    assert MaxPool2d(3, stride=(2, 1))(x).shape == (2, 3, 3, 4)
    assert AvgPool2d(2).stride == (2, 2) and MaxPool2d(2).parameters() == []


@pytest.mark.parametrize("layer", [MaxPool2d, AvgPool2d])
def test_pool_layers_reject_bad_arguments(layer: type[nn.Module]) -> None:
    name = layer.__name__
    with pytest.raises(ValueError, match=rf"{name}: kernel_size must be positive"):
        layer(0)
    with pytest.raises(TypeError, match=rf"{name}: stride must be an int or an \(h, w\) pair"):
        layer(2, stride="2")


def test_flatten_keeps_the_batch_axis() -> None:
    x = Tensor(np.arange(24.0).reshape(2, 3, 2, 2), requires_grad=True)
    out = Flatten()(x)
    assert out.shape == (2, 12)
    np.testing.assert_array_equal(out.data[1], np.arange(12.0, 24.0))
    assert Flatten()(np.zeros((1, 5))).shape == (1, 5)
    (out * np.arange(24.0).reshape(2, 12)).sum().backward()
    np.testing.assert_array_equal(x.grad, np.arange(24.0).reshape(2, 3, 2, 2))
    with pytest.raises(ValueError, match=r"Flatten: .*got shape \(5,\)"):
        Flatten()(np.zeros(5))


# --- Dropout -----------------------------------------------------------------------------------
def test_dropout_in_training_zeroes_about_p_and_scales_the_rest() -> None:
    drop = Dropout(0.3, rng=0)
    x = Tensor(np.ones((200, 100)), requires_grad=True)
    out = drop(x)
    kept = out.data != 0
    assert kept.mean() == pytest.approx(0.7, abs=0.02)
    np.testing.assert_allclose(out.data[kept], 1 / 0.7)
    out.sum().backward()
    np.testing.assert_allclose(x.grad, kept / 0.7)
    assert not np.array_equal(drop(x).data != 0, kept)  # a fresh mask on every call


def test_dropout_is_the_identity_in_eval_mode_and_modes_propagate() -> None:
    model = small_cnn(0)
    assert model.training and all(child.training for child in model)
    model.eval()
    assert not any(child.training for child in model)
    drop = model[5]
    x = Tensor(np.random.default_rng(1).normal(size=(4, 3)))
    assert drop(x) is x
    x_images = np.random.default_rng(2).normal(size=(3, 2, 6, 6))
    np.testing.assert_array_equal(model(x_images).data, model(x_images).data)
    model.train()
    assert drop.training
    assert not np.array_equal(drop(np.ones((4, 50))).data, np.ones((4, 50)))


def test_dropout_edge_probabilities_seeds_and_dtypes() -> None:
    x = np.random.default_rng(3).normal(size=(5, 6)).astype(np.float32)
    np.testing.assert_array_equal(Dropout(0.0)(x).data, x)
    np.testing.assert_array_equal(Dropout(1.0)(x).data, np.zeros_like(x))
    assert Dropout(0.5, rng=0)(x).dtype == np.float32
    np.testing.assert_array_equal(Dropout(0.5, rng=7)(x).data, Dropout(0.5, rng=7)(x).data)
    with pytest.raises(ValueError, match=r"Dropout: p must be in \[0, 1\], got 1.5"):
        Dropout(1.5)
    with pytest.raises(TypeError, match=r"Dropout: p must be a number"):
        Dropout("half")  # type: ignore[arg-type]


# --- saving and loading ------------------------------------------------------------------------
def test_state_dict_save_and_load_round_trip_conv_parameters(tmp_path: Path) -> None:
    model = small_cnn(0).eval()
    names = list(model.state_dict())
    assert names == ["0.weights", "0.bias", "3.weights", "6.weights", "6.bias"]
    assert model.state_dict()["0.weights"].shape == (4, 2, 3, 3)
    x = np.random.default_rng(4).normal(size=(3, 2, 6, 6))
    expected = model(x).data

    path = model.save(tmp_path / "cnn")
    other = small_cnn(1).eval()
    assert not np.allclose(other(x).data, expected)
    assert other.load(path) is other
    np.testing.assert_array_equal(other(x).data, expected)

    copy = small_cnn(2).eval()
    copy.load_state_dict(model.state_dict())
    np.testing.assert_array_equal(copy(x).data, expected)


def test_loading_a_wrongly_shaped_conv_weight_changes_nothing() -> None:
    model = small_cnn(0)
    before = model.state_dict()
    state = small_cnn(1).state_dict()
    state["3.weights"] = np.zeros((3, 4, 3, 3))
    with pytest.raises(ValueError, match=r"'3.weights' has shape \(3, 4, 3, 3\)"):
        model.load_state_dict(state)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_a_small_cnn_learns_to_tell_two_patterns_apart() -> None:
    rng = np.random.default_rng(0)
    vertical = np.zeros((6, 6))
    vertical[:, 2] = 1.0
    patterns = np.stack([vertical, vertical.T] * 20)[:, None].repeat(2, axis=1)
    images = patterns + rng.normal(0, 0.1, (40, 2, 6, 6))
    labels = np.array([0, 1] * 20)
    model = small_cnn(0)
    optimizer = nn.Adam(model.parameters(), lr=0.02)
    for _ in range(60):
        optimizer.zero_grad()
        loss = nn.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
    model.eval()
    assert np.mean(model(images).data.argmax(axis=1) == labels) == 1.0


def test_forward_errors_name_the_layer() -> None:
    conv = Conv2d(1, 2, 3, rng=0)
    with pytest.raises(ValueError, match=r"Conv2d\(1→2, 3x3\): conv2d: kernel 3x3 is larger"):
        conv(np.zeros((1, 1, 2, 2)))
    with pytest.raises(TypeError, match=r"Conv2d\(1→2, 3x3\): expected numbers"):
        conv([["a"]])
    with pytest.raises(ValueError, match=r"MaxPool2d: max_pool2d: input must be 4-D"):
        MaxPool2d(2)(np.zeros((3, 4, 4)))
    with pytest.raises(ValueError, match=r"AvgPool2d: avg_pool2d: kernel 5x5 is larger"):
        AvgPool2d(5)(np.zeros((1, 1, 4, 4)))
    with pytest.raises(TypeError, match=r"Dropout: expected numbers"):
        Dropout()("text")
    with pytest.raises(TypeError, match=r"Conv2d: bias must be True or False"):
        Conv2d(1, 2, 3, bias="yes")  # type: ignore[arg-type]
