"""The Numba flags, in one place, and the rule for when a kernel runs on several threads.

Every kernel in ``autodiff/kernels`` is decorated with one of these two wrappers, so the project-wide
choices live here and nowhere else:

* ``cache=True``: compiled machine code is written next to the source (``__pycache__``), so a second
  process loads it from disk instead of recompiling (the compile cost is paid once per machine).
* ``fastmath=False``: IEEE semantics (NaN/inf propagate, no reassociation), which gradient checks rely on.
* ``nogil=True``: kernels release the GIL, so threads calling them can overlap.
* ``error_model='numpy'``: division by zero gives inf/nan like numpy instead of raising.
* ``boundscheck``: off, unless the environment variable ``AUTODIFF_NUMBA_BOUNDSCHECK=1`` asks for it (tests).

``njit_parallel`` additionally enables ``prange``; drivers use it only where every thread writes its
own slice of the output (no write races). Each parallel driver has a serial twin, and
:func:`run_kernel` picks one per call: the parallel one only for work big enough to repay a thread
launch, and never from two Python threads at once.

Threading layer: ``workqueue`` unless ``NUMBA_THREADING_LAYER`` says otherwise. Measured on the 2-core
development machine under load, an empty ``prange`` costs ~0.1 ms with workqueue but 10-20 ms with
OpenMP (its worker threads spin and get preempted), and workqueue adds no second OpenMP runtime next
to PyTorch's or OpenBLAS's threads. Workqueue must not be entered from two threads at once, which the
lock in :func:`run_kernel` guarantees (a second thread runs the serial twin instead).
"""
import functools
import os
import threading

import numba

__all__ = ["njit_serial", "njit_parallel", "prange", "run_kernel", "BOUNDSCHECK", "PARALLEL_MIN_WORK",
           "LAYOUT_PARALLEL_MIN_WORK", "NUMBA_VERSION"]

if "NUMBA_THREADING_LAYER" not in os.environ:
    numba.config.THREADING_LAYER = "workqueue"

#: ``AUTODIFF_NUMBA_BOUNDSCHECK=1`` compiles every kernel with Numba's bounds checks (an IndexError instead
#: of a write outside an array) and without the on-disk cache, so checked machine code never reaches the
#: cache that ordinary processes load. For tests; set it before ``autodiff`` is imported.
BOUNDSCHECK = os.environ.get("AUTODIFF_NUMBA_BOUNDSCHECK", "") not in ("", "0")

njit_serial = functools.partial(numba.njit, cache=not BOUNDSCHECK, fastmath=False, nogil=True,
                                error_model="numpy", boundscheck=BOUNDSCHECK)
njit_parallel = functools.partial(numba.njit, cache=not BOUNDSCHECK, fastmath=False, nogil=True,
                                  error_model="numpy", boundscheck=BOUNDSCHECK, parallel=True)
prange = numba.prange
NUMBA_VERSION = numba.__version__

#: elements a kernel touches below which its serial twin runs (a parallel launch costs ~0.1 ms)
PARALLEL_MIN_WORK = 1 << 17
#: the same for memory-bound kernels (im2col/col2im, layout changes, pooling). A second thread gains
#: < 1.5x on them even when idle, and in a training step they run right after a multi-threaded BLAS
#: product whose worker thread keeps spinning on the other core for a while: measured on the 2-core
#: machine, LeNet conv2's im2col took 9.2 ms on Numba's two threads right after a 2-thread GEMM against
#: 2.7 ms serially (the same kernel alone: 3.1 ms parallel, 2.6 ms serial).
LAYOUT_PARALLEL_MIN_WORK = 1 << 24

_parallel_lock = threading.Lock()
_layer_ok = []  # filled once: may parallel drivers run in this process?


def _parallel_allowed():
    """False when Numba's threads were already launched with OpenMP by someone else (e.g. a caller that
    set thread counts before importing us): then every kernel runs its serial twin. An OpenMP layer the
    user chose through NUMBA_THREADING_LAYER is respected."""
    if not _layer_ok:
        try:
            layer = numba.threading_layer()
        except ValueError:  # threads not launched yet: the layer chosen above will be used
            layer = numba.config.THREADING_LAYER
        _layer_ok.append(layer != "omp" or "NUMBA_THREADING_LAYER" in os.environ)
    return _layer_ok[0]


def run_kernel(serial, parallel, work, *args, memory_bound=False):
    """Call ``parallel(*args)`` if ``work`` (elements touched) is large and no other thread is inside a
    parallel kernel; else ``serial(*args)``. Both must compute the same thing. ``memory_bound`` kernels
    use the higher threshold :data:`LAYOUT_PARALLEL_MIN_WORK`."""
    min_work = LAYOUT_PARALLEL_MIN_WORK if memory_bound else PARALLEL_MIN_WORK
    if work >= min_work and numba.config.NUMBA_NUM_THREADS > 1 and _parallel_allowed() \
            and _parallel_lock.acquire(blocking=False):
        try:
            return parallel(*args)
        finally:
            _parallel_lock.release()
    return serial(*args)
