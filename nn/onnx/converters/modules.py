"""Whole-module ONNX forms, for layers whose recorded ops cannot be exported faithfully.

Hardshrink, Softshrink, Threshold and RReLU pick their output with a mask computed by numpy from the input's
values, which the trace sees only as a constant; ONNX has the operations themselves (``Shrink``, and a
comparison with ``Where``, ``LeakyRelu``), so a call of one of these modules becomes those nodes.
"""
from ..convert import converts_module

try:
    from nn.layers import activation_extra as X
except ImportError:  # pragma: no cover - nn without these layers
    X = None


if X is not None:
    @converts_module(X.Softshrink)
    def _softshrink(c, module, inputs):
        lambd = float(module.lambd)
        bias = 0.0 if isinstance(module, getattr(X, "Hardshrink", ())) else lambd
        return c.g.op("Shrink", inputs[0], bias=bias, lambd=lambd)

    @converts_module(X.Threshold)
    def _threshold(c, module, inputs):
        g, dtype = c.g, c.out_dtype()
        x = inputs[0]
        above = g.op("Greater", x, g.scalar(module.threshold, dtype))
        return g.op("Where", above, x, g.scalar(module.value, dtype))

    if getattr(X, "RReLU", None) is not None:
        @converts_module(X.RReLU)
        def _rrelu(c, module, inputs):
            """In eval mode (as exported) the slope is fixed at (lower + upper) / 2."""
            return c.g.op("LeakyRelu", inputs[0], alpha=(float(module.lower) + float(module.upper)) / 2)
