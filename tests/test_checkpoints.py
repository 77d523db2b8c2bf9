"""nn.fit's checkpoints: written atomically after every epoch, refused whole when damaged or
foreign, and a resumed run equal bit for bit to one that was never stopped, even when the
process is killed at random moments (mid-epoch and mid-write among them)."""

from __future__ import annotations

import io
import json
import os
import random
import runpy
import stat
import struct
import subprocess
import sys
import textwrap
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import nn
from nn import checkpoint as checkpoint_module
from nn.checkpoint import Checkpoint

# --- one small run with every kind of state: Adam or SGD moments, a schedule, Dropout ------
X = np.random.default_rng(0).normal(size=(40, 3))
Y = (X[:, :1] * X[:, 1:2] > 0).astype(float)
VALIDATION = (X[:8], Y[:8])


def build(seed: int = 0, optimizer: str = "adam") -> tuple[nn.Module, Any, Any]:
    """Model, optimizer and schedule; another ``seed`` gives other weights and Dropout masks."""
    model = nn.Sequential(nn.Dense(3, 8, activation="tanh", rng=seed + 1),
                          nn.Dropout(0.25, rng=seed + 2), nn.Dense(8, 1, rng=seed + 3))
    if optimizer == "adam":
        opt: Any = nn.Adam(model.parameters(), lr=0.02)
    else:
        opt = nn.SGD(model.parameters(), lr=0.05, momentum=0.9)
    return model, opt, nn.StepLR(opt, step_size=2, gamma=0.5)


def train(model: nn.Module, optimizer: Any, scheduler: Any, epochs: int, **options: Any) -> Any:
    return nn.fit(model, nn.binary_cross_entropy_with_logits, optimizer, X, Y, epochs=epochs,
                  batch_size=8, rng=options.pop("rng", 5), metrics=["accuracy"],
                  validation_data=VALIDATION, progress=False, scheduler=scheduler, **options)


def everything(model: nn.Module, optimizer: Any, scheduler: Any = None) -> dict[str, Any]:
    """Every number a training step reads or writes: parameters, gradients, optimizer and
    schedule state, the model's random generators."""
    state: dict[str, Any] = {}
    for name, parameter in model.named_parameters():
        state[f"data {name}"] = parameter.data.tobytes()
        state[f"grad {name}"] = None if parameter.grad is None else parameter.grad.tobytes()
    for owner, prefix in ((optimizer, "optimizer"), (scheduler, "scheduler")):
        if owner is not None:
            for key, value in owner.state_dict().items():
                state[f"{prefix} {key}"] = (value.tobytes() if isinstance(value, np.ndarray)
                                            else value)
    for name, generator in model.named_generators():
        state[f"rng {name}"] = repr(generator.bit_generator.state)
    return state


def assert_same_parameters(first: nn.Module, second: nn.Module) -> None:
    for (name, a), (_, b) in zip(first.named_parameters(), second.named_parameters()):
        assert a.data.tobytes() == b.data.tobytes(), name


@pytest.fixture(scope="module")
def uninterrupted() -> dict[str, tuple[nn.Module, Any, Any, Any]]:
    """Six epochs in one go, for each optimizer."""
    runs = {}
    for kind in ("adam", "sgd"):
        model, optimizer, scheduler = build(optimizer=kind)
        runs[kind] = (model, optimizer, scheduler, train(model, optimizer, scheduler, 6))
    return runs


# --- resuming -------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["adam", "sgd"], ids=["Adam", "SGD with momentum"])
def test_resumed_fit_equals_the_uninterrupted_one_bit_for_bit(tmp_path, uninterrupted, kind):
    path = tmp_path / "run.ckpt"
    model, optimizer, scheduler = build(optimizer=kind)
    train(model, optimizer, scheduler, 3, checkpoint=path)  # stopped after epoch 3
    # a new process: other starting weights and Dropout masks, fresh optimizer and schedule
    model, optimizer, scheduler = build(seed=10, optimizer=kind)
    history = train(model, optimizer, scheduler, 6, checkpoint=path, resume=True, rng=99)
    reference_model, reference_optimizer, reference_scheduler, reference = uninterrupted[kind]
    assert history == reference and history.keys() == reference.keys()
    assert_same_parameters(model, reference_model)
    assert everything(model, optimizer, scheduler) == everything(
        reference_model, reference_optimizer, reference_scheduler
    )


