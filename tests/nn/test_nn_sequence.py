"""nn.sequence: Embedding, LayerNorm and SelfAttention, against the formulas, finite
differences and (when installed) PyTorch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd_lite as ag
import nn
from autograd_lite import Tensor

SETTINGS = settings(max_examples=25, deadline=None)


def torch_or_skip() -> Any:
    return pytest.importorskip("torch", reason="PyTorch is not installed")


def projection(shape: tuple[int, ...], seed: int = 9) -> np.ndarray:
    """Fixed random weights: checking Σ out · w (not Σ out) reaches every gradient, even
    where the plain sum is constant (a LayerNorm's outputs always sum to Σ bias)."""
    return np.random.default_rng(seed).normal(size=shape)


def check_gradients(module: nn.Module, x: Any) -> None:
    """gradcheck every parameter of ``module`` (and ``x`` if it is a Tensor) at once."""
    names = [name for name, _ in module.named_parameters()]
    weights = projection(module(x).shape)

    def projected(x: Any, *parameters: Tensor) -> Tensor:
        for name, parameter in zip(names, parameters):
            owner: Any = module
            *path, leaf = name.split(".")
            for part in path:
                owner = getattr(owner, part)
            setattr(owner, leaf, parameter)
        return module(x) * weights

    assert ag.gradcheck(projected, x, *module.parameters())


# --- Embedding ---------------------------------------------------------------------------------
@SETTINGS
@given(
    indices=hnp.arrays(np.int64, hnp.array_shapes(min_dims=0, max_dims=3, max_side=4),
                       elements=st.integers(0, 6)),
)
def test_embedding_returns_the_rows_of_its_indices_in_their_shape(indices: np.ndarray) -> None:
    table = nn.Embedding(7, 3, rng=0)
    out = table(indices)
    assert out.shape == indices.shape + (3,)
    np.testing.assert_array_equal(out.data, table.weights.data[indices])
    assert out.op == "getitem" and out.parents == (table.weights,)  # one op, no loop over rows


@SETTINGS
@given(indices=hnp.arrays(np.int64, st.integers(1, 12), elements=st.integers(0, 4)))
def test_embedding_gradient_adds_up_over_repeated_indices(indices: np.ndarray) -> None:
    table = nn.Embedding(5, 2, rng=1)
    upstream = projection(indices.shape + (2,))
    table(indices).backward(upstream)
    expected = np.zeros((5, 2))
    for row, index in enumerate(indices):  # the definition, one lookup at a time
        expected[index] += upstream[row]
    np.testing.assert_allclose(table.weights.grad, expected)


def test_embedding_gradient_matches_finite_differences() -> None:
    check_gradients(nn.Embedding(4, 3, rng=2), np.array([[0, 3, 3], [1, 0, 3]]))


def test_embedding_starts_standard_normal_reproducibly_in_its_dtype() -> None:
    table = nn.Embedding(200, 50, rng=3, dtype=np.float32)
    assert table.weights.dtype == np.float32 and table.weights.shape == (200, 50)
    assert abs(table.weights.data.mean()) < 0.02
    assert table.weights.data.std() == pytest.approx(1.0, rel=0.02)
    np.testing.assert_array_equal(nn.Embedding(200, 50, rng=3, dtype=np.float32).weights.data,
                                  table.weights.data)
    assert table(Tensor([1, 2], dtype="int64")).dtype == np.float32


def test_embedding_matches_pytorch() -> None:
    torch = torch_or_skip()
    table = nn.Embedding(6, 4, rng=4)
    indices = np.array([[5, 0, 5], [2, 2, 1]])
    upstream = projection((2, 3, 4))
    out = table(indices)
    out.backward(upstream)
    reference = torch.nn.Embedding(6, 4, dtype=torch.float64)
    with torch.no_grad():
        reference.weight.copy_(torch.tensor(table.weights.data))
    expected = reference(torch.tensor(indices))
    expected.backward(torch.tensor(upstream))
    np.testing.assert_allclose(out.data, expected.detach().numpy())
    np.testing.assert_allclose(table.weights.grad, reference.weight.grad.numpy())


@pytest.mark.parametrize(
    "indices, error, message",
    [
        (np.array([0.0, 1.0]), TypeError, "indices must be integers, got dtype float64"),
        (Tensor([0, 1]), TypeError, "got dtype float64"),  # a Tensor of ints is float by default
        (np.array([True, False]), TypeError, "got dtype bool"),
        (["a"], TypeError, "indices must be integers"),
        (np.array([0, 4]), ValueError, r"must lie in \[0, 4\), got values from 0 to 4"),
        (np.array([[-1, 2]]), ValueError, "got values from -1 to 2"),
    ],
)
def test_embedding_refuses_bad_indices_naming_itself(
    indices: Any, error: type, message: str
) -> None:
    table = nn.Embedding(4, 2, rng=0)
    with pytest.raises(error, match=r"Embedding\(4, 2\): .*" + message):
        table(indices)
    assert table.weights.grad is None


@pytest.mark.parametrize(
    "arguments, error",
    [((0, 3), ValueError), ((3, 2.5), TypeError), ((True, 3), TypeError)],
)
def test_embedding_refuses_bad_sizes(arguments: tuple, error: type) -> None:
    with pytest.raises(error, match="Embedding: "):
        nn.Embedding(*arguments)
    with pytest.raises(TypeError, match="Embedding: dtype"):
        nn.Embedding(3, 2, dtype=np.int32)


# --- LayerNorm ---------------------------------------------------------------------------------
def layer_norm_reference(x: np.ndarray, axes: tuple[int, ...], weights: np.ndarray,
                         bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=axes, keepdims=True)
    variance = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(variance + eps) * weights + bias


def randomized_layer_norm(shape: int | tuple[int, ...], seed: int) -> nn.LayerNorm:
    layer = nn.LayerNorm(shape, eps=1e-3)
    rng = np.random.default_rng(seed)
    layer.weights.data = rng.normal(size=layer.weights.shape)
    layer.bias.data = rng.normal(size=layer.bias.shape)
    return layer


@SETTINGS
@given(
    x=hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=4, max_side=5),
                 elements=st.floats(-100, 100)),
    axes_count=st.integers(1, 2),
)
def test_layer_norm_follows_its_formula(x: np.ndarray, axes_count: int) -> None:
    axes_count = min(axes_count, x.ndim)
    shape = x.shape[x.ndim - axes_count :]
    layer = randomized_layer_norm(shape if axes_count > 1 else shape[0], seed=5)
    axes = tuple(range(-axes_count, 0))
    expected = layer_norm_reference(x, axes, layer.weights.data, layer.bias.data, 1e-3)
    np.testing.assert_allclose(layer(x).data, expected, rtol=1e-9, atol=1e-9)


