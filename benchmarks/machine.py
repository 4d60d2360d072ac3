"""The machine line and the thread counts every side of a benchmark shares.

:func:`set_threads` gives BLAS (through threadpoolctl when installed), PyTorch and Numba one thread
count; :func:`machine_info` / :func:`machine_line` describe CPU, cores, library versions, BLAS, threads
and load, as printed above the table and stored in the JSON.
"""
from __future__ import annotations

import importlib
import os
import platform
import sys

import numpy as np

__all__ = ["set_threads", "enforce_torch_threads", "machine_info", "machine_line"]


def optional_import(name: str):
    """Import a module or return None if it is not installed."""
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _blas() -> dict:
    try:
        from threadpoolctl import threadpool_info

        for info in threadpool_info():
            if info.get("user_api") == "blas":
                return {"name": info.get("internal_api"), "version": info.get("version"),
                        "threads": info.get("num_threads"), "source": "threadpoolctl"}
    except ImportError:
        pass
    try:
        cfg = np.show_config(mode="dicts")
        blas = cfg["Build Dependencies"]["blas"]
        env = os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS")
        return {"name": blas.get("name"), "version": blas.get("version"),
                "threads": int(env) if env and env.isdigit() else None,
                "source": "numpy.show_config (threads from the environment; threadpoolctl not installed)"}
    except Exception:  # noqa: BLE001
        return {"name": "unknown", "version": None, "threads": None, "source": None}


_LIMITS = []  # keeps a threadpoolctl limit alive for the whole run


def set_threads(n: int | None = None) -> dict:
    """Give BLAS, torch and numba the same thread count; return what was set.

    Args:
        n: thread count for every side; None keeps numpy's BLAS count and matches the others to it.
    """
    if n is not None:
        try:
            from threadpoolctl import threadpool_limits

            _LIMITS.append(threadpool_limits(limits=n, user_api="blas"))
        except ImportError:
            pass
    blas = _blas()
    if n is None:
        n = blas["threads"]
    if not n:
        n = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    n = int(n or 1)
    out = {"blas": blas["threads"], "target": n}
    # Numba: never launch its thread pool here (that would fix the threading layer before autodiff
    # chooses one); give the count through the environment before Numba is imported instead.
    if "numba" not in sys.modules:
        os.environ["NUMBA_NUM_THREADS"] = str(n)
    numba = optional_import("numba")
    if numba is not None:
        launched = numba.config.NUMBA_NUM_THREADS
        optional_import("autodiff")  # the project picks its threading layer first
        try:
            numba.set_num_threads(min(n, launched))  # also when a run sets several counts in turn
        except Exception:  # noqa: BLE001
            pass
        out["numba"] = numba.get_num_threads()
    # torch last: with Numba's OpenMP layer, numba.set_num_threads changes the shared OpenMP count
    _TARGET_THREADS[0] = n
    optional_import("torch")
    out["torch"] = enforce_torch_threads()
    return out


_TARGET_THREADS = [None]


def enforce_torch_threads():
    """Re-apply the run's thread count to torch (Numba's OpenMP layer may have changed it).

    Returns torch's thread count, or None when torch is not loaded / not installed.
    """
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    if _TARGET_THREADS[0] and torch.get_num_threads() != _TARGET_THREADS[0]:
        torch.set_num_threads(_TARGET_THREADS[0])
    return torch.get_num_threads()


def machine_info(threads: dict | None = None) -> dict:
    """CPU model, cores, library versions, BLAS and thread counts."""
    info = {"cpu": _cpu_model(), "cores": os.cpu_count(),
            "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
            "python": platform.python_version(), "numpy": np.__version__, "blas": _blas()}
    for mod in ("numba", "torch", "micrograd"):
        m = optional_import(mod)
        info[mod] = getattr(m, "__version__", "installed") if m else None
    info["threads"] = threads or {}
    try:
        info["load_average"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        info["load_average"] = None
    return info


def machine_line(info: dict) -> str:
    """One line describing the machine, as printed above the table."""
    b = info["blas"]
    th = info.get("threads", {})
    parts = [f"{info['cpu']}, {info['cores']} cores ({info.get('usable_cores')} usable)",
             f"python {info['python']}",
             f"numpy {info['numpy']} (BLAS {b.get('name')} {b.get('version') or ''}, "
             f"{b.get('threads') or 'unknown number of'} threads)",
             f"numba {info['numba']} ({th.get('numba')} threads)" if info.get("numba") else "numba not installed",
             (f"torch {info['torch']} ({th.get('torch')} threads, set to match BLAS)" if info.get("torch")
              else "torch not installed"),
             f"micrograd {info['micrograd']}" if info.get("micrograd") else "micrograd not installed"]
    load = info.get("load_average")
    if load:
        busy = load[0] > (info.get("usable_cores") or info["cores"] or 1)
        parts.append(f"load {load[0]:.1f}" + (" (BUSY: more runnable threads than cores; "
                                              "multi-threaded timings suffer)" if busy else ""))
    return "machine: " + " | ".join(parts)
