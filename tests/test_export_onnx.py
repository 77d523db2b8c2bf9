"""nn.export_onnx: every model kind gives a file that passes ONNX's checker and that ONNX
Runtime runs to the same numbers as the model, at any batch size."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_tour_examples import load

import autograd_lite as ag
import nn
from autograd_lite.engine import record

onnx = pytest.importorskip("onnx", reason='onnx is not installed (pip install -e ".[onnx]")')
ort = pytest.importorskip(
    "onnxruntime", reason='onnxruntime is not installed (pip install -e ".[onnx]")'
)

BATCH_SIZES = (1, 7, 64)
RTOL = {np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-12}

Batches = Callable[[int, np.random.Generator], np.ndarray]


def floats(*shape: int, dtype: Any) -> Batches:
    """Standard-normal batches of examples of ``shape``."""
    return lambda size, rng: rng.normal(size=(size, *shape)).astype(dtype)


def tokens(length: int, vocabulary: int) -> Batches:
    return lambda size, rng: rng.integers(0, vocabulary, size=(size, length))


def serve(path: Path) -> Any:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # tiny models; spare the shared cores
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def assert_runtime_agrees(
    model: nn.Module, batches: Batches, path: Path, example_size: int = 5
) -> Any:
    """Export on one batch; check the file; ONNX Runtime equals the model at every size."""
    rng = np.random.default_rng(0)
    written = nn.export_onnx(model, batches(example_size, rng), path)
    assert written == path
    proto = onnx.load(written)
    onnx.checker.check_model(proto, full_check=True)
    session = serve(written)
    model.eval()
    for size in BATCH_SIZES:
        x = batches(size, rng)
        with ag.no_grad():
            expected = model(x).data
        (got,) = session.run(None, {"input": x})
        assert got.dtype == expected.dtype and got.shape == expected.shape
        # Relative to each element, with a floor at rounding size for elements near zero,
        # where a different summation order cannot be relatively close.
        rtol = RTOL[expected.dtype]
        scale = np.abs(expected).max(initial=0)
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol * scale)
    return proto


# --- the model kinds ------------------------------------------------------------------------
def neuron(dtype: Any) -> tuple[nn.Module, Batches]:
    return nn.Neuron(4, activation="sigmoid", rng=0, dtype=dtype), floats(4, dtype=dtype)


def mlp(dtype: Any) -> tuple[nn.Module, Batches]:
    model = nn.MLP(6, [16, 8], 3, activation="tanh", output_activation="sigmoid", rng=0,
                   dtype=dtype)
    return model, floats(6, dtype=dtype)


def perceptron(dtype: Any) -> tuple[nn.Module, Batches]:
    model = nn.Sequential(
        nn.Dense(5, 8, activation="relu", rng=0, dtype=dtype), nn.Dense(8, 4, rng=1, dtype=dtype),
        nn.Step(threshold=0.1),
    )
    return model, floats(5, dtype=dtype)


def cnn(dtype: Any) -> tuple[nn.Module, Batches]:
    model = nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1, rng=0, dtype=dtype),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3, stride=2, padding=(1, 0), rng=1, dtype=dtype),  # → (6, 3, 2)
        nn.Tanh(),
        nn.AvgPool2d(2, stride=1),  # → (6, 2, 1)
        nn.Flatten(),
        nn.Dropout(0.3, rng=0),
        nn.Dense(12, 3, rng=2, dtype=dtype),
    )
    return model, floats(2, 10, 10, dtype=dtype)


class TinyGPT(nn.Module):
    """Token and position embeddings, one pre-norm transformer block (causal attention, a GELU
    feed-forward layer), a vocabulary head."""

    def __init__(self, dtype: Any, vocabulary: int = 11, length: int = 5) -> None:
        self.tokens = nn.Embedding(vocabulary, 8, rng=0, dtype=dtype)
        self.positions = nn.Embedding(length, 8, rng=1, dtype=dtype)
        self.norm = nn.LayerNorm(8, dtype=dtype)
        self.attention = nn.SelfAttention(8, num_heads=2, rng=2, dtype=dtype)
        self.feed_norm = nn.LayerNorm(8, dtype=dtype)
        self.widen = nn.Dense(8, 16, activation=ag.gelu, rng=3, dtype=dtype)
        self.narrow = nn.Dense(16, 8, rng=4, dtype=dtype)
        self.head = nn.Dense(8, vocabulary, rng=5, dtype=dtype)

    def forward(self, indices: Any) -> ag.Tensor:
        x = self.tokens(indices) + self.positions(np.arange(np.shape(indices)[1]))
        x = x + self.attention(self.norm(x))
        x = x + self.narrow(self.widen(self.feed_norm(x)))
        return self.head(x).log_softmax(axis=-1)


def transformer(dtype: Any) -> tuple[nn.Module, Batches]:
    return TinyGPT(dtype), tokens(5, 11)


class EveryOp(nn.Module):
    """The engine's other operations on (batch, 4, 6) inputs, each where a model might use it."""

    def __init__(self, dtype: Any) -> None:
        rng = np.random.default_rng(0)
        self.mix = ag.Tensor(rng.normal(size=(6, 6)).astype(dtype), requires_grad=True)
        self.power = ag.Tensor(np.asarray(1.5, dtype=dtype), requires_grad=True)
        self.project = ag.Tensor(rng.normal(size=(24, 3)).astype(dtype), requires_grad=True)
        self.ceiling = np.linspace(1, 3, 6, dtype=dtype)

    def forward(self, x: ag.Tensor) -> ag.Tensor:
        batch = x.shape[0]
        # attention-like: batched matmul, transpose, a constant mask, softmax over an axis
        scores = (x @ self.mix) @ x.transpose(0, 2, 1) / math.sqrt(6)
        weights = ag.softmax(ag.where(np.tri(4, dtype=bool), scores, -np.inf), axis=2)
        # normalisation over the batch axis too: mean, var with ddof, sqrt, div
        centered = x - x.mean(axis=(0, 1), keepdims=True)
        spread = ag.sqrt(x.var(axis=(0, 1), keepdims=True, ddof=1) + 1.0)
        h = weights @ (centered / spread) + x.std(axis=(1, 2), keepdims=True)
        # conversions, copies and axis swaps that PyTorch users write
        h = ag.gelu(h.double()).astype(x.dtype).clone().swapaxes(1, 2).permute(0, 2, 1)
        # elementwise: pow (number and tensor exponent), exp, log, tanh, abs, neg, clip
        h = h + ag.tanh(h) ** 2 - ag.exp(-abs(h)) + ag.log(h * h + 1) ** self.power
        h = ag.maximum(ag.clip(h, -2.0, self.ceiling), ag.minimum(h, -h) - 1)
        # joining, slicing, integer arrays, reductions, reshapes through the batch axis
        h = ag.concatenate([h[:, ::-2], h[:, 1:2, [5, 0, 2, 2, 3, 1]]], axis=1)  # (b, 3, 6)
        h = ag.stack([h - h.max(axis=1, keepdims=True), h.min(axis=1, keepdims=True) + h], axis=-1)
        h = h.reshape(batch * 3, 12).reshape(batch, -1)[:, None, :36].squeeze(1)
        h = h[..., :24].unsqueeze(0).sum(axis=0)
        return ag.log_softmax(ag.dot(h, self.project) + h.transpose().mean(), axis=-1)


