"""The Numba flags, in one place.

Every kernel in ``autodiff/kernels`` is decorated with one of these two wrappers, so the project-wide
choices live here and nowhere else:

* ``cache=True``: compiled machine code is written next to the source (``__pycache__``), so a second
  process loads it from disk instead of recompiling (the compile cost is paid once per machine).
* ``fastmath=False``: IEEE semantics (NaN/inf propagate, no reassociation), which gradient checks rely on.
* ``nogil=True``: kernels release the GIL, so threads calling them can overlap.
* ``error_model='numpy'``: division by zero gives inf/nan like numpy instead of raising.

``njit_parallel`` additionally enables ``prange``; drivers use it only where every thread writes its
own slice of the output (no write races).
"""
import functools

import numba

__all__ = ["njit_serial", "njit_parallel", "prange", "NUMBA_VERSION"]

njit_serial = functools.partial(numba.njit, cache=True, fastmath=False, nogil=True, error_model="numpy")
njit_parallel = functools.partial(numba.njit, cache=True, fastmath=False, nogil=True, error_model="numpy",
                                  parallel=True)
prange = numba.prange
NUMBA_VERSION = numba.__version__
