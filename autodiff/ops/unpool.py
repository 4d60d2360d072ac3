"""Max-unpooling (1-d, 2-d, 3-d; PyTorch semantics): the partial inverse of max pooling.

``max_unpool`` writes each input value at the flat plane index ``max_pool*d(return_indices=True)`` gave
it, into a zero plane of the unpooled size; every other place is zero. The gradient of an input value is
the output gradient at its index (``TakeAlongAxis``), so the op differentiates twice.
"""
import numpy as np

from ..errors import ShapeError
from ..function import Function
from .array_or_tensor import _is_tensor
from .conv import int_tuple
from .select import TakeAlongAxis

__all__ = ["MaxUnpool", "max_unpool1d", "max_unpool2d", "max_unpool3d", "unpool_output_size"]

_LAYOUTS = {1: "(N, C, L) or (C, L)", 2: "(N, C, H, W) or (C, H, W)", 3: "(N, C, D, H, W) or (C, D, H, W)"}


class MaxUnpool(Function):
    """out = zeros(rows, plane) with out[r, idx[r, j]] = x[r, j]: dx = g[r, idx[r, j]]."""

    name = "max_unpool"

    @staticmethod
    def forward(ctx, x, idx, plane):
        out = np.zeros((x.shape[0], plane), x.dtype)
        np.put_along_axis(out, idx, x, axis=1)  # a repeated index keeps the last value, as PyTorch's CPU loop
        ctx.idx = idx
        return out

    @staticmethod
    def backward(ctx, g):
        if _is_tensor(g):
            return TakeAlongAxis.apply(g, ctx.idx, 1), None, None
        return np.take_along_axis(g, ctx.idx, 1), None, None


def unpool_output_size(name, spatial, kernel_size, stride, padding, output_size):
    """The unpooled spatial size: ``(in - 1) s - 2 p + k``, or ``output_size`` when it lies strictly
    within ``stride`` of that (PyTorch's rule; ``output_size`` may include the ``N, C`` axes)."""
    dims = len(kernel_size)
    default = tuple((n - 1) * s - 2 * p + k for n, k, s, p in zip(spatial, kernel_size, stride, padding))
    if output_size is None:
        size = default
    else:
        size = tuple(int(s) for s in output_size)
        if len(size) == dims + 2:
            size = size[2:]
        if len(size) != dims:
            raise ValueError(f"{name}: output_size should be a sequence containing {dims} or {dims + 2} elements, "
                             f"but it has a length of {len(size)} ({tuple(output_size)})")
        for ax in range(dims):
            lo, hi = default[ax] - stride[ax], default[ax] + stride[ax]
            if not lo < size[ax] < hi:
                raise ValueError(f"{name}: invalid output_size {size} (dim {ax} must be between {lo} and {hi}, "
                                 f"for an input of spatial size {tuple(spatial)})")
    if min(size) < 1:
        raise ValueError(f"{name}: the output size {size} is not positive (input spatial size {tuple(spatial)}, "
                         f"kernel_size {kernel_size}, stride {stride}, padding {padding})")
    return size


def max_unpool_nd(input, indices, kernel_size, stride=None, padding=0, output_size=None, *, dims, name):
    """Max-unpooling over ``dims`` spatial axes: the entry of the three function forms and the layers."""
    from ..tensor import Tensor
    x = input if isinstance(input, Tensor) else Tensor(np.asarray(input))
    shape = tuple(x.shape)
    if len(shape) not in (dims + 1, dims + 2):
        raise ValueError(f"{name}: expected a {_LAYOUTS[dims]} input, got shape {shape}")
    if np.dtype(x.dtype) not in (np.float32, np.float64):
        raise TypeError(f"{name}: expected a float32 or float64 input, got dtype {x.dtype} (input {shape})")
    idx = np.asarray(getattr(indices, "data", indices))
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{name}: indices must be an integer tensor (from max_pool{dims}d(return_indices=True)), "
                        f"got dtype {idx.dtype}")
    if idx.shape != shape:
        raise ValueError(f"{name}: indices of shape {idx.shape} must have the shape of the input {shape}")
    kernel_size = int_tuple(kernel_size, dims, "kernel_size", name)
    stride = kernel_size if stride is None else int_tuple(stride, dims, "stride", name)
    padding = int_tuple(padding, dims, "padding", name)
    if min(kernel_size + stride) < 1 or min(padding) < 0:
        raise ValueError(f"{name}: kernel_size {kernel_size} and stride {stride} must be positive, padding "
                         f"{padding} non-negative")
    size = unpool_output_size(name, shape[-dims:], kernel_size, stride, padding, output_size)
    plane = int(np.prod(size))
    rows = int(np.prod(shape[:-dims], dtype=np.int64))
    flat = idx.reshape(rows, int(np.prod(shape[-dims:]))).astype(np.int64, copy=False)
    if flat.size and (flat.min() < 0 or flat.max() >= plane):
        bad = flat.min() if flat.min() < 0 else flat.max()
        raise ShapeError(f"{name}: found an invalid max index {bad} (output planes are of size {size}, "
                         f"{plane} places; input {shape})")
    y = MaxUnpool.apply(x.reshape((rows, flat.shape[1])), flat, plane)
    return y.reshape(shape[:-dims] + size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of :func:`max_pool3d`, as ``torch.nn.functional.max_unpool3d``.

    Args:
        input: ``(N, C, D, H, W)`` or unbatched ``(C, D, H, W)`` float Tensor of pooled values.
        indices: int64, the input's shape: each value's flat index into its output ``(D, H, W)`` plane.
        kernel_size, stride (default ``kernel_size``), padding: the pooling's arguments.
        output_size: the wanted output size (``(D, H, W)`` or with ``N, C``), to undo a pooling that
            dropped a border; default ``(in - 1) * stride - 2 * padding + kernel_size``.

    Returns:
        The unpooled Tensor: zeros except at ``indices`` (differentiable twice).

    Shape:
        ``(N, C, d, h, w) -> (N, C, *output_size)``.
    """
    return max_unpool_nd(input, indices, kernel_size, stride, padding, output_size, dims=3, name="max_unpool3d")


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of ``max_pool2d``, as ``torch.nn.functional.max_unpool2d`` (arguments as
    :func:`max_unpool3d`).

    Shape:
        ``(N, C, h, w) -> (N, C, *output_size)``.
    """
    return max_unpool_nd(input, indices, kernel_size, stride, padding, output_size, dims=2, name="max_unpool2d")


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of ``max_pool1d``, as ``torch.nn.functional.max_unpool1d``.

    Shape:
        ``(N, C, l) -> (N, C, output_size)``.
    """
    return max_unpool_nd(input, indices, kernel_size, stride, padding, output_size, dims=1, name="max_unpool1d")
