"""Serve the digits CNN with ONNX Runtime: export it, then check both give the same answers.

Trains the convolutional network of ``digits_cnn.py`` for a few epochs, writes it to
``digits_cnn.onnx`` with ``nn.export_onnx`` (the recorded graph translated operation by
operation; the weights keep their ``state_dict`` names), loads the file in ONNX Runtime, and
scores the 360 test images both ways: the same accuracy, and scores equal to float32 rounding.
ONNX Runtime needs neither autograd_lite nor Python to serve the file.

    python examples/export_onnx.py [output_dir] [--epochs N]      (default: examples/out/, 6)
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
from command_line import OUT_DIR, parse_arguments  # examples/ is on sys.path when run
from digits_cnn import accuracy, load_digits, make_cnn, train

import autograd_lite as ag
import nn


def main(
    output_dir: str | Path | None = None, epochs: int = 6, seed: int = 0, verbose: bool = True
) -> dict[str, Any]:
    """Train, export, serve and compare. Returns ``path`` (the file), ``accuracy`` and
    ``runtime_accuracy`` (ours and ONNX Runtime's on the test images) and
    ``largest_difference`` (the largest gap between the two sets of scores)."""
    try:
        import onnxruntime
    except ImportError:
        raise SystemExit(
            'This example serves the model with ONNX Runtime: pip install -e ".[onnx]"'
        ) from None
    from threadpoolctl import threadpool_limits  # installed with scikit-learn

    folder = Path(output_dir) if output_dir is not None else OUT_DIR
    folder.mkdir(parents=True, exist_ok=True)
    train_images, test_images, train_labels, test_labels = load_digits(seed)
    rng = np.random.default_rng(seed)
    model = make_cnn(rng)
    started = time.perf_counter()
    with threadpool_limits(limits=1, user_api="blas"):  # small batches: see digits_cnn.py
        train(model, train_images, train_labels, epochs, rng)
    trained = time.perf_counter() - started

    path = nn.export_onnx(model, test_images[:1], folder / "digits_cnn.onnx")
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    model.eval()
    with ag.no_grad():
        scores = model(test_images).data
    (runtime_scores,) = session.run(None, {"input": test_images})
    result = {
        "path": path,
        "accuracy": accuracy(model, test_images, test_labels),
        "runtime_accuracy": float(np.mean(runtime_scores.argmax(axis=1) == test_labels)),
        "largest_difference": float(np.abs(runtime_scores - scores).max()),
    }
    if verbose:
        print(f"trained {epochs} epochs in {trained:.1f} s; exported to {path} "
              f"({path.stat().st_size / 1024:.0f} KiB, input shape "
              f"{session.get_inputs()[0].shape})")
        print(f"test accuracy, autograd_lite: {result['accuracy']:.2%}")
        print(f"test accuracy, ONNX Runtime:  {result['runtime_accuracy']:.2%}")
        print(f"largest difference between the {scores.size} scores: "
              f"{result['largest_difference']:.2g} (largest score {np.abs(scores).max():.1f})")
    return result


if __name__ == "__main__":
    arguments = parse_arguments(__doc__.splitlines()[0], epochs=6)
    main(arguments.output_dir, epochs=arguments.epochs)
