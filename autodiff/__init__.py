"""autodiff: a scalar engine (Value) and an n-d Tensor engine with reverse-mode differentiation.

The public API, re-exported from the modules that define it; nothing is defined here.
"""
from .backward import grad, run_backward
from .creation import (arange, default_generator, eye, full, full_like, linspace, manual_seed, ones,
                       ones_like, rand, randint, randn, tensor, zeros, zeros_like)
from .errors import ShapeError
from .function import Function, FunctionCtx
from .function_forms import (abs, argmax, argmin, broadcast_to, cat, clamp, clip, concatenate, cos, exp,
                             expand_dims, flatten, log, log_softmax, logsumexp, matmul, max, maximum, mean,
                             min, minimum, pad, permute, relu, reshape, sigmoid, sin, softmax, softplus,
                             split, sqrt, squeeze, stack, std, sum, swapaxes, tanh, transpose, unsqueeze,
                             var, where)
from .gradcheck import GradcheckError, gradcheck
from .graph import Node
from .mode import (current_scope, enable_grad, is_grad_enabled, is_tracing, no_grad, scope,
                   set_grad_enabled, tracing)
from .tensor import Tensor
from .value import Value
from .viz import draw, draw_chain, draw_steps, explore, to_dot

float32 = "float32"
float64 = "float64"
