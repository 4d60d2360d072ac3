"""Benchmark harness: case registry, checks before timing, interleaved timing, machine line.

A *case* is one row of the table. Put cases in any module under ``benchmarks/cases/``;
every module there is imported by :func:`discover`, so a new file needs no wiring.

Writing a case::

    import numpy as np
    from benchmarks.harness import Case, Skip, register, optional_import

    @register("kernels.relu_1M", group="kernels")
    def relu_1m(quick):
        # Runs once per benchmark run. An ImportError or Skip raised here marks the
        # whole row "skipped (reason)"; any other exception marks it FAIL.
        from autodiff.kernels import relu                 # ours
        x = np.random.default_rng(0).standard_normal(1_000_000).astype(np.float32)
        torch = optional_import("torch")                  # None when not installed
        tx = torch.from_numpy(x) if torch else None
        return Case(
            ours=lambda: relu(x),
            refs={
                "numpy": lambda: np.maximum(x, 0),
                "torch": (lambda: torch.relu(tx)) if torch else Skip("torch not installed"),
            },
            rtol=1e-6, atol=0,
        )

What the harness does with a Case (kind="time", the default):

1. Calls every side once. That first call includes any JIT compilation; the result
   of ``ours`` is compared with each reference's (:func:`assert_close`, or your own
   ``check(ours_result, ref_result)`` that raises AssertionError). A mismatch makes the
   row FAIL and it is not timed. A reference that raises is reported as an error cell.
2. One more warm-up call per side, which also sizes ``number`` (calls per sample) so a
   sample lasts at least ``min_sample`` seconds.
3. ``repeat`` rounds; each round times every side once, in a rotating order, so a noisy
   machine slows all sides alike. Per side: median, quartiles, min, max of the
   per-call times; ``compile`` = first-call time minus the median.
4. ratio = ours median / reference median (below 1.0 means ours is faster / smaller).

kind="value": each callable *returns* the measurement (e.g. seconds measured in a fresh
subprocess, or bytes of peak memory) in ``unit``; no check, no compile column.

Isolated rows (the model steps): ``Case(isolated="module:builder", sides=(...))`` builds nothing in
this process; every side runs alone in its own fresh processes, alternating (see
:mod:`benchmarks.isolated`). Every row's JSON says its ``mode`` ("isolated" or "in-process").

Results (``ours`` / refs) may be numpy arrays, our Tensors, torch tensors, Values,
floats or nested tuples/lists/dicts of these; :func:`as_arrays` flattens them.
"""
from __future__ import annotations

import dataclasses
import gc
import importlib
import pkgutil
import sys
import time
import traceback
from typing import Any, Callable

import numpy as np

from benchmarks.machine import enforce_torch_threads, machine_info, machine_line, set_threads

__all__ = [
    "Case", "Skip", "register", "registry", "discover", "optional_import", "require",
    "assert_close", "as_arrays", "summarize", "run_case", "run_all", "machine_info",
    "set_threads", "machine_line", "enforce_torch_threads",
]


