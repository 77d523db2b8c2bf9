"""nn: neural-network building blocks on top of autograd_lite.

Modules (``Neuron``, ``Dense``, ``Sequential``, ``MLP``, the activations with ``GELU``; for
images ``Conv2d``, ``MaxPool2d``, ``AvgPool2d``, ``Flatten`` and ``Dropout``; for sequences
``Embedding``, ``LayerNorm`` and ``SelfAttention``), losses, optimizers (``SGD``, ``Adam``,
``AdamW``, ``clip_grad_norm``) and their schedules (``StepLR``, ``CosineAnnealingLR``),
``fit``/``evaluate`` for training loops (with checkpoints that resume), ``export_onnx``, and
in :mod:`nn.rules` the classic hand-written learning rules that autograd's gradients are
checked against.

>>> import numpy as np
>>> import nn
>>> model = nn.MLP(2, [8], 1, rng=0)
>>> optimizer = nn.SGD(model.parameters(), lr=0.1)
>>> X, y = np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([[1.0], [0.0]])
>>> before = nn.mse_loss(model(X), y).item()
>>> for _ in range(20):
...     optimizer.zero_grad()
...     loss = nn.mse_loss(model(X), y)
...     loss.backward()
...     optimizer.step()
>>> loss.item() < before
True
"""

from nn import rules
from nn.activations import GELU, ReLU, Sigmoid, Step, Tanh, get_activation
from nn.conv import AvgPool2d, Conv2d, Dropout, Flatten, MaxPool2d
from nn.export import export_onnx
from nn.layers import MLP, Dense, Neuron, Sequential
from nn.losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    mse_loss,
)
from nn.module import Module
from nn.optim import SGD, Adam, AdamW, Optimizer, clip_grad_norm
from nn.schedules import CosineAnnealingLR, LRScheduler, StepLR
from nn.sequence import Embedding, LayerNorm, SelfAttention
from nn.training import History, evaluate, fit

__all__ = [
    "MLP", "SGD", "Adam", "Dense", "Module", "Neuron", "Optimizer", "ReLU", "Sequential",
    "Sigmoid", "Step", "Tanh", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "cross_entropy", "get_activation", "mse_loss", "rules",
    "History", "evaluate", "fit",
    "AvgPool2d", "Conv2d", "Dropout", "Flatten", "MaxPool2d",
    "Embedding", "GELU", "LayerNorm", "SelfAttention",
    "export_onnx",
    "AdamW", "clip_grad_norm", "CosineAnnealingLR", "LRScheduler", "StepLR",
]