def test_layer_norm_starts_as_plain_normalisation() -> None:
    layer = nn.LayerNorm((2, 3))
    np.testing.assert_array_equal(layer.weights.data, np.ones((2, 3)))
    np.testing.assert_array_equal(layer.bias.data, np.zeros((2, 3)))
    out = layer(projection((4, 2, 3))).data
    np.testing.assert_allclose(out.mean(axis=(1, 2)), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=(1, 2)), 1, rtol=1e-4)  # eps makes it just below 1


@pytest.mark.parametrize("shape", [4, (3, 4)])
def test_layer_norm_gradients_match_finite_differences(shape: int | tuple[int, ...]) -> None:
    x = Tensor(projection((2, 3, 4), seed=6), requires_grad=True)
    check_gradients(randomized_layer_norm(shape, seed=7), x)


@pytest.mark.parametrize("shape", [4, (3, 4)])
def test_layer_norm_matches_pytorch(shape: int | tuple[int, ...]) -> None:
    torch = torch_or_skip()
    layer = randomized_layer_norm(shape, seed=8)
    x = Tensor(projection((2, 3, 4), seed=10), requires_grad=True)
    upstream = projection((2, 3, 4))
    out = layer(x)
    out.backward(upstream)
    reference = torch.nn.LayerNorm(shape, eps=1e-3, dtype=torch.float64)
    with torch.no_grad():
        reference.weight.copy_(torch.tensor(layer.weights.data))
        reference.bias.copy_(torch.tensor(layer.bias.data))
    x_torch = torch.tensor(x.data).requires_grad_()
    expected = reference(x_torch)
    expected.backward(torch.tensor(upstream))
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(x.grad, x_torch.grad.numpy(), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(layer.weights.grad, reference.weight.grad.numpy(), rtol=1e-8)
    np.testing.assert_allclose(layer.bias.grad, reference.bias.grad.numpy(), rtol=1e-8)


def nine_operation_layer_norm(x: Any, weights: Tensor, bias: Tensor, axes: tuple[int, ...],
                              eps: float) -> Tensor:
    """LayerNorm as the engine's operations compose it (what the fused operation replaces)."""
    centered = x - ag.mean(x, axis=axes, keepdims=True)
    variance = ag.mean(centered * centered, axis=axes, keepdims=True)
    return centered / ag.sqrt(variance + eps) * weights + bias


@SETTINGS
@given(
    shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4),
    axes_count=st.integers(1, 2),
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 2**16),
)
def test_fused_layer_norm_is_the_nine_operations(shape, axes_count, dtype, seed) -> None:
    """The same bits forward; gradients to finite differences, second derivatives included."""
    from nn.sequence import layer_norm

    axes = tuple(range(-min(axes_count, len(shape)), 0))
    rng = np.random.default_rng(seed)
    x, weights, bias = (
        Tensor(rng.normal(size=size).astype(dtype), requires_grad=True)
        for size in (shape, shape[len(shape) + axes[0]:], shape[len(shape) + axes[0]:])
    )
    out = layer_norm(x, weights, bias, axes, 1e-3)
    assert out.op == "layer_norm" and out.parents == (x, weights, bias) and out.dtype == dtype
    np.testing.assert_array_equal(
        out.data, nine_operation_layer_norm(x, weights, bias, axes, 1e-3).data
    )
    if dtype == np.float64:
        weighting = rng.normal(size=shape)

        def projected(x: Tensor, weights: Tensor, bias: Tensor) -> Tensor:
            return layer_norm(x, weights, bias, axes, 1e-3) * weighting

        assert ag.gradcheck(projected, x, weights, bias)
        assert ag.gradgradcheck(projected, x, weights, bias)