class Skip(Exception):
    """A reason why a row (raised in setup) or a side (put in ``refs``) is not measured."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclasses.dataclass
class Case:
    """What a registered setup function returns.

    Attributes:
        ours: zero-argument callable for our implementation.
        refs: reference name -> callable or :class:`Skip`. Conventional names:
            ``numpy`` (hand-written), ``torch`` (PyTorch CPU eager), ``micrograd``.
        check: ``check(ours_result, ref_result)`` raising AssertionError on mismatch;
            default :func:`assert_close` with ``rtol``/``atol``. ``False`` disables the
            check (then give the reason in ``notes``).
        kind: ``"time"`` (harness times the callables) or ``"value"`` (they return
            the measurement in ``unit``).
        unit: unit of a ``"value"`` measurement, e.g. ``"s"`` or ``"MB"``.
        flops: floating point operations of one call; adds GFLOP/s to the output.
        number: calls per timed sample; None sizes it automatically.
        repeat: rounds for this case (overrides the run's repeat; for slow cases).
        warmup: untimed calls after the first one (0 is fine for pure-Python code
            with a fixed ``number``).
        notes: shown under the table, e.g. what exactly is measured.
        isolated: ``"module:function"`` of a ``step(side)`` builder: run every side in its own fresh
            processes (:mod:`benchmarks.isolated`) instead of calling ``ours``/``refs`` here; ``repeat``
            is then the number of processes per side. ``ours`` may be None.
        sides: the sides of an isolated row, ``"ours"`` first.
    """

    ours: Callable[[], Any] | None = None
    refs: dict = dataclasses.field(default_factory=dict)
    check: Any = None
    rtol: float = 1e-4
    atol: float = 1e-5
    kind: str = "time"
    unit: str = "s"
    flops: float | None = None
    number: int | None = None
    repeat: int | None = None
    warmup: int = 1
    notes: str = ""
    isolated: str | None = None
    sides: tuple = ("ours", "torch")


@dataclasses.dataclass
class Registered:
    name: str
    group: str
    setup: Callable[[bool], Case]
    module: str = ""


_REGISTRY: dict[str, Registered] = {}


def register(name: str, group: str = "misc", isolated: bool = False):
    """Decorator: register ``setup(quick: bool) -> Case`` as the row ``name``.

    ``isolated=True`` declares that the setup returns an isolated Case (``Case(isolated=...)``), so a
    run can time those rows first, before this process has loaded and started any thread pool.
    """

    def deco(fn):
        fn.isolated = isolated
        if name in _REGISTRY and _REGISTRY[name].setup.__qualname__ != fn.__qualname__:
            raise ValueError(f"benchmark {name!r} registered twice")
        _REGISTRY[name] = Registered(name, group, fn, fn.__module__)
        return fn

    return deco


#: table order of the groups; other groups follow in registration order
GROUP_ORDER = ("engine", "kernels", "conv", "nn", "rnn", "optim", "memory", "startup", "accuracy")


def registry() -> dict[str, Registered]:
    """All registered cases: by :data:`GROUP_ORDER`, then in registration order within a group."""
    rank = {g: i for i, g in enumerate(GROUP_ORDER)}
    items = sorted(enumerate(_REGISTRY.values()), key=lambda t: (rank.get(t[1].group, len(rank)), t[0]))
    return {reg.name: reg for _, reg in items}


def discover() -> list[tuple[str, str]]:
    """Import every module in ``benchmarks/cases``.

    A module that fails to import becomes a FAIL row named ``<module>.import`` (returned
    as (module, error text) pairs and registered), so a broken file is never silently dropped.
    """
    from benchmarks import cases

    errors = []
    for info in sorted(pkgutil.iter_modules(cases.__path__), key=lambda m: m.name):
        modname = f"benchmarks.cases.{info.name}"
        try:
            importlib.import_module(modname)
        except Exception as exc:  # noqa: BLE001 - reported as a row
            msg = f"{type(exc).__name__}: {exc}"
            errors.append((modname, msg))

            def broken(quick, _msg=msg):
                raise RuntimeError(f"case module failed to import: {_msg}")

            _REGISTRY.setdefault(f"{info.name}.import", Registered(f"{info.name}.import", info.name, broken, modname))
    return errors


def optional_import(name: str):
    """Import a module or return None if it is not installed."""
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def require(module_name: str, *attrs: str):
    """Import ``module_name`` and check dotted ``attrs`` exist, else raise :class:`Skip`.

    Example: ``nn = require("nn", "Linear", "optim.SGD")``.
    """
    try:
        mod = importlib.import_module(module_name)
    except ImportError as exc:
        raise Skip(f"{module_name} not importable yet ({exc})") from None
    for attr in attrs:
        obj = mod
        for part in attr.split("."):
            if not hasattr(obj, part):
                try:  # a submodule not imported by the package's __init__
                    obj = importlib.import_module(f"{obj.__name__}.{part}")
                    continue
                except (ImportError, AttributeError):
                    raise Skip(f"{module_name}.{attr} not available yet") from None
            obj = getattr(obj, part)
    return mod


# ---------------------------------------------------------------- results checking

def as_arrays(obj) -> list[np.ndarray]:
    """Flatten a result (arrays, Tensors, torch tensors, Values, numbers, containers) to float64 arrays."""
    out: list[np.ndarray] = []
    stack = [obj]
    while stack:
        x = stack.pop(0)
        if isinstance(x, dict):
            stack[0:0] = [x[k] for k in x]
        elif isinstance(x, (list, tuple)) and not (x and isinstance(x[0], (int, float))):
            stack[0:0] = list(x)
        elif hasattr(x, "detach") and hasattr(x, "cpu"):  # torch tensor
            out.append(np.asarray(x.detach().cpu().numpy(), dtype=np.float64))
        elif isinstance(x, np.ndarray) or isinstance(x, (int, float, np.number, list, tuple)):
            out.append(np.asarray(x, dtype=np.float64))
        elif hasattr(x, "data") and isinstance(getattr(x, "data"), (int, float)):  # scalar Value
            out.append(np.asarray(x.data, dtype=np.float64))
        else:
            out.append(np.asarray(x, dtype=np.float64))
    return out


def assert_close(ours, ref, rtol: float = 1e-4, atol: float = 1e-5) -> None:
    """Raise AssertionError naming the first mismatching output, its shapes and worst element."""
    a, b = as_arrays(ours), as_arrays(ref)
    if len(a) != len(b):
        raise AssertionError(f"ours returned {len(a)} outputs, reference {len(b)}")
    for i, (x, y) in enumerate(zip(a, b)):
        if x.shape != y.shape:
            raise AssertionError(f"output {i}: shape {tuple(x.shape)} vs reference {tuple(y.shape)}")
        if not np.all(np.isfinite(x) == np.isfinite(y)):
            raise AssertionError(f"output {i}: non-finite values differ")
        bad = ~np.isclose(x, y, rtol=rtol, atol=atol, equal_nan=True)
        if bad.any():
            err = np.abs(x - y)
            j = np.unravel_index(int(np.argmax(np.where(np.isfinite(err), err, 0))), x.shape) if x.ndim else ()
            raise AssertionError(
                f"output {i} shape {tuple(x.shape)}: {int(bad.sum())} elements differ "
                f"(rtol={rtol}, atol={atol}); worst at {tuple(int(k) for k in j)}: ours {float(x[j]):.7g} vs ref {float(y[j]):.7g}")


# ---------------------------------------------------------------- statistics

def summarize(samples) -> dict:
    """Median, quartiles (numpy's linear interpolation), min and max of a list of numbers."""
    xs = np.asarray(list(samples), dtype=np.float64)
    if xs.size == 0:
        raise ValueError("summarize: no samples")
    q1, med, q3 = np.percentile(xs, [25, 50, 75])
    return {"median": float(med), "q1": float(q1), "q3": float(q3),
            "min": float(xs.min()), "max": float(xs.max()), "n": int(xs.size)}


# ---------------------------------------------------------------- running

def _timed(fn, number: int) -> float:
    t0 = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - t0) / number


def _short(exc: BaseException) -> str:
    s = f"{type(exc).__name__}: {exc}".strip()
    return s if len(s) < 300 else s[:297] + "..."


def run_case(reg: Registered, quick: bool = False, repeat: int = 15, min_sample: float = 0.02,
             threads: int | None = None, progress: Callable[[str], None] | None = None) -> dict:
    """Set up, check and time one registered case; returns its JSON-able row.

    ``threads``: the run's thread count (recorded in the row; isolated rows give it to their worker
    processes). ``progress(name)`` is called once the setup succeeded (not for skipped rows).
    """
    row: dict[str, Any] = {"name": reg.name, "group": reg.group, "status": "ok", "reason": "",
                           "kind": "time", "unit": "s", "notes": "", "flops": None, "sides": {},
                           "mode": "in-process", "threads": threads}
    try:
        case = reg.setup(quick)
    except Skip as exc:
        row.update(status="skipped", reason=exc.reason)
        return row
    except ImportError as exc:
        row.update(status="skipped", reason=f"not importable yet ({exc})")
        return row
    except Exception as exc:  # noqa: BLE001
        row.update(status="FAIL", reason=f"setup error: {_short(exc)}", traceback=traceback.format_exc())
        return row
    row.update(kind=case.kind, unit=case.unit, notes=case.notes, flops=case.flops)
    if progress:
        progress(reg.name)
    if case.isolated:
        from benchmarks.isolated import run_isolated

        return run_isolated(row, case, threads or 1, quick, summarize, assert_close)
    sides = {"ours": case.ours, **case.refs}
    live = {}
    for name, fn in sides.items():
        if isinstance(fn, Skip):
            row["sides"][name] = {"status": "skipped", "reason": fn.reason}
        else:
            live[name] = fn
    # 1. first call (includes JIT compilation) and the correctness check
    first, results = {}, {}
    for name, fn in list(live.items()):
        try:
            t0 = time.perf_counter()
            results[name] = fn()
            first[name] = time.perf_counter() - t0
        except Skip as exc:
            if name == "ours":
                row.update(status="skipped", reason=exc.reason)
                return row
            row["sides"][name] = {"status": "skipped", "reason": exc.reason}
            del live[name]
        except Exception as exc:  # noqa: BLE001
            if name == "ours":
                row.update(status="FAIL", reason=f"ours raised {_short(exc)}", traceback=traceback.format_exc())
                return row
            row["sides"][name] = {"status": "error", "reason": _short(exc)}
            del live[name]
    if case.kind == "time" and case.check is not False:
        for name in live:
            if name == "ours":
                continue
            try:
                if case.check is None:
                    assert_close(results["ours"], results[name], rtol=case.rtol, atol=case.atol)
                else:
                    case.check(results["ours"], results[name])
            except AssertionError as exc:
                row.update(status="FAIL", reason=f"wrong answer vs {name}: {exc}")
                return row
    # 2. warm-up and sizing (time) / 3. interleaved rounds
    samples: dict[str, list[float]] = {n: [] for n in live}
    number: dict[str, int] = {}
    if case.kind == "time":
        for name, fn in live.items():
            t = first[name]
            for _ in range(case.warmup):
                t = _timed(fn, 1)
            number[name] = case.number or max(1, min(100_000, int(min_sample / max(t, 1e-9))))
    else:  # the first call already returned a valid measurement: keep it
        for name in live:
            samples[name].append(float(results[name]))
    del results
    rounds = max(0, (case.repeat or repeat) - (case.kind != "time"))
    names = list(live)
    threads = enforce_torch_threads()
    if threads is not None:
        row["torch_threads"] = threads
    gc.collect()  # once per case (a full collection costs ~0.1 s with torch loaded); GC stays on
    for r in range(rounds):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            fn = live[name]
            try:
                if case.kind == "time":
                    samples[name].append(_timed(fn, number[name]))
                else:
                    samples[name].append(float(fn()))
            except Exception as exc:  # noqa: BLE001
                if name == "ours":
                    row.update(status="FAIL", reason=f"ours raised while timing: {_short(exc)}")
                    return row
                row["sides"][name] = {"status": "error", "reason": _short(exc)}
                names = [n for n in names if n != name]
                break
    for name in names:
        stats = summarize(samples[name])
        stats["status"] = "ok"
        if case.kind == "time":
            stats["first"] = first[name]
            stats["compile"] = max(0.0, first[name] - stats["median"])
            stats["number"] = number[name]
            if case.flops:
                stats["gflops"] = case.flops / stats["median"] / 1e9
        row["sides"][name] = stats
    ours_med = row["sides"]["ours"]["median"]
    for name, side in row["sides"].items():
        if name != "ours" and side.get("status") == "ok" and side["median"] > 0:
            side["ratio"] = ours_med / side["median"]
    # keep the column order: ours first, then refs as declared
    row["sides"] = {n: row["sides"][n] for n in sides if n in row["sides"]}
    return row


def run_all(quick: bool = False, repeat: int | None = None, filter: str | None = None,
            progress: Callable[[str], None] | None = None, exclude=(), threads: int | None = None,
            isolated: bool | None = None) -> list[dict]:
    """Discover and run every registered case whose name contains ``filter`` and none of ``exclude``.

    ``isolated``: True runs only the isolated rows, False only the in-process ones, None all (in table
    order). ``repeat`` (rounds) applies to in-process rows; isolated rows use their own process count.
    """
    discover()
    rows = []
    rep = repeat or (3 if quick else 15)
    min_sample = 0.002 if quick else 0.02
    for reg in registry().values():
        if filter and filter not in reg.name:
            continue
        if any(x in reg.name for x in exclude):
            continue
        if isolated is not None and getattr(reg.setup, "isolated", False) != isolated:
            continue
        t0 = time.perf_counter()
        row = run_case(reg, quick=quick, repeat=rep, min_sample=min_sample, threads=threads, progress=progress)
        row["wall"] = time.perf_counter() - t0
        rows.append(row)
    return rows


if __name__ == "__main__":  # pragma: no cover
    sys.exit("run `python -m benchmarks`")
