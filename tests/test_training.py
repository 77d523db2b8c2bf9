"""nn.fit, nn.evaluate, History, the accuracy metric, and the plotting helpers."""

from __future__ import annotations

import importlib
import struct
import sys
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import autograd_lite as ag
import nn
from nn import plotting, training
from nn.training import History, accuracy, confusion_matrix, predicted_classes

OR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
OR_Y = np.array([[0.0], [1.0], [1.0], [1.0]])


class Recorder(nn.Module):
    """A linear model that remembers every batch it sees, its mode and whether grad was on."""

    def __init__(self, n_inputs: int = 1) -> None:
        super().__init__()
        self.weights = ag.Tensor(np.full((n_inputs, 1), 0.5), requires_grad=True)
        self.calls: list[tuple[np.ndarray, bool, bool]] = []

    def forward(self, x: Any) -> ag.Tensor:
        self.calls.append((np.array(x), self.training, ag.is_grad_enabled()))
        return ag.Tensor(x) @ self.weights

    def training_batches(self) -> list[np.ndarray]:
        """The batches seen in training mode (fit first tries its data in evaluation mode)."""
        return [batch for batch, training, _ in self.calls if training]


def column(n: int) -> tuple[np.ndarray, np.ndarray]:
    x = np.arange(n, dtype=float).reshape(n, 1)
    return x, 2 * x


def or_run(seed: int, rng: Any, epochs: int = 30) -> tuple[nn.MLP, History]:
    model = nn.MLP(2, [8], 1, rng=seed)
    optimizer = nn.Adam(model.parameters(), lr=0.05)
    history = nn.fit(model, nn.binary_cross_entropy_with_logits, optimizer, OR_X, OR_Y,
                     epochs=epochs, batch_size=3, rng=rng, metrics=["accuracy"], progress=False)
    return model, history


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from a PNG's header; fails unless the file is a PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


# --- fit ------------------------------------------------------------------------------------
def test_exported_from_nn():
    assert nn.fit is training.fit and nn.evaluate is training.evaluate
    assert nn.History is training.History
    assert {"fit", "evaluate", "History"} <= set(nn.__all__)


def test_fit_learns_or_and_records_each_epoch():
    model, history = or_run(seed=0, rng=0, epochs=60)
    assert history.keys() == ["loss", "accuracy"]
    assert history.epochs == len(history) == 60
    assert history["loss"][-1] < 0.1 * history["loss"][0]
    assert history["accuracy"][-1] == 1.0
    scores = nn.evaluate(model, nn.binary_cross_entropy_with_logits, OR_X, OR_Y,
                         metrics="accuracy")
    assert scores["accuracy"] == 1.0 and scores["loss"] < history["loss"][0]


def test_epoch_loss_is_the_mean_over_examples_with_uneven_batches():
    # lr = 0 keeps the model fixed, so each epoch's loss is the loss on all the data, whatever
    # the batch sizes (10 examples in batches of 4, 4, 2): weighting by batch size matters.
    x, y = column(10)
    model = Recorder()
    history = nn.fit(model, nn.mse_loss, nn.SGD(model.parameters(), lr=0.0), x, y, epochs=3,
                     batch_size=4, rng=0, progress=False)
    expected = float(np.mean((0.5 * x - y) ** 2))
    np.testing.assert_allclose(history["loss"], [expected] * 3, rtol=1e-12)
    assert [len(batch) for batch in model.training_batches()[:3]] == [4, 4, 2]


def test_each_epoch_shuffles_and_visits_every_example_once():
    x, y = column(12)
    model = Recorder()
    nn.fit(model, nn.mse_loss, nn.SGD(model.parameters(), lr=0.0), x, y, epochs=3,
           batch_size=5, rng=1, progress=False)
    batches = [batch.ravel() for batch in model.training_batches()]
    epochs = [np.concatenate(batches[i:i + 3]) for i in range(0, 9, 3)]
    for seen in epochs:
        np.testing.assert_array_equal(np.sort(seen), x.ravel())
    assert not all(np.array_equal(epochs[0], other) for other in epochs[1:])
    assert not np.array_equal(epochs[0], x.ravel())


