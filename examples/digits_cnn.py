"""A small convolutional network learns scikit-learn's 8x8 handwritten digits.

Two 3x3 convolutions find strokes and corners wherever they are in the image, max pooling
shrinks the maps, and one Dense layer reads the digit off the pooled features. The network
trains in seconds on a CPU and saves a picture of its first-layer filters. The test split is
the one ``examples/digits.py`` uses, so its accuracy compares directly with that MLP's; for a
like-for-like check this script also trains an MLP with its own training loop.

    python examples/digits_cnn.py            # full run; the picture goes to examples/out/
    python examples/digits_cnn.py --epochs 3 # a quick look
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np
from command_line import OUT_DIR  # examples/ is on sys.path when run
from digits import load_split

import nn
from nn.plotting import plot_filters


def load_digits(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``digits.py``'s stratified 80/20 split, each image as (1, 8, 8) in [0, 1], float32."""
    x_train, x_test, y_train, y_test = load_split(seed)
    return x_train.reshape(-1, 1, 8, 8), x_test.reshape(-1, 1, 8, 8), y_train, y_test


def make_cnn(rng: np.random.Generator) -> nn.Module:
    """8x8 → conv 3x3 (32 maps) → pool to 4x4 → conv 3x3 (64) → pool to 2x2 → 256 → 10."""
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1, rng=rng, dtype=np.float32),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1, rng=rng, dtype=np.float32),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Dropout(0.25, rng=rng),
        nn.Dense(256, 10, rng=rng, dtype=np.float32),
    )


def shift(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each image moved by up to one pixel in each direction, filling the edge with zeros.

    Handwriting is never centred exactly; this teaches the network that a digit one pixel
    to the left is still the same digit.
    """
    moved = np.zeros_like(images)
    padded = np.pad(images, ((0, 0), (0, 0), (1, 1), (1, 1)))
    offsets = rng.integers(0, 3, size=(len(images), 2))
    for dy in range(3):
        for dx in range(3):
            chosen = (offsets[:, 0] == dy) & (offsets[:, 1] == dx)
            moved[chosen] = padded[chosen, :, dy : dy + 8, dx : dx + 8]
    return moved


def train(
    model: nn.Module,
    images: np.ndarray,
    labels: np.ndarray,
    epochs: int,
    rng: np.random.Generator,
    lr: float = 3e-3,
    batch_size: int = 32,
    augment: bool = True,
) -> None:
    """Adam on minibatches, the learning rate falling linearly to a tenth over the run."""
    optimizer = nn.Adam(model.parameters(), lr=lr)
    steps = epochs * -(-len(images) // batch_size)
    step = 0
    model.train()
    for _ in range(epochs):
        order = rng.permutation(len(images))
        inputs = shift(images, rng) if augment else images
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            optimizer.lr = lr * (1 - 0.9 * step / steps)
            optimizer.zero_grad()
            nn.cross_entropy(model(inputs[batch]), labels[batch]).backward()
            optimizer.step()
            step += 1


def accuracy(model: nn.Module, images: np.ndarray, labels: np.ndarray) -> float:
    """The fraction of ``images`` whose highest score is the right digit, scored by
    ``nn.evaluate`` (eval mode, no_grad, one batch)."""
    scores = nn.evaluate(model, nn.cross_entropy, images, labels, metrics=["accuracy"],
                         batch_size=None)
    return scores["accuracy"]


def main(
    epochs: int = 40,
    out_dir: str | Path = OUT_DIR,
    seed: int = 0,
    compare_mlp: bool = True,
    verbose: bool = True,
) -> dict[str, Any]:
    """Train the CNN (and, for comparison, an MLP) and plot the filters.

    Returns ``test_accuracy``, ``train_accuracy``, ``seconds`` (CNN training time),
    ``mlp_test_accuracy`` (None without ``compare_mlp``) and ``filters_path``.
    """
    from threadpoolctl import threadpool_limits  # installed with scikit-learn

    train_images, test_images, train_labels, test_labels = load_digits(seed)
    rng = np.random.default_rng(seed)
    model = make_cnn(rng)
    started = time.perf_counter()
    # NOTE: the matrices of a 32-image batch are small, so a second BLAS thread gains little,
    # and when other programs keep the cores busy its waiting makes training several times
    # slower. One thread is the robust choice here.
    with threadpool_limits(limits=1, user_api="blas"):
        train(model, train_images, train_labels, epochs, rng)
    seconds = time.perf_counter() - started
    result: dict[str, Any] = {
        "test_accuracy": accuracy(model, test_images, test_labels),
        "train_accuracy": accuracy(model, train_images, train_labels),
        "seconds": seconds,
        "mlp_test_accuracy": None,
    }
    if verbose:
        print(
            f"CNN: {result['test_accuracy']:.2%} test accuracy after {epochs} epochs "
            f"({seconds:.1f} s, train accuracy {result['train_accuracy']:.2%})"
        )
    if compare_mlp:
        mlp = nn.MLP(64, [128], 10, rng=rng, dtype=np.float32)
        flat_train = train_images.reshape(len(train_images), 64)
        train(mlp, flat_train, train_labels, epochs, rng, augment=False)
        flat_test = test_images.reshape(len(test_images), 64)
        result["mlp_test_accuracy"] = accuracy(mlp, flat_test, test_labels)
        if verbose:
            print(f"MLP 64→128→10, same training: {result['mlp_test_accuracy']:.2%} test accuracy")
    first_filters = dict(model.named_parameters())["0.weights"].data
    result["filters_path"] = plot_filters(
        first_filters, Path(out_dir) / "digits_cnn_filters.png",
        title="First-layer 3x3 filters (red: positive weight, blue: negative)",
    )
    if verbose:
        print(f"first-layer filters: {result['filters_path']}")
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--out-dir", type=Path, default=OUT_DIR)
    parser.add_argument("--seed", type=int, default=0)
    arguments = parser.parse_args()
    main(epochs=arguments.epochs, out_dir=arguments.out_dir, seed=arguments.seed)
