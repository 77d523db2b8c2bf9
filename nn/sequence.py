"""Layers for sequences of tokens: ``Embedding``, ``LayerNorm`` and ``SelfAttention``.

They are the parts of a small GPT (see ``examples/names.py``): an embedding turns token ids
into vectors, layer normalisation keeps each position's vector at zero mean and unit variance,
and causal self-attention lets every position read the positions before it. Embedding and
SelfAttention are built from the engine's operations, so their gradients come from those
operations' rules; layer normalisation is one operation of its own (:func:`layer_norm`).

>>> import numpy as np
>>> tokens = np.array([[3, 1, 4], [1, 5, 9]])
>>> x = Embedding(10, 8, rng=0)(tokens)
>>> x.shape
(2, 3, 8)
>>> SelfAttention(8, num_heads=2, rng=0)(LayerNorm(8)(x)).shape
(2, 3, 8)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

import autograd_lite as ag
from autograd_lite import Tensor
from autograd_lite.engine import record
from autograd_lite.ops import dual
from nn.layers import Dense
from nn.module import Module
from nn.validation import as_generator, bias_flag, float_dtype, numeric_input, positive_int


class Embedding(Module):
    """A lookup table: out[..., :] = weights[indices[...], :].

    ``weights`` has shape ``(num_embeddings, embedding_dim)`` and starts standard-normal
    (PyTorch's default). Indices of any integer shape give ``indices.shape +
    (embedding_dim,)``. dL/dweights[i] = the sum of dL/dout over every place that looked up
    row i (a token used twice gets both gradients), and 0 for rows nobody looked up.

    >>> table = Embedding(4, 2, rng=0)
    >>> table([[0, 3, 3]]).shape
    (1, 3, 2)
    >>> table([[4]])
    Traceback (most recent call last):
    ...
    ValueError: Embedding(4, 2): indices must lie in [0, 4), got values from 4 to 4
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        rng: int | np.random.Generator | None = None,
        dtype: Any = np.float64,
    ) -> None:
        super().__init__()
        self.num_embeddings = positive_int(num_embeddings, "num_embeddings", "Embedding")
        self.embedding_dim = positive_int(embedding_dim, "embedding_dim", "Embedding")
        kind = float_dtype(dtype, "Embedding")
        generator = as_generator(rng, "Embedding")
        shape = (self.num_embeddings, self.embedding_dim)
        try:
            values = generator.standard_normal(shape).astype(kind)
        except (ValueError, MemoryError):
            raise ValueError(
                f"Embedding: weights of shape {shape} are too large to allocate"
            ) from None
        self.weights = Tensor(values, requires_grad=True)

    def forward(self, indices: Any) -> Tensor:
        return self.weights[self._checked(indices)]

    def _checked(self, indices: Any) -> np.ndarray:
        """``indices`` as an integer array with every entry a row of ``weights``."""
        try:
            values = indices.data if isinstance(indices, Tensor) else np.asarray(indices)
        except (TypeError, ValueError) as error:
            raise TypeError(f"{self.label()}: cannot read indices as an array ({error})") from None
        if values.dtype.kind not in "iu":
            raise TypeError(
                f"{self.label()}: indices must be integers, got dtype {values.dtype} "
                "(a Tensor of token ids needs an integer dtype, e.g. dtype='int64')"
            )
        if values.size and (values.min() < 0 or values.max() >= self.num_embeddings):
            raise ValueError(
                f"{self.label()}: indices must lie in [0, {self.num_embeddings}), got values "
                f"from {values.min()} to {values.max()}"
            )
        return values.astype(np.intp, copy=False)

    def label(self) -> str:
        return f"Embedding({self.num_embeddings}, {self.embedding_dim})"

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}"


def layer_norm(
    x: Any, weights: Tensor, bias: Tensor, axes: tuple[int, ...], eps: float
) -> Tensor:
    """out = x̂ * weights + bias with x̂ = (x - mean) / σ, σ = √(var + eps), mean and the biased
    variance taken over ``axes``; with g = dL/dout, ĝ = g * weights and ⟨·⟩ the mean over
    ``axes``: dL/dx = (ĝ - ⟨ĝ⟩ - x̂ ⟨ĝ x̂⟩) / σ, dL/dweights = Σ g x̂, dL/dbias = Σ g.

    NOTE: one recorded operation, not the nine it is made of (mean, sub, mul, mean, add, sqrt,
    div, mul, add): a GPT's step runs one per block and sub-layer, and nine rules with their
    broadcast sums cost about twice the passes over the data of this one rule. The forward makes
    the same NumPy calls, in the same order, as those nine (the same bits).
    """
    x = x if isinstance(x, Tensor) else Tensor(x)
    data = x.data
    count = math.prod(data.shape[axis] for axis in axes)
    normalized, std = _normalized(data, axes, count, eps)
    out = normalized * weights.data + bias.data
    saved = (data, weights.data, normalized, std, axes, count, eps, x.requires_grad)
    attrs = {"axes": axes, "eps": eps}
    return record("layer_norm", out, (x, weights, bias), _layer_norm_backward, saved, attrs)


