"""examples/digits_cnn.py: a short run learns the digits and draws its filters."""

from __future__ import annotations

import time
from pathlib import Path

import matplotlib.image
from test_tour_examples import load


def test_a_short_run_learns_the_digits_and_saves_the_filters(tmp_path: Path) -> None:
    example = load("digits_cnn")
    untrained = example.main(
        epochs=0, out_dir=tmp_path / "untrained", compare_mlp=False, verbose=False
    )
    assert untrained["test_accuracy"] < 0.3  # ten classes: chance is about 0.1

    started = time.perf_counter()
    result = example.main(epochs=6, out_dir=tmp_path, verbose=False)
    assert time.perf_counter() - started < 20
    assert result["test_accuracy"] > 0.93
    assert result["train_accuracy"] > 0.9
    assert 0 < result["mlp_test_accuracy"] <= 1
    path = result["filters_path"]
    assert path == tmp_path / "digits_cnn_filters.png"
    picture = matplotlib.image.imread(path)
    assert picture.ndim == 3 and picture.shape[0] > 100 and picture.shape[1] > 100
