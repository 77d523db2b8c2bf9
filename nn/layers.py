"""Layers: ``Neuron`` (one weighted sum), ``Dense`` (many at once), ``Sequential`` and ``MLP``.

A neuron computes ``activation(x · w + b)``; a dense layer stacks ``n_outputs`` neurons side by
side as the columns of ``weights``, so it computes ``activation(x @ weights + bias)`` for a whole
batch with one matrix product.

Parameters start uniform in ``[-1/√n_inputs, 1/√n_inputs]`` (PyTorch's ``Linear`` default);
``rng`` (an int seed or a ``numpy.random.Generator``) makes that draw reproducible.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from autograd_lite import Tensor
from nn.activations import Activation, activation_name, get_activation
from nn.module import Module
from nn.validation import (
    as_generator,
    bias_flag,
    check_allocation,
    float_dtype,
    numeric_input,
    positive_int,
)


def fan_in_uniform(
    generator: np.random.Generator,
    fan_in: int,
    shape: tuple[int, ...],
    dtype: np.dtype,
    owner: str,
) -> Tensor:
    """A parameter of ``shape`` drawn uniform in [-1/√fan_in, 1/√fan_in] (PyTorch's default).

    ``fan_in`` is how many inputs each output sums; errors start with ``owner``.
    """
    limit = 1 / np.sqrt(fan_in)
    check_allocation(shape, np.dtype(dtype), owner)
    try:
        values = generator.uniform(-limit, limit, shape).astype(dtype, copy=False)
    except (ValueError, MemoryError):
        raise ValueError(f"{owner}: weights of shape {shape} are too large to allocate") from None
    return Tensor(values, requires_grad=True)


def check_input(layer: Module, x: Any, n_inputs: int) -> Any:
    """``x`` if it holds numbers whose last axis has ``n_inputs`` entries; else an error that
    names ``layer`` (``TypeError`` for non-numbers, ``ValueError`` for a wrong width).

    A Tensor or a numeric NumPy array comes back as it is; anything else as a NumPy array.
    """
    x = numeric_input(layer, x)
    if not x.shape or x.shape[-1] != n_inputs:
        raise ValueError(
            f"{layer.label()}: expected inputs with {n_inputs} features, got shape {x.shape}"
        )
    return x


class _WeightedSum(Module):
    """What Neuron and Dense share: out = activation(x @ weights + bias), fan-in init."""

    n_inputs: int

    def _build(
        self,
        weights_shape: tuple[int, ...],
        activation: str | Activation | None,
        bias: Any,
        rng: int | np.random.Generator | None,
        dtype: Any,
        label: str,
    ) -> None:
        """Check the remaining arguments, then draw ``weights`` of ``weights_shape`` and
        ``bias`` of ``weights_shape[1:]`` (one per output)."""
        owner = type(self).__name__
        kind = float_dtype(dtype, owner)
        self.activation = get_activation(activation, owner)
        self._activation_name = activation_name(activation)
        has_bias = bias_flag(bias, owner)
        generator = as_generator(rng, owner)
        self.weights = fan_in_uniform(generator, self.n_inputs, weights_shape, kind, owner)
        self.bias = (
            fan_in_uniform(generator, self.n_inputs, weights_shape[1:], kind, owner)
            if has_bias
            else None
        )
        self._label = label

    def forward(self, x: Any) -> Tensor:
        x = check_input(self, x, self.n_inputs)
        out = x @ self.weights
        if self.bias is not None:
            out = out + self.bias
        return out if self.activation is None else self.activation(out)

    def label(self) -> str:
        return self._label


class Neuron(_WeightedSum):
    """One neuron: out = activation(x · weights + bias).

    ``weights`` has shape ``(n_inputs,)`` and ``bias`` shape ``()`` (``None`` with
    ``bias=False``). An input of shape ``(n_inputs,)`` gives a scalar, ``(batch, n_inputs)``
    gives ``(batch,)``.

    >>> neuron = Neuron(4, activation=None)
    >>> neuron.weights.data = np.array([0.2, -0.27, -0.5, 1.0])
    >>> neuron.bias.data = np.array(2.0)
    >>> round(neuron([1.0, 2.0, 3.0, 2.5]).item(), 2)
    2.66
    """

    def __init__(
        self,
        n_inputs: int,
        activation: str | Activation | None = "sigmoid",
        bias: bool = True,
        rng: int | np.random.Generator | None = None,
        *,
        dtype: Any = np.float64,
    ) -> None:
        super().__init__()
        self.n_inputs = positive_int(n_inputs, "n_inputs", "Neuron")
        self._build(
            (self.n_inputs,), activation, bias, rng, dtype, label=f"Neuron({self.n_inputs})"
        )

    def extra_repr(self) -> str:
        return (
            f"n_inputs={self.n_inputs}, activation={self._activation_name!r}, "
            f"bias={self.bias is not None}"
        )


class Dense(_WeightedSum):
    """A fully connected layer: out = activation(x @ weights + bias).

    ``weights`` has shape ``(n_inputs, n_outputs)`` (one column per neuron), ``bias`` shape
    ``(n_outputs,)``. Gradients: dL/dweights = xᵀ @ dL/dz, dL/dbias = Σ_batch dL/dz,
    dL/dx = dL/dz @ weightsᵀ, with z = x @ weights + bias.

    >>> layer = Dense(3, 4, activation="relu", rng=0)
    >>> layer(np.ones((2, 3))).shape
    (2, 4)
    >>> layer(np.ones((2, 5)))
    Traceback (most recent call last):
    ...
    ValueError: Dense(3→4): expected inputs with 3 features, got shape (2, 5)
    """

    def __init__(
        self,
        n_inputs: int,
        n_outputs: int,
        activation: str | Activation | None = None,
        bias: bool = True,
        rng: int | np.random.Generator | None = None,
        *,
        dtype: Any = np.float64,
    ) -> None:
        super().__init__()
        self.n_inputs = positive_int(n_inputs, "n_inputs", "Dense")
        self.n_outputs = positive_int(n_outputs, "n_outputs", "Dense")
        self._build(
            (self.n_inputs, self.n_outputs), activation, bias, rng, dtype,
            label=f"Dense({self.n_inputs}→{self.n_outputs})",
        )

    def extra_repr(self) -> str:
        text = f"{self.n_inputs}→{self.n_outputs}"
        if self._activation_name is not None:
            text += f", activation={self._activation_name!r}"
        return text if self.bias is not None else text + ", bias=False"


class Sequential(Module):
    """Modules applied one after another: out = m_n(... m_2(m_1(x))).

    Children are registered by position, so their parameters are named ``"0.weights"``,
    ``"1.bias"``, ...

    >>> from nn.activations import ReLU
    >>> model = Sequential(Dense(2, 3, rng=0), ReLU(), Dense(3, 1, rng=1))
    >>> [name for name, _ in model.named_parameters()]
    ['0.weights', '0.bias', '2.weights', '2.bias']
    """

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        for index, module in enumerate(modules):
            if not isinstance(module, Module):
                raise TypeError(
                    f"Sequential: item {index} is a {type(module).__name__}, not a Module"
                )
            setattr(self, str(index), module)
        self._layers: tuple[Module, ...] = tuple(modules)

    def forward(self, x: Any) -> Any:
        for module in self._layers:
            x = module(x)
        return x

    def __getitem__(self, index: int) -> Module:
        return self._layers[index]

    def __len__(self) -> int:
        return len(self._layers)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._layers)

    def label(self) -> str:
        return f"Sequential({len(self._layers)})"


class MLP(Module):
    """A multi-layer perceptron: Dense layers of sizes n_inputs → hidden... → n_outputs.

    Hidden layers use ``activation``; the last uses ``output_activation`` (None: raw scores).
    The layers live in ``.layers`` (a :class:`Sequential`), so parameters are named
    ``"layers.0.weights"``, ``"layers.0.bias"``, ...

    >>> model = MLP(2, [16, 16], 1, rng=0)
    >>> model
    MLP(2→16→16→1, activation='relu', output_activation=None)
    >>> model(np.zeros((5, 2))).shape
    (5, 1)
    """

    def __init__(
        self,
        n_inputs: int,
        hidden_sizes: Sequence[int] | int,
        n_outputs: int,
        activation: str | Activation | None = "relu",
        output_activation: str | Activation | None = None,
        rng: int | np.random.Generator | None = None,
        *,
        dtype: Any = np.float64,
    ) -> None:
        super().__init__()
        given: Any = hidden_sizes
        hidden: list[Any] | None = [given] if isinstance(given, (int, np.integer)) else None
        if hidden is None and not isinstance(given, (str, bytes)):
            try:
                hidden = list(given)
            except TypeError:
                pass
        if hidden is None:
            raise TypeError(f"MLP: hidden_sizes must be a list of ints, got {hidden_sizes!r}")
        sizes = [n_inputs, *hidden, n_outputs]
        for size in sizes:
            positive_int(size, "every layer size", "MLP")
        float_dtype(dtype, "MLP")
        get_activation(activation, "MLP")
        get_activation(output_activation, "MLP")
        generator = as_generator(rng, "MLP")
        layers = [
            Dense(
                n_in,
                n_out,
                activation if index < len(sizes) - 2 else output_activation,
                rng=generator,
                dtype=dtype,
            )
            for index, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True))
        ]
        self.sizes = tuple(int(size) for size in sizes)
        self._label = "MLP(" + "→".join(map(str, self.sizes)) + ")"
        self._activation_names = (activation_name(activation), activation_name(output_activation))
        self.layers = Sequential(*layers)

    def forward(self, x: Any) -> Tensor:
        return self.layers(check_input(self, x, self.sizes[0]))

    def label(self) -> str:
        return self._label

    def __repr__(self) -> str:
        hidden, output = self._activation_names
        return f"{self.label()[:-1]}, activation={hidden!r}, output_activation={output!r})"
