"""nn.Module: registration and names, train/eval, scopes, state_dict, save and load."""

from __future__ import annotations

import pickle
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_lite as ag
import nn


def snapshot(model: nn.Module) -> dict[str, np.ndarray]:
    return {name: p.data.copy() for name, p in model.named_parameters()}


def assert_unchanged(model: nn.Module, before: dict[str, np.ndarray]) -> None:
    after = snapshot(model)
    assert after.keys() == before.keys()
    for name in before:
        np.testing.assert_array_equal(after[name], before[name])


class Pair(nn.Module):
    """Two children and a parameter of its own, assigned in that order."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = ag.Tensor(1.5, requires_grad=True)
        self.first = nn.Dense(2, 3, rng=0)
        self.second = nn.Neuron(3, rng=1)

    def forward(self, x):
        return self.second(self.first(x)) * self.scale


def test_parameters_are_found_in_assignment_order_with_dotted_names():
    model = Pair()
    names = [name for name, _ in model.named_parameters()]
    assert names == ["scale", "first.weights", "first.bias", "second.weights", "second.bias"]
    assert model.parameters()[1] is model.first.weights


def test_parameter_names_follow_the_outermost_module():
    dense = nn.Dense(2, 2, rng=0)
    assert dense.weights.name == "weights"
    outer = nn.Sequential(nn.Sequential(dense))
    assert dense.weights.name == "0.0.weights"
    holder = nn.Module()
    holder.model = outer
    assert dense.bias.name == "model.0.0.bias"
    assert [n for n, _ in holder.named_parameters()] == ["model.0.0.weights", "model.0.0.bias"]
    mlp = nn.MLP(2, [4], 1, rng=0)
    assert [p.name for p in mlp.parameters()] == [n for n, _ in mlp.named_parameters()]


def test_parameter_assigned_after_the_child_is_placed_gets_the_full_name():
    holder = nn.Module()
    holder.inner = nn.Module()
    holder.inner.gain = ag.Tensor(2.0, requires_grad=True)
    assert holder.inner.gain.name == "inner.gain"


def test_plain_tensors_and_reassignment_are_not_parameters():
    model = nn.Module()
    model.constant = ag.Tensor([1.0, 2.0])
    model.weight = ag.Tensor([1.0], requires_grad=True)
    assert [n for n, _ in model.named_parameters()] == ["weight"]
    model.weight = None
    assert model.parameters() == []
    model.child = nn.Dense(1, 1, rng=0)
    del model.child
    assert model.parameters() == []


def test_shared_parameters_are_listed_once():
    dense = nn.Dense(2, 2, rng=0)
    model = nn.Sequential(dense, dense)
    assert len(model.parameters()) == 2


def test_bias_false_leaves_no_bias_parameter():
    assert [n for n, _ in nn.Dense(2, 2, bias=False, rng=0).named_parameters()] == ["weights"]
    neuron = nn.Neuron(3, bias=False, rng=0)
    assert neuron.bias is None and len(neuron.parameters()) == 1


def test_train_and_eval_reach_every_module():
    model = nn.Sequential(nn.Dense(2, 2, rng=0), nn.Sequential(nn.ReLU()))
    modules = [model, model[0], model[1], model[1][0]]
    assert all(module.training for module in modules)
    assert model.eval() is model
    assert not any(module.training for module in modules)
    model.train()
    assert all(module.training for module in modules)
    model[1].train(False)
    assert model.training and not model[1][0].training


def test_subclass_may_assign_before_calling_super_init():
    class Early(nn.Module):
        def __init__(self) -> None:
            self.w = ag.Tensor(1.0, requires_grad=True)
            super().__init__()

    assert [n for n, _ in Early().named_parameters()] == ["w"]


def test_forward_runs_inside_a_name_scope_per_module():
    model = nn.MLP(2, [3], 1, rng=0)
    out = model(np.ones((4, 2)))
    assert out.scope == ("MLP(2→3→1)", "layers: Sequential(2)", "layers.1: Dense(3→1)")
    assert nn.Neuron(3, rng=0)(np.ones(3)).scope == ("Neuron(3)",)


def test_equal_layers_get_scopes_of_their_own():
    model = nn.MLP(4, [4], 4, rng=0)  # two Dense(4→4) layers: a cluster each when drawn
    first, second = model.layers[0], model.layers[1]
    x = np.ones((1, 4))
    assert first.label() == second.label() == "Dense(4→4)"
    assert first(x).scope == ("layers.0: Dense(4→4)",)
    assert second(x).scope == ("layers.1: Dense(4→4)",)


def test_forward_is_required():
    with pytest.raises(NotImplementedError, match="Module does not define forward"):
        nn.Module()(1.0)


def test_reprs():
    assert repr(nn.Dense(3, 4, activation="relu", rng=0)) == "Dense(3→4, activation='relu')"
    assert repr(nn.Dense(3, 4, bias=False, rng=0)) == "Dense(3→4, bias=False)"
    assert repr(nn.Neuron(3, rng=0)) == "Neuron(n_inputs=3, activation='sigmoid', bias=True)"
    assert repr(nn.Step(2)) == "Step(threshold=2)"
    assert repr(nn.MLP(2, [16, 16], 1, rng=0)) == (
        "MLP(2→16→16→1, activation='relu', output_activation=None)"
    )
    assert repr(nn.Sequential(nn.Dense(2, 3, rng=0), nn.ReLU())) == (
        "Sequential(\n  (0): Dense(2→3)\n  (1): ReLU()\n)"
    )


def test_zero_grad_clears_every_gradient():
    model = nn.MLP(2, [3], 1, rng=0)
    model(np.ones((2, 2))).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_state_dict_is_a_copy_keyed_like_named_parameters():
    model = nn.MLP(2, [3], 1, rng=0)
    state = model.state_dict()
    assert list(state) == [n for n, _ in model.named_parameters()]
    state["layers.0.weights"][...] = 99.0
    assert not np.any(model.layers[0].weights.data == 99.0)


def test_load_state_dict_copies_and_casts():
    source, target = nn.MLP(2, [3], 1, rng=0), nn.MLP(2, [3], 1, rng=1, dtype=np.float32)
    state = source.state_dict()
    assert target.load_state_dict(state) is target
    for name, parameter in target.named_parameters():
        assert parameter.dtype == np.float32
        np.testing.assert_array_equal(parameter.data, state[name].astype(np.float32))
    state["layers.0.bias"][...] = 7.0
    assert not np.any(target.layers[0].bias.data == 7.0)


@pytest.mark.parametrize(
    "change, error, words",
    [
        (lambda s: s.pop("layers.1.bias"), ValueError, ["missing", "'layers.1.bias'"]),
        (lambda s: s.update(extra=np.zeros(2)), ValueError, ["unexpected", "'extra'"]),
        (
            lambda s: s.update({"layers.0.weights": np.zeros((3, 2))}),
            ValueError,
            ["'layers.0.weights'", "(3, 2)", "(2, 3)"],
        ),
        (
            lambda s: s.update({"layers.0.bias": np.zeros(3, dtype=int)}),
            TypeError,
            ["'layers.0.bias'", "int64"],
        ),
        (
            lambda s: s.update({"layers.0.bias": np.array([None, None, None])}),
            TypeError,
            ["'layers.0.bias'", "object"],
        ),
    ],
)
def test_load_state_dict_refuses_bad_entries_and_changes_nothing(change, error, words):
    model = nn.MLP(2, [3], 1, rng=0)
    before = snapshot(model)
    state = {name: array + 1.0 for name, array in model.state_dict().items()}
    change(state)
    with pytest.raises(error) as caught:
        model.load_state_dict(state)
    for word in words:
        assert word in str(caught.value)
    assert_unchanged(model, before)


def test_load_state_dict_lists_every_problem():
    model = nn.Dense(2, 2, rng=0)
    with pytest.raises(ValueError) as caught:
        model.load_state_dict({"weights": np.zeros(5), "other": np.zeros(1)})
    message = str(caught.value)
    assert "missing 'bias'" in message and "unexpected 'other'" in message
    assert "(5,)" in message and message.startswith("load_state_dict: nothing loaded into")


def test_load_state_dict_needs_a_mapping():
    with pytest.raises(TypeError, match="mapping"):
        nn.Dense(2, 2, rng=0).load_state_dict([("weights", np.zeros((2, 2)))])  # type: ignore


def test_save_and_load_round_trip_bit_for_bit(tmp_path):
    model = nn.MLP(3, [5, 4], 2, activation="tanh", rng=0)
    written = model.save(tmp_path / "model.npz")
    assert written == tmp_path / "model.npz"
    restored = nn.MLP(3, [5, 4], 2, activation="tanh", rng=1)
    assert restored.load(written) is restored
    for (name, a), (_, b) in zip(model.named_parameters(), restored.named_parameters()):
        assert a.data.tobytes() == b.data.tobytes(), name
    x = np.random.default_rng(2).normal(size=(6, 3))
    assert model(x).data.tobytes() == restored(x).data.tobytes()


def test_save_appends_npz_like_numpy_and_load_finds_it(tmp_path):
    model = nn.Dense(2, 2, rng=0)
    written = model.save(str(tmp_path / "weights"))
    assert written == tmp_path / "weights.npz" and written.exists()
    other = nn.Dense(2, 2, rng=1)
    other.load(tmp_path / "weights")
    np.testing.assert_array_equal(other.weights.data, model.weights.data)
    with np.load(written, allow_pickle=False) as archive:
        assert sorted(archive.files) == ["bias", "weights"]


def test_save_and_load_with_open_files(tmp_path):
    model = nn.Neuron(3, rng=0)
    with open(tmp_path / "neuron.bin", "wb") as handle:
        assert model.save(handle) is None
    other = nn.Neuron(3, rng=1)
    with open(tmp_path / "neuron.bin", "rb") as handle:
        other.load(handle)
    np.testing.assert_array_equal(other.weights.data, model.weights.data)


def test_load_refuses_a_pickled_entry_and_changes_nothing(tmp_path):
    model = nn.Dense(2, 2, rng=0)
    path = tmp_path / "evil.npz"
    np.savez(path, weights=np.zeros((2, 2)), bias=np.array([object(), object()], dtype=object))
    before = snapshot(model)
    with pytest.raises(ValueError, match="'bias' is pickled"):
        model.load(path)
    assert_unchanged(model, before)


def test_load_refuses_a_pickle_file(tmp_path):
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps({"weights": np.zeros((2, 2)), "bias": np.zeros(2)}))
    model = nn.Dense(2, 2, rng=0)
    before = snapshot(model)
    with pytest.raises(ValueError, match="not a NumPy .npz archive"):
        model.load(path)
    assert_unchanged(model, before)


def test_load_refuses_wrong_shapes_and_missing_entries_from_a_file(tmp_path):
    path = tmp_path / "small.npz"
    np.savez(path, weights=np.zeros((2, 3)))
    model = nn.Dense(2, 2, rng=0)
    before = snapshot(model)
    with pytest.raises(ValueError) as caught:
        model.load(path)
    assert "missing 'bias'" in str(caught.value) and "(2, 3)" in str(caught.value)
    assert_unchanged(model, before)


def test_load_refuses_a_single_array_file(tmp_path):
    path = tmp_path / "one.npy"
    np.save(path, np.zeros(3))
    with pytest.raises(ValueError, match="single array"):
        nn.Dense(2, 2, rng=0).load(path)


def test_saved_archive_holds_no_pickles(tmp_path):
    path = nn.MLP(2, [2], 1, rng=0).save(tmp_path / "m")
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == sorted(
            f"{name}.npy" for name in nn.MLP(2, [2], 1, rng=0).state_dict()
        )


def test_load_state_dict_refuses_values_that_are_not_arrays():
    model = nn.Dense(2, 2, rng=0)
    before = snapshot(model)
    with pytest.raises(ValueError, match="'weights' cannot be read as an array"):
        model.load_state_dict({"weights": [[1.0], [2.0, 3.0]], "bias": np.zeros(2)})
    with pytest.raises(TypeError, match="'bias' has dtype <U1"):
        model.load_state_dict({"weights": np.zeros((2, 2)), "bias": np.array(["a", "b"])})
    assert_unchanged(model, before)


def test_load_refuses_an_archive_of_non_arrays(tmp_path):
    path = tmp_path / "junk.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("weights.npy", b"not an array")
        archive.writestr("bias.npy", b"junk")
    model = nn.Dense(2, 2, rng=0)
    before = snapshot(model)
    with pytest.raises(ValueError) as caught:
        model.load(path)
    message = str(caught.value)
    assert "entry 'weights' is not a NumPy array" in message
    assert "entry 'bias' is not a NumPy array" in message and "missing" not in message
    assert_unchanged(model, before)


@pytest.mark.parametrize("position", [0, -1], ids=["first entry", "last entry"])
def test_load_state_dict_refuses_a_none_entry_before_overwriting_anything(position):
    model = nn.MLP(2, [3], 1, rng=0)
    before = snapshot(model)
    state = {name: array + 1.0 for name, array in model.state_dict().items()}
    state[list(state)[position]] = None
    with pytest.raises(ValueError, match=f"'{list(state)[position]}' is None, not an array"):
        model.load_state_dict(state)
    assert_unchanged(model, before)


def test_named_generators_lists_each_random_generator_once_by_its_place():
    shared = np.random.default_rng(0)
    model = nn.Sequential(nn.Dense(2, 2, rng=0), nn.Dropout(0.5, rng=shared),
                          nn.Sequential(nn.Dropout(0.1, rng=1), nn.Dropout(0.2, rng=shared)))
    named = list(model.named_generators())
    assert [name for name, _ in named] == ["1._rng", "2.0._rng"]
    assert named[0][1] is shared and named[1][1] is model[2][0]._rng
    assert list(nn.MLP(2, [2], 1, rng=0).named_generators()) == []


@given(
    sizes=st.lists(st.integers(1, 6), min_size=2, max_size=4),
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 2**32 - 1),
)
@settings(max_examples=25, deadline=None)
def test_any_mlp_round_trips_through_a_file_bit_for_bit(tmp_path_factory, sizes, dtype, seed):
    path = tmp_path_factory.mktemp("round_trip") / "model.npz"
    model = nn.MLP(sizes[0], sizes[1:-1], sizes[-1], rng=seed, dtype=dtype)
    model.save(path)
    restored = nn.MLP(sizes[0], sizes[1:-1], sizes[-1], rng=seed + 1, dtype=dtype).load(path)
    for (name, a), (other, b) in zip(model.named_parameters(), restored.named_parameters()):
        assert name == other and b.dtype == dtype
        assert a.data.tobytes() == b.data.tobytes()
