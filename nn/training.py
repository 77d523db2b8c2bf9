"""Training in one call, as in Keras: :func:`fit`, :func:`evaluate` and the :class:`History`.

``fit`` runs mini-batch gradient descent: every epoch it shuffles the examples with ``rng``,
cuts them into batches of ``batch_size`` and, for each batch, does ``zero_grad``, forward,
``loss_fn(model(x_batch), y_batch)``, ``backward`` and ``optimizer.step()``. It records the
epoch's loss and metrics (and the same on ``validation_data``) in a :class:`History`, and shows a
tqdm progress bar when tqdm is installed and ``progress`` is true.

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

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

import autograd_lite as ag
from autograd_lite import Tensor
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


def are_probabilities(scores: np.ndarray) -> bool:
    """Whether one-number-per-example ``scores`` read as probabilities (every value in [0, 1])
    rather than logits: the rule :func:`predicted_classes` and the pictures both follow.

    >>> are_probabilities(np.array([0.2, 0.7])), are_probabilities(np.array([-3.0, 0.4]))
    (True, False)
    """
    return bool(scores.size > 0 and scores.min() >= 0 and scores.max() <= 1)


def predicted_classes(outputs: Any) -> np.ndarray:
    """The class each row of model ``outputs`` predicts, as integers.

    * Several columns, shape ``(n, classes)``: class scores (logits or probabilities alike);
      the prediction is the column with the largest score (``argmax``).
    * One number per example, shape ``(n,)`` or ``(n, 1)``: a binary output. If every value
      lies in [0, 1] the outputs are read as probabilities and class 1 means ``p >= 0.5``;
      otherwise they are read as logits and class 1 means ``z >= 0`` (the same decision,
      since σ(z) >= 0.5 exactly when z >= 0).

    NOTE: the binary rule looks at all outputs at once, so logits that all happen to fall in
    [0, 1] would be thresholded at 0.5; for such a model pass your own metric, e.g.
    ``lambda outputs, y: float(np.mean((outputs >= 0) == y))``.

    >>> predicted_classes(np.array([[0.1, 2.0, -1.0], [3.0, 0.0, 0.0]]))
    array([1, 0])
    >>> predicted_classes(np.array([0.2, 0.7])), predicted_classes(np.array([-3.0, 0.4]))
    (array([0, 1]), array([0, 1]))
    """
    values = np.asarray(outputs.data if isinstance(outputs, Tensor) else outputs)
    flat = _flat_binary(values)
    if flat is not None:
        return (flat >= (0.5 if are_probabilities(flat) else 0.0)).astype(np.intp)
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


def accuracy(outputs: Any, targets: Any) -> float:
    """The fraction of examples whose predicted class equals the target class.

    Predictions come from :func:`predicted_classes` (argmax for class scores; threshold 0.5
    for binary probabilities, 0 for binary logits). Targets are integer labels, 0/1 values
    (shape ``(n,)`` or ``(n, 1)``), or one-hot rows.

    >>> accuracy(np.array([[2.0, 0.0], [0.0, 1.0], [1.0, 0.0]]), np.array([0, 1, 1]))
    0.6666666666666666
    >>> accuracy(np.array([[0.9], [0.2]]), np.array([[1.0], [0.0]]))
    1.0
    """
    predicted = predicted_classes(outputs)
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


METRICS: dict[str, Metric] = {"accuracy": accuracy}
"""The metrics ``fit`` and ``evaluate`` know by name."""


def _resolve_metrics(metrics: MetricsArgument, caller: str) -> dict[str, Metric]:
    """``metrics`` as ``{name: function}``; names must be in :data:`METRICS`."""
    if metrics is None:
        return {}
    if isinstance(metrics, str) or callable(metrics):
        metrics = [metrics]
    resolved: dict[str, Metric] = {}
    for metric in metrics:
        if isinstance(metric, str):
            if metric not in METRICS:
                known = ", ".join(repr(name) for name in sorted(METRICS))
                raise ValueError(
                    f"{caller}: unknown metric {metric!r}; known metrics: {known} "
                    "(or pass a function f(outputs, targets) -> float)"
                )
            name, function = metric, METRICS[metric]
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


def _progress_bar(total: int, enabled: bool) -> Any:
    """A tqdm bar over ``total`` epochs, or None when turned off or tqdm is not installed."""
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc="fit", unit="epoch", dynamic_ncols=True)


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
    metrics: Mapping[str, Metric], batch_size: int | None,
) -> dict[str, float]:
    was_training = getattr(model, "training", None)
    _set_mode(model, False)
    try:
        loss_sum, outputs = 0.0, []
        with ag.no_grad():
            for batch in _batches(len(x), batch_size):
                out = model(x[batch])
                loss = _scalar_loss(loss_fn(out, y[batch]), "evaluate")
                loss_sum += loss.item() * len(x[batch])
                if metrics:
                    outputs.append(_as_output(out))
    finally:
        if was_training is not None:
            _set_mode(model, bool(was_training))
    return _scores(loss_sum, outputs, y, metrics)


# --- the two entry points ------------------------------------------------------------------
def evaluate(
    model: Callable[[Any], Any],
    loss_fn: LossFunction,
    x: Any,
    y: Any,
    metrics: MetricsArgument = None,
    batch_size: int | None = 256,
) -> dict[str, float]:
    """The loss and metrics of ``model`` on ``(x, y)``, computed under ``no_grad``.

    The loss is the batch losses averaged by batch size, which is the mean over all examples
    when ``loss_fn`` averages (``reduction="mean"``). Metrics are computed once, on all the
    outputs. The model is put in evaluation mode (``model.eval()``, when it has one) and then
    back in the mode it was in. ``batch_size`` only bounds memory (``None``: one batch).

    Returns ``{"loss": ..., <metric name>: ...}``.
    """
    metric_functions = _resolve_metrics(metrics, "evaluate")
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
    * ``progress``: show a tqdm progress bar over the epochs with the latest numbers (no bar,
      and no error, when tqdm is not installed).

    The recorded training loss is the epoch's batch losses averaged by batch size, each batch
    measured just before its update (as Keras does); metrics likewise use those outputs. The
    model is switched to training mode (``model.train()``, when it has one) every epoch.
    """
    metric_functions = _resolve_metrics(metrics, "fit")
    x_array, y_array = _check_data(x, y, "fit")
    epoch_count = _positive(epochs, "epochs", "fit")
    size = _batch_size(batch_size, "fit")
    validation: tuple[np.ndarray, np.ndarray] | None = None
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise TypeError("fit: validation_data must be a pair (x_val, y_val)")
        validation = _check_data(*validation_data, "fit", what="validation ")
    generator = as_generator(rng)

    history = History()
    bar = _progress_bar(epoch_count, progress)
    try:
        for _ in range(epoch_count):
            _set_mode(model, True)
            order = generator.permutation(len(x_array))
            loss_sum, outputs = 0.0, []
            for batch in _batches(len(x_array), size):
                chosen = order[batch]
                optimizer.zero_grad()
                out = model(x_array[chosen])
                loss = _scalar_loss(loss_fn(out, y_array[chosen]), "fit")
                loss.backward()
                optimizer.step()
                loss_sum += loss.item() * len(chosen)
                if metric_functions:
                    outputs.append(_as_output(out))
            scores = _scores(loss_sum, outputs, y_array[order], metric_functions)
            if validation is not None:
                found = _evaluate(model, loss_fn, *validation, metric_functions, size)
                scores.update({f"val_{name}": value for name, value in found.items()})
            history.append(scores)
            if bar is not None:
                bar.set_postfix({key: f"{value:.4f}" for key, value in scores.items()},
                                refresh=False)
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return history
