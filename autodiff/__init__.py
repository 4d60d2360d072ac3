"""autodiff: a scalar engine (Value) and an n-d Tensor engine with reverse-mode differentiation.

The public API, re-exported from the modules that define it; nothing is defined here.
"""
from .backward import grad, run_backward
from .creation import (arange, as_tensor, bernoulli, default_generator, eye, from_numpy, full, full_like,
                       linspace, logspace, manual_seed, multinomial, normal, ones, ones_like, rand, randint,
                       randn, randperm, tensor, zeros, zeros_like)
from .errors import DTypeError, ShapeError
from .function import Function, FunctionCtx
from .function_forms import (abs, argmax, argmin, broadcast_to, cat, clamp, clip, concatenate, cos, exp,
                             expand_dims, flatten, log, log_softmax, logsumexp, matmul, max, maximum, mean,
                             min, minimum, pad, permute, relu, reshape, sigmoid, sin, softmax, softplus,
                             split, sqrt, squeeze, stack, std, sum, swapaxes, tanh, transpose, unsqueeze,
                             var, where)
from .gradcheck import GradcheckError, gradcheck
from .methods.products import det, logdet, slogdet
from .methods.products import inv as inverse
from .graph import Node
from .grad_mode import (current_scope, enable_grad, is_grad_enabled, is_tracing, no_grad, scope,
                   set_grad_enabled, tracing)
from .tensor import Tensor
from .value import Value
from .viz import draw, draw_chain, draw_steps, explore, to_dot
from .shape_forms import (addbmm, addmm, addmv, addr, argsort, argwhere, atleast_1d, atleast_2d,
                          atleast_3d, baddbmm, bincount, block_diag, bmm, broadcast_shapes,
                          broadcast_tensors, bucketize, cartesian_prod, chunk, clone, column_stack,
                          combinations, cross, diag, diag_embed, diagflat, diagonal, diagonal_scatter,
                          diff, dot, dsplit, dstack, einsum, empty, empty_like, flip, fliplr, flipud,
                          gather, ger, hsplit, hstack, index_add, index_copy, index_fill, index_put,
                          index_reduce, index_select, inner, kron, masked_fill, masked_scatter,
                          masked_select, meshgrid, mm, moveaxis, movedim, msort, mv, narrow, narrow_copy,
                          nonzero, numel, outer, put, rand_like, randn_like, ravel, repeat_interleave,
                          roll, rot90, row_stack, scatter, scatter_add, scatter_reduce, searchsorted,
                          select, select_scatter, slice_scatter, sort, swapdims, t, take, take_along_dim,
                          tensor_split, tensordot, tile, topk, trace, tril, tril_indices, triu,
                          triu_indices, unbind, unflatten, unique, unique_consecutive, vdot, vsplit, vstack)

from . import linalg, special
from .dtypes import (bool, can_cast, cdouble, cfloat, complex64, complex128, double, float, float16, float32,
                     float64, get_default_dtype, half, int, int8, int16, int32, int64, is_floating_point,
                     is_tensor, long, promote_types, result_type, set_default_dtype, short, uint8)
from .function_forms import (absolute, acos, acosh, add, all, allclose, amax, amin, any, arccos, arccosh,
                             arcsin, arcsinh, arctan, arctan2, arctanh, asin, asinh, atan, atan2, atanh,
                             bitwise_and, bitwise_left_shift, bitwise_not, bitwise_or, bitwise_right_shift,
                             bitwise_xor, ceil, clamp_max, clamp_min, copysign, cosh, count_nonzero, cummax,
                             cummin, cumprod, cumsum, deg2rad, digamma, div, divide, eq, equal, erf, erfc,
                             erfinv, exp2, expm1, fix, float_power, floor, floor_divide, fmod, frac, ge,
                             greater, greater_equal, gt, hypot, isclose, isfinite, isinf, isnan, isneginf,
                             isposinf, kthvalue, le, less, less_equal, lgamma, log1p, log2, log10, logaddexp,
                             logcumsumexp, logical_and, logical_not, logical_or, logical_xor, logit, lt,
                             median, mode, mul, multiply, nan_to_num, nanmean, nansum, ne, neg, negative,
                             norm, not_equal, polygamma, positive, pow, prod, rad2deg, reciprocal,
                             remainder, round, rsqrt, sgn, sign, signbit, sinh, square, std_mean, sub,
                             subtract, tan, true_divide, trunc, var_mean, logaddexp2, xlogy, addcmul,
                             addcdiv, lerp, rsub, fmax, fmin, ldexp, heaviside, sinc, aminmax, quantile,
                             mvlgamma, dist, trapezoid, trapz)
from .grad_mode import inference_mode, is_inference_mode_enabled
