"""Two moons: micrograd's classic demo, a small MLP learning a curved boundary.

Two interleaving half circles of 2-D points, made with NumPy (no scikit-learn needed), one
class each. An MLP 2 → 16 → 16 → 1 with ReLU gives a logit per point; ``nn.fit`` trains it
with Adam on ``binary_cross_entropy_with_logits`` in shuffled mini-batches until every
training point is on its side of the boundary, and scores it each epoch on 200 fresh points
from the same moons (validation). It writes two pictures: the decision boundary over the plane
and the loss and accuracy per epoch.

    python examples/moons.py [output_dir]      (default: examples/out/)
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
from command_line import OUT_DIR, parse_arguments  # examples/ is on sys.path when run

import nn
from nn.plotting import plot_decision_boundary, plot_history


def make_moons(
    n_samples: int = 100, noise: float = 0.1, rng: int | np.random.Generator | None = 0
) -> tuple[np.ndarray, np.ndarray]:
    """``n_samples`` points on two interleaving half circles, with Gaussian ``noise``.

    Class 0 lies on the upper arc (cos t, sin t), class 1 on the lower arc
    (1 - cos t, 1/2 - sin t), for t evenly spaced in [0, π] (scikit-learn's ``make_moons``).
    Returns ``x`` of shape (n, 2) and 0/1 labels ``y`` of shape (n,), in shuffled order.
    """
    generator = np.random.default_rng(rng)  # a Generator comes back as it is
    upper = n_samples // 2
    lower = n_samples - upper
    t_upper = np.linspace(0, np.pi, upper)
    t_lower = np.linspace(0, np.pi, lower)
    x = np.concatenate([
        np.column_stack([np.cos(t_upper), np.sin(t_upper)]),
        np.column_stack([1 - np.cos(t_lower), 0.5 - np.sin(t_lower)]),
    ])
    y = np.concatenate([np.zeros(upper), np.ones(lower)])
    x += generator.normal(scale=noise, size=x.shape)
    order = generator.permutation(n_samples)
    return x[order], y[order]


def train(
    x: np.ndarray,
    y: np.ndarray,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
    epochs: int = 100,
    lr: float = 0.02,
    seed: int = 0,
    progress: bool = True,
) -> tuple[nn.Module, nn.History]:
    """An MLP 2 → 16 → 16 → 1 (ReLU) trained by ``nn.fit`` with Adam, batches of 10.

    The loss is binary cross-entropy on the logit z: -(y log σ(z) + (1 - y) log(1 - σ(z))).
    """
    model = nn.MLP(2, [16, 16], 1, rng=seed)
    optimizer = nn.Adam(model.parameters(), lr=lr)
    validation_data = None
    if validation is not None:
        validation_data = (validation[0], validation[1].reshape(-1, 1))
    history = nn.fit(
        model, nn.binary_cross_entropy_with_logits, optimizer, x, y.reshape(-1, 1),
        epochs=epochs, batch_size=10, rng=seed, metrics=["accuracy"],
        validation_data=validation_data, progress=progress,
    )
    return model, history


def pictures(
    model: nn.Module, history: nn.History, x: np.ndarray, y: np.ndarray, folder: Path,
    accuracy: float,
) -> list[Path]:
    """Write ``moons_boundary.png`` and ``moons_loss.png`` into ``folder``."""
    return [
        plot_decision_boundary(
            model, x, y, folder / "moons_boundary.png",
            title=f"Two moons: MLP 2→16→16→1, training accuracy {accuracy:.0%}",
            from_logits=True,
        ),
        plot_history(history, folder / "moons_loss.png",
                     title="Two moons: binary cross-entropy and accuracy per epoch",
                     validation_label="200 fresh points"),
    ]


def main(
    output_dir: str | Path | None = None,
    epochs: int = 100,
    n_samples: int = 100,
    progress: bool = True,
) -> dict[str, Any]:
    """Make the moons, train, write the two pictures; print and return the numbers."""
    folder = Path(output_dir) if output_dir is not None else OUT_DIR
    x, y = make_moons(n_samples, noise=0.1, rng=0)
    fresh = make_moons(200, noise=0.1, rng=1)
    started = time.perf_counter()
    model, history = train(x, y, fresh, epochs=epochs, progress=progress)
    seconds = time.perf_counter() - started
    scores = nn.evaluate(model, nn.binary_cross_entropy_with_logits, x, y.reshape(-1, 1),
                         metrics=["accuracy"])
    print(f"two moons: {n_samples} points, MLP 2→16→16→1, Adam, {epochs} epochs "
          f"in {seconds:.1f} s")
    print(f"  training   loss {scores['loss']:.4f}  accuracy {scores['accuracy']:7.1%}")
    print(f"  200 fresh  loss {history['val_loss'][-1]:.4f}  accuracy "
          f"{history['val_accuracy'][-1]:7.1%}")
    written = pictures(model, history, x, y, folder, scores["accuracy"])
    for path in written:
        print(f"  wrote {path}")
    return {
        "accuracy": scores["accuracy"],
        "loss": scores["loss"],
        "validation_accuracy": history["val_accuracy"][-1],
        "history": history,
        "seconds": seconds,
        "pictures": written,
        "model": model,
        "x": x,
        "y": y,
    }


if __name__ == "__main__":
    arguments = parse_arguments(__doc__.splitlines()[0], epochs=100)
    main(arguments.output_dir, epochs=arguments.epochs, progress=arguments.progress)
