"""examples/names.py: a quick run trains the three models, scores them, samples names, draws
the loss curves and saves a GPT that reloads to the same score."""

from __future__ import annotations

import math
import re
from importlib import metadata
from pathlib import Path

import pytest
from test_tour_examples import is_png, load


def names_package_or_skip() -> None:
    # Looked up as a distribution: once examples/ is on sys.path, ``import names`` would find
    # the example itself.
    try:
        metadata.distribution("names")
    except metadata.PackageNotFoundError:
        pytest.skip("the 'names' package (the census surname list) is not installed: "
                    "pip install -e '.[examples]'")


def test_a_quick_run_scores_samples_plots_and_saves(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    names_package_or_skip()
    example = load("names")
    result = example.main(tmp_path, quick=True, progress=False)

    last = capsys.readouterr().out.rstrip("\n").splitlines()[-3:]
    scores = result["scores"]
    assert last == [f"{name}: {scores[name]:.4f} nats/char" for name in ("bigram", "mlp", "gpt")]
    for line in last:
        assert re.fullmatch(r"(bigram|mlp|gpt): \d\.\d{4} nats/char", line)
    for score in scores.values():
        assert math.isfinite(score) and 0 < score < math.log(27)  # better than uniform guessing

    assert set(result["samples"]) == {"bigram", "mlp", "gpt"}
    for drawn in result["samples"].values():
        assert len(drawn) == 20
        assert all(re.fullmatch(r"[a-z]{0,16}", name) for name in drawn)

    assert result["model_path"] == tmp_path / "names_gpt.npz"
    assert result["reloaded_score"] == scores["gpt"]
    assert result["curve_path"] == tmp_path / "names_losses.png" and is_png(result["curve_path"])


def test_the_split_is_fixed_and_covers_every_name_once() -> None:
    names_package_or_skip()
    example = load("names")
    words = example.load_surnames()
    assert len(words) == 88_799 and words[0] == "smith"
    train, held_out = example.split_names(words, seed=0)
    assert len(held_out) == 8_880 and sorted(train + held_out) == sorted(words)
    assert example.split_names(words, seed=0) == (train, held_out)


def test_sequences_score_every_letter_and_the_end_token() -> None:
    example = load("names")
    inputs, targets = example.sequences(["ab", "c"])
    assert inputs.tolist() == [[0, 1, 2], [0, 3, 0]]
    assert targets.tolist() == [[1, 2, 0], [3, 0, -1]]
    contexts, following = example.windows(["ab"], 3)
    assert contexts.tolist() == [[0, 0, 0], [0, 0, 1], [0, 1, 2]]
    assert following.tolist() == [1, 2, 0]
