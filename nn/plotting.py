"""Pictures of training: learning curves, a 2-D decision boundary, a confusion matrix and
convolution filters.

Each function draws one figure and writes it to ``path`` (PNG by default; the suffix picks
the format) with matplotlib's Agg renderer, which needs no display and leaves pyplot's backend
alone. matplotlib is imported only when a function is called: the rest of ``nn`` runs without
it, and a call made without it raises ``ImportError`` saying which extra to install.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

import autograd_lite as ag
from autograd_lite import Tensor
from nn.training import History, confusion_matrix, predicted_classes

PathLike = str | os.PathLike

INSTALL_HINT = (
    'nn.plotting needs matplotlib, which is not installed. Install the examples extra: '
    'pip install -e ".[examples]" (in a clone of the repository) or '
    'pip install "autograd_lite[examples]".'
)
TRAIN_COLOR, VALIDATION_COLOR = "#1f77b4", "#ff7f0e"


def _figure(width: float, height: float, columns: int = 1, rows: int = 1) -> tuple[Any, Any]:
    """A new figure on an Agg canvas and its axes, row by row in one flat array."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError(INSTALL_HINT) from error
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    return figure, axes


def _save(figure: Any, path: PathLike, dpi: int = 120) -> Path:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(target, dpi=dpi)
    return target


def _title_case(name: str) -> str:
    return name.replace("_", " ").capitalize()


def plot_history(
    history: History | Mapping[str, Sequence[float]],
    path: PathLike,
    title: str = "Learning curves",
    metrics: Sequence[str] | None = None,
    log_loss: bool | None = None,
    validation_label: str = "validation",
) -> Path:
    """Loss per epoch, and each metric per epoch in a panel of its own, training and validation.

    ``metrics`` picks the metric panels (default: every metric in the history; ``()`` for the
    loss alone). ``log_loss`` puts the loss on a log scale (default: when it falls by more than
    a factor of 100). ``validation_label`` names the ``val_`` curves in the legend. Returns the
    path written.
    """
    records = history.history if isinstance(history, History) else dict(history)
    if "loss" not in records:
        raise ValueError(f"plot_history: the history has no 'loss'; it has {sorted(records)}")
    if metrics is None:
        metrics = [key for key in records if key != "loss" and not key.startswith("val_")]
    for name in metrics:
        if name not in records:
            raise ValueError(f"plot_history: the history has no {name!r}; it has {sorted(records)}")
    names = ["loss", *metrics]
    figure, axes = _figure(5.0 * len(names), 3.8, len(names))
    for axis, name in zip(axes, names):
        for key, label, color in ((name, "training", TRAIN_COLOR),
                                  (f"val_{name}", validation_label, VALIDATION_COLOR)):
            if key in records:
                values = np.asarray(records[key], dtype=float)
                epochs = np.arange(1, len(values) + 1)
                axis.plot(epochs, values, color=color, label=label, linewidth=1.8)
        axis.set_xlabel("epoch")
        axis.set_ylabel(_title_case(name))
        axis.set_title(_title_case(name))
        axis.grid(True, alpha=0.3)
        axis.legend()
        if name == "loss":
            losses = np.asarray(records["loss"], dtype=float)
            positive = losses.size and losses.min() > 0
            if log_loss or (log_loss is None and positive and losses.max() / losses.min() > 100):
                axis.set_yscale("log")
        elif name.endswith("accuracy"):
            axis.set_ylim(min(0.5, float(np.min(records[name]))) - 0.02, 1.01)
            axis.yaxis.set_major_formatter(lambda value, _: f"{value:.0%}")
    figure.suptitle(title)
    return _save(figure, path)


def _grid_outputs(model: Callable[[Any], Any], points: np.ndarray, dtype: Any) -> np.ndarray:
    with ag.no_grad():
        out = model(points.astype(dtype))
    return np.asarray(out.data if isinstance(out, Tensor) else out, dtype=float)