def _normalized(x: Any, axes: tuple[int, ...], count: int, eps: float) -> tuple[Any, Any]:
    """(x̂, σ) of ``x`` over ``axes``, on arrays (the forward) or Tensors (a rule run with
    create_graph, where both must be functions of x)."""
    centered = x - x.sum(axis=axes, keepdims=True) / count
    std = dual.sqrt((centered * centered).sum(axis=axes, keepdims=True) / count + eps)
    return centered / std, std


def _layer_norm_backward(
    grad_out: Any,
    x: Any,
    weights: Any,
    normalized: Any,
    std: Any,
    axes: tuple[int, ...],
    count: int,
    eps: float,
    needs_x: bool,
) -> tuple:
    if dual.is_recorded(grad_out):  # differentiated again: x̂ and σ must be functions of x
        normalized, std = _normalized(x, axes, count, eps)
    grad_x = None
    if needs_x:
        grad_normalized = grad_out * weights
        mean_grad = grad_normalized.sum(axis=axes, keepdims=True) / count
        mean_projection = (grad_normalized * normalized).sum(axis=axes, keepdims=True) / count
        grad_x = (grad_normalized - mean_grad - normalized * mean_projection) / std
    return grad_x, grad_out * normalized, grad_out


class LayerNorm(Module):
    """Normalise over the last axes, then scale and shift:
    out = (x - mean) / √(var + eps) * weights + bias,
    with mean and the biased variance (divided by n) taken over the last
    ``len(normalized_shape)`` axes; ``weights`` starts at ones and ``bias`` at zeros, both of
    shape ``normalized_shape``. The same numbers as ``torch.nn.LayerNorm``.

    >>> norm = LayerNorm(4)
    >>> norm(np.array([[1.0, 2.0, 3.0, 4.0]])).data.round(4)
    array([[-1.3416, -0.4472,  0.4472,  1.3416]])
    """

    def __init__(
        self, normalized_shape: int | Sequence[int], eps: float = 1e-5, dtype: Any = np.float64
    ) -> None:
        super().__init__()
        given: Any = normalized_shape
        items = [given] if isinstance(given, (int, np.integer)) else given
        if isinstance(items, (str, bytes)) or not isinstance(items, Sequence) or not items:
            raise TypeError(
                f"LayerNorm: normalized_shape must be an int or a non-empty tuple of ints, "
                f"got {normalized_shape!r}"
            )
        self.normalized_shape = tuple(
            positive_int(size, "normalized_shape", "LayerNorm") for size in items
        )
        if isinstance(eps, bool) or not isinstance(eps, (int, float, np.integer, np.floating)):
            raise TypeError(f"LayerNorm: eps must be a number, got {eps!r}")
        if not (math.isfinite(eps) and eps > 0):
            raise ValueError(f"LayerNorm: eps must be a positive finite number, got {eps}")
        self.eps = float(eps)
        kind = float_dtype(dtype, "LayerNorm")
        self.weights = Tensor(np.ones(self.normalized_shape, dtype=kind), requires_grad=True)
        self.bias = Tensor(np.zeros(self.normalized_shape, dtype=kind), requires_grad=True)
        self._axes = tuple(range(-len(self.normalized_shape), 0))

    def forward(self, x: Any) -> Tensor:
        x = numeric_input(self, x)
        size = len(self.normalized_shape)
        if x.shape[x.ndim - size :] != self.normalized_shape or x.ndim < size:
            raise ValueError(
                f"{self.label()}: expected inputs whose last axes are {self.normalized_shape}, "
                f"got shape {x.shape}"
            )
        return layer_norm(x, self.weights, self.bias, self._axes, self.eps)

    def label(self) -> str:
        shape = self.normalized_shape
        return f"LayerNorm({shape[0] if len(shape) == 1 else shape})"

    def extra_repr(self) -> str:
        shape = self.normalized_shape
        return f"{shape[0] if len(shape) == 1 else shape}, eps={self.eps:g}"


