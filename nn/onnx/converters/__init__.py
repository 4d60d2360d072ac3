"""ONNX forms of the engine's Functions, one module per family (each registers its converters on import),
and the whole-module forms of a few layers (``modules``)."""
from . import attention, elementwise, layers, math, modules, recurrent, shape  # noqa: F401
