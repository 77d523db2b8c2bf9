"""Three character-level language models of US surnames: bigram counts, an MLP and a small GPT.

Data: the 88,799 surnames of the 1990 US census that the ``names`` package on PyPI ships
(``pip install names``; its file ``dist.all.last``, first column, lower-cased; nothing is
downloaded at run time), split 90/10 into training and held-out names by a seeded shuffle.

Each model predicts a name one character at a time, from a start token to an end token (both
written "."). The score is the average negative log-likelihood, in nats per character, over the
held-out names: a name of n letters counts n + 1 predictions (its n letters and the end token),
and the total over all held-out names is divided by the total number of predictions. Lower is
better; guessing uniformly among the 27 tokens scores ln 27 ≈ 3.30.

1. **Bigram**: P(next | previous) from counts over the training names, add-one smoothed.
2. **MLP** (Bengio et al., 2003): the embeddings of the previous 3 characters, concatenated,
   through a tanh hidden layer to the logits of the next character.
3. **GPT**: token and position embeddings, 2 blocks of LayerNorm → causal self-attention →
   LayerNorm → MLP with GELU (each with a residual connection), a last LayerNorm and a linear
   head; it reads the whole name so far (up to 16 tokens) and is trained on every position.

The script prints the three scores, 20 names sampled from each model (temperature 1, seeded;
a * marks a real surname from the training names), draws the loss curves and saves the GPT.

    python examples/names.py [output_dir]     # full run, under 5 minutes on one core
    python examples/names.py --quick          # a few hundred names and a few steps
"""

from __future__ import annotations

import argparse
import math
import string
import time
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from command_line import OUT_DIR  # examples/ is on sys.path when run

import autograd_lite as ag
import nn

BOUNDARY = 0
"""The token that starts and ends every name; the letters a-z are tokens 1-26."""
ALPHABET = "." + string.ascii_lowercase
VOCABULARY = len(ALPHABET)
CONTEXT = 16
"""The GPT reads at most this many tokens: the start token and up to 15 letters."""
DTYPE = np.float32
NextProbabilities = Callable[[np.ndarray], np.ndarray]


# --- data ------------------------------------------------------------------------------------
def load_surnames() -> list[str]:
    """The census surnames shipped in the ``names`` package, lower-cased, in file order.

    NOTE: the file is found through the installed distribution, not ``import names``: run as
    a script, this file is itself the module ``names`` first on the path.
    """
    try:
        distribution = metadata.distribution("names")
    except metadata.PackageNotFoundError:
        raise ModuleNotFoundError(
            "examples/names.py reads the surname list of the 'names' package: "
            "pip install names  (or pip install -e '.[examples]')"
        ) from None
    path = Path(str(distribution.locate_file("names/dist.all.last")))
    with open(path, encoding="ascii") as lines:
        return [line.split()[0].lower() for line in lines if line.strip()]


def split_names(
    words: list[str], seed: int = 0, held_out: float = 0.1
) -> tuple[list[str], list[str]]:
    """A seeded shuffle cut into training names and the last ``held_out`` fraction."""
    order = np.random.default_rng(seed).permutation(len(words))
    cut = len(words) - round(held_out * len(words))
    return [words[i] for i in order[:cut]], [words[i] for i in order[cut:]]


def encode(word: str) -> list[int]:
    return [ALPHABET.index(letter) for letter in word]


def decode(tokens: Any) -> str:
    return "".join(ALPHABET[token] for token in tokens)


