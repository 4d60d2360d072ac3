"""Gradient clipping and weight penalties (``nn.utils``)."""
import numpy as np

import autodiff
from autodiff import Tensor

__all__ = ["clip_grad_value_", "clip_grad_norm_", "weight_parameters", "l1_penalty", "l2_penalty",
           "parameters_to_vector", "vector_to_parameters"]


def _params(parameters):
    if isinstance(parameters, Tensor):
        return [parameters]
    return list(parameters)


def clip_grad_value_(parameters, clip_value):
    """Clamp every gradient element into [-clip_value, clip_value], in place (the course's remedy
    for exploding gradients)."""
    clip_value = float(clip_value)
    for p in _params(parameters):
        if p.grad is not None:
            np.clip(p.grad.data, -clip_value, clip_value, out=p.grad.data)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale all gradients together so their joint norm is at most ``max_norm``, in place.

    The scale is max_norm / (total_norm + 1e-6), applied only when it is below 1 (as PyTorch).

    Returns:
        the total norm of the gradients before clipping (a 0-d Tensor).
    """
    grads = [p.grad.data for p in _params(parameters) if p.grad is not None]
    if not grads:
        return Tensor(np.array(0.0, np.float32))
    norm_type = float(norm_type)
    dtype = grads[0].dtype
    if norm_type == np.inf:
        total = max(float(np.abs(g).max()) for g in grads)
    else:
        total = float(np.sum([np.sum(np.abs(g.astype(np.float64)) ** norm_type) for g in grads])
                      ** (1.0 / norm_type)) if norm_type != 2.0 else \
            float(np.sqrt(sum(float(np.dot(g.ravel(), g.ravel())) for g in grads)))
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is "
                           f"non-finite ({total}); set error_if_nonfinite=False to clip anyway")
    coef = max_norm / (total + 1e-6)
    if coef < 1:
        for g in grads:
            g *= g.dtype.type(coef)
    return Tensor(np.array(total, dtype))


def weight_parameters(module):
    """The parameters a penalty applies to: every parameter except biases (named ``*bias``).

    The course: biases are not regularised.
    """
    return [p for name, p in module.named_parameters() if not name.rsplit(".", 1)[-1].startswith("bias")]


def l1_penalty(module):
    """sum |w| over the weights of ``module`` (biases excluded), differentiable.

    The course's L1 cost: ``loss = C0 + lam / P * nn.utils.l1_penalty(model)`` (P patterns).
    """
    total = None
    for p in weight_parameters(module):
        term = p.abs().sum()
        total = term if total is None else total + term
    return total if total is not None else Tensor(np.array(0.0, np.float32))


def l2_penalty(module):
    """sum w^2 over the weights of ``module`` (biases excluded), differentiable.

    The course's L2 cost: ``loss = C0 + lam / (2 * P) * nn.utils.l2_penalty(model)``, whose gradient
    adds lam/P * w (weight decay).
    """
    total = None
    for p in weight_parameters(module):
        term = (p * p).sum()
        total = term if total is None else total + term
    return total if total is not None else Tensor(np.array(0.0, np.float32))


def parameters_to_vector(parameters):
    """All parameters flattened and joined into one 1-D Tensor, as
    ``torch.nn.utils.parameters_to_vector``: part of the graph, so a loss of it reaches the
    parameters' gradients.
    """
    params = _params(parameters)
    if not params:
        raise ValueError("parameters_to_vector: got no parameters")
    return autodiff.cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec, parameters):
    """Copy the 1-D Tensor ``vec`` back into the parameters, in order, as
    ``torch.nn.utils.vector_to_parameters`` (no graph is recorded; the parameters stay the same
    objects, so optimizers holding them stay valid).
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: expected vec to be a Tensor, but got: {type(vec).__name__}")
    v = vec.data
    params = _params(parameters)
    n = sum(p.data.size for p in params)
    if v.shape != (n,):
        raise ValueError(f"vector_to_parameters: vector of shape {v.shape} does not match the {n} "
                         f"parameter elements")
    offset = 0
    with autodiff.no_grad():
        for p in params:
            k = p.data.size
            p.data[...] = v[offset:offset + k].reshape(p.shape)
            p._version[0] += 1
            offset += k
