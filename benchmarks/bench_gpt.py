"""A small GPT's training step: embeddings, 2 pre-norm blocks (LayerNorm, causal multi-head
self-attention, LayerNorm, GELU MLP, residuals), a last LayerNorm, a linear head,
cross-entropy over every position, SGD.

The model is ``examples/names.py``'s: 27 tokens, context 16, width 64, 4 heads, batch 32,
float32. The target is a ratio to PyTorch CPU at the same thread count (≤ 1.5×). The baseline is
the same math by hand in NumPy, forward and analytic backward; every contender starts from the
same weights, named as the ``nn`` model's ``state_dict`` names them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmarks.harness import Case, Contender, Gradients, HandWrittenSGD, Settings

LEARNING_RATE = 0.01
EPS = 1e-5  # LayerNorm's, as PyTorch's default
GELU_SCALE = math.sqrt(2 / math.pi)
TOLERANCES = {"rtol": 2e-3, "atol": 2e-5}  # float32 through ~40 operations, in another order


@dataclass
class Sizes:
    """Batch, context (time), width, heads, blocks and vocabulary."""

    batch: int
    time: int
    width: int
    heads: int
    layers: int
    vocabulary: int = 27


def full_sizes() -> Sizes:
    return Sizes(batch=32, time=16, width=64, heads=4, layers=2)


def quick_sizes() -> Sizes:
    return Sizes(batch=2, time=4, width=8, heads=2, layers=1, vocabulary=5)


@dataclass
class Problem:
    """A batch of token ids, the next token at every position, and the starting weights."""

    sizes: Sizes
    tokens: np.ndarray
    targets: np.ndarray
    params: dict[str, np.ndarray]


def block_names(layer: int) -> dict[str, str]:
    """Short names for one block's parameters → their ``state_dict`` names."""
    prefix = f"blocks.{layer}."
    return {
        "norm1_w": prefix + "attention_norm.weights", "norm1_b": prefix + "attention_norm.bias",
        "qkv_W": prefix + "attention.query_key_value.weights",
        "qkv_b": prefix + "attention.query_key_value.bias",
        "out_W": prefix + "attention.output.weights", "out_b": prefix + "attention.output.bias",
        "norm2_w": prefix + "mlp_norm.weights", "norm2_b": prefix + "mlp_norm.bias",
        "fc_W": prefix + "mlp.layers.0.weights", "fc_b": prefix + "mlp.layers.0.bias",
        "proj_W": prefix + "mlp.layers.1.weights", "proj_b": prefix + "mlp.layers.1.bias",
    }


def make_problem(sizes: Sizes, seed: int = 0) -> Problem:
    """Random tokens and targets; embeddings standard-normal, LayerNorms at ones and zeros
    (slightly disturbed, so their gradients are checked in general), and Linear layers drawn
    as PyTorch's default draws them."""
    rng = np.random.default_rng(seed)
    width, vocabulary = sizes.width, sizes.vocabulary

    def uniform(fan_in: int, shape: tuple[int, ...]) -> np.ndarray:
        limit = 1 / np.sqrt(fan_in)
        return rng.uniform(-limit, limit, shape).astype(np.float32)

    def near(value: float, shape: tuple[int, ...]) -> np.ndarray:
        return (value + 0.1 * rng.normal(size=shape)).astype(np.float32)

    params = {
        "token_embedding.weights": rng.normal(size=(vocabulary, width)).astype(np.float32),
        "position_embedding.weights": rng.normal(size=(sizes.time, width)).astype(np.float32),
    }
    for layer in range(sizes.layers):
        names = block_names(layer)
        for norm in ("norm1", "norm2"):
            params[names[f"{norm}_w"]] = near(1.0, (width,))
            params[names[f"{norm}_b"]] = near(0.0, (width,))
        shapes = {"qkv": (width, 3 * width), "out": (width, width),
                  "fc": (width, 4 * width), "proj": (4 * width, width)}
        for short, (fan_in, fan_out) in shapes.items():
            params[names[f"{short}_W"]] = uniform(fan_in, (fan_in, fan_out))
            params[names[f"{short}_b"]] = uniform(fan_in, (fan_out,))
    params["final_norm.weights"] = near(1.0, (width,))
    params["final_norm.bias"] = near(0.0, (width,))
    params["head.weights"] = uniform(width, (width, vocabulary))
    params["head.bias"] = uniform(width, (vocabulary,))
    tokens = rng.integers(0, vocabulary, (sizes.batch, sizes.time))
    targets = rng.integers(0, vocabulary, sizes.batch * sizes.time)
    return Problem(sizes, tokens, targets, params)


