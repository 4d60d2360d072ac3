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
from .shape_forms import (addbmm, addmm, addmv, addr, argsort, argwhere, atleast_1d, atleast_2d,
                          atleast_3d, baddbmm, bmm, broadcast_shapes, broadcast_tensors, bucketize,
                          cartesian_prod, chunk, clone, column_stack, cross, diag, diag_embed, diagonal,
                          dot, dstack, einsum, empty, empty_like, flip, fliplr, flipud, gather, ger,
                          hstack, index_add, index_copy, index_fill, index_select, inner, kron,
                          masked_fill, masked_scatter, masked_select, meshgrid, mm, moveaxis, movedim,
                          msort, mv, narrow, nonzero, numel, outer, rand_like, randn_like,
                          repeat_interleave, roll, rot90, row_stack, scatter, scatter_add, scatter_reduce,
                          searchsorted, select, sort, swapdims, t, take, take_along_dim, tensor_split,
                          tensordot, tile, topk, tril, triu, unbind, unflatten, unique, unique_consecutive,
                          vdot, vstack)

float32 = "float32"
float64 = "float64"
