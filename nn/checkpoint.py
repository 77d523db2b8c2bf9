"""Checkpoints of a training run: written so that a crash never leaves a broken one, read so
that a damaged or foreign one changes nothing.

A checkpoint is an ``.npz`` archive (read by :func:`nn.archive.read_npz`: no pickles, every
header checked before its data) holding

* ``model.<name>``: every parameter (``Module.state_dict()``);
* ``optimizer.<key>`` and ``scheduler.<key>``: the array entries of their ``state_dict()``;
* ``run``: UTF-8 JSON stored as a ``uint8`` array, with the format's name and version, the
  number of epochs done, the history, the optimizer's and scheduler's class and non-array
  entries, the states of the shuffling generator and of every generator in the model
  (``Module.named_generators()``: Dropout's masks), and the run's shape (number of examples
  and batch size). JSON writes every float by its shortest exact representation, so numbers
  come back bit for bit.

:meth:`Checkpoint.save` writes a temporary file in the checkpoint's own folder, flushes it and
``os.fsync``-s it, renames it over the checkpoint with ``os.replace`` (atomic) and then
``fsync``-s the folder, so at every moment the checkpoint's path holds either the previous
complete checkpoint or the new complete one. A process killed during the write leaves at most
a ``.<name>.*.tmp`` file beside it.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from nn.archive import PathLike, read_npz, write_npz
from nn.module import Module

FORMAT, VERSION = "nn.fit checkpoint", 1
_PARTS = ("model", "optimizer", "scheduler")


@dataclass(frozen=True)
class Saved:
    """A checkpoint as read from disk and checked against the run that wants to resume."""

    epoch: int
    history: dict[str, list[float]]
    model: dict[str, np.ndarray]
    optimizer: dict[str, Any]
    scheduler: dict[str, Any] | None
    generators: dict[str, dict[str, Any]]


class Checkpoint:
    """The checkpoint at ``path`` of one training run: the live objects whose state it saves
    (``model``, ``optimizer``, optional ``scheduler``, the ``shuffle`` generator) and the
    run's shape (``examples``, ``batch_size``, the ``history_keys`` it records).

    Building one checks, before anything trains, that every part can be saved: the model is
    an ``nn.Module``, the optimizer (and scheduler) have ``state_dict``/``load_state_dict`` and
    their states are storable, and the folder exists and takes new files.
    """

    def __init__(
        self,
        path: PathLike,
        model: Any,
        optimizer: Any,
        scheduler: Any,
        shuffle: np.random.Generator,
        examples: int,
        batch_size: int | None,
        history_keys: list[str],
        caller: str = "fit",
    ) -> None:
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"{caller}: checkpoint must be a path, got {path!r}")
        self.path = Path(path)
        self.caller = caller
        if not isinstance(model, Module):
            raise TypeError(
                f"{caller}: a checkpoint needs an nn.Module model (its state_dict is what is "
                f"saved), got {type(model).__name__}"
            )
        for role, owner in (("optimizer", optimizer), ("scheduler", scheduler)):
            methods = ("state_dict", "load_state_dict")
            if owner is not None and not all(callable(getattr(owner, m, None)) for m in methods):
                raise TypeError(
                    f"{caller}: a checkpoint needs a {role} with state_dict() and "
                    f"load_state_dict(), got {type(owner).__name__}"
                )
        self.model, self.optimizer, self.scheduler, self.shuffle = (
            model, optimizer, scheduler, shuffle
        )
        self.shape = {"examples": examples, "batch_size": batch_size}
        self.history_keys = list(history_keys)
        self._arrays(0, {key: [] for key in self.history_keys})  # refuses unstorable states now
        folder = self.path.parent
        if self.path.is_dir() or not folder.is_dir():
            raise ValueError(
                f"{caller}: checkpoint {str(self.path)!r} must name a file in an existing folder"
            )
        handle, trial = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=folder)
        os.close(handle)
        os.unlink(trial)

    # --- writing ------------------------------------------------------------------------------
    def save(self, epoch: int, history: Mapping[str, list[float]]) -> None:
        """Write the state after ``epoch`` epochs atomically (see the module's docstring)."""
        arrays = self._arrays(epoch, history)
        folder = self.path.parent
        handle, temporary = tempfile.mkstemp(
            prefix=f".{self.path.name}.", suffix=".tmp", dir=folder
        )
        try:
            with os.fdopen(handle, "wb") as file:
                write_npz(file, arrays)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        _sync_folder(folder)

    def _arrays(self, epoch: int, history: Mapping[str, list[float]]) -> dict[str, np.ndarray]:
        """Everything a checkpoint holds, as the named arrays of the archive."""
        arrays = {f"model.{name}": array for name, array in self.model.state_dict().items()}
        run: dict[str, Any] = {
            "format": FORMAT, "version": VERSION, "epoch": epoch, **self.shape,
            "history": {key: list(values) for key, values in history.items()},
            "generators": {name: _encode(generator.bit_generator.state)
                           for name, generator in self._generators().items()},
        }
        for role in ("optimizer", "scheduler"):
            owner = getattr(self, role)
            if owner is None:
                run[role] = None
                continue
            state = owner.state_dict()
            numbers: dict[str, Any] = {}
            for key, value in state.items():
                if not isinstance(key, str):
                    raise TypeError(f"{self.caller}: {role} state key {key!r} is not a string")
                if isinstance(value, (np.ndarray, np.generic)):
                    arrays[f"{role}.{key}"] = np.asarray(value)
                else:
                    numbers[key] = value
            run[role] = {"class": type(owner).__name__, "numbers": numbers}
        try:
            text = json.dumps(run)
        except (TypeError, ValueError) as error:
            raise TypeError(
                f"{self.caller}: cannot store the optimizer or scheduler state in a checkpoint: "
                f"entries must be NumPy arrays or numbers ({error})"
            ) from None
        arrays["run"] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
        return arrays

    def _generators(self) -> dict[str, np.random.Generator]:
        """The generators whose states a checkpoint keeps: ``"shuffle"`` and the model's."""
        found = {"shuffle": self.shuffle}
        found.update({f"model.{name}": generator
                      for name, generator in self.model.named_generators()})
        return found

    # --- reading ------------------------------------------------------------------------------
    def read(self) -> Saved | None:
        """The checkpoint on disk, checked against this run (``None`` if there is none yet).

        Raises ``ValueError`` naming the file for one that is damaged, truncated, not written
        by ``fit``, or written by a different run (other data size, batch size, metrics,
        optimizer, scheduler or random generators). Changes nothing.
        """
        if not self.path.exists():
            return None
        arrays, problems = read_npz(self.path, f"{self.caller}: cannot resume")
        if problems:
            self._refuse("; ".join(problems.values()))
        run = self._run_record(arrays.pop("run", None))
        parts: dict[str, dict[str, np.ndarray]] = {part: {} for part in _PARTS}
        for name, array in arrays.items():
            part, _, key = name.partition(".")
            if part not in parts or not key:
                self._refuse(f"unexpected entry {name!r}")
            parts[part][key] = array
        states: dict[str, dict[str, Any] | None] = {}
        for role in ("optimizer", "scheduler"):
            owner, record = getattr(self, role), run[role]
            wanted = None if owner is None else type(owner).__name__
            found = None if record is None else record.get("class")
            if wanted != found:
                self._refuse(f"it holds the state of {role} {found}, this run has {wanted}")
            if record is None:
                states[role] = None
                if parts[role]:
                    self._refuse(f"it has {role} entries but no {role}")
            else:
                states[role] = {**record["numbers"], **parts[role]}
        try:
            generators = {name: _decode(state) for name, state in run["generators"].items()}
        except (TypeError, ValueError) as error:
            self._refuse(f"its generator states are damaged ({error})")
        live = self._generators()
        if sorted(generators) != sorted(live):
            self._refuse(
                f"it holds random generators {sorted(generators)}, this run has {sorted(live)}"
            )
        for name, state in generators.items():
            kind = type(live[name].bit_generator).__name__
            if not isinstance(state, dict) or state.get("bit_generator") != kind:
                self._refuse(f"generator {name!r} is not a saved {kind} state")
        return Saved(run["epoch"], run["history"], parts["model"], states["optimizer"] or {},
                     states["scheduler"], generators)

    def _run_record(self, raw: np.ndarray | None) -> dict[str, Any]:
        """The ``run`` entry, parsed and checked against this run's shape."""
        if raw is None:
            self._refuse("it has no 'run' entry, so it is not a checkpoint written by fit")
        try:
            run = json.loads(raw.astype(np.uint8).tobytes().decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as error:
            self._refuse(f"its 'run' entry is damaged ({error})")
        if not isinstance(run, dict) or run.get("format") != FORMAT:
            self._refuse("it is not a checkpoint written by fit")
        if run.get("version") != VERSION:
            self._refuse(f"it has format version {run.get('version')!r}, this code reads {VERSION}")
        epoch, history = run.get("epoch"), run.get("history")
        if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
            self._refuse(f"its epoch count {epoch!r} is not a whole number")
        if (not isinstance(history, dict) or sorted(history) != sorted(self.history_keys)
                or any(not isinstance(values, list) or len(values) != epoch
                       or not all(isinstance(v, (int, float)) for v in values)
                       for values in history.values())):
            keys = sorted(history) if isinstance(history, dict) else history
            self._refuse(
                f"its history records {keys} over {epoch} epochs, this run records "
                f"{sorted(self.history_keys)}"
            )
        shape = {key: run.get(key) for key in self.shape}
        if shape != self.shape:
            self._refuse(
                f"it was written by a run over {shape['examples']} examples in batches of "
                f"{shape['batch_size']}, this one has {self.shape['examples']} in batches of "
                f"{self.shape['batch_size']}; resume with the same data and batch_size"
            )
        for role in ("optimizer", "scheduler"):
            record = run.get(role)
            if record is not None and not (
                isinstance(record, dict) and isinstance(record.get("numbers"), dict)
            ):
                self._refuse(f"its {role} record is damaged")
        if not isinstance(run.get("generators"), dict):
            self._refuse("its generator states are damaged")
        return run

    def _refuse(self, reason: str) -> NoReturn:
        raise ValueError(
            f"{self.caller}: cannot resume from {str(self.path)!r}: {reason}; nothing was changed"
        )

    # --- restoring ----------------------------------------------------------------------------
    def apply(self, saved: Saved) -> None:
        """Put ``saved`` into the model, optimizer, scheduler and generators, all or nothing:
        if any of them refuses its part, those already restored are put back as they were."""
        live = self._generators()
        steps: list[tuple[Any, Any, Any]] = [
            (self.model.load_state_dict, self.model.state_dict(), saved.model),
        ]
        if self.optimizer is not None:
            steps.append((self.optimizer.load_state_dict, self.optimizer.state_dict(),
                          saved.optimizer))
        if self.scheduler is not None:
            steps.append((self.scheduler.load_state_dict, self.scheduler.state_dict(),
                          saved.scheduler))
        for name, generator in live.items():
            steps.append((lambda state, g=generator: setattr(g.bit_generator, "state", state),
                          generator.bit_generator.state, saved.generators[name]))
        done: list[tuple[Any, Any]] = []
        try:
            for load, before, state in steps:
                load(state)
                done.append((load, before))
        except (TypeError, ValueError, KeyError) as error:
            for load, before in reversed(done):
                load(before)
            self._refuse(str(error))


def _sync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX: fsync the folder; Windows cannot open one)."""
    if os.name != "posix":
        return
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def _encode(state: Any) -> Any:
    """A bit generator's state as JSON-ready values (arrays as lists with their dtype)."""
    if isinstance(state, dict):
        return {key: _encode(value) for key, value in state.items()}
    if isinstance(state, np.ndarray):
        return {"array": state.tolist(), "dtype": state.dtype.str}
    return state


def _decode(state: Any) -> Any:
    """The inverse of :func:`_encode`."""
    if isinstance(state, dict):
        if set(state) == {"array", "dtype"}:
            return np.array(state["array"], dtype=np.dtype(state["dtype"]))
        return {key: _decode(value) for key, value in state.items()}
    return state