def test_layer_norm_of_an_input_that_needs_no_gradient() -> None:
    layer = randomized_layer_norm(4, seed=3)
    x = projection((2, 4), seed=4)
    layer(x).backward(projection((2, 4)))
    expected = nine_operation_layer_norm(Tensor(x), layer.weights, layer.bias, (-1,), 1e-3)
    weights_grad, bias_grad = layer.weights.grad.copy(), layer.bias.grad.copy()
    layer.zero_grad()
    expected.backward(projection((2, 4)))
    np.testing.assert_allclose(weights_grad, layer.weights.grad, rtol=1e-12)
    np.testing.assert_allclose(bias_grad, layer.bias.grad, rtol=1e-12)


def test_layer_norm_keeps_float32() -> None:
    layer = nn.LayerNorm(3, dtype=np.float32)
    assert layer(np.ones((2, 3), dtype=np.float32)).dtype == np.float32


def test_layer_norm_refuses_bad_arguments_and_inputs() -> None:
    with pytest.raises(ValueError, match=r"LayerNorm\(4\): expected inputs whose last axes are "
                                         r"\(4,\), got shape \(2, 3\)"):
        nn.LayerNorm(4)(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"got shape \(4,\)"):
        nn.LayerNorm((3, 4))(np.zeros(4))
    with pytest.raises(TypeError, match="LayerNorm: normalized_shape"):
        nn.LayerNorm(())
    with pytest.raises(TypeError, match="LayerNorm: normalized_shape"):
        nn.LayerNorm("4")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="LayerNorm: normalized_shape must be a positive int"):
        nn.LayerNorm((3, 0))
    with pytest.raises(ValueError, match="LayerNorm: eps must be a positive finite number"):
        nn.LayerNorm(4, eps=0.0)
    with pytest.raises(TypeError, match="LayerNorm: eps must be a number"):
        nn.LayerNorm(4, eps="small")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"LayerNorm\(1\): expected numbers"):
        nn.LayerNorm(1)(np.array(["a"]))