class SelfAttention(Module):
    """Multi-head scaled dot-product self-attention, (batch, time, embed_dim) in and out.

    For each position t, with d = embed_dim / num_heads and h = 1 .. num_heads::

        q, k, v   = split(x @ Wqkv + bqkv)                   (each (batch, heads, time, d))
        scores_h  = q_h @ k_hᵀ / √d                          ((batch, heads, time, time))
        weights_h = softmax(scores_h) over the last axis     (causal: scores at s > t = -inf)
        out       = concat_h(weights_h @ v_h) @ Wout + bout

    The parameters live in two Dense layers: ``query_key_value`` (``weights`` of shape
    ``(embed_dim, 3 * embed_dim)``: queries, then keys, then values, each split into heads of
    d columns) and ``output`` (``(embed_dim, embed_dim)``); their state-dict names are
    ``query_key_value.weights``, ``query_key_value.bias``, ``output.weights``,
    ``output.bias``. This is the layout of ``torch.nn.MultiheadAttention`` transposed:
    its ``in_proj_weight`` is ``query_key_value.weights.T``.

    With ``causal=True`` the output at position t depends only on inputs at positions ≤ t:
    the future's scores are set to -inf before the softmax, which gives them weight 0.
    Every head and position is computed at once with batched ``@``.

    >>> attention = SelfAttention(8, num_heads=2, rng=0)
    >>> [name for name, _ in attention.named_parameters()]
    ['query_key_value.weights', 'query_key_value.bias', 'output.weights', 'output.bias']
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        causal: bool = True,
        bias: bool = True,
        rng: int | np.random.Generator | None = None,
        dtype: Any = np.float64,
    ) -> None:
        super().__init__()
        self.embed_dim = positive_int(embed_dim, "embed_dim", "SelfAttention")
        self.num_heads = positive_int(num_heads, "num_heads", "SelfAttention")
        if self.embed_dim % self.num_heads:
            raise ValueError(
                f"SelfAttention: embed_dim ({self.embed_dim}) must be divisible by num_heads "
                f"({self.num_heads})"
            )
        if not isinstance(causal, (bool, np.bool_)):
            raise TypeError(f"SelfAttention: causal must be True or False, got {causal!r}")
        self.causal = bool(causal)
        has_bias = bias_flag(bias, "SelfAttention")
        float_dtype(dtype, "SelfAttention")
        generator = as_generator(rng, "SelfAttention")
        width = self.embed_dim
        self.query_key_value = Dense(width, 3 * width, bias=has_bias, rng=generator, dtype=dtype)
        self.output = Dense(width, width, bias=has_bias, rng=generator, dtype=dtype)
        self.head_dim = width // self.num_heads

    def forward(self, x: Any) -> Tensor:
        x = numeric_input(self, x)
        if x.ndim != 3 or x.shape[2] != self.embed_dim:
            raise ValueError(
                f"{self.label()}: expected input of shape (batch, time, {self.embed_dim}), "
                f"got shape {x.shape}"
            )
        batch, time, width = x.shape
        heads, head_dim = self.num_heads, self.head_dim
        # NOTE: the projections see (batch * time, width) rows: one 2-D matrix product each
        # way, where a 3-D one would make the weights' gradient a batch of products to sum.
        packed = self.query_key_value(ag.reshape(x, batch * time, width))
        packed = packed.reshape(batch, time, 3, heads, head_dim).transpose(2, 0, 3, 1, 4)
        query, key, value = packed[0], packed[1], packed[2]  # each (batch, heads, time, d)
        scores = (query @ key.transpose(0, 1, 3, 2)) * (1 / math.sqrt(head_dim))
        if self.causal:
            scores = ag.where(_causal_mask(time), scores, -np.inf)
        mixed = ag.softmax(scores, axis=-1) @ value  # (batch, heads, time, d)
        merged = mixed.transpose(0, 2, 1, 3).reshape(batch * time, width)
        return self.output(merged).reshape(batch, time, width)

    def label(self) -> str:
        return f"SelfAttention({self.embed_dim}, heads={self.num_heads})"

    def extra_repr(self) -> str:
        text = f"{self.embed_dim}, num_heads={self.num_heads}"
        if not self.causal:
            text += ", causal=False"
        return text if self.output.bias is not None else text + ", bias=False"


def _causal_mask(time: int) -> np.ndarray:
    """(time, time) bools, True where query position t may read key position s (s ≤ t)."""
    return np.tri(time, dtype=bool)
