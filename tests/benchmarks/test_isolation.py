"""Isolated rows and thread settings of the benchmarks: each side runs alone in fresh processes, sides
alternate, every pool gets the run's thread count in both modes. No assertion here is about speed."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from benchmarks import harness, isolated, report
from benchmarks.harness import Case, Registered, Skip

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

PROBE = '''
import os, sys
import numpy as np
from benchmarks.harness import Skip

CALLS = []


def probe_step(side):
    """A step that reports the process it runs in and how often it was called there."""
    if side == "missing":
        raise Skip("probe library not installed")

    def step():
        CALLS.append(1)
        return np.array([os.getpid(), len(CALLS)], dtype=np.float64)

    return step
'''


@pytest.fixture
def probe_module(tmp_path, monkeypatch):
    (tmp_path / "bench_probe.py").write_text(PROBE)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return "bench_probe:probe_step"


def _row(name="t.iso"):
    return {"name": name, "group": "t", "status": "ok", "reason": "", "kind": "time", "unit": "s", "notes": "",
            "flops": None, "sides": {}, "mode": "in-process", "threads": 1}


def test_each_side_runs_alone_in_fresh_processes_that_alternate(probe_module):
    case = Case(isolated=probe_module, sides=("ours", "other"), check=False, repeat=3, warmup=2)
    row = isolated.run_isolated(_row(), case, threads=1, quick=True, summarize=harness.summarize,
                                assert_close=harness.assert_close)
    assert row["status"] == "ok" and row["mode"] == "isolated" and row["processes"] == 3
    pids = {side: row["sides"][side]["pids"] for side in ("ours", "other")}
    every = pids["ours"] + pids["other"]
    assert len(set(every)) == 6 and os.getpid() not in every          # a new process for every sample set
    # rounds in rotating order: ours, other | other, ours | ours, other
    started = sorted((t, side) for side in pids for t in row["sides"][side]["started"])
    assert [side for _, side in started] == ["ours", "other", "other", "ours", "ours", "other"]
    for side in pids:
        stats = row["sides"][side]
        assert stats["n"] == 3 and stats["min"] <= stats["median"] <= stats["max"]
    assert row["sides"]["other"]["ratio"] == pytest.approx(row["sides"]["ours"]["median"] /
                                                           row["sides"]["other"]["median"])


def test_warm_up_runs_in_each_process_before_timing(probe_module, tmp_path):
    rep = isolated.run_side(probe_module, "ours", threads=1, samples=2, warmup=3, min_sample=0.0,
                            check=str(tmp_path / "first.npz"))
    first = np.load(tmp_path / "first.npz")["arr_0"]
    assert first[0] == rep["pid"] and first[1] == 1                  # the checked result is the first call
    assert rep["warmup"] == 3 and rep["number"] >= 1 and len(rep["times"]) == 2


def test_a_missing_reference_library_skips_that_side_only(probe_module):
    case = Case(isolated=probe_module, sides=("ours", "missing"), check=False, repeat=1)
    row = isolated.run_isolated(_row(), case, threads=1, quick=True, summarize=harness.summarize,
                                assert_close=harness.assert_close)
    assert row["status"] == "ok"
    assert row["sides"]["missing"] == {"status": "skipped", "reason": "probe library not installed"}


def test_real_chain_row_keeps_libraries_apart_and_checks_answers():
    """ours never loads torch, torch never loads autodiff, numpy loads neither; the answers agree."""
    pytest.importorskip("torch")
    harness.discover()
    reg = harness.registry()["engine.chain1000_16x16_fwd_bwd"]
    row = harness.run_case(reg, quick=True, threads=1)
    assert row["status"] == "ok", row["reason"]
    loaded = {side: set(stats["loaded"]) for side, stats in row["sides"].items()}
    assert "autodiff" in loaded["ours"] and "torch" not in loaded["ours"]
    assert "torch" in loaded["torch"] and "autodiff" not in loaded["torch"]
    assert not loaded["numpy"] & {"torch", "autodiff"}
    assert row["sides"]["ours"]["threads"]["numba"] == 1 and row["sides"]["torch"]["threads"]["torch"] == 1


def test_wrong_answer_in_isolated_row_is_fail(tmp_path, monkeypatch):
    (tmp_path / "bench_wrong.py").write_text(
        "import numpy as np\n"
        "def step(side):\n    return lambda: np.array([1.0, 2.0 if side == 'ours' else 3.0])\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    case = Case(isolated="bench_wrong:step", sides=("ours", "ref"), repeat=2)
    row = isolated.run_isolated(_row(), case, threads=1, quick=True, summarize=harness.summarize,
                                assert_close=harness.assert_close)
    assert row["status"] == "FAIL" and "wrong answer vs ref" in row["reason"]


def test_isolated_worker_sets_every_pool(threads=2):
    pytest.importorskip("torch")
    pytest.importorskip("threadpoolctl")
    for side in ("ours", "torch"):
        rep = isolated.run_side("benchmarks.cases.engine:chain_step", side, threads=threads, samples=1, warmup=0,
                                min_sample=0.0)
        th = rep["threads"]
        assert th["blas"] == threads, (side, th)
        if side == "ours":
            assert th["numba"] == threads and th["torch"] is None
        else:
            assert th["torch"] == threads and th["numba"] is None


def test_gemm_rate_worker_reports_rate_at_the_thread_count():
    pytest.importorskip("threadpoolctl")
    rep = isolated.gemm_rate(1)
    assert rep["gflops"] > 0 and rep["threads"]["blas"] == 1


IN_PROCESS = """
import json, sys
from benchmarks.machine import set_threads
from threadpoolctl import threadpool_info
import numba, torch
out = []
for n in (1, 2, 1):
    set_threads(n)
    blas = max(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")
    out.append([n, blas, numba.get_num_threads(), torch.get_num_threads()])
print(json.dumps(out))
"""


def test_in_process_mode_sets_every_pool_for_each_count_of_a_run():
    """--threads 1,2 in one process: BLAS (threadpoolctl), Numba and torch follow each count."""
    pytest.importorskip("torch")
    pytest.importorskip("threadpoolctl")
    env = isolated.worker_env(2)
    proc = subprocess.run([sys.executable, "-c", IN_PROCESS], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    for n, blas, numba_n, torch_n in json.loads(proc.stdout.strip().splitlines()[-1]):
        assert blas == numba_n == torch_n == n


def test_progress_is_reported_only_for_rows_that_run():
    seen = []
    skip = Registered("t.skip", "t", lambda quick: (_ for _ in ()).throw(Skip("not here")))
    ok = Registered("t.ok", "t", lambda quick: Case(ours=lambda: 1.0, kind="value"))
    harness.run_case(skip, repeat=1, progress=seen.append)
    harness.run_case(ok, repeat=1, progress=seen.append)
    assert seen == ["t.ok"]


def test_gemm_floor_and_steps_summary():
    rows = []
    for threads, ours, torch in ((1, 0.02, 0.025), (2, 0.012, 0.010)):
        rows.append({"name": "nn.step", "status": "ok", "mode": "isolated", "threads": threads, "flops": 2e9,
                     "sides": {"ours": {"status": "ok", "median": ours, "q1": ours, "q3": ours},
                               "torch": {"status": "ok", "median": torch, "q1": torch, "q3": torch,
                                         "ratio": ours / torch}}})
    micro = {"name": "conv.matmul", "status": "ok", "mode": "in-process", "threads": 1, "flops": 1e6,
             "sides": {"ours": {"status": "ok", "median": 1e-5, "q1": 1e-5, "q3": 1e-5}}}
    assert report.measure_gemm_floor([micro], 1, rate=200.0) is None and "floor_x" not in micro["sides"]["ours"]
    assert report.measure_gemm_floor(rows[:1], 1, rate=200.0) == 200.0
    assert report.measure_gemm_floor(rows[1:], 2, rate=400.0) == 400.0
    assert rows[0]["sides"]["ours"]["floor_x"] == pytest.approx(0.02 / (2e9 / 200e9))
    assert rows[1]["sides"]["torch"]["floor_x"] == pytest.approx(0.010 / (2e9 / 400e9))
    text = report.format_steps_summary(rows, [{"threads": 1, "gemm_gflops": 200.0},
                                              {"threads": 2, "gemm_gflops": 400.0}])
    line = [ln for ln in text.splitlines() if ln.startswith("nn.step")][0]
    assert "25 ms / 10 ms" in line and "0.80x" in line and "1.20x" in line and "2.000" in line
    assert "2.0x / 2.4x" in line and "2.5x / 2.0x" in line
    table = report.format_table(rows[:1])
    assert "2.00 GFLOP 2.0x floor" in table and "isolated: each side alone" in table


@pytest.mark.parametrize("bad", ["0", "a", "1,0"])
def test_threads_option_rejects_bad_counts(bad):
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "--threads", bad, "--filter", "nothing"],
                          cwd=ROOT, env=isolated.worker_env(1), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "--threads" in proc.stderr