# --- SelfAttention -----------------------------------------------------------------------------
def attention_reference(layer: nn.SelfAttention, x: np.ndarray) -> np.ndarray:
    """The docstring's formula, head by head and position by position, in plain NumPy."""
    batch, time, width = x.shape
    heads, d = layer.num_heads, layer.head_dim
    qkv_bias = layer.query_key_value.bias
    packed = x @ layer.query_key_value.weights.data
    packed = packed + (0 if qkv_bias is None else qkv_bias.data)
    query, key, value = np.split(packed, 3, axis=-1)
    merged = np.zeros((batch, time, width))
    for b in range(batch):
        for h in range(heads):
            columns = slice(h * d, (h + 1) * d)
            for t in range(time):
                readable = t + 1 if layer.causal else time
                scores = key[b, :readable, columns] @ query[b, t, columns] / np.sqrt(d)
                weights = np.exp(scores - scores.max())
                weights /= weights.sum()
                merged[b, t, columns] = weights @ value[b, :readable, columns]
    out_bias = layer.output.bias
    return merged @ layer.output.weights.data + (0 if out_bias is None else out_bias.data)


@pytest.mark.parametrize("causal, bias", [(True, True), (False, True), (True, False)])
def test_attention_follows_its_formula(causal: bool, bias: bool) -> None:
    layer = nn.SelfAttention(6, 3, causal=causal, bias=bias, rng=11)
    x = projection((2, 5, 6), seed=12)
    np.testing.assert_allclose(layer(x).data, attention_reference(layer, x), rtol=1e-10,
                               atol=1e-12)


@pytest.mark.parametrize("causal", [True, False])
def test_attention_gradients_match_finite_differences(causal: bool) -> None:
    x = Tensor(projection((2, 3, 4), seed=13), requires_grad=True)
    check_gradients(nn.SelfAttention(4, 2, causal=causal, rng=14), x)


@pytest.mark.parametrize("causal, bias", [(True, True), (False, True), (True, False)])
def test_attention_matches_pytorch_multihead_attention(causal: bool, bias: bool) -> None:
    torch = torch_or_skip()
    layer = nn.SelfAttention(8, 2, causal=causal, bias=bias, rng=15)
    x = Tensor(projection((3, 5, 8), seed=16), requires_grad=True)
    upstream = projection((3, 5, 8))
    out = layer(x)
    out.backward(upstream)
    reference = torch.nn.MultiheadAttention(8, 2, bias=bias, batch_first=True,
                                            dtype=torch.float64)
    qkv, output = layer.query_key_value, layer.output
    with torch.no_grad():  # PyTorch keeps (out, in) matrices: ours transposed
        reference.in_proj_weight.copy_(torch.tensor(qkv.weights.data.T))
        reference.out_proj.weight.copy_(torch.tensor(output.weights.data.T))
        if bias:
            reference.in_proj_bias.copy_(torch.tensor(qkv.bias.data))
            reference.out_proj.bias.copy_(torch.tensor(output.bias.data))
    x_torch = torch.tensor(x.data).requires_grad_()
    mask = torch.ones(5, 5, dtype=torch.bool).triu(1) if causal else None  # True: hidden
    expected, _ = reference(x_torch, x_torch, x_torch, attn_mask=mask, need_weights=False)
    expected.backward(torch.tensor(upstream))
    close = {"rtol": 1e-9, "atol": 1e-12}
    np.testing.assert_allclose(out.data, expected.detach().numpy(), **close)
    np.testing.assert_allclose(x.grad, x_torch.grad.numpy(), **close)
    np.testing.assert_allclose(qkv.weights.grad, reference.in_proj_weight.grad.numpy().T, **close)
    np.testing.assert_allclose(output.weights.grad, reference.out_proj.weight.grad.numpy().T,
                               **close)
    if bias:
        np.testing.assert_allclose(qkv.bias.grad, reference.in_proj_bias.grad.numpy(), **close)
        np.testing.assert_allclose(output.bias.grad, reference.out_proj.bias.grad.numpy(),
                                   **close)


@SETTINGS
@given(time=st.integers(2, 7), cut=st.integers(1, 6), seed=st.integers(0, 2**16))
def test_causal_attention_never_reads_the_future(time: int, cut: int, seed: int) -> None:
    cut = min(cut, time - 1)  # positions < cut are the past, the rest is changed
    layer = nn.SelfAttention(6, 2, rng=seed)
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(2, time, 6))
    changed = x.copy()
    changed[:, cut:] = rng.normal(size=changed[:, cut:].shape) * 10
    before, after = layer(x).data, layer(changed).data
    np.testing.assert_allclose(after[:, :cut], before[:, :cut], rtol=1e-12, atol=1e-12)
    assert not np.allclose(after[:, cut:], before[:, cut:])
    # and no gradient flows from an earlier output to a later input
    inputs = Tensor(x, requires_grad=True)
    layer(inputs)[:, :cut].sum().backward()
    assert inputs.grad is not None
    np.testing.assert_array_equal(inputs.grad[:, cut:], 0)