def test_a_checkpoint_is_written_after_every_epoch_and_resuming_at_the_end_trains_nothing(
    tmp_path, monkeypatch
):
    path = tmp_path / "run.ckpt"
    on_disk: list[int] = []
    save = Checkpoint.save

    def save_and_read_back(self: Checkpoint, epoch: int, history: Any) -> None:
        save(self, epoch, history)
        on_disk.append(self.read().epoch)

    monkeypatch.setattr(Checkpoint, "save", save_and_read_back)
    model, optimizer, scheduler = build()
    train(model, optimizer, scheduler, 4, checkpoint=path)
    assert on_disk == [1, 2, 3, 4]
    finished = everything(model, optimizer, scheduler)
    history = train(model, optimizer, scheduler, 4, checkpoint=path, resume=True)
    assert history.epochs == 4 and on_disk == [1, 2, 3, 4]
    assert everything(model, optimizer, scheduler) == finished


def test_resume_without_a_checkpoint_file_starts_afresh(tmp_path, uninterrupted):
    model, optimizer, scheduler = build()
    history = train(model, optimizer, scheduler, 6, checkpoint=tmp_path / "new.ckpt",
                    resume=True)
    assert history == uninterrupted["adam"][3]
    assert_same_parameters(model, uninterrupted["adam"][0])
    assert (tmp_path / "new.ckpt").exists()


def test_checkpointing_does_not_change_the_run(tmp_path, uninterrupted):
    model, optimizer, scheduler = build()
    history = train(model, optimizer, scheduler, 6, checkpoint=tmp_path / "run.ckpt")
    assert history == uninterrupted["adam"][3]
    assert_same_parameters(model, uninterrupted["adam"][0])


def test_the_checkpoint_is_an_npz_numpy_reads_without_pickle(tmp_path):
    path = tmp_path / "run.ckpt"
    model, optimizer, scheduler = build()
    train(model, optimizer, scheduler, 1, checkpoint=path)
    with np.load(path, allow_pickle=False) as archive:
        names = set(archive.files)
        assert {f"model.{name}" for name, _ in model.named_parameters()} <= names
        assert "run" in names and any(name.startswith("optimizer.") for name in names)
        assert all(archive[name].dtype != object for name in names)
    assert sorted(os.listdir(tmp_path)) == ["run.ckpt"]  # no temporary file left behind


