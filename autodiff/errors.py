"""Exception types that are caught the way PyTorch's are, and the way numpy-style code expects."""

__all__ = ["ShapeError"]


class ShapeError(RuntimeError, ValueError):
    """Shapes that do not fit an op. PyTorch raises RuntimeError here; numpy-style code catches
    ValueError: this class is both, so either ``except`` works."""
