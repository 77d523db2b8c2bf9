"""A PyTorch training script runs here unchanged but for the import and the names in
README's "Coming from PyTorch" table: creation with randn, ``with no_grad(): w -= ...``,
argmax accuracy, AdamW with a cosine schedule and gradient clipping."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")

PYTORCH_SCRIPT = '''
import numpy as np
import torch
import torch.nn.functional as F

data = np.random.default_rng(0).normal(size=(256, 2))
X = torch.tensor(data.astype(np.float32))
y = torch.tensor((data[:, 0] * data[:, 1] > 0).astype(np.int64))   # opposite quadrants

gen = torch.Generator().manual_seed(0)
W1 = torch.randn(2, 32, generator=gen, requires_grad=True)
b1 = torch.zeros(32, requires_grad=True)
W2 = torch.randn(32, 2, generator=gen, requires_grad=True)
b2 = torch.zeros(2, requires_grad=True)
params = [W1, b1, W2, b2]

def forward(inputs):
    return torch.tanh(inputs @ W1 + b1) @ W2 + b2

EPOCHS = 150
optimizer = torch.optim.AdamW(params, lr=0.05, weight_decay=0.01)
scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=EPOCHS)
norms = []
for epoch in range(EPOCHS):
    optimizer.zero_grad()
    loss = F.cross_entropy(forward(X), y)
    loss.backward()
    norms.append(float(torch.nn.utils.clip_grad_norm_(params, max_norm=1.0)))
    optimizer.step()
    scheduler.step()
first_loss = F.cross_entropy(forward(X), y).item()

for step in range(20):   # then plain gradient descent, by hand
    for p in params:
        p.grad = None
    loss = F.cross_entropy(forward(X), y)
    loss.backward()
    with torch.no_grad():
        for p in params:
            p -= 0.05 * p.grad

with torch.no_grad():
    accuracy = (forward(X).argmax(dim=1) == y).float().mean().item()
final_loss = loss.item()
last_lr = scheduler.get_last_lr()[0]
'''

# Each pair is a row of README's table (checked below), most specific first.
RENAMES = [
    ("import torch.nn.functional as F\n", ""),
    ("import torch\n", "import autograd_lite as ag\nimport nn\n"),
    ("torch.Generator().manual_seed(0)", "0"),
    ("generator=", "rng="),
    ("torch.optim.lr_scheduler.CosineAnnealingLR", "nn.CosineAnnealingLR"),
    ("torch.optim.AdamW", "nn.AdamW"),
    ("torch.nn.utils.clip_grad_norm_", "nn.clip_grad_norm"),
    ("F.cross_entropy", "nn.cross_entropy"),
    ("dim=", "axis="),
    ("torch.", "ag."),
]
IN_THE_TABLE = {
    "torch.Generator().manual_seed(0)": "generator=g",
    "generator=": "generator=g",
    "torch.optim.lr_scheduler.CosineAnnealingLR": "CosineAnnealingLR",
    "torch.optim.AdamW": "AdamW",
    "torch.nn.utils.clip_grad_norm_": "clip_grad_norm_",
    "F.cross_entropy": "F.cross_entropy",
    "dim=": "dim=1",
    "torch.": "torch.tensor",
}


def translated() -> str:
    script = PYTORCH_SCRIPT
    for theirs, ours in RENAMES:
        script = script.replace(theirs, ours)
    return script


def test_every_rename_is_a_row_of_the_readme_table() -> None:
    table = README.split("## Coming from PyTorch", 1)[1].split("\n## ", 1)[0]
    for theirs, _ in RENAMES[2:]:
        assert IN_THE_TABLE[theirs] in table, theirs
    assert "torch" not in re.sub(r"#.*", "", translated())


def test_the_pytorch_script_runs_here_with_only_the_table_s_renames() -> None:
    namespace: dict = {}
    exec(compile(translated(), "pytorch-style script", "exec"), namespace)
    assert namespace["accuracy"] >= 0.95
    assert namespace["final_loss"] < namespace["first_loss"] < 0.3
    assert max(namespace["norms"]) > 1.0  # clipping had work to do
    assert namespace["last_lr"] == pytest.approx(0.0, abs=1e-12)  # the cosine ran to its end
    import autograd_lite as ag

    w1 = namespace["W1"]
    assert isinstance(w1, ag.Tensor) and w1.requires_grad and w1.op is None  # still a leaf


def test_pytorch_itself_runs_the_original_alike() -> None:
    pytest.importorskip("torch", reason="the original script needs PyTorch")
    theirs: dict = {}
    exec(compile(PYTORCH_SCRIPT, "pytorch script", "exec"), theirs)
    ours: dict = {}
    exec(compile(translated(), "pytorch-style script", "exec"), ours)
    assert theirs["accuracy"] >= 0.95 and ours["accuracy"] >= 0.95
    assert ours["last_lr"] == pytest.approx(theirs["last_lr"], abs=1e-12)
