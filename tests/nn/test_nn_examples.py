"""Every tutorial example runs and prints (and returns) the tutorial's own numbers."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from test_tour_examples import EXAMPLES, load


def test_logic_gates(capsys):
    result = load("logic_gates").main()
    printed = capsys.readouterr().out
    # McCulloch-Pitts AND, as the tutorial prints it
    for line in ("[0 0] ---> 0", "[0 1] ---> 0", "[1 0] ---> 0", "[1 1] ---> 1"):
        assert line in printed
    # the perceptron's OR scores, to the last digit the tutorial shows
    for line in (
        "[0 0], -1.0 ---> 0",
        "[0 1], 0.09999999999999987 ---> 1",
        "[1 0], 0.09999999999999987 ---> 1",
        "[1 1], 1.1999999999999997 ---> 1",
    ):
        assert line in printed
    np.testing.assert_array_equal(result["and_outputs"], [0, 0, 0, 1])
    np.testing.assert_array_equal(result["outputs"], [0, 1, 1, 1])
    np.testing.assert_allclose(result["weights"], [1.1, 1.1], rtol=1e-14)
    assert result["bias"] == -1.0
    np.testing.assert_array_equal(np.round([result["bias"], *result["weights"]]), [-1, 1, 1])
    assert result["updates"] == 4000 and result["largest_difference"] == 0.0
    assert "autograd vs perceptron rule: 4000 updates, largest weight difference 0.0" in printed


def test_sigmoid_neuron(capsys):
    result = load("sigmoid_neuron").main()
    printed = capsys.readouterr().out
    assert "[[ 0.69763539]\n [-0.64220815]\n [-0.89127357]]" in printed
    assert "[[ 9.67341006]\n [-0.20852727]\n [-4.62943754]]" in printed
    assert "Test of input [1, 0, 0] -> ?: \n[0.99993707]" in printed
    np.testing.assert_array_equal(
        np.round(result["starting_weights"], 8), [0.69763539, -0.64220815, -0.89127357]
    )
    np.testing.assert_array_equal(
        np.round(result["weights"], 8), [9.67341006, -0.20852727, -4.62943754]
    )
    assert round(result["test_output"], 8) == 0.99993707
    assert result["largest_difference"] <= 1e-12
    assert "autograd vs delta rule: 10000 updates" in printed


def test_seven_records(capsys):
    result = load("seven_records").main()
    printed = capsys.readouterr().out
    # the tutorial's np.random.seed(42); rand(3, 1); rand(1)
    np.testing.assert_allclose(result["starting_weights"], [0.37454012, 0.95071431, 0.73199394],
                               atol=5e-9)
    assert round(result["starting_bias"], 8) == 0.59865848
    labels = np.array([1, 0, 0, 1, 1, 0, 1])
    np.testing.assert_array_equal(result["outputs"] > 0.5, labels == 1)
    assert result["first_point"] < 0.5 < result["second_point"]
    assert result["largest_difference"] <= 1e-12
    assert f"single point [1, 0, 0] -> {result['first_point']:.8f}" in printed
    assert f"single point [0, 1, 0] -> {result['second_point']:.8f}" in printed
    assert "autograd vs delta rule with a bias column: 10000 updates" in printed


def tutorial_two_layers() -> np.ndarray:
    """The tutorial's own NumPy code for its two layers."""
    inputs = [[1, 2, 3, 2.5], [2.0, 5.0, -1.0, 2.0], [-1.5, 2.7, 3.3, -0.8]]
    weights1 = [[-0.2, -0.27, -0.5, 1.0], [0.5, 0.91, -0.5, -0.33], [0.2, 0.8, -0.5, 1.0]]
    biases1 = [2, 3, 0.5]
    weights2 = [[0.2, -0.27, -0.5], [0.5, 0.91, -0.5], [-0.44, 0.8, -0.5]]
    biases2 = [-1, 3, 0.5]
    layer1_output = np.dot(inputs, np.array(weights1).T) + biases1
    return np.dot(layer1_output, np.array(weights2).T) + biases2


def test_dense_layers(capsys):
    result = load("dense_layers").main()
    printed = capsys.readouterr().out
    assert "one neuron: w · x + b = 2.66" in printed
    assert round(result["neuron"]["output"], 10) == 2.66
    np.testing.assert_array_equal(result["neuron"]["grad_weights"], [1, 2, 3, 2.5])
    assert result["neuron"]["grad_bias"] == 1.0
    expected = tutorial_two_layers()
    assert result["layers"]["output"].shape == (3, 3)
    np.testing.assert_allclose(result["layers"]["output"], expected, rtol=1e-14)
    assert np.array2string(np.round(expected, 8), suppress_small=True) in printed
    assert result["layers"]["largest_difference"] <= 1e-12
    # the tutorial's ReLU loop
    relu_inputs = [0, 2, -1, 3.3, 2.7, 1.1, 2.2, -100]
    np.testing.assert_array_equal(result["relu"]["output"], [max(i, 0) for i in relu_inputs])
    np.testing.assert_array_equal(result["relu"]["gradient"], [0, 1, 0, 1, 1, 1, 1, 0])
    assert result["width_error"] == "Dense(2→5): expected inputs with 2 features, got shape (3, 4)"
    assert result["width_error"] in printed


@pytest.mark.parametrize("name, line", [
    ("logic_gates", "[1 1], 1.1999999999999997 ---> 1"),
    ("dense_layers", "one neuron: w · x + b = 2.66"),
])
def test_examples_run_as_scripts(name, line):
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}.py")],
        capture_output=True, text=True, timeout=120, check=True,
    )
    assert line in done.stdout