def plot_decision_boundary(
    model: Callable[[Any], Any],
    x: Any,
    y: Any,
    path: PathLike,
    title: str = "Decision boundary",
    resolution: int = 200,
    margin: float = 0.5,
    from_logits: bool | None = None,
) -> Path:
    """The classes ``model`` assigns to every point of the plane around 2-D inputs ``x``,
    with the examples on top, coloured by their class ``y``.

    A binary model (one output) is shaded by its probability of class 1 (σ(z) when
    ``from_logits`` is True, the output itself when False; a binary model must say which)
    with the 0.5 contour drawn as the boundary; a multi-class model shows the argmax class as
    regions. Misclassified examples
    are circled in red. The model runs under ``no_grad`` (in eval mode when it has one).
    """
    points = np.asarray(x.data if isinstance(x, Tensor) else x)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(
            f"plot_decision_boundary: x must have shape (n, 2), got {points.shape}"
        )
    labels = np.asarray(y.data if isinstance(y, Tensor) else y).reshape(len(points), -1)
    truth = labels.argmax(axis=1) if labels.shape[1] > 1 else np.rint(labels[:, 0]).astype(int)
    low, high = points.min(axis=0) - margin, points.max(axis=0) + margin
    grid_x, grid_y = np.meshgrid(np.linspace(low[0], high[0], resolution),
                                 np.linspace(low[1], high[1], resolution))
    grid = np.column_stack([grid_x.ravel(), grid_y.ravel()])
    was_training = getattr(model, "training", None)
    if was_training is not None:
        model.eval()  # type: ignore[attr-defined]
    dtype = points.dtype if points.dtype.kind == "f" else np.float64
    try:
        outputs = _grid_outputs(model, grid, dtype)
        example_outputs = _grid_outputs(model, points, dtype)
    finally:
        if was_training is not None:
            model.train(bool(was_training))  # type: ignore[attr-defined]

    figure, (axis,) = _figure(6.4, 5.2)
    binary = outputs.ndim == 1 or outputs.shape[1] == 1
    if binary:
        scores = outputs.reshape(-1)
        if from_logits is None:
            raise ValueError(
                "plot_decision_boundary: the model has one output per example; say whether it "
                "is a logit (from_logits=True) or a probability (from_logits=False)"
            )
        probability = 0.5 * (1 + np.tanh(0.5 * scores)) if from_logits else scores
        surface = probability.reshape(grid_x.shape)
        filled = axis.contourf(grid_x, grid_y, surface, levels=np.linspace(0, 1, 11),
                               cmap="RdBu", alpha=0.55)
        axis.contour(grid_x, grid_y, surface, levels=[0.5], colors="black", linewidths=1.5)
        figure.colorbar(filled, ax=axis, label="P(class 1)")
        colors = {0: "#b2182b", 1: "#2166ac"}
    else:
        classes = outputs.argmax(axis=1).reshape(grid_x.shape)
        count = outputs.shape[1]
        axis.contourf(grid_x, grid_y, classes, levels=np.arange(count + 1) - 0.5,
                      cmap="tab10", vmin=0, vmax=9, alpha=0.35)
        palette = [f"C{index}" for index in range(10)]
        colors = {index: palette[index % 10] for index in range(count)}
    for label in np.unique(truth):
        chosen = truth == label
        axis.scatter(points[chosen, 0], points[chosen, 1], s=30, color=colors.get(int(label), "k"),
                     edgecolors="black", linewidths=0.6, label=f"class {int(label)}", zorder=3)
    wrong = predicted_classes(example_outputs, from_logits) != truth
    if wrong.any():
        axis.scatter(points[wrong, 0], points[wrong, 1], s=120, facecolors="none",
                     edgecolors="red", linewidths=1.5, label="misclassified", zorder=4)
    if binary:
        axis.plot([], [], color="black", linewidth=1.5, label="boundary (p = 0.5)")
    axis.set_xlim(low[0], high[0])
    axis.set_ylim(low[1], high[1])
    axis.set_xlabel("x₁")
    axis.set_ylabel("x₂")
    axis.set_title(title)
    axis.legend(loc="lower left", fontsize="small", framealpha=0.85)
    return _save(figure, path)


def plot_confusion_matrix(
    true_classes: Any,
    predicted: Any,
    path: PathLike,
    class_names: Sequence[str] | None = None,
    title: str = "Confusion matrix",
) -> Path:
    """Counts of each true class (rows) predicted as each class (columns), every cell labelled;
    the diagonal holds the correct answers and mistakes are printed in red. Returns the path."""
    n_classes = None if class_names is None else len(class_names)
    counts = confusion_matrix(true_classes, predicted, n_classes)
    size = len(counts)
    names = [str(index) for index in range(size)] if class_names is None else list(class_names)
    side = 2.2 + 0.5 * size
    figure, (axis,) = _figure(side + 1.2, side)
    image = axis.imshow(counts, cmap="Blues", vmin=0)
    figure.colorbar(image, ax=axis, label="examples", shrink=0.85)
    threshold = counts.max() / 2 if counts.size else 0
    for row in range(size):
        for column in range(size):
            value = counts[row, column]
            if value > threshold:
                color, weight = "white", "normal"
            elif value and row != column:  # a mistake: make it stand out
                color, weight = "#b2182b", "bold"
            else:
                color, weight = ("black" if value else "0.6"), "normal"
            axis.text(column, row, str(value), ha="center", va="center", fontsize=9,
                      color=color, fontweight=weight)
    axis.set_xticks(range(size), names)
    axis.set_yticks(range(size), names)
    axis.set_xlabel("predicted class")
    axis.set_ylabel("true class")
    total = counts.sum()
    correct = np.trace(counts) / total if total else 0.0
    axis.set_title(f"{title}\n{np.trace(counts)} of {total} correct ({correct:.1%})")
    return _save(figure, path)


def plot_filters(
    weights: Any, path: PathLike, title: str = "First-layer filters", columns: int = 8
) -> Path:
    """Each filter of a one-channel convolution, ``weights`` of shape (out_channels, 1, kh, kw),
    as a small image on one colour scale: red positive, blue negative. Returns the path."""
    filters = np.asarray(weights.data if isinstance(weights, Tensor) else weights)
    if filters.ndim != 4 or filters.shape[1] != 1:
        raise ValueError(
            f"plot_filters: weights must have shape (out_channels, 1, kh, kw), got {filters.shape}"
        )
    filters = filters[:, 0]
    rows = -(-len(filters) // columns)
    figure, axes = _figure(columns * 1.1, rows * 1.25, columns, rows)
    limit = float(np.abs(filters).max())
    for index, axis in enumerate(axes):
        axis.set_axis_off()
        if index < len(filters):
            axis.imshow(filters[index], cmap="RdBu_r", vmin=-limit, vmax=limit)
            axis.set_title(str(index), fontsize=8)
    figure.suptitle(title, fontsize=9)
    return _save(figure, path)
