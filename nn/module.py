"""``Module``: the base of every model. It finds its parameters, names them, saves and loads them.

Assigning a Tensor that requires a gradient to a module attribute registers it as a parameter;
assigning a Module registers it as a child. ``named_parameters()`` walks both in assignment
order, so ``MLP.layers[0].weights`` is called ``"layers.0.weights"``, and that dotted name is
also kept in each parameter's ``.name`` (so drawn graphs label weights by where they live).

>>> import numpy as np
>>> import autograd_lite as ag
>>> class Scale(Module):
...     def __init__(self) -> None:
...         super().__init__()
...         self.factor = ag.Tensor(2.0, requires_grad=True)
...     def forward(self, x):
...         return x * self.factor
>>> model = Scale()
>>> [name for name, _ in model.named_parameters()]
['factor']
>>> model(ag.Tensor([1.0, 3.0]))
Tensor([2., 6.], op='mul', requires_grad=True)
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from autograd_lite import Tensor, name_scope
from nn.archive import read_npz, write_npz

PathLike = str | os.PathLike


class Module:
    """Base class of layers and models: subclass it and define ``forward``.

    Parameters and child modules are found by attribute assignment; ``__call__`` runs
    ``forward`` inside :func:`autograd_lite.name_scope` with the module's short ``label()``, so
    every tensor it makes carries the module in its ``.scope``.
    """

    training: bool
    _parameters: dict[str, Tensor]
    _modules: dict[str, Module]
    _prefix: str

    def __new__(cls, *args: Any, **kwargs: Any) -> Module:
        # The registries exist before any __init__ runs, so a subclass that assigns attributes
        # before (or without) calling super().__init__() still works.
        module = super().__new__(cls)
        state = module.__dict__
        state["_parameters"] = {}
        state["_modules"] = {}
        state["_prefix"] = ""
        state["training"] = True
        return module

    def __init__(self) -> None:
        pass

    # --- registration -----------------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        parameters: dict[str, Tensor] = self.__dict__["_parameters"]
        modules: dict[str, Module] = self.__dict__["_modules"]
        parameters.pop(name, None)
        modules.pop(name, None)
        if isinstance(value, Tensor) and value.requires_grad:
            parameters[name] = value
            value.name = self._prefix + name
        elif isinstance(value, Module):
            modules[name] = value
            value._set_prefix(f"{self._prefix}{name}.")
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self.__dict__["_parameters"].pop(name, None)
        self.__dict__["_modules"].pop(name, None)
        object.__delattr__(self, name)

    def _set_prefix(self, prefix: str) -> None:
        """Rename every parameter below this module: it now lives at ``prefix`` in its parent."""
        self.__dict__["_prefix"] = prefix
        self.__dict__["_scope"] = None  # its label names the new place; made again when called
        for name, parameter in self._parameters.items():
            parameter.name = prefix + name
        for name, child in self._modules.items():
            child._set_prefix(f"{prefix}{name}.")

    # --- running ----------------------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The computation; every subclass defines it."""
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        scope = self.__dict__.get("_scope")
        if scope is None:
            scope = self.__dict__["_scope"] = name_scope(self.scope_label())
        with scope:
            return self.forward(*args, **kwargs)

    def scope_label(self) -> str:
        """Where this module lives and what it is, e.g. ``"layers.1: Dense(4→4)"``: the label
        of its cluster in a drawn graph (so two equal layers still get a cluster each)."""
        path = self._prefix[:-1]
        return f"{path}: {self.label()}" if path else self.label()

    def label(self) -> str:
        """A short description for graph clusters and messages, e.g. ``"Dense(3→4)"``."""
        return type(self).__name__

    def extra_repr(self) -> str:
        """The arguments shown inside ``repr``'s parentheses (empty by default)."""
        return ""

    def __repr__(self) -> str:
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not self._modules:
            return head + ")"
        lines = [head]
        for name, child in self._modules.items():
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        return "\n".join(lines) + "\n)"

    def train(self, mode: bool = True) -> Module:
        """Switch this module and all it contains to training mode (``mode=False``: eval)."""
        self.__dict__["training"] = bool(mode)
        for child in self._modules.values():
            child.train(mode)
        return self

    def eval(self) -> Module:
        """Switch this module and all it contains to evaluation mode; same as ``train(False)``."""
        return self.train(False)

    # --- what it holds ----------------------------------------------------------------------
    def children(self) -> Iterator[Module]:
        """The directly contained modules, in assignment order."""
        return iter(list(self._modules.values()))

    def named_parameters(self) -> Iterator[tuple[str, Tensor]]:
        """``(dotted_name, parameter)`` for every parameter, own ones first, each once.

        >>> import nn
        >>> [name for name, _ in nn.MLP(2, [3], 1, rng=0).named_parameters()]
        ['layers.0.weights', 'layers.0.bias', 'layers.1.weights', 'layers.1.bias']
        """
        seen: set[int] = set()
        found: list[tuple[str, Tensor]] = []
        for prefix, module in self._walk():
            for name, parameter in module._parameters.items():
                if id(parameter) not in seen:
                    seen.add(id(parameter))
                    found.append((prefix + name, parameter))
        return iter(found)

    def parameters(self) -> list[Tensor]:
        """Every parameter, in the order of :meth:`named_parameters`."""
        return [parameter for _, parameter in self.named_parameters()]

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to None."""
        for parameter in self.parameters():
            parameter.grad = None

    def named_generators(self) -> Iterator[tuple[str, np.random.Generator]]:
        """``(dotted_name, generator)`` for every NumPy random generator a module here keeps as
        an attribute (``Dropout``'s masks come from one), each once. Saving and restoring
        their states is what lets a resumed training run draw the same random numbers.

        >>> import nn
        >>> model = nn.Sequential(nn.Dense(2, 2, rng=0), nn.Dropout(0.5))
        >>> [name for name, _ in model.named_generators()]
        ['1._rng']
        """
        seen: set[int] = set()
        found: list[tuple[str, np.random.Generator]] = []
        for prefix, module in self._walk():
            for name, value in vars(module).items():
                if isinstance(value, np.random.Generator) and id(value) not in seen:
                    seen.add(id(value))
                    found.append((prefix + name, value))
        return iter(found)

    def _walk(self) -> list[tuple[str, Module]]:
        """This module and every one below it, depth first in assignment order, each with the
        dotted prefix of its names (``""`` for this one, ``"layers.0."`` below)."""
        stack: list[tuple[str, Module]] = [("", self)]
        order: list[tuple[str, Module]] = []
        while stack:
            prefix, module = stack.pop()
            order.append((prefix, module))
            children = [(f"{prefix}{name}.", child) for name, child in module._modules.items()]
            stack.extend(reversed(children))
        return order

    # --- saving and loading -----------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """A copy of every parameter's data, keyed by its dotted name."""
        return {name: parameter.data.copy() for name, parameter in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, Any]) -> Module:
        """Copy ``state`` into the parameters, all or nothing.

        Every entry is checked first: a missing, unexpected or ``None`` entry, a wrong shape or a
        non-float entry raises ``ValueError`` (``TypeError`` when the only problems are
        dtypes) listing each problem, and no parameter changes. Values are cast to each
        parameter's dtype and copied, so the model never shares memory with ``state``.
        """
        if not isinstance(state, Mapping):
            raise TypeError(
                f"load_state_dict: expected a mapping of name to array, got {type(state).__name__}"
            )
        self._assign(self._checked_state(state, "load_state_dict"))
        return self

    def save(self, path: PathLike | BinaryIO) -> Path | None:
        """Write :meth:`state_dict` to a NumPy ``.npz`` archive (no pickles inside).

        As with ``numpy.savez``, a path that does not end in ``.npz`` gets ``.npz`` appended;
        the path actually written is returned (``None`` when given an open binary file).
        """
        state = self.state_dict()
        if hasattr(path, "write"):
            write_npz(path, state)  # type: ignore[arg-type]
            return None
        text = os.fspath(path)  # type: ignore[arg-type]
        written = Path(text if text.endswith(".npz") else text + ".npz")
        write_npz(written, state)
        return written

    def load(self, path: PathLike | BinaryIO) -> Module:
        """Fill this model in place from an ``.npz`` written by :meth:`save`; returns the model.

        The file is read by :func:`nn.archive.read_npz`, which never unpickles (a pickled entry
        is refused by name, so a model file can never run code) and checks every entry's
        header before reading its data (a header claiming a shape the file cannot hold is a
        ``ValueError`` naming the entry, not a ``MemoryError``). If ``path`` does not exist but
        ``path + ".npz"`` does (what :meth:`save` wrote), that file is read. All checks of
        :meth:`load_state_dict` apply, and on any error no parameter changes.
        """
        source: Any = path
        if not hasattr(path, "read"):
            text = os.fspath(path)  # type: ignore[arg-type]
            if not os.path.exists(text) and os.path.exists(text + ".npz"):
                text += ".npz"
            source = text
        arrays, unreadable = read_npz(source, "load")
        self._assign(self._checked_state(arrays, "load", unreadable))
        return self

    def _checked_state(
        self, state: Mapping[str, Any], where: str, unreadable: Mapping[str, str] | None = None
    ) -> dict[str, np.ndarray]:
        """``state`` as arrays of each parameter's shape, or an error listing every problem.

        ``unreadable`` maps entries already refused (by the file reader) to why; they are
        reported as such rather than as missing.
        """
        refused = dict(unreadable or {})
        expected = dict(self.named_parameters())
        problems = list(refused.values())
        missing = [name for name in expected if name not in state and name not in refused]
        unexpected = [name for name in state if name not in expected]
        if missing:
            problems.append(f"missing {', '.join(map(repr, missing))}")
        if unexpected:
            problems.append(f"unexpected {', '.join(map(repr, unexpected))}")
        dtype_problems: list[str] = []
        arrays: dict[str, np.ndarray] = {}
        for name, parameter in expected.items():
            if name not in state:
                continue
            value = state[name]
            if value is None:
                problems.append(f"{name!r} is None, not an array")
                continue
            try:
                array = value.data if isinstance(value, Tensor) else np.asarray(value)
            except (TypeError, ValueError):
                problems.append(f"{name!r} cannot be read as an array ({type(value).__name__})")
                continue
            if array.dtype.kind != "f":
                dtype_problems.append(f"{name!r} has dtype {array.dtype}, not a float dtype")
            elif array.shape != parameter.shape:
                problems.append(
                    f"{name!r} has shape {array.shape}, the parameter has {parameter.shape}"
                )
            else:
                arrays[name] = array
        if problems or dtype_problems:
            error = ValueError if problems else TypeError
            details = "; ".join(problems + dtype_problems)
            raise error(f"{where}: nothing loaded into {self.label()}: {details}")
        return arrays

    def _assign(self, arrays: dict[str, np.ndarray]) -> None:
        """Copy the checked ``arrays`` into the parameters (every name is there)."""
        for name, parameter in self.named_parameters():
            parameter.data = arrays[name].astype(parameter.data.dtype, copy=True)
