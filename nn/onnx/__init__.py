"""Export to ONNX: ``nn.onnx.export(model, args, f, ...)``, as ``torch.onnx.export``.

The trace is the engine's own graph: one forward pass under ``autodiff.tracing()`` records every op
with its arguments, and each op becomes ONNX nodes (``nn/onnx/converters``); weights become
initializers named by their ``state_dict`` keys. A user-written ``autodiff.Function`` gives its ONNX
form with a static ``symbolic(g, *inputs, **kwargs)`` method that builds nodes with ``g.op(...)``.
Needs the optional ``onnx`` package (``pip install 'autodiff-nn[onnx]'``); ``onnxruntime`` runs the
result.
"""
from . import converters  # noqa: F401  (registers the ONNX form of every built-in op)
from .convert import ExportError, converts
from .export import DEFAULT_OPSET, SUPPORTED_OPSETS, export
from .graph import GraphBuilder

__all__ = ["export", "ExportError", "DEFAULT_OPSET", "SUPPORTED_OPSETS", "GraphBuilder", "converts"]
