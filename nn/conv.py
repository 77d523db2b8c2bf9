"""Layers for images, in PyTorch's layout (batch, channels, height, width).

``Conv2d`` holds a bank of filters and applies :func:`autograd_lite.conv2d`; ``MaxPool2d`` and
``AvgPool2d`` wrap the pooling ops; ``Flatten`` turns feature maps into the feature vectors a
``Dense`` layer reads; ``Dropout`` zeroes random activations while training.

>>> import numpy as np
>>> import nn
>>> model = nn.Sequential(
...     Conv2d(1, 4, 3, padding=1, rng=0), nn.ReLU(), MaxPool2d(2), Flatten(), nn.Dense(64, 10)
... )
>>> model(np.zeros((2, 1, 8, 8))).shape
(2, 10)
"""

from __future__ import annotations

from typing import Any

import numpy as np

import autograd_lite as ag
from autograd_lite import Tensor
from autograd_lite.ops.operands import int_pair
from nn.layers import fan_in_uniform
from nn.module import Module
from nn.validation import (
    as_generator,
    bias_flag,
    float_dtype,
    numeric_input,
    positive_int,
)

IntOrPair = int | tuple[int, int]


class Conv2d(Module):
    """A 2-D convolution layer: out = conv2d(x, weights, bias, stride, padding).

    ``weights`` has shape ``(out_channels, in_channels, kh, kw)`` and ``bias`` shape
    ``(out_channels,)`` (``None`` with ``bias=False``). Both start uniform in
    ``[-1/√fan_in, 1/√fan_in]`` with ``fan_in = in_channels * kh * kw``, PyTorch's default.
    See :func:`autograd_lite.conv2d` for the formula and its gradients.

    >>> layer = Conv2d(3, 8, kernel_size=3, stride=2, padding=1, rng=0)
    >>> layer.weights.shape, layer.bias.shape
    ((8, 3, 3, 3), (8,))
    >>> layer(np.zeros((5, 3, 9, 9))).shape
    (5, 8, 5, 5)
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: IntOrPair,
        stride: IntOrPair = 1,
        padding: IntOrPair = 0,
        bias: bool = True,
        rng: int | np.random.Generator | None = None,
        dtype: Any = np.float64,
    ) -> None:
        super().__init__()
        self.in_channels = positive_int(in_channels, "in_channels", "Conv2d")
        self.out_channels = positive_int(out_channels, "out_channels", "Conv2d")
        self.kernel_size = int_pair(kernel_size, "kernel_size", "Conv2d", smallest=1)
        self.stride = int_pair(stride, "stride", "Conv2d", smallest=1)
        self.padding = int_pair(padding, "padding", "Conv2d", smallest=0)
        has_bias = bias_flag(bias, "Conv2d")
        kind = float_dtype(dtype, "Conv2d")
        generator = as_generator(rng, "Conv2d")
        fan_in = self.in_channels * self.kernel_size[0] * self.kernel_size[1]
        shape = (self.out_channels, self.in_channels, *self.kernel_size)
        self.weights = fan_in_uniform(generator, fan_in, shape, kind, "Conv2d")
        self.bias = (
            fan_in_uniform(generator, fan_in, (self.out_channels,), kind, "Conv2d")
            if has_bias
            else None
        )

    def forward(self, x: Any) -> Tensor:
        x = numeric_input(self, x)
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f"{self.label()}: expected input of shape (batch, {self.in_channels}, height, "
                f"width), got shape {x.shape}"
            )
        try:
            return ag.conv2d(x, self.weights, self.bias, self.stride, self.padding)
        except (TypeError, ValueError) as error:  # e.g. an image smaller than the kernel
            raise type(error)(f"{self.label()}: {error}") from None

    def label(self) -> str:
        kh, kw = self.kernel_size
        return f"Conv2d({self.in_channels}→{self.out_channels}, {kh}x{kw})"

    def extra_repr(self) -> str:
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}"
        if self.stride != (1, 1):
            text += f", stride={self.stride}"
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        return text if self.bias is not None else text + ", bias=False"


class _Pool2d(Module):
    """What the two pooling layers share: a window size and a stride (default: the window)."""

    def __init__(self, kernel_size: IntOrPair, stride: IntOrPair | None = None) -> None:
        super().__init__()
        name = type(self).__name__
        self.kernel_size = int_pair(kernel_size, "kernel_size", name, smallest=1)
        self.stride = (
            self.kernel_size if stride is None else int_pair(stride, "stride", name, smallest=1)
        )

    def _pool(self, op: Any, x: Any) -> Tensor:
        x = numeric_input(self, x)
        try:
            return op(x, self.kernel_size, self.stride)
        except (TypeError, ValueError) as error:
            raise type(error)(f"{self.label()}: {error}") from None

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}"


class MaxPool2d(_Pool2d):
    """The largest value of each window (:func:`autograd_lite.max_pool2d`); ties send the
    gradient to the first maximum, as in PyTorch.

    >>> MaxPool2d(2)(np.arange(16.0).reshape(1, 1, 4, 4))
    Tensor([[[[ 5.,  7.],
              [13., 15.]]]])
    """

    def forward(self, x: Any) -> Tensor:
        return self._pool(ag.max_pool2d, x)


class AvgPool2d(_Pool2d):
    """The mean of each window (:func:`autograd_lite.avg_pool2d`).

    >>> AvgPool2d(2, stride=2)(np.arange(16.0).reshape(1, 1, 4, 4))
    Tensor([[[[ 2.5,  4.5],
              [10.5, 12.5]]]])
    """

    def forward(self, x: Any) -> Tensor:
        return self._pool(ag.avg_pool2d, x)


class Flatten(Module):
    """Keep the batch axis, flatten the rest: (batch, c, h, w) → (batch, c * h * w).

    >>> Flatten()(np.zeros((2, 3, 4, 5))).shape
    (2, 60)
    """

    def forward(self, x: Any) -> Tensor:
        x = numeric_input(self, x)
        if x.ndim < 2:
            raise ValueError(f"Flatten: input needs a batch axis and more, got shape {x.shape}")
        return ag.flatten(x, 1)


class Dropout(Module):
    """Zero each element with probability ``p`` while training; identity in eval mode.

    In training mode out = x * mask / (1 - p) with mask ~ Bernoulli(1 - p) drawn afresh on every
    call ("inverted dropout": the scaling keeps the expected value of every element, so nothing
    changes at evaluation time); dL/dx = dL/dout * mask / (1 - p). ``p = 1`` zeroes everything.

    >>> drop = Dropout(0.5, rng=0)
    >>> out = drop(np.ones((2, 4)))
    >>> sorted(set(out.data.ravel().tolist()))
    [0.0, 2.0]
    >>> drop.eval()(np.ones((2, 4))).data.tolist()
    [[1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0]]
    """

    def __init__(self, p: float = 0.5, rng: int | np.random.Generator | None = None) -> None:
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)):
            raise TypeError(f"Dropout: p must be a number in [0, 1], got {p!r}")
        if not 0 <= p <= 1:
            raise ValueError(f"Dropout: p must be in [0, 1], got {p}")
        self.p = float(p)
        self._rng = as_generator(rng, "Dropout")

    def forward(self, x: Any) -> Tensor:
        x = numeric_input(self, x)
        x = x if isinstance(x, Tensor) else Tensor(x)
        if not self.training or self.p == 0:
            return x
        keep = self._rng.random(x.shape) >= self.p
        scale = 0.0 if self.p == 1 else 1 / (1 - self.p)
        return x * (keep * np.asarray(scale, dtype=x.dtype))

    def extra_repr(self) -> str:
        return f"p={self.p}"
