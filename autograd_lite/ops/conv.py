"""Convolution and pooling over images in PyTorch's layout (batch, channels, height, width).

All three ops look at the input through the same window view: ``sliding_window_view`` gives,
without copying, an array ``(n, c, out_h, out_w, kh, kw)`` whose entry ``[..., i, j]`` is the
pixel at row ``r * stride_h + i`` and column ``q * stride_w + j`` of output position ``(r, q)``.
``conv2d`` copies that view once into an im2col matrix and does one matrix multiply; the pools
reduce over its last two axes.

Every backward pass ends the same way: a gradient per window element has to be added back onto
the pixel it came from (``col2im``). Windows overlap when the stride is smaller than the kernel,
so this is a scatter-add; it loops over the kh * kw kernel offsets, each step one vectorized
strided ``+=`` over the whole batch (9 steps for a 3x3 kernel, never a loop over pixels).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from autograd_lite.engine import is_grad_enabled, record
from autograd_lite.ops import dual
from autograd_lite.ops.operands import as_tensor, int_pair
from autograd_lite.tensor import Tensor, wrap

Pair = tuple[int, int]


def _image(x: Any, op: str) -> Tensor:
    x = as_tensor(x, op)
    if x.ndim != 4:
        raise ValueError(
            f"{op}: input must be 4-D (batch, channels, height, width), got shape {x.shape}"
        )
    return x


def _output_size(
    op: str, shape: tuple[int, ...], kernel: Pair, stride: Pair, padding: Pair
) -> Pair:
    """(out_h, out_w) = (size + 2 * padding - kernel) // stride + 1 along each axis."""
    height = shape[2] + 2 * padding[0]
    width = shape[3] + 2 * padding[1]
    if kernel[0] > height or kernel[1] > width:
        padded = f" (padded by {padding} to {height}x{width})" if any(padding) else ""
        raise ValueError(
            f"{op}: kernel {kernel[0]}x{kernel[1]} is larger than the input of shape "
            f"{shape}{padded}; use a smaller kernel or more padding"
        )
    return (height - kernel[0]) // stride[0] + 1, (width - kernel[1]) // stride[1] + 1


def windows_array(data: np.ndarray, kernel: Pair, stride: Pair) -> np.ndarray:
    """A no-copy view ``(n, c, out_h, out_w, kh, kw)`` of every window of ``data``."""
    view = sliding_window_view(data, kernel, axis=(2, 3))
    return view[:, :, :: stride[0], :: stride[1]]


