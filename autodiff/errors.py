"""Exception types that are caught the way PyTorch's are, and the way numpy-style code expects."""

__all__ = ["ShapeError", "DTypeError"]


class ShapeError(RuntimeError, ValueError):
    """Arguments that do not fit an op (shapes, sizes, values). PyTorch raises RuntimeError here;
    numpy-style code catches ValueError: this class is both, so either ``except`` works. Every
    ValueError raised inside an op's forward reaches the caller as a ShapeError naming the op."""


class DTypeError(RuntimeError, TypeError):
    """A tensor of a dtype an op does not take (bitwise ops on floats, pooling of integers ...).
    PyTorch raises RuntimeError; Python code expects TypeError: this class is both."""
