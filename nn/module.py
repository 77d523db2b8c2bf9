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
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from autograd_lite import Tensor, name_scope

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
        stack: list[tuple[str, Module]] = [("", self)]
        found: list[tuple[str, Tensor]] = []
        while stack:
            prefix, module = stack.pop()
            for name, parameter in module._parameters.items():
                if id(parameter) not in seen:
                    seen.add(id(parameter))
                    found.append((prefix + name, parameter))
            children = [(f"{prefix}{name}.", child) for name, child in module._modules.items()]
            stack.extend(reversed(children))
        return iter(found)

    def parameters(self) -> list[Tensor]:
        """Every parameter, in the order of :meth:`named_parameters`."""
        return [parameter for _, parameter in self.named_parameters()]

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to None."""
        for parameter in self.parameters():
            parameter.grad = None

    # --- saving and loading -----------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """A copy of every parameter's data, keyed by its dotted name."""
        return {name: parameter.data.copy() for name, parameter in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, Any]) -> Module:
        """Copy ``state`` into the parameters, all or nothing.

        Every entry is checked first: a missing or unexpected name, a wrong shape or a
        non-float entry raises ``ValueError`` (``TypeError`` when the only problems are
        dtypes) listing each problem, and no parameter changes. Values are cast to each
        parameter's dtype and copied, so the model never shares memory with ``state``.
        """
        if not isinstance(state, Mapping):
            raise TypeError(
                f"load_state_dict: expected a mapping of name to array, got {type(state).__name__}"
            )
        arrays = self._checked_state(dict(state), [], "load_state_dict")
        self._assign(arrays)
        return self

    def save(self, path: PathLike | BinaryIO) -> Path | None:
        """Write :meth:`state_dict` to a NumPy ``.npz`` archive (no pickles inside).

        As with ``numpy.savez``, a path that does not end in ``.npz`` gets ``.npz`` appended;
        the path actually written is returned (``None`` when given an open binary file).
        """
        state = self.state_dict()
        target: Any = path
        written: Path | None = None
        if not hasattr(path, "write"):
            text = os.fspath(path)  # type: ignore[arg-type]
            if not text.endswith(".npz"):
                text += ".npz"
            target = written = Path(text)
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as archive:
            for name, array in state.items():
                with archive.open(name + ".npy", "w", force_zip64=True) as member:
                    np.lib.format.write_array(member, array, allow_pickle=False)
        return written

    def load(self, path: PathLike | BinaryIO) -> Module:
        """Fill this model in place from an ``.npz`` written by :meth:`save`; returns the model.

        The file is read with ``allow_pickle=False``, so it can never run code; a pickled
        entry is refused by name. If ``path`` does not exist but ``path + ".npz"`` does (what
        :meth:`save` wrote), that file is read. All checks of :meth:`load_state_dict` apply,
        and on any error no parameter changes.
        """
        source: Any = path
        if not hasattr(path, "read"):
            text = os.fspath(path)  # type: ignore[arg-type]
            if not os.path.exists(text) and os.path.exists(text + ".npz"):
                text += ".npz"
            source = text
        try:
            archive = np.load(source, allow_pickle=False)
        except (FileNotFoundError, IsADirectoryError, PermissionError):
            raise
        except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
            raise ValueError(f"load: {path!r} is not a NumPy .npz archive ({error})") from None
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ValueError(
                f"load: {path!r} holds a single array, not an .npz archive of named parameters"
            )
        problems: list[str] = []
        entries: dict[str, Any] = {}
        with archive:
            for name in archive.files:
                try:
                    entries[name] = archive[name]
                except ValueError as error:
                    if "pickle" in str(error):
                        problems.append(f"entry {name!r} is pickled (refused: it could run code)")
                    else:
                        problems.append(f"entry {name!r} is not a NumPy array ({error})")
                    entries[name] = None
                except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as error:
                    problems.append(f"entry {name!r} cannot be read: the file is damaged ({error})")
                    entries[name] = None
        arrays = self._checked_state(entries, problems, "load")
        self._assign(arrays)
        return self

    def _checked_state(
        self, state: dict[str, Any], problems: list[str], where: str
    ) -> dict[str, np.ndarray]:
        """Validate ``state`` against the parameters; raise listing every problem found."""
        expected = dict(self.named_parameters())
        missing = [name for name in expected if name not in state]
        unexpected = [name for name in state if name not in expected]
        if missing:
            problems.append(f"missing {', '.join(map(repr, missing))}")
        if unexpected:
            problems.append(f"unexpected {', '.join(map(repr, unexpected))}")
        dtype_problems: list[str] = []
        arrays: dict[str, np.ndarray] = {}
        for name, parameter in expected.items():
            value = state.get(name)
            if value is None:
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
        for name, parameter in self.named_parameters():
            parameter.data = arrays[name].astype(parameter.data.dtype, copy=True)
