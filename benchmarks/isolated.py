"""Isolated rows: every side of a model step in its own fresh processes, alternating.

In one process the libraries disturb each other: a thread pool (OpenBLAS, OpenMP, Numba's workqueue)
that has just worked keeps spinning or holds the cores while the other library is timed. An
isolated row therefore never runs two libraries in one process:

* ``processes`` rounds; each round starts one fresh ``python -m benchmarks.worker`` per side, in an
  order that rotates from round to round (ours, torch, numpy / torch, numpy, ours / ...), one at a
  time, so consecutive processes alternate between the sides;
* each process builds its side's step, sets every thread pool to the run's ``--threads``, calls the
  step once (JIT compilation or cache loading), warms up, then times a few samples;
* a side's figure is the median over its processes of each process's median; ratio = ours / ref of
  those medians. The first process of every side also dumps its first result, and the parent
  compares them (``Case.rtol`` / ``atol``) before anything is reported: a mismatch is a FAIL row.

Adding a row (the step builders are the same ones the memory rows use)::

    @register("nn.mlp784_step", group="nn")
    def mlp_row(quick):
        require("nn", "Linear")                       # cheap checks only: the parent builds nothing
        return Case(isolated="benchmarks.cases.nn:mlp_step", sides=("ours", "numpy", "torch"),
                    flops=mlp_flops(), notes="...")

where ``mlp_step(side)`` returns a zero-argument step (raising :class:`Skip` when that side's
library is missing).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")

#: per run kind: fresh processes per side, timed samples per process, minimum sample length (s)
SETTINGS = {"full": (5, 5, 0.05), "quick": (1, 2, 0.002)}


def worker_env(threads: int) -> dict:
    """Environment of a worker: the project on the path and every pool's thread count set to ``threads``."""
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    for var in THREAD_VARS:
        env[var] = str(threads)
    return env


def _spawn(args: list[str], threads: int, timeout: float) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-worker-") as tmp:
        out = os.path.join(tmp, "out.json")
        proc = subprocess.run([sys.executable, "-m", "benchmarks.worker", "--threads", str(threads),
                               "--out", out] + args, env=worker_env(threads), cwd=ROOT, capture_output=True,
                              text=True, timeout=timeout)
        if proc.returncode != 0 or not os.path.exists(out):
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            raise RuntimeError(f"worker exited with {proc.returncode}: {' | '.join(tail)}")
        with open(out) as fh:
            return json.load(fh)


def gemm_rate(threads: int, timeout: float = 300) -> dict:
    """Best float32 GEMM rate at ``threads`` threads, measured in a fresh process."""
    return _spawn(["--gemm"], threads, timeout)


def run_side(builder: str, side: str, threads: int, samples: int, warmup: int, min_sample: float,
             check: str | None = None, timeout: float = 900) -> dict:
    """One fresh worker process for ``side``; its report (per-call times, thread counts, pid...)."""
    args = ["--builder", builder, "--side", side, "--samples", str(samples), "--warmup", str(warmup),
            "--min-sample", str(min_sample)]
    if check:
        args += ["--check", check]
    return _spawn(args, threads, timeout)


def run_isolated(row: dict, case, threads: int, quick: bool, summarize, assert_close, processes=None) -> dict:
    """Fill ``row`` (as :func:`benchmarks.harness.run_case` makes it) for an isolated ``case``."""
    n_proc, samples, min_sample = SETTINGS["quick" if quick else "full"]
    n_proc = processes or case.repeat or n_proc
    sides = list(case.sides)
    row.update(mode="isolated", processes=n_proc)
    reports = {s: [] for s in sides}
    with tempfile.TemporaryDirectory(prefix="bench-check-") as tmp:
        checks = {s: os.path.join(tmp, f"{s}.npz") for s in sides}
        live = list(sides)
        for r in range(n_proc):
            k = r % len(live)
            for side in live[k:] + live[:k]:
                try:
                    rep = run_side(case.isolated, side, threads, samples, max(1, case.warmup + 1), min_sample,
                                   check=checks[side] if r == 0 else None)
                    failure = ("skipped", rep["skipped"]) if "skipped" in rep else None
                except RuntimeError as exc:
                    failure = ("error", str(exc))
                if failure is not None:
                    if side == "ours":
                        row.update(status="skipped" if failure[0] == "skipped" else "FAIL", reason=failure[1])
                        return row
                    row["sides"][side] = {"status": failure[0], "reason": failure[1]}
                    live = [s for s in live if s != side]
                    continue
                reports[side].append(rep)
            if r == 0 and case.check is not False and "ours" in live:  # compare before reporting any time
                ours = [a for _, a in sorted(np.load(checks["ours"]).items(), key=lambda kv: int(kv[0][4:]))]
                for side in live:
                    if side == "ours":
                        continue
                    ref = [a for _, a in sorted(np.load(checks[side]).items(), key=lambda kv: int(kv[0][4:]))]
                    try:
                        assert_close(ours, ref, rtol=case.rtol, atol=case.atol)
                    except AssertionError as exc:
                        row.update(status="FAIL", reason=f"wrong answer vs {side}: {exc}")
                        return row
    for side in live:
        per_process = [float(np.median(rep["times"])) for rep in reports[side]]
        stats = summarize(per_process)
        stats.update(status="ok", first=reports[side][0]["first"],
                     compile=max(0.0, reports[side][0]["first"] - stats["median"]),
                     number=reports[side][0]["number"], samples_per_process=len(reports[side][0]["times"]),
                     pids=[rep["pid"] for rep in reports[side]], started=[rep["started"] for rep in reports[side]],
                     threads=reports[side][0]["threads"], loaded=reports[side][0]["loaded"])
        if case.flops:
            stats["gflops"] = case.flops / stats["median"] / 1e9
        row["sides"][side] = stats
    ours_med = row["sides"]["ours"]["median"]
    for side, st in row["sides"].items():
        if side != "ours" and st.get("status") == "ok" and st["median"] > 0:
            st["ratio"] = ours_med / st["median"]
    row["sides"] = {s: row["sides"][s] for s in sides if s in row["sides"]}
    return row