def test_same_rng_same_run_and_a_generator_works_like_its_seed():
    first_model, first = or_run(seed=3, rng=7)
    second_model, second = or_run(seed=3, rng=7)
    assert first == second
    for (name, a), (_, b) in zip(first_model.named_parameters(), second_model.named_parameters()):
        np.testing.assert_array_equal(a.data, b.data, err_msg=name)
    _, from_generator = or_run(seed=3, rng=np.random.default_rng(7))
    assert from_generator == first
    _, other = or_run(seed=3, rng=8)
    assert other != first


def test_batch_size_none_or_larger_than_the_data_is_one_batch():
    x, y = column(6)
    for size in (None, 100):
        model = Recorder()
        nn.fit(model, nn.mse_loss, nn.SGD(model.parameters(), lr=0.01), x, y, epochs=2,
               batch_size=size, rng=0, progress=False)
        assert [len(batch) for batch in model.training_batches()] == [6, 6]


def test_validation_scores_match_evaluate_after_the_last_epoch():
    x_val = np.array([[1.0, 1.0], [0.0, 0.0]])
    y_val = np.array([[1.0], [0.0]])
    model = nn.MLP(2, [8], 1, rng=1)
    history = nn.fit(model, nn.binary_cross_entropy_with_logits,
                     nn.Adam(model.parameters(), lr=0.05), OR_X, OR_Y, epochs=5, batch_size=2,
                     rng=0, metrics=["accuracy"], validation_data=(x_val, y_val), progress=False)
    assert history.keys() == ["loss", "accuracy", "val_loss", "val_accuracy"]
    scores = nn.evaluate(model, nn.binary_cross_entropy_with_logits, x_val, y_val,
                         metrics=["accuracy"])
    assert history["val_loss"][-1] == pytest.approx(scores["loss"], rel=1e-12)
    assert history["val_accuracy"][-1] == scores["accuracy"]


def test_modes_and_no_grad():
    x, y = column(4)
    model = Recorder()
    model.eval()  # fit switches it to training mode itself
    nn.fit(model, nn.mse_loss, nn.SGD(model.parameters(), lr=0.01), x, y, epochs=2,
           batch_size=4, rng=0, validation_data=(x, y), progress=False)
    # first the first batch of the training and the validation data is tried in eval mode
    # under no_grad; then training batches: training mode, recorded; validation: eval mode,
    # under no_grad
    tried, trained = [(False, False)] * 2, [(True, True), (False, False)] * 2
    assert [(mode, grad) for _, mode, grad in model.calls] == tried + trained

    model = Recorder()
    model.train()
    nn.evaluate(model, nn.mse_loss, x, y)
    assert model.calls[-1][1:] == (False, False)
    assert model.training is True  # evaluate puts the model back in the mode it was in
    assert model.weights.grad is None
    model.eval()
    nn.evaluate(model, nn.mse_loss, x, y)
    assert model.training is False


def test_evaluate_loss_is_the_mean_over_all_examples_in_any_batch_size():
    x, y = column(7)
    model = Recorder()
    expected = float(np.mean((0.5 * x - y) ** 2))
    for size in (1, 3, None):
        assert nn.evaluate(model, nn.mse_loss, x, y, batch_size=size)["loss"] == pytest.approx(
            expected, rel=1e-12
        )


def test_a_plain_function_can_be_the_model_and_a_function_the_metric():
    def largest_error(outputs: np.ndarray, targets: np.ndarray) -> float:
        return float(np.max(np.abs(outputs - targets)))

    x, y = column(5)
    scores = nn.evaluate(lambda batch: ag.Tensor(batch) * 2.0, nn.mse_loss, x, y,
                         metrics=[largest_error])
    assert scores == {"loss": 0.0, "largest_error": 0.0}


# --- progress -------------------------------------------------------------------------------
def test_progress_bar_on_and_off(capsys):
    or_run(seed=0, rng=0, epochs=3)  # progress=False
    assert capsys.readouterr().err == ""
    model = nn.MLP(2, [4], 1, rng=0)
    nn.fit(model, nn.binary_cross_entropy_with_logits, nn.SGD(model.parameters(), lr=0.1),
           OR_X, OR_Y, epochs=3, batch_size=1, metrics=["accuracy"], progress=True)
    bar = capsys.readouterr().err
    assert "fit 3/3" in bar and "12/12" in bar and "accuracy=" in bar


