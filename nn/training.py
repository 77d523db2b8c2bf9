"""Training in one call, as in Keras: :func:`fit`, :func:`evaluate` and the :class:`History`.

``fit`` runs mini-batch gradient descent: every epoch it shuffles the examples with ``rng``,
cuts them into batches of ``batch_size`` and, for each batch, does ``zero_grad``, forward,
``loss_fn(model(x_batch), y_batch)``, ``backward`` and ``optimizer.step()``. After each epoch
it records the loss and metrics (and the same on ``validation_data``) in a :class:`History`,
steps the learning-rate ``scheduler`` and writes the ``checkpoint`` (see :mod:`nn.checkpoint`),
from which a killed run resumes bit for bit. A tqdm progress bar (when tqdm is installed and
``progress`` is true) advances per batch and shows the running loss.

>>> import numpy as np
>>> import nn
>>> x = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
>>> y = np.array([[0.0], [1.0], [1.0], [1.0]])             # OR
>>> model = nn.MLP(2, [8], 1, rng=0)
>>> optimizer = nn.Adam(model.parameters(), lr=0.05)
>>> history = nn.fit(model, nn.binary_cross_entropy_with_logits, optimizer, x, y,
...                  epochs=100, batch_size=2, rng=0, metrics=["accuracy"], progress=False)
>>> history["accuracy"][-1], history["loss"][-1] < history["loss"][0]
(1.0, True)
>>> nn.evaluate(model, nn.binary_cross_entropy_with_logits, x, y, metrics=["accuracy"])["accuracy"]
1.0
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import partial
from typing import Any

import numpy as np

import autograd_lite as ag
from autograd_lite import Tensor
from nn.checkpoint import Checkpoint
from nn.losses import binary_cross_entropy, binary_cross_entropy_with_logits
from nn.validation import as_generator

LossFunction = Callable[[Any, Any], Tensor]
Metric = Callable[[np.ndarray, np.ndarray], float]
MetricsArgument = str | Metric | Sequence[str | Metric] | None


# --- metrics -------------------------------------------------------------------------------
def _flat_binary(values: np.ndarray) -> np.ndarray | None:
    """``values`` as a flat vector when it holds one number per example, else None."""
    if values.ndim == 1 or (values.ndim == 2 and values.shape[1] == 1):
        return values.reshape(-1)
    return None


def _logits_flag(from_logits: Any, caller: str) -> bool | None:
    """``from_logits`` checked: True, False or None."""
    if from_logits is not None and not isinstance(from_logits, (bool, np.bool_)):
        raise TypeError(f"{caller}: from_logits must be True, False or None, got {from_logits!r}")
    return None if from_logits is None else bool(from_logits)


def predicted_classes(outputs: Any, from_logits: bool | None = None) -> np.ndarray:
    """The class each row of model ``outputs`` predicts, as integers.

    * Several columns, shape ``(n, classes)``: class scores (logits or probabilities alike);
      the prediction is the column with the largest score (``argmax``).
    * One number per example, shape ``(n,)`` or ``(n, 1)``: a binary output. Logits
      (``from_logits=True``) predict class 1 where ``z >= 0``, probabilities
      (``from_logits=False``) where ``p >= 0.5``: the same decision, since σ(z) >= 0.5 exactly
      when z >= 0. Which of the two the numbers are cannot be read off them (logits may all
      fall in [0, 1]), so ``from_logits=None`` raises ``ValueError`` here instead of guessing.

    >>> predicted_classes(np.array([[0.1, 2.0, -1.0], [3.0, 0.0, 0.0]]))
    array([1, 0])
    >>> predicted_classes(np.array([0.2, 0.7]), from_logits=False)
    array([0, 1])
    >>> predicted_classes(np.array([0.2, -0.7]), from_logits=True)
    array([1, 0])
    """
    flag = _logits_flag(from_logits, "predicted_classes")
    values = np.asarray(outputs.data if isinstance(outputs, Tensor) else outputs)
    flat = _flat_binary(values)
    if flat is not None:
        if flag is None:
            raise ValueError(
                f"predicted_classes: outputs of shape {values.shape} hold one number per "
                "example, which may be logits (class 1 from 0) or probabilities (class 1 from "
                "0.5); say which with from_logits=True or from_logits=False (fit and evaluate "
                "decide it themselves only for the losses binary_cross_entropy_with_logits and "
                "binary_cross_entropy)"
            )
        return (flat >= (0.0 if flag else 0.5)).astype(np.intp)
    if values.ndim == 2:
        return np.argmax(values, axis=1)
    raise ValueError(
        f"predicted_classes: outputs must have shape (n,), (n, 1) or (n, classes), "
        f"got {values.shape}"
    )


def _true_classes(targets: Any, n: int) -> np.ndarray:
    """Targets as integer labels: class indices as they are, one-hot rows by their argmax."""
    values = np.asarray(targets.data if isinstance(targets, Tensor) else targets)
    if values.ndim == 2 and values.shape[1] > 1:
        values = np.argmax(values, axis=1)
    else:
        values = values.reshape(-1)
    if values.shape != (n,):
        raise ValueError(
            f"accuracy: {n} outputs but targets of shape {np.shape(targets)}; give one label "
            "(or one one-hot row) per example"
        )
    if values.dtype.kind == "f":
        return np.rint(values).astype(np.intp)
    return values.astype(np.intp)


def accuracy(outputs: Any, targets: Any, from_logits: bool | None = None) -> float:
    """The fraction of examples whose predicted class equals the target class.

    Predictions come from :func:`predicted_classes` (argmax for class scores; for one binary
    output per example, threshold 0 for logits and 0.5 for probabilities, as ``from_logits``
    says). Targets are integer labels, 0/1 values (shape ``(n,)`` or ``(n, 1)``), or one-hot
    rows.

    >>> accuracy(np.array([[2.0, 0.0], [0.0, 1.0], [1.0, 0.0]]), np.array([0, 1, 1]))
    0.6666666666666666
    >>> accuracy(np.array([[0.9], [0.2]]), np.array([[1.0], [0.0]]), from_logits=False)
    1.0
    """
    predicted = predicted_classes(outputs, from_logits)
    if predicted.size == 0:
        raise ValueError("accuracy: no examples to score")
    return float(np.mean(predicted == _true_classes(targets, predicted.size)))


def confusion_matrix(true_classes: Any, predicted: Any, n_classes: int | None = None) -> np.ndarray:
    """Counts ``C[i, j]`` of examples of true class ``i`` predicted as class ``j``.

    >>> confusion_matrix([0, 1, 1, 2], [0, 1, 2, 2])
    array([[1, 0, 0],
           [0, 1, 1],
           [0, 0, 1]])
    """
    truth = np.asarray(true_classes).astype(np.intp).reshape(-1)
    guess = np.asarray(predicted).astype(np.intp).reshape(-1)
    if truth.shape != guess.shape:
        raise ValueError(
            f"confusion_matrix: {truth.size} true classes but {guess.size} predictions"
        )
    if truth.size and min(truth.min(), guess.min()) < 0:
        raise ValueError("confusion_matrix: classes must be integers >= 0")
    found = int(max(truth.max(initial=-1), guess.max(initial=-1))) + 1
    size = found if n_classes is None else int(n_classes)
    if size < found:
        raise ValueError(f"confusion_matrix: n_classes={n_classes} but class {found - 1} occurs")
    counts = np.zeros((size, size), dtype=np.int64)
    np.add.at(counts, (truth, guess), 1)
    return counts


METRICS: dict[str, Callable[..., float]] = {"accuracy": accuracy}
"""The metrics ``fit`` and ``evaluate`` know by name; each is called as
``f(outputs, targets, from_logits=...)``."""


def _outputs_are_logits(from_logits: Any, loss_fn: Any, caller: str) -> bool | None:
    """Whether binary outputs are logits: ``from_logits`` when given, else what the loss says
    (``binary_cross_entropy_with_logits`` takes logits, ``binary_cross_entropy``
    probabilities; a ``functools.partial`` of either counts), else None: not known."""
    flag = _logits_flag(from_logits, caller)
    if flag is not None:
        return flag
    loss = getattr(loss_fn, "func", loss_fn)
    if loss is binary_cross_entropy_with_logits:
        return True
    if loss is binary_cross_entropy:
        return False
    return None


def _resolve_metrics(
    metrics: MetricsArgument, caller: str, from_logits: bool | None
) -> dict[str, Metric]:
    """``metrics`` as ``{name: function(outputs, targets)}``; names must be in :data:`METRICS`,
    and those get ``from_logits``."""
    if metrics is None:
        return {}
    if isinstance(metrics, str) or callable(metrics):
        metrics = [metrics]
    resolved: dict[str, Metric] = {}
    function: Metric
    for metric in metrics:
        if isinstance(metric, str):
            if metric not in METRICS:
                known = ", ".join(repr(name) for name in sorted(METRICS))
                raise ValueError(
                    f"{caller}: unknown metric {metric!r}; known metrics: {known} "
                    "(or pass a function f(outputs, targets) -> float)"
                )
            name, function = metric, partial(METRICS[metric], from_logits=from_logits)
        elif callable(metric):
            name, function = getattr(metric, "__name__", type(metric).__name__), metric
        else:
            raise TypeError(
                f"{caller}: each metric must be a name or a function, got {metric!r}"
            )
        if name == "loss" or name in resolved:
            raise ValueError(f"{caller}: metric name {name!r} is used twice")
        resolved[name] = function
    return resolved


# --- the record of a run -------------------------------------------------------------------
class History:
    """What :func:`fit` records: one value per epoch for the loss and every metric.

    Keys are ``"loss"``, each metric's name (``"accuracy"``), and with validation data the same
    with a ``"val_"`` prefix. ``history["loss"]`` is the list; ``history.history`` the whole
    dict (Keras's name); ``history.epochs`` counts the epochs run.

    >>> history = History()
    >>> history.append({"loss": 0.9, "accuracy": 0.5})
    >>> history.append({"loss": 0.4, "accuracy": 0.75})
    >>> history["loss"], history.last()
    ([0.9, 0.4], {'loss': 0.4, 'accuracy': 0.75})
    """

    def __init__(self, history: Mapping[str, Sequence[float]] | None = None) -> None:
        self.history: dict[str, list[float]] = {
            key: [float(value) for value in values] for key, values in (history or {}).items()
        }

    def append(self, values: Mapping[str, float]) -> None:
        """Add one epoch's values; every epoch must report the same keys."""
        if self.history and set(values) != set(self.history):
            raise ValueError(
                f"History: epoch reports {sorted(values)} but earlier epochs {sorted(self.history)}"
            )
        for key, value in values.items():
            self.history.setdefault(key, []).append(float(value))

    @property
    def epochs(self) -> int:
        """How many epochs are recorded."""
        return len(next(iter(self.history.values()), []))

    def keys(self) -> list[str]:
        """The recorded names, e.g. ``["loss", "accuracy", "val_loss", "val_accuracy"]``."""
        return list(self.history)

    def last(self) -> dict[str, float]:
        """The final epoch's values."""
        if not self.epochs:
            raise ValueError("History: no epochs recorded yet")
        return {key: values[-1] for key, values in self.history.items()}

    def __getitem__(self, key: str) -> list[float]:
        if key not in self.history:
            raise KeyError(f"History has no {key!r}; it has {self.keys()}")
        return self.history[key]

    def __contains__(self, key: object) -> bool:
        return key in self.history

    def __iter__(self) -> Iterator[str]:
        return iter(self.history)

    def __len__(self) -> int:
        return self.epochs

    def __eq__(self, other: object) -> bool:
        return isinstance(other, History) and self.history == other.history

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        last = ", ".join(f"{key}={value:.4g}" for key, value in self.last().items()) if (
            self.epochs
        ) else "empty"
        return f"History(epochs={self.epochs}, last: {last})"


# --- checks --------------------------------------------------------------------------------
def _as_array(values: Any, name: str, caller: str) -> np.ndarray:
    array = values.numpy() if isinstance(values, Tensor) else np.asarray(values)
    if array.ndim == 0:
        raise ValueError(f"{caller}: {name} must have one row per example, got a scalar")
    return array


def _check_data(x: Any, y: Any, caller: str, what: str = "") -> tuple[np.ndarray, np.ndarray]:
    """``x`` and ``y`` as arrays with the same (non-zero) number of rows."""
    xs, ys = f"{what}x", f"{what}y"
    x_array, y_array = _as_array(x, xs, caller), _as_array(y, ys, caller)
    if len(x_array) != len(y_array):
        raise ValueError(
            f"{caller}: {xs} has {len(x_array)} examples (shape {x_array.shape}) but {ys} has "
            f"{len(y_array)} (shape {y_array.shape}); give one target per example"
        )
    if len(x_array) == 0:
        raise ValueError(f"{caller}: {xs} and {ys} hold no examples")
    return x_array, y_array


def _positive(value: Any, name: str, caller: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{caller}: {name} must be a positive int, got {value!r}")
    return int(value)


def _batch_size(value: Any, caller: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(
            f"{caller}: batch_size must be a positive int, or None for all examples at once; "
            f"got {value!r}"
        )
    return int(value)


def _scalar_loss(loss: Any, caller: str) -> Tensor:
    if not isinstance(loss, Tensor) or loss.size != 1:
        shape = getattr(loss, "shape", None)
        raise TypeError(
            f"{caller}: loss_fn must return a one-element Tensor, got "
            f"{type(loss).__name__}{'' if shape is None else f' of shape {shape}'} "
            "(use reduction='mean' or 'sum')"
        )
    return loss


def _as_output(out: Any) -> np.ndarray:
    """A model's output as a NumPy array (a copy, safe to keep)."""
    return out.numpy() if isinstance(out, Tensor) else np.array(out)


def _set_mode(model: Any, training: bool) -> None:
    """``model.train()`` or ``model.eval()``, when the model has them."""
    method = getattr(model, "train" if training else "eval", None)
    if callable(method):
        method()


def _methods(owner: Any, names: Sequence[str], role: str, caller: str) -> None:
    """Refuse ``owner`` unless it has every method in ``names``."""
    missing = [name for name in names if not callable(getattr(owner, name, None))]
    if missing:
        raise TypeError(
            f"{caller}: {role} must have {', '.join(f'{name}()' for name in names)}; "
            f"{type(owner).__name__} has no {', '.join(missing)}"
        )


def _progress_bar(total: int, initial: int, enabled: bool) -> Any:
    """A tqdm bar over ``total`` batches (``initial`` of them done), or None when turned off or
    tqdm is not installed."""
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, initial=initial, desc="fit", unit="batch", dynamic_ncols=True)


def _batches(count: int, batch_size: int | None) -> Iterator[slice]:
    size = count if batch_size is None else batch_size
    for start in range(0, count, size):
        yield slice(start, start + size)


def _scores(
    loss_sum: float, outputs: list[np.ndarray], targets: np.ndarray, metrics: Mapping[str, Metric]
) -> dict[str, float]:
    """``{"loss": mean loss per example, name: metric on all outputs}``."""
    scores = {"loss": loss_sum / len(targets)}
    if metrics:
        joined = np.concatenate(outputs)
        for name, metric in metrics.items():
            scores[name] = float(metric(joined, targets))
    return scores


def _evaluate(
    model: Callable[[Any], Any], loss_fn: LossFunction, x: np.ndarray, y: np.ndarray,
    metrics: Mapping[str, Metric], batch_size: int | None, caller: str = "evaluate",
) -> dict[str, float]:
    was_training = getattr(model, "training", None)
    _set_mode(model, False)
    try:
        loss_sum, outputs = 0.0, []
        with ag.no_grad():
            for batch in _batches(len(x), batch_size):
                out = model(x[batch])
                loss = _scalar_loss(loss_fn(out, y[batch]), caller)
                loss_sum += loss.item() * len(x[batch])
                if metrics:
                    outputs.append(_as_output(out))
    finally:
        if was_training is not None:
            _set_mode(model, bool(was_training))
    return _scores(loss_sum, outputs, y, metrics)


def _train_epoch(
    model: Callable[[Any], Any], loss_fn: LossFunction, optimizer: Any, x: np.ndarray,
    y: np.ndarray, order: np.ndarray, batch_size: int | None, metrics: Mapping[str, Metric],
    bar: Any,
) -> dict[str, float]:
    """One pass over ``(x, y)`` in the shuffled ``order``, in training mode, with one optimizer
    step per batch; returns the epoch's loss and metrics as :func:`_scores` computes them."""
    _set_mode(model, True)
    loss_sum, seen, outputs = 0.0, 0, []
    for batch in _batches(len(x), batch_size):
        chosen = order[batch]
        optimizer.zero_grad()
        out = model(x[chosen])
        loss = _scalar_loss(loss_fn(out, y[chosen]), "fit")
        loss.backward()
        optimizer.step()
        loss_sum += loss.item() * len(chosen)
        seen += len(chosen)
        if metrics:
            outputs.append(_as_output(out))
        if bar is not None:
            bar.set_postfix_str(f"loss={loss_sum / seen:.4f}", refresh=False)
            bar.update(1)
    return _scores(loss_sum, outputs, y[order], metrics)


# --- the two entry points ------------------------------------------------------------------
def evaluate(
    model: Callable[[Any], Any],
    loss_fn: LossFunction,
    x: Any,
    y: Any,
    metrics: MetricsArgument = None,
    batch_size: int | None = 256,
    from_logits: bool | None = None,
) -> dict[str, float]:
    """The loss and metrics of ``model`` on ``(x, y)``, computed under ``no_grad``.

    The loss is the batch losses averaged by batch size, which is the mean over all examples
    when ``loss_fn`` averages (``reduction="mean"``). Metrics are computed once, on all the
    outputs. The model is put in evaluation mode (``model.eval()``, when it has one) and then
    back in the mode it was in. ``batch_size`` only bounds memory (``None``: one batch).
    ``from_logits`` says, for ``"accuracy"`` on one output per example, whether the outputs
    are logits (class 1 from 0) or probabilities (class 1 from 0.5); ``None`` reads it from
    the loss (``binary_cross_entropy_with_logits``: logits, ``binary_cross_entropy``:
    probabilities) and otherwise refuses to guess.

    Returns ``{"loss": ..., <metric name>: ...}``.
    """
    logits = _outputs_are_logits(from_logits, loss_fn, "evaluate")
    metric_functions = _resolve_metrics(metrics, "evaluate", logits)
    x_array, y_array = _check_data(x, y, "evaluate")
    size = _batch_size(batch_size, "evaluate")
    return _evaluate(model, loss_fn, x_array, y_array, metric_functions, size)


def fit(
    model: Callable[[Any], Any],
    loss_fn: LossFunction,
    optimizer: Any,
    x: Any,
    y: Any,
    epochs: int = 10,
    batch_size: int | None = 32,
    rng: int | np.random.Generator | None = None,
    metrics: MetricsArgument = None,
    validation_data: tuple[Any, Any] | None = None,
    progress: bool = True,
    from_logits: bool | None = None,
    scheduler: Any = None,
    checkpoint: str | os.PathLike[str] | None = None,
    resume: bool = False,
) -> History:
    """Train ``model`` by mini-batch gradient descent on ``loss_fn(model(x), y)``.

    * ``optimizer``: anything with ``zero_grad()`` and ``step()`` over the model's
      parameters (``nn.SGD``, ``nn.Adam``).
    * ``epochs``: passes over the data. ``batch_size``: examples per update (the last batch
      of an epoch may be smaller; ``None`` uses all examples in every update).
    * ``rng``: an int seed or a ``numpy.random.Generator`` that shuffles the examples every
      epoch; the same seed (and the same starting model) gives the same run.
    * ``metrics``: names from :data:`METRICS` (``"accuracy"``) or functions
      ``f(outputs, targets) -> float``, computed on all of the epoch's outputs.
    * ``validation_data``: ``(x_val, y_val)``, scored as :func:`evaluate` does after each
      epoch and recorded as ``"val_loss"``, ``"val_accuracy"``, ...
    * ``progress``: show a tqdm progress bar that advances per batch with the epoch's running
      loss (no bar, and no error, when tqdm is not installed).
    * ``from_logits``: for ``"accuracy"`` on one output per example, whether outputs are
      logits (class 1 from 0) or probabilities (class 1 from 0.5); ``None`` reads it from the
      loss, as :func:`evaluate` does, and otherwise refuses to guess.
    * ``scheduler``: a learning-rate schedule (``nn.StepLR``, ...), whose ``step()`` is called
      once after every epoch.
    * ``checkpoint``: a file path. After every epoch the model, the optimizer, the scheduler,
      the epoch count, the history and the states of every random generator (the shuffling
      one and the model's, such as Dropout's) are written there atomically (see
      :mod:`nn.checkpoint`): whenever the process dies, the file holds the last complete
      checkpoint.
    * ``resume``: with ``checkpoint`` naming an existing file, restore it and go on after
      its epoch, so that the final parameters and history equal, bit for bit, those of one
      uninterrupted ``fit`` with the same arguments. Without the file the run starts afresh.

    The recorded training loss is the epoch's batch losses averaged by batch size, each batch
    measured just before its update (as Keras does); metrics likewise use those outputs. The
    model is switched to training mode (``model.train()``, when it has one) every epoch.

    Every refusal comes before anything changes: the arguments are checked, the checkpoint
    is read and checked, and the first batch of the training and validation data goes through
    the model, the loss and the metrics (in evaluation mode, under ``no_grad``) before the
    checkpoint is restored and before the first ``zero_grad``.
    """
    logits = _outputs_are_logits(from_logits, loss_fn, "fit")
    metric_functions = _resolve_metrics(metrics, "fit", logits)
    x_array, y_array = _check_data(x, y, "fit")
    epoch_count = _positive(epochs, "epochs", "fit")
    size = _batch_size(batch_size, "fit")
    validation: tuple[np.ndarray, np.ndarray] | None = None
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise TypeError("fit: validation_data must be a pair (x_val, y_val)")
        validation = _check_data(*validation_data, "fit", what="validation ")
    _methods(optimizer, ("zero_grad", "step"), "optimizer", "fit")
    if scheduler is not None:
        _methods(scheduler, ("step",), "scheduler", "fit")
    if not isinstance(resume, (bool, np.bool_)):
        raise TypeError(f"fit: resume must be True or False, got {resume!r}")
    if resume and checkpoint is None:
        raise ValueError("fit: resume=True needs checkpoint=<path> to resume from")
    generator = as_generator(rng)
    keys = ["loss", *metric_functions]
    keys += [f"val_{key}" for key in keys] if validation is not None else []
    saver = None if checkpoint is None else Checkpoint(
        checkpoint, model, optimizer, scheduler, generator, len(x_array), size, keys
    )
    saved = None
    if saver is not None and resume:
        saved = saver.read()
        if saved is not None and saved.epoch > epoch_count:
            raise ValueError(
                f"fit: checkpoint {str(saver.path)!r} is already {saved.epoch} epochs in, "
                f"beyond epochs={epoch_count}"
            )
    first = len(x_array) if size is None else size  # examples in the first batch
    _evaluate(model, loss_fn, x_array[:first], y_array[:first], metric_functions, None, "fit")
    if validation is not None:
        x_val, y_val = validation
        _evaluate(model, loss_fn, x_val[:first], y_val[:first], metric_functions, None, "fit")

    history = History()
    if saver is not None and saved is not None:
        saver.apply(saved)
        history = History(saved.history)
    per_epoch = math.ceil(len(x_array) / first)  # batches
    bar = _progress_bar(epoch_count * per_epoch, history.epochs * per_epoch, progress)
    try:
        for epoch in range(history.epochs, epoch_count):
            if bar is not None:
                bar.set_description_str(f"fit {epoch + 1}/{epoch_count}", refresh=False)
            order = generator.permutation(len(x_array))
            scores = _train_epoch(model, loss_fn, optimizer, x_array, y_array, order, size,
                                  metric_functions, bar)
            if validation is not None:
                found = _evaluate(model, loss_fn, *validation, metric_functions, size, "fit")
                scores.update({f"val_{name}": value for name, value in found.items()})
            history.append(scores)
            if scheduler is not None:
                scheduler.step()
            if saver is not None:
                saver.save(history.epochs, history.history)
            if bar is not None:
                bar.set_postfix({key: f"{value:.4f}" for key, value in scores.items()})
    finally:
        if bar is not None:
            bar.close()
    return history