# --- the GPT by hand ---------------------------------------------------------------------------
def layer_norm_forward(
    x: np.ndarray, weights: np.ndarray, bias: np.ndarray
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(x - mean) / √(var + eps) · w + b over the last axis; saves x̂, 1/σ and w."""
    centered = x - x.mean(axis=-1, keepdims=True)
    inverse = 1 / np.sqrt((centered * centered).mean(axis=-1, keepdims=True) + EPS)
    normalized = centered * inverse
    return normalized * weights + bias, (normalized, inverse, weights)


def layer_norm_backward(
    grad_out: np.ndarray, saved: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """dx = (1/σ) (ĝ - mean(ĝ) - x̂ mean(ĝ x̂)) with ĝ = g · w; dw = Σ g x̂; db = Σ g."""
    normalized, inverse, weights = saved
    scaled = grad_out * weights
    grad_x = inverse * (
        scaled
        - scaled.mean(axis=-1, keepdims=True)
        - normalized * (scaled * normalized).mean(axis=-1, keepdims=True)
    )
    return grad_x, (grad_out * normalized).sum(axis=0), grad_out.sum(axis=0)


def gelu_forward(x: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """GELU's tanh form: 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))."""
    t = np.tanh(GELU_SCALE * (x + 0.044715 * (x * x * x)))  # x**3 would call pow: slow
    return 0.5 * x * (1 + t), (x, t)


def gelu_backward(grad_out: np.ndarray, saved: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """d/dx = 0.5 (1 + t) + 0.5 x (1 - t²) √(2/π) (1 + 3 · 0.044715 x²)."""
    x, t = saved
    slope = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * GELU_SCALE * (1 + 3 * 0.044715 * x * x)
    return grad_out * slope


class NumpyGPT(HandWrittenSGD):
    """The GPT by hand: every layer's forward, then every layer's analytic backward."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.params = {name: value.copy() for name, value in problem.params.items()}
        self.learning_rate = LEARNING_RATE
        time = problem.sizes.time
        self.future = ~np.tri(time, dtype=bool)  # True where a query may not read the key

    def attention_forward(self, x: np.ndarray, names: dict[str, str]) -> tuple[np.ndarray, Any]:
        p, s = self.params, self.problem.sizes
        head = s.width // s.heads
        packed = x @ p[names["qkv_W"]] + p[names["qkv_b"]]
        qkv = packed.reshape(s.batch, s.time, 3, s.heads, head).transpose(2, 0, 3, 1, 4)
        query, key, value = qkv[0], qkv[1], qkv[2]
        scale = np.float32(1 / math.sqrt(head))
        scores = query @ key.transpose(0, 1, 3, 2) * scale
        scores[..., self.future] = -np.inf
        weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
        weights /= weights.sum(axis=-1, keepdims=True)
        mixed = (weights @ value).transpose(0, 2, 1, 3).reshape(-1, s.width)
        out = mixed @ p[names["out_W"]] + p[names["out_b"]]
        return out, (x, query, key, value, weights, mixed, scale)

    def attention_backward(
        self, grad_out: np.ndarray, saved: Any, names: dict[str, str], grads: dict[str, Any]
    ) -> np.ndarray:
        p, s = self.params, self.problem.sizes
        head = s.width // s.heads
        x, query, key, value, weights, mixed, scale = saved
        grads[names["out_W"]] = mixed.T @ grad_out
        grads[names["out_b"]] = grad_out.sum(axis=0)
        grad_mixed = (grad_out @ p[names["out_W"]].T).reshape(s.batch, s.time, s.heads, head)
        grad_mixed = grad_mixed.transpose(0, 2, 1, 3)
        grad_value = weights.transpose(0, 1, 3, 2) @ grad_mixed
        grad_weights = grad_mixed @ value.transpose(0, 1, 3, 2)
        # softmax: dscores = w (dw - Σ dw w); the future's weights are 0, so is its gradient
        grad_scores = grad_weights - (grad_weights * weights).sum(axis=-1, keepdims=True)
        grad_scores *= weights
        grad_scores *= scale
        grad_query = grad_scores @ key
        grad_key = grad_scores.transpose(0, 1, 3, 2) @ query
        grad_packed = np.stack([grad_query, grad_key, grad_value]).transpose(1, 3, 0, 2, 4)
        grad_packed = grad_packed.reshape(-1, 3 * s.width)
        grads[names["qkv_W"]] = x.T @ grad_packed
        grads[names["qkv_b"]] = grad_packed.sum(axis=0)
        return grad_packed @ p[names["qkv_W"]].T

    def loss_and_gradients(self) -> tuple[float, dict[str, np.ndarray]]:
        p, s = self.params, self.problem.sizes
        tokens, targets = self.problem.tokens, self.problem.targets
        x = (p["token_embedding.weights"][tokens] + p["position_embedding.weights"]).reshape(
            -1, s.width
        )
        saved_blocks = []
        for layer in range(s.layers):
            names = block_names(layer)
            h, norm1 = layer_norm_forward(x, p[names["norm1_w"]], p[names["norm1_b"]])
            attended, attention = self.attention_forward(h, names)
            x = x + attended
            h, norm2 = layer_norm_forward(x, p[names["norm2_w"]], p[names["norm2_b"]])
            hidden_in = h @ p[names["fc_W"]] + p[names["fc_b"]]
            hidden, gelu = gelu_forward(hidden_in)
            x = x + hidden @ p[names["proj_W"]] + p[names["proj_b"]]
            saved_blocks.append((norm1, attention, norm2, h, gelu, hidden))
        h, final = layer_norm_forward(x, p["final_norm.weights"], p["final_norm.bias"])
        logits = h @ p["head.weights"] + p["head.bias"]
        shifted = logits - logits.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        total = exp.sum(axis=1, keepdims=True)
        rows = np.arange(len(targets))
        loss = float(np.log(total[:, 0]).sum() - shifted[rows, targets].sum()) / len(targets)
        grad = exp / total  # dL/dlogits = (softmax - onehot) / rows
        grad[rows, targets] -= 1
        grad /= len(targets)

        grads: dict[str, Any] = {"head.weights": h.T @ grad, "head.bias": grad.sum(axis=0)}
        grad_x, grads["final_norm.weights"], grads["final_norm.bias"] = layer_norm_backward(
            grad @ p["head.weights"].T, final
        )
        for layer in reversed(range(s.layers)):
            names = block_names(layer)
            norm1, attention, norm2, h, gelu, hidden = saved_blocks[layer]
            grads[names["proj_W"]] = hidden.T @ grad_x
            grads[names["proj_b"]] = grad_x.sum(axis=0)
            grad_hidden = gelu_backward(grad_x @ p[names["proj_W"]].T, gelu)
            grads[names["fc_W"]] = h.T @ grad_hidden
            grads[names["fc_b"]] = grad_hidden.sum(axis=0)
            grad_h, grads[names["norm2_w"]], grads[names["norm2_b"]] = layer_norm_backward(
                grad_hidden @ p[names["fc_W"]].T, norm2
            )
            grad_x = grad_x + grad_h
            grad_h = self.attention_backward(grad_x, attention, names, grads)
            grad_h, grads[names["norm1_w"]], grads[names["norm1_b"]] = layer_norm_backward(
                grad_h, norm1
            )
            grad_x = grad_x + grad_h
        grad_x = grad_x.reshape(s.batch, s.time, s.width)
        grad_tokens = np.zeros_like(p["token_embedding.weights"])
        np.add.at(grad_tokens, tokens, grad_x)
        grads["token_embedding.weights"] = grad_tokens
        grads["position_embedding.weights"] = grad_x.sum(axis=0)
        return loss, grads


def numpy_contender(problem: Problem) -> Contender:
    model = NumpyGPT(problem)
    return Contender("numpy", model.step, model.gradients)


# --- autograd_lite -----------------------------------------------------------------------------
def nn_gpt(sizes: Sizes) -> Any:
    """The GPT from ``nn`` layers, as ``examples/names.py`` builds it."""
    import nn

    f32 = np.float32

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.attention_norm = nn.LayerNorm(sizes.width, dtype=f32)
            self.attention = nn.SelfAttention(sizes.width, sizes.heads, dtype=f32)
            self.mlp_norm = nn.LayerNorm(sizes.width, dtype=f32)
            self.mlp = nn.MLP(sizes.width, [4 * sizes.width], sizes.width, activation="gelu",
                              dtype=f32)

        def forward(self, x: Any) -> Any:
            batch, time, width = x.shape
            x = x + self.attention(self.attention_norm(x))
            flat = self.mlp_norm(x).reshape(batch * time, width)
            return x + self.mlp(flat).reshape(batch, time, width)

    class GPT(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.token_embedding = nn.Embedding(sizes.vocabulary, sizes.width, dtype=f32)
            self.position_embedding = nn.Embedding(sizes.time, sizes.width, dtype=f32)
            self.blocks = nn.Sequential(*[Block() for _ in range(sizes.layers)])
            self.final_norm = nn.LayerNorm(sizes.width, dtype=f32)
            self.head = nn.Dense(sizes.width, sizes.vocabulary, dtype=f32)

        def forward(self, tokens: np.ndarray) -> Any:
            batch, time = tokens.shape
            x = self.token_embedding(tokens) + self.position_embedding(np.arange(time))
            x = self.final_norm(self.blocks(x))
            return self.head(x.reshape(batch * time, -1))

    return GPT()


def autograd_lite_contender(problem: Problem) -> Contender:
    """The ``nn`` GPT, ``nn.cross_entropy`` on the flattened logits and ``nn.SGD``."""
    import nn

    model = nn_gpt(problem.sizes)
    model.load_state_dict(problem.params)
    optimizer = nn.SGD(model.parameters(), lr=LEARNING_RATE)
    tokens, targets = problem.tokens, problem.targets

    def step() -> None:
        optimizer.zero_grad()
        loss = nn.cross_entropy(model(tokens), targets)
        loss.backward()
        optimizer.step()

    def gradients() -> Gradients:
        optimizer.zero_grad()
        loss = nn.cross_entropy(model(tokens), targets)
        loss.backward()
        return {"loss": loss.item(),
                **{name: parameter.grad for name, parameter in model.named_parameters()}}

    return Contender("autograd_lite", step, gradients)


# --- PyTorch -----------------------------------------------------------------------------------
def torch_contender(torch: Any, problem: Problem) -> Contender:
    """The same model from ``torch.nn`` (``Embedding``, ``LayerNorm``, ``Linear``,
    ``GELU(approximate="tanh")``) with ``F.scaled_dot_product_attention(is_causal=True)``,
    ``F.cross_entropy`` and ``torch.optim.SGD``; our (in, out) matrices transposed."""
    sizes = problem.sizes
    functional = torch.nn.functional

    class Block(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            width = sizes.width
            self.attention_norm = torch.nn.LayerNorm(width)
            self.query_key_value = torch.nn.Linear(width, 3 * width)
            self.output = torch.nn.Linear(width, width)
            self.mlp_norm = torch.nn.LayerNorm(width)
            self.mlp = torch.nn.Sequential(torch.nn.Linear(width, 4 * width),
                                           torch.nn.GELU(approximate="tanh"),
                                           torch.nn.Linear(4 * width, width))

        def forward(self, x: Any) -> Any:
            batch, time, width = x.shape
            packed = self.query_key_value(self.attention_norm(x))
            packed = packed.view(batch, time, 3, sizes.heads, width // sizes.heads)
            query, key, value = packed.permute(2, 0, 3, 1, 4)
            mixed = functional.scaled_dot_product_attention(query, key, value, is_causal=True)
            x = x + self.output(mixed.transpose(1, 2).reshape(batch, time, width))
            return x + self.mlp(self.mlp_norm(x))

    class GPT(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.token_embedding = torch.nn.Embedding(sizes.vocabulary, sizes.width)
            self.position_embedding = torch.nn.Embedding(sizes.time, sizes.width)
            self.blocks = torch.nn.Sequential(*[Block() for _ in range(sizes.layers)])
            self.final_norm = torch.nn.LayerNorm(sizes.width)
            self.head = torch.nn.Linear(sizes.width, sizes.vocabulary)

        def forward(self, tokens: Any) -> Any:
            positions = torch.arange(tokens.shape[1])
            x = self.token_embedding(tokens) + self.position_embedding(positions)
            return self.head(self.final_norm(self.blocks(x))).reshape(-1, sizes.vocabulary)

    model = GPT()
    ours_to_torch = {
        "token_embedding.weights": "token_embedding.weight",
        "position_embedding.weights": "position_embedding.weight",
        "final_norm.weights": "final_norm.weight", "final_norm.bias": "final_norm.bias",
        "head.weights": "head.weight", "head.bias": "head.bias",
    }
    for layer in range(sizes.layers):
        prefix = f"blocks.{layer}."
        torch_names = {
            "norm1_w": "attention_norm.weight", "norm1_b": "attention_norm.bias",
            "qkv_W": "query_key_value.weight", "qkv_b": "query_key_value.bias",
            "out_W": "output.weight", "out_b": "output.bias",
            "norm2_w": "mlp_norm.weight", "norm2_b": "mlp_norm.bias",
            "fc_W": "mlp.0.weight", "fc_b": "mlp.0.bias",
            "proj_W": "mlp.2.weight", "proj_b": "mlp.2.bias",
        }
        for short, ours in block_names(layer).items():
            ours_to_torch[ours] = prefix + torch_names[short]
    transposed = {ours for ours in ours_to_torch  # Linear keeps (out, in): ours transposed
                  if problem.params[ours].ndim == 2 and "embedding" not in ours}
    torch_parameters = dict(model.named_parameters())
    with torch.no_grad():
        for ours, theirs in ours_to_torch.items():
            value = problem.params[ours]
            value = value.T if ours in transposed else value
            torch_parameters[theirs].copy_(torch.tensor(np.ascontiguousarray(value)))
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    tokens = torch.tensor(problem.tokens)
    targets = torch.tensor(problem.targets)

    def step() -> None:
        optimizer.zero_grad()
        loss = functional.cross_entropy(model(tokens), targets)
        loss.backward()
        optimizer.step()

    def gradients() -> Gradients:
        optimizer.zero_grad()
        loss = functional.cross_entropy(model(tokens), targets)
        loss.backward()
        grads: dict[str, Any] = {"loss": loss.item()}
        for ours, theirs in ours_to_torch.items():
            grad = torch_parameters[theirs].grad.numpy()
            grads[ours] = grad.T if ours in transposed else grad
        return grads

    return Contender("torch", step, gradients)


def cases(settings: Settings) -> list[Case]:
    """The GPT step at batch 32, context 16 (batch 2, context 4, width 8 in quick mode)."""
    sizes = quick_sizes() if settings.quick else full_sizes()
    problem = make_problem(sizes)
    contenders = [numpy_contender(problem), autograd_lite_contender(problem)]
    if settings.peers.torch is not None:
        contenders.append(torch_contender(settings.peers.torch, problem))
    return [Case(
        name="gpt_step",
        title=(f"GPT training step ({sizes.layers} blocks, width {sizes.width}, {sizes.heads} "
               f"heads, vocabulary {sizes.vocabulary}), batch {sizes.batch}×{sizes.time} "
               "tokens, float32"),
        contenders=contenders,
        budget=8.0,
        **TOLERANCES,
    )]