def test_progress_bar_advances_per_batch_with_the_running_loss(monkeypatch):
    shown: list[tuple[int, str]] = []

    class Bar:
        """Records what fit shows: how far the bar is and its text after each update."""

        def __init__(self, total: int, initial: int, **_: Any) -> None:
            self.total, self.count, self.text = total, initial, ""

        def set_description_str(self, text: str, refresh: bool = True) -> None:
            pass

        def set_postfix_str(self, text: str, refresh: bool = True) -> None:
            self.text = text

        def set_postfix(self, values: dict[str, str], refresh: bool = True) -> None:
            self.text = ", ".join(f"{key}={value}" for key, value in values.items())

        def update(self, steps: int) -> None:
            self.count += steps
            shown.append((self.count, self.text))

        def close(self) -> None:
            shown.append((self.total, "closed"))

    monkeypatch.setattr(importlib.import_module("tqdm.auto"), "tqdm", Bar)
    x, y = column(5)
    model = Recorder()
    nn.fit(model, nn.mse_loss, nn.SGD(model.parameters(), lr=0.0), x, y, epochs=2,
           batch_size=2, rng=0, progress=True)
    # lr = 0: the loss of each example is fixed, so the running mean is known batch by batch
    errors = {float(v): float((0.5 * v - 2 * v) ** 2) for v in x.ravel()}
    expected: list[tuple[int, str]] = []
    batches = model.training_batches()
    for epoch in range(2):
        seen: list[float] = []
        for step, batch in enumerate(batches[3 * epoch:3 * epoch + 3], start=1):
            seen += [errors[float(v)] for v in batch.ravel()]
            expected.append((3 * epoch + step, f"loss={np.mean(seen):.4f}"))
    assert shown == [*expected, (6, "closed")]


