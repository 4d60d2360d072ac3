"""autodiff: a scalar engine (Value) and an n-d Tensor engine with reverse-mode differentiation.

The public API, re-exported from the modules that define it; nothing is defined here.
"""
from .backward import run_backward
from .creation import (arange, default_generator, eye, full, full_like, linspace, manual_seed, ones,
                       ones_like, rand, randint, randn, tensor, zeros, zeros_like)
from .function import Function, Node
from .functions import (abs, argmax, argmin, broadcast_to, clip, cos, exp, expand_dims, flatten, log,
                        log_softmax, logsumexp, matmul, max, mean, min, pad, permute, relu, reshape,
                        sigmoid, sin, softmax, softplus, sqrt, squeeze, std, sum, swapaxes, tanh,
                        transpose, unsqueeze, var)
from .gradcheck import GradcheckError, gradcheck
from .mode import current_scope, enable_grad, is_grad_enabled, no_grad, scope, set_grad_enabled
from .tensor import Tensor, cat, concatenate, grad, maximum, minimum, split, stack, where
from .value import Value
from .viz import draw, draw_chain, draw_steps, explore, to_dot

float32 = "float32"
float64 = "float64"
