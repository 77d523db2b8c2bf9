"""Convolutions: one conv2d forward + backward, and one training step of a small CNN.

Both run on a batch of 64 MNIST-sized images (1×28×28, float32), against PyTorch CPU at the
same thread count, the target being within 1.5× of PyTorch's time. The baseline is the same
math by hand in NumPy: im2col (a no-copy window view, one copy, one matrix multiply) forward,
and the analytic backward with a col2im scatter-add over the 3×3 kernel offsets.

- ``conv2d``: 16 filters 3×3 with bias, padding 1; backward from a fixed upstream gradient
  gives the gradients of the input, the filters and the bias.
- ``cnn_step``: conv 1→16 3×3 → ReLU → max pool 2 → conv 16→32 3×3 → ReLU → max pool 2 →
  flatten → dense 1568→10, cross-entropy, SGD; every contender starts from the same weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

import autograd_lite as ag
from benchmarks.harness import Case, Contender, Gradients, HandWrittenSGD, Settings

LEARNING_RATE = 0.01
KERNEL = 3
PADDING = 1
POOL = 2
TOLERANCES = {"rtol": 1e-3, "atol": 1e-5}  # float32 sums of ~10^4 terms, in another order


@dataclass
class Sizes:
    """Batch, image side, and the channels of the CNN's two convolutions and its classes."""

    batch: int
    side: int
    channels: tuple[int, int, int] = (1, 16, 32)
    classes: int = 10

    @property
    def features(self) -> int:
        """Inputs of the dense layer: the last conv's channels times the twice-pooled side."""
        return self.channels[2] * (self.side // POOL // POOL) ** 2


def full_sizes() -> Sizes:
    return Sizes(batch=64, side=28)


def quick_sizes() -> Sizes:
    return Sizes(batch=2, side=8, channels=(1, 4, 8))


def uniform_fan_in(rng: np.random.Generator, fan_in: int, shape: tuple[int, ...]) -> np.ndarray:
    """PyTorch's default draw for conv and linear layers: U(-1/√fan_in, 1/√fan_in), float32."""
    limit = 1 / np.sqrt(fan_in)
    return rng.uniform(-limit, limit, shape).astype(np.float32)


# --- conv2d and max pooling by hand ---------------------------------------------------------------
def conv_forward(
    x: np.ndarray, weight: np.ndarray, bias: np.ndarray
) -> tuple[np.ndarray, tuple[np.ndarray, tuple[int, ...]]]:
    """im2col convolution, stride 1, padding ``PADDING``: the output and what backward needs.

    Rows of the im2col matrix are window elements (c, i, j), columns output positions (n, r, q).
    """
    n, channels, height, width = x.shape
    out_channels = weight.shape[0]
    padded = np.pad(x, ((0, 0), (0, 0), (PADDING, PADDING), (PADDING, PADDING)))
    windows = sliding_window_view(padded, (KERNEL, KERNEL), axis=(2, 3))  # n, c, r, q, i, j
    out_h, out_w = windows.shape[2:4]
    cols = windows.transpose(1, 4, 5, 0, 2, 3).reshape(channels * KERNEL**2, -1)
    out_rows = weight.reshape(out_channels, -1) @ cols
    out_rows += bias[:, None]
    out = out_rows.reshape(out_channels, n, out_h, out_w).transpose(1, 0, 2, 3)
    return out, (cols, padded.shape)


def conv_backward(
    grad_out: np.ndarray, weight: np.ndarray, saved: tuple[np.ndarray, tuple[int, ...]],
    needs_x: bool = True,
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """dL/dx (col2im of Wᵀ G, padding cut off), dL/dW = G colsᵀ, dL/db = Σ G."""
    cols, padded_shape = saved
    out_channels, channels = weight.shape[:2]
    n, _, out_h, out_w = grad_out.shape
    grad_rows = grad_out.transpose(1, 0, 2, 3).reshape(out_channels, -1)
    grad_weight = (grad_rows @ cols.T).reshape(weight.shape)
    grad_bias = grad_rows.sum(axis=1)
    if not needs_x:
        return None, grad_weight, grad_bias
    grad_cols = weight.reshape(out_channels, -1).T @ grad_rows
    grad_cols = grad_cols.reshape(channels, KERNEL, KERNEL, n, out_h, out_w)
    grad_padded = np.zeros(padded_shape, dtype=grad_out.dtype)
    for i in range(KERNEL):  # col2im: each kernel offset adds its slice back, whole batch at once
        for j in range(KERNEL):
            grad_padded[:, :, i : i + out_h, j : j + out_w] += grad_cols[:, i, j].transpose(
                1, 0, 2, 3
            )
    grad_x = grad_padded[:, :, PADDING:-PADDING, PADDING:-PADDING]
    return grad_x, grad_weight, grad_bias


def pool_forward(x: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """2×2 max pooling, stride 2 (even sides): the output, and for each of the four offsets a
    mask of the windows that picked it (the first maximum in row-major order, as PyTorch)."""
    corners = [x[:, :, i::POOL, j::POOL] for i in range(POOL) for j in range(POOL)]
    out = np.maximum(np.maximum(corners[0], corners[1]), np.maximum(corners[2], corners[3]))
    taken = corners[0] == out
    masks = [taken]
    for corner in corners[1:]:
        mask = (corner == out) & ~taken
        taken = taken | mask
        masks.append(mask)
    return out, masks


def pool_backward(grad_out: np.ndarray, masks: list[np.ndarray]) -> np.ndarray:
    """Each window's gradient onto the element it picked; zeros elsewhere."""
    n, channels, out_h, out_w = grad_out.shape
    grad = np.empty((n, channels, out_h * POOL, out_w * POOL), dtype=grad_out.dtype)
    for index, mask in enumerate(masks):
        i, j = divmod(index, POOL)
        np.multiply(grad_out, mask, out=grad[:, :, i::POOL, j::POOL])
    return grad


# --- case 1: conv2d forward + backward ------------------------------------------------------------
@dataclass
class ConvProblem:
    """An image batch, 16 filters 3×3 and their bias, and a fixed upstream gradient."""

    images: np.ndarray
    weight: np.ndarray
    bias: np.ndarray
    upstream: np.ndarray


def make_conv_problem(sizes: Sizes, seed: int = 0) -> ConvProblem:
    rng = np.random.default_rng(seed)
    in_channels, out_channels = sizes.channels[:2]
    fan_in = in_channels * KERNEL**2
    images = rng.normal(size=(sizes.batch, in_channels, sizes.side, sizes.side))
    upstream = rng.normal(size=(sizes.batch, out_channels, sizes.side, sizes.side))
    return ConvProblem(
        images.astype(np.float32),
        uniform_fan_in(rng, fan_in, (out_channels, in_channels, KERNEL, KERNEL)),
        uniform_fan_in(rng, fan_in, (out_channels,)),
        upstream.astype(np.float32),
    )


def _pseudo_loss(out: np.ndarray, upstream: np.ndarray) -> float:
    """Σ out · upstream: the loss whose gradient with respect to ``out`` is ``upstream``."""
    return float(np.vdot(out.astype(np.float64), upstream.astype(np.float64)))


def numpy_conv_contender(problem: ConvProblem) -> Contender:
    def run() -> tuple[np.ndarray, tuple[np.ndarray | None, np.ndarray, np.ndarray]]:
        out, saved = conv_forward(problem.images, problem.weight, problem.bias)
        return out, conv_backward(problem.upstream, problem.weight, saved)

    def step() -> None:
        run()

    def gradients() -> Gradients:
        out, (grad_x, grad_weight, grad_bias) = run()
        return {"loss": _pseudo_loss(out, problem.upstream), "x": grad_x, "weight": grad_weight,
                "bias": grad_bias}

    return Contender("numpy", step, gradients)


def autograd_lite_conv_contender(problem: ConvProblem) -> Contender:
    """``ag.conv2d`` on Tensors that require grad; ``backward`` from the upstream gradient."""
    x = ag.Tensor(problem.images, requires_grad=True)
    weight = ag.Tensor(problem.weight, requires_grad=True)
    bias = ag.Tensor(problem.bias, requires_grad=True)
    leaves = (x, weight, bias)

    def run() -> ag.Tensor:
        for leaf in leaves:
            leaf.zero_grad()
        out = ag.conv2d(x, weight, bias, stride=1, padding=PADDING)
        out.backward(problem.upstream)
        return out

    def step() -> None:
        run()

    def gradients() -> Gradients:
        out = run()
        return {"loss": _pseudo_loss(out.data, problem.upstream), "x": x.grad,
                "weight": weight.grad, "bias": bias.grad}

    return Contender("autograd_lite", step, gradients)


def torch_conv_contender(torch: Any, problem: ConvProblem) -> Contender:
    """``torch.nn.functional.conv2d``; ``out.backward(upstream)``."""
    x = torch.from_numpy(problem.images.copy()).requires_grad_()
    weight = torch.from_numpy(problem.weight.copy()).requires_grad_()
    bias = torch.from_numpy(problem.bias.copy()).requires_grad_()
    upstream = torch.from_numpy(problem.upstream)
    conv2d = torch.nn.functional.conv2d

    def run() -> Any:
        x.grad = weight.grad = bias.grad = None
        out = conv2d(x, weight, bias, stride=1, padding=PADDING)
        out.backward(upstream)
        return out

    def step() -> None:
        run()

    def gradients() -> Gradients:
        out = run()
        return {"loss": _pseudo_loss(out.detach().numpy(), problem.upstream),
                "x": x.grad.numpy(), "weight": weight.grad.numpy(), "bias": bias.grad.numpy()}

    return Contender("torch", step, gradients)


def conv_case(sizes: Sizes, settings: Settings) -> Case:
    problem = make_conv_problem(sizes)
    contenders = [numpy_conv_contender(problem), autograd_lite_conv_contender(problem)]
    if settings.peers.torch is not None:
        contenders.append(torch_conv_contender(settings.peers.torch, problem))
    in_channels, out_channels = sizes.channels[:2]
    side = sizes.side
    return Case(
        name="conv2d",
        title=(f"conv2d fwd+bwd, batch {sizes.batch}×{in_channels}×{side}×{side}, "
               f"{out_channels} filters 3×3 + bias, padding 1, float32"),
        contenders=contenders,
        budget=8.0,
        **TOLERANCES,
    )


# --- case 2: a CNN training step ------------------------------------------------------------------
@dataclass
class CNNProblem:
    """A batch of images and labels, and the starting weights of the CNN's three layers:
    ``conv1_W`` (o, c, 3, 3), ``conv1_b``, ``conv2_W``, ``conv2_b``, ``dense_W`` (features,
    classes) and ``dense_b``."""

    sizes: Sizes
    images: np.ndarray
    labels: np.ndarray
    params: dict[str, np.ndarray]


def make_cnn_problem(sizes: Sizes, seed: int = 0) -> CNNProblem:
    rng = np.random.default_rng(seed)
    c0, c1, c2 = sizes.channels
    params = {
        "conv1_W": uniform_fan_in(rng, c0 * KERNEL**2, (c1, c0, KERNEL, KERNEL)),
        "conv1_b": uniform_fan_in(rng, c0 * KERNEL**2, (c1,)),
        "conv2_W": uniform_fan_in(rng, c1 * KERNEL**2, (c2, c1, KERNEL, KERNEL)),
        "conv2_b": uniform_fan_in(rng, c1 * KERNEL**2, (c2,)),
        "dense_W": uniform_fan_in(rng, sizes.features, (sizes.features, sizes.classes)),
        "dense_b": uniform_fan_in(rng, sizes.features, (sizes.classes,)),
    }
    images = rng.normal(size=(sizes.batch, c0, sizes.side, sizes.side)).astype(np.float32)
    labels = rng.integers(0, sizes.classes, size=sizes.batch)
    return CNNProblem(sizes, images, labels, params)


class NumpyCNN(HandWrittenSGD):
    """The CNN by hand: two im2col convolutions, ReLU, max pooling, dense, softmax
    cross-entropy, all with their analytic backward, and the SGD update."""

    def __init__(self, problem: CNNProblem) -> None:
        self.problem = problem
        self.params = {name: value.copy() for name, value in problem.params.items()}
        self.learning_rate = LEARNING_RATE

    def loss_and_gradients(self) -> tuple[float, dict[str, np.ndarray]]:
        p, labels = self.params, self.problem.labels
        z1, saved1 = conv_forward(self.problem.images, p["conv1_W"], p["conv1_b"])
        h1, picked1 = pool_forward(np.maximum(z1, 0))
        z2, saved2 = conv_forward(h1, p["conv2_W"], p["conv2_b"])
        h2, picked2 = pool_forward(np.maximum(z2, 0))
        flat = h2.reshape(len(labels), -1)
        logits = flat @ p["dense_W"] + p["dense_b"]
        shifted = logits - logits.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        total = exp.sum(axis=1, keepdims=True)
        rows = np.arange(len(labels))
        loss = float(np.log(total[:, 0]).sum() - shifted[rows, labels].sum()) / len(labels)
        grad = exp / total  # dL/dlogits = (softmax - onehot) / batch
        grad[rows, labels] -= 1
        grad /= len(labels)
        grads = {"dense_W": flat.T @ grad, "dense_b": grad.sum(axis=0)}
        grad_h2 = (grad @ p["dense_W"].T).reshape(h2.shape)
        grad_z2 = pool_backward(grad_h2, picked2) * (z2 > 0)
        grad_h1, grads["conv2_W"], grads["conv2_b"] = conv_backward(grad_z2, p["conv2_W"], saved2)
        grad_z1 = pool_backward(grad_h1, picked1) * (z1 > 0)
        _, grads["conv1_W"], grads["conv1_b"] = conv_backward(
            grad_z1, p["conv1_W"], saved1, needs_x=False
        )
        return loss, grads


def numpy_cnn_contender(problem: CNNProblem) -> Contender:
    model = NumpyCNN(problem)
    return Contender("numpy", model.step, model.gradients)


def autograd_lite_cnn_contender(problem: CNNProblem) -> Contender:
    """``nn.Sequential`` of ``nn.Conv2d``, ``nn.ReLU``, ``nn.MaxPool2d``, ``nn.Flatten``,
    ``nn.Dense``; ``nn.cross_entropy`` and ``nn.SGD``, as a user writes the loop."""
    import nn

    c0, c1, c2 = problem.sizes.channels
    conv1 = nn.Conv2d(c0, c1, KERNEL, padding=PADDING, dtype=np.float32)
    conv2 = nn.Conv2d(c1, c2, KERNEL, padding=PADDING, dtype=np.float32)
    dense = nn.Dense(problem.sizes.features, problem.sizes.classes, dtype=np.float32)
    named = {"conv1": conv1, "conv2": conv2, "dense": dense}
    for prefix, layer in named.items():
        layer.weights.data = problem.params[f"{prefix}_W"].copy()
        layer.bias.data = problem.params[f"{prefix}_b"].copy()
    model = nn.Sequential(conv1, nn.ReLU(), nn.MaxPool2d(POOL), conv2, nn.ReLU(),
                          nn.MaxPool2d(POOL), nn.Flatten(), dense)
    optimizer = nn.SGD(model.parameters(), lr=LEARNING_RATE)
    images = ag.Tensor(problem.images)
    labels = problem.labels

    def step() -> None:
        optimizer.zero_grad()
        loss = nn.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()

    def gradients() -> Gradients:
        optimizer.zero_grad()
        loss = nn.cross_entropy(model(images), labels)
        loss.backward()
        grads: dict[str, Any] = {"loss": loss.item()}
        for prefix, layer in named.items():
            grads[f"{prefix}_W"] = layer.weights.grad
            grads[f"{prefix}_b"] = layer.bias.grad
        return grads

    return Contender("autograd_lite", step, gradients)


def torch_cnn_contender(torch: Any, problem: CNNProblem) -> Contender:
    """The same layers from ``torch.nn``, ``F.cross_entropy`` and ``torch.optim.SGD``."""
    c0, c1, c2 = problem.sizes.channels
    conv1 = torch.nn.Conv2d(c0, c1, KERNEL, padding=PADDING)
    conv2 = torch.nn.Conv2d(c1, c2, KERNEL, padding=PADDING)
    dense = torch.nn.Linear(problem.sizes.features, problem.sizes.classes)
    named = {"conv1": conv1, "conv2": conv2, "dense": dense}
    with torch.no_grad():
        for prefix, layer in named.items():
            weight = problem.params[f"{prefix}_W"]
            weight = weight.T if prefix == "dense" else weight  # Linear keeps (out, in)
            layer.weight.copy_(torch.from_numpy(np.ascontiguousarray(weight)))
            layer.bias.copy_(torch.from_numpy(problem.params[f"{prefix}_b"]))
    model = torch.nn.Sequential(conv1, torch.nn.ReLU(), torch.nn.MaxPool2d(POOL), conv2,
                                torch.nn.ReLU(), torch.nn.MaxPool2d(POOL), torch.nn.Flatten(),
                                dense)
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    images = torch.from_numpy(problem.images)
    labels = torch.from_numpy(problem.labels)
    cross_entropy = torch.nn.functional.cross_entropy

    def step() -> None:
        optimizer.zero_grad()
        loss = cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()

    def gradients() -> Gradients:
        optimizer.zero_grad()
        loss = cross_entropy(model(images), labels)
        loss.backward()
        grads: dict[str, Any] = {"loss": loss.item()}
        for prefix, layer in named.items():
            weight = layer.weight.grad.numpy()
            grads[f"{prefix}_W"] = weight.T if prefix == "dense" else weight
            grads[f"{prefix}_b"] = layer.bias.grad.numpy()
        return grads

    return Contender("torch", step, gradients)


def cnn_case(sizes: Sizes, settings: Settings) -> Case:
    problem = make_cnn_problem(sizes)
    contenders = [numpy_cnn_contender(problem), autograd_lite_cnn_contender(problem)]
    if settings.peers.torch is not None:
        contenders.append(torch_cnn_contender(settings.peers.torch, problem))
    c0, c1, c2 = sizes.channels
    side = sizes.side
    return Case(
        name="cnn_step",
        title=(f"CNN training step (conv {c0}→{c1}, pool, conv {c1}→{c2}, pool, dense "
               f"{sizes.features}→{sizes.classes}), batch {sizes.batch}×{c0}×{side}×{side}, "
               "float32"),
        contenders=contenders,
        budget=10.0,
        **TOLERANCES,
    )


def cases(settings: Settings) -> list[Case]:
    """conv2d alone and the CNN step, on 64 images 1×28×28 (2 images 1×8×8 in quick mode)."""
    sizes = quick_sizes() if settings.quick else full_sizes()
    return [conv_case(sizes, settings), cnn_case(sizes, settings)]
