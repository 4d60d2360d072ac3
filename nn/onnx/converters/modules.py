"""Whole-module ONNX forms, for layers whose recorded ops cannot be exported faithfully.

MaxPool3d and the adaptive max pools find their winners with numpy and take them with an index op;
ONNX's pooling ops find them themselves.

Hardshrink, Softshrink, Threshold and RReLU pick their output with a mask computed by numpy from the input's
values, which the trace sees only as a constant; ONNX has the operations themselves (``Shrink``, and a
comparison with ``Where``, ``LeakyRelu``), so a call of one of these modules becomes those nodes.
"""
import numpy as np

from ..convert import converts_module

try:
    from nn.layers import activation_extra
except ImportError:  # pragma: no cover - nn without these layers
    activation_extra = None


if activation_extra is not None:
    @converts_module(activation_extra.Softshrink)
    def _softshrink(c, module, inputs, tensors):
        lambd = float(module.lambd)
        bias = 0.0 if isinstance(module, getattr(activation_extra, "Hardshrink", ())) else lambd
        return c.g.op("Shrink", inputs[0], bias=bias, lambd=lambd)

    @converts_module(activation_extra.Threshold)
    def _threshold(c, module, inputs, tensors):
        g, dtype = c.g, c.out_dtype()
        x = inputs[0]
        above = g.op("Greater", x, g.scalar(module.threshold, dtype))
        return g.op("Where", above, x, g.scalar(module.value, dtype))

    if getattr(activation_extra, "RReLU", None) is not None:
        @converts_module(activation_extra.RReLU)
        def _rrelu(c, module, inputs, tensors):
            """In eval mode (as exported) the slope is fixed at (lower + upper) / 2."""
            return c.g.op("LeakyRelu", inputs[0], alpha=(float(module.lower) + float(module.upper)) / 2)


try:
    from nn.layers import pool3d as P3
except ImportError:  # pragma: no cover - nn without these layers
    P3 = None


def _spatial(value, dims, default=None):
    if value is None:
        return default
    return [int(value)] * dims if isinstance(value, (int, np.integer)) else [int(v) for v in value]


def _batched(c, x, rank, dims, build):
    """Run ``build(x)`` on ``x`` with a batch axis (added and removed again for an unbatched input)."""
    if rank == dims + 1:
        return c.g.squeeze(build(c.g.unsqueeze(x, [0])), [0])
    return build(x)


if P3 is not None:
    @converts_module(P3.MaxPool3d)
    def _max_pool3d(c, module, inputs, tensors):
        """MaxPool over (N, C, D, H, W); the layer finds its winners with numpy, ONNX's op does it itself."""
        if module.return_indices:
            c.fail("MaxPool3d with return_indices=True: the indices are computed outside the graph")
        kernel = _spatial(module.kernel_size, 3)
        stride = _spatial(module.stride, 3, kernel)
        pads = _spatial(module.padding, 3)
        return _batched(c, inputs[0], tensors[0].ndim, 3, lambda x: c.g.op(
            "MaxPool", x, kernel_shape=kernel, strides=stride, pads=pads + pads,
            dilations=_spatial(module.dilation, 3), ceil_mode=int(module.ceil_mode)))

    @converts_module(P3.AdaptiveMaxPool1d, P3.AdaptiveMaxPool2d, P3.AdaptiveMaxPool3d)
    def _adaptive_max_pool(c, module, inputs, tensors):
        """GlobalMaxPool for output 1, MaxPool when the sizes divide, else one ReduceMax per cell."""
        from .layers import _adaptive_cells
        if module.return_indices:
            c.fail(f"{type(module).__name__} with return_indices=True: the indices are computed outside the graph")
        dims = next(n for klass, n in ((P3.AdaptiveMaxPool1d, 1), (P3.AdaptiveMaxPool2d, 2),
                                       (P3.AdaptiveMaxPool3d, 3)) if isinstance(module, klass))
        spatial = c.ex.tensor_dims(tensors[0])[-dims:]
        size = _spatial(module.output_size, dims)
        size = [s if o is None else int(o) for o, s in zip(size if isinstance(size, list) else [size] * dims,
                                                          spatial)]
        g = c.g

        def build(x):
            if all(s == 1 for s in size):
                return g.op("GlobalMaxPool", x)
            if any(not isinstance(d, int) for d in spatial):
                c.fail(f"adaptive max pooling to {tuple(size)} over a dynamic spatial size has no ONNX form "
                       f"(only output size 1 does: GlobalMaxPool)")
            if all(d % s == 0 for d, s in zip(spatial, size)):
                kernel = [d // s for d, s in zip(spatial, size)]
                return g.op("MaxPool", x, kernel_shape=kernel, strides=kernel)
            return _adaptive_cells(g, x, spatial, size, "ReduceMax")
        return _batched(c, inputs[0], tensors[0].ndim, dims, build)