def test_attention_without_the_mask_reads_the_future() -> None:
    layer = nn.SelfAttention(4, 2, causal=False, rng=17)
    x = projection((1, 3, 4), seed=18)
    changed = x.copy()
    changed[:, -1] += 1
    assert not np.allclose(layer(x).data[:, 0], layer(changed).data[:, 0])


def test_attention_parameters_are_named_and_shaped() -> None:
    layer = nn.SelfAttention(8, 4, rng=0, dtype=np.float32)
    shapes = {name: p.shape for name, p in layer.named_parameters()}
    assert shapes == {"query_key_value.weights": (8, 24), "query_key_value.bias": (24,),
                      "output.weights": (8, 8), "output.bias": (8,)}
    assert layer.head_dim == 2
    assert layer(np.zeros((1, 3, 8), dtype=np.float32)).dtype == np.float32
    assert [name for name, _ in nn.SelfAttention(8, 4, bias=False).named_parameters()] == [
        "query_key_value.weights", "output.weights"]


def test_attention_refuses_bad_arguments_and_inputs() -> None:
    with pytest.raises(ValueError, match=r"SelfAttention: embed_dim \(6\) must be divisible by "
                                         r"num_heads \(4\)"):
        nn.SelfAttention(6, 4)
    with pytest.raises(TypeError, match="SelfAttention: causal must be True or False"):
        nn.SelfAttention(4, 2, causal=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="SelfAttention: num_heads must be a positive int"):
        nn.SelfAttention(4, 0)
    layer = nn.SelfAttention(4, 2, rng=0)
    for shape in [(2, 3, 5), (3, 4)]:
        with pytest.raises(ValueError, match=r"SelfAttention\(4, heads=2\): expected input of "
                                             r"shape \(batch, time, 4\)"):
            layer(np.zeros(shape))


# --- together ----------------------------------------------------------------------------------
class TinyLanguageModel(nn.Module):
    def __init__(self, seed: int) -> None:
        super().__init__()
        self.embedding = nn.Embedding(5, 4, rng=seed)
        self.norm = nn.LayerNorm(4)
        self.attention = nn.SelfAttention(4, 2, rng=seed)

    def forward(self, tokens: np.ndarray) -> Tensor:
        return self.attention(self.norm(self.embedding(tokens)))


def test_a_model_of_all_three_saves_and_loads(tmp_path: Path) -> None:
    model = TinyLanguageModel(seed=0)
    model.norm.bias.data = projection((4,))
    tokens = np.array([[1, 4, 4, 0]])
    path = model.save(tmp_path / "model")
    assert path is not None
    assert sorted(np.load(path).files) == sorted(model.state_dict())
    restored = TinyLanguageModel(seed=1)
    assert not np.allclose(restored(tokens).data, model(tokens).data)
    restored.load(path)
    np.testing.assert_array_equal(restored(tokens).data, model(tokens).data)


# --- GELU --------------------------------------------------------------------------------------
def test_gelu_module_and_activation_name_apply_the_engine_op() -> None:
    x = Tensor(projection((3, 4), seed=19))
    np.testing.assert_array_equal(nn.GELU()(x).data, ag.gelu(x).data)
    assert nn.get_activation("gelu") is ag.gelu
    layer = nn.Dense(4, 2, activation="gelu", rng=0)
    np.testing.assert_array_equal(layer(x).data,
                                  ag.gelu(x @ layer.weights + layer.bias).data)
    assert nn.MLP(4, [8], 2, activation="gelu", rng=0)(x).shape == (3, 2)


def test_gelu_module_matches_pytorch_tanh_approximation() -> None:
    torch = torch_or_skip()
    x = Tensor(np.linspace(-6, 6, 49), requires_grad=True)
    nn.GELU()(x).sum().backward()
    x_torch = torch.tensor(x.data).requires_grad_()
    expected = torch.nn.GELU(approximate="tanh")(x_torch)
    expected.sum().backward()
    np.testing.assert_allclose(nn.GELU()(x).data, expected.detach().numpy(), rtol=1e-12,
                               atol=1e-13)
    np.testing.assert_allclose(x.grad, x_torch.grad.numpy(), rtol=1e-12, atol=1e-13)