def sequences(words: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Inputs ``[., c1, ..., cn]`` and targets ``[c1, ..., cn, .]``, one row per name, padded to
    the longest name; padded targets are -1 (they are not predictions and are never scored)."""
    length = max(len(word) for word in words) + 1
    inputs = np.full((len(words), length), BOUNDARY, dtype=np.intp)
    targets = np.full((len(words), length), -1, dtype=np.intp)
    for row, word in enumerate(words):
        tokens = encode(word)
        inputs[row, 1 : len(tokens) + 1] = tokens
        targets[row, : len(tokens)] = tokens
        targets[row, len(tokens)] = BOUNDARY
    return inputs, targets


def windows(words: list[str], size: int) -> tuple[np.ndarray, np.ndarray]:
    """Every prediction as (the ``size`` tokens before it, padded with ".", the token)."""
    inputs, targets = sequences(words)
    padded = np.concatenate(
        [np.full((len(words), size - 1), BOUNDARY, dtype=np.intp), inputs], axis=1
    )
    rows, positions = np.nonzero(targets >= 0)
    offsets = np.arange(size)
    return padded[rows[:, None], positions[:, None] + offsets], targets[rows, positions]


def sample_names(
    next_probabilities: NextProbabilities, count: int, rng: np.random.Generator
) -> list[str]:
    """``count`` names drawn token by token at temperature 1 (from the model's probabilities
    as they are) until the end token; a name that reaches 16 letters is cut there."""
    prefixes = np.full((count, 1), BOUNDARY, dtype=np.intp)
    finished = np.zeros(count, dtype=bool)
    while not finished.all() and prefixes.shape[1] <= CONTEXT:
        probabilities = next_probabilities(prefixes)
        cumulative = np.cumsum(probabilities, axis=1)
        draws = rng.random((count, 1)) * cumulative[:, -1:]
        tokens = np.minimum((cumulative < draws).sum(axis=1), VOCABULARY - 1)
        tokens[finished] = BOUNDARY
        prefixes = np.concatenate([prefixes, tokens[:, None]], axis=1)
        finished |= tokens == BOUNDARY
    return [decode(row[1:]).split(".")[0] for row in prefixes]


# --- the bigram model ------------------------------------------------------------------------
class Bigram:
    """P(b | a) = (count(a b) + α) / (count(a ·) + 27 α) over the training names' pairs."""

    def __init__(self, words: list[str], smoothing: float = 1.0) -> None:
        inputs, targets = sequences(words)
        scored = targets >= 0
        counts = np.zeros((VOCABULARY, VOCABULARY))
        np.add.at(counts, (inputs[scored], targets[scored]), 1)
        counts += smoothing
        self.probabilities = counts / counts.sum(axis=1, keepdims=True)

    def nats_per_character(self, words: list[str]) -> float:
        inputs, targets = sequences(words)
        scored = targets >= 0
        return float(-np.log(self.probabilities[inputs[scored], targets[scored]]).mean())

    def next_probabilities(self, prefixes: np.ndarray) -> np.ndarray:
        return self.probabilities[prefixes[:, -1]]


# --- the MLP ---------------------------------------------------------------------------------
class CharacterMLP(nn.Module):
    """Bengio et al.'s model: logits = Dense(tanh(Dense(concat(E[c₋₃], E[c₋₂], E[c₋₁])))).

    Input: (batch, 3) token ids; output: (batch, 27) logits of the next token.
    """

    def __init__(
        self, rng: np.random.Generator, context: int = 3, embedding_dim: int = 16,
        hidden: int = 256,
    ) -> None:
        super().__init__()
        self.context = context
        self.embedding = nn.Embedding(VOCABULARY, embedding_dim, rng=rng, dtype=DTYPE)
        self.hidden = nn.Dense(
            context * embedding_dim, hidden, activation="tanh", rng=rng, dtype=DTYPE
        )
        self.output = nn.Dense(hidden, VOCABULARY, rng=rng, dtype=DTYPE)

    def forward(self, contexts: np.ndarray) -> ag.Tensor:
        vectors = self.embedding(contexts).reshape(len(contexts), -1)
        return self.output(self.hidden(vectors))

    def next_probabilities(self, prefixes: np.ndarray) -> np.ndarray:
        padding = np.full((len(prefixes), self.context), BOUNDARY, dtype=np.intp)
        contexts = np.concatenate([padding, prefixes], axis=1)[:, -self.context :]
        with ag.no_grad():
            return ag.softmax(self(contexts), axis=1).data

    def nats_per_character(self, words: list[str]) -> float:
        contexts, targets = windows(words, self.context)
        with ag.no_grad():
            total = sum(
                nn.cross_entropy(self(contexts[part]), targets[part], reduction="sum").item()
                for part in _slices(len(targets), 8192)
            )
        return total / len(targets)


# --- the GPT ---------------------------------------------------------------------------------
class Block(nn.Module):
    """GPT-2's pre-norm block: x ← x + attention(norm(x)), then x ← x + mlp(norm(x)).

    The MLP is width → 4·width (GELU) → width, applied to every position on its own.
    """

    def __init__(self, width: int, heads: int, rng: np.random.Generator) -> None:
        super().__init__()
        self.attention_norm = nn.LayerNorm(width, dtype=DTYPE)
        self.attention = nn.SelfAttention(width, heads, rng=rng, dtype=DTYPE)
        self.mlp_norm = nn.LayerNorm(width, dtype=DTYPE)
        self.mlp = nn.MLP(width, [4 * width], width, activation="gelu", rng=rng, dtype=DTYPE)

    def forward(self, x: ag.Tensor) -> ag.Tensor:
        batch, time, width = x.shape
        x = x + self.attention(self.attention_norm(x))
        # The MLP sees (batch * time, width) rows: a 2-D product is the fast one.
        flat = self.mlp_norm(x).reshape(batch * time, width)
        return x + self.mlp(flat).reshape(batch, time, width)


class GPT(nn.Module):
    """Token + position embeddings → blocks → LayerNorm → logits for every position.

    Input: (batch, time) token ids, time ≤ 16; output: (batch * time, 27) logits, row
    ``b * time + t`` predicting the token after position t of name b.
    """

    def __init__(
        self, rng: np.random.Generator, width: int = 64, heads: int = 4, layers: int = 2
    ) -> None:
        super().__init__()
        self.token_embedding = nn.Embedding(VOCABULARY, width, rng=rng, dtype=DTYPE)
        self.position_embedding = nn.Embedding(CONTEXT, width, rng=rng, dtype=DTYPE)
        self.blocks = nn.Sequential(*[Block(width, heads, rng) for _ in range(layers)])
        self.final_norm = nn.LayerNorm(width, dtype=DTYPE)
        self.head = nn.Dense(width, VOCABULARY, rng=rng, dtype=DTYPE)

    def forward(self, tokens: np.ndarray) -> ag.Tensor:
        batch, time = tokens.shape
        x = self.token_embedding(tokens) + self.position_embedding(np.arange(time))
        x = self.final_norm(self.blocks(x))
        return self.head(x.reshape(batch * time, -1))

    def next_probabilities(self, prefixes: np.ndarray) -> np.ndarray:
        with ag.no_grad():
            logits = self(prefixes).reshape(len(prefixes), prefixes.shape[1], VOCABULARY)
            return ag.softmax(logits[:, -1], axis=1).data

    def nats_per_character(self, words: list[str]) -> float:
        inputs, targets = sequences(words)
        total = 0.0
        with ag.no_grad():
            for part in _slices(len(words), 1024):
                logits = self(inputs[part])
                flat = targets[part].reshape(-1)
                scored = np.flatnonzero(flat >= 0)
                total += nn.cross_entropy(logits[scored], flat[scored], reduction="sum").item()
        return total / int((targets >= 0).sum())


def _slices(count: int, size: int) -> Iterator[slice]:
    return (slice(start, start + size) for start in range(0, count, size))


# --- training --------------------------------------------------------------------------------
def train(
    model: nn.Module,
    batches: Callable[[np.random.Generator], tuple[np.ndarray, np.ndarray]],
    steps: int,
    lr: float,
    rng: np.random.Generator,
    name: str,
    progress: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Adam on ``steps`` batches drawn by ``batches(rng)``, the learning rate falling as a
    cosine from ``lr`` to lr / 10. Returns each step's loss and its seconds since the start.

    A batch is (tokens, targets); targets of -1 are padding, left out of the cross-entropy,
    which is the mean over the remaining predictions of the flattened (rows, 27) logits.
    """
    optimizer = nn.Adam(model.parameters(), lr=lr)
    losses = np.empty(steps)
    seconds = np.empty(steps)
    bar = _progress_bar(steps, name, progress)
    started = time.perf_counter()
    for step in range(steps):
        optimizer.lr = lr * (0.55 + 0.45 * math.cos(math.pi * step / steps))
        tokens, targets = batches(rng)
        flat = targets.reshape(-1)
        scored = np.flatnonzero(flat >= 0)
        optimizer.zero_grad()
        logits = model(tokens)
        loss = nn.cross_entropy(logits if len(scored) == len(flat) else logits[scored],
                                flat[scored])
        loss.backward()
        optimizer.step()
        losses[step] = loss.item()
        seconds[step] = time.perf_counter() - started
        if bar is not None:
            bar.update()
            if step % 50 == 0:
                bar.set_postfix(loss=f"{losses[max(0, step - 49) : step + 1].mean():.3f}")
    if bar is not None:
        bar.close()
    return losses, seconds


def _progress_bar(total: int, name: str, enabled: bool) -> Any:
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc=f"{name:>4}", unit="step", leave=True)


def window_batches(
    contexts: np.ndarray, targets: np.ndarray, size: int
) -> Callable[[np.random.Generator], tuple[np.ndarray, np.ndarray]]:
    """Batches of ``size`` (context, next token) pairs drawn at random."""

    def draw(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        rows = rng.integers(0, len(targets), size)
        return contexts[rows], targets[rows]

    return draw


def name_batches(
    words: list[str], size: int
) -> Callable[[np.random.Generator], tuple[np.ndarray, np.ndarray]]:
    """Batches of ``size`` whole names drawn at random, cut to the longest name drawn."""
    inputs, targets = sequences(words)
    lengths = (targets >= 0).sum(axis=1)

    def draw(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        rows = rng.integers(0, len(words), size)
        time = int(lengths[rows].max())
        return inputs[rows, :time], targets[rows, :time]

    return draw


def plot_losses(
    curves: dict[str, tuple[np.ndarray, np.ndarray]], scores: dict[str, float], path: Path
) -> Path:
    """Training loss (a running mean) against training time, held-out scores as lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(8, 5))
    colors = {"bigram": "tab:gray", "mlp": "tab:blue", "gpt": "tab:red"}
    for name, (losses, seconds) in curves.items():
        window = max(1, len(losses) // 100)
        smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
        axes.plot(seconds[window - 1 :], smooth, color=colors[name], label=f"{name}: training")
    for name, score in scores.items():
        axes.axhline(score, color=colors[name], linestyle="--",
                     label=f"{name}: held out, {score:.4f}")
    axes.set_xlabel("training time (s)")
    axes.set_ylabel("nats per character")
    axes.set_ylim(1.8, 3.0)
    axes.set_title("Surnames, one character at a time")
    axes.legend()
    figure.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(figure)
    return path


# --- the whole run ---------------------------------------------------------------------------
def main(
    output_dir: str | Path = OUT_DIR, quick: bool = False, seed: int = 0, progress: bool = True
) -> dict[str, Any]:
    """Train and score the three models; print samples; draw the curves; save the GPT.

    ``quick``: 500 names, a few dozen steps (a check that everything runs, not a result).
    Returns ``scores`` (model → nats/char), ``samples`` (model → names), ``curve_path``,
    ``model_path`` and ``reloaded_score``.
    """
    from threadpoolctl import threadpool_limits  # installed with scikit-learn

    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    words = load_surnames()
    if quick:
        words = words[:500]
    train_words, test_words = split_names(words, seed)
    known = set(train_words)
    rng = np.random.default_rng(seed)
    print(f"{len(words):,} surnames: {len(train_words):,} to train on, "
          f"{len(test_words):,} held out")

    bigram = Bigram(train_words)
    scores = {"bigram": bigram.nats_per_character(test_words)}
    models: dict[str, Any] = {"bigram": bigram}
    curves: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    # NOTE: these matrices are small, so a second BLAS thread gains little, and on a busy
    # machine its waiting slows training down several times (see examples/digits_cnn.py).
    with threadpool_limits(limits=1, user_api="blas"):
        mlp = CharacterMLP(rng)
        contexts, targets = windows(train_words, mlp.context)
        curves["mlp"] = train(mlp, window_batches(contexts, targets, 256),
                              40 if quick else 30000, 3e-3, rng, "mlp", progress)
        scores["mlp"] = mlp.nats_per_character(test_words)
        models["mlp"] = mlp

        gpt = GPT(rng)
        curves["gpt"] = train(gpt, name_batches(train_words, 32), 40 if quick else 14000,
                              3e-3, rng, "gpt", progress)
        scores["gpt"] = gpt.nats_per_character(test_words)
        models["gpt"] = gpt

        model_path = gpt.save(output_dir / "names_gpt.npz")
        reloaded = GPT(np.random.default_rng(seed + 1)).load(model_path)
        reloaded_score = reloaded.nats_per_character(test_words)  # type: ignore[attr-defined]

        samples = {
            name: sample_names(model.next_probabilities, 20, np.random.default_rng(seed))
            for name, model in models.items()
        }
    curve_path = plot_losses(curves, scores, output_dir / "names_losses.png")

    print(f"\nGPT saved to {model_path}; reloaded, it scores {reloaded_score:.4f} nats/char "
          f"({'the same' if reloaded_score == scores['gpt'] else 'DIFFERENT'})")
    print(f"loss curves: {curve_path}")
    print("\n20 names sampled from each model (* = a real surname the model trained on):")
    for name, drawn in samples.items():
        marked = [f"{word}*" if word in known else word or '""' for word in drawn]
        print(f"  {name:>6}: " + ", ".join(marked))
    print("\nheld-out names, nats per character (letters and end token; lower is better):")
    for name, score in scores.items():
        print(f"{name}: {score:.4f} nats/char")
    return {"scores": scores, "samples": samples, "curve_path": curve_path,
            "model_path": model_path, "reloaded_score": reloaded_score}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output_dir", nargs="?", type=Path, default=OUT_DIR,
                        help=f"folder for the picture and the saved GPT (default: {OUT_DIR})")
    parser.add_argument("--quick", action="store_true",
                        help="500 names and a few dozen steps: checks that everything runs")
    parser.add_argument("--seed", type=int, default=0, help="the split, weights and samples")
    parser.add_argument("--no-progress", dest="progress", action="store_false",
                        help="hide the training progress bars")
    arguments = parser.parse_args()
    main(arguments.output_dir, quick=arguments.quick, seed=arguments.seed,
         progress=arguments.progress)
