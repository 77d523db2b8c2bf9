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


def as_generator(
    rng: int | np.random.Generator | None, owner: str | None = None
) -> np.random.Generator:
    """``rng`` as a Generator: a seed makes a new one, a Generator is used as it is.

    Errors start with ``owner`` (the layer being built) when it is given.
    """
    if isinstance(rng, np.random.Generator):
        return rng
    where = f"{owner}: " if owner else ""
    if rng is None or (isinstance(rng, (int, np.integer)) and not isinstance(rng, bool)):
        if rng is not None and rng < 0:
            raise ValueError(f"{where}an rng seed must be non-negative, got {rng}")
        return np.random.default_rng(rng)
    raise TypeError(
        f"{where}rng must be an int seed, a numpy.random.Generator or None, got {rng!r}"
    )


def _count(value: Any, what: str, layer: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{layer}: {what} must be a positive int, got {value!r}")
    if value < 1:
        raise ValueError(f"{layer}: {what} must be a positive int, got {value}")
    return int(value)


def _float_dtype(dtype: Any, layer: str) -> np.dtype:
    try:
        kind = np.dtype(dtype)
    except (TypeError, ValueError):
        raise TypeError(f"{layer}: dtype must be a float dtype, got {dtype!r}") from None
    if kind.kind != "f":
        raise TypeError(f"{layer}: dtype must be a float dtype such as float64, got {kind}")
    return kind


def _uniform(
    rng: np.random.Generator, limit: float, shape: tuple[int, ...], dtype: np.dtype
) -> Tensor:
    return Tensor(rng.uniform(-limit, limit, shape).astype(dtype), requires_grad=True)


def _bias_flag(bias: Any, layer: str) -> bool:
    if not isinstance(bias, (bool, np.bool_)):
        raise TypeError(f"{layer}: bias must be True or False, got {bias!r}")
    return bool(bias)


def check_input(layer: Module, x: Any, n_inputs: int) -> Any:
    """``x`` if it holds numbers whose last axis has ``n_inputs`` entries; else an error that
    names ``layer`` (``TypeError`` for non-numbers, ``ValueError`` for a wrong width).

    A Tensor or a numeric NumPy array comes back as it is; anything else as a NumPy array.
    """
    if isinstance(x, Tensor):
        shape = x.shape
    else:
        try:
            x = np.asarray(x)
        except (TypeError, ValueError) as error:
            raise TypeError(
                f"{layer.label()}: cannot read the input as numbers ({error})"
            ) from None
        if x.dtype.kind not in "biuf":
            raise TypeError(
                f"{layer.label()}: expected numbers as input, got an array of dtype {x.dtype}"
            )
        shape = x.shape
    if not shape or shape[-1] != n_inputs:
        raise ValueError(
            f"{layer.label()}: expected inputs with {n_inputs} features, got shape {shape}"
        )
    return x


class Neuron(Module):
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
        self.n_inputs = _count(n_inputs, "n_inputs", "Neuron")
        kind = _float_dtype(dtype, "Neuron")
        self.activation = get_activation(activation, "Neuron")
        self._activation_name = activation_name(activation)
        bias = _bias_flag(bias, "Neuron")
        generator = as_generator(rng, "Neuron")
        limit = 1 / np.sqrt(self.n_inputs)
        self.weights = _uniform(generator, limit, (self.n_inputs,), kind)
        self.bias = _uniform(generator, limit, (), kind) if bias else None
        self._label = f"Neuron({self.n_inputs})"

    def forward(self, x: Any) -> Tensor:
        x = check_input(self, x, self.n_inputs)
        out = x @ self.weights
        if self.bias is not None:
            out = out + self.bias
        return out if self.activation is None else self.activation(out)

    def label(self) -> str:
        return self._label

    def extra_repr(self) -> str:
        return (
            f"n_inputs={self.n_inputs}, activation={self._activation_name!r}, "
            f"bias={self.bias is not None}"
        )


class Dense(Module):
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
        self.n_inputs = _count(n_inputs, "n_inputs", "Dense")
        self.n_outputs = _count(n_outputs, "n_outputs", "Dense")
        kind = _float_dtype(dtype, "Dense")
        self.activation = get_activation(activation, "Dense")
        self._activation_name = activation_name(activation)
        bias = _bias_flag(bias, "Dense")
        generator = as_generator(rng, "Dense")
        limit = 1 / np.sqrt(self.n_inputs)
        self.weights = _uniform(generator, limit, (self.n_inputs, self.n_outputs), kind)
        self.bias = _uniform(generator, limit, (self.n_outputs,), kind) if bias else None
        self._label = f"Dense({self.n_inputs}→{self.n_outputs})"

    def forward(self, x: Any) -> Tensor:
        x = check_input(self, x, self.n_inputs)
        out = x @ self.weights
        if self.bias is not None:
            out = out + self.bias
        return out if self.activation is None else self.activation(out)

    def label(self) -> str:
        return self._label

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
            _count(size, "every layer size", "MLP")
        _float_dtype(dtype, "MLP")
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