def test_progress_without_tqdm_is_no_bar_and_no_error(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    with pytest.raises(ImportError):
        importlib.import_module("tqdm.auto")
    model = nn.MLP(2, [4], 1, rng=0)
    history = nn.fit(model, nn.binary_cross_entropy_with_logits,
                     nn.SGD(model.parameters(), lr=0.1), OR_X, OR_Y, epochs=2, progress=True)
    assert history.epochs == 2
    assert capsys.readouterr().err == ""


# --- errors ---------------------------------------------------------------------------------
def fit_call(**overrides: Any) -> History:
    model = overrides.pop("model", Recorder())
    arguments: dict[str, Any] = {"x": column(4)[0], "y": column(4)[1], "epochs": 1,
                                 "progress": False}
    arguments.update(overrides)
    return nn.fit(model, nn.mse_loss, nn.SGD(model.parameters(), lr=0.1), **arguments)


def test_mismatched_lengths_name_both_counts():
    with pytest.raises(ValueError, match=r"x has 4 examples .* y has 3"):
        fit_call(y=np.zeros((3, 1)))
    with pytest.raises(ValueError, match=r"validation x has 2 examples .* validation y has 1"):
        fit_call(validation_data=(np.zeros((2, 1)), np.zeros((1, 1))))
    with pytest.raises(ValueError, match=r"evaluate: x has 4 examples .* y has 5"):
        nn.evaluate(Recorder(), nn.mse_loss, column(4)[0], np.zeros((5, 1)))
    with pytest.raises(ValueError, match="no examples"):
        fit_call(x=np.zeros((0, 1)), y=np.zeros((0, 1)))
    with pytest.raises(TypeError, match="pair"):
        fit_call(validation_data=(np.zeros((2, 1)),))


@pytest.mark.parametrize("size", [0, -3, 2.5, True, "8"])
def test_bad_batch_sizes(size):
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        fit_call(batch_size=size)
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        nn.evaluate(Recorder(), nn.mse_loss, *column(4), batch_size=size)


@pytest.mark.parametrize("epochs", [0, -1, 1.5, None])
def test_bad_epochs(epochs):
    with pytest.raises(ValueError, match="epochs must be a positive int"):
        fit_call(epochs=epochs)


def test_unknown_metric_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown metric 'f1'; known metrics: 'accuracy'"):
        fit_call(metrics=["f1"])
    with pytest.raises(ValueError, match="unknown metric 'acc'"):
        nn.evaluate(Recorder(), nn.mse_loss, *column(4), metrics="acc")
    with pytest.raises(TypeError, match="name or a function"):
        fit_call(metrics=[3])
    with pytest.raises(ValueError, match="used twice"):
        fit_call(metrics=["accuracy", "accuracy"])


def test_a_loss_that_is_not_one_number_is_refused():
    model = Recorder()
    with pytest.raises(TypeError, match=r"one-element Tensor, got Tensor of shape \(4, 1\)"):
        nn.fit(model, lambda out, y: (out - y) ** 2, nn.SGD(model.parameters(), lr=0.1),
               *column(4), progress=False)


def test_errors_change_nothing():
    model = Recorder()
    before = model.weights.data.copy()
    for bad in ({"batch_size": 0}, {"metrics": ["nope"]}, {"y": np.zeros((2, 1))}):
        with pytest.raises(ValueError):
            fit_call(model=model, **bad)
    np.testing.assert_array_equal(model.weights.data, before)
    assert model.calls == [] and model.weights.grad is None


# --- refusals come before the first step ----------------------------------------------------
def mid_training() -> tuple[nn.MLP, nn.Adam, nn.StepLR]:
    """A model with gradients, an optimizer with moments and a schedule one epoch in: state
    that a refused fit must leave exactly as it was."""
    model = nn.MLP(2, [4], 1, rng=0)
    optimizer = nn.Adam(model.parameters(), lr=0.05)
    scheduler = nn.StepLR(optimizer, step_size=1, gamma=0.5)
    nn.binary_cross_entropy_with_logits(model(OR_X), OR_Y).backward()
    optimizer.step()
    scheduler.step()
    nn.binary_cross_entropy_with_logits(model(OR_X), OR_Y).backward()  # gradients stay
    return model, optimizer, scheduler


def everything(model: nn.Module, optimizer: Any, scheduler: Any) -> dict[str, Any]:
    """Parameters, gradients, optimizer and schedule state, as comparable values."""
    state: dict[str, Any] = {}
    for name, parameter in model.named_parameters():
        state[f"data {name}"] = parameter.data.tobytes()
        state[f"grad {name}"] = None if parameter.grad is None else parameter.grad.tobytes()
    for prefix, owner in (("optimizer", optimizer), ("scheduler", scheduler)):
        for key, value in owner.state_dict().items():
            state[f"{prefix} {key}"] = value.tobytes() if isinstance(value, np.ndarray) else value
    return state


def broken_metric(outputs: np.ndarray, targets: np.ndarray) -> float:
    raise ValueError("broken_metric: cannot score these outputs")


REFUSALS: dict[str, tuple[dict[str, Any], type[Exception], str]] = {
    "validation inputs of the wrong width": (
        {"validation_data": (np.zeros((3, 5)), np.zeros((3, 1)))}, ValueError, "2 features"),
    "validation targets of another count": (
        {"validation_data": (np.zeros((3, 2)), np.zeros((2, 1)))}, ValueError,
        "validation x has 3 examples"),
    "validation data that is not a pair": (
        {"validation_data": np.zeros((3, 2))}, TypeError, "pair"),
    "validation inputs that are not numbers": (
        {"validation_data": (np.array([["a", "b"]]), np.zeros((1, 1)))}, TypeError, "numbers"),
    "training inputs of the wrong width": ({"x": np.zeros((4, 3))}, ValueError, "2 features"),
    "an unknown metric": ({"metrics": ["f1"]}, ValueError, "unknown metric 'f1'"),
    "a metric that fails": ({"metrics": [broken_metric]}, ValueError, "cannot score"),
    "a metric that is not a function": ({"metrics": [3]}, TypeError, "name or a function"),
    "binary accuracy with a loss that does not tell logits from probabilities": (
        {"metrics": ["accuracy"], "loss_fn": nn.mse_loss}, ValueError, "from_logits=True"),
    "a bad from_logits": ({"from_logits": "yes"}, TypeError, "from_logits must be True"),
    "a loss that is not one number": (
        {"loss_fn": lambda out, y: (out - y) ** 2}, TypeError, "one-element Tensor"),
    "a scheduler without step": ({"scheduler": object()}, TypeError, "scheduler must have"),
    "an optimizer without step": ({"optimizer": object()}, TypeError, "optimizer must have"),
}


@pytest.mark.parametrize("case", list(REFUSALS), ids=list(REFUSALS))
def test_fit_refuses_bad_validation_data_metrics_and_arguments_before_the_first_step(case):
    overrides, error, words = REFUSALS[case]
    model, optimizer, scheduler = mid_training()
    before = everything(model, optimizer, scheduler)
    arguments: dict[str, Any] = {
        "loss_fn": nn.binary_cross_entropy_with_logits, "optimizer": optimizer, "x": OR_X,
        "y": OR_Y, "epochs": 2, "batch_size": 2, "rng": 0, "metrics": ["accuracy"],
        "validation_data": (OR_X, OR_Y), "progress": False, "scheduler": scheduler,
    }
    arguments.update(overrides)
    with pytest.raises(error, match=words):
        nn.fit(model, **arguments)
    assert everything(model, optimizer, scheduler) == before
    assert model.training  # the trial run in evaluation mode puts the mode back


def test_fit_steps_the_scheduler_once_after_every_epoch():
    x, y = column(6)
    model = Recorder()
    steps_seen: list[int] = []

    class Schedule:
        def step(self) -> None:
            steps_seen.append(len(model.training_batches()))

    nn.fit(model, nn.mse_loss, nn.SGD(model.parameters(), lr=0.0), x, y, epochs=3,
           batch_size=2, rng=0, progress=False, scheduler=Schedule())
    assert steps_seen == [3, 6, 9]  # after each epoch's three batches

    model = nn.MLP(2, [4], 1, rng=0)
    optimizer = nn.SGD(model.parameters(), lr=0.1)
    scheduler = nn.StepLR(optimizer, step_size=2, gamma=0.5)
    nn.fit(model, nn.binary_cross_entropy_with_logits, optimizer, OR_X, OR_Y, epochs=5,
           progress=False, scheduler=scheduler)
    assert scheduler.last_epoch == 5 and optimizer.lr == 0.1 * 0.5 * 0.5


# --- accuracy and History -------------------------------------------------------------------
def test_accuracy_takes_argmax_of_class_scores_and_thresholds_binary_outputs_as_told():
    # class scores: argmax; labels or one-hot rows
    scores = np.array([[2.0, 1.0, 0.0], [0.0, 0.5, 3.0], [1.0, 0.0, 0.0]])
    assert accuracy(scores, np.array([0, 2, 1])) == pytest.approx(2 / 3)
    assert accuracy(scores, np.eye(3)[[0, 2, 0]]) == 1.0
    # one output per example: probabilities from 0.5 on, logits from 0 on
    outputs = np.array([[0.2], [0.5], [0.9], [0.0]])
    np.testing.assert_array_equal(predicted_classes(outputs, from_logits=False), [0, 1, 1, 0])
    np.testing.assert_array_equal(predicted_classes(outputs, from_logits=True), [1, 1, 1, 1])
    assert accuracy(np.array([-2.0, 0.3]), np.array([0.0, 1.0]), from_logits=True) == 1.0
    assert accuracy(ag.Tensor([[0.1], [0.8]]), ag.Tensor([[1.0], [1.0]]),
                    from_logits=False) == 0.5
    with pytest.raises(ValueError, match="3 outputs but targets of shape"):
        accuracy(scores, np.array([0, 1]))
    with pytest.raises(ValueError, match=r"got \(2, 2, 2\)"):
        accuracy(np.zeros((2, 2, 2)), np.zeros(2))
    with pytest.raises(TypeError, match="from_logits must be True, False or None"):
        accuracy(outputs, np.ones(4), from_logits="yes")


@pytest.mark.parametrize("outputs", [np.array([0.2, 0.7]), np.array([[-3.0], [0.4]])],
                         ids=["in [0, 1]", "outside [0, 1]"])
def test_accuracy_refuses_to_guess_whether_binary_outputs_are_logits(outputs):
    # values in [0, 1] may be logits too: the range says nothing, so nothing is guessed from it
    with pytest.raises(ValueError, match="from_logits=True or from_logits=False"):
        accuracy(outputs, np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="logits .* or probabilities"):
        predicted_classes(outputs)


@pytest.mark.parametrize(
    "loss_fn, threshold",
    [(nn.binary_cross_entropy_with_logits, 0.0), (nn.binary_cross_entropy, 0.5),
     (partial(nn.binary_cross_entropy_with_logits, reduction="sum"), 0.0)],
    ids=["with_logits", "probabilities", "partial"],
)
def test_fit_and_evaluate_read_from_logits_from_the_binary_losses(loss_fn, threshold):
    # outputs 0.3: class 1 as a logit (>= 0), class 0 as a probability (< 0.5)
    x, y = np.full((4, 1), 0.3), np.ones((4, 1))
    model = nn.Sequential(nn.Dense(1, 1, rng=0))
    model[0].weights.data = np.ones((1, 1))
    model[0].bias.data = np.zeros(1)
    expected = float(0.3 >= threshold)
    assert nn.evaluate(model, loss_fn, x, y, metrics="accuracy")["accuracy"] == expected
    history = nn.fit(model, loss_fn, nn.SGD(model.parameters(), lr=0.0), x, y, epochs=1,
                     metrics="accuracy", progress=False)
    assert history["accuracy"] == [expected]
    # an explicit from_logits wins over the loss
    told = nn.evaluate(model, loss_fn, x, y, metrics="accuracy", from_logits=threshold != 0.0)
    assert told["accuracy"] == 1.0 - expected


def test_fit_refuses_to_guess_binary_accuracy_for_other_losses_before_the_first_step():
    x, y = column(4)
    model = Recorder()
    optimizer = nn.SGD(model.parameters(), lr=0.1)
    before = model.weights.data.copy()
    with pytest.raises(ValueError, match="from_logits=True or from_logits=False"):
        nn.fit(model, nn.mse_loss, optimizer, x, y, metrics=["accuracy"], progress=False)
    with pytest.raises(ValueError, match="from_logits=True or from_logits=False"):
        nn.evaluate(model, nn.mse_loss, x, y, metrics=["accuracy"])
    assert model.training_batches() == [] and model.weights.grad is None
    np.testing.assert_array_equal(model.weights.data, before)
    # told, both run; class scores need no threshold at all
    nn.fit(model, nn.mse_loss, optimizer, x, y, metrics=["accuracy"], from_logits=False,
           progress=False)
    three = nn.MLP(2, [3], 3, rng=0)
    scores = nn.evaluate(three, lambda out, labels: nn.cross_entropy(out, labels), OR_X,
                         np.array([0, 1, 2, 1]), metrics="accuracy")
    assert 0.0 <= scores["accuracy"] <= 1.0


def test_confusion_matrix():
    np.testing.assert_array_equal(
        confusion_matrix([0, 0, 1, 2, 2], [0, 1, 1, 2, 0], n_classes=4),
        [[1, 1, 0, 0], [0, 1, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]],
    )
    with pytest.raises(ValueError, match="3 true classes but 2 predictions"):
        confusion_matrix([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match="class 3 occurs"):
        confusion_matrix([0, 3], [0, 1], n_classes=2)


def test_history():
    history = History()
    assert history.epochs == 0 and "History(epochs=0" in repr(history)
    history.append({"loss": 1.0, "accuracy": 0.5})
    history.append({"loss": 0.5, "accuracy": 1.0})
    assert history["loss"] == [1.0, 0.5] and "accuracy" in history
    assert history.last() == {"loss": 0.5, "accuracy": 1.0}
    assert repr(history) == "History(epochs=2, last: loss=0.5, accuracy=1)"
    assert History(history.history) == history
    with pytest.raises(KeyError, match="has no 'val_loss'"):
        history["val_loss"]
    with pytest.raises(ValueError, match="same keys|earlier epochs"):
        history.append({"loss": 0.1})
    with pytest.raises(ValueError, match="no epochs"):
        History().last()


# --- plotting -------------------------------------------------------------------------------
def test_plot_history_writes_a_png(tmp_path):
    history = History({"loss": [1.0, 0.1, 0.001], "accuracy": [0.5, 0.9, 1.0],
                       "val_loss": [1.2, 0.3, 0.2], "val_accuracy": [0.4, 0.8, 0.9]})
    path = plotting.plot_history(history, tmp_path / "deeper" / "curves.png", title="t")
    assert path == tmp_path / "deeper" / "curves.png"
    width, height = png_size(path)
    assert width > 2 * height  # a loss panel and an accuracy panel side by side
    only_loss = plotting.plot_history(history, tmp_path / "loss.png", metrics=())
    assert png_size(only_loss)[0] < width
    with pytest.raises(ValueError, match="no 'f1'"):
        plotting.plot_history(history, tmp_path / "x.png", metrics=["f1"])


def test_plot_decision_boundary_binary_and_multiclass(tmp_path):
    model, _ = or_run(seed=0, rng=0, epochs=60)
    model.train()
    path = plotting.plot_decision_boundary(model, OR_X, OR_Y, tmp_path / "or.png",
                                           resolution=40, from_logits=True)
    assert png_size(path)[0] > 0
    assert model.training is True

    points = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    three = nn.MLP(2, [4], 3, rng=0)
    path = plotting.plot_decision_boundary(three, points, np.array([0, 1, 2, 1]),
                                           tmp_path / "three.png", resolution=30)
    assert png_size(path)[0] > 0
    with pytest.raises(ValueError, match=r"shape \(n, 2\), got \(4, 3\)"):
        plotting.plot_decision_boundary(three, np.zeros((4, 3)), np.zeros(4), tmp_path / "x.png")


def test_plot_confusion_matrix_writes_a_png(tmp_path):
    path = plotting.plot_confusion_matrix([0, 1, 2, 2], [0, 2, 2, 2], tmp_path / "cm.png",
                                          class_names=["a", "b", "c"])
    width, height = png_size(path)
    assert width > 0 and height > 0


def test_plot_filters_draws_a_grid_and_checks_the_shape(tmp_path):
    layer = nn.Conv2d(1, 10, 3, rng=0)
    path = plotting.plot_filters(layer.weights, tmp_path / "filters.png")
    width, height = png_size(path)
    assert width > height  # two rows of eight
    with pytest.raises(ValueError, match=r"\(out_channels, 1, kh, kw\), got \(4, 2, 3, 3\)"):
        plotting.plot_filters(np.zeros((4, 2, 3, 3)), tmp_path / "x.png")


def test_plotting_without_matplotlib_says_which_extra_to_install(monkeypatch, tmp_path):
    for name in ("matplotlib", "matplotlib.figure", "matplotlib.backends",
                 "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, name, None)
    # the module itself imports without matplotlib; only a drawing call needs it
    monkeypatch.setattr(nn, "plotting", plotting)  # put back after the test
    monkeypatch.delitem(sys.modules, "nn.plotting")
    fresh = importlib.import_module("nn.plotting")
    history = History({"loss": [1.0, 0.5]})
    calls = [
        lambda: fresh.plot_history(history, tmp_path / "a.png"),
        lambda: fresh.plot_confusion_matrix([0, 1], [0, 1], tmp_path / "b.png"),
        lambda: fresh.plot_decision_boundary(nn.MLP(2, [2], 1, rng=0), OR_X, OR_Y,
                                             tmp_path / "c.png"),
        lambda: fresh.plot_filters(np.zeros((2, 1, 3, 3)), tmp_path / "d.png"),
    ]
    for call in calls:
        with pytest.raises(ImportError) as caught:
            call()
        message = str(caught.value)
        assert 'pip install -e ".[examples]"' in message
        assert 'pip install "autograd_lite[examples]"' in message
    assert list(tmp_path.iterdir()) == []
