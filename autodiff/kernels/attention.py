"""The backward of attention's softmax, one pass over each row (ndarrays only).

``gs = scale * p * (gp - sum(gp * p, last axis))``, in place on ``gp`` (the gradient of the
probabilities ``p``). numpy needs five passes and two temporaries over the (..., L, S) scores; for a
GPT block's (32 x 4 heads x 64 x 64) each pass is a trip through memory on one core. This loop does
a row at a time (the row stays in cache) and splits the rows over Numba's threads when there are
enough. (The forward stays numpy: its vectorised exp beats a loop's scalar one.)

Shape: ``gp``, ``p``: C-contiguous ``(..., S)``, float32 or float64, same dtype.
"""

from .jit import njit_parallel, njit_serial, prange, run_kernel

__all__ = ["softmax_backward_"]


@njit_serial(inline="always")
def _bwd_row(gp, p, r, scale):
    n = gp.shape[1]
    g = gp[r]
    q = p[r]
    dot = 0.0
    for j in range(n):
        dot += g[j] * q[j]
    for j in range(n):
        g[j] = scale * (q[j] * (g[j] - dot))


@njit_serial
def _bwd_serial(gp, p, scale):
    for r in range(gp.shape[0]):
        _bwd_row(gp, p, r, scale)


@njit_parallel
def _bwd_parallel(gp, p, scale):
    for r in prange(gp.shape[0]):
        _bwd_row(gp, p, r, scale)


def softmax_backward_(gp, p, scale):
    """In place: ``gp`` becomes ``scale * p * (gp - sum(gp * p, last axis))``."""
    run_kernel(_bwd_serial, _bwd_parallel, gp.size, gp.reshape(-1, gp.shape[-1]), p.reshape(-1, p.shape[-1]),
               gp.dtype.type(scale))
    return gp
