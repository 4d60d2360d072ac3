"""Compare the engine's gradients with central finite differences in float64."""
import numpy as np

from .backward import grad
from .tensor import Tensor


class GradcheckError(AssertionError):
    """Raised by ``gradcheck`` when analytical and numerical gradients disagree."""


def _outputs(fn, inputs):
    out = fn(*inputs)
    return (out,) if isinstance(out, Tensor) else tuple(out)


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Check d fn / d inputs against central differences (f(x+eps) - f(x-eps)) / 2 eps in float64.

    Args:
        fn: function of the tensors in ``inputs`` returning a Tensor or a tuple of Tensors.
        inputs: a Tensor or a sequence of Tensors/values; float tensors with ``requires_grad`` are checked.
            They are converted to float64 copies first.
        eps, atol, rtol: step and tolerances; an element passes when |num - ana| <= atol + rtol |num|.
        raise_exception: raise ``GradcheckError`` naming the input and the worst element (else return False).

    Returns:
        True when every Jacobian entry agrees.
    """
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    xs = []
    for x in inputs:
        if isinstance(x, Tensor) and x.requires_grad:
            xs.append(Tensor(x.data.astype(np.float64), requires_grad=True, name=x.name))
        elif isinstance(x, Tensor) and x.dtype.kind == "f":
            xs.append(Tensor(x.data.astype(np.float64)))
        else:
            xs.append(x)
    checked = [i for i, x in enumerate(xs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad")
    outs = _outputs(fn, xs)
    flat_sizes = [o.data.size for o in outs]
    # analytical Jacobian: one backward per output element
    ana = {i: np.zeros((sum(flat_sizes), xs[i].data.size)) for i in checked}
    row = 0
    for k, o in enumerate(outs):
        for j in range(o.data.size):
            seed = np.zeros(o.data.size, o.data.dtype)
            seed[j] = 1.0
            gs = grad([o], [xs[i] for i in checked], grad_outputs=[Tensor(seed.reshape(o.shape))],
                      retain_graph=True, allow_unused=True)
            for i, g in zip(checked, gs):
                if g is not None:
                    ana[i][row] = g.data.reshape(-1)
            row += 1
    # numerical Jacobian
    for i in checked:
        x = xs[i]
        num = np.zeros_like(ana[i])
        flat = x.data.reshape(-1)
        for e in range(flat.size):
            orig = flat[e]
            flat[e] = orig + eps
            plus = np.concatenate([o.data.reshape(-1).astype(np.float64) for o in _outputs(fn, xs)])
            flat[e] = orig - eps
            minus = np.concatenate([o.data.reshape(-1).astype(np.float64) for o in _outputs(fn, xs)])
            flat[e] = orig
            num[:, e] = (plus - minus) / (2 * eps)
        err = np.abs(num - ana[i]) - (atol + rtol * np.abs(num))
        if np.any(err > 0) or not np.all(np.isfinite(ana[i]) == np.isfinite(num)):
            r, c = np.unravel_index(np.argmax(np.where(np.isfinite(err), err, np.inf)), err.shape)
            elem = np.unravel_index(c, x.shape) if x.ndim else ()
            msg = (f"gradcheck: gradient of input {i} (shape {tuple(x.shape)}) is wrong; worst element "
                   f"{tuple(int(v) for v in elem)} for output element {int(r)}: numerical {num[r, c]:.6g} "
                   f"vs analytical {ana[i][r, c]:.6g}")
            if raise_exception:
                raise GradcheckError(msg)
            return False
    return True
