"""ONNX forms of the engine's Functions, one module per family (each registers its converters on import)."""
from . import attention, elementwise, layers, recurrent, shape  # noqa: F401
