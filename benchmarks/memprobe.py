"""Peak memory of one model step, with the same definition for every side.

Definition: the peak, during one step taken after a warm-up step, of the bytes allocated
within that step (blocks allocated before the step and freed in it are not subtracted).

Instruments (each side's allocations are invisible to the other's tool):
    numpy-based sides (ours, numpy): ``tracemalloc`` (numpy registers its data buffers with it;
        Python objects such as graph nodes are included).
    torch: ``torch.profiler`` memory events (profile_memory=True), running sum, its maximum.

Register a row with :func:`memory_case`::

    @register("memory.lenet_step", group="memory")
    def lenet_memory(quick):
        require("nn", "Conv2d")            # skip cleanly when ours is missing
        return memory_case("benchmarks.cases.startup:lenet_step", ("ours", "torch"), quick)

where ``lenet_step(side)`` returns a zero-argument step with model, data and optimizer built.
"""
from __future__ import annotations

import importlib
import os
import tracemalloc

from benchmarks.harness import Case, Skip, optional_import

MB = 1024 * 1024


def _builder(target: str):
    mod_name, fn_name = target.split(":")
    return getattr(importlib.import_module(mod_name), fn_name)


def peak_tracemalloc(step) -> float:
    """Peak MB allocated during ``step()`` as seen by tracemalloc."""
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        step()
        return (tracemalloc.get_traced_memory()[1] - base) / MB
    finally:
        if not was_tracing:
            tracemalloc.stop()


def peak_torch_profiler(step) -> float:
    """Peak MB allocated by torch's CPU allocator during ``step()`` (profiler memory events)."""
    import warnings

    from torch.profiler import ProfilerActivity, profile

    saved = os.dup(2)  # the profiler's C++ side chatters on fd 2; keep the table readable
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
                    step()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    events = [(e.start_ns(), e.nbytes()) for e in prof.profiler.kineto_results.events() if e.name() == "[memory]"]
    cur = peak = 0
    for _, nbytes in sorted(events):
        cur += nbytes
        peak = max(peak, cur)
    return peak / MB


def measure(target: str, side: str) -> float:
    """Build ``target(side)``, take one warm-up step, return the peak MB of the next step."""
    step = _builder(target)(side)
    step()
    if side == "torch":
        return peak_torch_profiler(step)
    return peak_tracemalloc(step)


def memory_case(target: str, sides=("ours", "numpy", "torch"), quick: bool = False, notes: str = "") -> Case:
    """A kind="value" Case measuring peak step memory of each side in its own fresh process."""
    refs = {}
    for side in sides[1:]:
        if side == "torch" and optional_import("torch") is None:
            refs[side] = Skip("torch not installed")
        else:
            refs[side] = (lambda s=side: measure(target, s))
    return Case(ours=lambda: measure(target, sides[0]), refs=refs, kind="value", unit="MB",
                repeat=1 if quick else 3,
                notes=notes or "peak MB allocated within one step after a warm-up step; "
                               "tracemalloc for numpy-based sides, torch.profiler memory events for torch")