def every_op(dtype: Any) -> tuple[nn.Module, Batches]:
    return EveryOp(dtype), floats(4, 6, dtype=dtype)


MODEL_KINDS = [neuron, mlp, perceptron, cnn, transformer, every_op]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("kind", MODEL_KINDS, ids=lambda kind: kind.__name__)
def test_onnx_runtime_computes_what_the_model_does_at_any_batch_size(
    kind: Callable[[Any], tuple[nn.Module, Batches]], dtype: Any, tmp_path: Path
) -> None:
    model, batches = kind(dtype)
    proto = assert_runtime_agrees(model, batches, tmp_path / "model.onnx")
    graph = proto.graph
    assert [dim.dim_param for dim in graph.input[0].type.tensor_type.shape.dim][:1] == ["batch"]
    assert graph.output[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    state = model.state_dict()
    initializers = {tensor.name: onnx.numpy_helper.to_array(tensor) for tensor in
                    graph.initializer}
    assert list(initializers) == list(state)
    for name, array in state.items():
        assert initializers[name].dtype == array.dtype
        np.testing.assert_array_equal(initializers[name], array)


def test_an_example_batch_of_one_still_exports_every_batch_size(tmp_path: Path) -> None:
    model, batches = cnn(np.float32)
    assert_runtime_agrees(model, batches, tmp_path / "cnn.onnx", example_size=1)
    model, batches = transformer(np.float64)
    assert_runtime_agrees(model, batches, tmp_path / "gpt.onnx", example_size=1)


@given(
    sizes=st.lists(st.integers(1, 9), min_size=2, max_size=5),
    activation=st.sampled_from([None, "sigmoid", "relu", "tanh"]),
    dtype=st.sampled_from([np.float32, np.float64]),
    example_size=st.integers(1, 6),
    seed=st.integers(0, 2**16),
)
def test_any_mlp_exports(
    sizes: list[int], activation: str | None, dtype: Any, example_size: int, seed: int,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    model = nn.MLP(sizes[0], sizes[1:-1], sizes[-1], activation=activation, rng=seed, dtype=dtype)
    path = tmp_path_factory.mktemp("mlp") / "mlp.onnx"
    assert_runtime_agrees(model, floats(sizes[0], dtype=dtype), path, example_size)


class Indexed(nn.Module):
    def __init__(self, index: Any) -> None:
        self.scale = ag.Tensor(np.linspace(0.5, 2, 5), requires_grad=True)
        self.index = index

    def forward(self, x: ag.Tensor) -> ag.Tensor:
        return (x * self.scale)[self.index]


ends = st.none() | st.integers(-6, 6)
items = (
    st.builds(slice, ends, ends, st.none() | st.sampled_from([-2, -1, 1, 2]))
    | st.integers(-4, 3)
    | st.none()
)


@given(
    index=st.tuples(items, items).map(lambda pair: (slice(None), *pair))
    | st.tuples(items).map(lambda item: (Ellipsis, *item))
)
def test_basic_indexing_translates_to_the_same_elements(
    index: tuple, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = tmp_path_factory.mktemp("index") / "indexed.onnx"
    assert_runtime_agrees(Indexed(index), floats(4, 5, dtype=np.float64), path)


def test_eval_mode_for_the_export_and_every_module_s_own_mode_afterwards(tmp_path: Path) -> None:
    model, batches = cnn(np.float32)
    model.train()
    model[1].eval()  # a ReLU, whose mode changes nothing: it must come back as it was
    # In training mode the Dropout layer's random mask would be refused as a constant that
    # changes with the input: the export succeeding shows it ran in eval mode.
    nn.export_onnx(model, batches(5, np.random.default_rng(0)), tmp_path / "cnn.onnx")
    assert model.training and model[7].training and not model[1].training


def test_a_model_that_returns_its_input_exports_the_identity(tmp_path: Path) -> None:
    dropout = nn.Dropout(0.5)
    proto = assert_runtime_agrees(dropout, floats(3, dtype=np.float32), tmp_path / "id.onnx")
    assert [node.op_type for node in proto.graph.node] == ["Identity"]


class Doubled(nn.Module):
    """Records an operation that no ONNX translation knows."""

    def forward(self, x: ag.Tensor) -> ag.Tensor:
        return record("frobnicate", x.data * 2, (x,), lambda grad_out: (grad_out * 2,))


def test_an_operation_without_translation_is_named_and_nothing_is_written(
    tmp_path: Path,
) -> None:
    path = tmp_path / "model.onnx"
    model = nn.Sequential(nn.Dense(3, 2, rng=0), Doubled())
    with pytest.raises(NotImplementedError, match="'frobnicate'"):
        nn.export_onnx(model, np.ones((4, 3)), path)
    assert not path.exists()


class PeeksAtData(nn.Module):
    """Computes a mask from the input's values outside the recorded graph."""

    def __init__(self) -> None:
        self.weights = ag.Tensor(np.ones(3), requires_grad=True)

    def forward(self, x: ag.Tensor) -> ag.Tensor:
        return x * self.weights * (x.data > 0)


def test_a_constant_made_from_the_input_is_refused_instead_of_frozen(tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    with pytest.raises(ValueError, match="changes from one run to the next"):
        nn.export_onnx(PeeksAtData(), np.ones((4, 3)), path)
    assert not path.exists()


def test_inside_no_grad_nothing_could_be_recorded(tmp_path: Path) -> None:
    with ag.no_grad(), pytest.raises(RuntimeError, match="no_grad"):
        nn.export_onnx(nn.Dense(3, 2, rng=0), np.ones((4, 3)), tmp_path / "model.onnx")


@pytest.mark.parametrize("example", [np.float64(1.0), np.ones((0, 3)), np.array(["a", "b"])])
def test_an_example_without_a_batch_of_numbers_is_refused(example: Any, tmp_path: Path) -> None:
    with pytest.raises((TypeError, ValueError), match="export_onnx: example_input"):
        nn.export_onnx(nn.Dense(3, 2, rng=0), example, tmp_path / "model.onnx")


def test_without_onnx_the_error_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "onnx", None)  # makes `import onnx` raise ImportError
    with pytest.raises(ImportError, match=r'pip install -e "\.\[onnx\]"'):
        nn.export_onnx(nn.Dense(3, 2, rng=0), np.ones((4, 3)), tmp_path / "model.onnx")
    assert not (tmp_path / "model.onnx").exists()


def test_the_example_serves_the_digits_cnn_with_the_same_answers(tmp_path: Path) -> None:
    result = load("export_onnx").main(tmp_path, epochs=0, verbose=False)
    assert result["path"] == tmp_path / "digits_cnn.onnx" and result["path"].exists()
    assert result["runtime_accuracy"] == result["accuracy"]
    assert result["largest_difference"] < 1e-5
