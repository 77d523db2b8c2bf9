"""Real data: an MLP reads scikit-learn's bundled 8×8 handwritten digits.

The 1,797 images ship inside scikit-learn (no download). They are split 80/20 into training
and test sets with a fixed seed (stratified, the same split as ``digits_cnn.py``); each of the
64 pixels is centred on its training mean and divided by its training spread (plus 0.1, so
pixels that hardly vary are not blown up). An MLP 64 → 128 → 64 → 10 with ReLU gives ten
scores per image, and ``nn.fit`` trains it with Adam on ``cross_entropy`` in shuffled batches
of 32, scoring the test set after every epoch. It prints the test accuracy and writes the
learning curves and the test set's confusion matrix.

    python examples/digits.py [output_dir] [--epochs N]      (default: examples/out/, 40)
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
from command_line import OUT_DIR, parse_arguments  # examples/ is on sys.path when run

import autograd_lite as ag
import nn
from nn.plotting import plot_confusion_matrix, plot_history
from nn.training import predicted_classes

SEED = 0


def load_split(seed: int = SEED) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(x_train, x_test, y_train, y_test)``: pixels in [0, 1] as float32 rows of 64, labels
    0-9; a stratified 80/20 split."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    pixels = (digits.data / 16.0).astype(np.float32)
    x_train, x_test, y_train, y_test = train_test_split(
        pixels, digits.target, test_size=0.2, stratify=digits.target, random_state=seed
    )
    return x_train, x_test, y_train, y_test


def standardize(
    x_train: np.ndarray, x_test: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """z = (x - mean) / (std + 0.1), with mean and std per pixel from the training set only."""
    mean = x_train.mean(axis=0)
    spread = x_train.std(axis=0) + 0.1
    return ((x_train - mean) / spread).astype(np.float32), ((x_test - mean) / spread).astype(
        np.float32
    )


def main(
    output_dir: str | Path | None = None,
    epochs: int = 40,
    progress: bool = True,
    seed: int = SEED,
) -> dict[str, Any]:
    """Load, train, score and draw; print and return the numbers."""
    folder = Path(output_dir) if output_dir is not None else OUT_DIR
    x_train, x_test, y_train, y_test = load_split(seed)
    x_train, x_test = standardize(x_train, x_test)
    print(f"digits: {len(x_train)} training and {len(x_test)} test images of 8×8 pixels")

    started = time.perf_counter()
    model = nn.MLP(64, [128, 64], 10, rng=seed, dtype=np.float32)
    optimizer = nn.Adam(model.parameters(), lr=1e-3)
    history = nn.fit(
        model, nn.cross_entropy, optimizer, x_train, y_train, epochs=epochs, batch_size=32,
        rng=seed, metrics=["accuracy"], validation_data=(x_test, y_test), progress=progress,
    )
    seconds = time.perf_counter() - started
    test = nn.evaluate(model, nn.cross_entropy, x_test, y_test, metrics=["accuracy"])
    train = nn.evaluate(model, nn.cross_entropy, x_train, y_train, metrics=["accuracy"])
    with ag.no_grad():
        predicted = predicted_classes(model(x_test))
    correct = int(np.sum(predicted == y_test))

    print(f"MLP 64→128→64→10, Adam (lr 0.001), batches of 32, {epochs} epochs in {seconds:.1f} s")
    print(f"  training loss {train['loss']:.4f}  accuracy {train['accuracy']:7.2%}")
    print(f"  test     loss {test['loss']:.4f}  accuracy {test['accuracy']:7.2%}"
          f"  ({correct} of {len(y_test)} right)")
    written = [
        plot_history(history, folder / "digits_learning_curves.png",
                     title="Digits: MLP 64→128→64→10, loss and accuracy per epoch",
                     validation_label="test set"),
        plot_confusion_matrix(y_test, predicted, folder / "digits_confusion.png",
                              title="Digits: test set confusion matrix"),
    ]
    for path in written:
        print(f"  wrote {path}")
    return {
        "test_accuracy": test["accuracy"],
        "train_accuracy": train["accuracy"],
        "test_loss": test["loss"],
        "correct": correct,
        "test_size": len(y_test),
        "seconds": seconds,
        "history": history,
        "pictures": written,
    }


if __name__ == "__main__":
    arguments = parse_arguments(__doc__.splitlines()[0], epochs=40)
    main(arguments.output_dir, epochs=arguments.epochs, progress=arguments.progress)