def col2im_array(cols: np.ndarray, shape: tuple[int, ...], stride: Pair) -> np.ndarray:
    """Add every window element of ``cols`` (n, c, out_h, out_w, kh, kw) back onto its pixel.

    The adjoint of :func:`windows_array`: the result has ``shape`` (n, c, h, w), and pixels that no
    window covers get 0. NOTE: one strided ``+=`` per kernel offset, because overlapping windows
    send several gradients to one pixel; non-overlapping windows (stride == kernel) send at most
    one, so each offset is a plain strided copy, into uninitialized memory when they cover every
    pixel (twice as fast as a transposing reshape).
    """
    n, c, out_h, out_w, kh, kw = cols.shape
    rows = stride[0] * (out_h - 1) + 1
    columns = stride[1] * (out_w - 1) + 1
    tiled = stride == (kh, kw)
    covered = tiled and tuple(shape[2:]) == (out_h * kh, out_w * kw)
    grad = np.empty(shape, dtype=cols.dtype) if covered else np.zeros(shape, dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            pixels = grad[:, :, i : i + rows : stride[0], j : j + columns : stride[1]]
            if tiled:
                pixels[...] = cols[..., i, j]
            else:
                pixels += cols[..., i, j]
    return grad


def windows(x: Any, kernel: Pair, stride: Pair) -> Tensor:
    """out = the window view of x, ``(n, c, out_h, out_w, kh, kw)``;  dL/dx = col2im(dL/dout).
    What conv2d's gradients are made of, so that they can be differentiated again."""
    x = as_tensor(x, "windows")
    out = windows_array(x._data, kernel, stride)
    return record("windows", out, (x,), windows_backward, (x.shape, stride), {"kernel": kernel})


def windows_backward(grad_out: Any, shape: tuple[int, ...], stride: Pair) -> tuple:
    return (dual.col2im(grad_out, shape, stride),)


def col2im(cols: Any, shape: tuple[int, ...], stride: Pair) -> Tensor:
    """out = every window element added back onto its pixel (the adjoint of ``windows``);
    dL/dcols = the window view of dL/dout."""
    cols = as_tensor(cols, "col2im")
    out = col2im_array(cols._data, shape, stride)
    kernel = cols.shape[4:]
    return record("col2im", out, (cols,), col2im_backward, (kernel, stride), {"stride": stride})


def col2im_backward(grad_out: Any, kernel: Pair, stride: Pair) -> tuple:
    return (dual.windows(grad_out, kernel, stride),)


def _padded(x: Any, padding: Pair) -> Any:
    """x with ``padding`` zeros on each side of its height and width."""
    if not any(padding):
        return x
    (ph, pw), (n, c, height, width) = padding, x.shape
    interior = (slice(None), slice(None), slice(ph, ph + height), slice(pw, pw + width))
    return dual.scatter_add(x, (n, c, height + 2 * ph, width + 2 * pw), interior)


def _columns(padded: Any, kernel: Pair, stride: Pair) -> Any:
    """im2col: rows are window elements (c, i, j), columns are output positions (b, r, q).

    NOTE: this order (not positions-by-elements) makes both the copy and the transposes in
    conv2d move whole contiguous rows of out_w pixels, which is ~3x faster for thin kernels.
    """
    view = dual.windows(padded, kernel, stride)
    n, channels, out_h, out_w, kh, kw = view.shape
    return view.transpose(1, 4, 5, 0, 2, 3).reshape(channels * kh * kw, n * out_h * out_w)


def conv2d(x: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0) -> Tensor:
    """2-D cross-correlation, PyTorch's ``conv2d``: x (n, c, h, w), weight (o, c, kh, kw).

    out[b, o, r, q] = bias[o] + Σ_{c,i,j} weight[o, c, i, j] * xp[b, c, r*sh + i, q*sw + j],
    where xp is x zero-padded by ``padding`` on each side; out has shape
    (n, o, (h + 2 ph - kh) // sh + 1, (w + 2 pw - kw) // sw + 1). ``stride`` and ``padding``
    take an int or an (h, w) pair.

    Derivatives, with g = dL/dout:
    dL/dweight[o, c, i, j] = Σ_{b,r,q} g[b, o, r, q] * xp[b, c, r*sh + i, q*sw + j];
    dL/dbias[o] = Σ_{b,r,q} g[b, o, r, q];
    dL/dxp[b, c, r*sh + i, q*sw + j] += Σ_o g[b, o, r, q] * weight[o, c, i, j], then the
    padding is cut off. Computed as im2col: one matrix multiply each way.

    >>> x = Tensor(np.arange(16.0).reshape(1, 1, 4, 4), requires_grad=True)
    >>> w = Tensor(np.ones((1, 1, 2, 2)), requires_grad=True)
    >>> out = conv2d(x, w, stride=2)
    >>> out
    Tensor([[[[10., 18.],
              [42., 50.]]]], op='conv2d', requires_grad=True)
    >>> out.sum().backward()
    >>> w.grad[0, 0]
    array([[20., 24.],
           [36., 40.]])
    """
    x = _image(x, "conv2d")
    weight = as_tensor(weight, "conv2d")
    if weight.ndim != 4:
        raise ValueError(
            f"conv2d: weight must be 4-D (out_channels, in_channels, kh, kw), "
            f"got shape {weight.shape}"
        )
    n, channels, height, width = x.shape
    out_channels, weight_channels, kh, kw = weight.shape
    if weight_channels != channels:
        raise ValueError(
            f"conv2d: input of shape {x.shape} has {channels} channels but weight of shape "
            f"{weight.shape} expects {weight_channels}"
        )
    if bias is not None:
        bias = as_tensor(bias, "conv2d")
        if bias.shape != (out_channels,):
            raise ValueError(
                f"conv2d: bias must have shape ({out_channels},) to match weight of shape "
                f"{weight.shape}, got {bias.shape}"
            )
    stride = int_pair(stride, "stride", "conv2d", smallest=1)
    padding = int_pair(padding, "padding", "conv2d", smallest=0)
    if min(kh, kw) < 1:
        raise ValueError(f"conv2d: weight of shape {weight.shape} has an empty kernel")
    out_h, out_w = _output_size("conv2d", x.shape, (kh, kw), stride, padding)

    cols = _columns(_padded(x._data, padding), (kh, kw), stride)
    out_rows = weight._data.reshape(out_channels, channels * kh * kw) @ cols
    if bias is not None:
        out_rows = out_rows + bias._data[:, None]
    out = np.ascontiguousarray(
        out_rows.reshape(out_channels, n, out_h, out_w).transpose(1, 0, 2, 3)
    )

    cols_if_needed = cols if weight.requires_grad else None  # only dL/dweight needs them
    needs = (x.requires_grad, weight.requires_grad, bias is not None and bias.requires_grad)
    saved = (x._data, weight._data, cols_if_needed, stride, padding, needs, bias is not None)
    parents = (x, weight) if bias is None else (x, weight, bias)
    attrs = {"stride": stride, "padding": padding}
    return record("conv2d", out, parents, conv2d_backward, saved, attrs=attrs)


def conv2d_backward(
    grad_out: Any,
    x: Any,
    weight: Any,
    cols: Any,
    stride: Pair,
    padding: Pair,
    needs: tuple[bool, bool, bool],
    has_bias: bool,
) -> tuple:
    """With G = ``grad_out`` as an (out_channels, positions) matrix: dL/dweight = G @ colsᵀ,
    dL/dbias = G summed over positions, dL/dx = col2im(Wᵀ @ G) with the padding cut off."""
    needs_x, needs_weight, needs_bias = needs
    out_channels, channels, kh, kw = weight.shape
    n, _, out_h, out_w = grad_out.shape
    grad_rows = grad_out.transpose(1, 0, 2, 3).reshape(out_channels, n * out_h * out_w)
    grad_x = grad_weight = grad_bias = None
    if needs_weight:
        if dual.is_recorded(grad_out):  # differentiated again: cols must be a function of x
            cols = _columns(_padded(x, padding), (kh, kw), stride)
        grad_weight = (grad_rows @ cols.T).reshape(weight.shape)
    if needs_bias:
        grad_bias = grad_rows.sum(axis=1)
    if needs_x:
        kernel_matrix = weight.reshape(out_channels, channels * kh * kw)
        grad_cols = (kernel_matrix.T @ grad_rows).reshape(channels, kh, kw, n, out_h, out_w)
        (ph, pw), (height, width) = padding, x.shape[2:]
        # NOTE: summed with channels before images, the order the matrix product gives, so
        # that each kernel offset adds a contiguous block (images first made col2im gather
        # every block across channels); the transpose back is a view.
        padded_shape = (channels, n, height + 2 * ph, width + 2 * pw)
        grad_padded = dual.col2im(grad_cols.transpose(0, 3, 4, 5, 1, 2), padded_shape, stride)
        grad_x = grad_padded.transpose(1, 0, 2, 3)[:, :, ph : ph + height, pw : pw + width]
    return (grad_x, grad_weight, grad_bias) if has_bias else (grad_x, grad_weight)


def _pool_setup(
    op: str, x: Any, kernel_size: Any, stride: Any
) -> tuple[Tensor, Pair, Pair, np.ndarray]:
    """Check a pool's arguments; return x, kernel, stride and the window view."""
    x = _image(x, op)
    kernel = int_pair(kernel_size, "kernel_size", op, smallest=1)
    steps = kernel if stride is None else int_pair(stride, "stride", op, smallest=1)
    _output_size(op, x.shape, kernel, steps, (0, 0))
    return x, kernel, steps, windows_array(x._data, kernel, steps)


def max_pool2d(x: Any, kernel_size: Any, stride: Any = None) -> Tensor:
    """The largest value in each kh x kw window; ``stride`` defaults to ``kernel_size``.

    out[b, c, r, q] = max_{i,j} x[b, c, r*sh + i, q*sw + j];
    dL/dx = dL/dout at the element each window picked, 0 elsewhere (summed where windows
    overlap and pick the same element).

    NOTE: when a window holds several equal maxima, its whole gradient goes to the first one in
    row-major order, as in PyTorch's ``max_pool2d``, not shared like ``max``'s ties: a pool
    picks one element per window.

    >>> x = Tensor([[[[1.0, 2.0], [2.0, 0.0]]]], requires_grad=True)
    >>> max_pool2d(x, 2).sum().backward()
    >>> x.grad
    array([[[[0., 1.],
             [0., 0.]]]])
    """
    x, kernel, stride, windows = _pool_setup("max_pool2d", x, kernel_size, stride)
    if not (x.requires_grad and is_grad_enabled()):
        # Nothing will be recorded, so skip finding which element each window picked.
        return wrap(windows.max(axis=(4, 5)))
    kh, kw = kernel
    offsets = [(i, j) for i in range(kh) for j in range(kw)]  # row-major: the tie order
    out = windows[..., 0, 0].copy()
    for i, j in offsets[1:]:
        np.maximum(out, windows[..., i, j], out=out)
    # chosen[i, j]: the windows that picked their element (i, j), the first maximum in
    # row-major order. One contiguous mask per kernel offset (a strided layout was 2.5x
    # slower); ``free`` holds the windows that have not picked yet.
    chosen = np.empty((kh, kw, *out.shape), dtype=bool)
    free = np.ones(out.shape, dtype=bool)
    for i, j in offsets:
        hit = np.equal(windows[..., i, j], out, out=chosen[i, j])
        hit &= free
        free ^= hit
    if free.any():  # a window holding NaN has maximum NaN, equal to nothing: its first NaN
        for i, j in offsets:
            first_nan = np.isnan(windows[..., i, j]) & free
            chosen[i, j] |= first_nan
            free ^= first_nan
    attrs = {"kernel_size": kernel, "stride": stride}
    saved = (chosen, x.shape, stride)
    return record("max_pool2d", out, (x,), max_pool2d_backward, saved, attrs=attrs)


def max_pool2d_backward(
    grad_out: Any, chosen: np.ndarray, shape: tuple[int, ...], stride: Pair
) -> tuple:
    """dL/dx: each window's gradient put on the element it picked, then added onto the pixels."""
    picked = grad_out * chosen  # (kh, kw, n, c, out_h, out_w)
    return (dual.col2im(picked.transpose(2, 3, 4, 5, 0, 1), shape, stride),)


def avg_pool2d(x: Any, kernel_size: Any, stride: Any = None) -> Tensor:
    """The mean of each kh x kw window; ``stride`` defaults to ``kernel_size``.

    out[b, c, r, q] = Σ_{i,j} x[b, c, r*sh + i, q*sw + j] / (kh * kw);
    dL/dx[b, c, r*sh + i, q*sw + j] += dL/dout[b, c, r, q] / (kh * kw) for every window.

    >>> x = Tensor(np.arange(16.0).reshape(1, 1, 4, 4))
    >>> avg_pool2d(x, 2)
    Tensor([[[[ 2.5,  4.5],
              [10.5, 12.5]]]])
    """
    x, kernel, stride, windows = _pool_setup("avg_pool2d", x, kernel_size, stride)
    out = windows.mean(axis=(4, 5))
    attrs = {"kernel_size": kernel, "stride": stride}
    saved = (x.shape, windows.shape, stride)
    return record("avg_pool2d", out, (x,), avg_pool2d_backward, saved, attrs=attrs)


def avg_pool2d_backward(
    grad_out: Any, shape: tuple[int, ...], window_shape: tuple[int, ...], stride: Pair
) -> tuple:
    """dL/dx: each window's gradient shared equally among its kh * kw elements."""
    count = window_shape[4] * window_shape[5]
    cols = dual.broadcast_to((grad_out / count)[..., None, None], window_shape)
    return (dual.col2im(cols, shape, stride),)
