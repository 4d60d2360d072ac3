"""One side of an isolated benchmark row, alone in a fresh process.

``python -m benchmarks.worker --builder MODULE:FUNCTION --side SIDE --threads N --out RESULT.json``
builds ``FUNCTION(SIDE)`` (a zero-argument training step, as the memory rows use), then

1. sets every thread pool this process has to ``N``: BLAS through threadpoolctl, Numba's
   ``set_num_threads`` and torch's ``set_num_threads`` (the parent also exports
   ``OMP_NUM_THREADS`` / ``OPENBLAS_NUM_THREADS`` / ``MKL_NUM_THREADS`` / ``NUMBA_NUM_THREADS``, so
   pools start at that size);
2. calls the step once (JIT compilation or cache loading included; the result is written to
   ``--check`` as an ``.npz`` when given, for the parent to compare the sides), then ``--warmup`` more
   times untimed, and sizes the calls per sample so a sample lasts ``--min-sample`` seconds;
3. times ``--samples`` samples and writes per-call times, the thread counts each pool reports and
   which libraries the process loaded to ``--out``.

``--gemm`` instead measures the best float32 GEMM rate (GFLOP/s) at ``N`` threads, the "GEMM floor"
of the model-step rows.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time

import numpy as np


def thread_report() -> dict:
    """The thread count each pool of this process reports now (None: library not loaded)."""
    out = {"blas": None, "numba": None, "torch": None}
    try:
        from threadpoolctl import threadpool_info

        blas = [i["num_threads"] for i in threadpool_info() if i.get("user_api") == "blas"]
        out["blas"] = max(blas) if blas else None
    except ImportError:
        pass
    if "numba" in sys.modules:
        out["numba"] = sys.modules["numba"].get_num_threads()
    if "torch" in sys.modules:
        out["torch"] = sys.modules["torch"].get_num_threads()
    return out


_LIMITS = []


def apply_threads(n: int) -> dict:
    """Set BLAS, Numba and torch (those loaded) to ``n`` threads; return :func:`thread_report`."""
    try:
        from threadpoolctl import threadpool_limits

        _LIMITS.append(threadpool_limits(limits=n, user_api="blas"))
    except ImportError:
        pass
    numba = sys.modules.get("numba")
    if numba is not None:
        numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    torch = sys.modules.get("torch")
    if torch is not None and torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return thread_report()


def _builder(target: str):
    mod_name, fn_name = target.split(":")
    return getattr(importlib.import_module(mod_name), fn_name)


def _timed(fn, number: int) -> float:
    t0 = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - t0) / number


def run_side(builder: str, side: str, threads: int, samples: int, warmup: int, min_sample: float,
             check: str | None = None) -> dict:
    """Build, check-dump, warm up and time one side; returns the JSON-able report."""
    step = _builder(builder)(side)
    apply_threads(threads)  # after building: the builder may have imported torch or numba
    t0 = time.perf_counter()
    result = step()
    first = time.perf_counter() - t0
    if check:
        from benchmarks.harness import as_arrays

        np.savez(check, *as_arrays(result))
    del result
    t = first
    for _ in range(warmup):
        t = _timed(step, 1)
    number = max(1, min(100_000, int(min_sample / max(t, 1e-9))))
    apply_threads(threads)  # Numba's OpenMP layer, if used, may have changed torch's count
    times = [_timed(step, number) for _ in range(samples)]
    return {"side": side, "pid": os.getpid(), "first": first, "number": number, "warmup": warmup,
            "times": times, "threads": thread_report(), "requested_threads": threads,
            "loaded": sorted(m for m in ("torch", "autodiff", "nn", "numba", "micrograd") if m in sys.modules),
            "started": _STARTED}


def gemm_rate(threads: int, sizes=(512, 1024), repeats: int = 5) -> dict:
    """Best float32 ``np.matmul`` rate over square ``sizes`` at ``threads`` BLAS threads."""
    apply_threads(threads)
    rng = np.random.default_rng(0)
    best = 0.0
    for n in sizes:
        a, b = (rng.standard_normal((n, n)).astype(np.float32) for _ in range(2))
        np.matmul(a, b)
        for _ in range(repeats):
            t = _timed(lambda: np.matmul(a, b), 2)
            best = max(best, 2.0 * n ** 3 / t / 1e9)
    return {"gflops": best, "threads": thread_report(), "requested_threads": threads, "pid": os.getpid()}


_STARTED = time.time()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.worker")
    p.add_argument("--builder")
    p.add_argument("--side")
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--samples", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--min-sample", type=float, default=0.02)
    p.add_argument("--check")
    p.add_argument("--gemm", action="store_true")
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    if args.gemm:
        report = gemm_rate(args.threads)
    else:
        from benchmarks.harness import Skip

        try:
            report = run_side(args.builder, args.side, args.threads, args.samples, args.warmup, args.min_sample,
                              args.check)
        except Skip as exc:  # that side's library is missing: the parent marks the side skipped
            report = {"side": args.side, "skipped": exc.reason}
        except ImportError as exc:
            report = {"side": args.side, "skipped": f"not importable ({exc})"}
    with open(args.out, "w") as fh:
        json.dump(report, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