# --- writing atomically ---------------------------------------------------------------------
def test_a_write_that_fails_midway_leaves_the_previous_checkpoint_and_no_temporary_file(
    tmp_path, monkeypatch
):
    path = tmp_path / "run.ckpt"
    model, optimizer, scheduler = build()
    train(model, optimizer, scheduler, 1, checkpoint=path)
    before = path.read_bytes()
    written = []
    write_array = np.lib.format.write_array

    def fail_on_the_third(*args: Any, **kwargs: Any) -> None:
        written.append(1)
        if len(written) == 3:
            raise OSError("disk full")
        write_array(*args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", fail_on_the_third)
    with pytest.raises(OSError, match="disk full"):
        train(model, optimizer, scheduler, 1, checkpoint=path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["run.ckpt"]


def test_the_write_is_flushed_synced_renamed_then_the_folder_synced(tmp_path, monkeypatch):
    events: list[str] = []
    fsync, replace = os.fsync, os.replace

    def record_fsync(handle: int) -> None:
        events.append("fsync folder" if stat.S_ISDIR(os.fstat(handle).st_mode) else "fsync file")
        fsync(handle)

    def record_replace(source: Any, target: Any) -> None:
        assert Path(source).parent == Path(target).parent == tmp_path  # same file system
        assert Path(source).stat().st_size > 0
        events.append("replace")
        replace(source, target)

    monkeypatch.setattr(checkpoint_module.os, "fsync", record_fsync)
    monkeypatch.setattr(checkpoint_module.os, "replace", record_replace)
    model, optimizer, scheduler = build()
    train(model, optimizer, scheduler, 2, checkpoint=tmp_path / "run.ckpt")
    assert events == ["fsync file", "replace", "fsync folder"] * 2


# --- refusing bad checkpoints ---------------------------------------------------------------
def good_checkpoint(folder: Path, epochs: int = 2) -> Path:
    model, optimizer, scheduler = build()
    path = folder / "good.ckpt"
    train(model, optimizer, scheduler, epochs, checkpoint=path)
    return path


def flip_byte(data: bytes, position: int) -> bytes:
    return data[:position] + bytes([data[position] ^ 0xFF]) + data[position + 1:]


def inside_the_first_array(data: bytes) -> int:
    """A position in the middle of the first member's array data."""
    first = zipfile.ZipFile(io.BytesIO(data)).infolist()[0]
    name_length, extra_length = struct.unpack("<HH", data[first.header_offset + 26:][:4])
    return first.header_offset + 30 + name_length + extra_length + first.file_size // 2


def rewrite_run_entry(data: bytes, change: Callable[[str], str]) -> bytes:
    """The same archive with its ``run`` JSON edited."""
    source, target = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(target, "w") as archive:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == "run.npy":
                text = np.lib.format.read_array(io.BytesIO(content)).tobytes().decode()
                buffer = io.BytesIO()
                np.lib.format.write_array(
                    buffer, np.frombuffer(change(text).encode(), dtype=np.uint8)
                )
                content = buffer.getvalue()
            archive.writestr(info.filename, content)
    return target.getvalue()


DAMAGE: dict[str, tuple[Callable[[bytes, Path], bytes], str]] = {
    "truncated to a half": (lambda data, _: data[: len(data) // 2], "not a NumPy .npz"),
    "truncated by one byte": (lambda data, _: data[:-1], "not a NumPy .npz"),
    "empty": (lambda data, _: b"", "not a NumPy .npz"),
    "a flipped byte": (lambda data, _: flip_byte(data, inside_the_first_array(data)),
                       "'model.0.weights' cannot be read: the file is damaged"),
    "random bytes": (lambda data, _: os.urandom(len(data)), "not a NumPy .npz"),
    "a saved model, not a checkpoint": (
        lambda _, folder: build()[0].save(folder / "model.npz").read_bytes(), "no 'run' entry"
    ),
    "another model's checkpoint": (
        lambda _, folder: _other_model_checkpoint(folder), "nothing loaded into Sequential"
    ),
    "another format version": (
        lambda data, _: rewrite_run_entry(data, lambda text: text.replace('"version": 1',
                                                                          '"version": 9')),
        "format version 9",
    ),
    "a damaged run record": (
        lambda data, _: rewrite_run_entry(data, lambda t: t[:-5]), "'run' entry is damaged"
    ),
}


def _other_model_checkpoint(folder: Path) -> bytes:
    model = nn.Sequential(nn.Dense(3, 5, rng=0), nn.Dropout(0.25, rng=1), nn.Dense(5, 1, rng=2))
    optimizer = nn.Adam(model.parameters(), lr=0.02)
    path = folder / "other.ckpt"
    train(model, optimizer, nn.StepLR(optimizer, step_size=2, gamma=0.5), 1, checkpoint=path)
    return path.read_bytes()


@pytest.mark.parametrize("damage", list(DAMAGE), ids=list(DAMAGE))
def test_a_damaged_truncated_or_foreign_checkpoint_is_refused_and_changes_nothing(
    tmp_path, damage
):
    make, words = DAMAGE[damage]
    path = tmp_path / "bad.ckpt"
    path.write_bytes(make(good_checkpoint(tmp_path).read_bytes(), tmp_path))
    model, optimizer, scheduler = build(seed=10)
    train(model, optimizer, scheduler, 1)  # moments, gradients and a schedule to protect
    before = everything(model, optimizer, scheduler)
    with pytest.raises(ValueError, match=words):
        train(model, optimizer, scheduler, 6, checkpoint=path, resume=True)
    assert everything(model, optimizer, scheduler) == before


def test_every_flipped_byte_is_refused_or_changes_nothing_that_is_read(tmp_path):
    data = good_checkpoint(tmp_path).read_bytes()
    model, optimizer, scheduler = build()
    reader = Checkpoint(tmp_path / "flipped.ckpt", model, optimizer, scheduler,
                        np.random.default_rng(), len(X), 8,
                        ["loss", "accuracy", "val_loss", "val_accuracy"])
    reader.path.write_bytes(data)
    intact = reader.read()
    refused = 0
    for position in random.Random(0).sample(range(len(data)), 300):
        reader.path.write_bytes(flip_byte(data, position))
        try:
            saved = reader.read()
        except ValueError as error:
            assert str(error).startswith("fit: cannot resume")
            refused += 1
            continue
        # the byte was one the reader never uses (zip metadata such as a timestamp)
        assert saved.epoch == intact.epoch and saved.history == intact.history
        for part in ("model", "optimizer"):
            mine, theirs = getattr(saved, part), getattr(intact, part)
            assert mine.keys() == theirs.keys()
            for key in mine:
                assert np.asarray(mine[key]).tobytes() == np.asarray(theirs[key]).tobytes()
    assert refused > 200


@pytest.mark.parametrize(
    "change, words",
    [
        (lambda: {"optimizer": "sgd"}, "optimizer Adam, this run has SGD"),
        (lambda: {"scheduler": None}, "scheduler StepLR, this run has None"),
        (lambda: {"batch_size": 4}, "in batches of 8, this one has 40 in batches of 4"),
        (lambda: {"metrics": []}, "history records"),
        (lambda: {"epochs": 1}, "already 2 epochs in, beyond epochs=1"),
    ],
    ids=["optimizer", "scheduler", "batch size", "metrics", "fewer epochs"],
)
def test_a_checkpoint_of_a_different_run_is_refused_and_changes_nothing(tmp_path, change, words):
    path = good_checkpoint(tmp_path)
    options = change()
    model, optimizer, scheduler = build(seed=10, optimizer=options.get("optimizer", "adam"))
    scheduler = options.get("scheduler", scheduler)
    before = everything(model, optimizer, scheduler)
    with pytest.raises(ValueError, match=words):
        nn.fit(model, nn.binary_cross_entropy_with_logits, optimizer, X, Y,
               epochs=options.get("epochs", 6), batch_size=options.get("batch_size", 8), rng=5,
               metrics=options.get("metrics", ["accuracy"]), validation_data=VALIDATION,
               progress=False, scheduler=scheduler, checkpoint=path, resume=True)
    assert everything(model, optimizer, scheduler) == before


def test_a_refusal_by_the_optimizer_puts_the_model_back(tmp_path, monkeypatch):
    path = good_checkpoint(tmp_path)
    model, optimizer, scheduler = build(seed=10)
    before = everything(model, optimizer, scheduler)

    def refuse(state: Any) -> None:
        raise ValueError("Adam.load_state_dict: 'exp_avg.0' is broken")

    monkeypatch.setattr(optimizer, "load_state_dict", refuse)
    with pytest.raises(ValueError, match="'exp_avg.0' is broken; nothing was changed"):
        train(model, optimizer, scheduler, 6, checkpoint=path, resume=True)
    monkeypatch.undo()
    assert everything(model, optimizer, scheduler) == before


@pytest.mark.parametrize(
    "options, error, words",
    [
        ({"resume": True}, ValueError, "resume=True needs checkpoint"),
        ({"checkpoint": "/no/such/folder/run.ckpt"}, ValueError, "existing folder"),
        ({"checkpoint": 3}, TypeError, "checkpoint must be a path"),
        ({"checkpoint": "run.ckpt", "model": lambda x: x}, TypeError, "needs an nn.Module"),
        ({"resume": "yes"}, TypeError, "resume must be True or False"),
    ],
    ids=["resume without a path", "missing folder", "not a path", "not a Module", "resume"],
)
def test_fit_refuses_checkpoint_arguments_before_the_first_step(tmp_path, monkeypatch, options,
                                                               error, words):
    monkeypatch.chdir(tmp_path)
    model, optimizer, scheduler = build()
    train(model, optimizer, scheduler, 1)
    before = everything(model, optimizer, scheduler)
    runner = options.pop("model", model)
    with pytest.raises(error, match=words):
        nn.fit(runner, nn.binary_cross_entropy_with_logits, optimizer, X, Y, epochs=2,
               batch_size=8, progress=False, scheduler=scheduler, **options)
    assert everything(model, optimizer, scheduler) == before
    assert os.listdir(tmp_path) == []


# --- killed at random moments ---------------------------------------------------------------
SCRIPT = textwrap.dedent('''
    """Train with a checkpoint, resuming it; the test kills this process at random moments."""
    import json
    import sys
    import time

    import numpy as np

    import nn

    EPOCHS = 80


    def build():
        x = np.random.default_rng(0).normal(size=(48, 4))
        y = (x[:, :1] * x[:, 1:2] > 0).astype(float)
        model = nn.Sequential(nn.Dense(4, 16, activation="relu", rng=1),
                              nn.Dropout(0.2, rng=2), nn.Dense(16, 1, rng=3))
        optimizer = nn.Adam(model.parameters(), lr=0.01)
        scheduler = nn.StepLR(optimizer, step_size=5, gamma=0.8)
        return x, y, model, optimizer, scheduler


    def train(x, y, model, optimizer, scheduler, checkpoint):
        return nn.fit(model, nn.binary_cross_entropy_with_logits, optimizer, x, y,
                      epochs=EPOCHS, batch_size=8, rng=4, metrics=["accuracy"],
                      validation_data=(x[:12], y[:12]), progress=False, scheduler=scheduler,
                      checkpoint=checkpoint, resume=checkpoint is not None)


    if __name__ == "__main__":
        checkpoint, result, pause = sys.argv[1], sys.argv[2], float(sys.argv[3])
        write_array = np.lib.format.write_array

        def slow_write_array(*args, **kwargs):  # widens the window for a kill mid-write
            write_array(*args, **kwargs)
            time.sleep(pause)

        np.lib.format.write_array = slow_write_array
        x, y, model, optimizer, scheduler = build()
        print("ready", flush=True)
        history = train(x, y, model, optimizer, scheduler, checkpoint)
        np.lib.format.write_array = write_array
        model.save(result + ".npz")
        with open(result + ".json", "w") as file:
            json.dump(history.history, file)
''')


KILLS = 30


def test_runs_killed_at_random_moments_resume_to_the_uninterrupted_result(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    run = runpy.run_path(str(script))
    x, y, model, optimizer, scheduler = run["build"]()
    reference = run["train"](x, y, model, optimizer, scheduler, None)
    history_keys = list(reference.keys())
    checkpoint, result = tmp_path / "run.ckpt", tmp_path / "result"

    def start() -> subprocess.Popen[str]:
        pause = chooser.choice([0.0, 0.004])  # slow writes in half the runs
        process = subprocess.Popen(
            [sys.executable, str(script), str(checkpoint), str(result), str(pause)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        assert process.stdout is not None
        if process.stdout.readline() != "ready\n":
            raise AssertionError(process.communicate()[1])
        return process

    chooser = random.Random(0)
    window = 0.05  # kills fall in [0, window] s after start-up; kept near one epoch per run
    kills = kills_mid_write = 0
    epochs_on_disk = [0]
    started = time.monotonic()
    while kills < KILLS:
        process = start()
        time.sleep(chooser.uniform(0.0, window))
        if process.poll() is not None:
            break  # it finished first: too few kills, reported below
        process.kill()  # SIGKILL
        process.wait()
        kills += 1
        leftovers = list(tmp_path.glob(".run.ckpt.*.tmp"))
        kills_mid_write += bool(leftovers)
        for leftover in leftovers:
            leftover.unlink()
        epoch = 0
        if checkpoint.exists():  # complete, and it loads into a fresh run
            _, _, fresh, fresh_optimizer, fresh_scheduler = run["build"]()
            reader = Checkpoint(checkpoint, fresh, fresh_optimizer, fresh_scheduler,
                                np.random.default_rng(), len(x), 8, history_keys)
            saved = reader.read()
            reader.apply(saved)
            epoch = saved.epoch
        advance = epoch - epochs_on_disk[-1]
        assert advance >= 0
        window *= 0.6 if advance > 1 else 1.3 if advance == 0 else 1.0
        epochs_on_disk.append(epoch)
    process = start()
    _, errors = process.communicate(timeout=120)
    assert process.returncode == 0, errors
    seconds = time.monotonic() - started

    resumed = run["build"]()[2]
    resumed.load(f"{result}.npz")
    assert_same_parameters(resumed, model)
    assert json.loads(Path(f"{result}.json").read_text()) == reference.history
    assert kills == KILLS and 5 <= kills_mid_write <= KILLS - 5, (kills, kills_mid_write)
    assert len(set(epochs_on_disk)) >= 5  # the kills fell all along the run
    print(f"{kills} kills ({kills_mid_write} during a write) survived in {seconds:.1f} s; "
          f"epochs on disk after each: {epochs_on_disk[1:]}")
