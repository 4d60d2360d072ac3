"""``autodiff.linalg``: the ``torch.linalg`` functions this library has (norms, inverse, determinants)."""
from .methods.products import det, inv, logdet, slogdet
from .methods.reductions import linalg_norm as norm
from .methods.reductions import matrix_norm, vector_norm

__all__ = ["norm", "vector_norm", "matrix_norm", "inv", "det", "slogdet", "logdet"]
