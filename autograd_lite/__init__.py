"""autograd_lite: a small automatic-differentiation engine on NumPy.

A :class:`Tensor` records every operation applied to it; ``backward()`` walks that graph in
reverse and leaves dL/dx in ``.grad`` of every tensor it reaches.

>>> import autograd_lite as ag
>>> w = ag.Tensor([0.5, -0.5], requires_grad=True)
>>> loss = ag.sigmoid(ag.dot(w, [1.0, 2.0]))
>>> loss.backward()
>>> w.grad.round(4)
array([0.235, 0.47 ])
"""

# The engine is imported first: it completes its own import of the tensor module.
from autograd_lite.engine import grad, is_grad_enabled, name_scope, no_grad  # isort: skip
from autograd_lite.tensor import Tensor  # isort: skip
from autograd_lite import func

# ``autograd_lite.tensor`` is the creation function (PyTorch's name), which hides the module of
# that name as an attribute; ``from autograd_lite.tensor import Tensor`` still finds the module.
from autograd_lite.creation import (
    arange,
    full,
    linspace,
    ones,
    ones_like,
    rand,
    randn,
    tensor,
    zeros,
    zeros_like,
)
from autograd_lite.explain import explain, explain_html
from autograd_lite.gradcheck import GradcheckError, gradcheck, gradgradcheck
from autograd_lite.ops import (
    abs,
    add,
    argmax,
    argmin,
    avg_pool2d,
    clip,
    concatenate,
    conv2d,
    div,
    dot,
    exp,
    flatten,
    gelu,
    log,
    log_softmax,
    matmul,
    max,
    max_pool2d,
    maximum,
    mean,
    min,
    minimum,
    mul,
    neg,
    pow,
    relu,
    reshape,
    sigmoid,
    softmax,
    sqrt,
    squeeze,
    stack,
    std,
    step,
    sub,
    sum,
    tanh,
    transpose,
    unsqueeze,
    var,
    where,
)
from autograd_lite.safety import AnomalyError, detect_anomaly
from autograd_lite.viz import draw, to_dot

__all__ = [
    "AnomalyError", "GradcheckError", "Tensor", "abs", "add", "arange", "argmax", "argmin",
    "avg_pool2d", "clip", "concatenate", "conv2d", "detect_anomaly", "div", "dot", "draw", "exp",
    "explain", "explain_html", "flatten", "full", "func", "gelu", "grad", "gradcheck",
    "gradgradcheck", "is_grad_enabled", "linspace", "log", "log_softmax", "matmul", "max",
    "max_pool2d", "maximum", "mean", "min", "minimum", "mul", "name_scope", "neg", "no_grad",
    "ones", "ones_like", "pow", "rand", "randn", "relu", "reshape", "sigmoid", "softmax", "sqrt",
    "squeeze", "stack", "std", "step", "sub", "sum", "tanh", "tensor", "to_dot", "transpose",
    "unsqueeze", "var", "where", "zeros", "zeros_like",
]
