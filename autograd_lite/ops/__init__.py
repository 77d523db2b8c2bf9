"""Every operation, one function each, with its forward rule and its local gradient together.

``arithmetic`` holds + - * / ** @ dot and comparisons; ``functions`` the elementwise functions
and activations; ``reductions`` sum/mean/max/min/var/std and softmax; ``shapes`` reshape,
transpose, indexing and joining.
"""

from autograd_lite.ops.arithmetic import (
    add,
    div,
    dot,
    equal,
    greater,
    greater_equal,
    less,
    less_equal,
    matmul,
    mul,
    neg,
    not_equal,
    pow,
    sub,
)
from autograd_lite.ops.conv import avg_pool2d, conv2d, max_pool2d
from autograd_lite.ops.functions import (
    abs,
    clip,
    exp,
    log,
    maximum,
    minimum,
    relu,
    sigmoid,
    sqrt,
    step,
    tanh,
    where,
)
from autograd_lite.ops.reductions import log_softmax, max, mean, min, softmax, std, sum, var
from autograd_lite.ops.shapes import (
    concatenate,
    flatten,
    getitem,
    reshape,
    squeeze,
    stack,
    transpose,
    unsqueeze,
)

__all__ = [
    "abs", "add", "avg_pool2d", "clip", "concatenate", "conv2d", "div", "dot", "equal", "exp",
    "flatten", "getitem", "greater", "greater_equal", "less", "less_equal", "log", "log_softmax",
    "matmul", "max", "max_pool2d", "maximum", "mean", "min", "minimum", "mul", "neg", "not_equal",
    "pow", "relu", "reshape", "sigmoid", "softmax", "sqrt", "squeeze", "stack", "std", "step",
    "sub", "sum", "tanh", "transpose", "unsqueeze", "var", "where",
]
